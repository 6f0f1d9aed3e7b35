"""The demo's AWS account, seeded into moto's server through boto3 like a real one.

The story matches the cluster's (``kube_estate``): the payments team's IRSA role is
scoped to its own secrets; the data team's pipeline role has AdministratorAccess and a
trust policy any service account of the ``data`` namespace can use; an Argo CD admin UI
sits behind an internet-facing load balancer on plain HTTP; a batch user's access key
is 400 days old; the orders database is public and in no backup plan.

Seeded from one thread (moto's server can answer 500 under concurrent writes).
Back-dating uses freezegun: the moto server runs in a thread of this process, so a
frozen clock around a creation call back-dates it on the server too.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import boto3

from postureapp.model import utcnow

ACCOUNT = "123456789012"
REGION = "eu-west-1"
CLUSTER = "demo-prod"
OIDC_ID = "5E1D3C0FFEE0DEMO"
OIDC_HOST = f"oidc.eks.{REGION}.amazonaws.com/id/{OIDC_ID}"
OIDC_ARN = f"arn:aws:iam::{ACCOUNT}:oidc-provider/{OIDC_HOST}"
ADMIN_POLICY = "arn:aws:iam::aws:policy/AdministratorAccess"
PAYMENTS_SECRETS = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:payments/*"


def role_arn(name: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:role/{name}"


def _irsa_trust(
    namespace: str, service_account: str, operator: str = "StringEquals", host: str = OIDC_HOST
) -> str:
    subject = f"system:serviceaccount:{namespace}:{service_account}"
    provider_arn = f"arn:aws:iam::{ACCOUNT}:oidc-provider/{host}"
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Federated": provider_arn},
                    "Action": "sts:AssumeRoleWithWebIdentity",
                    "Condition": {
                        operator: {
                            f"{host}:sub": subject,
                            f"{host}:aud": "sts.amazonaws.com",
                        }
                    },
                }
            ],
        }
    )


class DemoAccount:
    """Seeds and then evolves the demo account; ``clients`` talk to moto over HTTP."""

    def __init__(self, endpoint_url: str) -> None:
        session = boto3.session.Session(
            aws_access_key_id="AKIADEMO0000000000",
            aws_secret_access_key="demo-secret-not-a-real-key",  # noqa: S106
            region_name=REGION,
        )
        self._client = lambda name: session.client(name, endpoint_url=endpoint_url)
        self.iam = self._client("iam")

    # -- seeding ---------------------------------------------------------------------

    def seed(self) -> None:
        import freezegun
        from freezegun import freeze_time

        # Starting freezegun walks every loaded module; on the kubernetes client that
        # triggers lazy imports of pydantic models under a fake datetime. Skip them.
        freezegun.configure(extend_ignore_list=["kubernetes", "pydantic", "py_ocsf_models"])

        self._identities()
        now = utcnow()
        with freeze_time(now - timedelta(days=400)):
            self.iam.create_user(UserName="legacy-batch")
            self.iam.create_access_key(UserName="legacy-batch")
        with freeze_time(now - timedelta(days=200)):
            secrets = self._client("secretsmanager")
            secrets.create_secret(Name="shop/db-password", SecretString="demo-only-not-real")
        self._network()
        self._data_and_keys()
        self._governance()

    def _identities(self) -> None:
        iam = self.iam
        iam.create_open_id_connect_provider(
            Url=f"https://{OIDC_HOST}",
            ClientIDList=["sts.amazonaws.com"],
            ThumbprintList=["9e99a48a9960b14926bb7f3b02e22da2b0ab7280"],
        )
        iam.create_role(
            RoleName="payments-api",
            AssumeRolePolicyDocument=_irsa_trust("payments", "payments-api"),
            Description="IRSA role of payments-api: its own secrets, nothing else",
        )
        iam.put_role_policy(
            RoleName="payments-api",
            PolicyName="payments-secrets",
            PolicyDocument=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Action": ["secretsmanager:GetSecretValue"],
                            "Resource": PAYMENTS_SECRETS,
                        }
                    ],
                }
            ),
        )
        # Any service account in "data" may assume it, and it is an administrator.
        iam.create_role(
            RoleName="data-pipeline",
            AssumeRolePolicyDocument=_irsa_trust("data", "*", operator="StringLike"),
            Description="IRSA role of the data team's pipeline",
        )
        iam.attach_role_policy(RoleName="data-pipeline", PolicyArn=ADMIN_POLICY)
        iam.create_role(
            RoleName="ci-deployer",
            AssumeRolePolicyDocument=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"AWS": "arn:aws:iam::210987654321:root"},
                            "Action": "sts:AssumeRole",
                        }
                    ],
                }
            ),
        )
        iam.attach_role_policy(
            RoleName="ci-deployer", PolicyArn="arn:aws:iam::aws:policy/PowerUserAccess"
        )
        iam.create_user(UserName="alice")
        iam.create_login_profile(UserName="alice", Password="Demo-only-Passw0rd!")  # noqa: S106
        iam.create_virtual_mfa_device(VirtualMFADeviceName="alice")
        iam.create_user(UserName="bob")
        iam.create_login_profile(UserName="bob", Password="Demo-only-Passw0rd!")  # noqa: S106
        iam.create_group(GroupName="admins")
        iam.attach_group_policy(GroupName="admins", PolicyArn=ADMIN_POLICY)
        iam.add_user_to_group(GroupName="admins", UserName="bob")

    def _network(self) -> None:
        ec2 = self._client("ec2")
        vpc = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
        subnets = [
            ec2.create_subnet(
                VpcId=vpc, CidrBlock=f"10.20.{i}.0/24", AvailabilityZone=f"{REGION}{zone}"
            )["Subnet"]["SubnetId"]
            for i, zone in ((1, "a"), (2, "b"))
        ]
        ssh = ec2.create_security_group(
            GroupName="bastion-ssh", Description="ops access", VpcId=vpc
        )["GroupId"]
        ec2.authorize_security_group_ingress(
            GroupId=ssh,
            IpPermissions=[
                {
                    "IpProtocol": "tcp",
                    "FromPort": 22,
                    "ToPort": 22,
                    "IpRanges": [{"CidrIp": "0.0.0.0/0"}],
                }
            ],
        )
        web = ec2.create_security_group(
            GroupName="public-web", Description="load balancers", VpcId=vpc
        )["GroupId"]
        ec2.authorize_security_group_ingress(
            GroupId=web,
            IpPermissions=[
                {
                    "IpProtocol": "tcp",
                    "FromPort": port,
                    "ToPort": port,
                    "IpRanges": [{"CidrIp": "0.0.0.0/0"}],
                }
                for port in (80, 443)
            ],
        )
        ec2.run_instances(
            ImageId="ami-12c6146b",
            MinCount=1,
            MaxCount=1,
            InstanceType="t3.micro",
            SubnetId=subnets[0],
            SecurityGroupIds=[ssh],
            TagSpecifications=[
                {"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": "bastion"}]}
            ],
        )
        self.vpc, self.subnets, self.web_sg = vpc, subnets, web
        self.load_balancer("argocd-public", https=False)
        self.load_balancer("shop-public", https=True)

    def load_balancer(self, name: str, https: bool) -> str:
        elb = self._client("elbv2")
        arn = elb.create_load_balancer(
            Name=name,
            Subnets=self.subnets,
            SecurityGroups=[self.web_sg],
            Scheme="internet-facing",
            Type="application",
        )["LoadBalancers"][0]["LoadBalancerArn"]
        group = elb.create_target_group(
            Name=f"{name}-tg", Protocol="HTTP", Port=8080, VpcId=self.vpc
        )["TargetGroups"][0]["TargetGroupArn"]
        listener: dict[str, Any] = {
            "LoadBalancerArn": arn,
            "DefaultActions": [{"Type": "forward", "TargetGroupArn": group}],
        }
        if https:
            cert = self._client("acm").request_certificate(DomainName=f"{name}.example.com")
            listener.update(
                Protocol="HTTPS",
                Port=443,
                Certificates=[{"CertificateArn": cert["CertificateArn"]}],
            )
        else:
            listener.update(Protocol="HTTP", Port=80)
        elb.create_listener(**listener)
        return arn

    def remove_load_balancer(self, name: str) -> None:
        """Delete a load balancer made by :meth:`load_balancer`, with its listeners
        and target group (the demo's story undoes what it did)."""
        elb = self._client("elbv2")
        found = elb.describe_load_balancers(Names=[name])["LoadBalancers"]
        for balancer in found:
            arn = balancer["LoadBalancerArn"]
            for listener in elb.describe_listeners(LoadBalancerArn=arn)["Listeners"]:
                elb.delete_listener(ListenerArn=listener["ListenerArn"])
            elb.delete_load_balancer(LoadBalancerArn=arn)
        groups = elb.describe_target_groups(Names=[f"{name}-tg"])["TargetGroups"]
        for group in groups:
            elb.delete_target_group(TargetGroupArn=group["TargetGroupArn"])

    def _data_and_keys(self) -> None:
        rds = self._client("rds")
        rds.create_db_instance(
            DBInstanceIdentifier="orders-db",
            Engine="postgres",
            DBInstanceClass="db.t3.micro",
            MasterUsername="orders",
            MasterUserPassword="demo-only-not-real",
            AllocatedStorage=20,
            PubliclyAccessible=True,
            StorageEncrypted=False,
            BackupRetentionPeriod=0,
        )
        rds.create_db_instance(
            DBInstanceIdentifier="payments-db",
            Engine="postgres",
            DBInstanceClass="db.t3.micro",
            MasterUsername="payments",
            MasterUserPassword="demo-only-not-real",
            AllocatedStorage=20,
            PubliclyAccessible=False,
            StorageEncrypted=True,
            BackupRetentionPeriod=7,
        )
        # moto has no CreateBackupSelection: the plan exists, protection stays unseen.
        backup = self._client("backup")
        backup.create_backup_vault(BackupVaultName="payments-vault")
        backup.create_backup_plan(
            BackupPlan={
                "BackupPlanName": "payments-daily",
                "Rules": [
                    {
                        "RuleName": "daily",
                        "TargetBackupVaultName": "payments-vault",
                        "ScheduleExpression": "cron(0 3 * * ? *)",
                        "Lifecycle": {"DeleteAfterDays": 35},
                    }
                ],
            }
        )
        secrets = self._client("secretsmanager")
        secrets.create_secret(Name="payments/api-key", SecretString="demo-only-not-real")
        kms = self._client("kms")
        rotated = kms.create_key(Description="payments data key")["KeyMetadata"]["KeyId"]
        kms.enable_key_rotation(KeyId=rotated)
        kms.create_key(Description="shop data key (never rotated)")
        s3 = self._client("s3")
        create = {"CreateBucketConfiguration": {"LocationConstraint": REGION}}
        s3.create_bucket(Bucket="demo-shop-assets", **create)
        s3.put_bucket_acl(Bucket="demo-shop-assets", ACL="public-read")
        s3.create_bucket(Bucket="demo-audit-logs", **create)
        s3.put_public_access_block(
            Bucket="demo-audit-logs",
            PublicAccessBlockConfiguration={
                "BlockPublicAcls": True,
                "IgnorePublicAcls": True,
                "BlockPublicPolicy": True,
                "RestrictPublicBuckets": True,
            },
        )

    def _governance(self) -> None:
        trail = self._client("cloudtrail")
        trail.create_trail(
            Name="org-trail",
            S3BucketName="demo-audit-logs",
            IsMultiRegionTrail=True,
            EnableLogFileValidation=True,
        )
        trail.start_logging(Name="org-trail")
        self._client("guardduty").create_detector(Enable=True)
        self._edge_and_logs()
        eks = self._client("eks")
        eks.create_cluster(
            name=CLUSTER,
            roleArn=role_arn("ci-deployer"),
            resourcesVpcConfig={
                "subnetIds": self.subnets,
                "endpointPublicAccess": True,
                "publicAccessCidrs": ["0.0.0.0/0"],
            },
        )
        self._trust_cluster_issuer(eks)

    def _edge_and_logs(self) -> None:
        """A rate-limiting WAF web ACL on the shop's load balancer (whose HTTPS listener
        still forwards plain HTTP to its targets) and none on Argo CD's; a log group that
        never expires next to one with a retention."""
        visibility = {
            "SampledRequestsEnabled": True,
            "CloudWatchMetricsEnabled": True,
            "MetricName": "shop-edge",
        }
        acl = self._client("wafv2").create_web_acl(
            Name="shop-edge",
            Scope="REGIONAL",
            DefaultAction={"Allow": {}},
            VisibilityConfig=visibility,
            Rules=[
                {
                    "Name": "per-ip-rate",
                    "Priority": 1,
                    "Action": {"Block": {}},
                    "Statement": {"RateBasedStatement": {"Limit": 2000, "AggregateKeyType": "IP"}},
                    "VisibilityConfig": visibility,
                }
            ],
        )["Summary"]["ARN"]
        shop = self._client("elbv2").describe_load_balancers(Names=["shop-public"])
        self._client("wafv2").associate_web_acl(
            WebACLArn=acl, ResourceArn=shop["LoadBalancers"][0]["LoadBalancerArn"]
        )
        logs = self._client("logs")
        logs.create_log_group(logGroupName="/demo/shop/app")  # never expires
        logs.create_log_group(logGroupName="/demo/payments/app")
        logs.put_retention_policy(logGroupName="/demo/payments/app", retentionInDays=90)

    def _trust_cluster_issuer(self, eks: Any) -> None:
        """Point the IRSA roles at the issuer moto gave the cluster (random per run), as
        `eksctl utils associate-iam-oidc-provider` would: a trust naming any other
        provider is not a link, and the blast-radius path must be a real one."""
        issuer = eks.describe_cluster(name=CLUSTER)["cluster"]["identity"]["oidc"]["issuer"]
        host = issuer.split("://", 1)[-1]
        self.iam.create_open_id_connect_provider(
            Url=f"https://{host}",
            ClientIDList=["sts.amazonaws.com"],
            ThumbprintList=["9e99a48a9960b14926bb7f3b02e22da2b0ab7280"],
        )
        self.iam.update_assume_role_policy(
            RoleName="payments-api",
            PolicyDocument=_irsa_trust("payments", "payments-api", host=host),
        )
        self.iam.update_assume_role_policy(
            RoleName="data-pipeline",
            PolicyDocument=_irsa_trust("data", "*", operator="StringLike", host=host),
        )

    # -- what changes while the demo runs ----------------------------------------------

    def rotate_legacy_key(self) -> None:
        """The batch job's owner finally rotates its 400-day-old key."""
        keys = self.iam.list_access_keys(UserName="legacy-batch")["AccessKeyMetadata"]
        self.iam.create_access_key(UserName="legacy-batch")
        for key in keys:
            self.iam.delete_access_key(UserName="legacy-batch", AccessKeyId=key["AccessKeyId"])
