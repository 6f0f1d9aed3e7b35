"""Kubernetes objects in general: scopes, names, selectors and workloads.

Everything here reads only what :mod:`postureapp.collectors.kubernetes.normalise`
documents.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

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
    value = (cluster.attrs.get("installed") or {}).get(product)
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


# The CronJob controller names each Job "<cronjob>-<scheduled time in minutes>".
_CRONJOB_JOB = re.compile(r"^(?P<cronjob>.+)-(?P<minutes>\d{8,})$")


@dataclass(frozen=True, order=True, slots=True)
class Workload:
    """What runs pods: a Deployment, DaemonSet, StatefulSet, CronJob, Job or bare Pod."""

    scope: str
    namespace: str
    kind: str
    name: str

    @property
    def uid(self) -> str:
        """Per-workload findings hang here. Deployments and the like are not collected
        (pods name them), so the uid may not be an inventory resource; it is stable across
        rollouts, which a pod's uid is not."""
        return k8s_uid(self.scope, self.kind, self.name, self.namespace or None)

    @property
    def label(self) -> str:
        return f"{self.kind} {self.namespace}/{self.name}"

    @property
    def ref(self) -> str:
        return f"{self.kind}/{self.name}"


def workload_of(pod: Resource) -> Workload:
    """The workload a pod belongs to (``attrs.workload``), with each Job a CronJob
    started folded into the CronJob, so one CronJob is one workload across runs."""
    workload = pod.attrs.get("workload") or {}
    kind = str(workload.get("kind") or "Pod")
    name = str(workload.get("name") or pod.name)
    if kind == "Job":
        match = _CRONJOB_JOB.match(name)
        if match:
            kind, name = "CronJob", match.group("cronjob")
    return Workload(pod.scope, pod.namespace, kind, name)


def is_mirror_pod(pod: Resource) -> bool:
    """A static pod's mirror (owned by its Node): kubelet-managed control-plane pieces
    such as etcd and kube-apiserver; they cannot use service accounts at all."""
    owner = pod.attrs.get("owner") or {}
    return owner.get("kind") == "Node"


def workloads(inv: Inventory) -> dict[Workload, list[Resource]]:
    """Pods grouped by workload, in a stable order; mirror pods are left out."""
    grouped: dict[Workload, list[Resource]] = defaultdict(list)
    for pod in inv.of(PROVIDER, "Pod"):
        if is_mirror_pod(pod):
            continue
        grouped[workload_of(pod)].append(pod)
    return {
        workload: sorted(pods, key=lambda p: p.name) for workload, pods in sorted(grouped.items())
    }


def pods_by_namespace(inv: Inventory) -> dict[tuple[str, str], list[Resource]]:
    grouped: dict[tuple[str, str], list[Resource]] = defaultdict(list)
    for pod in inv.of(PROVIDER, "Pod"):
        grouped[(pod.scope, pod.namespace)].append(pod)
    return grouped


def selected_pods(
    service: Resource, pods: Mapping[tuple[str, str], list[Resource]]
) -> list[Resource]:
    selector = service.attrs.get("selector") or {}
    if not selector:  # a Service without selector selects no pods
        return []
    return [
        pod
        for pod in pods.get((service.scope, service.namespace), [])
        if labels_match(selector, pod.attrs.get("labels") or {})
    ]


def user_namespaces(inv: Inventory, *skip: str) -> list[Resource]:
    """Namespaces the namespace-level checks judge (not the control plane's)."""
    excluded = SYSTEM_NAMESPACES.union(skip)
    return [ns for ns in inv.of(PROVIDER, "Namespace") if ns.name not in excluded]
