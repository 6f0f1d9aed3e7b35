"""IRSA trust policies that let any service account of a cluster take the role."""

from __future__ import annotations

from collections.abc import Iterator

from postureapp.checks.paths._common import PROVIDER, facts
from postureapp.checks.registry import Result, check
from postureapp.graph import trust as irsa
from postureapp.inventory import Inventory
from postureapp.model import Severity, Status, View


@check(
    id="path-irsa-wildcard-sub",
    title="IRSA trust policy admits any service account",
    view=View.IDENTITIES,
    severity=Severity.CRITICAL,
    provider=PROVIDER,
    remediation="""
Name the one service account in the trust policy: a `StringEquals` condition on
`<issuer>:sub` = `system:serviceaccount:<namespace>:<name>` (and `<issuer>:aud` =
`sts.amazonaws.com`). Without a `sub` condition, or with a wildcard in it, any pod that
can run as any matching service account of the cluster gets the role.""",
    frameworks={"ISO 27001:2022": ["A.5.15", "A.8.2", "A.5.18"], "SOC 2": ["CC6.1", "CC6.3"]},
    references=(
        "https://docs.aws.amazon.com/eks/latest/userguide/associate-service-account-role.html",
    ),
    controls=("least-privilege",),
)
def irsa_wildcard_sub(inv: Inventory) -> Iterator[Result]:
    """Each role trusting a cluster's OIDC issuer for web identity (an EKS issuer,
    ``oidc.eks.<region>.amazonaws.com/id/...``, or the issuer of a collected EKS
    cluster): critical when the trust has no ``sub`` condition or a wildcard before the
    namespace (any service account of the cluster), high when it admits a whole
    namespace (``system:serviceaccount:ns:*``), pass when every such statement names
    service accounts exactly. Other providers (GitHub Actions, GitLab...) are not
    judged here: their ``sub`` is not a service account."""
    data = facts(inv)
    for key, reason in sorted(data.graph.gaps.items()):
        if key.startswith("aws://"):
            yield Result(key, Status.UNKNOWN, detail=f"cannot evaluate: {reason}")
    known = {
        host
        for cluster in inv.of("aws", "EKSCluster")
        if (host := irsa.issuer_host(cluster.attrs.get("oidc_issuer"))) is not None
    }
    for role in sorted(inv.of("aws", "IAMRole"), key=lambda r: r.uid):
        document = role.attrs.get("trust_policy")
        # Web identity for other providers (GitHub Actions' repo:org/name:*) is not about
        # service accounts: this check neither fails nor passes such a trust.
        if not irsa.cluster_providers(document, known):
            continue
        wild = irsa.cluster_wildcards(document, known)
        cluster_wide = [v for v in wild if v.wildcard == "cluster"]
        assumed_by = sorted(e.source for e in data.graph.into(role.uid, "assumes"))
        if not wild:
            others = irsa.other_providers(document, known)
            note = f" (other OIDC providers not judged: {', '.join(others)})" if others else ""
            yield Result(
                role,
                Status.PASS,
                detail=f"{role.name}: every service-account sub is exact{note}",
            )
            continue
        worst = cluster_wide or wild
        scope = "any service account of the cluster" if cluster_wide else "a whole namespace"
        yield Result(
            role,
            Status.FAIL,
            severity=None if cluster_wide else Severity.HIGH,
            detail=f"IAM role {role.name} can be assumed by {scope}: {worst[0].how}",
            evidence={
                "statements": [v.to_dict() for v in wild],
                "assumed_by": assumed_by,
                "hops": [],
            },
        )
