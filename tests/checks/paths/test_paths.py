"""The attack-path checks on two-plane fixture estates: each path kind, its
near-misses, and *unknown* (never pass) when a kind a path needs was not collected."""

from __future__ import annotations

import pytest

import checks  # noqa: F401  (registers the catalog)
from checks.registry import REGISTRY
from postureapp.engine import Engine
from postureapp.model import CollectorRun, RunStatus, Severity, Status
from tests.checks.aws import estate as aws
from tests.checks.kubernetes import estate as kube
from tests.unit.graph import estate as e

WEB = "k8s://prod/shop/Deployment/web"
WEB_SA = "k8s://prod/shop/ServiceAccount/web"
PATH_CHECKS = [
    "path-exposed-admin",
    "path-exposed-secrets",
    "path-exposed-irsa-admin",
    "path-irsa-wildcard-sub",
    "path-sa-shared-exposed",
]


def results(check_id, *resources, runs=None):
    inv = e.inventory(*resources, runs=runs)
    found = {}
    for result in REGISTRY.checks[check_id].function(inv):
        uid = result.resource if isinstance(result.resource, str) else result.resource.uid
        assert uid not in found, f"{check_id} judged {uid} twice"
        found[uid] = result
    return found


def test_catalog_metadata_is_cross_plane_critical_and_framework_mapped():
    for check_id in PATH_CHECKS:
        meta = REGISTRY.checks[check_id]
        assert meta.provider == "paths" and meta.severity is Severity.CRITICAL
        assert meta.frameworks["ISO 27001:2022"] and meta.frameworks["SOC 2"]


@pytest.mark.parametrize("check_id", ["path-exposed-admin", "path-exposed-irsa-admin"])
def test_exposed_workload_assuming_an_admin_role_fails_with_hops(check_id):
    result = results(check_id, *e.baseline())[WEB]
    assert result.status is Status.FAIL
    hops = result.evidence["hops"]
    assert hops[0]["kind"] == "endpoint" and hops[-1]["kind"] == "capability"
    assert hops[3]["uid"] == e.role_arn("web-admin")
    assert "IAM role web-admin" in result.detail


def test_trust_for_another_namespace_is_a_near_miss_that_passes():
    resources = e.baseline()
    resources[-1] = e.admin_role("web-admin", e.irsa_trust("system:serviceaccount:other:web"))
    for check_id in ("path-exposed-admin", "path-exposed-irsa-admin"):
        assert results(check_id, *resources)[WEB].status is Status.PASS


def test_an_admin_service_account_of_an_internal_workload_is_not_judged():
    resources = e.baseline()
    resources[3] = e.internal_service("web", "shop", "web")
    found = results("path-exposed-admin", *resources)
    assert WEB not in found and all(r.status is not Status.FAIL for r in found.values())


def test_cluster_admin_fails_exposed_admin_but_not_the_irsa_check():
    resources = [
        kube.service_account("ops", "shop"),
        *e.deployment("ops", "shop", "ops"),
        e.load_balancer("ops", "shop", "ops"),
        kube.crb("ops-admin", "cluster-admin", kube.sa_subject("ops", "shop")),
    ]
    uid = "k8s://prod/shop/Deployment/ops"
    assert results("path-exposed-admin", *resources)[uid].status is Status.FAIL
    assert results("path-exposed-irsa-admin", *resources)[uid].status is Status.PASS


def test_exposed_secret_readers_fail_in_either_plane_and_conditions_are_said():
    k8s_reader = [
        kube.service_account("web", "shop"),
        *e.deployment("web", "shop", "web"),
        e.load_balancer("web", "shop", "web"),
        kube.role("secrets", "shop", kube.rule(["list"], ["secrets"])),
        kube.rb("web-secrets", "shop", "secrets", kube.sa_subject("web")),
    ]
    assert results("path-exposed-secrets", *k8s_reader)[WEB].status is Status.FAIL
    conditional = aws.role(
        "web-admin",
        policies=[
            aws.inline(
                "s",
                aws.statement(
                    Action="ssm:GetParameter*",
                    Resource="*",
                    Condition={"StringEquals": {"aws:ResourceTag/app": "web"}},
                ),
            )
        ],
        trust_policy=e.irsa_trust("system:serviceaccount:shop:web"),
    )
    result = results("path-exposed-secrets", *e.baseline()[:-1], conditional)[WEB]
    assert result.status is Status.FAIL and "conditional" in result.detail
    grants = result.evidence["hops"][-1]["evidence"]["grants"]
    assert grants[0]["conditions"] == ["StringEquals aws:ResourceTag/app=web"]


def test_a_deny_that_overrides_the_allow_makes_it_pass():
    deny = aws.inline("guard", aws.statement("Deny", Action="*", Resource="*"))
    role = aws.role(
        "web-admin",
        attached=aws.attach(e.ADMIN),
        policies=[deny],
        trust_policy=e.irsa_trust("system:serviceaccount:shop:web"),
    )
    assert results("path-exposed-admin", *e.baseline()[:-1], role)[WEB].status is Status.PASS


def test_unknown_not_pass_when_the_iam_role_could_not_be_read():
    resources = e.baseline()[:-1]
    runs = [e.aws_partial(IAMRole="AccessDenied")]
    for check_id in ("path-exposed-admin", "path-exposed-irsa-admin", "path-exposed-secrets"):
        result = results(check_id, *resources, runs=runs)[WEB]
        assert result.status is Status.UNKNOWN and "AccessDenied" in result.detail


def test_unknown_not_pass_when_the_cluster_pods_could_not_be_read():
    resources = [r for r in e.baseline() if r.kind != "Pod"]
    found = results("path-exposed-admin", *resources, runs=[e.kube_partial(Pod="403")])
    assert found["k8s://prod"].status is Status.UNKNOWN
    assert all(r.status is not Status.PASS for r in found.values())


@pytest.mark.parametrize(
    ("sub", "operator", "expected", "severity"),
    [
        (None, "StringEquals", Status.FAIL, None),
        ("system:serviceaccount:*", "StringLike", Status.FAIL, None),
        ("system:serviceaccount:*:web", "StringLike", Status.FAIL, None),
        ("system:serviceaccount:shop:*", "StringLike", Status.FAIL, Severity.HIGH),
        ("system:serviceaccount:shop:web", "StringEquals", Status.PASS, None),
        ("system:serviceaccount:shop:web", "StringLike", Status.PASS, None),
    ],
)
def test_irsa_wildcard_sub(sub, operator, expected, severity):
    role = e.admin_role("web-admin", e.irsa_trust(sub, operator=operator))
    found = results("path-irsa-wildcard-sub", role)
    result = found[role.uid]
    assert result.status is expected and result.severity is severity


def test_roles_without_web_identity_trust_are_not_judged_for_wildcard_sub():
    role = aws.role("ec2", trust_policy=aws.trust(aws.assume({"Service": "ec2.amazonaws.com"})))
    assert results("path-irsa-wildcard-sub", role) == {}


def test_one_service_account_shared_by_exposed_and_internal_workloads_fails():
    resources = [
        *e.baseline(),
        *e.deployment("worker", "shop", "web"),
    ]
    result = results("path-sa-shared-exposed", *resources)[WEB_SA]
    assert result.status is Status.FAIL
    assert result.evidence["internal"] == ["k8s://prod/shop/Deployment/worker"]
    assert result.evidence["hops"]


def test_a_service_account_used_only_by_exposed_workloads_passes_and_internal_only_is_skipped():
    resources = [
        *e.baseline(),
        kube.service_account("batch", "shop"),
        *e.deployment("batch", "shop", "batch"),
        *e.deployment("batch2", "shop", "batch"),
    ]
    found = results("path-sa-shared-exposed", *resources)
    assert found[WEB_SA].status is Status.PASS
    assert "k8s://prod/shop/ServiceAccount/batch" not in found


def test_through_the_engine_the_paths_are_judged_and_a_failed_cluster_is_unknown():
    findings = Engine(None, {}).judge(e.inventory(*e.baseline()).resources, [])
    by = {(f.check_id, f.resource_uid): f for f in findings if f.check_id.startswith("path-")}
    assert by[("path-exposed-admin", WEB)].status is Status.FAIL
    failed = CollectorRun("kubernetes", "prod", RunStatus.FAILED, error="boom", scope="prod")
    aws_only = [r for r in e.inventory(*e.baseline()).resources if r.provider == "aws"]
    findings = Engine(None, {}).judge(aws_only, [failed])
    statuses = {f.status for f in findings if f.check_id == "path-exposed-admin"}
    assert statuses == {Status.UNKNOWN}
