"""Governance controls: the status of each control from its evidencing checks.

The rule, documented in README ("Governance status"):

* **unknown** — no evidence at all, or some evidence unknown/error and none failing,
  or a control that needs a manual attestation has none (never "pass" by default);
* **fail** — evidence failing and none passing, a *critical* finding failing among its
  evidence (the root user without MFA fails "sign-ins require MFA" however many users
  have it), or its attestation has expired;
* **partial** — some evidence failing, none of it critical, some passing; the coverage
  (share of evidence that passes) says how far along it is;
* **pass** — every evidencing finding passes (and the attestation, if needed, is current).

Waivers do not change a control: an accepted risk is still a gap an auditor must see.

:func:`trust_domains` lists, from a snapshot's stored resources, the trust domains seen
(clusters, AWS accounts, Istio mesh trust domains) and the identity providers backing
them, for the governance screen.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from postureapp.checks.registry import ControlMeta
from postureapp.model import Attestation, Control, ControlStatus, utcnow


def evaluate_controls(
    controls: Iterable[ControlMeta],
    counts: Mapping[str, Mapping[str, int]],
    attestations: Mapping[str, Attestation],
    now: datetime | None = None,
    critical: Mapping[str, int] | None = None,
) -> list[Control]:
    """Args:
    counts: check_id -> {status: number of findings} for one snapshot.
    attestations: the latest attestation per control id.
    critical: check_id -> number of its failing findings of critical severity.
    """
    critical = critical or {}
    moment = now or utcnow()
    result = []
    for meta in controls:
        control = meta.blank()
        totals = {"pass": 0, "fail": 0, "unknown": 0, "error": 0}
        for check_id in meta.checks:
            by_status = dict(counts.get(check_id, {}))
            control.evidence[check_id] = by_status
            for status, number in by_status.items():
                totals[status] = totals.get(status, 0) + number
        judged = sum(totals.values())
        control.coverage = round(totals["pass"] / judged, 4) if judged else None
        control.attestation = attestations.get(meta.id)
        totals["critical"] = sum(critical.get(check_id, 0) for check_id in meta.checks)
        control.status = _status(meta, totals, control.attestation, moment)
        result.append(control)
    return result


def _status(
    meta: ControlMeta, totals: dict[str, int], attestation: Attestation | None, now: datetime
) -> ControlStatus:
    if meta.needs_attestation:
        if attestation is None:
            return ControlStatus.UNKNOWN
        if not attestation.is_active(now):
            return ControlStatus.FAIL
    if totals["fail"]:
        if totals["critical"] or not totals["pass"]:
            return ControlStatus.FAIL
        return ControlStatus.PARTIAL
    if totals["unknown"] or totals["error"]:
        return ControlStatus.UNKNOWN
    if totals["pass"]:
        return ControlStatus.PASS
    # Nothing judged: only a control vouched for by a person can pass on its own.
    return (
        ControlStatus.PASS if meta.needs_attestation and not meta.checks else ControlStatus.UNKNOWN
    )


# -- trust domains ----------------------------------------------------------------------------

# The kinds the trust-domain listing reads; a few per estate, never Pods or Secrets.
TRUST_KINDS = ("Cluster", "AuthorizationPolicy", "EKSCluster", "IAMOIDCProvider", "AWSRegion")
ISTIO_DEFAULT_TRUST_DOMAIN = "cluster.local"


@dataclass(frozen=True)
class TrustDomain:
    """One place identities are issued and trusted: a Kubernetes cluster, an AWS account,
    or an Istio mesh trust domain, with the identity providers that back it."""

    kind: str  # "kubernetes cluster" | "aws account" | "mesh trust domain"
    name: str
    providers: tuple[str, ...] = ()  # identity providers backing it, human-readable
    notes: tuple[str, ...] = ()


def controls_of_snapshot(
    store: Any, snapshot_id: int | None, controls: Iterable[ControlMeta], now: datetime | None
) -> list[Control]:
    """The controls of one snapshot with the attestations in force now: the one way the
    dashboard and every export evaluate them."""
    if snapshot_id is None:
        return evaluate_controls(controls, {}, store.attestations(), now)
    return evaluate_controls(
        controls,
        store.status_counts(snapshot_id),
        store.attestations(),
        now,
        store.critical_failures(snapshot_id),
    )


def trust_domains(resources: Iterable[Mapping[str, Any]]) -> list[TrustDomain]:
    """The trust domains seen in a snapshot's resources (dicts with ``provider``,
    ``scope``, ``kind``, ``name``, ``attrs``, as the store and the JSON export give them).

    Kubernetes clusters are backed by their EKS OIDC issuer when the cluster is an EKS
    cluster seen in the same snapshot (matched by API endpoint or name) and say whether
    the issuer is registered as an IAM OIDC provider (what IRSA needs); AWS accounts by
    their IAM OIDC providers; mesh trust domains come from AuthorizationPolicy principals
    (``<trust domain>/ns/<ns>/sa/<sa>``), or Istio's default where none names one."""
    by_kind: dict[str, list[Mapping[str, Any]]] = {}
    for resource in resources:
        by_kind.setdefault(str(resource.get("kind")), []).append(resource)
    oidc: dict[str, list[Mapping[str, Any]]] = {}
    for provider in by_kind.get("IAMOIDCProvider", []):
        account = str(provider.get("scope", "")).split("/", 1)[0]
        oidc.setdefault(account, []).append(provider)
    registered = {str((p.get("attrs") or {}).get("url") or "") for ps in oidc.values() for p in ps}
    eks = by_kind.get("EKSCluster", [])
    domains: list[TrustDomain] = []
    for cluster in sorted(by_kind.get("Cluster", []), key=lambda r: str(r.get("scope"))):
        domains.append(_cluster_domain(cluster, eks, registered))
    accounts = sorted(
        {
            str(r.get("scope", "")).split("/", 1)[0]
            for kind in TRUST_KINDS
            for r in by_kind.get(kind, [])
            if r.get("provider") == "aws"
        }
        - {""}
    )
    for account in accounts:
        providers = tuple(
            f"IAM OIDC provider {(p.get('attrs') or {}).get('url')} "
            f"(audiences: {', '.join((p.get('attrs') or {}).get('client_ids') or []) or 'none'})"
            for p in sorted(oidc.get(account, []), key=lambda p: str(p.get("name")))
        )
        notes = () if providers else ("no IAM OIDC provider: no workload federation",)
        domains.append(TrustDomain("aws account", account, providers, notes))
    domains.extend(_mesh_domains(by_kind))
    return domains


def _cluster_domain(
    cluster: Mapping[str, Any], eks: list[Mapping[str, Any]], registered: set[str]
) -> TrustDomain:
    scope = str(cluster.get("scope"))
    attrs = cluster.get("attrs") or {}
    server = str(attrs.get("server") or "").rstrip("/")
    match = next(
        (
            e
            for e in eks
            if (server and str((e.get("attrs") or {}).get("endpoint") or "").rstrip("/") == server)
            or e.get("name") == scope
            or str((e.get("attrs") or {}).get("arn") or "") == scope
        ),
        None,
    )
    providers: list[str] = ["the cluster's service-account token issuer"]
    notes: list[str] = []
    if match is not None:
        issuer = (match.get("attrs") or {}).get("oidc_issuer")
        if issuer:
            host = str(issuer).split("://", 1)[-1]
            state = "registered in IAM (IRSA)" if host in registered else "not registered in IAM"
            providers.append(f"EKS OIDC issuer {issuer} — {state}")
        notes.append(f"EKS cluster {match.get('name')} ({match.get('scope')})")
    return TrustDomain("kubernetes cluster", scope, tuple(providers), tuple(notes))


def _principal_domains(rules: Any) -> set[str]:
    found: set[str] = set()
    for rule in rules if isinstance(rules, list) else []:
        for entry in (rule or {}).get("from") or []:
            source = (entry or {}).get("source") or {}
            for key in ("principals", "notPrincipals"):
                for principal in source.get(key) or []:
                    domain, sep, _ = str(principal).partition("/ns/")
                    if sep and domain and "*" not in domain:
                        found.add(domain)
    return found


def _mesh_domains(by_kind: Mapping[str, list[Mapping[str, Any]]]) -> list[TrustDomain]:
    clusters: dict[str, set[str]] = {}
    for policy in by_kind.get("AuthorizationPolicy", []):
        scope = str(policy.get("scope"))
        clusters.setdefault(scope, set()).update(
            _principal_domains((policy.get("attrs") or {}).get("rules"))
        )
    for cluster in by_kind.get("Cluster", []):
        installed = ((cluster.get("attrs") or {}).get("installed") or {}).get("istio")
        if installed:
            clusters.setdefault(str(cluster.get("scope")), set())
    meshes: dict[str, list[str]] = {}
    assumed: set[str] = set()
    for scope, domains in clusters.items():
        if not domains:
            domains = {ISTIO_DEFAULT_TRUST_DOMAIN}
            assumed.add(scope)
        for domain in domains:
            meshes.setdefault(domain, []).append(scope)
    result = []
    for domain, scopes in sorted(meshes.items()):
        notes = [f"clusters: {', '.join(sorted(scopes))}"]
        if len(scopes) > 1:
            notes.append("shared by several clusters: their workloads trust each other")
        if set(scopes) <= assumed:
            notes.append("Istio's default; no AuthorizationPolicy names a trust domain")
        providers = tuple(f"Istio CA (istiod) of {scope}" for scope in sorted(scopes))
        result.append(TrustDomain("mesh trust domain", domain, providers, tuple(notes)))
    return result


def trust_domains_of_snapshot(store: Any, snapshot_id: int) -> list[TrustDomain]:
    """:func:`trust_domains` over the stored resources of one snapshot, reading only the
    few kinds it needs."""
    marks = ", ".join(f":k{i}" for i in range(len(TRUST_KINDS)))
    params: dict[str, Any] = {"s": snapshot_id} | {f"k{i}": k for i, k in enumerate(TRUST_KINDS)}
    rows = store.db.query(
        "SELECT provider, scope, kind, name, attrs FROM resources"  # noqa: S608
        " WHERE valid_from <= :s AND (valid_to IS NULL OR valid_to > :s)"
        f" AND kind IN ({marks}) ORDER BY uid",
        params,
    )
    return trust_domains({**row, "attrs": json.loads(row["attrs"])} for row in rows)
