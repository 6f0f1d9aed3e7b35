"""Rate limiting, TLS at load balancers and observability checks on small inventories.

Web ACLs, usage plans and log groups are built by the collector's own normalisers from
answers shaped like the AWS API's, so the checks see production attrs."""

from __future__ import annotations

from typing import Any

from postureapp.collectors.aws.apigateway import usage_plan
from postureapp.collectors.aws.logs import log_group
from postureapp.collectors.aws.waf import web_acl
from postureapp.engine import Engine
from postureapp.model import Status

from .estate import ACCOUNT, REGION, inventory, partial_run, resource, results

ACL_ARN = f"arn:aws:wafv2:{REGION}:{ACCOUNT}:regional/webacl/edge/1111"
COUNT_ACL_ARN = f"arn:aws:wafv2:{REGION}:{ACCOUNT}:regional/webacl/observe/2222"


def acl(arn: str, action: str = "Block", rate: bool = True):
    statement: dict[str, Any] = (
        {"RateBasedStatement": {"Limit": 500, "AggregateKeyType": "IP"}}
        if rate
        else {
            "ManagedRuleGroupStatement": {
                "VendorName": "AWS",
                "Name": "AWSManagedRulesCommonRuleSet",
            }
        }
    )
    rule = {"Name": "r1", "Priority": 1, "Statement": statement, "Action": {action: {}}}
    name = arn.split("/")[-2]
    summary = {"Name": name, "Id": arn.split("/")[-1], "ARN": arn}
    return web_acl(ACCOUNT, REGION, summary, {"Rules": [rule], "DefaultAction": {"Allow": {}}})


def alb(name: str, *, public: bool = True, acl_arn: str | None = None, listeners=()):
    return resource(
        "LoadBalancer",
        name,
        {
            "type": "application",
            "internet_facing": public,
            "scheme": "internet-facing" if public else "internal",
            "listeners": None if listeners is None else list(listeners),
            "web_acl_arn": acl_arn,
        },
        uid=f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:loadbalancer/app/{name}/1",
    )


def test_alb_rate_limit_needs_a_blocking_rate_based_rule():
    inv = inventory(
        acl(ACL_ARN),
        acl(COUNT_ACL_ARN, action="Count"),  # near miss: a rate rule that only counts
        alb("shop", acl_arn=ACL_ARN),
        alb("admin"),  # no ACL at all
        alb("observed", acl_arn=COUNT_ACL_ARN),
        alb("intranet", public=False),
    )
    found = {r.resource.name: r for r in results("aws-alb-rate-limit", inv).values()}
    assert found["shop"].status is Status.PASS
    assert found["shop"].evidence == {
        "web_acl": "edge",
        "rate_based_rules": ["r1"],
        "rate_limit": 500,
    }
    assert found["admin"].status is Status.FAIL and "no AWS WAF web ACL" in found["admin"].detail
    assert found["observed"].status is Status.FAIL
    assert found["intranet"].status is Status.PASS


def test_alb_rate_limit_is_unknown_when_waf_was_left_out_of_the_services():
    unasked = alb("edge")
    unasked.attrs["web_acl_read"] = False  # --services without wafv2
    asked = alb("admin")
    asked.attrs["web_acl_read"] = True
    found = {
        r.resource.name: r
        for r in results("aws-alb-rate-limit", inventory(unasked, asked)).values()
    }
    assert found["edge"].status is Status.UNKNOWN and "--services" in found["edge"].detail
    assert found["admin"].status is Status.FAIL  # asked, and there is none


def test_alb_rate_limit_acl_without_rate_rule_and_unread_acl():
    other = f"arn:aws:wafv2:{REGION}:{ACCOUNT}:regional/webacl/common/3333"
    inv = inventory(
        acl(other, rate=False),
        alb("managed-only", acl_arn=other),
        alb("elsewhere", acl_arn=f"arn:aws:wafv2:{REGION}:{ACCOUNT}:regional/webacl/gone/4"),
    )
    found = {r.resource.name: r for r in results("aws-alb-rate-limit", inv).values()}
    assert found["managed-only"].status is Status.FAIL
    assert "no blocking rate-based rule" in found["managed-only"].detail
    assert found["elsewhere"].status is Status.UNKNOWN


def test_alb_rate_limit_is_unknown_when_waf_could_not_be_read():
    resources = [alb("shop", acl_arn=None)]
    run = partial_run(WAFWebACL="AccessDenied: wafv2:GetWebACLForResource")
    findings = [f for f in Engine({}).judge(resources, [run]) if f.check_id == "aws-alb-rate-limit"]
    assert findings and {f.status for f in findings} == {Status.UNKNOWN}


def rest_api(api_id: str, stages: list[dict], methods: list[dict] | None = None, private=False):
    return resource(
        "ApiGatewayRestApi",
        api_id,
        {
            "api_id": api_id,
            "endpoint_types": ["PRIVATE" if private else "REGIONAL"],
            "methods": methods
            if methods is not None
            else [{"path": "/", "http_method": "GET", "api_key_required": False}],
            "stages": stages,
        },
        uid=f"arn:aws:apigateway:{REGION}::/restapis/{api_id}",
    )


def stage(name: str, **attrs: Any) -> dict[str, Any]:
    return {
        "name": name,
        "throttling": None,
        "web_acl_arn": None,
        "tracing_enabled": False,
        **attrs,
    }


def plan(api_id: str, stage_name: str, rate: float | None = 10.0):
    answer: dict[str, Any] = {
        "id": f"plan-{api_id}",
        "name": f"plan-{api_id}",
        "apiStages": [{"apiId": api_id, "stage": stage_name}],
    }
    if rate is not None:
        answer["throttle"] = {"rateLimit": rate, "burstLimit": 20}
    return usage_plan("aws", ACCOUNT, REGION, answer)


def test_rest_stage_throttling_waf_and_usage_plans():
    keyed = [{"path": "/", "http_method": "GET", "api_key_required": True}]
    inv = inventory(
        acl(ACL_ARN),
        rest_api("throttled", [stage("prod", throttling={"rate_limit": 50.0, "burst_limit": 100})]),
        rest_api("waf", [stage("prod", web_acl_arn=ACL_ARN)]),
        rest_api("keyed", [stage("prod")], methods=keyed),
        plan("keyed", "prod"),
        # Near miss: a throttled plan, but a method callers reach without any key.
        rest_api("keyless", [stage("prod")]),
        plan("keyless", "prod"),
        rest_api("mixed", [stage("prod", throttling={"rate_limit": 5.0}), stage("dev")]),
        rest_api("inside", [stage("prod")], private=True),
        rest_api("unread", None),
        rest_api("acl-unread", [stage("prod", web_acl_arn=COUNT_ACL_ARN)]),
    )
    found = {r.resource.name: r for r in results("aws-apigw-rest-rate-limit", inv).values()}
    assert {name: r.status for name, r in found.items()} == {
        "throttled": Status.PASS,
        "waf": Status.PASS,
        "keyed": Status.PASS,
        "keyless": Status.FAIL,
        "mixed": Status.FAIL,
        "inside": Status.PASS,
        "unread": Status.UNKNOWN,
        "acl-unread": Status.UNKNOWN,  # its ACL is not in the inventory: never a verdict
    }
    assert "API-key callers only" in found["keyless"].detail
    assert found["mixed"].evidence["unlimited_stages"] == {
        "dev": "no stage throttling, throttled usage plan or WAF rate-based rule"
    }


def test_throttling_disabled_is_not_a_limit_and_unread_methods_are_unknown():
    methods_unread = rest_api("methods-unread", [stage("prod")])
    methods_unread.attrs["methods"] = None
    inv = inventory(
        # -1 is how API Gateway (and Terraform's default method settings) say "off"
        rest_api("disabled", [stage("prod", throttling={"rate_limit": -1.0, "burst_limit": -1})]),
        rest_api("zero-plan", [stage("prod")]),
        plan("zero-plan", "prod", rate=-1.0),
        methods_unread,
        plan("methods-unread", "prod"),
    )
    found = {r.resource.name: r for r in results("aws-apigw-rest-rate-limit", inv).values()}
    assert found["disabled"].status is Status.FAIL
    assert found["zero-plan"].status is Status.FAIL
    assert found["methods-unread"].status is Status.UNKNOWN
    http = resource(
        "ApiGatewayHttpApi",
        "off",
        {
            "protocol_type": "HTTP",
            "stages": [{"name": "$default", "throttling": {"rate_limit": -1}}],
        },
    )
    (verdict,) = results("aws-apigw-http-rate-limit", inventory(http)).values()
    assert verdict.status is Status.FAIL


def test_http_api_default_route_throttling():
    def http_api(name: str, stages):
        return resource("ApiGatewayHttpApi", name, {"protocol_type": "HTTP", "stages": stages})

    inv = inventory(
        http_api("limited", [{"name": "$default", "throttling": {"rate_limit": 5.0}}]),
        http_api(
            "routes-only",
            [{"name": "$default", "throttling": None, "throttled_routes": ["POST /login"]}],
        ),
    )
    found = {r.resource.name: r for r in results("aws-apigw-http-rate-limit", inv).values()}
    assert found["limited"].status is Status.PASS
    assert found["routes-only"].status is Status.FAIL
    assert found["routes-only"].evidence["partly_throttled"] == {"$default": ["POST /login"]}


# -- TLS at load balancers -------------------------------------------------------------


def listener(port: int, protocol: str, *targets: str | None) -> dict[str, Any]:
    return {
        "port": port,
        "protocol": protocol,
        "target_groups": [
            {"arn": f"tg-{i}", "protocol": t, "port": 8080} for i, t in enumerate(targets)
        ],
    }


def test_tls_termination_per_listener_and_cleartext_hop_fails_only_when_public():
    inv = inventory(
        alb("bridged", listeners=[listener(443, "HTTPS", "HTTP")]),
        alb("reencrypted", listeners=[listener(443, "HTTPS", "HTTPS")]),
        alb("redirect", listeners=[listener(80, "HTTP"), listener(443, "HTTPS")]),
        alb("inside", public=False, listeners=[listener(443, "HTTPS", "HTTP")]),
        alb("nlb", listeners=[listener(443, "TCP", "TCP")]),
        alb("unread-groups", listeners=[listener(443, "HTTPS", None)]),
        alb("unread", listeners=None),
    )
    found = {r.resource.name: r for r in results("aws-elb-tls-termination", inv).values()}
    summary = {n: (r.status, r.evidence.get("tls_termination")) for n, r in found.items()}
    assert summary == {
        "bridged": (Status.FAIL, "edge-bridged-cleartext"),
        "reencrypted": (Status.PASS, "edge-reencrypted"),
        "redirect": (Status.PASS, "none"),
        "inside": (Status.PASS, "edge-bridged-cleartext"),
        "nlb": (Status.PASS, "passthrough"),
        "unread-groups": (Status.UNKNOWN, "edge-backend-unknown"),
        "unread": (Status.UNKNOWN, None),
    }
    assert [row["tls_termination"] for row in found["redirect"].evidence["listeners"]] == [
        "none",
        "edge-terminated",
    ]


# -- observability ---------------------------------------------------------------------------


def group(name: str, days: int | None):
    answer: dict[str, Any] = {
        "logGroupName": name,
        "arn": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{name}:*",
    }
    if days is not None:
        answer["retentionInDays"] = days
    return log_group(ACCOUNT, REGION, answer)


def test_log_group_retention_never_one_day_and_enough():
    inv = inventory(group("/never", None), group("/day", 1), group("/month", 30), group("/week", 7))
    found = {r.resource.name: r.status for r in results("aws-log-group-retention", inv).values()}
    assert found == {
        "/never": Status.FAIL,
        "/day": Status.FAIL,
        "/month": Status.PASS,
        "/week": Status.FAIL,
    }
    relaxed = inventory(group("/week", 7), settings={"log_retention_min_days": 7})
    assert [r.status for r in results("aws-log-group-retention", relaxed).values()] == [Status.PASS]


def test_api_tracing_and_eks_control_plane_logs():
    inv = inventory(
        rest_api("traced", [stage("prod", tracing_enabled=True)]),
        rest_api("dark", [stage("prod", tracing_enabled=True), stage("dev")]),
        resource(
            "EKSCluster", "full", {"logging_enabled_types": ["api", "audit", "authenticator"]}
        ),
        resource("EKSCluster", "audit-only", {"logging_enabled_types": ["audit"]}),
    )
    tracing = {r.resource.name: r for r in results("aws-apigw-tracing", inv).values()}
    assert tracing["traced"].status is Status.PASS
    assert tracing["dark"].status is Status.FAIL
    assert tracing["dark"].evidence == {"untraced_stages": ["dev"]}
    logs = {r.resource.name: r for r in results("aws-eks-control-plane-logs", inv).values()}
    assert logs["full"].status is Status.PASS
    assert logs["audit-only"].evidence["missing"] == ["api", "authenticator"]


def test_eks_oidc_provider_registered_for_sts_or_pod_identity():
    issuer = "https://oidc.eks.eu-west-1.amazonaws.com/id/ABC"

    def provider(*audiences: str):
        return resource(
            "IAMOIDCProvider",
            "p",
            {"url": issuer.removeprefix("https://"), "client_ids": list(audiences)},
            region="global",
        )

    def eks(name: str, **attrs: Any):
        return resource("EKSCluster", name, {"oidc_issuer": issuer, **attrs})

    def verdict(*resources) -> Status:
        (result,) = results("aws-eks-oidc-provider", inventory(*resources)).values()
        return result.status

    assert verdict(eks("a"), provider("sts.amazonaws.com")) is Status.PASS
    assert verdict(eks("a"), provider("ci.example.com")) is Status.FAIL  # not for STS
    assert verdict(eks("a")) is Status.FAIL
    assert verdict(eks("a", pod_identity_associations=2)) is Status.PASS
    assert verdict(eks("a", oidc_issuer=None)) is Status.UNKNOWN
