"""The attack-path checks on two-plane fixture estates: each path kind, its
near-misses, and *unknown* (never pass) when a kind a path needs was not collected."""

from __future__ import annotations

import pytest

import postureapp.checks  # noqa: F401  (registers the catalog)
from postureapp.checks.registry import REGISTRY
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
    findings = Engine({}).judge(e.inventory(*e.baseline()).resources, [])
    by = {(f.check_id, f.resource_uid): f for f in findings if f.check_id.startswith("path-")}
    assert by[("path-exposed-admin", WEB)].status is Status.FAIL
    failed = CollectorRun("kubernetes", "prod", RunStatus.FAILED, error="boom", scope="prod")
    aws_only = [r for r in e.inventory(*e.baseline()).resources if r.provider == "aws"]
    findings = Engine({}).judge(aws_only, [failed])
    statuses = {f.status for f in findings if f.check_id == "path-exposed-admin"}
    assert statuses == {Status.UNKNOWN}


# -- EKS Pod Identity, instance profiles: unknown, never a silent pass ----------------

AWS_AWARE = ["path-exposed-admin", "path-exposed-secrets", "path-exposed-irsa-admin"]
SERVER = "https://ABC123.gr7.eu-west-1.eks.amazonaws.com"


def pod_identity(*, cluster=e.SCOPE, endpoint=None, role=True):
    return [
        e.eks_cluster(cluster, endpoint=endpoint),
        *e.pod_identity_exposed(),
        *([e.admin_role("pi-admin", e.POD_TRUST)] if role else []),
        e.association("shop", "web", "pi-admin", cluster=cluster),
    ]


@pytest.mark.parametrize("check_id", AWS_AWARE)
def test_pod_identity_admin_fails_when_the_context_matches_the_cluster_by_endpoint(check_id):
    inv = e.inventory(*pod_identity(cluster="prod-eks", endpoint=SERVER), server=SERVER)
    result = {
        (r.resource if isinstance(r.resource, str) else r.resource.uid): r
        for r in REGISTRY.checks[check_id].function(inv)
    }[WEB]
    assert result.status is Status.FAIL


@pytest.mark.parametrize("check_id", AWS_AWARE)
@pytest.mark.parametrize("kind", ["EKSPodIdentityAssociation", "EKSCluster"])
def test_unreadable_pod_identity_is_unknown_not_pass(check_id, kind):
    resources = [r for r in pod_identity() if r.kind != "EKSPodIdentityAssociation"]
    if kind == "EKSCluster":
        resources = [r for r in resources if r.kind != "EKSCluster"]
    result = results(check_id, *resources, runs=[e.aws_partial(**{kind: "AccessDenied"})])[WEB]
    assert result.status is Status.UNKNOWN and "AccessDenied" in result.detail


def test_unreadable_pod_identity_does_not_hide_a_proven_irsa_admin_path():
    runs = [e.aws_partial(EKSPodIdentityAssociation="not supported by the endpoint")]
    for check_id in ("path-exposed-admin", "path-exposed-irsa-admin"):
        assert results(check_id, *e.baseline(), runs=runs)[WEB].status is Status.FAIL


def test_unreadable_pod_identity_does_not_touch_kubernetes_only_judgement():
    runs = [e.aws_partial(EKSPodIdentityAssociation="AccessDenied")]
    found = results("path-sa-shared-exposed", *pod_identity(), runs=runs)
    assert found[WEB_SA].status is Status.PASS


@pytest.mark.parametrize("check_id", AWS_AWARE)
def test_pod_identity_role_not_read_is_unknown_not_pass(check_id):
    runs = [e.aws_partial(IAMRole="AccessDenied")]
    result = results(check_id, *pod_identity(role=False), runs=runs)[WEB]
    assert result.status is Status.UNKNOWN and "pi-admin" in result.detail


@pytest.mark.parametrize("check_id", AWS_AWARE)
def test_readable_pod_identity_without_an_association_passes(check_id):
    resources = [r for r in pod_identity() if r.kind != "EKSPodIdentityAssociation"]
    assert results(check_id, *resources)[WEB].status is Status.PASS


def test_an_exposed_instance_whose_profile_role_was_not_read_is_unknown():
    runs = [e.aws_partial(IAMRole="AccessDenied")]
    instance = e.open_instance(e.instance_profile("bastion"))
    found = results("path-exposed-admin", *instance, runs=runs)
    assert found[instance[1].uid].status is Status.UNKNOWN


def test_an_exposed_instance_with_an_admin_profile_role_fails():
    role = aws.role("bastion", attached=aws.attach(e.ADMIN))
    role.attrs["instance_profiles"] = [e.instance_profile("bastion")]
    instance = e.open_instance(e.instance_profile("bastion"))
    found = results("path-exposed-admin", role, *instance)
    assert found[instance[1].uid].status is Status.FAIL


# -- RBAC: a User subject that is a service account --------------------------------


def test_cluster_admin_bound_to_the_service_accounts_user_name_fails():
    resources = [
        kube.service_account("web", "shop"),
        *e.deployment("web", "shop", "web"),
        e.load_balancer("web", "shop", "web"),
        kube.cluster_role("cluster-admin", kube.rule(["*"], ["*"], groups=("*",))),
        kube.crb("b", "cluster-admin", kube.user("system:serviceaccount:shop:web")),
    ]
    assert results("path-exposed-admin", *resources)[WEB].status is Status.FAIL
    resources[-1] = kube.crb("b", "cluster-admin", kube.user("system:serviceaccount:shop:api"))
    assert results("path-exposed-admin", *resources)[WEB].status is Status.PASS


# -- NotResource Deny: narrows, so the exposed workload still reads secrets ---------


def test_a_not_resource_deny_leaves_the_exposed_workload_reading_secrets():
    app = f"arn:aws:secretsmanager:*:{aws.ACCOUNT}:secret:app/*"
    role = aws.role(
        "web-admin",
        policies=[
            aws.inline(
                "p",
                aws.statement("Allow", Action="secretsmanager:GetSecretValue", Resource="*"),
                aws.statement("Deny", Action="secretsmanager:GetSecretValue", NotResource=app),
            )
        ],
        trust_policy=e.irsa_trust("system:serviceaccount:shop:web"),
    )
    result = results("path-exposed-secrets", *e.baseline()[:-1], role)[WEB]
    assert result.status is Status.FAIL
    grant = result.evidence["hops"][-1]["evidence"]["grants"][0]
    assert grant["denied_by"] and "all but" in grant["denied_by"][0]


# -- wildcard sub: only cluster issuers are judged ---------------------------------

GITHUB = "token.actions.githubusercontent.com"


def github_role(sub="repo:org/repo:*", extra=()):
    return aws.role(
        "deploy",
        trust_policy=aws.trust(
            aws.statement(
                "Allow",
                Principal={"Federated": e.provider_arn(GITHUB)},
                Action="sts:AssumeRoleWithWebIdentity",
                Condition={"StringLike": {f"{GITHUB}:sub": sub}},
            ),
            *extra,
        ),
    )


def test_a_github_actions_trust_is_not_judged_as_an_irsa_wildcard():
    assert results("path-irsa-wildcard-sub", github_role()) == {}


def test_a_role_trusting_github_and_an_exact_eks_sub_passes_and_says_what_it_skipped():
    eks = e.irsa_trust("system:serviceaccount:shop:web")["Statement"][0]
    role = github_role(extra=(eks,))
    result = results("path-irsa-wildcard-sub", role)[role.uid]
    assert result.status is Status.PASS and GITHUB in result.detail


def test_a_role_trusting_github_and_a_wildcard_eks_sub_fails_on_the_eks_statement():
    eks = e.irsa_trust("system:serviceaccount:*", operator="StringLike")["Statement"][0]
    role = github_role(extra=(eks,))
    result = results("path-irsa-wildcard-sub", role)[role.uid]
    assert result.status is Status.FAIL and e.ISSUER_HOST in result.detail
    assert all(s["oidc_provider"] == e.ISSUER_HOST for s in result.evidence["statements"])


def test_a_custom_issuer_is_judged_only_when_it_is_a_collected_clusters():
    custom = "oidc.example.com/prod"
    role = e.admin_role("web-admin", e.irsa_trust(None, host=custom))
    assert results("path-irsa-wildcard-sub", role) == {}
    cluster = e.eks_cluster(host=custom)
    assert results("path-irsa-wildcard-sub", cluster, role)[role.uid].status is Status.FAIL
