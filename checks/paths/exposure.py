"""Exposed workloads whose identity reaches too far, in the cluster or in the cloud."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from postureapp.checks.paths._common import PROVIDER, Facts, evidence, facts
from postureapp.checks.registry import Result, check
from postureapp.graph.model import ADMIN, READ_SECRETS, SERVICE_ACCOUNT, WORKLOAD, Path
from postureapp.inventory import Inventory
from postureapp.model import Severity, Status, View

_REFS = (
    "https://docs.aws.amazon.com/eks/latest/userguide/iam-roles-for-service-accounts.html",
    "https://kubernetes.io/docs/concepts/security/rbac-good-practices/",
)


def _judge(
    inv: Inventory,
    wanted: Callable[[Path], bool],
    what: str,
    negation: str,
    *,
    aws_matters: bool = True,
) -> Iterator[Result]:
    """Fail each exposed workload with a wanted path, pass the rest, unknown where the
    graph could not see the cluster or an identity's cloud permissions."""
    data: Facts = facts(inv)
    reported_scopes: set[str] = set()
    for key, reason in sorted(data.graph.gaps.items()):
        # A gap on a service account or workload is judged with the exposed workloads
        # it affects (below); reporting it here too would duplicate it for each check
        # and flag accounts that no exposed workload uses.
        node = data.graph.nodes.get(key)
        if node is not None and node.kind in (SERVICE_ACCOUNT, WORKLOAD):
            continue
        if key.startswith("k8s://") and key not in reported_scopes:
            reported_scopes.add(key)
            yield Result(key, Status.UNKNOWN, detail=f"cannot evaluate: {reason}")
    for workload, endpoints in sorted(data.exposed.items()):
        node = data.graph.nodes[workload]
        hits = [p for p in data.by_workload.get(workload, []) if wanted(p)]
        names = ", ".join(data.graph.nodes[e].name for e in endpoints)
        if hits:
            conditional = all(p.conditional for p in hits)
            note = " (every grant is conditional: check the conditions)" if conditional else ""
            yield Result(
                workload,
                Status.FAIL,
                detail=f"{node.detail} {node.name} is reachable from the internet ({names}) "
                f"and {what}: {hits[0].summary()}{note}",
                evidence=evidence(hits, endpoints=endpoints),
            )
            continue
        gap = data.scope_gap(workload)
        gaps = [gap] if gap else []
        if aws_matters:
            gaps.extend(data.identity_gaps(workload))
        if gaps:
            yield Result(
                workload,
                Status.UNKNOWN,
                detail=f"cannot evaluate {node.name}: {'; '.join(dict.fromkeys(gaps))}",
            )
            continue
        yield Result(
            workload,
            Status.PASS,
            detail=f"{node.detail} {node.name} is exposed ({names}); {negation}",
            evidence={"endpoints": endpoints},
        )


@check(
    id="path-exposed-admin",
    title="Internet-exposed workload runs as an admin-equivalent identity",
    view=View.IDENTITIES,
    severity=Severity.CRITICAL,
    provider=PROVIDER,
    remediation="""
Break the path at its cheapest hop: give the workload its own service account with
only the verbs it needs (drop the cluster-admin / `*` binding), point its IRSA
annotation at a role scoped to its own resources instead of one with `*` on `*`, or
take the endpoint off the internet (internal load balancer, Ingress with
authentication). A breach of an exposed service must not become a breach of the
cluster or the account.""",
    frameworks={
        "ISO 27001:2022": ["A.8.2", "A.5.15", "A.8.20"],
        "SOC 2": ["CC6.1", "CC6.3", "CC6.6"],
    },
    references=_REFS,
    controls=("least-privilege",),
)
def exposed_admin(inv: Inventory) -> Iterator[Result]:
    """An internet-facing endpoint reaches a workload whose service account (through
    RBAC) or IAM role (through IRSA, Pod Identity or an instance profile) is
    admin-equivalent in the cluster or the cloud."""
    yield from _judge(
        inv,
        lambda p: p.capability == ADMIN,
        "its identity is admin-equivalent",
        "no identity on its paths is admin-equivalent",
    )


@check(
    id="path-exposed-secrets",
    title="Internet-exposed workload can read secrets",
    view=View.IDENTITIES,
    severity=Severity.CRITICAL,
    provider=PROVIDER,
    remediation="""
Scope the workload's secret access to the secrets it uses: a Role with `resourceNames`
instead of get/list on all secrets; an IAM policy naming its own secret ARNs or SSM
parameter paths instead of `*`. Better, mount only its own secrets and give it no API
access to secrets at all (`automountServiceAccountToken: false`).""",
    frameworks={"ISO 27001:2022": ["A.8.2", "A.5.15", "A.5.33"], "SOC 2": ["CC6.1", "CC6.6"]},
    references=_REFS,
    controls=("least-privilege",),
)
def exposed_secrets(inv: Inventory) -> Iterator[Result]:
    """An internet-facing workload whose identity can read any Kubernetes Secret of a
    namespace or the cluster, any Secrets Manager secret or any SSM parameter (grants
    limited to named secrets do not count). An admin-equivalent identity can, too: it
    fails here as well as in path-exposed-admin."""
    yield from _judge(
        inv,
        lambda p: p.capability in (READ_SECRETS, ADMIN),
        "its identity can read secrets",
        "no identity on its paths can read secrets",
    )


@check(
    id="path-exposed-irsa-admin",
    title="Internet-exposed workload assumes an IAM role with * on *",
    view=View.IDENTITIES,
    severity=Severity.CRITICAL,
    provider=PROVIDER,
    remediation="""
Replace the role's AdministratorAccess (or any `"Action": "*", "Resource": "*"`
statement) with a policy naming the actions and resources the service uses (IAM Access
Analyzer can generate one from CloudTrail), and give each service its own role whose
trust policy names only its service account.""",
    frameworks={"ISO 27001:2022": ["A.8.2", "A.5.15", "A.5.18"], "SOC 2": ["CC6.1", "CC6.3"]},
    references=_REFS,
    controls=("least-privilege",),
)
def exposed_irsa_admin(inv: Inventory) -> Iterator[Result]:
    """The cross-plane special case on-call asks about first: the exposed workload's
    service account assumes (IRSA or EKS Pod Identity, confirmed by the role's trust
    policy) an IAM role allowed ``*`` on ``*``."""
    yield from _judge(
        inv,
        lambda p: p.capability == ADMIN and p.plane == "aws" and p.via_assume,
        "its service account assumes an IAM role with * on *",
        "its service accounts assume no IAM role with * on *",
    )


@check(
    id="path-sa-shared-exposed",
    title="Service account shared by an exposed and an internal workload",
    view=View.IDENTITIES,
    severity=Severity.CRITICAL,
    provider=PROVIDER,
    remediation="""
Give the exposed workload its own service account (and its own IAM role): a breach of
the internet-facing service otherwise carries every right the internal workload
needs, and the audit trail cannot tell them apart.""",
    frameworks={"ISO 27001:2022": ["A.5.16", "A.8.2"], "SOC 2": ["CC6.1"]},
    references=("https://kubernetes.io/docs/concepts/security/service-accounts/",),
    controls=("one-identity-per-service",),
)
def shared_exposed(inv: Inventory) -> Iterator[Result]:
    """Each service account used by an internet-exposed workload: fails when an internal
    workload (reached by no internet-facing endpoint) runs as it too."""
    data = facts(inv)
    users: dict[str, list[str]] = {}
    for edge in data.graph.edges:
        if edge.relation == "runs-as":
            users.setdefault(edge.target, []).append(edge.source)
    for account, workloads in sorted(users.items()):
        exposed = sorted(w for w in workloads if w in data.exposed)
        if not exposed:
            continue
        node = data.graph.nodes[account]
        gap = data.scope_gap(exposed[0])
        if gap:
            yield Result(account, Status.UNKNOWN, detail=f"cannot evaluate: {gap}")
            continue
        internal = sorted(w for w in workloads if w not in data.exposed)
        name = lambda uid: data.graph.nodes[uid].name  # noqa: E731
        if internal:
            paths = [p for w in exposed for p in data.by_workload.get(w, [])]
            yield Result(
                account,
                Status.FAIL,
                detail=f"ServiceAccount {node.name} runs exposed "
                f"{', '.join(map(name, exposed))} and internal {', '.join(map(name, internal))}",
                evidence={
                    "exposed": exposed,
                    "internal": internal,
                    **(evidence(paths) if paths else {"hops": []}),
                },
            )
        else:
            yield Result(
                account,
                Status.PASS,
                detail=f"ServiceAccount {node.name} is used only by exposed "
                f"{', '.join(map(name, exposed))}",
            )
