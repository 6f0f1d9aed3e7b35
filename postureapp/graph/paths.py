"""Attack paths: from every internet-facing endpoint to what its workloads' identities
can do, in either plane, hop by hop with the evidence of each hop."""

from __future__ import annotations

from postureapp.graph.graph import Graph
from postureapp.graph.model import (
    ASSUMES,
    ASSUMES_ROLE,
    BOUND_TO,
    CAN,
    CAPABILITY,
    ENDPOINT,
    EXPOSES,
    IAM_ROLE,
    IAM_USER,
    RUNS,
    RUNS_AS,
    WORKLOAD,
    Edge,
    Hop,
    Node,
    Path,
    Permission,
)

# Which relations lead on from a node of each kind.
_NEXT = {
    ENDPOINT: (EXPOSES,),
    WORKLOAD: (RUNS_AS, RUNS),
    "service-account": (BOUND_TO, ASSUMES),
    IAM_ROLE: (ASSUMES_ROLE,),
    IAM_USER: (ASSUMES_ROLE,),
}
# Role chains longer than this are not followed (AWS caps a chained session at an hour,
# and each hop is one more trust to grant; real chains are short).
MAX_CHAIN = 4


def node_hop(node: Node, edge: Edge | None) -> Hop:
    """The hop reaching ``node`` through ``edge`` (None for the first)."""
    if edge is None:
        evidence = {"why": node.facts.get("why", ""), "detail": node.detail}
    else:
        evidence = dict(edge.evidence)
    return Hop(node.kind, node.uid, node.name, edge.relation if edge else None, evidence)


def capability_hop(holder: str, perm: Permission) -> Hop:
    return Hop(
        CAPABILITY,
        f"{holder}#{perm.plane}:{perm.capability}",
        perm.summary(),
        CAN,
        {
            "grants": [grant.to_dict() for grant in perm.grants],
            "denied": list(perm.denied),
            "conditional": perm.conditional,
        },
    )


def paths_from(graph: Graph, start: str, *, internet_only: bool = True) -> list[Path]:
    """Every path from one node (an endpoint, workload or identity) to a capability."""
    node = graph.nodes.get(start)
    if node is None or (internet_only and node.kind == ENDPOINT and not node.internet):
        return []
    found: list[Path] = []
    _walk(graph, node, [node_hop(node, None)], {node.uid}, found)
    return found


def _walk(graph: Graph, node: Node, hops: list[Hop], seen: set[str], found: list[Path]) -> None:
    for perm in graph.permissions.get(node.uid, []):
        found.append(_path([*hops, capability_hop(node.uid, perm)], perm))
    for edge in graph.out(node.uid, *_NEXT.get(node.kind, ())):
        target = graph.nodes.get(edge.target)
        if target is None or target.uid in seen:
            continue
        if edge.relation == ASSUMES_ROLE and _chain_length(hops) >= MAX_CHAIN:
            continue
        step = [*hops, node_hop(target, edge)]
        if edge.relation == BOUND_TO:
            for perm in graph.edge_permissions.get((node.uid, target.uid), []):
                found.append(_path([*step, capability_hop(target.uid, perm)], perm))
            continue
        _walk(graph, target, step, seen | {target.uid}, found)


def _chain_length(hops: list[Hop]) -> int:
    return sum(1 for hop in hops if hop.relation == ASSUMES_ROLE)


def role_chains(graph: Graph, start: str) -> list[list[Edge]]:
    """Every chain of ``assumes-role`` edges from one IAM principal (breadth first,
    shortest first, each role once, at most :data:`MAX_CHAIN` hops)."""
    chains: list[list[Edge]] = []
    frontier: list[list[Edge]] = [[]]
    seen = {start}
    for _ in range(MAX_CHAIN):
        following = []
        for chain in frontier:
            here = chain[-1].target if chain else start
            for edge in graph.out(here, ASSUMES_ROLE):
                if edge.target in seen:
                    continue
                seen.add(edge.target)
                following.append([*chain, edge])
        chains.extend(following)
        frontier = following
    return chains


def _path(hops: list[Hop], perm: Permission) -> Path:
    return Path(tuple(hops), perm.capability, perm.plane, perm.conditional)


def attack_paths(graph: Graph) -> list[Path]:
    """Every path from every internet-facing endpoint, in a stable order. An endpoint
    that only forwards to another (Ingress -> Service) yields the longer path; the
    inner endpoint's own paths are kept too, as it is reachable on its own."""
    found: list[Path] = []
    for node in graph.of_kind(ENDPOINT):
        if node.internet:
            found.extend(paths_from(graph, node.uid))
    return found


def exposed_workloads(graph: Graph) -> dict[str, list[str]]:
    """Workload uid -> the internet-facing endpoints reaching it (directly or not)."""
    reached: dict[str, list[str]] = {}
    for node in graph.of_kind(ENDPOINT):
        if not node.internet:
            continue
        stack, seen = [node.uid], {node.uid}
        while stack:
            uid = stack.pop()
            for edge in graph.out(uid, EXPOSES):
                if edge.target in seen:
                    continue
                seen.add(edge.target)
                target = graph.nodes.get(edge.target)
                if target is None:
                    continue
                if target.kind == WORKLOAD:
                    reached.setdefault(target.uid, []).append(node.uid)
                else:
                    stack.append(target.uid)
    return reached
