"""Trust between domains: an EKS cluster's service-account issuer is registered as an IAM
OIDC identity provider, so its workloads can hold their own IAM roles (IRSA) instead of
all sharing the node's role.

Reads ``EKSCluster`` (``postureapp.collectors.aws.eks``) and ``IAMOIDCProvider``
(``postureapp.collectors.aws.logs``).
"""

from __future__ import annotations

from collections.abc import Iterator

from postureapp.checks.registry import Result, check
from postureapp.domain.aws.scopes import PROVIDER, account_of
from postureapp.facts import facts_of
from postureapp.facts.aws import EKSClusterFacts, IAMOIDCProviderFacts
from postureapp.inventory import Inventory
from postureapp.model import Severity, Status, View


@check(
    id="aws-eks-oidc-provider",
    title="EKS cluster issuer not registered as an IAM identity provider",
    view=View.IDENTITIES,
    severity=Severity.LOW,
    provider=PROVIDER,
    requires=("EKSCluster", "IAMOIDCProvider"),
    remediation=(
        "Register the cluster's OIDC issuer with IAM (`eksctl utils "
        "associate-iam-oidc-provider --cluster CLUSTER --approve`) and give each service "
        "account its own role (IRSA), or use EKS Pod Identity. Without either, every pod "
        "on a node acts with the node's instance role."
    ),
    frameworks={"ISO 27001:2022": ["A.5.16", "A.8.2"], "SOC 2": ["CC6.1"]},
    references=(
        "https://docs.aws.amazon.com/eks/latest/userguide/enable-iam-roles-for-service-accounts.html",
    ),
    controls=("trust-domains",),
    no_benchmark="no CIS or FSBP control for EKS issuers registered in IAM",
)
def eks_oidc_provider(inv: Inventory) -> Iterator[Result]:
    """Each EKS cluster's ``oidc_issuer`` must match an IAM OIDC provider of the same
    account (URL without ``https://``) that accepts ``sts.amazonaws.com``; a cluster
    using EKS Pod Identity associations passes without one."""
    providers: dict[str, dict[str, list[str]]] = {}
    for provider in inv.of(PROVIDER, "IAMOIDCProvider"):
        urls = providers.setdefault(account_of(provider), {})
        facts = facts_of(provider, IAMOIDCProviderFacts)
        urls[str(facts.get("url") or "")] = list(facts.get("client_ids") or [])
    for cluster in sorted(inv.of(PROVIDER, "EKSCluster"), key=lambda r: r.uid):
        name = f'EKS cluster "{cluster.name}"'
        issuer = facts_of(cluster, EKSClusterFacts).get("oidc_issuer")
        if facts_of(cluster, EKSClusterFacts).get("pod_identity_associations"):
            yield Result(cluster, Status.PASS, f"{name} uses EKS Pod Identity")
            continue
        if not issuer:
            yield Result(cluster, Status.UNKNOWN, f"{name}: its OIDC issuer is not known")
            continue
        host = str(issuer).split("://", 1)[-1]
        audiences = providers.get(account_of(cluster), {}).get(host)
        evidence = {"oidc_issuer": issuer, "registered": audiences is not None}
        if audiences is None:
            yield Result(
                cluster,
                Status.FAIL,
                f"{name}: issuer {issuer} is not an IAM identity provider",
                evidence,
            )
        elif "sts.amazonaws.com" not in audiences:
            evidence["audiences"] = audiences
            yield Result(
                cluster,
                Status.FAIL,
                f"{name}: the IAM provider for {issuer} does not accept sts.amazonaws.com",
                evidence,
            )
        else:
            yield Result(cluster, Status.PASS, f"{name}: issuer registered in IAM (IRSA)", evidence)
