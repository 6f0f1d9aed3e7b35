"""The identity graph across Kubernetes and AWS: who is exposed, runs as whom, and can
do what. Headless: checks, the dashboard and the exports all build it from an
:class:`~postureapp.inventory.Inventory` with :func:`build_graph`."""

from postureapp.graph.build import attack_paths_document, build_graph, graph_from_resources
from postureapp.graph.graph import Graph
from postureapp.graph.model import Edge, Grant, Hop, Node, Path, Permission
from postureapp.graph.paths import attack_paths, exposed_workloads, paths_from

__all__ = [
    "Edge",
    "Grant",
    "Graph",
    "Hop",
    "Node",
    "Path",
    "Permission",
    "attack_paths",
    "attack_paths_document",
    "build_graph",
    "exposed_workloads",
    "graph_from_resources",
    "paths_from",
]
