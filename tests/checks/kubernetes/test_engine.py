"""End to end through the engine: a kind that could not be collected makes the
RBAC check unknown in that scope — never a pass — while other scopes are judged."""

from __future__ import annotations

from postureapp.checks.registry import REGISTRY, Registry
from postureapp.collectors.base import CollectResult, RunRecorder
from postureapp.engine import scope_uid
from postureapp.model import SnapshotStatus, Target
from postureapp.poll import Poller

from .estate import cluster, k8s, rule

CHECK = "k8s-rbac-cluster-admin"


class RbacCollector:
    """Scripted: every target has a cluster-admin ClusterRoleBinding and a harmless
    RoleBinding; targets in ``unknown`` could not list the kinds named there."""

    name = "kubernetes"
    provider = "kubernetes"

    def __init__(self, unknown: dict[str, dict[str, str]]) -> None:
        self.unknown = unknown

    def collect(self, target: Target) -> CollectResult:
        scope = target.name
        recorder = RunRecorder(self.name, target.name, scope=scope)
        gaps = self.unknown.get(scope, {})
        for kind, reason in gaps.items():
            recorder.mark_unknown(kind, reason)
        resources = [
            cluster(scope),
            k8s("Role", "reader", "shop", scope=scope, rules=[rule(["get"], ["configmaps"])]),
            k8s(
                "RoleBinding",
                "reader",
                "shop",
                scope=scope,
                roleRef={"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "reader"},
                subjects=[{"kind": "ServiceAccount", "name": "web"}],
            ),
        ]
        if "ClusterRoleBinding" not in gaps:
            resources.append(
                k8s(
                    "ClusterRoleBinding",
                    "ci-admin",
                    scope=scope,
                    roleRef={
                        "apiGroup": "rbac.authorization.k8s.io",
                        "kind": "ClusterRole",
                        "name": "cluster-admin",
                    },
                    subjects=[{"kind": "ServiceAccount", "name": "ci", "namespace": "kube-system"}],
                )
            )
        return CollectResult(resources, recorder.finish(len(resources)))


def _registry() -> Registry:
    registry = Registry()
    registry.checks[CHECK] = REGISTRY.checks[CHECK]
    return registry


def test_unknown_cluster_role_bindings_make_the_cluster_admin_check_unknown_never_pass(store):
    collector = RbacCollector(
        {"prod": {"ClusterRoleBinding": "forbidden (403): list clusterrolebindings"}}
    )
    engine = Poller(store, {"kubernetes": collector}, registry=_registry())

    result = engine.poll([Target("kubernetes", "prod"), Target("kubernetes", "staging")])

    assert result.status is SnapshotStatus.PARTIAL
    findings = list(store.findings(result.snapshot_id))
    prod = [f for f in findings if f["resource_uid"].startswith("k8s://prod")]
    assert [(f["resource_uid"], f["status"]) for f in prod] == [
        (scope_uid("kubernetes", "prod"), "unknown")
    ]
    assert "forbidden" in prod[0]["detail"]
    staging = {
        f["resource_uid"]: f["status"]
        for f in findings
        if f["resource_uid"].startswith("k8s://staging")
    }
    assert staging == {
        "k8s://staging/_/ClusterRoleBinding/ci-admin": "fail",
        "k8s://staging/shop/RoleBinding/reader": "pass",
    }


def test_with_everything_collected_the_binding_fails(store):
    engine = Poller(store, {"kubernetes": RbacCollector({})}, registry=_registry())
    result = engine.poll([Target("kubernetes", "prod")])
    statuses = {f["resource_uid"]: f["status"] for f in store.findings(result.snapshot_id)}
    assert statuses["k8s://prod/_/ClusterRoleBinding/ci-admin"] == "fail"
    assert "unknown" not in statuses.values()
