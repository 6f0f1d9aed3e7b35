"""Per-cluster governance checks and the Kubernetes controls."""

from __future__ import annotations

from postureapp.checks.registry import REGISTRY
from postureapp.governance import evaluate_controls
from postureapp.model import ControlStatus, Status, k8s_uid

from .estate import (
    SCOPE,
    cluster,
    crb,
    group,
    inventory,
    k8s,
    namespace,
    netpol,
    peer_auth,
    rb,
    results,
    sa_subject,
    secret,
    service_account,
)

CLUSTER = k8s_uid(SCOPE, "Cluster", SCOPE)
DENY = {"podSelector": {}, "policyTypes": ["Ingress"]}


def only(check_id, inv):
    found = results(check_id, inv)
    assert list(found) == [CLUSTER]
    return found[CLUSTER]


def test_default_deny_coverage_gives_the_ratio_and_the_namespaces_without():
    inv = inventory(
        cluster(),
        namespace("kube-system"),
        namespace("pay"),
        namespace("shop"),
        namespace("web"),
        netpol("deny", "pay", **DENY),
        netpol("deny", "web", **DENY),
    )
    result = only("k8s-gov-default-deny-coverage", inv)
    assert result.status is Status.FAIL
    assert result.detail.startswith("2 of 3 namespaces (67%) deny ingress by default")
    assert result.evidence == {"covered": 2, "total": 3, "ratio": 0.6667, "without": ["shop"]}
    inv = inventory(cluster(), namespace("pay"), netpol("deny", "pay", **DENY))
    assert only("k8s-gov-default-deny-coverage", inv).status is Status.PASS


def test_mtls_coverage_counts_strict_namespaces_zero_without_a_mesh():
    inv = inventory(
        cluster(istio=True),
        namespace("pay", **{"istio-injection": "enabled"}),
        namespace("shop", **{"istio-injection": "enabled"}),
        peer_auth("default", "istio-system", "STRICT"),
        peer_auth("legacy", "shop", "PERMISSIVE"),
    )
    result = only("k8s-gov-mtls-coverage", inv)
    assert result.status is Status.FAIL
    assert result.detail.startswith("1 of 2 namespaces (50%) require mTLS")
    assert result.evidence["without"] == ["shop"]
    none = only("k8s-gov-mtls-coverage", inventory(cluster(istio=False), namespace("pay")))
    assert none.status is Status.FAIL and "no service mesh" in none.detail
    unknown = only("k8s-gov-mtls-coverage", inventory(cluster(istio=None), namespace("pay")))
    assert unknown.status is Status.UNKNOWN


def test_admission_policy_names_what_is_present():
    inv = inventory(
        cluster(gatekeeper=True),
        namespace("pay", enforce="restricted"),
        namespace("web", enforce="baseline"),
        namespace("ops", enforce="privileged"),
        k8s(
            "ConstraintTemplate",
            "k8srequiredlabels",
            spec={"crd": {"spec": {"names": {"kind": "K8sRequiredLabels"}}}},
        ),
    )
    result = only("k8s-gov-admission-policy", inv)
    assert result.status is Status.PASS
    assert "Pod Security enforce on 2 of 3 namespaces" in result.detail
    assert "restricted: pay" in result.detail and "baseline: web" in result.detail
    assert "Gatekeeper (constraint templates: k8srequiredlabels)" in result.detail


def test_admission_policy_fails_when_nothing_enforces_audit_only_kyverno_is_not_enough():
    inv = inventory(
        cluster(kyverno=True),
        namespace("shop", enforce="privileged"),
        k8s(
            "ClusterPolicy",
            "require-labels",
            spec={"validationFailureAction": "Audit", "rules": [{"name": "r", "validate": {}}]},
        ),
    )
    result = only("k8s-gov-admission-policy", inv)
    assert result.status is Status.FAIL
    assert "audit only: require-labels" in result.detail
    enforcing = inventory(
        cluster(kyverno=True),
        namespace("shop"),
        k8s(
            "ClusterPolicy",
            "require-labels",
            spec={"validationFailureAction": "Enforce", "rules": []},
        ),
    )
    assert only("k8s-gov-admission-policy", enforcing).status is Status.PASS


def test_admission_policy_unknown_when_policy_kinds_could_not_be_read():
    inv = inventory(
        cluster(gatekeeper=None, kyverno=None),
        namespace("shop"),
        unknown={"ConstraintTemplate": "forbidden (403)", "ClusterPolicy": "forbidden (403)"},
    )
    result = only("k8s-gov-admission-policy", inv)
    assert result.status is Status.UNKNOWN
    assert "forbidden" in result.detail


def test_least_privilege_share_of_identities_with_admin_rights():
    inv = inventory(
        cluster(),
        service_account("ci-deployer", "kube-system"),
        service_account("api", "pay"),
        service_account("web", "shop"),
        crb("ci-deployer-admin", "cluster-admin", sa_subject("ci-deployer", "kube-system")),
        rb("shop-admin", "shop", "admin", group("shop-team"), kind="ClusterRole"),
        crb("cluster-admin", "cluster-admin", group("system:masters")),  # control plane
    )
    result = only("k8s-gov-least-privilege", inv)
    assert result.status is Status.FAIL
    # identities: 3 service accounts + the shop-team group; namespace admin is not */*
    assert result.detail.startswith("1 of 4 identities (25%) hold admin-equivalent rights")
    assert (
        "ServiceAccount kube-system/ci-deployer (ClusterRoleBinding/ci-deployer-admin cluster-wide)"
        in result.detail
    )
    clean = inventory(cluster(), service_account("api", "pay"))
    assert only("k8s-gov-least-privilege", clean).status is Status.PASS


def test_short_lived_credentials_fail_while_legacy_tokens_exist():
    token = secret(
        "ci-token",
        "kube-system",
        "kubernetes.io/service-account-token",
        annotations={"kubernetes.io/service-account.name": "ci"},
    )
    result = only("k8s-gov-short-lived-credentials", inventory(cluster(), namespace("pay"), token))
    assert result.status is Status.FAIL
    assert result.evidence == {"legacy_tokens": ["kube-system/ci-token"]}
    clean = inventory(cluster(), namespace("pay"), secret("db", "pay"))
    assert only("k8s-gov-short-lived-credentials", clean).status is Status.PASS


def test_controls_cite_registered_kubernetes_checks_and_evaluate():
    controls = {
        "k8s-network-segmentation",
        "k8s-mtls-between-services",
        "k8s-admission-policy",
        "k8s-least-privilege",
        "k8s-short-lived-credentials",
    }
    assert controls <= set(REGISTRY.controls)
    assert REGISTRY.validate() == []
    for control_id in controls:
        meta = REGISTRY.controls[control_id]
        assert meta.frameworks["ISO 27001:2022"]
        assert all(REGISTRY.checks[c].provider == "kubernetes" for c in meta.checks)
    segmentation = REGISTRY.controls["k8s-network-segmentation"]
    [evaluated] = evaluate_controls(
        [segmentation],
        {
            "k8s-gov-default-deny-coverage": {"fail": 1},
            "k8s-netpol-default-deny": {"pass": 3, "fail": 1},
        },
        {},
    )
    assert evaluated.status is ControlStatus.PARTIAL


def test_governance_checks_skip_scopes_they_have_no_data_for():
    # A scope the engine excluded leaves no resources in the view; runs still name it.
    inv = inventory(unknown={"Namespace": "forbidden"})
    for check_id in REGISTRY.checks:
        if check_id.startswith("k8s-gov-"):
            assert results(check_id, inv) == {}
