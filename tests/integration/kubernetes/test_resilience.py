"""PodDisruptionBudgets, EnvoyFilters and DestinationRule circuit breakers read from the
Kubernetes API test server by the official client, then judged by the resilience checks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from postureapp.engine import Engine
from postureapp.model import RunStatus, Status, Target, k8s_uid
from tests.integration.kubernetes.conftest import CONTEXT, TOKEN, fast_collector
from tests.kube import KubeAPIServer


def meta(name: str, namespace: str | None = None, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"name": name, **extra}
    if namespace:
        body["namespace"] = namespace
    return body


def pod(name: str, ns: str, app: str, image: str, owner: tuple[str, str]) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": meta(
            name,
            ns,
            labels={"app": app},
            ownerReferences=[
                {"apiVersion": "apps/v1", "kind": owner[0], "name": owner[1], "controller": True}
            ],
        ),
        "spec": {"containers": [{"name": app, "image": image}]},
        "status": {"phase": "Running"},
    }


def service(name: str, ns: str, kind: str = "ClusterIP", annotations=None) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": meta(name, ns, annotations=annotations or {}),
        "spec": {"type": kind, "selector": {"app": name}, "ports": [{"port": 443}]},
    }


def ingress(name: str, ns: str, backend: str, annotations: dict[str, str]) -> dict[str, Any]:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": meta(name, ns, annotations=annotations),
        "spec": {
            "tls": [{"hosts": [f"{name}.example.com"], "secretName": f"{name}-tls"}],
            "rules": [
                {
                    "host": f"{name}.example.com",
                    "http": {
                        "paths": [
                            {
                                "path": "/",
                                "pathType": "Prefix",
                                "backend": {"service": {"name": backend, "port": {"number": 443}}},
                            }
                        ]
                    },
                }
            ],
        },
    }


ESTATE = [
    pod("payments-1", "payments", "payments", "acme/payments:2.1", ("ReplicaSet", "payments-7d9")),
    pod("shop-1", "shop", "shop", "acme/shop:5.0", ("ReplicaSet", "shop-5c4")),
    pod(
        "fluent-bit-a",
        "logging",
        "fluent-bit",
        "fluent/fluent-bit:3.1",
        ("DaemonSet", "fluent-bit"),
    ),
    service("payments", "payments"),
    service("shop", "shop"),
    ingress(
        "payments",
        "payments",
        "payments",
        {
            "nginx.ingress.kubernetes.io/limit-rps": "10",
            "nginx.ingress.kubernetes.io/backend-protocol": "HTTPS",
        },
    ),
    ingress("shop", "shop", "shop", {}),
    {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": meta("payments", "payments"),
        "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": "payments"}}},
        "status": {
            "expectedPods": 2,
            "currentHealthy": 2,
            "desiredHealthy": 1,
            "disruptionsAllowed": 1,
        },
    },
    {
        "apiVersion": "networking.istio.io/v1",
        "kind": "DestinationRule",
        "metadata": meta("payments", "payments"),
        "spec": {
            "host": "payments.payments.svc.cluster.local",
            "trafficPolicy": {
                "connectionPool": {"http": {"http1MaxPendingRequests": 64}},
                "outlierDetection": {"consecutive5xxErrors": 5, "baseEjectionTime": "30s"},
            },
        },
    },
    {
        "apiVersion": "networking.istio.io/v1alpha3",
        "kind": "EnvoyFilter",
        "metadata": meta("shop-ratelimit", "shop"),
        "spec": {
            "workloadSelector": {"labels": {"app": "checkout"}},  # other pods than shop's
            "configPatches": [
                {
                    "applyTo": "HTTP_FILTER",
                    "match": {"context": "SIDECAR_INBOUND"},
                    "patch": {
                        "operation": "INSERT_BEFORE",
                        "value": {"name": "envoy.filters.http.local_ratelimit"},
                    },
                }
            ],
        },
    },
]


def collect(server: KubeAPIServer, tmp_path: Path):
    kubeconfig = server.write_kubeconfig(tmp_path / "kubeconfig", context=CONTEXT)
    target = Target("kubernetes", CONTEXT, {"kubeconfig": str(kubeconfig)})
    return fast_collector().collect(target)


def verdict(findings, check_id: str, kind: str, name: str, ns: str) -> Status:
    uid = k8s_uid(CONTEXT, kind, name, ns)
    (found,) = [f for f in findings if f.check_id == check_id and f.resource_uid == uid]
    return found.status


def test_new_kinds_are_read_and_judged(tmp_path: Path):
    with KubeAPIServer(ESTATE, token=TOKEN) as server:
        result = collect(server, tmp_path)

    assert result.run.status is RunStatus.OK, (result.run.error, result.run.unknown)
    by_kind = {(r.kind, r.name): r for r in result.resources}
    budget = by_kind[("PodDisruptionBudget", "payments")]
    assert budget.attrs["min_available"] == 1 and budget.attrs["disruptions_allowed"] == 1
    rule = by_kind[("DestinationRule", "payments")]
    assert rule.attrs["outlier_detection"]["consecutive_5xx_errors"] == 5
    assert rule.attrs["connection_pool"]["http1_max_pending_requests"] == 64
    envoy = by_kind[("EnvoyFilter", "shop-ratelimit")]
    assert envoy.attrs["rate_limit_filters"] == ["envoy.filters.http.local_ratelimit"]
    assert envoy.attrs["api_version"] == "networking.istio.io/v1alpha3"

    findings = Engine({}).judge(result.resources, [result.run])
    assert (
        verdict(findings, "k8s-public-rate-limit", "Ingress", "payments", "payments") is Status.PASS
    )
    assert verdict(findings, "k8s-public-rate-limit", "Ingress", "shop", "shop") is Status.FAIL
    assert (
        verdict(findings, "k8s-cascading-failure", "Service", "payments", "payments") is Status.PASS
    )
    assert verdict(findings, "k8s-cascading-failure", "Service", "shop", "shop") is Status.FAIL
    assert verdict(findings, "k8s-tls-at-proxy", "Ingress", "payments", "payments") is Status.PASS
    assert verdict(findings, "k8s-tls-at-proxy", "Ingress", "shop", "shop") is Status.FAIL
    cluster = k8s_uid(CONTEXT, "Cluster", CONTEXT)
    shipping = [f for f in findings if f.check_id == "k8s-gov-log-shipping"]
    assert [(f.resource_uid, f.status) for f in shipping] == [(cluster, Status.PASS)]
    tracing = [f for f in findings if f.check_id == "k8s-gov-tracing"]
    assert [(f.resource_uid, f.status) for f in tracing] == [(cluster, Status.FAIL)]


def test_forbidden_budgets_and_filters_make_their_checks_unknown(tmp_path: Path):
    with KubeAPIServer(ESTATE, token=TOKEN) as server:
        server.forbid("poddisruptionbudgets", group="policy")
        server.forbid("envoyfilters", group="networking.istio.io")
        result = collect(server, tmp_path)

    assert result.run.status is RunStatus.PARTIAL
    assert set(result.run.unknown) == {"PodDisruptionBudget", "EnvoyFilter"}
    findings = Engine({}).judge(result.resources, [result.run])
    for check_id in ("k8s-cascading-failure", "k8s-public-rate-limit"):
        statuses = {f.status for f in findings if f.check_id == check_id}
        assert statuses == {Status.UNKNOWN}, check_id
    # Checks that need neither kind are still judged.
    assert verdict(findings, "k8s-tls-at-proxy", "Ingress", "shop", "shop") is Status.FAIL


def test_offline_dump_normalises_the_new_kinds_like_the_live_path(tmp_path: Path):
    import json

    from postureapp.collectors.kubernetes.offline import load_dump

    wanted = {"PodDisruptionBudget", "EnvoyFilter", "DestinationRule"}
    dump = tmp_path / "dump.json"
    items = [obj for obj in ESTATE if obj["kind"] in wanted]
    dump.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": items}))

    offline = load_dump(dump, scope=CONTEXT)

    assert wanted <= set(offline.kinds)
    with KubeAPIServer(ESTATE, token=TOKEN) as server:
        live = collect(server, tmp_path)
    live_attrs = {(r.kind, r.name): r.attrs for r in live.resources if r.kind in wanted}
    offline_attrs = {(r.kind, r.name): r.attrs for r in offline.resources}
    for key, attrs in offline_attrs.items():
        # The server adds uid and creation time; everything normalised from spec matches.
        same = {k: v for k, v in attrs.items() if k not in ("object_uid",)}
        assert same == {k: v for k, v in live_attrs[key].items() if k in same}, key
