"""Nodes, edges, capabilities and paths of the identity graph.

Everything here is plain data that serialises to JSON as is: the checks put paths in a
finding's evidence, the exports copy them, the dashboard draws them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Node kinds.
ENDPOINT = "endpoint"
WORKLOAD = "workload"
SERVICE_ACCOUNT = "service-account"
K8S_ROLE = "k8s-role"
IAM_ROLE = "iam-role"
IAM_USER = "iam-user"
IAM_GROUP = "iam-group"
K8S_USER = "k8s-user"  # a User subject of a binding (not a ServiceAccount's token name)
K8S_GROUP = "k8s-group"  # a Group subject of a binding
AWS_RESOURCE = "aws-resource"
CAPABILITY = "capability"
KIND_LABELS = {
    ENDPOINT: "endpoint",
    WORKLOAD: "workload",
    SERVICE_ACCOUNT: "ServiceAccount",
    K8S_ROLE: "role",
    IAM_ROLE: "IAM role",
    IAM_USER: "IAM user",
    IAM_GROUP: "IAM group",
    K8S_USER: "User",
    K8S_GROUP: "Group",
    AWS_RESOURCE: "resource",
}

# Edge relations, in the order a path walks them.
EXPOSES = "exposes"  # endpoint -> endpoint (Ingress -> Service) or endpoint -> workload
RUNS = "runs"  # an EC2 instance runs with its instance profile's role
RUNS_AS = "runs-as"  # workload -> service account
BOUND_TO = "bound-to"  # service account -> Role / ClusterRole (through a binding)
ASSUMES = "assumes"  # service account -> IAM role (IRSA, EKS Pod Identity)
ASSUMES_ROLE = "assumes-role"  # IAM user or role -> IAM role (sts:AssumeRole, chains)
CAN = "can"  # identity -> capability, or IAM identity -> AWS resource named in a policy
MEMBER_OF = "member-of"  # IAM user -> IAM group (the user holds the group's policies)

# Capabilities, worst first.
ADMIN = "admin-equivalent"
READ_SECRETS = "read-secrets"
ESCALATE = "escalate"
BROAD_DATA = "broad-data"
CAPABILITIES = (ADMIN, READ_SECRETS, ESCALATE, BROAD_DATA)

KUBERNETES = "kubernetes"
AWS = "aws"


@dataclass(frozen=True, slots=True)
class Node:
    """One thing on a path: an endpoint, a workload, an identity, a role, a resource."""

    uid: str
    kind: str
    name: str
    plane: str  # kubernetes | aws
    detail: str = ""  # a short qualifier: "LoadBalancer shop/storefront", "Deployment"
    internet: bool = False  # endpoints only: reachable from the internet
    facts: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "uid": self.uid,
            "kind": self.kind,
            "name": self.name,
            "plane": self.plane,
            "detail": self.detail,
            "internet": self.internet,
        }


@dataclass(frozen=True, slots=True)
class Edge:
    """A directed link with the evidence that makes it; ``confirmed`` False when the
    link is claimed by one side only (an annotation the trust policy does not honour)."""

    source: str
    target: str
    relation: str
    evidence: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)
    confirmed: bool = True


@dataclass(frozen=True, slots=True)
class Unknown:
    """An edge that may exist but could not be seen: from ``source`` to ``reaches`` (what
    lies beyond, in words: "an IAM role through EKS Pod Identity"), unknown because of
    ``reason`` (the failed read, as the collector recorded it)."""

    source: str
    reaches: str
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "reaches": self.reaches, "reason": self.reason}


@dataclass(frozen=True, slots=True)
class Grant:
    """One statement or rule that confers a capability, as shown to a reader."""

    text: str  # 'AWS-managed policy "AdministratorAccess" statement #0 allows * on *'
    source: str  # the policy or binding it comes from
    resource: str = "*"
    conditions: tuple[str, ...] = ()  # "StringEquals aws:SourceVpc=vpc-1", shown as is
    denied_by: tuple[str, ...] = ()  # Deny statements that narrow (not cancel) it

    @property
    def conditional(self) -> bool:
        return bool(self.conditions)

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "source": self.source,
            "resource": self.resource,
            "conditions": list(self.conditions),
            "conditional": self.conditional,
            "denied_by": list(self.denied_by),
        }


@dataclass(frozen=True, slots=True)
class Permission:
    """A capability an identity holds in one plane, with every grant behind it.
    ``denied`` lists the explicit Deny statements that cancelled other grants of it."""

    capability: str
    plane: str
    grants: tuple[Grant, ...]
    denied: tuple[str, ...] = ()

    @property
    def conditional(self) -> bool:
        """True when every grant is conditional: the capability may not apply."""
        return all(grant.conditional for grant in self.grants)

    def summary(self) -> str:
        text = f"{self.capability} ({self.plane})"
        return text + " [conditional]" if self.conditional else text

    def to_dict(self) -> dict[str, Any]:
        return {
            "capability": self.capability,
            "plane": self.plane,
            "conditional": self.conditional,
            "grants": [grant.to_dict() for grant in self.grants],
            "denied": list(self.denied),
        }


@dataclass(frozen=True, slots=True)
class Hop:
    """One step of a path: the node reached and how (``relation`` of the edge in)."""

    kind: str
    uid: str
    name: str
    relation: str | None
    evidence: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "uid": self.uid,
            "name": self.name,
            "relation": self.relation,
            "evidence": self.evidence,
        }


@dataclass(frozen=True, slots=True)
class Path:
    """From an internet-facing endpoint to a capability, hop by hop."""

    hops: tuple[Hop, ...]
    capability: str
    plane: str
    conditional: bool = False

    @property
    def endpoint(self) -> Hop:
        return self.hops[0]

    def first(self, kind: str) -> Hop | None:
        return next((hop for hop in self.hops if hop.kind == kind), None)

    @property
    def workload(self) -> Hop | None:
        return self.first(WORKLOAD)

    @property
    def identity(self) -> Hop:
        """The identity holding the capability: the hop before the capability."""
        return self.hops[-2]

    @property
    def via_assume(self) -> bool:
        return any(hop.relation == ASSUMES for hop in self.hops)

    def summary(self) -> str:
        """``Service shop/web -> Deployment shop/web -> ... -> admin-equivalent (aws)``."""
        return " -> ".join(
            hop.name
            if hop.kind == CAPABILITY
            else f"{KIND_LABELS.get(hop.kind, hop.kind)} {hop.name}"
            for hop in self.hops
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "capability": self.capability,
            "plane": self.plane,
            "conditional": self.conditional,
            "summary": self.summary(),
            "hops": [hop.to_dict() for hop in self.hops],
        }


def describe_hop(hop: dict[str, Any], limit: int = 3) -> str:
    """One line of a hop's evidence for people (exports, the dashboard's tree).

    Works on the JSON form (``Hop.to_dict()``) so stored and exported paths read the
    same as freshly built ones."""
    evidence = hop.get("evidence") or {}
    relation = hop.get("relation")
    if relation is None:
        return str(evidence.get("why") or evidence.get("detail") or "")
    if relation == CAN and "grants" in evidence:
        grants = evidence.get("grants") or []
        parts = []
        for grant in grants[:limit]:
            text = str(grant.get("text", ""))
            if grant.get("conditions"):
                text += f" [conditional: {'; '.join(grant['conditions'])}]"
            if grant.get("denied_by"):
                text += f" [narrowed by: {'; '.join(grant['denied_by'])}]"
            parts.append(text)
        if len(grants) > limit:
            parts.append(f"(+{len(grants) - limit} more)")
        if evidence.get("denied"):
            parts.append(f"cancelled by: {'; '.join(evidence['denied'])}")
        return "; ".join(parts)
    if relation in (ASSUMES, ASSUMES_ROLE):
        text = f"{evidence.get('via', '')}; trust {evidence.get('trust', '')}"
        if evidence.get("conditional"):
            text += " (conditional)"
        return text if evidence.get("confirmed") else text + " (not confirmed)"
    if relation == BOUND_TO:
        return f"{evidence.get('binding', '')} ({evidence.get('where', '')})"
    return ", ".join(
        f"{key} {value}" if not isinstance(value, list) else f"{key} {', '.join(map(str, value))}"
        for key, value in evidence.items()
        if value not in (None, "", [])
    )
