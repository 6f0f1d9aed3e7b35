"""AWS exposed-endpoint checks: what the internet can reach, and whether it has to
authenticate first.

"No admin service exposed by accident": a security group open to the world on SSH or a
database port, a public load balancer serving plain HTTP, an API method anyone can call,
a public bucket, a publicly accessible database, a Kubernetes API open to every address.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from postureapp.checks.registry import Result, check
from postureapp.config import DEFAULT_ADMIN_PORTS
from postureapp.domain.aws.scopes import PROVIDER
from postureapp.domain.text import listing, plural
from postureapp.facts import facts_of
from postureapp.facts.aws import (
    ApiGatewayHttpApiFacts,
    ApiGatewayRestApiFacts,
    EKSClusterFacts,
    LoadBalancerFacts,
    NetworkInterfaceFacts,
    RDSClusterFacts,
    RDSInstanceFacts,
    S3BucketFacts,
    SecurityGroupFacts,
)
from postureapp.facts.aws_services import IpRule, RDSEndpoint
from postureapp.inventory import Inventory
from postureapp.model import Resource, Severity, Status, View

WORLD_V4 = "0.0.0.0/0"
WORLD_V6 = "::/0"
_PORT_PROTOCOLS = ("tcp", "udp", "all")


# -- security groups -----------------------------------------------------------------------


def _admin_ports(inv: Inventory) -> list[int]:
    ports = inv.setting("admin_ports", DEFAULT_ADMIN_PORTS)
    return sorted({int(p) for p in ports if isinstance(p, int) and not isinstance(p, bool)})


def _ports(rule: IpRule) -> str:
    low, high = rule.get("from_port"), rule.get("to_port")
    if rule.get("protocol") == "all":
        return "all traffic"
    if low is None or (low, high) == (0, 65535):
        return f"{rule.get('protocol')} all ports"
    span = f"{low}" if low == high else f"{low}-{high}"
    return f"{rule.get('protocol')} {span}"


def world_open_admin_rules(group: Resource, admin_ports: list[int]) -> list[dict[str, Any]]:
    """Ingress rules open to 0.0.0.0/0 or ::/0 that include an admin port: protocol tcp,
    udp or all (ICMP and other protocols carry no ports), port ranges included."""
    found = []
    for rule in facts_of(group, SecurityGroupFacts).get("ingress") or []:
        if rule.get("protocol") not in _PORT_PROTOCOLS:
            continue
        sources = [c for c in rule.get("cidrs_v4") or [] if c == WORLD_V4]
        sources += [c for c in rule.get("cidrs_v6") or [] if c == WORLD_V6]
        if not sources:
            continue
        low, high = rule.get("from_port"), rule.get("to_port")
        if rule.get("protocol") == "all" or low is None:
            low, high = 0, 65535
        high = low if high is None else high
        hit = [port for port in admin_ports if low <= port <= high]
        if hit:
            found.append(
                {
                    "protocol": rule.get("protocol"),
                    "ports": _ports(rule),
                    "sources": sources,
                    "admin_ports": hit,
                }
            )
    return found


def _public_interfaces(inv: Inventory, group: Resource) -> bool:
    """Whether a network interface using the group has a public IP (when interfaces
    were read; otherwise False and the severity is not raised)."""
    group_id = facts_of(group, SecurityGroupFacts).get("group_id")
    for eni in inv.of(PROVIDER, "NetworkInterface", group.scope):
        eni_facts = facts_of(eni, NetworkInterfaceFacts)
        if group_id in (eni_facts.get("security_groups") or []) and eni_facts.get("public_ip"):
            return True
    return False


@check(
    id="aws-ec2-sg-admin-ports-open",
    title="Security group open to the internet on an admin or data port",
    view=View.ENDPOINTS,
    severity=Severity.HIGH,
    provider=PROVIDER,
    requires=("SecurityGroup",),
    remediation=(
        "Remove the 0.0.0.0/0 and ::/0 sources from the rule (EC2 console > Security "
        "Groups > GROUP > Inbound rules > Edit, or `aws ec2 revoke-security-group-ingress "
        "--group-id sg-... --ip-permissions ...`). Reach instances through SSM Session "
        "Manager or a VPN instead of open SSH/RDP, and databases through private subnets "
        "and security-group references instead of CIDRs."
    ),
    frameworks={
        "CIS AWS": ["5.2", "5.3"],
        "AWS FSBP": ["EC2.53", "EC2.54", "EC2.19"],
        "ISO 27001:2022": ["A.8.20", "A.8.22"],
        "SOC 2": ["CC6.6"],
    },
    references=(
        "https://docs.aws.amazon.com/vpc/latest/userguide/vpc-security-group-rules.html",
        "https://docs.aws.amazon.com/securityhub/latest/userguide/ec2-controls.html#ec2-53",
        "https://docs.aws.amazon.com/systems-manager/latest/userguide/session-manager.html",
    ),
    controls=("aws-network-exposure", "no-exposed-admin-interfaces"),
)
def sg_admin_ports_open(inv: Inventory):
    """Security groups whose ingress admits 0.0.0.0/0 or ::/0 on a port from
    ``admin_ports`` (port ranges and protocol "all" included).

    Attached (a network interface uses it): high, critical when one of those interfaces
    has a public IP. Not attached today: **low, still a failure** -- an instance, an
    Auto Scaling group scaled to zero or a launch template that uses the group later is
    exposed the moment it starts, and launch templates do not show in ``used_by``.
    Whether it is attached is unknown when network interfaces could not be read."""
    admin_ports = _admin_ports(inv)
    for group in sorted(inv.of(PROVIDER, "SecurityGroup"), key=lambda r: r.uid):
        group_facts = facts_of(group, SecurityGroupFacts)
        rules = world_open_admin_rules(group, admin_ports)
        name = f'security group "{group.name}" ({group_facts.get("group_id")})'
        if not rules:
            yield Result(group, Status.PASS, f"{name}: no admin port open to the internet")
            continue
        opened = "; ".join(
            f"{rule['ports']} from {' and '.join(rule['sources'])} "
            f"(admin ports {listing([str(p) for p in rule['admin_ports']], 6)})"
            for rule in rules
        )
        evidence: dict[str, Any] = {"rules": rules}
        used_by = group_facts.get("used_by")
        if used_by is None:
            yield Result(
                group,
                Status.UNKNOWN,
                f"{name} opens {opened}, but whether anything uses it is unknown "
                "(network interfaces could not be read)",
                evidence,
            )
            continue
        types = sorted(used_by.get("interface_types") or [])
        if not used_by.get("network_interfaces"):
            evidence["attached"] = False
            yield Result(
                group,
                Status.FAIL,
                f"{name} opens {opened}; no network interface uses it now, but anything "
                "launched with it is exposed at once",
                evidence,
                severity=Severity.LOW,
            )
            continue
        evidence.update(attached=True, interface_types=types)
        public = _public_interfaces(inv, group)
        evidence["public_ip"] = public
        where = f"in use ({', '.join(types)} interfaces)"
        if public:
            where += ", on an interface with a public IP"
        yield Result(
            group,
            Status.FAIL,
            f"{name} opens {opened}; {where}",
            evidence,
            severity=Severity.CRITICAL if public else Severity.HIGH,
        )


# -- load balancers ------------------------------------------------------------------------


@check(
    id="aws-elb-internet-facing",
    title="Internet-facing load balancer",
    view=View.ENDPOINTS,
    severity=Severity.MEDIUM,
    provider=PROVIDER,
    requires=("LoadBalancer",),
    remediation=(
        "If the service is internal, recreate the load balancer with scheme internal. If "
        "it must be public, serve HTTPS only: change each HTTP listener's default action "
        "to a redirect (`aws elbv2 modify-listener --listener-arn ARN --default-actions "
        "'Type=redirect,RedirectConfig={Protocol=HTTPS,Port=443,StatusCode=HTTP_301}'`), "
        "and put AWS WAF in front of application load balancers."
    ),
    frameworks={
        "AWS FSBP": ["ELB.1"],
        "ISO 27001:2022": ["A.8.20", "A.8.24"],
        "SOC 2": ["CC6.6", "CC6.7"],
    },
    references=(
        "https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-listeners.html",
        "https://docs.aws.amazon.com/securityhub/latest/userguide/elb-controls.html#elb-1",
    ),
)
def elb_internet_facing(inv: Inventory):
    """Internet-facing load balancers are exposed endpoints (medium); one with a plain
    HTTP listener that does not redirect is high. Internal ones pass. A public load
    balancer whose listeners could not be read stays medium and says so."""
    for lb in sorted(inv.of(PROVIDER, "LoadBalancer"), key=lambda r: r.uid):
        lb_facts = facts_of(lb, LoadBalancerFacts)
        kind = lb_facts.get("type") or "load balancer"
        name = f'{kind} load balancer "{lb.name}"'
        if not lb_facts.get("internet_facing"):
            yield Result(lb, Status.PASS, f"{name} is internal")
            continue
        listeners = lb_facts.get("listeners")
        evidence: dict[str, Any] = {
            "scheme": lb_facts.get("scheme"),
            "dns_name": lb_facts.get("dns_name"),
        }
        if listeners is None:
            evidence["listeners_read"] = False
            yield Result(
                lb,
                Status.FAIL,
                f"{name} is internet-facing ({lb_facts.get('dns_name')}); its listeners "
                "could not be read, so plain HTTP is not ruled out",
                evidence,
            )
            continue
        plain = [
            listener
            for listener in listeners
            if listener.get("protocol") == "HTTP"
            and "redirect" not in (listener.get("default_actions") or [])
        ]
        served = ", ".join(f"{item.get('protocol')}:{item.get('port')}" for item in listeners)
        evidence["listeners"] = [f"{item.get('protocol')}:{item.get('port')}" for item in listeners]
        if plain:
            ports = ", ".join(str(item.get("port")) for item in plain)
            evidence["plain_http_ports"] = [item.get("port") for item in plain]
            yield Result(
                lb,
                Status.FAIL,
                f"{name} is internet-facing ({lb_facts.get('dns_name')}) and serves plain "
                f"HTTP without a redirect on port {ports}",
                evidence,
                severity=Severity.HIGH,
            )
        else:
            yield Result(
                lb,
                Status.FAIL,
                f"{name} is internet-facing ({lb_facts.get('dns_name')}); listeners: "
                f"{served or 'none'}",
                evidence,
            )


# -- API Gateway ---------------------------------------------------------------------------

_APIGW_FRAMEWORKS = {
    "ISO 27001:2022": ["A.8.5", "A.8.3"],
    "SOC 2": ["CC6.1", "CC6.6"],
}
_APIGW_AUTHORIZERS = (
    "Give every method or route an authorizer: IAM (AWS_IAM) for service-to-service "
    "calls, a Cognito or JWT authorizer for users, or a Lambda authorizer (API Gateway "
    "console > API > Resources or Routes > METHOD > Authorization). "
)
_APIGW_REST_REMEDIATION = _APIGW_AUTHORIZERS + (
    "CLI: `aws apigateway update-method --rest-api-id ID --resource-id RID --http-method "
    "GET --patch-operations op=replace,path=/authorizationType,value=AWS_IAM`, then "
    "`aws apigateway create-deployment`. APIs only other services call can be made "
    "PRIVATE (reachable through a VPC endpoint) instead."
)
_APIGW_HTTP_REMEDIATION = _APIGW_AUTHORIZERS + (
    "CLI: `aws apigatewayv2 update-route --api-id ID --route-id RID "
    "--authorization-type JWT --authorizer-id AID` (or AWS_IAM); for WebSocket APIs, "
    "authorize the $connect route."
)


@check(
    id="aws-apigateway-rest-no-auth",
    title="API Gateway REST method callable without authentication",
    view=View.ENDPOINTS,
    severity=Severity.MEDIUM,
    provider=PROVIDER,
    requires=("ApiGatewayRestApi",),
    remediation=_APIGW_REST_REMEDIATION,
    frameworks=_APIGW_FRAMEWORKS,
    references=(
        "https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-control-access-to-api.html",
        "https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-private-apis.html",
    ),
    controls=("aws-network-exposure",),
    no_benchmark="no CIS or FSBP control for unauthenticated REST methods",
)
def apigateway_rest_no_auth(inv: Inventory):
    """Methods of non-PRIVATE REST APIs with authorization NONE and no API key required.
    OPTIONS methods are skipped: CORS preflight requests never carry credentials. A
    resource policy, if any, is mentioned (it may restrict callers; it is not evaluated).
    Unknown when the API's methods could not be read."""
    for api in sorted(inv.of(PROVIDER, "ApiGatewayRestApi"), key=lambda r: r.uid):
        api_facts = facts_of(api, ApiGatewayRestApiFacts)
        name = f'REST API "{api.name}" ({api_facts.get("api_id")})'
        if "PRIVATE" in (api_facts.get("endpoint_types") or []):
            yield Result(api, Status.PASS, f"{name} is PRIVATE (reachable from VPC endpoints only)")
            continue
        methods = api_facts.get("methods")
        if methods is None:
            yield Result(api, Status.UNKNOWN, f"{name}: its methods could not be read")
            continue
        open_methods = [
            f"{m.get('http_method')} {m.get('path')}"
            for m in methods
            if m.get("authorization_type", "NONE") == "NONE"
            and not m.get("api_key_required")
            and m.get("http_method") != "OPTIONS"
        ]
        if not open_methods:
            yield Result(api, Status.PASS, f"{name}: every method needs an authorizer or API key")
            continue
        detail = (
            f"{name} is reachable from the internet and {plural(len(open_methods), 'method')} "
            f"need no authentication: {listing(open_methods, 8)}"
        )
        if api_facts.get("policy"):
            detail += " (a resource policy is attached and may restrict callers)"
        yield Result(
            api,
            Status.FAIL,
            detail,
            {"methods": open_methods[:20], "endpoint_types": api_facts.get("endpoint_types")},
        )


@check(
    id="aws-apigateway-http-no-auth",
    title="API Gateway HTTP or WebSocket route callable without authentication",
    view=View.ENDPOINTS,
    severity=Severity.MEDIUM,
    provider=PROVIDER,
    requires=("ApiGatewayHttpApi",),
    remediation=_APIGW_HTTP_REMEDIATION,
    frameworks={"AWS FSBP": ["APIGateway.8"], **_APIGW_FRAMEWORKS},
    references=(
        "https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-access-control.html",
        "https://docs.aws.amazon.com/securityhub/latest/userguide/apigateway-controls.html#apigateway-8",
    ),
    controls=("aws-network-exposure",),
)
def apigateway_http_no_auth(inv: Inventory):
    """HTTP API routes with authorization NONE (HTTP APIs have no API keys and are
    always public); OPTIONS routes are skipped. For WebSocket APIs only ``$connect`` can
    carry authorization, so only it is judged (NONE and no API key fails)."""
    for api in sorted(inv.of(PROVIDER, "ApiGatewayHttpApi"), key=lambda r: r.uid):
        api_facts = facts_of(api, ApiGatewayHttpApiFacts)
        protocol = api_facts.get("protocol_type") or "HTTP"
        name = f'{protocol} API "{api.name}" ({api_facts.get("api_id")})'
        routes = api_facts.get("routes")
        if routes is None:
            yield Result(api, Status.UNKNOWN, f"{name}: its routes could not be read")
            continue
        if protocol == "WEBSOCKET":
            open_routes = [
                r.get("route_key")
                for r in routes
                if r.get("route_key") == "$connect"
                and r.get("authorization_type", "NONE") == "NONE"
                and not r.get("api_key_required")
            ]
        else:
            open_routes = [
                r.get("route_key")
                for r in routes
                if r.get("authorization_type", "NONE") == "NONE"
                and not str(r.get("route_key") or "").startswith("OPTIONS ")
            ]
        if not open_routes:
            yield Result(api, Status.PASS, f"{name}: every route needs an authorizer")
            continue
        yield Result(
            api,
            Status.FAIL,
            f"{name} is reachable from the internet and {plural(len(open_routes), 'route')} "
            f"need no authentication: {listing([str(r) for r in open_routes], 8)}",
            {"routes": [str(r) for r in open_routes][:20], "protocol": protocol},
        )


# -- S3 ------------------------------------------------------------------------------------

PAB_SETTINGS = (
    "block_public_acls",
    "ignore_public_acls",
    "block_public_policy",
    "restrict_public_buckets",
)


def _account_pab(inv: Inventory, bucket: Resource) -> dict[str, Any] | None:
    for pab in inv.of(PROVIDER, "S3AccountPublicAccessBlock", bucket.scope):
        return pab.attrs
    return None


def effective_pab(inv: Inventory, bucket: Resource) -> dict[str, bool | None]:
    """Each public-access-block setting in effect: on when either the bucket or the
    account sets it; None when neither level says on and one could not be read."""
    bucket_facts = facts_of(bucket, S3BucketFacts)
    unread = bucket_facts.get("unread") or {}
    own: Mapping[str, object] | None = bucket_facts.get("public_access_block")
    if own is None and "public_access_block" not in unread:
        own = dict.fromkeys(PAB_SETTINGS, False)  # none set
    account = _account_pab(inv, bucket)
    effective: dict[str, bool | None] = {}
    for setting in PAB_SETTINGS:
        levels = [
            None if own is None else bool(own.get(setting)),
            None if account is None else bool(account.get(setting)),
        ]
        effective[setting] = True if True in levels else (None if None in levels else False)
    return effective


@check(
    id="aws-s3-bucket-public",
    title="S3 bucket is public",
    view=View.ENDPOINTS,
    severity=Severity.CRITICAL,
    provider=PROVIDER,
    requires=("S3Bucket", "S3AccountPublicAccessBlock"),
    remediation=(
        "Turn on Block Public Access for the bucket (`aws s3api put-public-access-block "
        "--bucket NAME --public-access-block-configuration BlockPublicAcls=true,"
        "IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true`) or for "
        "the whole account (`aws s3control put-public-access-block --account-id ID ...`), "
        'remove AllUsers/AuthenticatedUsers grants and Principal "*" statements, and '
        "serve public content through CloudFront with origin access control."
    ),
    frameworks={
        "AWS FSBP": ["S3.2", "S3.3"],
        "ISO 27001:2022": ["A.8.3", "A.8.12"],
        "SOC 2": ["CC6.1", "CC6.6"],
    },
    references=(
        "https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html",
        "https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-policy-language-overview.html",
    ),
    controls=("aws-network-exposure",),
)
def s3_bucket_public(inv: Inventory):
    """A bucket is public when its policy is public (``GetBucketPolicyStatus``) and
    RestrictPublicBuckets is not in effect, or its ACL grants AllUsers or
    AuthenticatedUsers and IgnorePublicAcls is not in effect (bucket or account level).
    Unknown when a setting needed to decide could not be read."""
    for bucket in sorted(inv.of(PROVIDER, "S3Bucket"), key=lambda r: r.uid):
        pab = effective_pab(inv, bucket)
        name = f'bucket "{bucket.name}"'
        reasons: list[str] = []
        unknown: list[str] = []
        bucket_facts = facts_of(bucket, S3BucketFacts)
        public_policy = bucket_facts.get("policy_is_public")
        grants = bucket_facts.get("acl_public_grants")
        acl_text = ", ".join(f"{g.get('permission')} to {g.get('grantee')}" for g in grants or [])
        for exposed, blocker, text, what in (
            (public_policy, "restrict_public_buckets", "its bucket policy is public", "policy"),
            (
                grants if grants is None else bool(grants),
                "ignore_public_acls",
                f"its ACL grants {acl_text}",
                "ACL",
            ),
        ):
            blocked = pab[blocker]
            if blocked is True or exposed is False:
                continue
            if exposed is None:
                unknown.append(f"its {what} status could not be read")
            elif blocked is None:
                unknown.append(f"{text}, and whether {blocker} applies could not be read")
            else:
                reasons.append(text)
        if reasons:
            yield Result(
                bucket,
                Status.FAIL,
                f"{name} is public: {'; '.join(reasons)}",
                {
                    "policy_is_public": bool(public_policy),
                    "acl_public_grants": grants or [],
                    "effective_public_access_block": pab,
                },
            )
        elif unknown:
            yield Result(bucket, Status.UNKNOWN, f"{name}: {'; '.join(unknown)}")
        else:
            yield Result(bucket, Status.PASS, f"{name} is not public")


@check(
    id="aws-s3-public-access-block",
    title="S3 bucket without a full public access block",
    view=View.ENDPOINTS,
    severity=Severity.MEDIUM,
    provider=PROVIDER,
    requires=("S3Bucket", "S3AccountPublicAccessBlock"),
    remediation=(
        "Turn on all four Block Public Access settings at the account level (S3 console > "
        "Block Public Access settings for this account, or `aws s3control "
        "put-public-access-block --account-id ID --public-access-block-configuration "
        "BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,"
        "RestrictPublicBuckets=true`); where a bucket really must be public, set them on "
        "every other bucket instead (`aws s3api put-public-access-block --bucket NAME ...`)."
    ),
    frameworks={
        "CIS AWS": ["2.1.4"],
        "AWS FSBP": ["S3.1", "S3.8"],
        "ISO 27001:2022": ["A.8.3", "A.8.12"],
        "SOC 2": ["CC6.1"],
    },
    references=(
        "https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html",
        "https://docs.aws.amazon.com/securityhub/latest/userguide/s3-controls.html#s3-8",
    ),
    controls=("aws-network-exposure",),
)
def s3_public_access_block(inv: Inventory):
    """All four settings must be in effect for each bucket; a setting is in effect when
    the bucket or the account sets it."""
    for bucket in sorted(inv.of(PROVIDER, "S3Bucket"), key=lambda r: r.uid):
        pab = effective_pab(inv, bucket)
        name = f'bucket "{bucket.name}"'
        off = [setting for setting, value in pab.items() if value is False]
        unread = [setting for setting, value in pab.items() if value is None]
        if off:
            yield Result(
                bucket,
                Status.FAIL,
                f"{name}: {', '.join(off)} not set at bucket or account level",
                {"missing": off, "effective": pab},
            )
        elif unread:
            yield Result(
                bucket,
                Status.UNKNOWN,
                f"{name}: {', '.join(unread)} could not be read at one level and is not set "
                "at the other",
            )
        else:
            yield Result(bucket, Status.PASS, f"{name}: public access fully blocked")


# -- databases and clusters ----------------------------------------------------------------


@check(
    id="aws-rds-public",
    title="RDS database publicly accessible",
    view=View.ENDPOINTS,
    severity=Severity.HIGH,
    provider=PROVIDER,
    requires=("RDSInstance", "RDSCluster"),
    remediation=(
        "Turn public accessibility off: `aws rds modify-db-instance --db-instance-identifier "
        "ID --no-publicly-accessible --apply-immediately` (RDS console > Modify > "
        "Connectivity > Not publicly accessible), keep the database in private subnets, "
        "and let only application security groups reach its port."
    ),
    frameworks={
        "CIS AWS": ["2.3.3"],
        "AWS FSBP": ["RDS.2"],
        "ISO 27001:2022": ["A.8.20", "A.8.3"],
        "SOC 2": ["CC6.6"],
    },
    references=(
        "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_VPC.WorkingWithRDSInstanceinaVPC.html#USER_VPC.Hiding",
        "https://docs.aws.amazon.com/securityhub/latest/userguide/rds-controls.html#rds-2",
    ),
    controls=("aws-network-exposure",),
)
def rds_public(inv: Inventory):
    """DB instances with PubliclyAccessible, and DB clusters where the flag is set at
    cluster level (Multi-AZ DB clusters); Aurora clusters carry it per instance, so their
    instances are judged instead."""
    for db in sorted(inv.of(PROVIDER, "RDSInstance"), key=lambda r: r.uid):
        db_facts = facts_of(db, RDSInstanceFacts)
        name = f'DB instance "{db.name}" ({db_facts.get("engine")})'
        if db_facts.get("publicly_accessible"):
            endpoint: RDSEndpoint | dict[str, Any] = db_facts.get("endpoint") or {}
            address = endpoint.get("address")
            where = f" at {address}:{endpoint.get('port')}" if address else ""
            yield Result(
                db,
                Status.FAIL,
                f"{name} is publicly accessible{where}",
                {"publicly_accessible": True, "endpoint": address},
            )
        else:
            yield Result(db, Status.PASS, f"{name} is not publicly accessible")
    for cluster in sorted(inv.of(PROVIDER, "RDSCluster"), key=lambda r: r.uid):
        cluster_facts = facts_of(cluster, RDSClusterFacts)
        public = cluster_facts.get("publicly_accessible")
        if public is None:
            continue  # set per member instance (Aurora): judged above
        name = f'DB cluster "{cluster.name}" ({cluster_facts.get("engine")})'
        if public:
            yield Result(
                cluster,
                Status.FAIL,
                f"{name} is publicly accessible at {cluster_facts.get('endpoint')}",
                {"publicly_accessible": True, "endpoint": cluster_facts.get("endpoint")},
            )
        else:
            yield Result(cluster, Status.PASS, f"{name} is not publicly accessible")


@check(
    id="aws-eks-public-endpoint",
    title="EKS API endpoint open to the internet",
    view=View.ENDPOINTS,
    severity=Severity.HIGH,
    provider=PROVIDER,
    requires=("EKSCluster",),
    remediation=(
        "Make the endpoint private (`aws eks update-cluster-config --name CLUSTER "
        "--resources-vpc-config endpointPublicAccess=false,endpointPrivateAccess=true`) "
        "and reach it through a VPN or bastion, or at least restrict it to your egress "
        "addresses: `--resources-vpc-config publicAccessCidrs=203.0.113.0/24`."
    ),
    frameworks={
        "AWS FSBP": ["EKS.1"],
        "ISO 27001:2022": ["A.8.20", "A.8.22"],
        "SOC 2": ["CC6.6"],
    },
    references=(
        "https://docs.aws.amazon.com/eks/latest/userguide/cluster-endpoint.html",
        "https://docs.aws.amazon.com/securityhub/latest/userguide/eks-controls.html#eks-1",
    ),
    controls=("aws-network-exposure", "no-exposed-admin-interfaces"),
)
def eks_public_endpoint(inv: Inventory):
    """Clusters whose public API endpoint admits 0.0.0.0/0 (what AWS reports when no
    CIDR restriction is set). A public endpoint limited to listed CIDRs passes and names
    them; a private-only endpoint passes."""
    for cluster in sorted(inv.of(PROVIDER, "EKSCluster"), key=lambda r: r.uid):
        cluster_facts = facts_of(cluster, EKSClusterFacts)
        name = f'EKS cluster "{cluster.name}"'
        if not cluster_facts.get("endpoint_public_access"):
            yield Result(cluster, Status.PASS, f"{name}: API endpoint is private")
            continue
        cidrs = sorted(cluster_facts.get("public_access_cidrs") or [])
        world = [c for c in cidrs if c in (WORLD_V4, WORLD_V6)]
        if world:
            yield Result(
                cluster,
                Status.FAIL,
                f"{name}: API endpoint {cluster_facts.get('endpoint')} is public and open to "
                f"{' and '.join(world)}",
                {"endpoint_public_access": True, "public_access_cidrs": cidrs},
            )
        else:
            yield Result(
                cluster,
                Status.PASS,
                f"{name}: API endpoint is public but limited to {listing(cidrs)}",
            )
