"""Build the graph from one snapshot's inventory (or its stored resources)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from postureapp.graph.cloud import CloudBuilder
from postureapp.graph.credentials import credentials_of
from postureapp.graph.graph import Graph
from postureapp.graph.kube import KubeBuilder
from postureapp.graph.paths import attack_paths
from postureapp.inventory import Inventory
from postureapp.model import CollectorRun, Resource


def build_graph(inv: Inventory) -> Graph:
    """Nodes, edges, permissions and gaps of one inventory. Pure: no I/O beyond reading
    botocore's bundled service models (once per process)."""
    graph = Graph()
    KubeBuilder(inv, graph).build()
    CloudBuilder(inv, graph).build()
    graph.credentials = credentials_of(inv, graph)
    return graph


def graph_from_resources(resources: Iterable[Resource], runs: Iterable[CollectorRun] = ()) -> Graph:
    """The graph of stored resources, e.g. a snapshot read back from the cache."""
    return build_graph(Inventory(resources=list(resources), runs=list(runs)))


def resources_from_rows(rows: Iterable[Mapping[str, Any]]) -> list[Resource]:
    """Stored resource rows (``Store.resources``) back into :class:`Resource` objects."""
    return [
        Resource(
            uid=row["uid"],
            provider=row["provider"],
            scope=row["scope"],
            kind=row["kind"],
            name=row["name"],
            namespace=row.get("namespace") or "",
            attrs=dict(row.get("attrs") or {}),
            created_at=row.get("created_at"),
        )
        for row in rows
    ]


def attack_paths_document(
    rows: Iterable[Mapping[str, Any]], runs: Iterable[CollectorRun] = ()
) -> list[dict[str, Any]]:
    """Every attack path of a stored snapshot as JSON (a list of hops each)."""
    graph = graph_from_resources(resources_from_rows(rows), runs)
    return [path.to_dict() for path in attack_paths(graph)]
