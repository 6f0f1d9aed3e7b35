"""Graph benchmark: build the identity graph and find every attack path on the large
generated estate (``estate.generate_resources``, 50,000 resources) plus a two-plane
overlay shaped like a real multi-team platform (2,000 services with pods, service
accounts annotated for IRSA, IAM roles with trust and identity policies, RBAC). Budget
(issue 9): build + all paths < 3 s. Also times the five path checks together (they
share one graph per inventory).

Run: ``python -m tests.benchmarks.run bench_graph`` (median of 3 fresh processes).
"""

from __future__ import annotations

import json
import time

import postureapp.checks  # noqa: F401  (registers the path checks)
from postureapp.checks.registry import REGISTRY
from postureapp.graph import attack_paths, build_graph
from postureapp.inventory import Inventory
from postureapp.model import Resource, k8s_uid
from tests.benchmarks.estate import generate_resources

RESOURCES = 50_000
TEAMS = 40
APPS_PER_TEAM = 50
REPLICAS = 3
CLUSTER = "prod-eu"
ACCOUNT = "123456789012"
HOST = "oidc.eks.eu-west-1.amazonaws.com/id/BENCH"


def _k8s(kind: str, name: str, ns: str, attrs: dict) -> Resource:
    return Resource(
        k8s_uid(CLUSTER, kind, name, ns or None), "kubernetes", CLUSTER, kind, name, ns, attrs
    )


def _role(name: str, ns: str, sa: str, statements: list[dict]) -> Resource:
    arn = f"arn:aws:iam::{ACCOUNT}:role/{name}"
    trust = {
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Federated": [f"arn:aws:iam::{ACCOUNT}:oidc-provider/{HOST}"]},
                "Action": ["sts:AssumeRoleWithWebIdentity"],
                "Condition": {
                    "StringEquals": {f"{HOST}:sub": [f"system:serviceaccount:{ns}:{sa}"]}
                },
            }
        ]
    }
    attrs = {
        "role_name": name,
        "arn": arn,
        "trust_policy": trust,
        "attached_policies": [],
        "inline_policies": [{"name": "app", "document": {"Statement": statements}}],
        "instance_profiles": [],
        "service_linked": False,
    }
    return Resource(arn, "aws", f"{ACCOUNT}/global", "IAMRole", name, "", attrs)


def overlay() -> list[Resource]:
    found: list[Resource] = [
        Resource(
            f"arn:aws:eks:eu-west-1:{ACCOUNT}:cluster/{CLUSTER}",
            "aws",
            f"{ACCOUNT}/eu-west-1",
            "EKSCluster",
            CLUSTER,
            "",
            {"name": CLUSTER, "oidc_issuer": f"https://{HOST}"},
        )
    ]
    policies = [
        [{"Effect": "Allow", "Action": ["*"], "Resource": ["*"]}],
        [{"Effect": "Allow", "Action": ["s3:Get*", "s3:List*"], "Resource": ["*"]}],
        [{"Effect": "Allow", "Action": ["secretsmanager:GetSecretValue"], "Resource": ["*"],
          "Condition": {"StringEquals": {"aws:ResourceTag/team": ["x"]}}}],
        [{"Effect": "Allow", "Action": ["dynamodb:*"],
          "Resource": [f"arn:aws:dynamodb:eu-west-1:{ACCOUNT}:table/t"]}],
        [{"Effect": "Allow", "Action": ["iam:PassRole", "lambda:CreateFunction"],
          "Resource": ["*"]},
         {"Effect": "Deny", "Action": ["iam:*"], "Resource": ["*"]}],
    ]  # fmt: skip
    for team in range(TEAMS):
        ns = f"team-{team}-prod"
        found.append(
            _k8s("Role", "secret-reader", ns, {"rules": [
                {"api_groups": [""], "resources": ["secrets"], "verbs": ["get", "list"],
                 "resource_names": [], "non_resource_urls": []}]})
        )  # fmt: skip
        for app in range(APPS_PER_TEAM):
            name = f"app-{app}"
            sa = f"{name}-sa"
            role = f"{ns}-{name}"
            found.append(
                _k8s(
                    "ServiceAccount",
                    sa,
                    ns,
                    {"irsa_role_arn": f"arn:aws:iam::{ACCOUNT}:role/{role}"},
                )
            )
            found.append(_role(role, ns, sa, policies[(team + app) % len(policies)]))
            for replica in range(REPLICAS):
                found.append(
                    _k8s("Pod", f"{name}-abc-{replica}", ns, {
                        "labels": {"app": name}, "service_account": sa,
                        "workload": {"kind": "Deployment", "name": name, "inferred": True}})
                )  # fmt: skip
            exposed = app % 5 == 0
            found.append(
                _k8s("Service", name, ns, {
                    "type": "LoadBalancer" if exposed else "ClusterIP",
                    "selector": {"app": name}, "ports": [{"port": 443}],
                    "load_balancer_ingress": [{"hostname": f"{name}.{ns}.elb"}] if exposed else []})
            )  # fmt: skip
            if app % 7 == 0:
                found.append(
                    _k8s("RoleBinding", f"{name}-secrets", ns, {
                        "role_ref": {"kind": "Role", "name": "secret-reader"},
                        "subjects": [{"kind": "ServiceAccount", "name": sa, "namespace": ns}]})
                )  # fmt: skip
    return found


def main() -> None:
    resources = generate_resources(RESOURCES) + overlay()
    inv = Inventory(resources=resources)
    began = time.perf_counter()
    graph = build_graph(inv)
    built = time.perf_counter() - began
    paths = attack_paths(graph)
    total = time.perf_counter() - began
    fresh = Inventory(resources=resources)
    began = time.perf_counter()
    findings = 0
    for check_id in [c for c in REGISTRY.checks if c.startswith("path-")]:
        findings += sum(1 for _ in REGISTRY.checks[check_id].function(fresh))
    checks_seconds = time.perf_counter() - began
    print(
        json.dumps(
            {
                "resources": len(resources),
                "nodes": len(graph.nodes),
                "edges": len(graph.edges),
                "paths": len(paths),
                "graph_build_s": round(built, 3),
                "build_and_all_paths_s": round(total, 3),
                "five_path_checks_s": round(checks_seconds, 3),
                "path_findings": findings,
            }
        )
    )


if __name__ == "__main__":
    main()
