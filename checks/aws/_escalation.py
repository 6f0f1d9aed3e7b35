"""The verdicts of ``aws-iam-privilege-escalation``: the published methods a principal's
own policies allow (:mod:`postureapp.domain.aws.escalation`), else a chain of roles it
can assume (the identity graph's ``assumes-role`` edges) that ends at a role with
administrator rights or a method of its own."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from postureapp.checks.registry import Result
from postureapp.domain.aws import policy
from postureapp.domain.aws.escalation import Escalation, Found
from postureapp.domain.aws.scopes import PROVIDER, account_of
from postureapp.domain.text import listing
from postureapp.graph import Graph, graph_of
from postureapp.graph.model import ADMIN, ESCALATE, Edge
from postureapp.graph.paths import role_chains
from postureapp.inventory import Inventory
from postureapp.model import Resource, Status

_WORD = {"IAMUser": "user", "IAMGroup": "group", "IAMRole": "role"}
_MAX_LISTED = 4
_MAX_EVIDENCE = 10


def who(principal: Resource) -> str:
    return f'{_WORD.get(principal.kind, "principal")} "{principal.name}"'


def export_note(inv: Inventory, principal: Resource) -> str | None:
    """What a partial export (``--filter Role``: no users, groups or customer-managed
    policies) leaves out of this verdict, or None for a full read."""
    scope = f"{account_of(principal)}/global"
    if inv.why_unknown(PROVIDER, scope, ("IAMPolicy",)) is None:
        return None
    return (
        "judged on the principal's inline policies and the AWS-managed policies whose "
        "effect is known; the dump has no customer-managed policies"
    )


def _privileged(graph: Graph, inv: Inventory):
    def privileged(arn: str) -> bool | None:
        if inv.get(arn) is None:
            return None
        return bool(graph.permissions.get(arn))

    return privileged


def _chain_to_power(graph: Graph, principal: Resource) -> tuple[list[Edge], str] | None:
    """The shortest role chain from the principal to a role that is administrator or
    can escalate by itself, and what that role holds."""
    for chain in role_chains(graph, principal.uid):
        end = chain[-1].target
        held = {perm.capability for perm in graph.permissions.get(end, [])}
        for capability in (ADMIN, ESCALATE):
            if capability in held:
                return chain, capability
    return None


def _method_line(found: Found) -> str:
    steps = "; ".join(grant.match.describe(grant.action) for grant in found.grants[:3])
    text = f"{found.method.title} ({steps})"
    if found.method.prerequisite:
        text += f", given {found.method.prerequisite}"
    if found.conditional:
        text += " [conditional]"
    return text


def judge(inv: Inventory) -> Iterator[Result]:
    """One verdict per user, group and role (service-linked roles excluded)."""
    graph = graph_of(inv)
    principals = policy.Principals(inv)
    privileged = _privileged(graph, inv)
    for principal in principals.all():
        policies, missing = principals.policies(principal)
        engine = Escalation(
            principal.uid, principal.kind, principal.name, policies, inv.now, privileged
        )
        found = engine.methods()
        note = export_note(inv, principal)
        evidence: dict[str, Any] = {"export": note} if note else {}
        if found:
            lines = [_method_line(item) for item in found]
            detail = f"{who(principal)} can escalate: {listing(lines, _MAX_LISTED)}"
            evidence |= {
                "methods": [item.method.id for item in found],
                "actions": sorted({a for item in found for a in item.method.actions}),
                "conditional": all(item.conditional for item in found),
                "statements": [item.evidence() for item in found][:_MAX_EVIDENCE],
            }
            yield Result(principal, Status.FAIL, detail, evidence)
            continue
        chain = _chain_to_power(graph, principal) if principal.kind != "IAMGroup" else None
        if chain is not None:
            edges, capability = chain
            names = [graph.nodes[edge.target].name for edge in edges]
            held = "administrator rights" if capability == ADMIN else "an escalation of its own"
            detail = (
                f"{who(principal)} can escalate by assuming "
                f"{' -> '.join(f'role {name}' for name in names)}, which has {held}"
            )
            evidence |= {
                "methods": ["sts-assume-role-chain"],
                "actions": ["sts:AssumeRole"],
                "conditional": any(edge.evidence.get("conditional") for edge in edges),
                "chain": [
                    {"role": edge.target, "trust": edge.evidence.get("trust")} for edge in edges
                ],
                "capability": capability,
            }
            yield Result(principal, Status.FAIL, detail, evidence)
        elif missing:
            reason = f"cannot judge every policy: {listing(missing, 3)} not collected"
            yield Result(principal, Status.UNKNOWN, f"{who(principal)}: {reason}", evidence)
        else:
            detail = f"{who(principal)}: no published escalation method or role chain allowed"
            yield Result(principal, Status.PASS, detail, evidence)
