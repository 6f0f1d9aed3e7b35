"""The identity graph: nodes, typed edges, permissions, and what could not be seen."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from postureapp.graph.model import CAPABILITIES, Edge, Node, Permission, Unknown


@dataclass
class Graph:
    """Built by :func:`postureapp.graph.build.build_graph`; read by checks, TUI, exports."""

    nodes: dict[str, Node] = field(default_factory=dict)
    edges: list[Edge] = field(default_factory=list)
    # identity node uid -> its capabilities (IAM principals, service accounts)
    permissions: dict[str, list[Permission]] = field(default_factory=dict)
    # (service account uid, k8s role uid) -> what the binding(s) grant there
    edge_permissions: dict[tuple[str, str], list[Permission]] = field(default_factory=dict)
    # node uid -> why what lies beyond it could not be judged (a kind not collected)
    gaps: dict[str, str] = field(default_factory=dict)
    # service accounts whose role annotation the role's trust policy does not honour
    near_misses: list[dict[str, Any]] = field(default_factory=list)
    # resource uids that stand for a node: a pod for its workload
    aliases: dict[str, str] = field(default_factory=dict)
    # identity node uid -> its credentials (postureapp.graph.credentials.Credential)
    credentials: dict[str, list[Any]] = field(default_factory=dict)
    # edges that may exist but could not be seen, each with the read that failed
    unknown: list[Unknown] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._out: dict[str, list[Edge]] = defaultdict(list)
        self._in: dict[str, list[Edge]] = defaultdict(list)
        self._seen: set[tuple[str, str, str]] = set()
        for edge in self.edges:
            self._index(edge)

    def add_node(self, node: Node) -> Node:
        """Add a node once; the first description of a uid wins."""
        return self.nodes.setdefault(node.uid, node)

    def add_edge(self, edge: Edge) -> None:
        key = (edge.source, edge.target, edge.relation)
        if key in self._seen:
            return
        self.edges.append(edge)
        self._index(edge)

    def _index(self, edge: Edge) -> None:
        self._seen.add((edge.source, edge.target, edge.relation))
        self._out[edge.source].append(edge)
        self._in[edge.target].append(edge)

    def add_unknown(
        self,
        source: str,
        reaches: str,
        reason: str,
        *,
        gap: bool = True,
        gap_text: str | None = None,
    ) -> None:
        """Record an edge from ``source`` that could not be seen, once; with ``gap``, also
        extend ``source``'s gap (what the path checks judge; ``gap_text`` or "<reaches>
        could not be judged: <reason>"), keeping earlier reasons."""
        unknown = Unknown(source, reaches, reason)
        if unknown not in self.unknown:
            self.unknown.append(unknown)
        if not gap:
            return
        text = gap_text or f"{reaches} could not be judged: {reason}"
        known = self.gaps.get(source)
        if known is None:
            self.gaps[source] = text
        elif text not in known:
            self.gaps[source] = f"{known}; {text}"

    def unknown_from(self, uid: str) -> list[Unknown]:
        """The unseen edges out of one node, in the order they were found."""
        return [u for u in self.unknown if u.source == uid]

    def out(self, uid: str, *relations: str) -> list[Edge]:
        edges = self._out.get(uid, [])
        return [e for e in edges if e.relation in relations] if relations else list(edges)

    def into(self, uid: str, *relations: str) -> list[Edge]:
        edges = self._in.get(uid, [])
        return [e for e in edges if e.relation in relations] if relations else list(edges)

    def of_kind(self, kind: str) -> list[Node]:
        return sorted((n for n in self.nodes.values() if n.kind == kind), key=lambda n: n.uid)

    def reach(self, uid: str) -> list[Permission]:
        """Every capability an identity holds, directly or through its bindings and the
        IAM roles it assumes (worst first, one per capability and plane)."""
        found: dict[tuple[str, str], Permission] = {}
        for perm in self.permissions.get(uid, []):
            found.setdefault((perm.capability, perm.plane), perm)
        for edge in self.out(uid, "bound-to"):
            for perm in self.edge_permissions.get((uid, edge.target), []):
                found.setdefault((perm.capability, perm.plane), perm)
        for edge in self.out(uid, "assumes", "runs"):
            for perm in self.permissions.get(edge.target, []):
                found.setdefault((perm.capability, perm.plane), perm)
        return sorted(found.values(), key=lambda p: (CAPABILITIES.index(p.capability), p.plane))
