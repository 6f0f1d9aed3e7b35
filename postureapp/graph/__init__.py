"""The identity graph across Kubernetes and AWS: who is exposed, runs as whom, and can
do what. Headless: checks, the dashboard and the exports all build it from an
:class:`~postureapp.inventory.Inventory` with :func:`build_graph`, once per snapshot at
judge time; the cache keeps it (:func:`derived_facts`) and readers decode it."""

from postureapp.graph.build import build_graph, derived_facts, graph_of, paths_of
from postureapp.graph.codec import decode_graph, decode_paths, encode_graph
from postureapp.graph.graph import Graph
from postureapp.graph.model import Edge, Grant, Hop, Node, Path, Permission, Unknown
from postureapp.graph.paths import attack_paths, exposed_workloads, paths_from

__all__ = [
    "Edge",
    "Grant",
    "Graph",
    "Hop",
    "Node",
    "Path",
    "Permission",
    "Unknown",
    "attack_paths",
    "build_graph",
    "decode_graph",
    "decode_paths",
    "derived_facts",
    "encode_graph",
    "exposed_workloads",
    "graph_of",
    "paths_from",
    "paths_of",
]
