"""What the dashboard asks of the graph: each identity's exposure and reach (the
Identities view's columns) and the blast-radius tree from any node. Headless, so the
TUI only draws what this returns and tests can read it without a terminal."""

from __future__ import annotations

from dataclasses import dataclass, field

from postureapp.graph.graph import Graph
from postureapp.graph.model import (
    AWS_RESOURCE,
    BOUND_TO,
    CAN,
    CAPABILITIES,
    ENDPOINT,
    IAM_GROUP,
    IAM_USER,
    K8S_GROUP,
    K8S_USER,
    KIND_LABELS,
    MEMBER_OF,
    Edge,
    Node,
    Path,
    Permission,
    describe_hop,
)
from postureapp.graph.paths import _NEXT, attack_paths, capability_hop, node_hop

SHORT = {"admin-equivalent": "admin", "read-secrets": "secrets", "escalate": "escalate",
         "broad-data": "data"}  # fmt: skip
PLANE_SHORT = {"kubernetes": "k8s", "aws": "aws"}
MAX_DEPTH = 8
# What the tree follows from each kind: the attack paths' relations, and the identities
# no path starts from (IAM groups, Kubernetes users and groups) from which a reader may.
_TREE_NEXT = {
    **_NEXT,
    IAM_USER: (*_NEXT[IAM_USER], MEMBER_OF),
    K8S_USER: (BOUND_TO,),
    K8S_GROUP: (BOUND_TO,),
}


def reach_text(perms: list[Permission]) -> tuple[str, int]:
    """``admin(aws), secrets(k8s)`` and a rank for sorting (higher is worse, 0 none)."""
    if not perms:
        return "", 0
    parts = [
        f"{SHORT[p.capability]}({PLANE_SHORT.get(p.plane, p.plane)}){'?' if p.conditional else ''}"
        for p in perms
    ]
    rank = len(CAPABILITIES) - min(CAPABILITIES.index(p.capability) for p in perms)
    return ", ".join(parts), rank


@dataclass(frozen=True, slots=True)
class Exposure:
    """One row's extra columns in the Identities view."""

    exposed: bool
    reach: str
    rank: int


def exposure_table(graph: Graph, paths: list[Path] | None = None) -> dict[str, Exposure]:
    """For every workload, service account, role and IAM identity: whether it lies on a
    path from an internet-facing endpoint, and what it can reach (its own or through
    the identities it runs as). Pods and bindings map to their workload / subjects."""
    paths = attack_paths(graph) if paths is None else paths
    on_path = {hop.uid for path in paths for hop in path.hops}
    table: dict[str, Exposure] = {}
    for node in graph.nodes.values():
        if node.kind in (ENDPOINT, AWS_RESOURCE):
            continue
        perms = graph.reach(node.uid)
        if node.kind == "workload":
            perms = _merge([graph.reach(e.target) for e in graph.out(node.uid, *_NEXT["workload"])])
        if node.kind == "k8s-role":
            perms = _merge(
                [graph.edge_permissions.get((e.source, node.uid), []) for e in graph.into(node.uid)]
            )
        text, rank = reach_text(perms)
        table[node.uid] = Exposure(node.uid in on_path, text, rank)
    for alias, target in graph.aliases.items():
        if target in table and alias not in table:
            table[alias] = table[target]
    return table


def _merge(groups: list[list[Permission]]) -> list[Permission]:
    found: dict[tuple[str, str], Permission] = {}
    for perms in groups:
        for perm in perms:
            found.setdefault((perm.capability, perm.plane), perm)
    return sorted(found.values(), key=lambda p: (CAPABILITIES.index(p.capability), p.plane))


# -- the blast-radius tree ------------------------------------------------------------


@dataclass
class TreeItem:
    """One line of the tree: what (kind, name), how it was reached, and the evidence."""

    kind: str
    name: str
    relation: str | None = None
    evidence: str = ""
    uid: str = ""
    critical: bool = False
    children: list[TreeItem] = field(default_factory=list)

    @property
    def label(self) -> str:
        kind = KIND_LABELS.get(self.kind, self.kind)
        relation = f"{self.relation} " if self.relation else ""
        return f"{relation}{kind} {self.name}"


def resolve(graph: Graph, uid: str) -> str | None:
    """The graph node a resource uid stands for (a pod's workload, a binding's role...)."""
    if uid in graph.nodes:
        return uid
    return graph.aliases.get(uid)


def blast_tree(graph: Graph, uid: str) -> TreeItem | None:
    """The tree from one node: where it is reached from (internet entry points) and
    everything it reaches, each hop with its evidence. None if the uid is not in the
    graph."""
    start = resolve(graph, uid)
    if start is None:
        return None
    node = graph.nodes[start]
    root = TreeItem(node.kind, node.name, None, node.facts.get("why", node.detail), node.uid)
    if node.kind != ENDPOINT:
        entries = [
            path for path in attack_paths(graph) if any(hop.uid == start for hop in path.hops[1:])
        ]
        seen: set[tuple[str, ...]] = set()
        reached = TreeItem("section", "reached from the internet", evidence="")
        for path in entries:
            index = next(i for i, hop in enumerate(path.hops) if hop.uid == start)
            route = tuple(hop.uid for hop in path.hops[:index])
            if route in seen:
                continue
            seen.add(route)
            # The route as a chain, entry point first, each hop with its evidence; the
            # last line is the hop into the start node (how it is reached).
            parent = reached
            for hop in path.hops[: index + 1]:
                item = TreeItem(
                    hop.kind, hop.name, hop.relation, describe_hop(hop.to_dict()), hop.uid
                )
                parent.children.append(item)
                parent = item
        if not reached.children:
            reached.evidence = "no internet-facing endpoint reaches it"
        root.children.append(reached)
    root.children.extend(_below(graph, node, {node.uid}, 0))
    if node.kind == IAM_GROUP:
        members = [graph.nodes[e.source] for e in graph.into(node.uid, MEMBER_OF)]
        section = TreeItem("section", "its members hold all of the above", evidence="")
        section.children = [TreeItem(m.kind, m.name, "member", "", m.uid) for m in members]
        if not members:
            section.evidence = "no collected user is a member"
        root.children.append(section)
    return root


def unknown_items(graph: Graph, uid: str) -> list[TreeItem]:
    """Where the graph could not continue from a node: one line per edge that may exist
    but was not seen, with the read that failed. A document stored before unknown edges
    were kept has the node's gap only: it stands in."""
    items = [
        TreeItem("unknown", f"may reach {u.reaches}", None, f"unknown — {u.reason}", uid)
        for u in graph.unknown_from(uid)
    ]
    if not items and uid in graph.gaps:
        items.append(
            TreeItem("unknown", "may reach more", None, f"unknown — {graph.gaps[uid]}", uid)
        )
    return items


def _below(graph: Graph, node: Node, seen: set[str], depth: int) -> list[TreeItem]:
    items: list[TreeItem] = []
    if depth > MAX_DEPTH:
        return items
    for credential in graph.credentials.get(node.uid, []):
        items.append(
            TreeItem(
                "credential",
                credential.what,
                "holds",
                credential.detail,
                credential.uid,
                critical=credential.stale is True,
            )
        )
    for perm in graph.permissions.get(node.uid, []):
        items.append(_capability(node.uid, perm))
    items.extend(unknown_items(graph, node.uid))
    relations = (*_TREE_NEXT.get(node.kind, ()), CAN) if node.kind != "k8s-role" else ()
    for edge in graph.out(node.uid, *relations):
        target = graph.nodes.get(edge.target)
        if target is None or target.uid in seen:
            continue
        items.append(_edge_item(graph, node, edge, target, seen, depth))
    return items


def _edge_item(
    graph: Graph, node: Node, edge: Edge, target: Node, seen: set[str], depth: int
) -> TreeItem:
    hop = node_hop(target, edge).to_dict()
    item = TreeItem(target.kind, target.name, edge.relation, describe_hop(hop), target.uid)
    if edge.relation == BOUND_TO:
        for perm in graph.edge_permissions.get((node.uid, target.uid), []):
            item.children.append(_capability(target.uid, perm))
    else:
        item.children.extend(_below(graph, target, seen | {target.uid}, depth + 1))
    return item


def _capability(holder: str, perm: Permission) -> TreeItem:
    hop = capability_hop(holder, perm).to_dict()
    item = TreeItem("capability", perm.summary(), CAN, "", hop["uid"], critical=True)
    for grant in perm.grants:
        text = grant.text
        if grant.conditions:
            text += f" [conditional: {'; '.join(grant.conditions)}]"
        if grant.denied_by:
            text += f" [narrowed by: {'; '.join(grant.denied_by)}]"
        item.children.append(TreeItem("grant", text, None, "", ""))
    for denied in perm.denied:
        item.children.append(TreeItem("grant", f"cancelled by {denied}", None, "", ""))
    return item
