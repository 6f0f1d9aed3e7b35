"""A small estate spanning both planes, for the graph and path-check tests.

Kubernetes objects go through the real normaliser (``tests/checks/kubernetes/estate``),
AWS resources carry the collector's documented attrs (``tests/checks/aws/estate``).
"""

from __future__ import annotations

from typing import Any

from postureapp.inventory import Inventory
from postureapp.model import CollectorRun, Resource, RunStatus
from tests.checks.aws import estate as aws
from tests.checks.kubernetes import estate as kube

SCOPE = kube.SCOPE  # the kube context, named like the EKS cluster
ACCOUNT = aws.ACCOUNT
ISSUER_HOST = "oidc.eks.eu-west-1.amazonaws.com/id/ABC123"
OTHER_ISSUER = "oidc.eks.eu-west-1.amazonaws.com/id/OTHER9"
ADMIN = aws.ADMIN_ARN


def provider_arn(host: str = ISSUER_HOST) -> str:
    return f"arn:aws:iam::{ACCOUNT}:oidc-provider/{host}"


def irsa_trust(sub: str | None, operator: str = "StringEquals", host: str = ISSUER_HOST):
    condition: dict[str, Any] = {operator: {f"{host}:aud": "sts.amazonaws.com"}}
    if sub is not None:
        condition[operator][f"{host}:sub"] = sub
    return aws.trust(
        aws.statement(
            "Allow",
            Principal={"Federated": provider_arn(host)},
            Action="sts:AssumeRoleWithWebIdentity",
            Condition=condition,
        )
    )


def eks_cluster(name: str = SCOPE, host: str | None = ISSUER_HOST) -> Resource:
    arn = f"arn:aws:eks:{aws.REGION}:{ACCOUNT}:cluster/{name}"
    return aws.resource(
        "EKSCluster",
        name,
        {"name": name, "arn": arn, "oidc_issuer": f"https://{host}" if host else None},
        uid=arn,
    )


def role_arn(name: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:role/{name}"


def irsa_account(name: str, ns: str, role: str | None) -> Resource:
    annotations = {"eks.amazonaws.com/role-arn": role_arn(role)} if role else None
    return kube.k8s("ServiceAccount", name, ns, annotations=annotations)


def deployment(name: str, ns: str, sa: str, *, replicas: int = 1) -> list[Resource]:
    return [
        kube.pod(f"{name}-5d4c3b2a1-{i}", ns, deployment=name, sa=sa, labels={"app": name})
        for i in range(replicas)
    ]


def load_balancer(name: str, ns: str, app: str, *, internal: bool = False) -> Resource:
    annotations = (
        {"service.beta.kubernetes.io/aws-load-balancer-scheme": "internal"} if internal else None
    )
    return kube.service(
        name,
        ns,
        "LoadBalancer",
        selector={"app": app},
        annotations=annotations,
        status={"loadBalancer": {"ingress": [{"hostname": f"{name}.elb.example.com"}]}},
    )


def internal_service(name: str, ns: str, app: str) -> Resource:
    return kube.service(name, ns, selector={"app": app})


def inventory(*resources: Resource, runs: list[CollectorRun] | None = None) -> Inventory:
    """Both planes, with the AWS account's and the cluster's scopes known."""
    return Inventory(
        resources=[kube.cluster(), aws.aws_region(), *resources],
        runs=list(runs or []),
        now=aws.NOW,
    )


def aws_partial(**unknown: str) -> CollectorRun:
    return aws.partial_run(**unknown)


def kube_partial(**unknown: str) -> CollectorRun:
    return CollectorRun("kubernetes", SCOPE, RunStatus.PARTIAL, scope=SCOPE, unknown=unknown)


def admin_role(name: str, trust_policy: dict[str, Any]) -> Resource:
    return aws.role(name, attached=aws.attach(ADMIN), trust_policy=trust_policy)


def baseline() -> list[Resource]:
    """The main story: an internet-facing LoadBalancer in front of ``shop/web``, whose
    service account assumes an admin role through a confirmed IRSA trust."""
    return [
        eks_cluster(),
        irsa_account("web", "shop", "web-admin"),
        *deployment("web", "shop", "web"),
        load_balancer("web", "shop", "web"),
        admin_role("web-admin", irsa_trust("system:serviceaccount:shop:web")),
    ]
