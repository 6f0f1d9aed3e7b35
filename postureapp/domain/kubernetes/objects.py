"""Kubernetes objects in general: scopes, names, selectors and workloads.

Everything here reads only what :mod:`postureapp.collectors.kubernetes.normalise`
documents.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from typing import Any

# Workloads moved to their own module; these names stay importable from here.
from postureapp.domain.kubernetes.workloads import Workload as Workload
from postureapp.domain.kubernetes.workloads import is_mirror_pod as is_mirror_pod
from postureapp.domain.kubernetes.workloads import workload_of as workload_of
from postureapp.domain.kubernetes.workloads import workloads as workloads
from postureapp.facts import facts_of
from postureapp.facts.kubernetes import ClusterFacts, ServiceFacts
from postureapp.facts.kubernetes_workloads import PodFacts
from postureapp.inventory import Inventory
from postureapp.model import Resource, k8s_uid

PROVIDER = "kubernetes"


# Namespaces the control plane owns. The namespace-level checks (network policies, mesh
# mTLS, default-deny coverage) skip them: their pods are the cluster's own plumbing
# (DNS, CNI, kube-proxy), which commonly cannot sit behind a default-deny policy or a
# sidecar, so a finding there would only ever be waived.
SYSTEM_NAMESPACES = frozenset({"kube-system", "kube-public", "kube-node-lease"})


def cluster_uid(scope: str) -> str:
    """The synthetic ``Cluster`` resource's uid: cluster-wide findings hang on it."""
    return k8s_uid(scope, "Cluster", scope)


def scopes_of(inv: Inventory, *kinds: str) -> list[str]:
    """The clusters the inventory holds data for, judged from the ``Cluster`` resources
    and the given kinds. Deliberately not ``inv.scopes()``: in the view the engine hands
    a check, a scope it excluded for missing data is still listed there, and a
    cluster-wide verdict on it would be a verdict without data."""
    found = {r.scope for r in inv.of(PROVIDER, "Cluster")}
    for kind in kinds:
        found.update(r.scope for r in inv.of(PROVIDER, kind))
    return sorted(found)


def installed(inv: Inventory, scope: str, product: str) -> bool | None:
    """``Cluster.installed[product]``: True, False, or None when unknown or unrecorded."""
    cluster = inv.get(cluster_uid(scope))
    if cluster is None:
        return None
    value = (facts_of(cluster, ClusterFacts).get("installed") or {}).get(product)
    return value if isinstance(value, bool) else None


def qualified(resource: Resource) -> str:
    """``namespace/name`` for namespaced objects, ``name`` otherwise."""
    return f"{resource.namespace}/{resource.name}" if resource.namespace else resource.name


def labels_match(match_labels: Mapping[str, str], labels: Mapping[str, str]) -> bool:
    """Equality-based selection (a Service selector, an Istio workload selector)."""
    return all(labels.get(key) == value for key, value in match_labels.items())


def selector_matches(selector: Mapping[str, Any] | None, labels: Mapping[str, str]) -> bool:
    """A normalised metav1.LabelSelector against labels; an empty selector selects all,
    a None selector nothing (as for aggregation rules and namespace selectors)."""
    if selector is None:
        return False
    if not labels_match(selector.get("match_labels") or {}, labels):
        return False
    for expression in selector.get("match_expressions") or []:
        key = expression.get("key", "")
        operator = expression.get("operator", "")
        values = expression.get("values") or []
        if operator == "In" and labels.get(key) not in values:
            return False
        if operator == "NotIn" and key in labels and labels[key] in values:
            return False
        if operator == "Exists" and key not in labels:
            return False
        if operator == "DoesNotExist" and key in labels:
            return False
        if operator not in ("In", "NotIn", "Exists", "DoesNotExist"):
            return False  # an operator we do not know selects nothing, never everything
    return True


def pods_by_namespace(inv: Inventory) -> dict[tuple[str, str], list[Resource]]:
    grouped: dict[tuple[str, str], list[Resource]] = defaultdict(list)
    for pod in inv.of(PROVIDER, "Pod"):
        grouped[(pod.scope, pod.namespace)].append(pod)
    return grouped


def selected_pods(
    service: Resource, pods: Mapping[tuple[str, str], list[Resource]]
) -> list[Resource]:
    selector = facts_of(service, ServiceFacts).get("selector") or {}
    if not selector:  # a Service without selector selects no pods
        return []
    return [
        pod
        for pod in pods.get((service.scope, service.namespace), [])
        if labels_match(selector, facts_of(pod, PodFacts).get("labels") or {})
    ]


def user_namespaces(inv: Inventory, *skip: str) -> list[Resource]:
    """Namespaces the namespace-level checks judge (not the control plane's)."""
    excluded = SYSTEM_NAMESPACES.union(skip)
    return [ns for ns in inv.of(PROVIDER, "Namespace") if ns.name not in excluded]
