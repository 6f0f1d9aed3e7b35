"""Istio mTLS semantics: the mode each namespace really runs in (mesh-wide, namespace and
workload PeerAuthentications, port-level exceptions, plaintext DestinationRules) and
which pods are in the mesh."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from postureapp.domain.kubernetes.objects import PROVIDER, qualified, user_namespaces
from postureapp.facts import facts_of
from postureapp.facts.kubernetes import (
    DestinationRuleFacts,
    NamespaceFacts,
    PeerAuthenticationFacts,
)
from postureapp.facts.kubernetes_workloads import PodFacts
from postureapp.inventory import Inventory
from postureapp.model import Resource, Severity, Status

_WEAK = ("PERMISSIVE", "DISABLE")


def mesh_root(inv: Inventory) -> str:
    return str(inv.setting("istio_root_namespace", "istio-system") or "istio-system")


def _oldest(policies: list[Resource]) -> Resource | None:
    """Istio applies the oldest of several namespace-wide policies."""
    if not policies:
        return None
    return sorted(policies, key=lambda p: (p.created_at or "", p.name))[0]


def _in_mesh(pod: Resource) -> bool:
    labels = facts_of(pod, PodFacts).get("labels") or {}
    annotations = facts_of(pod, PodFacts).get("annotations") or {}
    containers = facts_of(pod, PodFacts).get("containers") or []
    return (
        labels.get("security.istio.io/tlsMode") == "istio"
        or "sidecar.istio.io/status" in annotations
        or "ambient.istio.io/redirection" in annotations
        or any(c.get("name") == "istio-proxy" for c in containers)
    )


def _namespace_meshed(namespace: Resource) -> str | None:
    labels = facts_of(namespace, NamespaceFacts).get("labels") or {}
    if labels.get("istio-injection") == "enabled":
        return "istio-injection=enabled"
    if labels.get("istio.io/rev") and labels.get("istio-injection") != "disabled":
        return f"istio.io/rev={labels['istio.io/rev']}"
    if labels.get("istio.io/dataplane-mode") == "ambient":
        return "istio.io/dataplane-mode=ambient"
    return None


@dataclass
class MeshVerdict:
    """The mTLS verdict for one namespace (or, with ``namespace`` None, the mesh)."""

    scope: str
    namespace: Resource | None
    status: Status
    detail: str
    evidence: dict[str, Any]
    severity: Severity | None = None


def _namespace_wide(policy: Resource) -> bool:
    return facts_of(policy, PeerAuthenticationFacts).get("selector") is None


def _mode(policy: Resource | None) -> str:
    return str(
        (facts_of(policy, PeerAuthenticationFacts).get("mtls_mode") if policy else None) or "UNSET"
    )


def _weak_ports(policy: Resource) -> list[str]:
    return sorted(
        f"port {port} {mode}"
        for port, mode in (
            facts_of(policy, PeerAuthenticationFacts).get("port_level_mtls") or {}
        ).items()
        if mode in _WEAK
    )


def mesh_verdicts(inv: Inventory, scope: str) -> list[MeshVerdict]:
    """The mesh-wide verdict and one per user namespace, for a cluster with Istio."""
    root = mesh_root(inv)
    policies = inv.of(PROVIDER, "PeerAuthentication", scope)
    rules = inv.of(PROVIDER, "DestinationRule", scope)
    pods: dict[str, list[Resource]] = defaultdict(list)
    for pod in inv.of(PROVIDER, "Pod", scope):
        if not facts_of(pod, PodFacts).get(
            "host_network"
        ):  # host-network pods cannot have a sidecar
            pods[pod.namespace].append(pod)

    mesh_policy = _oldest(
        [
            p
            for p in policies
            if p.namespace == root and facts_of(p, PeerAuthenticationFacts).get("selector") is None
        ]
    )
    mesh_mode = _mode(mesh_policy)
    if mesh_policy is None:
        mesh_mode = "PERMISSIVE"
        mesh_why = f"no mesh-wide PeerAuthentication in {root}: Istio's default is PERMISSIVE"
    elif mesh_mode == "UNSET":
        mesh_mode = "PERMISSIVE"
        mesh_why = f"mesh-wide PeerAuthentication {qualified(mesh_policy)} sets no mode: PERMISSIVE"
    else:
        mesh_why = f"mesh-wide PeerAuthentication {qualified(mesh_policy)} is {mesh_mode}"
    verdicts = [
        MeshVerdict(
            scope,
            None,
            Status.PASS if mesh_mode == "STRICT" else Status.FAIL,
            mesh_why,
            {"mode": mesh_mode, "policy": qualified(mesh_policy) if mesh_policy else None},
            Severity.HIGH if mesh_mode == "DISABLE" else None,
        )
    ]
    for namespace in sorted(user_namespaces(inv, root), key=lambda r: r.name):
        if namespace.scope != scope:
            continue
        name = namespace.name
        own = [p for p in policies if p.namespace == name]
        ns_policy = _oldest(
            [p for p in own if facts_of(p, PeerAuthenticationFacts).get("selector") is None]
        )
        mode = _mode(ns_policy)
        if ns_policy is None or mode == "UNSET":
            mode, source = mesh_mode, f"inherited: {mesh_why}"
        else:
            source = f"PeerAuthentication {qualified(ns_policy)} is {mode}"
        partial: list[str] = []
        if ns_policy is not None:
            partial.extend(f"{qualified(ns_policy)} {text}" for text in _weak_ports(ns_policy))
        for policy in sorted(own, key=lambda p: p.name):
            if facts_of(policy, PeerAuthenticationFacts).get("selector") is None:
                continue
            weak = []
            if facts_of(policy, PeerAuthenticationFacts).get("mtls_mode") in _WEAK:
                weak.append(str(facts_of(policy, PeerAuthenticationFacts)["mtls_mode"]))
            weak.extend(_weak_ports(policy))
            if weak:
                labels = facts_of(policy, PeerAuthenticationFacts).get("selector") or {}
                selector = ",".join(f"{k}={v}" for k, v in sorted(labels.items()))
                partial.append(f"{qualified(policy)} ({selector or 'all'}): {', '.join(weak)}")
        for rule in sorted((r for r in rules if r.namespace == name), key=lambda r: r.name):
            facts = facts_of(rule, DestinationRuleFacts)
            modes = [facts.get("tls_mode")]
            modes += list((facts.get("port_level_tls") or {}).values())
            modes += [subset.get("tls_mode") for subset in facts.get("subsets") or []]
            if "DISABLE" in modes:
                partial.append(
                    f"DestinationRule {qualified(rule)} sends plaintext to {facts.get('host')}"
                )
        meshed = _namespace_meshed(namespace)
        sidecars = [pod for pod in pods.get(name, []) if _in_mesh(pod)]
        outside = sorted({pod.name for pod in pods.get(name, []) if not _in_mesh(pod)})
        evidence: dict[str, Any] = {"mode": mode, "injection": meshed, "partial": partial}
        if not meshed and not sidecars and outside:
            status, severity = Status.FAIL, None
            detail = (
                f"namespace {name} is not in the mesh (no sidecar injection label, no sidecar "
                "on its pods): its traffic is not mutually authenticated"
            )
            if partial:
                detail += f"; also {'; '.join(partial)}"
        elif mode in _WEAK:
            status = Status.FAIL
            severity = Severity.HIGH if mode == "DISABLE" else None
            detail = f"namespace {name} accepts plaintext: {source}"
        elif partial:
            status, severity = Status.FAIL, None
            detail = f"namespace {name} is STRICT ({source}) except: {'; '.join(partial)}"
        else:
            status, severity = Status.PASS, None
            detail = f"namespace {name} requires mTLS ({source})"
        verdicts.append(MeshVerdict(scope, namespace, status, detail, evidence, severity))
    return verdicts
