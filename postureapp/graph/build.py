"""Build the graph from one snapshot's inventory, and the facts derived from it."""

from __future__ import annotations

from typing import Any

from postureapp.graph.cloud import CloudBuilder, role_account
from postureapp.graph.codec import encode_graph
from postureapp.graph.credentials import credentials_of
from postureapp.graph.graph import Graph
from postureapp.graph.kube import KubeBuilder
from postureapp.graph.model import (
    IAM_GROUP,
    IAM_ROLE,
    IAM_USER,
    K8S_GROUP,
    K8S_USER,
    SERVICE_ACCOUNT,
    Path,
)
from postureapp.graph.paths import attack_paths
from postureapp.graph.reach import exposure_table
from postureapp.inventory import Inventory


def build_graph(inv: Inventory) -> Graph:
    """Nodes, edges, permissions and gaps of one inventory. Pure: no I/O beyond reading
    botocore's bundled service models (once per process)."""
    graph = Graph()
    KubeBuilder(inv, graph).build()
    CloudBuilder(inv, graph).build()
    graph.credentials = credentials_of(inv, graph)
    _scope_unknowns(graph)
    return graph


_KUBE_REACH = {
    SERVICE_ACCOUNT: "Kubernetes roles through bindings",
    K8S_USER: "more Kubernetes roles through bindings",
    K8S_GROUP: "more Kubernetes roles through bindings",
}
_IAM = (IAM_ROLE, IAM_USER, IAM_GROUP)


def _scope_unknowns(graph: Graph) -> None:
    """Each identity in a cluster or account that was not fully read may reach more than
    its edges show: an unknown edge on it, so the blast radius says so where it stops.
    (The path checks already judge these scope gaps: no node gap is added.)"""
    for node in list(graph.nodes.values()):
        if node.kind in _KUBE_REACH:
            scope = node.facts.get("scope")
            why = graph.gaps.get(f"k8s://{scope}") or graph.gaps.get("k8s://*")
            if scope and why:
                graph.add_unknown(node.uid, _KUBE_REACH[node.kind], why, gap=False)
        elif node.kind in _IAM:
            account = role_account(node.uid)
            why = graph.gaps.get(f"aws://{account}") or graph.gaps.get("aws://*")
            if why:
                graph.add_unknown(node.uid, "more IAM permissions or roles", why, gap=False)


def graph_of(inv: Inventory) -> Graph:
    """The inventory's graph, built once however many checks and readers ask."""
    graph: Graph = inv.derived("graph", build_graph)
    return graph


def paths_of(inv: Inventory) -> list[Path]:
    """The inventory's attack paths, found once."""
    paths: list[Path] = inv.derived("attack-paths", lambda i: attack_paths(graph_of(i)))
    return paths


def derived_facts(inv: Inventory) -> dict[str, Any]:
    """What the cache keeps beside a snapshot so readers never rebuild it: the identity
    graph, its attack paths, and each identity's exposure (the Identities view's
    columns), all judged with the inventory's settings."""
    graph = graph_of(inv)
    paths = paths_of(inv)
    exposure = exposure_table(graph, paths)
    return {
        "graph": encode_graph(graph),
        "attack_paths": [path.to_dict() for path in paths],
        "exposure": {
            uid: [row.exposed, row.reach, row.rank] for uid, row in sorted(exposure.items())
        },
    }
