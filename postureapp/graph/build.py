"""Build the graph from one snapshot's inventory, and the facts derived from it."""

from __future__ import annotations

from typing import Any

from postureapp.graph.cloud import CloudBuilder
from postureapp.graph.codec import encode_graph
from postureapp.graph.credentials import credentials_of
from postureapp.graph.graph import Graph
from postureapp.graph.kube import KubeBuilder
from postureapp.graph.model import Path
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
    return graph


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
