"""What the path checks share: one graph per inventory, grouped paths, gaps.

The checks are cross-plane (``provider="paths"``), so the engine cannot narrow their
inventory to the scopes it could fully see: each check asks the graph's gaps itself
and says *unknown* where a kind a path needs was not collected.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from postureapp.graph import Graph, Path, exposed_workloads, graph_of, paths_of
from postureapp.inventory import Inventory

PROVIDER = "paths"
MAX_PATHS = 5  # in a finding's evidence; the first is the worst


class Facts:
    """The graph of one inventory and the paths grouped the ways the checks need."""

    def __init__(self, inv: Inventory) -> None:
        self.graph: Graph = graph_of(inv)
        self.paths: list[Path] = paths_of(inv)
        self.exposed: dict[str, list[str]] = exposed_workloads(self.graph)
        self.by_workload: dict[str, list[Path]] = defaultdict(list)
        for path in self.paths:
            workload = path.workload
            if workload is not None:
                self.by_workload[workload.uid].append(path)

    def scope_gap(self, workload_uid: str) -> str | None:
        """Why the cluster (or cloud) half of this workload's paths is not fully known."""
        node = self.graph.nodes.get(workload_uid)
        if node is None:
            return None
        scope = node.facts.get("scope")
        if scope and f"k8s://{scope}" in self.graph.gaps:
            return self.graph.gaps[f"k8s://{scope}"]
        return None

    def identity_gaps(self, workload_uid: str) -> list[str]:
        """Gaps on the workload itself (an instance profile's role not read) and on the
        identities it runs as (an IAM role not judged, Pod Identity not read). A gap on a
        service account counts even without an ``assumes`` edge: the missing link is the
        very thing that could not be seen."""
        found = []
        if workload_uid in self.graph.gaps:
            found.append(self.graph.gaps[workload_uid])
        for edge in self.graph.out(workload_uid, "runs-as", "runs"):
            if edge.target in self.graph.gaps:
                found.append(self.graph.gaps[edge.target])
            for assumed in self.graph.out(edge.target, "assumes"):
                if assumed.target in self.graph.gaps:
                    found.append(self.graph.gaps[assumed.target])
                account = assumed.target.split(":")[4] if assumed.target.count(":") > 4 else ""
                if f"aws://{account}" in self.graph.gaps:
                    found.append(self.graph.gaps[f"aws://{account}"])
        return found


def facts(inv: Inventory) -> Facts:
    """One graph per inventory: the five path checks share it."""
    return inv.derived("path-facts", Facts)


def evidence(paths: list[Path], **extra: Any) -> dict[str, Any]:
    """``hops`` of the worst path, and up to :data:`MAX_PATHS` paths in full."""
    ordered = sorted(paths, key=lambda p: (p.conditional, len(p.hops)))
    return {
        "hops": [hop.to_dict() for hop in ordered[0].hops] if ordered else [],
        "paths": [path.to_dict() for path in ordered[:MAX_PATHS]],
        "path_count": len(paths),
        **extra,
    }
