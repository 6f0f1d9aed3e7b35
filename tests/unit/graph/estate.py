"""A small estate spanning both planes, for the graph and path-check tests.

Kubernetes objects go through the real normaliser (``tests/checks/kubernetes/estate``),
AWS resources carry the collector's documented attrs (``tests/checks/aws/estate``).
"""

from __future__ import annotations

from dataclasses import replace
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


def eks_cluster(
    name: str = SCOPE,
    host: str | None = ISSUER_HOST,
    *,
    endpoint: str | None = None,
    associations: int | None = 0,
) -> Resource:
    """``associations``: the collector's count of Pod Identity associations, None when
    it could not read them for this cluster."""
    arn = f"arn:aws:eks:{aws.REGION}:{ACCOUNT}:cluster/{name}"
    attrs: dict[str, Any] = {
        "name": name,
        "arn": arn,
        "oidc_issuer": f"https://{host}" if host else None,
        "pod_identity_associations": associations,
    }
    if endpoint:
        attrs["endpoint"] = endpoint
    return aws.resource("EKSCluster", name, attrs, uid=arn)


POD_TRUST = aws.trust(
    aws.statement(
        "Allow",
        Principal={"Service": "pods.eks.amazonaws.com"},
        Action=["sts:AssumeRole", "sts:TagSession"],
    )
)


def association(
    ns: str,
    sa: str,
    role: str | None,
    *,
    cluster: str = SCOPE,
    association_id: str = "a-1",
) -> Resource:
    """An EKS Pod Identity association as the collector writes it (``role`` None: the
    describe call that names the role failed)."""
    return aws.resource(
        "EKSPodIdentityAssociation",
        f"{ns}/{sa}",
        {
            "cluster": cluster,
            "association_id": association_id,
            "namespace": ns,
            "service_account": sa,
            "role_arn": role_arn(role) if role else None,
        },
        uid=f"arn:aws:eks:{aws.REGION}:{ACCOUNT}:podidentityassociation/{cluster}/{association_id}",
    )


def pod_identity_exposed(sa: str = "web") -> list[Resource]:
    """``shop/web`` behind an internet-facing LoadBalancer, running as ``shop/<sa>`` with
    no IRSA annotation: only Pod Identity could give it an IAM role."""
    return [
        kube.service_account(sa, "shop"),
        *deployment("web", "shop", sa),
        load_balancer("web", "shop", "web"),
    ]


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


def inventory(
    *resources: Resource,
    runs: list[CollectorRun] | None = None,
    server: str | None = None,
) -> Inventory:
    """Both planes, with the AWS account's and the cluster's scopes known. ``server``:
    the kube context's API endpoint (to match an EKS cluster named unlike the context)."""
    cluster = kube.cluster()
    if server:
        cluster = replace(cluster, attrs={**cluster.attrs, "server": server})
    return Inventory(
        resources=[cluster, aws.aws_region(), *resources],
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


def instance_profile(name: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:instance-profile/{name}"


def open_instance(profile: str | None) -> list[Resource]:
    """A running instance with a public IP behind an SSH-open security group."""
    group = aws.resource(
        "SecurityGroup",
        "sg-1",
        {
            "group_id": "sg-1",
            "group_name": "ssh",
            "ingress": [
                {"protocol": "tcp", "from_port": 22, "to_port": 22, "open_to_internet": True}
            ],
        },
    )
    instance = aws.resource(
        "EC2Instance",
        "i-1",
        {
            "instance_id": "i-1",
            "name": "bastion",
            "state": "running",
            "public_ip": "203.0.113.9",
            "security_groups": ["sg-1"],
            "iam_instance_profile": profile,
        },
    )
    return [group, instance]
