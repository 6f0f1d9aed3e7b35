"""AWS WAF (v2) regional web ACLs: their rules, which of them limit request rates, and the
load balancers and API Gateway stages each one protects.

Which resources an ACL protects is taken from the resources themselves: API Gateway
stages report their ``webAclArn`` (``postureapp.collectors.aws.apigateway``), and each application
load balancer is asked ``wafv2:GetWebACLForResource`` (``postureapp.collectors.aws.elb``). A
finaliser joins both into ``protects``. ``ListResourcesForWebACL`` would be one call per
ACL instead, but local emulators do not implement it, and the per-resource answer is
what a check needs anyway. When that lookup fails, ``WAFWebACL`` is marked unknown,
so "no ACL on this load balancer" is never concluded from a question not answered.

Kind and attrs (scope ``"{account}/{region}"``)
-----------------------------------------------

``WAFWebACL`` (uid: web ACL ARN)
    name, id, arn, description, default_action: "ALLOW"|"BLOCK"|null,
    rules: null when the ACL could not be read, else [
        {"name", "priority": int, "action": "ALLOW"|"BLOCK"|"COUNT"|"CAPTCHA"|
         "CHALLENGE"|null (null for rule groups, which use override_action),
         "statement": the top-level statement type ("RateBasedStatement",
         "ManagedRuleGroupStatement", ...), "rate_limit": int|null (requests per
         evaluation window of a rate-based rule), "rate_window_seconds": int|null,
         "rate_aggregate_key": str|null}] (sorted by priority),
    rate_based_rules: [rule name] of blocking (or challenging) rate-based rules,
    protects: [resource ARN] (sorted; load balancers and REST API stages seen this poll)
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from functools import partial
from typing import Any

from postureapp.collectors.aws._common import scope
from postureapp.collectors.aws._context import Context, Unit
from postureapp.model import Resource

KINDS = ("WAFWebACL",)
KIND = "WAFWebACL"
# A rate-based rule in COUNT mode only observes; these actions actually limit.
LIMITING_ACTIONS = frozenset({"BLOCK", "CAPTCHA", "CHALLENGE"})


def units(ctx: Context, regions: list[str]) -> list[Unit]:
    ctx.finalise_with(_join_protected, KINDS)
    return [Unit(f"wafv2 {region}", KINDS, partial(_region, ctx, region)) for region in regions]


def _region(ctx: Context, region: str) -> list[Resource]:
    client = ctx.client("wafv2", region)
    found: list[Resource] = []
    with ctx.reading(KIND):
        summaries = []
        for page in ctx.pages(
            client, "list_web_acls", marker_in="NextMarker", Scope="REGIONAL", Limit=100
        ):
            summaries.extend(page.get("WebACLs", []))
        for summary in summaries:
            acl: Mapping[str, Any] | None = None
            with ctx.reading(KIND):
                answer = ctx.call(
                    client,
                    "get_web_acl",
                    Name=summary["Name"],
                    Scope="REGIONAL",
                    Id=summary["Id"],
                )
                acl = (answer or {}).get("WebACL") or {}
            found.append(web_acl(ctx.account, region, summary, acl))
    return found


def web_acl(
    account: str, region: str, summary: Mapping[str, Any], acl: Mapping[str, Any] | None
) -> Resource:
    """One web ACL as a resource; ``acl`` is ``GetWebACL``'s ``WebACL`` or None."""
    rules = None if acl is None else sorted(map(_rule, acl.get("Rules", [])), key=_priority)
    default = (acl or {}).get("DefaultAction") or {}
    attrs = {
        "name": summary.get("Name"),
        "id": summary.get("Id"),
        "arn": summary.get("ARN"),
        "description": summary.get("Description") or (acl or {}).get("Description") or "",
        "default_action": next((key.upper() for key in default), None),
        "rules": rules,
        "rate_based_rules": [
            r["name"]
            for r in rules or []
            if r["statement"] == "RateBasedStatement" and r["action"] in LIMITING_ACTIONS
        ],
        "protects": [],
    }
    return Resource(
        uid=summary["ARN"],
        provider="aws",
        scope=scope(account, region),
        kind=KIND,
        name=summary.get("Name") or summary["ARN"],
        attrs=attrs,
    )


def _priority(rule: Mapping[str, Any]) -> tuple[int, str]:
    return (rule["priority"] if isinstance(rule["priority"], int) else 0, rule["name"] or "")


def _rule(rule: Mapping[str, Any]) -> dict[str, Any]:
    statement = rule.get("Statement") or {}
    kind = next(iter(statement), None)
    rate = statement.get("RateBasedStatement") or {}
    action = rule.get("Action") or {}
    return {
        "name": rule.get("Name"),
        "priority": rule.get("Priority"),
        "action": next((key.upper() for key in action), None),
        "statement": kind,
        "rate_limit": rate.get("Limit") if rate else None,
        "rate_window_seconds": rate.get("EvaluationWindowSec") if rate else None,
        "rate_aggregate_key": rate.get("AggregateKeyType") if rate else None,
    }


def _join_protected(resources: list[Resource]) -> None:
    """Fill ``protects`` from what load balancers and REST API stages say about their ACL."""
    protected: dict[str, set[str]] = defaultdict(set)
    for resource in resources:
        if resource.kind == "LoadBalancer" and resource.attrs.get("web_acl_arn"):
            protected[resource.attrs["web_acl_arn"]].add(resource.uid)
        elif resource.kind == "ApiGatewayRestApi":
            for stage in resource.attrs.get("stages") or []:
                if stage.get("web_acl_arn"):
                    protected[stage["web_acl_arn"]].add(stage_arn(resource, stage["name"]))
    for resource in resources:
        if resource.kind == KIND:
            resource.attrs["protects"] = sorted(protected.get(resource.uid, ()))


def stage_arn(api: Resource, stage: str) -> str:
    """A REST API stage's ARN, as WAF names it: ``arn:...:apigateway:{region}::/restapis/
    {id}/stages/{stage}`` (the API's uid plus the stage)."""
    return f"{api.uid}/stages/{stage}"
