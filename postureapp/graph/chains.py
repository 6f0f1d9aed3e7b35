"""Role chains: which IAM users and roles can assume which roles (``sts:AssumeRole``).

An edge ``assumes-role`` goes from a principal to a role whose trust policy lets it in
(:func:`postureapp.domain.aws.trust.can_assume`: the trust naming it, or naming its
account with an identity grant). Paths and the escalation check walk these edges, so a
role two hops away from an administrator role is seen as one.
"""

from __future__ import annotations

from collections.abc import Iterable

from postureapp.domain.aws.policy import Principals, _statements, action_covers
from postureapp.domain.aws.trust import ASSUME, can_assume
from postureapp.facts import facts_of
from postureapp.facts.aws import IAMRoleFacts
from postureapp.graph.graph import Graph
from postureapp.graph.model import ASSUMES_ROLE, Edge
from postureapp.inventory import Inventory
from postureapp.model import Resource

PROVIDER = "aws"


def _service_linked(resource: Resource) -> bool:
    return resource.kind == "IAMRole" and bool(
        facts_of(resource, IAMRoleFacts).get("service_linked")
    )


def _trusted_values(trust: dict | None) -> set[str]:
    values: set[str] = set()
    for _, statement in _statements(trust):
        if statement.get("Effect") == "Allow":
            values.update(str(v) for v in (statement.get("Principal") or {}).get("AWS", []))
    return values


def _may_assume_by_policy(principals: Principals, principal: Resource) -> bool:
    """Does any Allow of the principal's identity policies name sts:AssumeRole? (Only
    those can enter roles whose trust names just the account.)"""
    policies, _ = principals.policies(principal)
    for policy in policies:
        for _, statement in _statements(policy.document):
            if statement.get("Effect") != "Allow":
                continue
            if "NotAction" in statement or any(
                action_covers(p, ASSUME) for p in statement.get("Action") or []
            ):
                return True
    return False


def add_role_chains(inv: Inventory, graph: Graph, principals: Principals) -> None:
    """Add an ``assumes-role`` edge for every (principal, role) pair that works."""
    everyone = [
        resource
        for kind in ("IAMUser", "IAMRole")
        for resource in inv.of(PROVIDER, kind)
        if not _service_linked(resource) and resource.uid in graph.nodes
    ]
    by_arn = {resource.uid: resource for resource in everyone}
    assumers = [p for p in everyone if _may_assume_by_policy(principals, p)]
    for role in inv.of(PROVIDER, "IAMRole"):
        if _service_linked(role) or role.uid not in graph.nodes:
            continue
        trust = facts_of(role, IAMRoleFacts).get("trust_policy")
        values = _trusted_values(trust)
        if not values:
            continue
        candidates: Iterable[Resource]
        if "*" in values:
            candidates = everyone
        else:
            named = [by_arn[v] for v in values if v in by_arn]
            sessions = [
                r
                for r in everyone
                if r.kind == "IAMRole" and any(":assumed-role/" + r.name + "/" in v for v in values)
            ]
            candidates = {p.uid: p for p in [*named, *sessions, *assumers]}.values()
        for principal in candidates:
            if principal.uid == role.uid:
                continue
            policies, _ = principals.policies(principal)
            verdict = can_assume(trust, role.uid, principal.uid, policies, inv.now)
            if verdict is None:
                continue
            graph.add_edge(
                Edge(
                    principal.uid,
                    role.uid,
                    ASSUMES_ROLE,
                    {
                        "via": "sts:AssumeRole",
                        "trust": verdict.how,
                        "confirmed": True,
                        "conditional": verdict.conditional,
                    },
                )
            )
