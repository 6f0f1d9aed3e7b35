"""Exposed endpoints against moto's server: load balancers, API Gateway, S3, RDS, EKS."""

from __future__ import annotations

import json

from postureapp.collectors.aws import AwsCollector
from postureapp.collectors.aws._context import _strip_account_host_prefix
from postureapp.model import RunStatus
from tests.integration.aws.conftest import ACCOUNT, by_kind, one
from tests.integration.aws.faults import Fault, session_factory


def test_load_balancer_scheme_listeners_and_groups(moto):
    ec2 = moto.client("ec2")
    vpc = ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
    subnets = [s["SubnetId"] for s in ec2.describe_subnets()["Subnets"]][:2]
    group = ec2.create_security_group(GroupName="lb", Description="lb", VpcId=vpc)["GroupId"]
    elb = moto.client("elbv2")
    lb = elb.create_load_balancer(
        Name="shop-public", Subnets=subnets, SecurityGroups=[group], Scheme="internet-facing"
    )["LoadBalancers"][0]
    target = elb.create_target_group(Name="shop", Protocol="HTTP", Port=80, VpcId=vpc)
    forward = [{"Type": "forward", "TargetGroupArn": target["TargetGroups"][0]["TargetGroupArn"]}]
    elb.create_listener(
        LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=80, DefaultActions=forward
    )
    certificate = moto.client("acm").request_certificate(DomainName="shop.example.com")
    elb.create_listener(
        LoadBalancerArn=lb["LoadBalancerArn"],
        Protocol="HTTPS",
        Port=443,
        SslPolicy="ELBSecurityPolicy-TLS13-1-2-2021-06",
        Certificates=[{"CertificateArn": certificate["CertificateArn"]}],
        DefaultActions=forward,
    )
    elb.create_load_balancer(Name="shop-internal", Subnets=subnets, Scheme="internal")

    result = moto.collect(services=["elbv2"])

    assert result.run.status is RunStatus.OK, result.run.error
    public = one(result.resources, "LoadBalancer", "shop-public")
    assert public.uid == lb["LoadBalancerArn"]
    assert public.scope == f"{ACCOUNT}/us-east-1"
    assert public.attrs["internet_facing"] is True
    assert public.attrs["dns_name"] == lb["DNSName"]
    assert public.attrs["security_groups"] == [group]
    assert public.attrs["protocols"] == ["HTTP", "HTTPS"]
    http, https = public.attrs["listeners"]
    assert (http["port"], http["protocol"], http["ssl_policy"]) == (80, "HTTP", None)
    assert https["certificates"] == [certificate["CertificateArn"]]
    assert https["ssl_policy"] == "ELBSecurityPolicy-TLS13-1-2-2021-06"
    assert public.attrs["deletion_protection"] is False
    internal = one(result.resources, "LoadBalancer", "shop-internal")
    assert internal.attrs["scheme"] == "internal"
    assert internal.attrs["internet_facing"] is False
    assert internal.attrs["listeners"] == []


def test_rest_api_methods_stages_and_authorizers(moto):
    api_gateway = moto.client("apigateway")
    api = api_gateway.create_rest_api(
        name="orders",
        endpointConfiguration={"types": ["REGIONAL"]},
        policy=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": "*",
                        "Action": "execute-api:Invoke",
                        "Resource": "*",
                    }
                ],
            }
        ),
    )
    root = api_gateway.get_resources(restApiId=api["id"])["items"][0]["id"]
    authorizer = api_gateway.create_authorizer(
        restApiId=api["id"],
        name="tokens",
        type="TOKEN",
        authorizerUri="arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/x/invocations",
        identitySource="method.request.header.Authorization",
    )
    for path, verb, auth, key in (
        ("admin", "POST", "NONE", False),
        ("orders", "GET", "CUSTOM", True),
    ):
        resource = api_gateway.create_resource(restApiId=api["id"], parentId=root, pathPart=path)
        extra = {"authorizerId": authorizer["id"]} if auth == "CUSTOM" else {}
        api_gateway.put_method(
            restApiId=api["id"],
            resourceId=resource["id"],
            httpMethod=verb,
            authorizationType=auth,
            apiKeyRequired=key,
            **extra,
        )
        api_gateway.put_integration(
            restApiId=api["id"], resourceId=resource["id"], httpMethod=verb, type="MOCK"
        )
    api_gateway.create_deployment(restApiId=api["id"], stageName="prod")

    result = moto.collect(services=["apigateway"])

    assert result.run.status is RunStatus.OK, result.run.error
    orders = one(result.resources, "ApiGatewayRestApi", "orders")
    assert orders.uid == f"arn:aws:apigateway:us-east-1::/restapis/{api['id']}"
    assert orders.attrs["endpoint_types"] == ["REGIONAL"]
    assert orders.attrs["methods"] == [
        {
            "path": "/admin",
            "http_method": "POST",
            "authorization_type": "NONE",
            "authorizer_id": None,
            "api_key_required": False,
        },
        {
            "path": "/orders",
            "http_method": "GET",
            "authorization_type": "CUSTOM",
            "authorizer_id": authorizer["id"],
            "api_key_required": True,
        },
    ]
    assert orders.attrs["authorizers"][0]["type"] == "TOKEN"
    (stage,) = orders.attrs["stages"]
    assert stage["name"] == "prod"
    assert stage["invoke_url"] == f"https://{api['id']}.execute-api.us-east-1.amazonaws.com/prod"
    assert orders.attrs["policy"]["Statement"][0]["Principal"] == {"AWS": ["*"]}


def test_http_api_routes_and_authorizers(moto):
    client = moto.client("apigatewayv2")
    api = client.create_api(
        Name="storefront",
        ProtocolType="HTTP",
        CorsConfiguration={"AllowOrigins": ["*"], "AllowMethods": ["GET"]},
    )
    jwt = client.create_authorizer(
        ApiId=api["ApiId"],
        AuthorizerType="JWT",
        Name="cognito",
        IdentitySource=["$request.header.Authorization"],
        JwtConfiguration={"Audience": ["shop"], "Issuer": "https://issuer.example"},
    )
    client.create_route(
        ApiId=api["ApiId"],
        RouteKey="GET /cart",
        AuthorizationType="JWT",
        AuthorizerId=jwt["AuthorizerId"],
    )
    client.create_route(ApiId=api["ApiId"], RouteKey="POST /admin/reindex")
    client.create_stage(ApiId=api["ApiId"], StageName="$default", AutoDeploy=True)

    result = moto.collect(services=["apigateway"])

    assert result.run.status is RunStatus.OK, result.run.error
    store = one(result.resources, "ApiGatewayHttpApi", "storefront")
    assert store.uid == f"arn:aws:apigateway:us-east-1::/apis/{api['ApiId']}"
    assert [(r["route_key"], r["authorization_type"]) for r in store.attrs["routes"]] == [
        ("GET /cart", "JWT"),
        ("POST /admin/reindex", "NONE"),
    ]
    assert store.attrs["authorizers"] == [
        {
            "id": jwt["AuthorizerId"],
            "name": "cognito",
            "type": "JWT",
            "identity_source": ["$request.header.Authorization"],
            "jwt_issuer": "https://issuer.example",
            "jwt_audience": ["shop"],
        }
    ]
    assert store.attrs["stages"][0]["invoke_url"] == api["ApiEndpoint"]
    assert store.attrs["cors"]["allow_origins"] == ["*"]


def seed_buckets(moto) -> None:
    s3 = moto.client("s3")
    s3.create_bucket(Bucket="public-assets")
    s3.put_bucket_acl(Bucket="public-assets", ACL="public-read")
    s3.put_bucket_policy(
        Bucket="public-assets",
        Policy=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": "*",
                        "Action": "s3:GetObject",
                        "Resource": "arn:aws:s3:::public-assets/*",
                    }
                ],
            }
        ),
    )
    s3.create_bucket(Bucket="private-data")
    s3.put_public_access_block(
        Bucket="private-data",
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )
    s3.put_bucket_encryption(
        Bucket="private-data",
        ServerSideEncryptionConfiguration={
            "Rules": [
                {
                    "ApplyServerSideEncryptionByDefault": {
                        "SSEAlgorithm": "aws:kms",
                        "KMSMasterKeyID": "alias/data",
                    },
                    "BucketKeyEnabled": True,
                }
            ]
        },
    )
    moto.client("s3", "eu-west-1").create_bucket(
        Bucket="eu-logs", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
    )


def test_buckets_public_access_and_encryption(moto):
    seed_buckets(moto)
    control = moto.client("s3control")
    control.meta.events.register("before-sign.s3-control", _strip_account_host_prefix)
    control.put_public_access_block(
        AccountId=ACCOUNT,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": False,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": False,
        },
    )

    result = moto.collect(services=["s3"])

    assert result.run.status is RunStatus.OK, result.run.error
    account = by_kind(result.resources, "S3AccountPublicAccessBlock")[0]
    assert account.scope == f"{ACCOUNT}/global"
    assert account.attrs == {
        "configured": True,
        "block_public_acls": True,
        "ignore_public_acls": False,
        "block_public_policy": True,
        "restrict_public_buckets": False,
    }
    public = one(result.resources, "S3Bucket", "public-assets")
    assert public.uid == "arn:aws:s3:::public-assets"
    assert public.scope == f"{ACCOUNT}/global"
    assert public.attrs["acl_public_grants"] == [{"grantee": "AllUsers", "permission": "READ"}]
    assert public.attrs["has_policy"] is True
    assert public.attrs["policy_is_public"] is True
    assert public.attrs["public_access_block"] is None
    assert public.attrs["unread"] == {}
    private = one(result.resources, "S3Bucket", "private-data")
    assert private.attrs["public_access_block"] == {
        "block_public_acls": True,
        "ignore_public_acls": True,
        "block_public_policy": True,
        "restrict_public_buckets": True,
    }
    assert private.attrs["encryption"] == {
        "algorithm": "aws:kms",
        "kms_key_id": "alias/data",
        "bucket_key_enabled": True,
    }
    assert (private.attrs["has_policy"], private.attrs["policy_is_public"]) == (False, False)
    assert one(result.resources, "S3Bucket", "eu-logs").attrs["region"] == "eu-west-1"


def test_no_account_public_access_block_is_an_answer(moto):
    result = moto.collect(services=["s3"])

    assert result.run.status is RunStatus.OK, result.run.error
    account = by_kind(result.resources, "S3AccountPublicAccessBlock")[0]
    assert account.attrs["configured"] is False
    assert account.attrs["block_public_acls"] is False


def test_denied_bucket_acl_marks_buckets_unknown_not_private(moto):
    seed_buckets(moto)
    fault = Fault("s3", "GetBucketAcl", status=403, code="AccessDenied")

    result = moto.collect(collector=AwsCollector(session_factory(fault)), services=["s3"])

    assert result.run.status is RunStatus.PARTIAL
    assert set(result.run.unknown) == {"S3Bucket"}
    assert result.run.unknown["S3Bucket"].startswith("s3:GetBucketAcl denied for bucket ")
    assert result.run.unknown["S3Bucket"].count("denied") == 3  # one per bucket
    public = one(result.resources, "S3Bucket", "public-assets")
    assert public.attrs["acl_public_grants"] is None
    assert public.attrs["unread"] == {
        "acl": "s3:GetBucketAcl denied for bucket public-assets (AccessDenied)"
    }
    assert public.attrs["policy_is_public"] is True  # the rest was still read


def test_rds_instances_and_clusters(moto):
    rds = moto.client("rds")
    rds.create_db_instance(
        DBInstanceIdentifier="orders-db",
        DBInstanceClass="db.t3.micro",
        Engine="postgres",
        MasterUsername="admin",
        MasterUserPassword="not-a-real-password-1",
        AllocatedStorage=20,
        PubliclyAccessible=True,
    )
    rds.create_db_cluster(
        DBClusterIdentifier="catalog",
        Engine="aurora-postgresql",
        MasterUsername="admin",
        MasterUserPassword="not-a-real-password-2",
        StorageEncrypted=True,
    )

    result = moto.collect(services=["rds"])

    assert result.run.status is RunStatus.OK, result.run.error
    db = one(result.resources, "RDSInstance", "orders-db")
    assert db.uid == f"arn:aws:rds:us-east-1:{ACCOUNT}:db:orders-db"
    assert db.attrs["publicly_accessible"] is True
    assert db.attrs["storage_encrypted"] is False
    assert db.attrs["engine"] == "postgres"
    assert db.attrs["endpoint"]["port"] == 5432
    cluster = one(result.resources, "RDSCluster", "catalog")
    assert cluster.attrs["storage_encrypted"] is True
    dump = json.dumps([r.to_dict() for r in result.resources])
    assert "not-a-real-password" not in dump


def test_eks_cluster_exposure_and_pod_identity_gap(moto):
    ec2 = moto.client("ec2")
    subnets = [s["SubnetId"] for s in ec2.describe_subnets()["Subnets"]][:2]
    moto.client("eks").create_cluster(
        name="shop",
        roleArn=f"arn:aws:iam::{ACCOUNT}:role/eks",
        resourcesVpcConfig={
            "subnetIds": subnets,
            "endpointPublicAccess": True,
            "endpointPrivateAccess": False,
            "publicAccessCidrs": ["0.0.0.0/0"],
        },
        logging={
            "clusterLogging": [
                {"types": ["audit", "api"], "enabled": True},
                {"types": ["scheduler"], "enabled": False},
            ]
        },
        encryptionConfig=[
            {
                "resources": ["secrets"],
                "provider": {"keyArn": f"arn:aws:kms:us-east-1:{ACCOUNT}:key/k"},
            }
        ],
    )

    result = moto.collect(services=["eks"])

    cluster = one(result.resources, "EKSCluster", "shop")
    assert cluster.uid == f"arn:aws:eks:us-east-1:{ACCOUNT}:cluster/shop"
    assert cluster.attrs["endpoint_public_access"] is True
    assert cluster.attrs["public_access_cidrs"] == ["0.0.0.0/0"]
    assert cluster.attrs["logging_enabled_types"] == ["api", "audit"]
    assert cluster.attrs["secrets_encrypted"] is True
    assert cluster.attrs["oidc_issuer"].startswith("https://oidc.eks.us-east-1.amazonaws.com/")
    # moto 5.2.5 has no EKS Pod Identity API: that kind is unknown, never "none".
    assert result.run.status is RunStatus.PARTIAL
    assert set(result.run.unknown) == {"EKSPodIdentityAssociation"}
    assert (
        "eks:ListPodIdentityAssociations not supported by the endpoint"
        in result.run.unknown["EKSPodIdentityAssociation"]
    )
    assert cluster.attrs["pod_identity_associations"] is None
