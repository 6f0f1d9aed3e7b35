"""What the cluster exposes, and what protects it: public entry points (Ingresses,
LoadBalancer Services, Gateways), the Services behind them, and which Istio EnvoyFilters,
PodDisruptionBudgets and DestinationRules apply to a Service's pods.

Pure functions over the inventory, shared by the endpoint and resilience checks and the
identity graph.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from postureapp.domain.kubernetes.mesh import mesh_root
from postureapp.domain.kubernetes.objects import (
    PROVIDER,
    labels_match,
    pods_by_namespace,
    qualified,
    selected_pods,
    selector_matches,
)
from postureapp.facts import facts_of
from postureapp.facts.kubernetes import (
    DestinationRuleFacts,
    EnvoyFilterFacts,
    HTTPRouteFacts,
    IngressFacts,
    PodDisruptionBudgetFacts,
    ServiceFacts,
)
from postureapp.facts.kubernetes_workloads import PodFacts
from postureapp.inventory import Inventory
from postureapp.model import Resource, k8s_uid

# The AWS Load Balancer Controller makes an Ingress internal with this annotation.
ALB_SCHEME = "alb.ingress.kubernetes.io/scheme"


def ingress_internal(ingress: Resource) -> str | None:
    """Why an Ingress is not reachable from the internet, or None."""
    value = str(
        (facts_of(ingress, IngressFacts).get("annotations") or {}).get(ALB_SCHEME, "")
    ).lower()
    return f"{ALB_SCHEME}={value}" if value == "internal" else None


def service_internal(service: Resource) -> str | None:
    return lb_internal(service)


@dataclass
class Exposed:
    """One Service behind a public entry point, and the entry points that reach it."""

    service: Resource
    via: list[str] = field(default_factory=list)


def exposed_services(inv: Inventory) -> list[Exposed]:
    """Services reachable from outside the cluster: public LoadBalancer Services, the
    backends of public Ingresses and of HTTPRoutes (routes attach to Gateways, which
    are the cluster's entry points)."""
    found: dict[str, Exposed] = {}

    def add(service: Resource | None, via: str) -> None:
        if service is None:
            return
        entry = found.setdefault(service.uid, Exposed(service))
        if via not in entry.via:
            entry.via.append(via)

    for service in inv.of(PROVIDER, "Service"):
        if facts_of(service, ServiceFacts).get("type") == "LoadBalancer" and not service_internal(
            service
        ):
            add(service, "LoadBalancer")
    for ingress in inv.of(PROVIDER, "Ingress"):
        if ingress_internal(ingress):
            continue
        for name in facts_of(ingress, IngressFacts).get("backend_services") or []:
            add(_service(inv, ingress, name), f"Ingress {ingress.namespace}/{ingress.name}")
    for route in inv.of(PROVIDER, "HTTPRoute"):
        for backend in facts_of(route, HTTPRouteFacts).get("backends") or []:
            target = backend.get("name")
            if (backend.get("kind") or "Service") != "Service" or not target:
                continue
            namespace = backend.get("namespace") or route.namespace
            uid = k8s_uid(route.scope, "Service", target, namespace)
            add(inv.get(uid), f"HTTPRoute {route.namespace}/{route.name}")
    return sorted(found.values(), key=lambda e: e.service.uid)


def _service(inv: Inventory, owner: Resource, name: str) -> Resource | None:
    return inv.get(k8s_uid(owner.scope, "Service", name, owner.namespace))


def backend_services(inv: Inventory, ingress: Resource) -> list[Resource]:
    found = (
        _service(inv, ingress, n)
        for n in facts_of(ingress, IngressFacts).get("backend_services") or []
    )
    return [s for s in found if s is not None]


class Traffic:
    """Indexes for one inventory: pods per namespace, EnvoyFilters, PDBs, DestinationRules."""

    def __init__(self, inv: Inventory) -> None:
        self.inv = inv
        self.root = mesh_root(inv)
        self.pods = pods_by_namespace(inv)
        self.filters = _by_namespace(
            f
            for f in inv.of(PROVIDER, "EnvoyFilter")
            if facts_of(f, EnvoyFilterFacts).get("rate_limit_filters")
        )
        self.budgets = _by_namespace(inv.of(PROVIDER, "PodDisruptionBudget"))
        self.rules = list(inv.of(PROVIDER, "DestinationRule"))

    def pods_of(self, service: Resource) -> list[Resource]:
        return selected_pods(service, self.pods)

    def rate_limit_filters(self, service: Resource) -> list[Resource]:
        """Rate-limiting EnvoyFilters that apply to the Service's pods: in its namespace
        (every pod, or those the workload selector matches) or in the mesh root
        namespace (every pod of the mesh, or the selected ones)."""
        pods = self.pods_of(service)
        found = []
        for namespace in dict.fromkeys((service.namespace, self.root)):
            for candidate in self.filters.get((service.scope, namespace), []):
                selector = facts_of(candidate, EnvoyFilterFacts).get("workload_selector")
                if facts_of(candidate, EnvoyFilterFacts).get("target_refs"):
                    continue  # bound to a Gateway or Service by reference, not by pods
                selected = [
                    p
                    for p in pods
                    if selector is None
                    or labels_match(selector, facts_of(p, PodFacts).get("labels") or {})
                ]
                if any(_patched_by(candidate, pod) for pod in selected):
                    found.append(candidate)
        return found

    def budget(self, service: Resource) -> Resource | None:
        """A PodDisruptionBudget covering the Service's pods (or, with none running, the
        labels its selector asks for)."""
        labels: Iterable[Mapping[str, str]] = [
            facts_of(p, PodFacts).get("labels") or {} for p in self.pods_of(service)
        ] or [facts_of(service, ServiceFacts).get("selector") or {}]
        labels = [entry for entry in labels if entry]
        for budget in self.budgets.get((service.scope, service.namespace), []):
            if any(
                selector_matches(facts_of(budget, PodDisruptionBudgetFacts).get("selector"), entry)
                for entry in labels
            ):
                return budget
        return None

    def circuit_breaker(self, service: Resource) -> Resource | None:
        """A DestinationRule for the Service's host with outlier detection or
        connection-pool limits (host-wide or in a subset)."""
        fqdn = f"{service.name}.{service.namespace}.svc.cluster.local"
        for rule in self.rules:
            if rule.scope != service.scope:
                continue
            if not _host_matches(
                str(facts_of(rule, DestinationRuleFacts).get("host") or ""), rule.namespace, fqdn
            ):
                continue
            if (
                facts_of(rule, DestinationRuleFacts).get("outlier_detection")
                or facts_of(rule, DestinationRuleFacts).get("connection_pool")
                or any(
                    s.get("circuit_breaking")
                    for s in facts_of(rule, DestinationRuleFacts).get("subsets") or []
                )
            ):
                return rule
        return None


def _by_namespace(resources: Iterable[Resource]) -> dict[tuple[str, str], list[Resource]]:
    grouped: dict[tuple[str, str], list[Resource]] = defaultdict(list)
    for resource in sorted(resources, key=lambda r: r.uid):
        grouped[(resource.scope, resource.namespace)].append(resource)
    return grouped


def _host_matches(host: str, namespace: str, fqdn: str) -> bool:
    """Istio resolves a short host name in the DestinationRule's own namespace."""
    if not host:
        return False
    if host.startswith("*"):
        return fqdn.endswith(host[1:])
    parts = host.split(".")
    if len(parts) == 1:
        host = f"{host}.{namespace}.svc.cluster.local"
    elif len(parts) == 2:
        host = f"{host}.svc.cluster.local"
    elif len(parts) == 3 and parts[2] == "svc":
        host = f"{host}.cluster.local"
    return host == fqdn


# Where an EnvoyFilter patch lands: a GATEWAY patch only changes gateway proxies, a
# SIDECAR_INBOUND one only sidecars, and SIDECAR_OUTBOUND limits what the pod calls, not
# what calls it. A filter counts for a pod only if one of its rate-limit patches lands
# on that pod's own proxy.
_GATEWAY_CONTEXTS = frozenset({None, "ANY", "GATEWAY"})
_INBOUND_CONTEXTS = frozenset({None, "ANY", "SIDECAR_INBOUND"})


def _patched_by(envoy_filter: Resource, pod: Resource) -> bool:
    contexts = {
        patch.get("context")
        for patch in facts_of(envoy_filter, EnvoyFilterFacts).get("config_patches") or []
        if patch.get("rate_limit_filter")
    }
    if _is_gateway(pod):
        return bool(contexts & _GATEWAY_CONTEXTS)
    return _has_sidecar(pod) and bool(contexts & _INBOUND_CONTEXTS)


def _is_gateway(pod: Resource) -> bool:
    labels = facts_of(pod, PodFacts).get("labels") or {}
    return (
        "gateway" in str(labels.get("istio", ""))
        or "gateway.networking.k8s.io/gateway-name" in labels
        or "gateway.istio.io/managed" in labels
    )


def _has_sidecar(pod: Resource) -> bool:
    """An Istio proxy in the pod (a container, or a native sidecar init container)."""
    return any(
        container.get("name") == "istio-proxy" or "/proxyv2" in str(container.get("image") or "")
        for container in facts_of(pod, PodFacts).get("containers") or []
    )


# annotation -> values meaning "internal" (compared case-insensitively)
_INTERNAL_LB = {
    "service.beta.kubernetes.io/aws-load-balancer-internal": ("true", "0.0.0.0/0"),
    "service.beta.kubernetes.io/aws-load-balancer-scheme": ("internal",),
    "networking.gke.io/load-balancer-type": ("internal",),
    "cloud.google.com/load-balancer-type": ("internal",),
    "service.beta.kubernetes.io/azure-load-balancer-internal": ("true",),
    "service.beta.kubernetes.io/oci-load-balancer-internal": ("true",),
    "service.beta.kubernetes.io/openstack-internal-load-balancer": ("true",),
}


OPEN_RANGES = frozenset({"0.0.0.0/0", "::/0"})


def lb_internal(service: Resource) -> str | None:
    """Why a LoadBalancer is internal (the annotation), or None."""
    annotations = facts_of(service, ServiceFacts).get("annotations") or {}
    for key, values in _INTERNAL_LB.items():
        if str(annotations.get(key, "")).lower() in values:
            return f"{key}={annotations[key]}"
    # The AWS Load Balancer Controller makes internal NLBs unless told internet-facing.
    if facts_of(service, ServiceFacts).get(
        "load_balancer_class"
    ) == "service.k8s.aws/nlb" and not annotations.get(
        "service.beta.kubernetes.io/aws-load-balancer-scheme"
    ):
        return "loadBalancerClass service.k8s.aws/nlb (internal by default)"
    return None


def source_ranges(service: Resource) -> list[str]:
    ranges = list(facts_of(service, ServiceFacts).get("load_balancer_source_ranges") or [])
    legacy = (facts_of(service, ServiceFacts).get("annotations") or {}).get(
        "service.beta.kubernetes.io/load-balancer-source-ranges"
    )
    if not ranges and legacy:
        ranges = [part.strip() for part in str(legacy).split(",") if part.strip()]
    return ranges


def lb_addresses(resource: Resource) -> list[str]:
    return [
        str(item.get("hostname") or item.get("ip"))
        for item in facts_of(resource, ServiceFacts).get("load_balancer_ingress") or []
        if item.get("hostname") or item.get("ip")
    ]


def ports_text(service: Resource, node_ports: bool = False) -> str:
    parts = []
    for port in facts_of(service, ServiceFacts).get("ports") or []:
        text = f"{port.get('port')}/{port.get('protocol') or 'TCP'}"
        if node_ports and port.get("node_port"):
            text = f"{port.get('node_port')} (-> {text})"
        parts.append(text)
    return ", ".join(parts) or "no ports"


class ServiceExposure:
    """What makes each Service reachable from outside the cluster."""

    def __init__(self, inv: Inventory) -> None:
        self.by_service: dict[tuple[str, str, str], list[str]] = defaultdict(list)
        for ingress in inv.of(PROVIDER, "Ingress"):
            hosts = ", ".join(facts_of(ingress, IngressFacts).get("hosts") or []) or "any host"
            for name in facts_of(ingress, IngressFacts).get("backend_services") or []:
                key = (ingress.scope, ingress.namespace, str(name))
                self.by_service[key].append(f"Ingress {qualified(ingress)} ({hosts})")
        for route in inv.of(PROVIDER, "HTTPRoute"):
            hosts = ", ".join(facts_of(route, HTTPRouteFacts).get("hostnames") or []) or "any host"
            for backend in facts_of(route, HTTPRouteFacts).get("backends") or []:
                target = backend.get("name")
                if (backend.get("kind") or "Service") != "Service" or not target:
                    continue
                key = (route.scope, backend.get("namespace") or route.namespace, target)
                text = f"HTTPRoute {qualified(route)} ({hosts})"
                if text not in self.by_service[key]:
                    self.by_service[key].append(text)

    def of(self, service: Resource) -> list[str]:
        found = []
        kind = facts_of(service, ServiceFacts).get("type")
        if kind == "LoadBalancer":
            addresses = lb_addresses(service)
            found.append(f"LoadBalancer {', '.join(addresses) or '(address pending)'}")
        elif kind == "NodePort":
            found.append(f"NodePort {ports_text(service, node_ports=True)}")
        if facts_of(service, ServiceFacts).get("external_ips"):
            found.append(
                f"externalIPs {', '.join(facts_of(service, ServiceFacts)['external_ips'])}"
            )
        found.extend(
            sorted(self.by_service.get((service.scope, service.namespace, service.name), []))
        )
        return found
