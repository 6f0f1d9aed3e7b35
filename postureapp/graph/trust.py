"""Does an IAM role's trust policy let a Kubernetes service account assume it?

IRSA: the pod gets a token from the cluster's OIDC issuer whose ``sub`` is
``system:serviceaccount:<namespace>:<name>``; STS accepts it when a trust statement
allows ``sts:AssumeRoleWithWebIdentity`` to the ``Federated`` OIDC provider of that
issuer and its ``<issuer>:sub`` condition (StringEquals, or StringLike with wildcards)
matches. The ``eks.amazonaws.com/role-arn`` annotation alone proves nothing: it is what
the workload asks for, the trust policy is what AWS grants.

EKS Pod Identity: an association names (cluster, namespace, service account, role); the
role must trust the ``pods.eks.amazonaws.com`` service principal.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from postureapp.domain.aws.policy import action_covers, resource_covers

WEB_IDENTITY = "sts:AssumeRoleWithWebIdentity"
POD_IDENTITY_SERVICE = "pods.eks.amazonaws.com"
_EKS_ISSUER = re.compile(r"oidc\.eks\.[a-z0-9-]+\.amazonaws\.com(\.cn)?/id/[^/]+", re.IGNORECASE)
_SUB_OPERATORS = (
    "StringEquals",
    "StringLike",
    "ForAnyValue:StringEquals",
    "ForAnyValue:StringLike",
)


def subject(namespace: str, name: str) -> str:
    return f"system:serviceaccount:{namespace}:{name}"


def issuer_host(issuer: str | None) -> str | None:
    """``https://oidc.eks.../id/X`` -> ``oidc.eks.../id/X`` (the provider ARN's tail)."""
    if not issuer:
        return None
    return issuer.split("://", 1)[-1].rstrip("/")


@dataclass(frozen=True, slots=True)
class TrustVerdict:
    """Whether one statement lets the service account in, and how it reads."""

    allowed: bool
    how: str  # human: 'statement #0: StringEquals oidc.../id/X:sub = system:...'
    provider: str | None = None  # the OIDC provider host the statement trusts
    wildcard: str | None = None  # "cluster" (any SA of the cluster) | "namespace" | None
    subjects: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "allowed": self.allowed,
            "how": self.how,
            "oidc_provider": self.provider,
            "wildcard": self.wildcard,
            "sub": list(self.subjects),
        }


def _oidc_hosts(statement: dict[str, Any]) -> list[str]:
    hosts = []
    for value in (statement.get("Principal") or {}).get("Federated", []):
        _, sep, host = str(value).partition(":oidc-provider/")
        if sep:
            hosts.append(host)
    return hosts


def _sub_patterns(statement: dict[str, Any], host: str) -> tuple[list[tuple[str, str]], bool]:
    """(operator, pattern) pairs of the ``<host>:sub`` condition, and whether one exists."""
    key = f"{host}:sub".lower()
    found = []
    present = False
    for operator, block in (statement.get("Condition") or {}).items():
        if operator not in _SUB_OPERATORS or not isinstance(block, dict):
            continue
        for name, values in block.items():
            if str(name).lower() == key:
                present = True
                for value in values if isinstance(values, list) else [values]:
                    found.append((operator, str(value)))
    return found, present


def wildcard_scope(operator: str, pattern: str) -> str | None:
    """How much of the cluster a sub pattern admits: "cluster", "namespace" or None."""
    if "Like" not in operator or ("*" not in pattern and "?" not in pattern):
        return None
    parts = pattern.split(":")
    if len(parts) < 4 or any(c in ":".join(parts[:3]) for c in "*?"):
        return "cluster"
    return "namespace"


def web_identity_statements(document: dict[str, Any] | None) -> list[tuple[int, dict[str, Any]]]:
    """Allow statements granting AssumeRoleWithWebIdentity to an OIDC provider."""
    found = []
    for index, statement in enumerate((document or {}).get("Statement") or []):
        if not isinstance(statement, dict) or statement.get("Effect") != "Allow":
            continue
        if not any(action_covers(p, WEB_IDENTITY) for p in statement.get("Action") or []):
            continue
        if _oidc_hosts(statement):
            found.append((index, statement))
    return found


def irsa_verdict(
    document: dict[str, Any] | None, namespace: str, name: str, issuers: set[str] | None
) -> TrustVerdict:
    """Whether the trust policy lets ``namespace/name`` in through IRSA.

    Args:
        issuers: the hosts of the cluster's OIDC issuer(s), when known; a statement
            trusting another provider then does not count. None: the issuer is
            unknown, any OIDC provider is accepted (and the verdict says so).
    """
    wanted = subject(namespace, name)
    misses: list[str] = []
    for index, statement in web_identity_statements(document):
        sid = statement.get("Sid")
        label = f'statement "{sid}"' if sid else f"statement #{index}"
        for host in _oidc_hosts(statement):
            if issuers is not None and host not in issuers:
                misses.append(f"{label} trusts another OIDC provider ({host})")
                continue
            patterns, present = _sub_patterns(statement, host)
            issuer_note = "" if issuers is not None else " (cluster issuer unknown: not verified)"
            if not present:
                return TrustVerdict(
                    True,
                    f"{label}: no {host}:sub condition, any service account of the cluster "
                    f"may assume it{issuer_note}",
                    host,
                    "cluster",
                )
            for operator, pattern in patterns:
                exact = "Like" not in operator
                ok = pattern == wanted if exact else resource_covers(pattern, wanted)
                if ok:
                    return TrustVerdict(
                        True,
                        f"{label}: {operator} {host}:sub = {pattern}{issuer_note}",
                        host,
                        wildcard_scope(operator, pattern),
                        tuple(p for _, p in patterns),
                    )
            shown = ", ".join(p for _, p in patterns)
            misses.append(f"{label} allows only {shown}")
    if not misses:
        return TrustVerdict(False, "no statement allows sts:AssumeRoleWithWebIdentity")
    return TrustVerdict(False, "; ".join(misses))


def pod_identity_verdict(document: dict[str, Any] | None) -> TrustVerdict:
    """Whether the role trusts EKS Pod Identity (the ``pods.eks.amazonaws.com`` service)."""
    for index, statement in enumerate((document or {}).get("Statement") or []):
        if not isinstance(statement, dict) or statement.get("Effect") != "Allow":
            continue
        services = (statement.get("Principal") or {}).get("Service", [])
        if POD_IDENTITY_SERVICE in services and any(
            action_covers(p, "sts:AssumeRole") for p in statement.get("Action") or []
        ):
            return TrustVerdict(True, f"statement #{index} trusts {POD_IDENTITY_SERVICE}")
    return TrustVerdict(False, f"the trust policy does not name {POD_IDENTITY_SERVICE}")


def is_cluster_issuer(host: str, known: Collection[str] = ()) -> bool:
    """Is an OIDC provider host a Kubernetes cluster's service-account issuer: an EKS
    issuer (``oidc.eks.<region>.amazonaws.com/id/<id>``) or one of ``known``? Other
    providers (GitHub Actions, GitLab, Auth0...) mint tokens whose ``sub`` means
    something else entirely (``repo:org/name:ref:...``)."""
    return bool(_EKS_ISSUER.match(host)) or host in known


def cluster_providers(document: dict[str, Any] | None, known: Collection[str] = ()) -> list[str]:
    """The cluster issuers (:func:`is_cluster_issuer`) a trust policy grants web identity to."""
    return sorted(
        {
            host
            for _, statement in web_identity_statements(document)
            for host in _oidc_hosts(statement)
            if is_cluster_issuer(host, known)
        }
    )


def other_providers(document: dict[str, Any] | None, known: Collection[str] = ()) -> list[str]:
    """The OIDC providers of web-identity statements that are not cluster issuers."""
    return sorted(
        {
            host
            for _, statement in web_identity_statements(document)
            for host in _oidc_hosts(statement)
            if not is_cluster_issuer(host, known)
        }
    )


def cluster_wildcards(
    document: dict[str, Any] | None, known: Collection[str] = ()
) -> list[TrustVerdict]:
    """Statements letting *any* service account of a cluster in (no ``sub`` condition,
    or a ``sub`` pattern with a wildcard before the service account's namespace), and
    namespace-wide ones (``system:serviceaccount:ns:*``). Only cluster issuers
    (:func:`is_cluster_issuer`, ``known`` adding the inventory's own) are judged: a
    wildcard in another provider's ``sub`` says nothing about service accounts."""
    found = []
    for index, statement in web_identity_statements(document):
        sid = statement.get("Sid")
        label = f'statement "{sid}"' if sid else f"statement #{index}"
        for host in _oidc_hosts(statement):
            if not is_cluster_issuer(host, known):
                continue
            patterns, present = _sub_patterns(statement, host)
            if not present:
                found.append(
                    TrustVerdict(True, f"{label}: no {host}:sub condition", host, "cluster")
                )
                continue
            for operator, pattern in patterns:
                scope = wildcard_scope(operator, pattern)
                if scope:
                    found.append(
                        TrustVerdict(
                            True,
                            f"{label}: {operator} {host}:sub = {pattern}",
                            host,
                            scope,
                            (pattern,),
                        )
                    )
    return found
