"""Root causes named from crafted findings: what folds, what stays a row of its own."""

from __future__ import annotations

import random

from postureapp.model import Finding, Severity, Status, View
from postureapp.rootcause import cause_of, finding_facts, root_causes

CRB = "k8s://prod/_/ClusterRoleBinding/ci-admin"
RB = "k8s://prod/team/RoleBinding/reader"
NS = "k8s://prod/_/Namespace/{}"
SVC = "k8s://prod/platform/Service/grafana"
GROUP = "arn:aws:iam::111122223333:group/admins"
USER = "arn:aws:iam::111122223333:user/{}"
ALB = "arn:aws:elasticloadbalancing:eu-west-1:111122223333:loadbalancer/app/grafana-public/0a1b"


def row(check, uid, severity="high", status="fail", detail="", **evidence):
    return {
        "fingerprint": f"{check}|{uid}",
        "check_id": check,
        "resource_uid": uid,
        "status": status,
        "severity": severity,
        "detail": detail,
        "evidence": evidence,
    }


def grant(via_group):
    return {"action": "*", "policy": "AdministratorAccess", "via_group": via_group}


def estate() -> list[dict]:
    binding = {
        "binding": "ClusterRoleBinding/ci-admin",
        "role": "ClusterRole/cluster-admin",
        "subjects": ["ServiceAccount ci/deployer"],
    }
    unread = "EKS Pod Identity associations could not be read (HTTP 404)"
    return [
        # one binding, three RBAC checks
        row("k8s-rbac-cluster-admin", CRB, "critical", **binding),
        row("k8s-rbac-secrets-read", CRB, **binding),
        row("k8s-rbac-pod-exec", CRB, **binding),
        # another binding with a single finding: a row of its own, not a cause
        row("k8s-rbac-secrets-read", RB, "medium", binding="RoleBinding/reader"),
        # a PERMISSIVE mesh: the cluster and its namespaces
        row(
            "k8s-mesh-mtls",
            "k8s://prod/_/Cluster/prod",
            "medium",
            mode="PERMISSIVE",
            policy="istio-system/default",
        ),
        row("k8s-mesh-mtls", NS.format("shop"), "medium", mode="PERMISSIVE"),
        row("k8s-mesh-mtls", NS.format("data"), "medium", mode="PERMISSIVE"),
        # each namespace fails both NetworkPolicy checks
        row("k8s-netpol-default-deny", NS.format("shop"), "medium"),
        row("k8s-netpol-missing", NS.format("shop"), "medium"),
        row("k8s-netpol-default-deny", NS.format("data"), "medium"),
        row("k8s-netpol-missing", NS.format("data"), "medium"),
        # a group's policy: the group and a member holding it only through the group
        row("aws-iam-admin-policy", GROUP, "critical", grants=[grant(None)]),
        row("aws-iam-admin-policy", USER.format("bob"), "critical", grants=[grant("admins")]),
        row(
            "aws-iam-privilege-escalation",
            USER.format("bob"),
            statements=[{"statements": [grant("admins")]}],
        ),
        # a member who also holds the grant directly: fixing the group does not fix it
        row(
            "aws-iam-admin-policy",
            USER.format("carol"),
            "critical",
            grants=[grant("admins"), grant(None)],
        ),
        # a published Service: its own checks, a probe of its address, a path from it
        row("k8s-svc-loadbalancer", SVC, exposed_by=["LoadBalancer lb-1.example"]),
        row("k8s-admin-ui-exposed", SVC, "critical", exposed_by=["LoadBalancer lb-1.example"]),
        row("probe-no-tls", "probe://http/10.0.0.1:80", exposed_by=[SVC]),
        row(
            "path-exposed-secrets",
            "k8s://prod/platform/Deployment/grafana",
            "critical",
            endpoints=[SVC],
        ),
        # an internet-facing load balancer's own checks
        row("aws-elb-internet-facing", ALB, scheme="internet-facing"),
        row("aws-alb-rate-limit", ALB, "medium"),
        # a probe reached through two Services: not one cause
        row("probe-hsts-missing", "probe://https/10.0.0.2:443", exposed_by=[SVC, SVC + "-b"]),
        # one source that could not be read leaves several findings unknown
        row(
            "path-exposed-admin",
            "k8s://prod/shop/Deployment/checkout",
            "critical",
            "unknown",
            detail=f"cannot evaluate shop/checkout: {unread}",
        ),
        row(
            "path-exposed-secrets",
            "k8s://prod/data/Deployment/etl",
            "critical",
            "unknown",
            detail=f"cannot evaluate data/etl: {unread}",
        ),
        # passes never make a cause
        row("k8s-rbac-pod-exec", RB, "high", "pass", binding="RoleBinding/reader"),
    ]


def by_kind(causes):
    found: dict[str, list[dict]] = {}
    for cause in causes:
        found.setdefault(cause["kind"], []).append(cause)
    return found


def fps(*pairs):
    return sorted(f"{check}|{uid}" for check, uid in pairs)


def test_findings_that_share_a_cause_fold_under_it():
    causes = by_kind(root_causes(estate()))
    (binding,) = causes["binding"]
    assert binding["count"] == 3 and binding["severity"] == "critical"
    assert "ClusterRoleBinding ci-admin" in binding["label"]
    assert "ClusterRole/cluster-admin" in binding["label"]
    (mesh,) = causes["mesh"]
    assert mesh["count"] == 3
    assert "istio-system/default is PERMISSIVE" in mesh["label"]  # the mesh-wide row names it
    assert sorted(c["count"] for c in causes["netpol"]) == [2, 2]
    (group,) = causes["iam-group"]
    assert group["fingerprints"] == fps(
        ("aws-iam-admin-policy", GROUP),
        ("aws-iam-admin-policy", USER.format("bob")),
        ("aws-iam-privilege-escalation", USER.format("bob")),
    )
    exposure, alb = causes["exposure"]
    assert alb["fingerprints"] == fps(("aws-elb-internet-facing", ALB), ("aws-alb-rate-limit", ALB))
    assert alb["label"] == 'load balancer "grafana-public" internet-facing [111122223333/eu-west-1]'
    assert exposure["fingerprints"] == fps(
        ("k8s-svc-loadbalancer", SVC),
        ("k8s-admin-ui-exposed", SVC),
        ("probe-no-tls", "probe://http/10.0.0.1:80"),
        ("path-exposed-secrets", "k8s://prod/platform/Deployment/grafana"),
    )
    assert "Service platform/grafana" in exposure["label"]
    (unread,) = causes["unread"]
    assert unread["status"] == "unknown" and unread["count"] == 2
    assert (
        unread["label"] == "not judged: EKS Pod Identity associations could not be read (HTTP 404)"
    )


def test_what_one_fix_does_not_resolve_stays_a_row_of_its_own():
    listed = {fp for cause in root_causes(estate()) for fp in cause["fingerprints"]}
    assert "k8s-rbac-secrets-read|" + RB not in listed  # one finding: no cause to name
    assert "aws-iam-admin-policy|" + USER.format("carol") not in listed  # also granted directly
    assert "probe-hsts-missing|probe://https/10.0.0.2:443" not in listed  # two Services
    assert "k8s-rbac-pod-exec|" + RB not in listed  # passes
    assert cause_of(row("k8s-rbac-pod-exec", RB, status="pass")) is None


def test_worst_first_and_the_same_answer_whatever_the_order():
    findings = estate()
    causes = root_causes(findings)
    ranks = [Severity(c["severity"]).rank for c in causes]
    assert ranks == sorted(ranks, reverse=True)
    assert causes[0]["kind"] == "exposure"  # critical, and the most findings
    shuffled = list(findings)
    random.Random(3).shuffle(shuffled)
    assert root_causes(shuffled) == causes
    assert len({c["id"] for c in causes}) == len(causes)
    assert all(c["id"].startswith("rc-") and len(c["id"]) == 13 for c in causes)


def test_engine_findings_read_the_same_as_exported_rows():
    finding = Finding(
        check_id="k8s-rbac-wildcard",
        resource_uid=CRB,
        status=Status.FAIL,
        severity=Severity.HIGH,
        view=View.IDENTITIES,
        title="wildcard",
        evidence={"binding": "ClusterRoleBinding/ci-admin", "role": "ClusterRole/x"},
    )
    facts = finding_facts(finding)
    assert facts["fingerprint"] == finding.fingerprint
    assert cause_of(facts) == (
        f"binding:{CRB}",
        "ClusterRoleBinding ci-admin grants ClusterRole/x [prod]",
    )
