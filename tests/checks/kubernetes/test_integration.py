"""The fixture estate collected over HTTP from the test API server, judged by the
shipped Kubernetes checks through the engine: the planted problems are found, a clean
namespace added next to them is not flagged, and no secret value reaches the cache."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from postureapp.checks.registry import REGISTRY, Registry
from postureapp.collectors.kubernetes import KubernetesCollector
from postureapp.model import SnapshotStatus, Target
from postureapp.poll import Poller
from tests.kube import server_from_fixtures
from tests.kube.estate import CANARY_ENV_VALUE, CANARY_SECRET_B64, CANARY_SECRET_VALUE

from .estate import SETTINGS

CONTEXT = "demo"
CLEAN = "catalog"


def clean_namespace() -> list[dict]:
    """One service done right: own ServiceAccount without an API token, restricted Pod
    Security, in the mesh, default-deny ingress, ClusterIP only."""
    labels = {"app": "catalog-api"}
    meta = {"namespace": CLEAN}
    return [
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {
                "name": CLEAN,
                "labels": {
                    "kubernetes.io/metadata.name": CLEAN,
                    "istio-injection": "enabled",
                    "pod-security.kubernetes.io/enforce": "restricted",
                },
            },
        },
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {"name": "catalog-api", **meta},
            "automountServiceAccountToken": False,
        },
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {"name": "default-deny-ingress", **meta},
            "spec": {"podSelector": {}, "policyTypes": ["Ingress"]},
        },
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": "catalog-api-6b7c8d9f5-k2k2k",
                **meta,
                "labels": {**labels, "pod-template-hash": "6b7c8d9f5"},
                "ownerReferences": [
                    {
                        "apiVersion": "apps/v1",
                        "kind": "ReplicaSet",
                        "name": "catalog-api-6b7c8d9f5",
                        "uid": "7f1e",
                        "controller": True,
                    }
                ],
            },
            "spec": {
                "serviceAccountName": "catalog-api",
                "containers": [
                    {
                        "name": "api",
                        "image": "registry.example.com/catalog-api:2.1.0",
                        "ports": [{"name": "http", "containerPort": 8080}],
                        "env": [
                            {
                                "name": "DB_PASSWORD",
                                "valueFrom": {
                                    "secretKeyRef": {"name": "catalog-db", "key": "password"}
                                },
                            }
                        ],
                        "securityContext": {
                            "allowPrivilegeEscalation": False,
                            "runAsNonRoot": True,
                        },
                    },
                    {"name": "istio-proxy", "image": "docker.io/istio/proxyv2:1.22.3"},
                ],
            },
            "status": {"phase": "Running"},
        },
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "catalog-api", **meta},
            "spec": {
                "type": "ClusterIP",
                "selector": labels,
                "ports": [{"name": "http", "port": 80, "targetPort": "http"}],
            },
        },
    ]


@pytest.fixture
def target(tmp_path: Path) -> Iterator[Target]:
    with server_from_fixtures() as server:
        server.add(*clean_namespace())
        kubeconfig = server.write_kubeconfig(tmp_path / "kubeconfig", context=CONTEXT)
        yield Target("kubernetes", CONTEXT, {"kubeconfig": str(kubeconfig)})


def shipped_kubernetes_checks() -> Registry:
    registry = Registry()
    for check_id, meta in REGISTRY.checks.items():
        if meta.function.__module__.startswith("postureapp.checks.kubernetes."):
            registry.checks[check_id] = meta
    for control_id, meta in REGISTRY.controls.items():
        if control_id.startswith("k8s-"):
            # Its evidence is derived again here, from the checks copied above.
            registry.control(
                id=control_id,
                title=meta.title,
                frameworks=meta.frameworks,
                description=meta.description,
                needs_attestation=meta.needs_attestation,
            )
    assert all(
        registry.controls[c].checks == REGISTRY.controls[c].checks for c in registry.controls
    )
    return registry


def test_fixture_estate_over_http_planted_problems_found_clean_namespace_not_flagged(store, target):
    engine = Poller(
        store,
        {"kubernetes": KubernetesCollector(backoff=0.001)},
        registry=shipped_kubernetes_checks(),
        settings=dict(SETTINGS),
    )

    result = engine.poll([target])

    assert result.status is SnapshotStatus.COMPLETE, [run.error for run in result.runs]
    findings = list(store.findings(result.snapshot_id))
    by_key = {(f["check_id"], f["resource_uid"]): f for f in findings}

    def failing(check_id: str, uid: str) -> dict:
        finding = by_key.get((check_id, uid))
        assert finding is not None, f"{check_id} did not judge {uid}"
        assert finding["status"] == "fail", finding
        return finding

    admin = failing("k8s-rbac-cluster-admin", "k8s://demo/_/ClusterRoleBinding/ci-deployer-admin")
    assert "ServiceAccount kube-system/ci-deployer" in admin["detail"]
    assert admin["severity"] == "critical"
    failing("k8s-pod-privileged", "k8s://demo/kube-system/Pod/debug-shell")
    literal = failing("k8s-env-literal-secret", "k8s://demo/legacy/Deployment/legacy-app")
    assert "DB_PASSWORD" in literal["detail"]
    mesh = failing("k8s-mesh-mtls", "k8s://demo/_/Namespace/payments")
    assert "PERMISSIVE" in mesh["detail"]
    lb = failing("k8s-svc-loadbalancer", "k8s://demo/frontend/Service/web")
    assert "a1b2c3d4e5f6-1234567890.elb.eu-west-1.amazonaws.com" in lb["detail"]
    failing("k8s-admin-ui-exposed", "k8s://demo/legacy/Service/admin-console")
    failing("k8s-rbac-anonymous", "k8s://demo/_/ClusterRoleBinding/legacy-secret-reader")
    failing("k8s-secret-legacy-token", "k8s://demo/kube-system/Secret/ci-deployer-token")

    clean = [
        f
        for f in findings
        if f"/{CLEAN}/" in f["resource_uid"] or f["resource_uid"].endswith(f"/Namespace/{CLEAN}")
    ]
    assert {f["status"] for f in clean} == {"pass"}, [f for f in clean if f["status"] != "pass"]
    judged = {f["check_id"] for f in clean}
    assert {
        "k8s-sa-default-used",
        "k8s-sa-shared",
        "k8s-pod-automount-token",
        "k8s-pod-privileged",
        "k8s-netpol-default-deny",
        "k8s-mesh-mtls",
        "k8s-svc-loadbalancer",
        "k8s-env-literal-secret",
    } <= judged

    everything = json.dumps(findings, default=str)
    for canary in (CANARY_ENV_VALUE, CANARY_SECRET_VALUE, CANARY_SECRET_B64):
        assert canary not in everything
