"""Resilience checks: rate limits at public entry points, TLS at the proxies, circuit
breakers and disruption budgets for exposed services, log shipping and tracing."""

from __future__ import annotations

import pytest

from postureapp.engine import Engine
from postureapp.model import CollectorRun, RunStatus, Status, k8s_uid

from .estate import (
    SCOPE,
    cluster,
    container,
    inventory,
    k8s,
    pod,
    results,
    service,
)

CLUSTER = k8s_uid(SCOPE, "Cluster", SCOPE)
NGINX = "nginx.ingress.kubernetes.io/"


def uid(kind: str, name: str, ns: str | None = None) -> str:
    return k8s_uid(SCOPE, kind, name, ns)


def ingress(name: str, ns: str, backend: str, *, tls: bool = False, annotations=None):
    spec: dict = {
        "rules": [
            {
                "host": f"{name}.example.com",
                "http": {
                    "paths": [
                        {
                            "path": "/",
                            "pathType": "Prefix",
                            "backend": {"service": {"name": backend, "port": {"number": 80}}},
                        }
                    ]
                },
            }
        ]
    }
    if tls:
        spec["tls"] = [{"hosts": [f"{name}.example.com"], "secretName": f"{name}-tls"}]
    return k8s("Ingress", name, ns, annotations=annotations, spec=spec)


def rate_filter(
    name: str,
    ns: str,
    selector: dict | None = None,
    filter_name: str | None = None,
    context: str = "SIDECAR_INBOUND",
):
    spec: dict = {
        "configPatches": [
            {
                "applyTo": "HTTP_FILTER",
                "match": {"context": context},
                "patch": {
                    "operation": "INSERT_BEFORE",
                    "value": {
                        "name": filter_name or "envoy.filters.http.local_ratelimit",
                        "typed_config": {
                            "@type": "type.googleapis.com/udpa.type.v1.TypedStruct",
                            "type_url": "type.googleapis.com/envoy.extensions.filters.http."
                            "local_ratelimit.v3.LocalRateLimit",
                        },
                    },
                },
            }
        ]
    }
    if selector is not None:
        spec["workloadSelector"] = {"labels": selector}
    return k8s("EnvoyFilter", name, ns, spec=spec)


def pdb(name: str, ns: str, labels: dict) -> object:
    return k8s(
        "PodDisruptionBudget",
        name,
        ns,
        spec={"minAvailable": 1, "selector": {"matchLabels": labels}},
        status={"expectedPods": 2, "currentHealthy": 2, "desiredHealthy": 1},
    )


def destination_rule(name: str, ns: str, host: str, policy: dict | None = None):
    spec: dict = {"host": host}
    if policy is not None:
        spec["trafficPolicy"] = policy
    return k8s("DestinationRule", name, ns, spec=spec)


OUTLIER = {"outlierDetection": {"consecutive5xxErrors": 5, "interval": "10s"}}


# -- rate limiting -----------------------------------------------------------------------


def test_ingress_rate_limit_annotations_and_near_misses():
    inv = inventory(
        cluster(),
        service("web", "shop", selector={"app": "web"}),
        ingress("limited", "shop", "web", annotations={f"{NGINX}limit-rps": "20"}),
        ingress("conns", "shop", "web", annotations={f"{NGINX}limit-connections": "5"}),
        # Near misses: bandwidth only, and a limit of zero (which nginx treats as none).
        ingress("bandwidth", "shop", "web", annotations={f"{NGINX}limit-rate": "100"}),
        ingress("zero", "shop", "web", annotations={f"{NGINX}limit-rps": "0"}),
        ingress(
            "private",
            "shop",
            "web",
            annotations={"alb.ingress.kubernetes.io/scheme": "internal"},
        ),
    )
    found = results("k8s-public-rate-limit", inv)
    assert found[uid("Ingress", "limited", "shop")].status is Status.PASS
    assert found[uid("Ingress", "limited", "shop")].evidence == {"annotations": {"limit-rps": "20"}}
    assert found[uid("Ingress", "conns", "shop")].status is Status.PASS
    assert found[uid("Ingress", "bandwidth", "shop")].status is Status.FAIL
    assert found[uid("Ingress", "zero", "shop")].status is Status.FAIL
    assert found[uid("Ingress", "private", "shop")].status is Status.PASS


def test_istio_local_rate_limit_applies_to_selected_pods_only():
    gateway_pod = pod(
        "istio-ingressgateway-1",
        "istio-system",
        deployment="istio-ingressgateway",
        labels={"istio": "ingressgateway"},
    )
    other_pod = pod("edge-1", "edge", deployment="edge", labels={"app": "edge"})
    inv = inventory(
        cluster(istio=True),
        gateway_pod,
        other_pod,
        service(
            "istio-ingressgateway",
            "istio-system",
            "LoadBalancer",
            selector={"istio": "ingressgateway"},
        ),
        service("edge", "edge", "LoadBalancer", selector={"app": "edge"}),
        rate_filter(
            "gateway-ratelimit", "istio-system", {"istio": "ingressgateway"}, context="GATEWAY"
        ),
        # Near miss: a filter that adds some other HTTP filter is no rate limit.
        k8s(
            "EnvoyFilter",
            "lua",
            "edge",
            spec={
                "configPatches": [
                    {
                        "applyTo": "HTTP_FILTER",
                        "patch": {
                            "operation": "INSERT_BEFORE",
                            "value": {"name": "envoy.filters.http.lua"},
                        },
                    }
                ]
            },
        ),
    )
    found = results("k8s-public-rate-limit", inv)
    gateway = found[uid("Service", "istio-ingressgateway", "istio-system")]
    assert gateway.status is Status.PASS
    assert gateway.evidence == {"envoy_filters": ["istio-system/gateway-ratelimit"]}
    assert found[uid("Service", "edge", "edge")].status is Status.FAIL


SIDECAR = container("istio-proxy", "docker.io/istio/proxyv2:1.24.0")


def test_rate_limit_filter_in_root_namespace_without_selector_covers_the_mesh():
    inv = inventory(
        cluster(istio=True),
        pod(
            "web-1",
            "shop",
            deployment="web",
            labels={"app": "web"},
            containers=[container(), SIDECAR],
        ),
        service("web", "shop", selector={"app": "web"}),
        ingress("shop", "shop", "web"),
        rate_filter("mesh-ratelimit", "istio-system", filter_name="envoy.filters.http.ratelimit"),
    )
    found = results("k8s-public-rate-limit", inv)
    assert found[uid("Ingress", "shop", "shop")].status is Status.PASS


@pytest.mark.parametrize(
    ("context", "sidecar", "limited"),
    [
        ("SIDECAR_INBOUND", True, True),
        ("ANY", True, True),
        ("SIDECAR_INBOUND", False, False),  # no proxy in the pod: nothing to patch
        ("GATEWAY", True, False),  # gateway proxies only
        ("SIDECAR_OUTBOUND", True, False),  # limits what the pod calls, not its callers
    ],
)
def test_a_rate_limit_filter_counts_only_where_its_patch_lands(context, sidecar, limited):
    containers = [container(), SIDECAR] if sidecar else [container()]
    inv = inventory(
        cluster(istio=True),
        pod("web-1", "shop", deployment="web", labels={"app": "web"}, containers=containers),
        service("web", "shop", "LoadBalancer", selector={"app": "web"}),
        rate_filter("mesh-ratelimit", "istio-system", context=context),
    )
    verdict = results("k8s-public-rate-limit", inv)[uid("Service", "web", "shop")]
    assert verdict.status is (Status.PASS if limited else Status.FAIL)


def test_rate_limit_unknown_when_envoy_filters_could_not_be_listed():
    resources = [
        cluster(istio=True),
        service("web", "shop", selector={"app": "web"}),
        ingress("shop", "shop", "web", annotations={f"{NGINX}limit-rps": "20"}),
    ]
    run = CollectorRun(
        "kubernetes",
        SCOPE,
        RunStatus.PARTIAL,
        scope=SCOPE,
        provider="kubernetes",
        unknown={"EnvoyFilter": "403 on envoyfilters.networking.istio.io"},
    )
    findings = [
        f for f in Engine({}).judge(resources, [run]) if f.check_id == "k8s-public-rate-limit"
    ]
    assert findings and {f.status for f in findings} == {Status.UNKNOWN}


# -- TLS at the proxies --------------------------------------------------------------------


def test_tls_termination_at_ingress_and_load_balancer_services():
    cert = "service.beta.kubernetes.io/aws-load-balancer-ssl-cert"
    backend = "service.beta.kubernetes.io/aws-load-balancer-backend-protocol"
    inv = inventory(
        cluster(),
        service("web", "shop", selector={"app": "web"}),
        ingress("bridged", "shop", "web", tls=True),
        ingress(
            "reencrypted",
            "shop",
            "web",
            tls=True,
            annotations={f"{NGINX}backend-protocol": "HTTPS"},
        ),
        ingress("tunnelled", "shop", "web", annotations={f"{NGINX}ssl-passthrough": "true"}),
        ingress("plain", "shop", "web"),
        ingress(
            "inside",
            "shop",
            "web",
            tls=True,
            annotations={"alb.ingress.kubernetes.io/scheme": "internal"},
        ),
        service("nlb-bridged", "shop", "LoadBalancer", annotations={cert: "arn:aws:acm:x"}),
        service(
            "nlb-ssl", "shop", "LoadBalancer", annotations={cert: "arn:aws:acm:x", backend: "ssl"}
        ),
        service("nlb-tcp", "shop", "LoadBalancer"),
    )
    found = results("k8s-tls-at-proxy", inv)

    def mode(kind, name):
        result = found[uid(kind, name, "shop")]
        return result.status, result.evidence["tls_termination"]

    assert mode("Ingress", "bridged") == (Status.FAIL, "edge-bridged-cleartext")
    assert mode("Ingress", "reencrypted") == (Status.PASS, "edge-reencrypted")
    assert mode("Ingress", "tunnelled") == (Status.PASS, "passthrough")
    assert mode("Ingress", "plain") == (Status.PASS, "none")
    assert mode("Ingress", "inside") == (Status.PASS, "edge-bridged-cleartext")
    assert mode("Service", "nlb-bridged") == (Status.FAIL, "edge-bridged-cleartext")
    assert mode("Service", "nlb-ssl") == (Status.PASS, "edge-reencrypted")
    assert mode("Service", "nlb-tcp") == (Status.PASS, "passthrough")
    assert uid("Service", "web", "shop") not in found  # ClusterIP: no proxy of its own


def test_gateway_listeners_passthrough_passes_terminate_is_unknown():
    def gateway(name: str, listener: dict):
        return k8s(
            "Gateway", name, "edge", spec={"gatewayClassName": "istio", "listeners": [listener]}
        )

    inv = inventory(
        cluster(gateway_api=True),
        gateway(
            "tunnel",
            {"name": "tls", "protocol": "TLS", "port": 443, "tls": {"mode": "Passthrough"}},
        ),
        gateway(
            "terminate",
            {
                "name": "https",
                "protocol": "HTTPS",
                "port": 443,
                "tls": {"mode": "Terminate", "certificateRefs": [{"name": "c"}]},
            },
        ),
    )
    found = results("k8s-tls-at-proxy", inv)
    tunnel = found[uid("Gateway", "tunnel", "edge")]
    assert (tunnel.status, tunnel.evidence["tls_termination"]) == (Status.PASS, "passthrough")
    terminate = found[uid("Gateway", "terminate", "edge")]
    assert terminate.status is Status.UNKNOWN
    assert terminate.evidence["tls_termination"] == "edge-backend-unknown"


# -- cascading failure ----------------------------------------------------------------------


def _exposed_estate(*extra):
    return inventory(
        cluster(istio=True),
        pod("pay-1", "payments", deployment="pay", labels={"app": "pay"}),
        pod("shop-1", "shop", deployment="shop", labels={"app": "shop"}),
        pod("cart-1", "shop", deployment="cart", labels={"app": "cart"}),
        service("pay", "payments", "LoadBalancer", selector={"app": "pay"}),
        service("shop", "shop", selector={"app": "shop"}),
        service("cart", "shop", selector={"app": "cart"}),
        service("internal", "shop", selector={"app": "cart"}),  # not exposed
        ingress("shop", "shop", "shop"),
        ingress("cart", "shop", "cart"),
        *extra,
    )


def test_cascading_failure_needs_circuit_breaker_and_budget_per_exposed_service():
    inv = _exposed_estate(
        # pay: both, with the DestinationRule's host in its short form.
        destination_rule("pay", "payments", "pay", OUTLIER),
        pdb("pay", "payments", {"app": "pay"}),
        # shop: a DestinationRule with TLS settings only (no circuit breaker), and a PDB.
        destination_rule(
            "shop", "shop", "shop.shop.svc.cluster.local", {"tls": {"mode": "ISTIO_MUTUAL"}}
        ),
        pdb("shop", "shop", {"app": "shop"}),
        # cart: a connection pool limit, but the PDB selects other pods.
        destination_rule(
            "cart", "shop", "cart.shop", {"connectionPool": {"tcp": {"maxConnections": 100}}}
        ),
        pdb("cart", "shop", {"app": "checkout"}),
    )
    found = results("k8s-cascading-failure", inv)
    assert set(found) == {
        uid("Service", "pay", "payments"),
        uid("Service", "shop", "shop"),
        uid("Service", "cart", "shop"),
    }
    pay = found[uid("Service", "pay", "payments")]
    assert pay.status is Status.PASS
    assert pay.evidence["outlier_detection"] is True
    assert pay.evidence["pod_disruption_budget"] == "payments/pay"
    assert pay.evidence["exposed_by"] == ["LoadBalancer"]
    shop = found[uid("Service", "shop", "shop")]
    assert shop.status is Status.FAIL and "no circuit breaker" in shop.detail
    assert shop.evidence["exposed_by"] == ["Ingress shop/shop"]
    cart = found[uid("Service", "cart", "shop")]
    assert cart.status is Status.FAIL and "PodDisruptionBudget" in cart.detail
    assert cart.evidence["connection_pool"] is True


def test_destination_rule_in_another_namespace_must_name_the_full_host():
    inv = _exposed_estate(
        destination_rule(
            "pay", "shop", "pay", OUTLIER
        ),  # "pay" resolves to pay.shop, not pay.payments
        pdb("pay", "payments", {"app": "pay"}),
    )
    pay = results("k8s-cascading-failure", inv)[uid("Service", "pay", "payments")]
    assert pay.status is Status.FAIL and pay.evidence["destination_rule"] is None


def test_cascading_failure_unknown_without_disruption_budgets():
    resources = list(_exposed_estate())
    run = CollectorRun(
        "kubernetes",
        SCOPE,
        RunStatus.PARTIAL,
        scope=SCOPE,
        provider="kubernetes",
        unknown={"PodDisruptionBudget": "403 on poddisruptionbudgets.policy"},
    )
    findings = [
        f for f in Engine({}).judge(resources, [run]) if f.check_id == "k8s-cascading-failure"
    ]
    assert findings and {f.status for f in findings} == {Status.UNKNOWN}


# -- observability ----------------------------------------------------------------------------


def test_log_shipper_must_be_a_daemonset_running_a_known_shipper():
    fluent = pod(
        "fluent-bit-x1",
        "logging",
        owner=("DaemonSet", "fluent-bit"),
        containers=[container(image="cr.fluentbit.io/fluent/fluent-bit:3.1.9")],
    )
    kube_proxy = pod(
        "kube-proxy-x1",
        "kube-system",
        owner=("DaemonSet", "kube-proxy"),
        containers=[container(image="registry.k8s.io/kube-proxy:v1.31.4")],
    )
    vector_deploy = pod(
        "vector-1",
        "logging",
        deployment="vector",
        containers=[container(image="timberio/vector:0.41.1-debian")],
    )
    assert (
        results("k8s-gov-log-shipping", inventory(cluster(), fluent))[CLUSTER].status is Status.PASS
    )
    # Near misses: a DaemonSet that is not a shipper, a shipper that is not a DaemonSet.
    near = results("k8s-gov-log-shipping", inventory(cluster(), kube_proxy, vector_deploy))[CLUSTER]
    assert near.status is Status.FAIL
    assert near.evidence["not_daemonsets"] == {"Vector": ["Deployment logging/vector"]}


def test_tracing_recognises_collectors_and_backends_by_image_name():
    jaeger = pod(
        "jaeger-1",
        "tracing",
        deployment="jaeger",
        containers=[container(image="jaegertracing/all-in-one:1.62.0")],
    )
    otel = pod(
        "otel-1",
        "observability",
        deployment="otel",
        containers=[container(image="otel/opentelemetry-collector-contrib:0.112.0")],
    )
    # Near miss: an app whose image merely contains "trace" in its name.
    app = pod(
        "tracer-1", "shop", deployment="tracer", containers=[container(image="acme/tracer-ui:2")]
    )
    assert results("k8s-gov-tracing", inventory(cluster(), jaeger))[CLUSTER].status is Status.PASS
    found = results("k8s-gov-tracing", inventory(cluster(), otel))[CLUSTER]
    assert found.evidence["tracing"] == {
        "OpenTelemetry Collector": ["Deployment observability/otel"]
    }
    assert results("k8s-gov-tracing", inventory(cluster(), app))[CLUSTER].status is Status.FAIL


# -- the controls ----------------------------------------------------------------------------


def _control(control_id: str, resources, runs=()):
    from collections import Counter

    from postureapp.checks.registry import REGISTRY
    from postureapp.governance import evaluate_controls

    findings = Engine({}).judge(list(resources), list(runs))
    counts: dict[str, Counter] = {}
    for finding in findings:
        counts.setdefault(finding.check_id, Counter())[finding.status.value] += 1
    (control,) = evaluate_controls([REGISTRY.controls[control_id]], counts, {})
    return control


def test_cascading_failure_control_coverage_is_protected_over_exposed():
    estate = _exposed_estate(
        destination_rule("pay", "payments", "pay", OUTLIER),
        pdb("pay", "payments", {"app": "pay"}),
    )
    control = _control("cascading-failure-protection", estate)
    assert control.status.value == "partial"
    assert control.coverage == round(1 / 3, 4)  # pay protected; shop and cart exposed too
    assert control.evidence["k8s-cascading-failure"] == {"pass": 1, "fail": 2}


def test_controls_stay_unknown_when_their_evidence_could_not_be_collected():
    run = CollectorRun(
        "kubernetes",
        SCOPE,
        RunStatus.PARTIAL,
        scope=SCOPE,
        provider="kubernetes",
        unknown={
            "PodDisruptionBudget": "403",
            "EnvoyFilter": "403",
            "Pod": "403",
            "Gateway": "discovery of gateway.networking.k8s.io/v1 failed",
        },
    )
    estate = [r for r in _exposed_estate() if r.kind != "Pod"]
    for control_id in (
        "cascading-failure-protection",
        "rate-limiting",
        "tls-at-proxies",
        "request-traceability",
    ):
        control = _control(control_id, estate, [run])
        assert control.status.value == "unknown", control_id
