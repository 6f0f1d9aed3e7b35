"""Endpoint checks: security groups, load balancers, API Gateway, S3, RDS, EKS."""

from __future__ import annotations

from typing import Any

from postureapp.model import Severity, Status
from tests.checks.aws.estate import (
    ACCOUNT,
    REGION,
    inventory,
    only,
    resource,
    results,
    statuses,
)

SG = "aws-ec2-sg-admin-ports-open"


def rule(protocol="tcp", low=22, high=22, v4=("0.0.0.0/0",), v6=()) -> dict[str, Any]:
    return {
        "protocol": protocol,
        "from_port": low,
        "to_port": high,
        "cidrs_v4": list(v4),
        "cidrs_v6": list(v6),
        "prefix_lists": [],
        "source_groups": [],
        "open_to_internet": bool(set(v4) & {"0.0.0.0/0"} or set(v6) & {"::/0"}),
        "descriptions": [],
    }


USED = {"network_interfaces": ["eni-1"], "instances": ["i-1"], "interface_types": ["interface"]}
UNUSED = {"network_interfaces": [], "instances": [], "interface_types": []}


def security_group(group_id: str, *ingress: dict[str, Any], used_by=USED):
    return resource(
        "SecurityGroup",
        group_id,
        {
            "group_id": group_id,
            "group_name": group_id,
            "vpc_id": "vpc-1",
            "is_default": False,
            "ingress": list(ingress),
            "egress": [],
            "used_by": used_by,
        },
        uid=f"arn:aws:ec2:{REGION}:{ACCOUNT}:security-group/{group_id}",
    )


def eni(eni_id: str, groups: list[str], public_ip: str | None = None):
    return resource(
        "NetworkInterface",
        eni_id,
        {"network_interface_id": eni_id, "security_groups": groups, "public_ip": public_ip},
        uid=f"arn:aws:ec2:{REGION}:{ACCOUNT}:network-interface/{eni_id}",
    )


# -- security groups -----------------------------------------------------------------------


def test_world_open_ssh_on_an_attached_group_fails_naming_port_and_cidr():
    ssh = security_group("sg-ssh", rule())
    web = security_group("sg-web", rule(low=443, high=443, v6=("::/0",)))
    internal = security_group("sg-int", rule(v4=("10.0.0.0/8",)))
    found = results(SG, inventory(ssh, web, internal))
    bad = found[ssh.uid]
    assert bad.status is Status.FAIL
    assert bad.severity is Severity.HIGH
    assert "tcp 22 from 0.0.0.0/0 (admin ports 22)" in bad.detail
    assert bad.evidence["rules"] == [
        {"protocol": "tcp", "ports": "tcp 22", "sources": ["0.0.0.0/0"], "admin_ports": [22]}
    ]
    assert found[web.uid].status is Status.PASS
    assert found[internal.uid].status is Status.PASS


def test_port_ranges_protocol_all_and_ipv6_count_with_configured_admin_ports():
    wide = security_group("sg-range", rule(low=3000, high=3400, v4=(), v6=("::/0",)))
    everything = security_group("sg-all", rule(protocol="all", low=None, high=None))
    icmp = security_group("sg-icmp", rule(protocol="icmp", low=-1, high=-1))
    found = results(
        SG, inventory(wide, everything, icmp, settings={"admin_ports": [22, 3306, 3389]})
    )
    assert found[wide.uid].evidence["rules"][0]["admin_ports"] == [3306, 3389]
    assert "from ::/0" in found[wide.uid].detail
    assert found[everything.uid].evidence["rules"][0]["admin_ports"] == [22, 3306, 3389]
    assert "all traffic from 0.0.0.0/0" in found[everything.uid].detail
    assert found[icmp.uid].status is Status.PASS


def test_unattached_open_group_is_a_low_failure():
    spare = security_group("sg-spare", rule(), used_by=UNUSED)
    result = only(SG, inventory(spare))
    assert result.status is Status.FAIL
    assert result.severity is Severity.LOW
    assert result.evidence["attached"] is False


def test_usage_unknown_when_interfaces_could_not_be_read():
    mystery = security_group("sg-x", rule(), used_by=None)
    result = only(SG, inventory(mystery))
    assert result.status is Status.UNKNOWN
    assert "network interfaces could not be read" in result.detail


def test_public_ip_on_a_using_interface_makes_it_critical():
    ssh = security_group("sg-ssh", rule())
    result = only(SG, inventory(ssh, eni("eni-1", ["sg-ssh"], public_ip="203.0.113.7")))
    assert result.severity is Severity.CRITICAL
    assert "203.0.113.7" not in result.detail  # an address can change; the fact stays


# -- load balancers ------------------------------------------------------------------------


def load_balancer(name: str, *, public=True, listeners=()):
    return resource(
        "LoadBalancer",
        name,
        {
            "name": name,
            "type": "application",
            "scheme": "internet-facing" if public else "internal",
            "internet_facing": public,
            "dns_name": f"{name}.elb.amazonaws.com",
            "listeners": None if listeners is None else list(listeners),
        },
        uid=f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:loadbalancer/app/{name}/1",
    )


def listener(port: int, protocol: str, *actions: str):
    return {"port": port, "protocol": protocol, "default_actions": list(actions) or ["forward"]}


def test_load_balancers():
    plain = load_balancer("plain", listeners=[listener(80, "HTTP"), listener(443, "HTTPS")])
    redirecting = load_balancer(
        "tls", listeners=[listener(80, "HTTP", "redirect"), listener(443, "HTTPS")]
    )
    internal = load_balancer("internal", public=False, listeners=[listener(80, "HTTP")])
    blind = load_balancer("blind", listeners=None)
    found = results("aws-elb-internet-facing", inventory(plain, redirecting, internal, blind))
    assert found[plain.uid].status is Status.FAIL
    assert found[plain.uid].severity is Severity.HIGH
    assert "plain HTTP without a redirect on port 80" in found[plain.uid].detail
    assert found[redirecting.uid].status is Status.FAIL
    assert found[redirecting.uid].severity is None  # the check's medium
    assert found[internal.uid].status is Status.PASS
    assert found[blind.uid].status is Status.FAIL
    assert "not ruled out" in found[blind.uid].detail


# -- API Gateway ---------------------------------------------------------------------------


def rest_api(api_id: str, methods, endpoint_types=("REGIONAL",)):
    return resource(
        "ApiGatewayRestApi",
        api_id,
        {
            "api_id": api_id,
            "endpoint_types": list(endpoint_types),
            "methods": methods,
            "policy": None,
        },
        uid=f"arn:aws:apigateway:{REGION}::/restapis/{api_id}",
    )


def method(verb, path, auth="NONE", key=False):
    return {
        "path": path,
        "http_method": verb,
        "authorization_type": auth,
        "authorizer_id": None,
        "api_key_required": key,
    }


def test_rest_api_methods_without_auth_fail_others_pass():
    open_api = rest_api(
        "open",
        [
            method("GET", "/pets"),
            method("OPTIONS", "/pets"),
            method("POST", "/pets", auth="AWS_IAM"),
            method("GET", "/keyed", key=True),
        ],
    )
    private = rest_api("private", [method("GET", "/x")], endpoint_types=("PRIVATE",))
    closed = rest_api("closed", [method("GET", "/x", auth="COGNITO_USER_POOLS")])
    blind = rest_api("blind", None)
    found = results("aws-apigateway-rest-no-auth", inventory(open_api, private, closed, blind))
    assert found[open_api.uid].status is Status.FAIL
    assert found[open_api.uid].evidence["methods"] == ["GET /pets"]
    assert found[private.uid].status is Status.PASS
    assert found[closed.uid].status is Status.PASS
    assert found[blind.uid].status is Status.UNKNOWN


def http_api(api_id: str, routes, protocol="HTTP"):
    return resource(
        "ApiGatewayHttpApi",
        api_id,
        {"api_id": api_id, "protocol_type": protocol, "routes": routes},
        uid=f"arn:aws:apigateway:{REGION}::/apis/{api_id}",
    )


def route(key, auth="NONE", api_key=False):
    return {
        "route_key": key,
        "authorization_type": auth,
        "authorizer_id": None,
        "api_key_required": api_key,
        "target": None,
    }


def test_http_and_websocket_routes():
    open_http = http_api("h1", [route("GET /orders"), route("POST /orders", auth="JWT")])
    closed_http = http_api("h2", [route("$default", auth="AWS_IAM"), route("OPTIONS /x")])
    open_ws = http_api("w1", [route("$connect"), route("sendmessage")], protocol="WEBSOCKET")
    closed_ws = http_api(
        "w2", [route("$connect", auth="CUSTOM"), route("sendmessage")], protocol="WEBSOCKET"
    )
    blind = http_api("h3", None)
    found = results(
        "aws-apigateway-http-no-auth", inventory(open_http, closed_http, open_ws, closed_ws, blind)
    )
    assert found[open_http.uid].status is Status.FAIL
    assert found[open_http.uid].evidence["routes"] == ["GET /orders"]
    assert found[closed_http.uid].status is Status.PASS
    assert found[open_ws.uid].evidence["routes"] == ["$connect"]
    assert found[closed_ws.uid].status is Status.PASS
    assert found[blind.uid].status is Status.UNKNOWN


# -- S3 ------------------------------------------------------------------------------------

BLOCK_ALL = dict.fromkeys(
    ("block_public_acls", "ignore_public_acls", "block_public_policy", "restrict_public_buckets"),
    True,
)
BLOCK_NONE = dict.fromkeys(BLOCK_ALL, False)


def bucket(name: str, *, pab=None, public_policy=False, grants=(), unread=None, encryption=None):
    return resource(
        "S3Bucket",
        name,
        {
            "name": name,
            "region": REGION,
            "public_access_block": pab,
            "has_policy": public_policy is not False,
            "policy_is_public": public_policy,
            "acl_public_grants": None if grants is None else list(grants),
            "encryption": encryption,
            "unread": dict(unread or {}),
        },
        uid=f"arn:aws:s3:::{name}",
        region="global",
    )


def account_block(**settings):
    attrs = {"configured": bool(settings), **BLOCK_NONE, **settings}
    return resource("S3AccountPublicAccessBlock", ACCOUNT, attrs, region="global")


ALL_USERS_READ = {"grantee": "AllUsers", "permission": "READ"}


def test_public_buckets_fail_unless_a_block_neutralises_them():
    by_policy = bucket("by-policy", public_policy=True)
    by_acl = bucket("by-acl", grants=[ALL_USERS_READ])
    blocked = bucket("blocked", public_policy=True, grants=[ALL_USERS_READ], pab=BLOCK_ALL)
    private = bucket("private")
    found = results(
        "aws-s3-bucket-public", inventory(by_policy, by_acl, blocked, private, account_block())
    )
    assert found[by_policy.uid].status is Status.FAIL
    assert "its bucket policy is public" in found[by_policy.uid].detail
    assert found[by_acl.uid].status is Status.FAIL
    assert "its ACL grants READ to AllUsers" in found[by_acl.uid].detail
    assert found[blocked.uid].status is Status.PASS
    assert found[private.uid].status is Status.PASS


def test_account_level_block_neutralises_public_policy():
    by_policy = bucket("by-policy", public_policy=True)
    inv = inventory(by_policy, account_block(restrict_public_buckets=True))
    assert only("aws-s3-bucket-public", inv).status is Status.PASS


def test_public_status_unknown_when_policy_status_unreadable():
    unread = bucket("unread", public_policy=None, unread={"policy_status": "denied"})
    inv = inventory(unread, account_block())
    assert only("aws-s3-bucket-public", inv).status is Status.UNKNOWN


def test_public_access_block_combines_bucket_and_account_levels():
    half = {**BLOCK_NONE, "block_public_acls": True, "ignore_public_acls": True}
    combined = bucket("combined", pab=half)
    missing = bucket("missing")
    unreadable = bucket("unreadable", unread={"public_access_block": "AccessDenied"})
    account = account_block(block_public_policy=True, restrict_public_buckets=True)
    found = results("aws-s3-public-access-block", inventory(combined, missing, unreadable, account))
    assert found[combined.uid].status is Status.PASS
    assert found[missing.uid].status is Status.FAIL
    assert found[missing.uid].evidence["missing"] == ["block_public_acls", "ignore_public_acls"]
    assert found[unreadable.uid].status is Status.UNKNOWN


def test_public_access_block_passes_on_account_level_alone():
    inv = inventory(bucket("b"), account_block(**BLOCK_ALL))
    assert only("aws-s3-public-access-block", inv).status is Status.PASS


# -- RDS and EKS ---------------------------------------------------------------------------


def rds_instance(name: str, public: bool, **attrs):
    return resource(
        "RDSInstance",
        name,
        {
            "identifier": name,
            "engine": "postgres",
            "publicly_accessible": public,
            "endpoint": {"address": f"{name}.rds.amazonaws.com", "port": 5432},
            "cluster_identifier": None,
            **attrs,
        },
        uid=f"arn:aws:rds:{REGION}:{ACCOUNT}:db:{name}",
    )


def rds_cluster(name: str, public: bool | None):
    return resource(
        "RDSCluster",
        name,
        {
            "identifier": name,
            "engine": "aurora-postgresql",
            "publicly_accessible": public,
            "endpoint": f"{name}.cluster.rds.amazonaws.com",
        },
        uid=f"arn:aws:rds:{REGION}:{ACCOUNT}:cluster:{name}",
    )


def test_rds_public():
    exposed = rds_instance("exposed", True)
    hidden = rds_instance("hidden", False)
    aurora = rds_cluster("aurora", None)
    multi_az = rds_cluster("multiaz", True)
    found = results("aws-rds-public", inventory(exposed, hidden, aurora, multi_az))
    assert found[exposed.uid].status is Status.FAIL
    assert "exposed.rds.amazonaws.com:5432" in found[exposed.uid].detail
    assert found[hidden.uid].status is Status.PASS
    assert aurora.uid not in found  # judged per instance
    assert found[multi_az.uid].status is Status.FAIL


def eks_cluster(name: str, **attrs):
    base = {
        "name": name,
        "endpoint": f"https://{name}.eks.amazonaws.com",
        "endpoint_public_access": True,
        "endpoint_private_access": True,
        "public_access_cidrs": ["0.0.0.0/0"],
        "logging_enabled_types": [],
        "secrets_encrypted": False,
    }
    base.update(attrs)
    return resource("EKSCluster", name, base, uid=f"arn:aws:eks:{REGION}:{ACCOUNT}:cluster/{name}")


def test_eks_public_endpoint():
    open_cluster = eks_cluster("open")
    limited = eks_cluster("limited", public_access_cidrs=["203.0.113.0/24"])
    private = eks_cluster("private", endpoint_public_access=False)
    found = results("aws-eks-public-endpoint", inventory(open_cluster, limited, private))
    assert found[open_cluster.uid].status is Status.FAIL
    assert "open to 0.0.0.0/0" in found[open_cluster.uid].detail
    assert found[limited.uid].status is Status.PASS
    assert "203.0.113.0/24" in found[limited.uid].detail
    assert statuses("aws-eks-public-endpoint", inventory(private)) == {private.uid: Status.PASS}
