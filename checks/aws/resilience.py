"""AWS edge resilience: rate limiting in front of public endpoints (AWS WAF rate-based
rules, API Gateway throttling and usage plans) and where TLS terminates at load
balancers (bridged to cleartext targets, re-encrypted, or tunnelled through).

Reads the attrs documented in the AWS collector's ``elb``, ``waf`` and ``apigateway``
modules.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from postureapp.checks.registry import Result, check
from postureapp.domain.aws.scopes import PROVIDER
from postureapp.domain.text import listing, plural
from postureapp.facts import facts_of
from postureapp.facts.aws import (
    ApiGatewayHttpApiFacts,
    ApiGatewayRestApiFacts,
    ApiGatewayUsagePlanFacts,
    LoadBalancerFacts,
    WAFWebACLFacts,
)
from postureapp.inventory import Inventory
from postureapp.model import Resource, Severity, Status, View

RATE_FRAMEWORKS = {"ISO 27001:2022": ["A.8.6", "A.8.20"], "SOC 2": ["CC6.6", "A1.1"]}
TLS_FRAMEWORKS = {"ISO 27001:2022": ["A.8.20", "A.8.21", "A.8.24"], "SOC 2": ["CC6.7"]}

_WAF_RATE = (
    "https://docs.aws.amazon.com/waf/latest/developerguide/waf-rule-statement-type-rate-based.html"
)
_APIGW_THROTTLE = "https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-request-throttling.html"

# -- rate limiting -------------------------------------------------------------------------


def _acl_verdict(inv: Inventory, arn: str | None) -> tuple[Status | None, str, dict[str, Any]]:
    """(PASS, why) when the web ACL ``arn`` has a limiting rate-based rule, (FAIL, why)
    when it has none, (UNKNOWN, why) when it or its rules were not read, (None, ...)
    when there is no ACL at all."""
    if not arn:
        return None, "no AWS WAF web ACL", {"web_acl": None}
    acl = inv.get(arn)
    if acl is None or facts_of(acl, WAFWebACLFacts).get("rules") is None:
        return Status.UNKNOWN, f"web ACL {arn} could not be read", {"web_acl": arn}
    acl_facts = facts_of(acl, WAFWebACLFacts)
    rules = list(acl_facts.get("rate_based_rules") or [])
    evidence: dict[str, Any] = {"web_acl": acl.name, "rate_based_rules": rules}
    if rules:
        limits: list[Any] = [
            r.get("rate_limit")
            for r in acl_facts.get("rules") or []
            if r.get("name") in rules and r.get("rate_limit")
        ]
        if limits:
            evidence["rate_limit"] = min(limits)
        return Status.PASS, f'web ACL "{acl.name}" rate-limits ({listing(rules)})', evidence
    return (
        Status.FAIL,
        f'web ACL "{acl.name}" has no blocking rate-based rule',
        evidence,
    )


@check(
    id="aws-alb-rate-limit",
    title="Public application load balancer without a WAF rate-based rule",
    view=View.ENDPOINTS,
    severity=Severity.MEDIUM,
    provider=PROVIDER,
    requires=("LoadBalancer", "WAFWebACL"),
    remediation=(
        "Associate an AWS WAF web ACL with a rate-based rule (action Block or Challenge) "
        "with the load balancer: `aws wafv2 update-web-acl` adding a rule with "
        "`RateBasedStatement={Limit=2000,AggregateKeyType=IP}`, then `aws wafv2 "
        "associate-web-acl --web-acl-arn ACL --resource-arn LB`. A rule in Count mode only "
        "observes; it does not slow a brute-force or flood."
    ),
    frameworks={"AWS FSBP": ["ELB.16"], **RATE_FRAMEWORKS},
    references=(_WAF_RATE,),
    controls=("rate-limiting",),
)
def alb_rate_limit(inv: Inventory) -> Iterator[Result]:
    """Internet-facing application load balancers: the WAF web ACL associated with each
    must have a blocking (or challenging) rate-based rule. Internal ones pass; network
    and gateway load balancers cannot carry a web ACL and are not judged."""
    for lb in sorted(inv.of(PROVIDER, "LoadBalancer"), key=lambda r: r.uid):
        lb_facts = facts_of(lb, LoadBalancerFacts)
        if lb_facts.get("type") != "application":
            continue
        name = f'application load balancer "{lb.name}"'
        if not lb_facts.get("internet_facing"):
            yield Result(lb, Status.PASS, f"{name} is internal")
            continue
        if lb_facts.get("web_acl_read") is False:
            yield Result(
                lb,
                Status.UNKNOWN,
                f"{name} is internet-facing; its WAF web ACL was not asked for (wafv2 was "
                "not among --services)",
            )
            continue
        status, why, evidence = _acl_verdict(inv, lb_facts.get("web_acl_arn"))
        yield Result(lb, status or Status.FAIL, f"{name} is internet-facing: {why}", evidence)


def _rate(throttling: Mapping[str, Any] | None) -> float | None:
    """A rate limit someone set: API Gateway writes -1 for "throttling disabled" (and
    Terraform's method settings default to it), so only a positive number limits."""
    rate = (throttling or {}).get("rate_limit")
    if isinstance(rate, int | float) and not isinstance(rate, bool) and rate > 0:
        return float(rate)
    return None


# Keyed by what the usage plan says: (api_id, stage), either possibly absent.
StageKey = tuple[str | None, str | None]


def _plans_by_stage(inv: Inventory, scope: str) -> dict[StageKey, list[Resource]]:
    plans: dict[StageKey, list[Resource]] = {}
    for plan in inv.of(PROVIDER, "ApiGatewayUsagePlan", scope):
        for item in facts_of(plan, ApiGatewayUsagePlanFacts).get("api_stages") or []:
            plans.setdefault((item.get("api_id"), item.get("stage")), []).append(plan)
    return plans


def _rest_stage(
    inv: Inventory, api: Resource, stage: Mapping[str, Any], plans: list[Resource]
) -> tuple[bool | None, str]:
    """(limited, how) for one REST API stage; limited is None when its web ACL, the one
    thing that might still limit it, could not be read."""
    rate = _rate(stage.get("throttling"))
    if rate is not None:
        return True, f"stage throttling {rate:g} req/s"
    status, why, _ = _acl_verdict(inv, stage.get("web_acl_arn"))
    if status is Status.PASS:
        return True, why
    unread_acl = status is Status.UNKNOWN
    api_facts = facts_of(api, ApiGatewayRestApiFacts)
    throttled = [
        p for p in plans if _rate(facts_of(p, ApiGatewayUsagePlanFacts).get("throttle")) is not None
    ]
    if throttled and api_facts.get("methods") is None:
        # Whether every method needs a key decides it, and the methods were not read.
        return None, f'usage plan "{throttled[0].name}" applies, but the methods could not be read'
    if throttled:
        # A usage plan throttles callers by API key: methods that need no key bypass it.
        keyless = [
            f"{m.get('http_method')} {m.get('path')}"
            for m in api_facts.get("methods") or []
            if not m.get("api_key_required") and m.get("http_method") != "OPTIONS"
        ]
        if not keyless:
            return True, f'usage plan "{throttled[0].name}" (every method needs an API key)'
        if unread_acl:
            return None, why
        return False, (
            f'usage plan "{throttled[0].name}" throttles API-key callers only; '
            f"{plural(len(keyless), 'method')} need no key"
        )
    if unread_acl:
        return None, why
    return False, "no stage throttling, throttled usage plan or WAF rate-based rule"


@check(
    id="aws-apigw-rest-rate-limit",
    title="API Gateway REST stage without throttling or rate limiting",
    view=View.ENDPOINTS,
    severity=Severity.MEDIUM,
    provider=PROVIDER,
    requires=("ApiGatewayRestApi", "ApiGatewayUsagePlan", "WAFWebACL"),
    remediation=(
        "Set stage-wide throttling: `aws apigateway update-stage --rest-api-id ID "
        "--stage-name STAGE --patch-operations op=replace,path=/*/*/throttling/rateLimit,"
        "value=100 op=replace,path=/*/*/throttling/burstLimit,value=200`, or associate a "
        "WAF web ACL with a rate-based rule. A usage plan's throttle only applies to "
        "methods that require an API key."
    ),
    frameworks=RATE_FRAMEWORKS,
    references=(_APIGW_THROTTLE, _WAF_RATE),
    controls=("rate-limiting",),
    no_benchmark="no CIS or FSBP control for throttling",
)
def apigw_rest_rate_limit(inv: Inventory) -> Iterator[Result]:
    """Every deployed stage of a non-PRIVATE REST API needs its own limit: stage-wide
    ``*/*`` throttling, a WAF rate-based rule, or a throttled usage plan when every
    method needs an API key. The account-level default (10,000 req/s shared by every
    API in the region) is not a limit anyone chose, so it does not count."""
    for api in sorted(inv.of(PROVIDER, "ApiGatewayRestApi"), key=lambda r: r.uid):
        api_facts = facts_of(api, ApiGatewayRestApiFacts)
        name = f'REST API "{api.name}" ({api_facts.get("api_id")})'
        if "PRIVATE" in (api_facts.get("endpoint_types") or []):
            yield Result(api, Status.PASS, f"{name} is PRIVATE (reachable from VPC endpoints only)")
            continue
        stages = api_facts.get("stages")
        if stages is None:
            yield Result(api, Status.UNKNOWN, f"{name}: its stages could not be read")
            continue
        if not stages:
            yield Result(api, Status.PASS, f"{name} has no deployed stage")
            continue
        plans = _plans_by_stage(inv, api.scope)
        # Keyed by each stage's "name" as read (the stage shapes are untyped below).
        limited: dict[Any, Any] = {}
        open_stages: dict[Any, Any] = {}
        unread: dict[Any, Any] = {}
        api_id = api_facts.get("api_id")
        for stage in stages:
            ok, how = _rest_stage(inv, api, stage, plans.get((api_id, str(stage.get("name"))), []))
            {True: limited, False: open_stages, None: unread}[ok][stage.get("name")] = how
        evidence = {"limited_stages": limited, "unlimited_stages": open_stages}
        if unread:
            evidence["unread_stages"] = unread
        if open_stages:
            names = listing(sorted(open_stages))
            first = next(iter(open_stages.values()))
            yield Result(
                api,
                Status.FAIL,
                f"{name}: {plural(len(open_stages), 'stage')} without a rate limit ({names}): "
                f"{first}",
                evidence,
            )
        elif unread:
            yield Result(
                api,
                Status.UNKNOWN,
                f"{name}: the web ACL of {listing(sorted(unread))} could not be read",
                evidence,
            )
        else:
            yield Result(api, Status.PASS, f"{name}: every stage is rate-limited", evidence)


@check(
    id="aws-apigw-http-rate-limit",
    title="API Gateway HTTP API stage without throttling",
    view=View.ENDPOINTS,
    severity=Severity.MEDIUM,
    provider=PROVIDER,
    requires=("ApiGatewayHttpApi",),
    remediation=(
        "Set default route throttling on each stage: `aws apigatewayv2 update-stage "
        "--api-id ID --stage-name '$default' --default-route-settings "
        "ThrottlingRateLimit=100,ThrottlingBurstLimit=200`. HTTP APIs cannot carry a WAF "
        "web ACL, so stage throttling is their only rate limit."
    ),
    frameworks=RATE_FRAMEWORKS,
    references=(
        "https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-throttling.html",
    ),
    controls=("rate-limiting",),
    no_benchmark="no CIS or FSBP control for throttling",
)
def apigw_http_rate_limit(inv: Inventory) -> Iterator[Result]:
    """Every stage of an HTTP or WebSocket API needs default-route throttling; a stage
    where only some routes are throttled fails and names them."""
    for api in sorted(inv.of(PROVIDER, "ApiGatewayHttpApi"), key=lambda r: r.uid):
        api_facts = facts_of(api, ApiGatewayHttpApiFacts)
        name = f'{api_facts.get("protocol_type") or "HTTP"} API "{api.name}"'
        stages = api_facts.get("stages")
        if stages is None:
            yield Result(api, Status.UNKNOWN, f"{name}: its stages could not be read")
            continue
        if not stages:
            yield Result(api, Status.PASS, f"{name} has no stage")
            continue
        unlimited: list[Any] = [s.get("name") for s in stages if _rate(s.get("throttling")) is None]
        evidence = {
            "unlimited_stages": unlimited,
            "partly_throttled": {
                s.get("name"): s.get("throttled_routes")
                for s in stages
                if s.get("name") in unlimited and s.get("throttled_routes")
            },
        }
        if unlimited:
            yield Result(
                api,
                Status.FAIL,
                f"{name}: no default route throttling on {listing(unlimited)}",
                evidence,
            )
        else:
            yield Result(api, Status.PASS, f"{name}: every stage is throttled", evidence)


# -- TLS at load balancers -------------------------------------------------------------------

# Worst first: the value a load balancer's evidence shows for all its listeners.
TLS_ORDER = (
    "edge-bridged-cleartext",
    "none",
    "edge-backend-unknown",
    "edge-reencrypted",
    "passthrough",
    "edge-terminated",
)
_CLEAR_TARGETS = frozenset({"HTTP", "TCP", "UDP", "TCP_UDP"})
_TLS_TARGETS = frozenset({"HTTPS", "TLS"})


def listener_termination(listener: Mapping[str, Any]) -> str:
    """Where TLS ends for one listener: ``none`` (plain HTTP), ``passthrough`` (a layer-4
    listener tunnels the client's bytes, TLS included, to the targets),
    ``edge-bridged-cleartext`` (TLS ends at the load balancer, then plain HTTP/TCP to
    targets), ``edge-reencrypted`` (TLS again to the targets), ``edge-terminated`` (TLS
    ends and nothing is forwarded: redirects, fixed responses) or
    ``edge-backend-unknown`` (a target group's protocol was not read)."""
    protocol = listener.get("protocol")
    if protocol == "HTTP":
        return "none"
    if protocol not in _TLS_TARGETS:
        return "passthrough"
    targets = [t.get("protocol") for t in listener.get("target_groups") or []]
    if not targets:
        return "edge-terminated"
    if any(t in _CLEAR_TARGETS for t in targets):
        return "edge-bridged-cleartext"
    if all(t in _TLS_TARGETS for t in targets):
        return "edge-reencrypted"
    return "edge-backend-unknown"


@check(
    id="aws-elb-tls-termination",
    title="Cleartext hop behind a public TLS listener",
    view=View.ENDPOINTS,
    severity=Severity.MEDIUM,
    provider=PROVIDER,
    requires=("LoadBalancer",),
    remediation=(
        "Re-encrypt to the targets: create an HTTPS (ALB) or TLS (NLB) target group on the "
        "service's TLS port (`aws elbv2 create-target-group --protocol HTTPS --port 8443 "
        "...`) and point the listener at it, or use a TCP listener so TLS passes through "
        "to the service (tunnelling). Otherwise anything on the path inside the VPC reads "
        "the traffic the client believed encrypted."
    ),
    frameworks=TLS_FRAMEWORKS,
    references=(
        "https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-target-groups.html#target-group-routing-configuration",
    ),
    controls=("tls-at-proxies",),
    no_benchmark="no CIS or FSBP control for re-encryption to targets",
)
def elb_tls_termination(inv: Inventory) -> Iterator[Result]:
    """Every load balancer with listeners gets a result whose evidence says where TLS
    terminates (``tls_termination``, the worst of its listeners, and per listener); a
    public one with a TLS listener forwarding to HTTP/TCP targets fails. Only default
    actions are followed (listener rules are not read)."""
    for lb in sorted(inv.of(PROVIDER, "LoadBalancer"), key=lambda r: r.uid):
        lb_facts = facts_of(lb, LoadBalancerFacts)
        listeners = lb_facts.get("listeners")
        name = f'{lb_facts.get("type") or ""} load balancer "{lb.name}"'.strip()
        if listeners is None:
            yield Result(lb, Status.UNKNOWN, f"{name}: its listeners could not be read")
            continue
        if not listeners:
            continue
        rows: list[dict[str, Any]] = [
            {
                "port": item.get("port"),
                "protocol": item.get("protocol"),
                "tls_termination": listener_termination(item),
                "backend_protocols": sorted(
                    {str(t.get("protocol")) for t in item.get("target_groups") or []}
                ),
            }
            for item in listeners
        ]
        worst = min((r["tls_termination"] for r in rows), key=TLS_ORDER.index)
        evidence = {"tls_termination": worst, "listeners": rows}
        bridged = [r for r in rows if r["tls_termination"] == "edge-bridged-cleartext"]
        hops = ", ".join(
            f"{r['protocol']}:{r['port']} -> {'/'.join(r['backend_protocols'])}" for r in bridged
        )
        if bridged and lb_facts.get("internet_facing"):
            yield Result(
                lb,
                Status.FAIL,
                f"{name} is internet-facing; TLS ends at the load balancer and travels on "
                f"in cleartext ({hops})",
                evidence,
            )
        elif bridged:
            yield Result(
                lb,
                Status.PASS,
                f"{name} is internal; cleartext hop inside the VPC ({hops})",
                evidence,
            )
        elif worst == "edge-backend-unknown" and lb_facts.get("internet_facing"):
            yield Result(
                lb, Status.UNKNOWN, f"{name}: a target group's protocol was not read", evidence
            )
        else:
            summary = ", ".join(f"{r['protocol']}:{r['port']} {r['tls_termination']}" for r in rows)
            yield Result(lb, Status.PASS, f"{name}: {summary}", evidence)
