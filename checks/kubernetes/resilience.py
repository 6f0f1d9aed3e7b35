"""Resilience of what the cluster exposes: rate limits at public entry points (ingress-nginx
annotations, Istio local rate limiting), where TLS terminates at the proxies (bridged to
cleartext, re-encrypted, passed through), and circuit breakers plus disruption budgets
for exposed Services (cascading failure).

Reads only attrs documented in :mod:`postureapp.collectors.kubernetes.normalise`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from postureapp.checks.registry import Result, check
from postureapp.domain.kubernetes.exposure import (
    Traffic,
    backend_services,
    exposed_services,
    ingress_internal,
    service_internal,
)
from postureapp.domain.kubernetes.objects import PROVIDER, qualified
from postureapp.facts import facts_of
from postureapp.facts.kubernetes import (
    DestinationRuleFacts,
    GatewayFacts,
    IngressFacts,
    ObjectFacts,
    ServiceFacts,
)
from postureapp.inventory import Inventory
from postureapp.model import Resource, Severity, Status, View

_NGINX = "nginx.ingress.kubernetes.io/"
# Request and connection limits; limit-rate (bandwidth per connection) is not one.
RATE_LIMIT_ANNOTATIONS = (f"{_NGINX}limit-rps", f"{_NGINX}limit-rpm", f"{_NGINX}limit-connections")
_ISTIO_RATE = "https://istio.io/latest/docs/tasks/policy-enforcement/rate-limit/"
_NGINX_RATE = "https://kubernetes.github.io/ingress-nginx/user-guide/nginx-configuration/annotations/#rate-limiting"


def _positive(value: Any) -> bool:
    try:
        return int(str(value).strip()) > 0
    except ValueError:
        return False


def _annotation_limits(resource: Resource) -> dict[str, str]:
    annotations = facts_of(resource, ObjectFacts).get("annotations") or {}
    return {
        key.removeprefix(_NGINX): str(annotations[key])
        for key in RATE_LIMIT_ANNOTATIONS
        if key in annotations and _positive(annotations[key])
    }


def _filter_names(filters: list[Resource]) -> list[str]:
    return [qualified(f) for f in filters]


@check(
    id="k8s-public-rate-limit",
    title="Public endpoint without a rate limit",
    view=View.ENDPOINTS,
    severity=Severity.MEDIUM,
    provider=PROVIDER,
    requires=("Ingress", "Service", "Pod", "EnvoyFilter"),
    remediation="""
Limit requests where they enter: on ingress-nginx, annotate the Ingress
(`nginx.ingress.kubernetes.io/limit-rps: "20"`, `limit-connections: "10"`); with Istio, add
an EnvoyFilter inserting `envoy.filters.http.local_ratelimit` for the ingress gateway or
the service's pods (workloadSelector). Brute force and floods then hit a limit, not the
service.""",
    frameworks={"ISO 27001:2022": ["A.8.6", "A.8.20"], "SOC 2": ["CC6.6", "A1.1"]},
    references=(_NGINX_RATE, _ISTIO_RATE),
    controls=("rate-limiting",),
    no_benchmark="no CIS recommendation on rate limits",
)
def public_rate_limit(inv: Inventory) -> Iterator[Result]:
    """Public Ingresses pass with a positive ingress-nginx ``limit-rps``, ``limit-rpm`` or
    ``limit-connections`` annotation, or when an Istio rate-limit EnvoyFilter applies to
    every backend's pods; public LoadBalancer Services pass when such a filter applies
    to their pods (the Istio ingress gateway, typically). Internal ones pass."""
    traffic = Traffic(inv)
    for ingress in sorted(inv.of(PROVIDER, "Ingress"), key=lambda r: r.uid):
        name = f"Ingress {qualified(ingress)}"
        internal = ingress_internal(ingress)
        if internal:
            yield Result(ingress, Status.PASS, f"{name} is internal ({internal})")
            continue
        limits = _annotation_limits(ingress)
        if limits:
            shown = ", ".join(f"{k}={v}" for k, v in limits.items())
            yield Result(
                ingress, Status.PASS, f"{name} is rate-limited ({shown})", {"annotations": limits}
            )
            continue
        backends = backend_services(inv, ingress)
        covered = {s.name: traffic.rate_limit_filters(s) for s in backends}
        if backends and all(covered.values()):
            filters = sorted({n for fs in covered.values() for n in _filter_names(fs)})
            yield Result(
                ingress,
                Status.PASS,
                f"{name}: its backends' proxies rate-limit ({', '.join(filters)})",
                {"envoy_filters": filters},
            )
            continue
        yield Result(
            ingress,
            Status.FAIL,
            f"{name} is public and no rate limit applies to it",
            {
                "annotations": {},
                "unlimited_backends": sorted(n for n, f in covered.items() if not f),
            },
        )
    for service in sorted(inv.of(PROVIDER, "Service"), key=lambda r: r.uid):
        if facts_of(service, ServiceFacts).get("type") != "LoadBalancer":
            continue
        name = f"LoadBalancer Service {qualified(service)}"
        internal = service_internal(service)
        if internal:
            yield Result(service, Status.PASS, f"{name} is internal ({internal})")
            continue
        filters = _filter_names(traffic.rate_limit_filters(service))
        if filters:
            yield Result(
                service,
                Status.PASS,
                f"{name}: its pods' proxies rate-limit ({', '.join(filters)})",
                {"envoy_filters": filters},
            )
        else:
            yield Result(
                service,
                Status.FAIL,
                f"{name} is public and no rate-limit EnvoyFilter applies to its pods",
                {"envoy_filters": []},
            )


# -- TLS at the proxies ------------------------------------------------------------------

_SSL_CERT = "service.beta.kubernetes.io/aws-load-balancer-ssl-cert"
_BACKEND_PROTOCOL = "service.beta.kubernetes.io/aws-load-balancer-backend-protocol"
_REENCRYPT = {
    f"{_NGINX}backend-protocol": ("https", "grpcs"),
    "alb.ingress.kubernetes.io/backend-protocol": ("https",),
}


def ingress_termination(ingress: Resource) -> tuple[str, str]:
    """(tls_termination, why) for an Ingress: ``passthrough`` with ingress-nginx
    ssl-passthrough, ``none`` without TLS, ``edge-reencrypted`` with an HTTPS backend
    protocol annotation, else ``edge-bridged-cleartext``."""
    annotations = {
        k: str(v).strip().lower()
        for k, v in (facts_of(ingress, IngressFacts).get("annotations") or {}).items()
    }
    if annotations.get(f"{_NGINX}ssl-passthrough") == "true":
        return "passthrough", "ssl-passthrough: TLS is tunnelled to the pods"
    tls = bool(facts_of(ingress, IngressFacts).get("tls")) or bool(
        annotations.get("alb.ingress.kubernetes.io/certificate-arn")
    )
    if not tls:
        return "none", "no TLS"
    for key, values in _REENCRYPT.items():
        if annotations.get(key) in values:
            return "edge-reencrypted", f"{key}={annotations[key].upper()}"
    return "edge-bridged-cleartext", "TLS ends at the ingress controller; HTTP to the pods"


def service_termination(service: Resource) -> tuple[str, str]:
    """(tls_termination, why) for a LoadBalancer Service (AWS load balancer annotations)."""
    annotations = facts_of(service, ServiceFacts).get("annotations") or {}
    backend = str(annotations.get(_BACKEND_PROTOCOL, "")).strip().lower()
    if not annotations.get(_SSL_CERT):
        if backend in ("http", "https"):
            return "none", f"backend-protocol {backend} without a certificate: plain HTTP"
        return "passthrough", "layer-4 load balancer: TLS, if any, is the pods' own"
    if backend in ("ssl", "https"):
        return "edge-reencrypted", f"certificate at the load balancer, backend-protocol {backend}"
    return "edge-bridged-cleartext", (
        f"certificate at the load balancer, backend-protocol {backend or 'tcp (default)'}"
    )


def gateway_termination(listener: Mapping[str, Any]) -> str:
    protocol = str(listener.get("protocol") or "").upper()
    if protocol in ("HTTP", "TCP", "UDP"):
        return "none"
    if (listener.get("tls_mode") or "Terminate") == "Passthrough":
        return "passthrough"
    # The hop to the backends depends on BackendTLSPolicy or the mesh, not collected.
    return "edge-backend-unknown"


@check(
    id="k8s-tls-at-proxy",
    title="Cleartext hop behind a public TLS endpoint",
    view=View.ENDPOINTS,
    severity=Severity.MEDIUM,
    provider=PROVIDER,
    requires=("Ingress", "Service", "Gateway"),
    remediation="""
Re-encrypt from the proxy to the pods (ingress-nginx:
`nginx.ingress.kubernetes.io/backend-protocol: "HTTPS"`; AWS load balancer:
`service.beta.kubernetes.io/aws-load-balancer-backend-protocol: ssl`), put the backends in
a mesh with STRICT mTLS, or pass TLS through to the pods
(`nginx.ingress.kubernetes.io/ssl-passthrough: "true"`).""",
    frameworks={"ISO 27001:2022": ["A.8.20", "A.8.21", "A.8.24"], "SOC 2": ["CC6.7"]},
    references=(
        "https://kubernetes.github.io/ingress-nginx/user-guide/nginx-configuration/annotations/#backend-protocol",
        "https://kubernetes-sigs.github.io/aws-load-balancer-controller/latest/guide/service/annotations/#ssl-cert",
    ),
    controls=("tls-at-proxies",),
    no_benchmark="no CIS recommendation on TLS between proxies and backends",
)
def tls_at_proxy(inv: Inventory) -> Iterator[Result]:
    """Every Ingress, LoadBalancer Service and Gateway gets a result whose evidence says
    where TLS terminates (``tls_termination``). TLS ended at a public proxy and forwarded
    in cleartext fails; a public Gateway terminating TLS is unknown (its backend hop is
    decided by BackendTLSPolicy or the mesh, which are not read); plain HTTP passes here
    (``k8s-ingress-no-tls`` judges it)."""
    for ingress in sorted(inv.of(PROVIDER, "Ingress"), key=lambda r: r.uid):
        mode, why = ingress_termination(ingress)
        yield _tls_result(
            ingress, f"Ingress {qualified(ingress)}", mode, why, ingress_internal(ingress)
        )
    for service in sorted(inv.of(PROVIDER, "Service"), key=lambda r: r.uid):
        if facts_of(service, ServiceFacts).get("type") != "LoadBalancer":
            continue
        mode, why = service_termination(service)
        name = f"LoadBalancer Service {qualified(service)}"
        yield _tls_result(service, name, mode, why, service_internal(service))
    for gateway in sorted(inv.of(PROVIDER, "Gateway"), key=lambda r: r.uid):
        rows = [
            {
                "name": item.get("name"),
                "port": item.get("port"),
                "protocol": item.get("protocol"),
                "tls_termination": gateway_termination(item),
            }
            for item in facts_of(gateway, GatewayFacts).get("listeners") or []
        ]
        if not rows:
            continue
        modes = [r["tls_termination"] for r in rows]
        worst = next(
            (m for m in ("edge-backend-unknown", "none", "passthrough") if m in modes), modes[0]
        )
        summary = ", ".join(f"{r['protocol']}:{r['port']} {r['tls_termination']}" for r in rows)
        evidence = {"tls_termination": worst, "listeners": rows}
        status = Status.UNKNOWN if worst == "edge-backend-unknown" else Status.PASS
        detail = f"Gateway {qualified(gateway)}: {summary}"
        if status is Status.UNKNOWN:
            detail += "; the hop to the backends is not judged (BackendTLSPolicy is not read)"
        yield Result(gateway, status, detail, evidence)


def _tls_result(resource: Resource, name: str, mode: str, why: str, internal: str | None) -> Result:
    evidence = {"tls_termination": mode, "how": why, "internal": internal}
    if mode == "edge-bridged-cleartext" and not internal:
        return Result(resource, Status.FAIL, f"{name} is public: {why}", evidence)
    where = f" (internal: {internal})" if internal else ""
    return Result(resource, Status.PASS, f"{name}: {mode}{where}; {why}", evidence)


# -- cascading failure -----------------------------------------------------------------


@check(
    id="k8s-cascading-failure",
    title="Exposed service without circuit breaker or disruption budget",
    view=View.ENDPOINTS,
    severity=Severity.MEDIUM,
    provider=PROVIDER,
    requires=("Service", "Pod", "Ingress", "PodDisruptionBudget", "DestinationRule", "HTTPRoute"),
    remediation="""
Give each exposed service an Istio DestinationRule with `trafficPolicy.outlierDetection`
(eject failing endpoints) and `connectionPool` limits (bound queued requests), so one slow
dependency does not exhaust its callers; and a PodDisruptionBudget
(`kubectl create pdb <svc> --selector app=<svc> --min-available 1`) so node drains never
take every replica at once.""",
    frameworks={"ISO 27001:2022": ["A.8.14", "A.5.30"], "SOC 2": ["A1.1", "A1.2"]},
    references=(
        "https://istio.io/latest/docs/tasks/traffic-management/circuit-breaking/",
        "https://kubernetes.io/docs/tasks/run-application/configure-pdb/",
    ),
    controls=("cascading-failure-protection",),
    no_benchmark="no CIS recommendation on circuit breakers or disruption budgets",
)
def cascading_failure(inv: Inventory) -> Iterator[Result]:
    """One result per exposed Service (public LoadBalancer, public Ingress or HTTPRoute
    backend): it passes with both a DestinationRule that breaks circuits (outlier
    detection or connection-pool limits) and a PodDisruptionBudget covering its pods,
    so the governance control's coverage is protected / all exposed services."""
    traffic = Traffic(inv)
    for entry in exposed_services(inv):
        service = entry.service
        rule = traffic.circuit_breaker(service)
        budget = traffic.budget(service)
        rule_facts = facts_of(rule, DestinationRuleFacts) if rule else None
        evidence = {
            "exposed_by": entry.via,
            "destination_rule": qualified(rule) if rule else None,
            "outlier_detection": bool(rule_facts and rule_facts.get("outlier_detection")),
            "connection_pool": bool(rule_facts and rule_facts.get("connection_pool")),
            "pod_disruption_budget": qualified(budget) if budget else None,
        }
        name = f"Service {qualified(service)} (exposed by {', '.join(entry.via)})"
        missing = [
            what
            for what, present in (("circuit breaker", rule), ("PodDisruptionBudget", budget))
            if present is None
        ]
        if missing or rule is None or budget is None:
            yield Result(
                service, Status.FAIL, f"{name} has no {' and no '.join(missing)}", evidence
            )
        else:
            yield Result(
                service,
                Status.PASS,
                f"{name}: circuit breaker {qualified(rule)}, budget {qualified(budget)}",
                evidence,
            )
