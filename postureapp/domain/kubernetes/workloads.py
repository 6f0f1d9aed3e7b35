"""Workloads: what runs pods, resolved once per inventory.

A workload is the top-most controller present in the inventory (a Deployment above its
ReplicaSets, a CronJob above its Jobs, a StatefulSet, a DaemonSet, or a ReplicaSet or
Job of their own), together with its running pods; a pod without a controller is its
own workload. A controller with no pod running (scaled to zero, a CronJob that has not
run yet) is a workload too, judged from its pod template.

When a pod's controller is not in the inventory, the pod's own inference stands for
grouping (a ReplicaSet named ``<deployment>-<pod-template-hash>`` is the Deployment, a
Job named ``<cronjob>-<minutes>`` the CronJob). Where findings hang (:attr:`Workload.uid`)
follows what was collected: the controller when present; otherwise, in a scope whose
collection recorded what it read (every collector does), the workload's first pod, so
that every finding names a resource the export holds; in a hand-built inventory, the
inferred controller's uid.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field

from postureapp.facts import facts_of
from postureapp.facts.kubernetes_workloads import (
    CONTROLLER_KINDS,
    PodFacts,
    PodSpecFacts,
    WorkloadControllerFacts,
)
from postureapp.inventory import Inventory
from postureapp.model import Resource, k8s_uid

PROVIDER = "kubernetes"

# The CronJob controller names each Job "<cronjob>-<scheduled time in minutes>".
_CRONJOB_JOB = re.compile(r"^(?P<cronjob>.+)-(?P<minutes>\d{8,})$")


@dataclass(frozen=True, order=True, slots=True)
class Workload:
    """What runs pods: a Deployment, DaemonSet, StatefulSet, CronJob, Job, ReplicaSet or
    bare Pod. Equal (and hashed) by scope, namespace, kind and name."""

    scope: str
    namespace: str
    kind: str
    name: str
    # The resource findings hang on; "" for the inferred controller's uid.
    anchor: str = field(default="", compare=False)
    # The controller, when it is in the inventory: its template is judged too.
    controller: Resource | None = field(default=None, compare=False, repr=False)

    @property
    def uid(self) -> str:
        """Per-workload findings hang here: stable across rollouts when the controller
        was collected (see the module docstring otherwise)."""
        return self.anchor or k8s_uid(self.scope, self.kind, self.name, self.namespace or None)

    @property
    def label(self) -> str:
        return f"{self.kind} {self.namespace}/{self.name}"

    @property
    def ref(self) -> str:
        return f"{self.kind}/{self.name}"


def is_mirror_pod(pod: Resource) -> bool:
    """A static pod's mirror (owned by its Node): kubelet-managed control-plane pieces
    such as etcd and kube-apiserver; they cannot use service accounts at all."""
    owner = facts_of(pod, PodFacts).get("owner")
    return owner is not None and owner.get("kind") == "Node"


def spec_of(resource: Resource) -> PodSpecFacts:
    """The pod spec a Pod runs, or a controller's pod template."""
    if resource.kind == "Pod":
        return facts_of(resource, PodFacts)
    template = facts_of(resource, WorkloadControllerFacts).get("template")
    return template if template is not None else facts_of(resource, PodFacts)


def inferred(pod: Resource) -> tuple[str, str]:
    """(kind, name) of the workload a pod names itself (``attrs.workload``), with each
    Job a CronJob started folded into the CronJob."""
    workload = facts_of(pod, PodFacts).get("workload") or {}
    kind = str(workload.get("kind") or "Pod")
    name = str(workload.get("name") or pod.name)
    if kind == "Job":
        match = _CRONJOB_JOB.match(name)
        if match:
            kind, name = "CronJob", match.group("cronjob")
    return kind, name


class Workloads:
    """Every workload of an inventory with its pods, in a stable order."""

    def __init__(self, inv: Inventory) -> None:
        self.inv = inv
        self._controllers: dict[tuple[str, str, str, str], Resource] = {}
        for kind in CONTROLLER_KINDS:
            for resource in inv.of(PROVIDER, kind):
                key = (resource.scope, resource.namespace, kind, resource.name)
                self._controllers[key] = resource
        self._recorded = {
            scope: bool(inv.kind_states(PROVIDER, scope)) for scope in inv.scopes(PROVIDER)
        }
        grouped: dict[Workload, list[Resource]] = defaultdict(list)
        self.of_pod: dict[str, Workload] = {}
        for controller in self._controllers.values():
            if self._root(controller) is controller:
                grouped.setdefault(self._of_controller(controller), [])
        loose: dict[Workload, list[Resource]] = defaultdict(list)
        for pod in inv.of(PROVIDER, "Pod"):
            if is_mirror_pod(pod):
                continue
            workload = self._of_pod(pod)
            (grouped if workload.anchor or workload.kind == "Pod" else loose)[workload].append(pod)
        for workload, pods in loose.items():
            pods.sort(key=lambda p: p.name)
            if self._recorded.get(workload.scope):
                workload = _anchored(workload, pods[0].uid)
            grouped[workload].extend(pods)
        self.by_workload = {
            workload: sorted(pods, key=lambda p: p.name)
            for workload, pods in sorted(grouped.items())
        }
        for workload, pods in self.by_workload.items():
            for pod in pods:
                self.of_pod[pod.uid] = workload

    def _owner(self, resource: Resource) -> Resource | None:
        owner = facts_of(resource, WorkloadControllerFacts).get("owner")
        if not owner:
            return None
        key = (resource.scope, resource.namespace, str(owner.get("kind")), str(owner.get("name")))
        return self._controllers.get(key)

    def _root(self, controller: Resource) -> Resource:
        seen = {controller.uid}
        while (owner := self._owner(controller)) is not None and owner.uid not in seen:
            seen.add(owner.uid)
            controller = owner
        return controller

    @staticmethod
    def _of_controller(controller: Resource) -> Workload:
        return Workload(
            controller.scope,
            controller.namespace,
            controller.kind,
            controller.name,
            anchor=controller.uid,
            controller=controller,
        )

    def _of_pod(self, pod: Resource) -> Workload:
        owner = self._owner(pod)
        if owner is not None:
            return self._of_controller(self._root(owner))
        kind, name = inferred(pod)
        if kind == "Pod":
            return Workload(pod.scope, pod.namespace, "Pod", pod.name, anchor=pod.uid)
        present = self._controllers.get((pod.scope, pod.namespace, kind, name))
        if present is not None:
            return self._of_controller(self._root(present))
        return Workload(pod.scope, pod.namespace, kind, name)


def _anchored(workload: Workload, anchor: str) -> Workload:
    return Workload(workload.scope, workload.namespace, workload.kind, workload.name, anchor)


def index(inv: Inventory) -> Workloads:
    """The inventory's workloads, resolved once for every check and the graph."""
    found: Workloads = inv.derived("workloads", Workloads)
    return found


def workloads(inv: Inventory) -> dict[Workload, list[Resource]]:
    """Workloads and their pods (none for a controller with no pod running), in a stable
    order; mirror pods are left out."""
    return index(inv).by_workload


def workload_of(pod: Resource, inv: Inventory | None = None) -> Workload:
    """The workload a pod belongs to (resolved against ``inv`` when given)."""
    if inv is not None:
        found = index(inv).of_pod.get(pod.uid)
        if found is not None:
            return found
    kind, name = inferred(pod)
    if kind == "Pod":
        return Workload(pod.scope, pod.namespace, kind, name, anchor=pod.uid)
    return Workload(pod.scope, pod.namespace, kind, name)


def specs(workload: Workload, pods: list[Resource]) -> list[tuple[str, PodSpecFacts]]:
    """(where, pod spec) for everything a workload runs or would run: its controller's
    template (``where`` "template") and each pod (its name)."""
    found: list[tuple[str, PodSpecFacts]] = []
    if workload.controller is not None:
        found.append(("template", spec_of(workload.controller)))
    found.extend((pod.name, spec_of(pod)) for pod in pods)
    return found
