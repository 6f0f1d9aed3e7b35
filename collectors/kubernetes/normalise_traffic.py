"""Normalisers for the traffic kinds: PodDisruptionBudget, and Istio's EnvoyFilter and
DestinationRule (with the circuit-breaking part of a traffic policy); see
:mod:`postureapp.facts.kubernetes` for what each writes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from postureapp.collectors.kubernetes._shape import Obj
from postureapp.facts.kubernetes import ConnectionPool, OutlierDetection

# Envoy filters that limit request or connection rates, by name and by typed-config type.
RATE_LIMIT_FILTERS = (
    "envoy.filters.http.local_ratelimit",
    "envoy.filters.network.local_ratelimit",
    "envoy.filters.http.ratelimit",
    "envoy.filters.network.ratelimit",
)
_RATE_LIMIT_TYPES = (
    "envoy.extensions.filters.http.local_ratelimit.",
    "envoy.extensions.filters.network.local_ratelimit.",
    "envoy.extensions.filters.http.ratelimit.",
    "envoy.extensions.filters.network.ratelimit.",
)
# How deep to look for filter names in a patch: real ones nest 3-6 levels.
_MAX_DEPTH = 12


def pod_disruption_budget(obj: Obj) -> dict[str, Any]:
    spec = obj.obj("spec")
    status = obj.obj("status")
    return {
        "selector": spec.opt_selector("selector"),
        "min_available": spec.int_or_str("minAvailable"),
        "max_unavailable": spec.int_or_str("maxUnavailable"),
        "unhealthy_pod_eviction_policy": spec.opt_str("unhealthyPodEvictionPolicy"),
        "expected_pods": status.opt_int("expectedPods"),
        "current_healthy": status.opt_int("currentHealthy"),
        "desired_healthy": status.opt_int("desiredHealthy"),
        "disruptions_allowed": status.opt_int("disruptionsAllowed"),
    }


def _strings(value: Any, depth: int = 0) -> Iterator[str]:
    """Every ``name`` and ``@type``/``type_url`` string in a patch value."""
    if depth > _MAX_DEPTH:
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if key in ("name", "@type", "type_url", "typeUrl") and isinstance(item, str):
                yield item
            else:
                yield from _strings(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item, depth + 1)


def _rate_limit_filter(patch: Obj) -> str | None:
    for text in _strings(patch.data.get("value")):
        if text in RATE_LIMIT_FILTERS:
            return text
        bare = text.rsplit("/", 1)[-1]  # type.googleapis.com/envoy.extensions...
        if bare.startswith(_RATE_LIMIT_TYPES):
            return bare
    return None


def envoy_filter(obj: Obj) -> dict[str, Any]:
    spec = obj.obj("spec")
    selector = spec.opt_obj("workloadSelector")
    patches = []
    for item in spec.objs("configPatches"):
        patch = item.obj("patch")
        operation = patch.opt_str("operation")
        patches.append(
            {
                "apply_to": item.opt_str("applyTo"),
                "context": item.obj("match").opt_str("context"),
                "operation": operation,
                "rate_limit_filter": _rate_limit_filter(patch) if operation != "REMOVE" else None,
            }
        )
    return {
        "workload_selector": None if selector is None else selector.strmap("labels"),
        "target_refs": [
            {"kind": ref.opt_str("kind"), "name": ref.opt_str("name")}
            for ref in spec.objs("targetRefs")
        ],
        "config_patches": patches,
        "rate_limit_filters": sorted(
            {p["rate_limit_filter"] for p in patches if p["rate_limit_filter"]}
        ),
    }


def _outlier(policy: Obj) -> OutlierDetection | None:
    outlier = policy.obj("outlierDetection")
    if not outlier:
        return None
    return {
        "consecutive_5xx_errors": outlier.opt_int("consecutive5xxErrors"),
        "consecutive_gateway_errors": outlier.opt_int("consecutiveGatewayErrors"),
        "interval": outlier.opt_str("interval"),
        "base_ejection_time": outlier.opt_str("baseEjectionTime"),
        "max_ejection_percent": outlier.opt_int("maxEjectionPercent"),
    }


def _pool(policy: Obj) -> ConnectionPool | None:
    pool = policy.obj("connectionPool")
    tcp, http = pool.obj("tcp"), pool.obj("http")
    if not (tcp or http):
        return None
    return {
        "max_connections": tcp.opt_int("maxConnections"),
        "connect_timeout": tcp.opt_str("connectTimeout"),
        "http1_max_pending_requests": http.opt_int("http1MaxPendingRequests"),
        "http2_max_requests": http.opt_int("http2MaxRequests"),
        "max_requests_per_connection": http.opt_int("maxRequestsPerConnection"),
        "max_retries": http.opt_int("maxRetries"),
    }


def destination_rule(obj: Obj) -> dict[str, Any]:
    spec = obj.obj("spec")
    policy = spec.obj("trafficPolicy")
    subsets = []
    for subset in spec.objs("subsets"):
        own = subset.obj("trafficPolicy")
        subsets.append(
            {
                "name": subset.opt_str("name"),
                "tls_mode": own.obj("tls").opt_str("mode"),
                "circuit_breaking": _outlier(own) is not None or _pool(own) is not None,
            }
        )
    return {
        "host": spec.opt_str("host"),
        "tls_mode": policy.obj("tls").opt_str("mode"),
        "port_level_tls": {
            str(item.obj("port").opt_int("number")): item.obj("tls").opt_str("mode")
            for item in policy.objs("portLevelSettings")
            if "tls" in item
        },
        "subsets": subsets,
        "export_to": spec.strs("exportTo"),
        "outlier_detection": _outlier(policy),
        "connection_pool": _pool(policy),
    }
