"""Elastic Load Balancing v2 (application, network and gateway load balancers).

Kind and attrs (scope ``"{account}/{region}"``)
-----------------------------------------------

``LoadBalancer`` (uid: load balancer ARN)
    name, arn, type: "application"|"network"|"gateway", scheme: "internet-facing"|
    "internal", internet_facing: bool, dns_name, vpc_id, state, ip_address_type,
    security_groups: [group id] (sorted), availability_zones: [zone] (sorted),
    created_time,
    listeners: null when they could not be read, else [
        {"arn", "port": int, "protocol": "HTTP"|"HTTPS"|"TCP"|"TLS"|"UDP"|...,
         "ssl_policy": str|null, "certificates": [certificate ARN],
         "default_actions": [action type],
         "target_groups": [{"arn", "protocol": "HTTP"|"HTTPS"|"TCP"|"TLS"|...|null,
                            "port": int|null}] (the default action's forward targets,
                            sorted by ARN; protocol null when the group was not listed)}]
        (sorted by port),
    protocols: [listener protocol] (sorted, deduplicated; [] when listeners is null),
    access_logs_enabled: bool|null, deletion_protection: bool|null,
    drop_invalid_header_fields: bool|null (null: attribute absent or not readable),
    web_acl_arn: str|null (the AWS WAF web ACL of an application load balancer, from
    ``wafv2:GetWebACLForResource``; null when none, or when that could not be asked, in
    which case ``WAFWebACL`` is marked unknown; always null for other types),
    web_acl_read: bool|null (false when ``wafv2`` was left out of ``--services``, so no
    ACL was asked for: "no ACL" is then not known; null for other types)

Only the listeners' default actions are followed to their target groups; listener rules
(``DescribeRules``) can forward elsewhere and are not read.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Any

from postureapp.collectors.aws._common import AwsCallError, iso, scope, to_bool
from postureapp.collectors.aws._context import Context, Unit
from postureapp.model import Resource

KINDS = ("LoadBalancer",)


def units(ctx: Context, regions: list[str]) -> list[Unit]:
    return [Unit(f"elbv2 {region}", KINDS, partial(_region, ctx, region)) for region in regions]


def _region(ctx: Context, region: str) -> list[Resource]:
    client = ctx.client("elbv2", region)
    found: list[Resource] = []
    with ctx.reading("LoadBalancer"):
        for page in ctx.pages(
            client, "describe_load_balancers", marker_in="Marker", marker_out="NextMarker"
        ):
            for balancer in page.get("LoadBalancers", []):
                found.append(_balancer(ctx, client, balancer, scope(ctx.account, region)))
    return found


def _balancer(ctx: Context, client: Any, lb: Mapping[str, Any], where: str) -> Resource:
    arn = lb["LoadBalancerArn"]
    groups = _target_groups(ctx, client, arn)
    listeners = None
    with ctx.reading("LoadBalancer"):
        collected = []
        for page in ctx.pages(
            client,
            "describe_listeners",
            marker_in="Marker",
            marker_out="NextMarker",
            LoadBalancerArn=arn,
        ):
            for listener in page.get("Listeners", []):
                collected.append(
                    {
                        "arn": listener.get("ListenerArn"),
                        "port": listener.get("Port"),
                        "protocol": listener.get("Protocol"),
                        "ssl_policy": listener.get("SslPolicy")
                        if listener.get("Protocol") in ("HTTPS", "TLS")
                        else None,
                        "certificates": sorted(
                            c["CertificateArn"]
                            for c in listener.get("Certificates", [])
                            if c.get("CertificateArn")
                        ),
                        "default_actions": [
                            a.get("Type") for a in listener.get("DefaultActions", [])
                        ],
                        "target_groups": _forwards(listener.get("DefaultActions", []), groups),
                    }
                )
        listeners = sorted(collected, key=lambda item: (item["port"] or 0, item["arn"] or ""))
    attributes: dict[str, str] = {}
    with ctx.reading("LoadBalancer"):
        answer = ctx.call(client, "describe_load_balancer_attributes", LoadBalancerArn=arn) or {}
        attributes = {a["Key"]: a.get("Value", "") for a in answer.get("Attributes", [])}
    scheme = lb.get("Scheme")
    application = lb.get("Type") == "application"
    waf_selected = ctx.options.services is None or "wafv2" in ctx.options.services
    web_acl_arn = (
        _web_acl(ctx, arn, where.split("/", 1)[-1]) if application and waf_selected else None
    )
    attrs = {
        "name": lb.get("LoadBalancerName"),
        "arn": arn,
        "type": lb.get("Type"),
        "scheme": scheme,
        "internet_facing": scheme == "internet-facing",
        "dns_name": lb.get("DNSName"),
        "vpc_id": lb.get("VpcId"),
        "state": (lb.get("State") or {}).get("Code"),
        "ip_address_type": lb.get("IpAddressType"),
        "security_groups": sorted(lb.get("SecurityGroups", [])),
        "availability_zones": sorted(
            z.get("ZoneName", "") for z in lb.get("AvailabilityZones", [])
        ),
        "created_time": iso(lb.get("CreatedTime")),
        "listeners": listeners,
        "protocols": sorted({item["protocol"] for item in listeners or [] if item["protocol"]}),
        "access_logs_enabled": to_bool(attributes.get("access_logs.s3.enabled")),
        "deletion_protection": to_bool(attributes.get("deletion_protection.enabled")),
        "drop_invalid_header_fields": to_bool(
            attributes.get("routing.http.drop_invalid_header_fields.enabled")
        ),
        "web_acl_arn": web_acl_arn,
        "web_acl_read": (application and waf_selected) if application else None,
    }
    return Resource(
        uid=arn,
        provider="aws",
        scope=where,
        kind="LoadBalancer",
        name=lb.get("LoadBalancerName") or arn,
        attrs=attrs,
        created_at=attrs["created_time"],
    )


def _target_groups(ctx: Context, client: Any, arn: str) -> dict[str, dict[str, Any]]:
    """Target group ARN -> protocol and port, for the listeners' forward actions; {} when
    they could not be read (the listeners then name groups without a protocol)."""
    groups: dict[str, dict[str, Any]] = {}
    with ctx.reading("LoadBalancer"):
        try:
            for page in ctx.pages(
                client,
                "describe_target_groups",
                marker_in="Marker",
                marker_out="NextMarker",
                LoadBalancerArn=arn,
            ):
                for group in page.get("TargetGroups", []):
                    groups[group["TargetGroupArn"]] = {
                        "protocol": group.get("Protocol"),
                        "port": group.get("Port"),
                    }
        except AwsCallError as exc:
            # Some endpoints answer "not found" for a load balancer without target groups.
            if exc.code != "TargetGroupNotFound":
                raise
    return groups


def _forwards(
    actions: list[Mapping[str, Any]], groups: Mapping[str, Mapping[str, Any]]
) -> list[dict[str, Any]]:
    arns: set[str] = set()
    for action in actions:
        if action.get("Type") != "forward":
            continue
        if action.get("TargetGroupArn"):
            arns.add(action["TargetGroupArn"])
        for weighted in (action.get("ForwardConfig") or {}).get("TargetGroups", []):
            if weighted.get("TargetGroupArn"):
                arns.add(weighted["TargetGroupArn"])
    return [
        {
            "arn": arn,
            "protocol": (groups.get(arn) or {}).get("protocol"),
            "port": (groups.get(arn) or {}).get("port"),
        }
        for arn in sorted(arns)
    ]


def _web_acl(ctx: Context, arn: str, region: str) -> str | None:
    """The WAF web ACL protecting an application load balancer; a failed lookup marks
    ``WAFWebACL`` unknown (see ``postureapp.collectors.aws.waf``), not the load balancer."""
    with ctx.reading("WAFWebACL"):
        answer = ctx.call(
            ctx.client("wafv2", region),
            "get_web_acl_for_resource",
            ResourceArn=arn,
            absent=("WAFNonexistentItemException",),
        )
        return ((answer or {}).get("WebACL") or {}).get("ARN")
    return None
