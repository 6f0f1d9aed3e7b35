"""Which web-identity trusts are about Kubernetes service accounts at all."""

from __future__ import annotations

from postureapp.graph import trust
from tests.checks.aws import estate as aws
from tests.unit.graph import estate as e

GITHUB = "token.actions.githubusercontent.com"


def github_trust(sub: str = "repo:org/repo:*"):
    return aws.trust(
        aws.statement(
            "Allow",
            Principal={"Federated": e.provider_arn(GITHUB)},
            Action="sts:AssumeRoleWithWebIdentity",
            Condition={"StringLike": {f"{GITHUB}:sub": sub}},
        )
    )


def test_eks_issuers_are_cluster_issuers_and_others_only_when_known():
    assert trust.is_cluster_issuer(e.ISSUER_HOST)
    assert trust.is_cluster_issuer("oidc.eks.cn-north-1.amazonaws.com.cn/id/ABC")
    assert not trust.is_cluster_issuer(GITHUB)
    assert not trust.is_cluster_issuer("oidc.example.com/cluster")
    assert trust.is_cluster_issuer("oidc.example.com/cluster", {"oidc.example.com/cluster"})


def test_a_github_actions_wildcard_is_not_a_cluster_wildcard():
    assert trust.cluster_wildcards(github_trust()) == []
    assert trust.cluster_providers(github_trust()) == []
    assert trust.other_providers(github_trust()) == [GITHUB]


def test_an_eks_wildcard_is_still_one_and_a_known_custom_issuer_is_judged():
    (verdict,) = trust.cluster_wildcards(e.irsa_trust("system:serviceaccount:*", "StringLike"))
    assert verdict.wildcard == "cluster"
    custom = "oidc.example.com/cluster"
    document = e.irsa_trust(None, host=custom)
    assert trust.cluster_wildcards(document) == []
    (verdict,) = trust.cluster_wildcards(document, {custom})
    assert verdict.wildcard == "cluster"
