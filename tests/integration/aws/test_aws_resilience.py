"""Rate limiting, TLS at load balancers, log retention and OIDC providers against moto's
server: the collector reads them, and the checks pass and fail on what it read."""

from __future__ import annotations

from typing import Any

from postureapp.collectors.aws import AwsCollector
from postureapp.engine import Engine
from postureapp.model import RunStatus, Status
from tests.integration.aws.conftest import ACCOUNT, by_kind, one
from tests.integration.aws.faults import Fault, Recorder, session_factory

SERVICES = ["elbv2", "wafv2", "apigateway", "logs", "iam"]
VISIBILITY = {"SampledRequestsEnabled": False, "CloudWatchMetricsEnabled": False, "MetricName": "m"}


def _network(moto) -> tuple[str, list[str]]:
    ec2 = moto.client("ec2")
    vpc = ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
    subnets = [s["SubnetId"] for s in ec2.describe_subnets()["Subnets"]][:2]
    return vpc, subnets


def _alb(moto, name: str, vpc: str, subnets: list[str], target_protocol: str) -> str:
    elb = moto.client("elbv2")
    arn = elb.create_load_balancer(Name=name, Subnets=subnets, Scheme="internet-facing")[
        "LoadBalancers"
    ][0]["LoadBalancerArn"]
    group = elb.create_target_group(
        Name=f"{name}-tg", Protocol=target_protocol, Port=8443, VpcId=vpc
    )["TargetGroups"][0]["TargetGroupArn"]
    certificate = moto.client("acm").request_certificate(DomainName=f"{name}.example.com")
    elb.create_listener(
        LoadBalancerArn=arn,
        Protocol="HTTPS",
        Port=443,
        Certificates=[{"CertificateArn": certificate["CertificateArn"]}],
        DefaultActions=[{"Type": "forward", "TargetGroupArn": group}],
    )
    return arn


def _web_acl(moto, name: str, rate_based: bool) -> str:
    statement: dict[str, Any] = (
        {"RateBasedStatement": {"Limit": 1000, "AggregateKeyType": "IP"}}
        if rate_based
        else {"GeoMatchStatement": {"CountryCodes": ["KP"]}}
    )
    rule = {
        "Name": "limit" if rate_based else "geo",
        "Priority": 1,
        "Action": {"Block": {}},
        "Statement": statement,
        "VisibilityConfig": VISIBILITY,
    }
    return moto.client("wafv2").create_web_acl(
        Name=name,
        Scope="REGIONAL",
        DefaultAction={"Allow": {}},
        VisibilityConfig=VISIBILITY,
        Rules=[rule],
    )["Summary"]["ARN"]


def _rest_api(moto, name: str) -> str:
    client = moto.client("apigateway")
    api = client.create_rest_api(name=name)["id"]
    root = client.get_resources(restApiId=api)["items"][0]["id"]
    client.put_method(restApiId=api, resourceId=root, httpMethod="GET", authorizationType="NONE")
    client.put_integration(restApiId=api, resourceId=root, httpMethod="GET", type="MOCK")
    client.create_deployment(restApiId=api, stageName="prod")
    return api


def _seed(moto) -> dict[str, str]:
    vpc, subnets = _network(moto)
    shop = _alb(moto, "shop", vpc, subnets, "HTTP")
    payments = _alb(moto, "payments", vpc, subnets, "HTTPS")
    admin = _alb(moto, "admin", vpc, subnets, "HTTPS")
    edge = _web_acl(moto, "edge", rate_based=True)
    geo = _web_acl(moto, "geo-only", rate_based=False)
    waf = moto.client("wafv2")
    waf.associate_web_acl(WebACLArn=edge, ResourceArn=payments)
    waf.associate_web_acl(WebACLArn=geo, ResourceArn=shop)  # an ACL, but no rate rule
    throttled = _rest_api(moto, "orders")
    moto.client("apigateway").update_stage(
        restApiId=throttled,
        stageName="prod",
        patchOperations=[
            {"op": "replace", "path": "/*/*/throttling/rateLimit", "value": "50"},
            {"op": "replace", "path": "/tracingEnabled", "value": "true"},
        ],
    )
    open_api = _rest_api(moto, "legacy")
    logs = moto.client("logs")
    logs.create_log_group(logGroupName="/shop/app")
    logs.create_log_group(logGroupName="/payments/app")
    logs.put_retention_policy(logGroupName="/payments/app", retentionInDays=90)
    logs.create_log_group(logGroupName="/debug/app")
    logs.put_retention_policy(logGroupName="/debug/app", retentionInDays=1)
    moto.client("iam").create_open_id_connect_provider(
        Url="https://oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE",
        ClientIDList=["sts.amazonaws.com"],
        ThumbprintList=["9e99a48a9960b14926bb7f3b02e22da2b0ab7280"],
    )
    return {
        "shop": shop,
        "payments": payments,
        "admin": admin,
        "edge": edge,
        "orders": throttled,
        "legacy": open_api,
    }


def test_collects_waf_target_groups_throttling_log_groups_and_oidc_providers(moto):
    ids = _seed(moto)

    result = moto.collect(services=SERVICES)

    assert result.run.status is RunStatus.OK, (result.run.error, result.run.unknown)
    shop = one(result.resources, "LoadBalancer", "shop")
    (https,) = shop.attrs["listeners"]
    assert [(g["protocol"], g["port"]) for g in https["target_groups"]] == [("HTTP", 8443)]
    admin = one(result.resources, "LoadBalancer", "admin").attrs
    assert admin["web_acl_arn"] is None and admin["web_acl_read"] is True
    edge = one(result.resources, "WAFWebACL", "edge")
    assert edge.uid == ids["edge"] and edge.scope == f"{ACCOUNT}/us-east-1"
    assert edge.attrs["rate_based_rules"] == ["limit"]
    assert edge.attrs["rules"][0]["rate_limit"] == 1000
    assert edge.attrs["protects"] == [ids["payments"]]
    assert one(result.resources, "WAFWebACL", "geo-only").attrs["rate_based_rules"] == []
    orders = one(result.resources, "ApiGatewayRestApi", "orders")
    assert orders.attrs["stages"][0]["throttling"]["rate_limit"] == 50.0
    legacy = one(result.resources, "ApiGatewayRestApi", "legacy")
    assert legacy.attrs["stages"][0]["throttling"] is None
    retention = {
        g.name: g.attrs["retention_days"] for g in by_kind(result.resources, "CloudWatchLogGroup")
    }
    assert retention == {"/shop/app": None, "/payments/app": 90, "/debug/app": 1}
    (provider,) = by_kind(result.resources, "IAMOIDCProvider")
    assert provider.attrs["url"].startswith("oidc.eks.us-east-1.amazonaws.com/id/")
    assert provider.attrs["client_ids"] == ["sts.amazonaws.com"]


def test_checks_judge_what_moto_served(moto):
    _seed(moto)
    result = moto.collect(services=SERVICES)

    findings = Engine({}).judge(result.resources, [result.run])

    def status(check_id: str, kind: str, name: str) -> Status:
        uid = one(result.resources, kind, name).uid
        (found,) = [f for f in findings if f.check_id == check_id and f.resource_uid == uid]
        return found.status

    assert status("aws-alb-rate-limit", "LoadBalancer", "payments") is Status.PASS
    assert status("aws-alb-rate-limit", "LoadBalancer", "shop") is Status.FAIL
    assert status("aws-alb-rate-limit", "LoadBalancer", "admin") is Status.FAIL
    assert status("aws-elb-tls-termination", "LoadBalancer", "shop") is Status.FAIL
    assert status("aws-elb-tls-termination", "LoadBalancer", "payments") is Status.PASS
    assert status("aws-apigw-rest-rate-limit", "ApiGatewayRestApi", "orders") is Status.PASS
    assert status("aws-apigw-rest-rate-limit", "ApiGatewayRestApi", "legacy") is Status.FAIL
    assert status("aws-apigw-tracing", "ApiGatewayRestApi", "orders") is Status.PASS
    assert status("aws-apigw-tracing", "ApiGatewayRestApi", "legacy") is Status.FAIL
    assert status("aws-log-group-retention", "CloudWatchLogGroup", "/payments/app") is Status.PASS
    assert status("aws-log-group-retention", "CloudWatchLogGroup", "/shop/app") is Status.FAIL
    assert status("aws-log-group-retention", "CloudWatchLogGroup", "/debug/app") is Status.FAIL


def test_waf_access_denied_makes_rate_limit_unknown_not_failing(moto):
    _seed(moto)
    denied = Fault("wafv2", "GetWebACLForResource", status=400, code="AccessDeniedException")
    collector = AwsCollector(session_factory(denied))

    result = moto.collect(collector=collector, services=SERVICES)

    assert result.run.status is RunStatus.PARTIAL
    assert "wafv2:GetWebACLForResource" in result.run.unknown["WAFWebACL"]
    assert "LoadBalancer" not in result.run.unknown
    findings = Engine({}).judge(result.resources, [result.run])
    rate = [f for f in findings if f.check_id == "aws-alb-rate-limit"]
    assert rate and {f.status for f in rate} == {Status.UNKNOWN}
    # The TLS verdict does not need WAF and is still given.
    tls = [f for f in findings if f.check_id == "aws-elb-tls-termination"]
    assert Status.FAIL in {f.status for f in tls}


def test_log_groups_denied_leaves_retention_unknown(moto):
    _seed(moto)
    denied = Fault("logs", "DescribeLogGroups", status=400, code="AccessDeniedException")

    result = moto.collect(collector=AwsCollector(session_factory(denied)), services=SERVICES)

    assert "logs:DescribeLogGroups" in result.run.unknown["CloudWatchLogGroup"]
    findings = Engine({}).judge(result.resources, [result.run])
    retention = [f for f in findings if f.check_id == "aws-log-group-retention"]
    assert retention and {f.status for f in retention} == {Status.UNKNOWN}


def test_eks_issuer_registered_as_identity_provider_or_not(moto):
    _, subnets = _network(moto)
    eks = moto.client("eks")
    eks.create_cluster(
        name="prod",
        roleArn=f"arn:aws:iam::{ACCOUNT}:role/eks",
        resourcesVpcConfig={"subnetIds": subnets},
    )
    issuer = eks.describe_cluster(name="prod")["cluster"]["identity"]["oidc"]["issuer"]

    def verdict() -> Status:
        result = moto.collect(services=["eks", "iam"])
        findings = Engine({}).judge(result.resources, [result.run])
        (found,) = [f for f in findings if f.check_id == "aws-eks-oidc-provider"]
        return found.status

    assert verdict() is Status.FAIL
    # moto gives every cluster of a process the same issuer, so one cluster, two states.
    iam = moto.client("iam")
    iam.create_open_id_connect_provider(
        Url=issuer,
        ClientIDList=["sts.amazonaws.com"],
        ThumbprintList=["9e99a48a9960b14926bb7f3b02e22da2b0ab7280"],
    )
    assert verdict() is Status.PASS


def test_without_wafv2_in_the_services_no_acl_is_asked_for_and_none_is_assumed(moto):
    _seed(moto)
    recorder = Recorder()
    result = moto.collect(
        collector=AwsCollector(session_factory(recorder=recorder)), services=["elbv2"]
    )
    assert result.run.status is RunStatus.OK
    assert not [call for call in recorder.calls if call[0] == "wafv2"]
    shop = one(result.resources, "LoadBalancer", "shop").attrs
    assert shop["web_acl_read"] is False and shop["web_acl_arn"] is None
    verdicts = {
        f.resource_uid: f.status.value
        for f in Engine({}).judge(result.resources, [result.run])
        if f.check_id == "aws-alb-rate-limit"
    }
    assert verdicts and set(verdicts.values()) <= {"unknown", "pass"}  # never a false fail
