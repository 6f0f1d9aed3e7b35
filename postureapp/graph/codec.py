"""The identity graph as JSON and back, so it is built once per snapshot and stored.

The engine builds the graph at judge time with the user's settings (thresholds decide
which credentials are stale); the cache keeps this document with the snapshot; the
dashboard and the exports decode it. Decoding rebuilds the indexes only, never a
judgement: a reader sees exactly what the checks saw.
"""

from __future__ import annotations

from typing import Any

from postureapp.graph.credentials import Credential
from postureapp.graph.graph import Graph
from postureapp.graph.model import Edge, Grant, Hop, Node, Path, Permission, Unknown

VERSION = 1


def _grant(grant: Grant) -> dict[str, Any]:
    return {
        "text": grant.text,
        "source": grant.source,
        "resource": grant.resource,
        "conditions": list(grant.conditions),
        "denied_by": list(grant.denied_by),
    }


def _permission(perm: Permission) -> dict[str, Any]:
    return {
        "capability": perm.capability,
        "plane": perm.plane,
        "grants": [_grant(grant) for grant in perm.grants],
        "denied": list(perm.denied),
    }


def _read_permission(data: dict[str, Any]) -> Permission:
    return Permission(
        capability=data["capability"],
        plane=data["plane"],
        grants=tuple(
            Grant(
                text=g["text"],
                source=g["source"],
                resource=g["resource"],
                conditions=tuple(g["conditions"]),
                denied_by=tuple(g["denied_by"]),
            )
            for g in data["grants"]
        ),
        denied=tuple(data["denied"]),
    )


def encode_graph(graph: Graph) -> dict[str, Any]:
    """Everything a reader of the graph needs, as plain JSON."""
    return {
        "version": VERSION,
        "nodes": [
            {
                "uid": n.uid,
                "kind": n.kind,
                "name": n.name,
                "plane": n.plane,
                "detail": n.detail,
                "internet": n.internet,
                "facts": n.facts,
            }
            for n in graph.nodes.values()
        ],
        "edges": [
            {
                "source": e.source,
                "target": e.target,
                "relation": e.relation,
                "evidence": e.evidence,
                "confirmed": e.confirmed,
            }
            for e in graph.edges
        ],
        "permissions": {
            uid: [_permission(p) for p in perms] for uid, perms in graph.permissions.items()
        },
        "edge_permissions": [
            [source, target, [_permission(p) for p in perms]]
            for (source, target), perms in graph.edge_permissions.items()
        ],
        "gaps": graph.gaps,
        "near_misses": graph.near_misses,
        "aliases": graph.aliases,
        "credentials": {
            uid: [
                {"what": c.what, "detail": c.detail, "stale": c.stale, "uid": c.uid} for c in items
            ]
            for uid, items in graph.credentials.items()
        },
        "unknown": [u.to_dict() for u in graph.unknown],
    }


def decode_graph(document: dict[str, Any]) -> Graph:
    """The graph a stored document describes (raises ValueError on another version)."""
    if document.get("version") != VERSION:
        raise ValueError(f"identity graph document version {document.get('version')!r}")
    graph = Graph(
        edges=[
            Edge(e["source"], e["target"], e["relation"], e["evidence"], e["confirmed"])
            for e in document["edges"]
        ],
        permissions={
            uid: [_read_permission(p) for p in perms]
            for uid, perms in document["permissions"].items()
        },
        edge_permissions={
            (source, target): [_read_permission(p) for p in perms]
            for source, target, perms in document["edge_permissions"]
        },
        gaps=dict(document["gaps"]),
        near_misses=list(document["near_misses"]),
        aliases=dict(document["aliases"]),
        credentials={
            uid: [Credential(c["what"], c["detail"], c["stale"], c["uid"]) for c in items]
            for uid, items in document["credentials"].items()
        },
        # Absent from documents stored before unknown edges were kept: the gaps stand in.
        unknown=[
            Unknown(u["source"], u["reaches"], u["reason"]) for u in document.get("unknown", [])
        ],
    )
    for n in document["nodes"]:
        graph.add_node(
            Node(n["uid"], n["kind"], n["name"], n["plane"], n["detail"], n["internet"], n["facts"])
        )
    return graph


def decode_paths(documents: list[dict[str, Any]]) -> list[Path]:
    """Attack paths from their JSON form (``Path.to_dict()``)."""
    return [
        Path(
            hops=tuple(
                Hop(h["kind"], h["uid"], h["name"], h["relation"], h["evidence"])
                for h in doc["hops"]
            ),
            capability=doc["capability"],
            plane=doc["plane"],
            conditional=doc["conditional"],
        )
        for doc in documents
    ]
