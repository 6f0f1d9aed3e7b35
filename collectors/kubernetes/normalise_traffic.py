"""Normalisers for the traffic-resilience kinds: PodDisruptionBudget and Istio EnvoyFilter
(documented with the others in :mod:`postureapp.collectors.kubernetes.normalise`), and the
circuit-breaking part of a DestinationRule's traffic policy.

Kept apart from :mod:`~postureapp.collectors.kubernetes.normalise` only to keep files short; the
same conventions apply (optional values are None, lists keep the source order).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

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


def _map(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _int_or_str(value: Any) -> int | str | None:
    return value if isinstance(value, int | str) and not isinstance(value, bool) else None


def pod_disruption_budget(obj: Mapping[str, Any], selector: Any) -> dict[str, Any]:
    """``selector`` is the normaliser's metav1.LabelSelector converter."""
    spec = _map(obj.get("spec"))
    status = _map(obj.get("status"))
    return {
        "selector": selector(spec.get("selector")) if spec.get("selector") is not None else None,
        "min_available": _int_or_str(spec.get("minAvailable")),
        "max_unavailable": _int_or_str(spec.get("maxUnavailable")),
        "unhealthy_pod_eviction_policy": spec.get("unhealthyPodEvictionPolicy"),
        "expected_pods": status.get("expectedPods"),
        "current_healthy": status.get("currentHealthy"),
        "desired_healthy": status.get("desiredHealthy"),
        "disruptions_allowed": status.get("disruptionsAllowed"),
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


def _rate_limit_filter(patch: Mapping[str, Any]) -> str | None:
    for text in _strings(patch.get("value")):
        if text in RATE_LIMIT_FILTERS:
            return text
        bare = text.rsplit("/", 1)[-1]  # type.googleapis.com/envoy.extensions...
        if bare.startswith(_RATE_LIMIT_TYPES):
            return bare
    return None


def envoy_filter(obj: Mapping[str, Any]) -> dict[str, Any]:
    spec = _map(obj.get("spec"))
    selector = spec.get("workloadSelector")
    patches = []
    for item in map(_map, _list(spec.get("configPatches"))):
        match = _map(item.get("match"))
        patch = _map(item.get("patch"))
        patches.append(
            {
                "apply_to": item.get("applyTo"),
                "context": match.get("context"),
                "operation": patch.get("operation"),
                "rate_limit_filter": _rate_limit_filter(patch)
                if patch.get("operation") != "REMOVE"
                else None,
            }
        )
    return {
        "workload_selector": {str(k): str(v) for k, v in _map(_map(selector).get("labels")).items()}
        if selector is not None
        else None,
        "target_refs": [
            {"kind": ref.get("kind"), "name": ref.get("name")}
            for ref in map(_map, _list(spec.get("targetRefs")))
        ],
        "config_patches": patches,
        "rate_limit_filters": sorted(
            {p["rate_limit_filter"] for p in patches if p["rate_limit_filter"]}
        ),
    }


def circuit_breaking(policy: Mapping[str, Any]) -> dict[str, Any]:
    """A traffic policy's outlier detection and connection-pool limits (Istio's circuit
    breaker), as attrs merged into the DestinationRule's."""
    outlier = _map(policy.get("outlierDetection"))
    pool = _map(policy.get("connectionPool"))
    tcp, http = _map(pool.get("tcp")), _map(pool.get("http"))
    return {
        "outlier_detection": {
            "consecutive_5xx_errors": outlier.get("consecutive5xxErrors"),
            "consecutive_gateway_errors": outlier.get("consecutiveGatewayErrors"),
            "interval": outlier.get("interval"),
            "base_ejection_time": outlier.get("baseEjectionTime"),
            "max_ejection_percent": outlier.get("maxEjectionPercent"),
        }
        if outlier
        else None,
        "connection_pool": {
            "max_connections": tcp.get("maxConnections"),
            "connect_timeout": tcp.get("connectTimeout"),
            "http1_max_pending_requests": http.get("http1MaxPendingRequests"),
            "http2_max_requests": http.get("http2MaxRequests"),
            "max_requests_per_connection": http.get("maxRequestsPerConnection"),
            "max_retries": http.get("maxRetries"),
        }
        if tcp or http
        else None,
    }
