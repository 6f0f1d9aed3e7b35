"""Identity checks: RBAC bindings and the identities workloads run as."""

from __future__ import annotations

import pytest

from postureapp.model import Severity, Status, k8s_uid

from .estate import (
    SCOPE,
    cluster_role,
    container,
    crb,
    failing,
    group,
    inventory,
    pod,
    rb,
    results,
    role,
    rule,
    sa_subject,
    service_account,
    severity,
    user,
)

CI = sa_subject("ci-deployer", "kube-system")


def binding_uid(kind: str, name: str, ns: str | None = None) -> str:
    return k8s_uid(SCOPE, kind, name, ns)


def workload_uid(kind: str, name: str, ns: str) -> str:
    return k8s_uid(SCOPE, kind, name, ns)


# -- RBAC: admin-equivalent ------------------------------------------------------------


def test_cluster_admin_binding_fails_critical_naming_binding_role_and_subject():
    inv = inventory(
        crb("ci-deployer-admin", "cluster-admin", CI),  # the role itself is not collected
        role("config-reader", "shop", rule(["get"], ["configmaps"])),
        rb("reader", "shop", "config-reader", sa_subject("web")),
    )
    found = results("k8s-rbac-cluster-admin", inv)
    bad = found[binding_uid("ClusterRoleBinding", "ci-deployer-admin")]
    assert bad.status is Status.FAIL
    assert severity("k8s-rbac-cluster-admin", bad) is Severity.CRITICAL
    assert "ClusterRoleBinding ci-deployer-admin" in bad.detail
    assert "ClusterRole cluster-admin cluster-wide" in bad.detail
    assert "ServiceAccount kube-system/ci-deployer" in bad.detail
    assert "built-in definition is assumed" in bad.detail
    assert bad.evidence["subjects"] == ["ServiceAccount kube-system/ci-deployer"]
    good = found[binding_uid("RoleBinding", "reader", "shop")]
    assert good.status is Status.PASS
    # the RoleBinding's ServiceAccount subject defaults to the binding's namespace
    assert good.evidence["subjects"] == ["ServiceAccount shop/web"]


def test_rolebinding_to_cluster_admin_is_admin_of_its_namespace_only():
    inv = inventory(
        rb("legacy-admin", "legacy", "cluster-admin", sa_subject("default"), kind="ClusterRole")
    )
    [result] = failing("k8s-rbac-cluster-admin", inv).values()
    assert "in namespace legacy" in result.detail
    assert result.evidence["namespace"] == "legacy"


def test_custom_role_with_star_on_star_is_admin_equivalent_even_through_aggregation():
    inv = inventory(
        cluster_role("platform", aggregate={"rbac.example.com/aggregate-to-platform": "true"}),
        cluster_role(
            "platform-extra",
            rule(["*"], ["*"], groups=["*"]),
            labels={"rbac.example.com/aggregate-to-platform": "true"},
        ),
        crb("platform-team", "platform", group("platform-admins")),
    )
    [result] = failing("k8s-rbac-cluster-admin", inv).values()
    assert "Group platform-admins" in result.detail
    assert "aggregated from ClusterRole/platform-extra" in result.detail
    assert result.evidence["via"] == ["ClusterRole/platform-extra"]


def test_control_plane_bindings_are_not_judged():
    inv = inventory(
        crb("cluster-admin", "cluster-admin", group("system:masters")),
        crb(
            "system:kube-controller-manager",
            "system:kube-controller-manager",
            user("system:kube-controller-manager"),
        ),
        cluster_role("system:kube-controller-manager", rule(["*"], ["*"], groups=["*"])),
    )
    assert results("k8s-rbac-cluster-admin", inv) == {}


def test_a_system_named_binding_to_a_public_group_is_still_judged():
    inv = inventory(
        cluster_role("system:sneaky", rule(["*"], ["*"], groups=["*"])),
        crb("system:sneaky", "system:sneaky", group("system:authenticated")),
    )
    assert failing("k8s-rbac-cluster-admin", inv)
    assert failing("k8s-rbac-anonymous", inv)


def test_binding_to_a_missing_role_grants_nothing():
    inv = inventory(crb("dangling", "gone-role", CI))
    [result] = results("k8s-rbac-cluster-admin", inv).values()
    assert result.status is Status.PASS
    assert "does not exist" in result.detail


# -- RBAC: capabilities ----------------------------------------------------------------


def test_wildcard_verbs_or_resources_fail_explicit_lists_pass():
    inv = inventory(
        role("deployer", "web", rule(["*"], ["deployments"], groups=["apps"])),
        role("lister", "web", rule(["list"], ["*"])),
        role("reader", "web", rule(["get", "list"], ["configmaps"])),
        rb("deployer", "web", "deployer", user("jane@example.com")),
        rb("lister", "web", "lister", user("bob@example.com")),
        rb("reader", "web", "reader", user("eve@example.com")),
    )
    found = results("k8s-rbac-wildcard", inv)
    assert found[binding_uid("RoleBinding", "deployer", "web")].status is Status.FAIL
    assert found[binding_uid("RoleBinding", "lister", "web")].status is Status.FAIL
    assert found[binding_uid("RoleBinding", "reader", "web")].status is Status.PASS
    assert (
        "* on deployments (api groups apps)"
        in found[binding_uid("RoleBinding", "deployer", "web")].detail
    )


def test_secrets_read_is_high_cluster_wide_medium_in_a_namespace_named_only_passes():
    inv = inventory(
        cluster_role("secret-reader", rule(["get", "list", "watch"], ["secrets"])),
        role("one-secret", "pay", rule(["get"], ["secrets"], names=["payments-db"])),
        crb("everywhere", "secret-reader", sa_subject("legacy-app", "legacy")),
        rb("in-pay", "pay", "secret-reader", sa_subject("api"), kind="ClusterRole"),
        rb("named", "pay", "one-secret", sa_subject("api")),
    )
    found = results("k8s-rbac-secrets-read", inv)
    wide = found[binding_uid("ClusterRoleBinding", "everywhere")]
    assert wide.status is Status.FAIL
    assert severity("k8s-rbac-secrets-read", wide) is Severity.HIGH
    local = found[binding_uid("RoleBinding", "in-pay", "pay")]
    assert local.status is Status.FAIL
    assert severity("k8s-rbac-secrets-read", local) is Severity.MEDIUM
    assert found[binding_uid("RoleBinding", "named", "pay")].status is Status.PASS


def test_pod_exec_and_attach_including_subresource_wildcards():
    inv = inventory(
        role("debug", "web", rule(["create"], ["pods/exec"])),
        role("attach-all", "web", rule(["get"], ["*/attach"])),
        role("logs", "web", rule(["get"], ["pods", "pods/log"])),
        rb("debug", "web", "debug", user("oncall")),
        rb("attach-all", "web", "attach-all", user("oncall")),
        rb("logs", "web", "logs", user("oncall")),
    )
    found = results("k8s-rbac-pod-exec", inv)
    assert found[binding_uid("RoleBinding", "debug", "web")].status is Status.FAIL
    assert found[binding_uid("RoleBinding", "attach-all", "web")].status is Status.FAIL
    assert found[binding_uid("RoleBinding", "logs", "web")].status is Status.PASS


def test_create_pods_or_workloads():
    inv = inventory(
        role("ci", "web", rule(["create", "patch"], ["deployments"], groups=["apps"])),
        role("jobs", "web", rule(["get", "list"], ["jobs"], groups=["batch"])),
        cluster_role("pod-maker", rule(["create"], ["pods"])),
        rb("ci", "web", "ci", sa_subject("ci")),
        rb("jobs", "web", "jobs", sa_subject("ci")),
        crb("pod-maker", "pod-maker", sa_subject("ci", "web")),
    )
    found = results("k8s-rbac-create-workloads", inv)
    local = found[binding_uid("RoleBinding", "ci", "web")]
    assert local.status is Status.FAIL
    assert severity("k8s-rbac-create-workloads", local) is Severity.MEDIUM
    wide = found[binding_uid("ClusterRoleBinding", "pod-maker")]
    assert severity("k8s-rbac-create-workloads", wide) is Severity.HIGH
    assert found[binding_uid("RoleBinding", "jobs", "web")].status is Status.PASS


def test_bind_escalate_impersonate_with_cluster_scoped_targets_only_cluster_wide():
    rbac_group = ["rbac.authorization.k8s.io"]
    inv = inventory(
        cluster_role("binder", rule(["bind"], ["clusterroles"], groups=rbac_group)),
        cluster_role("imp-users", rule(["impersonate"], ["users", "groups"])),
        role("imp-sa", "web", rule(["impersonate"], ["serviceaccounts"])),
        crb("binder", "binder", user("alice")),
        rb("imp-users-ns", "web", "imp-users", user("bob"), kind="ClusterRole"),
        crb("imp-users", "imp-users", user("carol")),
        rb("imp-sa", "web", "imp-sa", user("dave")),
    )
    found = results("k8s-rbac-escalation-verbs", inv)
    assert found[binding_uid("ClusterRoleBinding", "binder")].status is Status.FAIL
    assert found[binding_uid("ClusterRoleBinding", "imp-users")].status is Status.FAIL
    assert found[binding_uid("RoleBinding", "imp-sa", "web")].status is Status.FAIL
    # users and groups are cluster-scoped: a RoleBinding cannot grant impersonating them
    assert found[binding_uid("RoleBinding", "imp-users-ns", "web")].status is Status.PASS


def test_nodes_proxy_only_through_cluster_role_bindings():
    inv = inventory(
        cluster_role("kubelet-proxy", rule(["get"], ["nodes/proxy"])),
        cluster_role("metrics", rule(["get"], ["nodes/metrics", "nodes/stats"])),
        crb("proxy", "kubelet-proxy", sa_subject("agent", "monitoring")),
        crb("metrics", "metrics", sa_subject("prometheus", "monitoring")),
        rb("proxy-ns", "monitoring", "kubelet-proxy", sa_subject("agent"), kind="ClusterRole"),
    )
    found = results("k8s-rbac-nodes-proxy", inv)
    assert found[binding_uid("ClusterRoleBinding", "proxy")].status is Status.FAIL
    assert found[binding_uid("ClusterRoleBinding", "metrics")].status is Status.PASS
    assert found[binding_uid("RoleBinding", "proxy-ns", "monitoring")].status is Status.PASS


def test_anonymous_and_all_authenticated_beyond_discovery_roles_are_critical():
    inv = inventory(
        cluster_role("secret-reader", rule(["get", "list"], ["secrets"])),
        cluster_role("system:discovery", rule(["get"], [], groups=[])),
        crb(
            "legacy-secret-reader",
            "secret-reader",
            sa_subject("app", "legacy"),
            group("system:authenticated"),
        ),
        crb("anon-view", "view", user("system:anonymous")),
        crb("discovery", "system:discovery", group("system:authenticated")),
        crb("ops", "secret-reader", group("ops")),
    )
    found = results("k8s-rbac-anonymous", inv)
    bad = found[binding_uid("ClusterRoleBinding", "legacy-secret-reader")]
    assert bad.status is Status.FAIL
    assert severity("k8s-rbac-anonymous", bad) is Severity.CRITICAL
    assert "Group system:authenticated" in bad.detail and "get,list on secrets" in bad.detail
    assert found[binding_uid("ClusterRoleBinding", "anon-view")].status is Status.FAIL
    assert found[binding_uid("ClusterRoleBinding", "discovery")].status is Status.PASS
    assert found[binding_uid("ClusterRoleBinding", "ops")].status is Status.PASS


@pytest.mark.parametrize(
    "subject", [user("system:anonymous"), group("system:unauthenticated")], ids=["user", "group"]
)
def test_anonymous_bound_to_a_missing_role_fails_whatever_role_it_names(subject):
    inv = inventory(
        crb("anon-missing", "not-created-yet", subject),
        crb("anon-discovery", "system:discovery", subject),
        crb("anon-public-info", "system:public-info-viewer", subject),
        rb("anon-ns", "shop", "ghost-role", subject),
    )
    found = results("k8s-rbac-anonymous", inv)
    missing = found[binding_uid("ClusterRoleBinding", "anon-missing")]
    assert missing.status is Status.FAIL
    assert severity("k8s-rbac-anonymous", missing) is Severity.HIGH
    assert "does not exist" in missing.detail and "grants it to everyone" in missing.detail
    assert found[binding_uid("RoleBinding", "anon-ns", "shop")].status is Status.FAIL
    # Discovery was taken from anonymous callers in 1.14; public-info-viewer is the
    # API server's own binding.
    assert found[binding_uid("ClusterRoleBinding", "anon-discovery")].status is Status.FAIL
    assert found[binding_uid("ClusterRoleBinding", "anon-public-info")].status is Status.PASS


# -- service accounts and pods ---------------------------------------------------------


def test_default_service_account_per_workload_not_per_pod():
    inv = inventory(
        pod("web-5d4c3b2a1-aaaaa", "shop", deployment="web"),
        pod("web-5d4c3b2a1-bbbbb", "shop", deployment="web"),
        pod("cart-5d4c3b2a1-ccccc", "shop", deployment="cart", sa="cart"),
        pod("kube-apiserver-node1", "kube-system", owner=("Node", "node1")),  # a mirror pod
    )
    found = results("k8s-sa-default-used", inv)
    assert set(found) == {
        workload_uid("Deployment", "web", "shop"),
        workload_uid("Deployment", "cart", "shop"),
    }
    web = found[workload_uid("Deployment", "web", "shop")]
    assert web.status is Status.FAIL
    assert "ServiceAccount shop/default" in web.detail
    assert found[workload_uid("Deployment", "cart", "shop")].status is Status.PASS


def test_service_account_shared_by_several_workloads_lists_them():
    inv = inventory(
        service_account("backend", "shop"),
        service_account("reports", "shop"),
        service_account("idle", "shop"),
        pod("api-5d4c3b2a1-aaaaa", "shop", deployment="api", sa="backend"),
        pod("worker-0", "shop", owner=("StatefulSet", "worker"), sa="backend"),
        # two runs of one CronJob are one workload
        pod("nightly-28912345-x", "shop", owner=("Job", "nightly-28912345"), sa="reports"),
        pod("nightly-28913785-y", "shop", owner=("Job", "nightly-28913785"), sa="reports"),
    )
    found = results("k8s-sa-shared", inv)
    shared = found[k8s_uid(SCOPE, "ServiceAccount", "backend", "shop")]
    assert shared.status is Status.FAIL
    assert shared.evidence["workloads"] == ["Deployment/api", "StatefulSet/worker"]
    assert "Deployment/api, StatefulSet/worker" in shared.detail
    reports = found[k8s_uid(SCOPE, "ServiceAccount", "reports", "shop")]
    assert reports.status is Status.PASS
    assert reports.evidence["workloads"] == ["CronJob/nightly"]
    assert found[k8s_uid(SCOPE, "ServiceAccount", "idle", "shop")].status is Status.PASS


def test_automounted_token_unused_by_its_service_account_fails_low():
    inv = inventory(
        service_account("api", "shop"),
        service_account("batch", "shop", automount=True),
        service_account("web", "shop", automount=False),
        pod("api-5d4c3b2a1-aaaaa", "shop", deployment="api", sa="api", token=True),
        pod("batch-5d4c3b2a1-aaaaa", "shop", deployment="batch", sa="batch", token=True),
        pod("web-5d4c3b2a1-aaaaa", "shop", deployment="web", sa="web"),
    )
    found = results("k8s-pod-automount-token", inv)
    api = found[workload_uid("Deployment", "api", "shop")]
    assert api.status is Status.FAIL
    assert severity("k8s-pod-automount-token", api) is Severity.LOW
    assert "neither the pod nor its ServiceAccount opts out" in api.detail
    assert "no binding grants anything" in api.detail
    batch = found[workload_uid("Deployment", "batch", "shop")]
    assert "enabled on ServiceAccount batch" in batch.detail
    assert found[workload_uid("Deployment", "web", "shop")].status is Status.PASS


@pytest.mark.parametrize(
    "subject",
    [
        {"kind": "ServiceAccount", "name": "operator"},
        {"kind": "User", "name": "system:serviceaccount:shop:operator"},
        {"kind": "Group", "name": "system:serviceaccounts:shop"},
    ],
)
def test_a_token_the_service_account_uses_through_its_roles_passes(subject):
    inv = inventory(
        service_account("operator", "shop"),
        role("configmap-writer", "shop", rule(["get", "update"], ["configmaps"])),
        rb("operator-writes", "shop", "configmap-writer", subject),
        pod("operator-5d4c3b2a1-aaaaa", "shop", deployment="operator", sa="operator", token=True),
    )
    found = results("k8s-pod-automount-token", inv)[workload_uid("Deployment", "operator", "shop")]
    assert found.status is Status.PASS
    assert found.evidence["bindings"] == ["RoleBinding shop/operator-writes"]


def test_a_token_of_an_account_only_every_caller_shares_is_still_unused():
    """system:authenticated grants every caller the same: not the account's own need."""
    inv = inventory(
        service_account("web", "shop"),
        cluster_role("reader", rule(["get"], ["configmaps"])),
        crb("everyone-reads", "reader", group("system:authenticated")),
        pod("web-5d4c3b2a1-aaaaa", "shop", deployment="web", sa="web", token=True),
    )
    found = results("k8s-pod-automount-token", inv)[workload_uid("Deployment", "web", "shop")]
    assert found.status is Status.FAIL


def test_an_unreadable_rbac_makes_a_mounted_token_unknown_not_pass():
    inv = inventory(
        service_account("web", "shop"),
        pod("web-5d4c3b2a1-aaaaa", "shop", deployment="web", sa="web", token=True),
        pod("quiet-5d4c3b2a1-aaaaa", "shop", deployment="quiet", sa="web"),
        unknown={"RoleBinding": "forbidden (403)"},
    )
    found = results("k8s-pod-automount-token", inv)
    assert found[workload_uid("Deployment", "web", "shop")].status is Status.UNKNOWN
    assert found[workload_uid("Deployment", "quiet", "shop")].status is Status.PASS


def test_privileged_container_fails_per_workload():
    inv = inventory(
        pod(
            "node-agent-x1",
            "ops",
            owner=("DaemonSet", "node-agent"),
            containers=[container("agent", securityContext={"privileged": True})],
            initContainers=[container("init")],
        ),
        pod("web-5d4c3b2a1-aaaaa", "shop", deployment="web"),
    )
    found = results("k8s-pod-privileged", inv)
    agent = found[workload_uid("DaemonSet", "node-agent", "ops")]
    assert agent.status is Status.FAIL
    assert agent.evidence["privileged_containers"] == ["agent"]
    assert found[workload_uid("Deployment", "web", "shop")].status is Status.PASS


def test_host_network_pid_ipc_fail_per_workload():
    inv = inventory(
        pod(
            "exporter-x",
            "monitoring",
            owner=("DaemonSet", "exporter"),
            hostNetwork=True,
            hostPID=True,
        ),
        pod("web-5d4c3b2a1-aaaaa", "shop", deployment="web"),
    )
    found = results("k8s-pod-host-namespace", inv)
    exporter = found[workload_uid("DaemonSet", "exporter", "monitoring")]
    assert exporter.status is Status.FAIL
    assert exporter.evidence["host_namespaces"] == ["hostNetwork", "hostPID"]
    assert found[workload_uid("Deployment", "web", "shop")].status is Status.PASS
