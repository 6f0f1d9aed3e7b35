"""A small, realistic, deterministic estate for the dashboard's tests and screenshots.

Two kube contexts (prod-eu, staging) and one AWS account, judged by a small catalog of
checks shaped like the shipped ones, polled through the real Engine three times at
fixed moments (7 days ago, 24 hours ago, 15 minutes ago) with changes in between, plus
a live waiver, an expired waiver, a note and an attestation. ``NOW`` is the "now" the
dashboard is given, so every age on screen is fixed.
"""

from __future__ import annotations

import threading
from datetime import datetime
from pathlib import Path

from freezegun import freeze_time

from postureapp.checks.registry import Registry, Result
from postureapp.collectors.base import CollectResult, RunRecorder
from postureapp.engine import Engine
from postureapp.model import (
    Attestation,
    Resource,
    Severity,
    Status,
    Target,
    View,
    Waiver,
    k8s_uid,
    parse_time,
)
from postureapp.poll import Poller
from postureapp.store import Store

NOW = parse_time("2026-11-20T09:00:00Z")
POLL_TIMES = ("2026-11-13T09:00:00Z", "2026-11-19T09:00:00Z", "2026-11-20T08:45:00Z")
ACCOUNT = "123456789012"
KUBE_TARGETS = [Target("kubernetes", "prod-eu"), Target("kubernetes", "staging")]
AWS_TARGETS = [Target("aws", "prod")]
TARGETS = KUBE_TARGETS + AWS_TARGETS


PAYMENTS_ROLE = f"arn:aws:iam::{ACCOUNT}:iamrole/payments-api-irsa"
_OIDC = "oidc.eks.eu-west-1.amazonaws.com/id/FIXTURE"
IRSA_TRUST = {
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Federated": [f"arn:aws:iam::{ACCOUNT}:oidc-provider/{_OIDC}"]},
            "Action": ["sts:AssumeRoleWithWebIdentity"],
            "Condition": {
                "StringEquals": {f"{_OIDC}:sub": ["system:serviceaccount:payments:payments-api"]}
            },
        }
    ]
}


def clock() -> datetime:
    return NOW


# -- resources ---------------------------------------------------------------------------


def _k8s(cluster: str, kind: str, name: str, namespace: str = "", **attrs) -> Resource:
    return Resource(
        uid=k8s_uid(cluster, kind, name, namespace or None),
        provider="kubernetes",
        scope=cluster,
        kind=kind,
        name=name,
        namespace=namespace,
        attrs=attrs,
        created_at="2026-03-02T10:00:00Z",
    )


def _aws(kind: str, name: str, region: str = "eu-west-1", **attrs) -> Resource:
    service = {
        "IAMRole": "iam",
        "IAMUser": "iam",
        "SecurityGroup": "ec2",
        "SecretsManagerSecret": "secretsmanager",
        "CloudTrail": "cloudtrail",
        "RDSInstance": "rds",
        "S3Bucket": "s3",
    }[kind]
    scope = f"{ACCOUNT}/{'global' if service in ('iam', 's3') else region}"
    arn_region = "" if service in ("iam", "s3") else region
    return Resource(
        uid=f"arn:aws:{service}:{arn_region}:{ACCOUNT}:{kind.lower()}/{name}",
        provider="aws",
        scope=scope,
        kind=kind,
        name=name,
        attrs=attrs,
        created_at="2025-06-01T00:00:00Z",
    )


def kube_estate(cluster: str, stage: int) -> list[Resource]:
    """One cluster's resources at poll ``stage`` (0, 1, 2)."""
    if cluster == "staging":
        return [
            _k8s(cluster, "Namespace", "shop"),
            _k8s(cluster, "Pod", "web-5f7c9", "shop", serviceAccountName="web", privileged=False),
            _k8s(cluster, "ServiceAccount", "web", "shop", automountServiceAccountToken=True),
            _k8s(cluster, "Secret", "session-key", "shop", age_days=200 + stage),
            _k8s(cluster, "Service", "web", "shop", type="ClusterIP", ports=[8080]),
        ]
    resources = [
        _k8s(cluster, "Namespace", "shop"),
        _k8s(cluster, "Namespace", "payments"),
        _k8s(cluster, "Namespace", "monitoring"),
        _k8s(cluster, "NetworkPolicy", "default-deny", "shop", default_deny=True),
        _k8s(cluster, "Pod", "web-7d9f8", "shop", serviceAccountName="web", privileged=False),
        _k8s(cluster, "Pod", "cart-5c4d1", "shop", serviceAccountName="cart", privileged=False),
        _k8s(
            cluster,
            "Pod",
            "payments-api-6b7f",
            "payments",
            serviceAccountName="payments-api",
            privileged=True,
            # the collector's contract attrs the identity graph reads (issue 9)
            service_account="payments-api",
            labels={"app": "payments"},
            workload={"kind": "Deployment", "name": "payments-api", "inferred": True},
        ),
        _k8s(
            cluster,
            "Pod",
            "node-exporter-x2k",
            "monitoring",
            serviceAccountName="prometheus",
            privileged=True,
        ),
        _k8s(cluster, "ServiceAccount", "web", "shop", automountServiceAccountToken=False),
        _k8s(cluster, "ServiceAccount", "cart", "shop", automountServiceAccountToken=True),
        _k8s(
            cluster,
            "ServiceAccount",
            "payments-api",
            "payments",
            automountServiceAccountToken=True,
            irsa_role_arn=PAYMENTS_ROLE,
        ),
        _k8s(
            cluster, "ServiceAccount", "prometheus", "monitoring", automountServiceAccountToken=True
        ),
        _k8s(
            cluster,
            "ClusterRoleBinding",
            "payments-admin",
            roleRef="cluster-admin",
            subjects=["payments/payments-api"],
        ),
        _k8s(
            cluster,
            "ClusterRoleBinding",
            "prometheus-read",
            roleRef="view",
            subjects=["monitoring/prometheus"],
        ),
        _k8s(cluster, "Service", "web", "shop", type="LoadBalancer", ports=[443]),
        _k8s(cluster, "Service", "grafana", "monitoring", type="NodePort", ports=[3000]),
        _k8s(cluster, "Ingress", "web", "shop", tls=True, hosts=["shop.example.com"]),
        _k8s(cluster, "Ingress", "grafana", "monitoring", tls=False, hosts=["grafana.example.com"]),
        _k8s(cluster, "Secret", "db-password", "payments", age_days=190 + 7 * stage),
        _k8s(cluster, "Secret", "tls-web", "shop", age_days=40),
    ]
    # The stripe key was rotated between the first and the second poll.
    resources.append(
        _k8s(cluster, "Secret", "stripe-api-key", "payments", age_days=412 if stage == 0 else 1)
    )
    # An admin endpoint was exposed by accident between the first and second poll.
    admin_type = "ClusterIP" if stage == 0 else "LoadBalancer"
    resources.append(
        _k8s(
            cluster,
            "Service",
            "payments-admin",
            "payments",
            type=admin_type,
            ports=[8080, 22],
            selector={"app": "payments"},
        )
    )
    if stage >= 2:  # a debug pod appeared in the last poll
        resources.append(
            _k8s(
                cluster,
                "Pod",
                "debug-shell",
                "payments",
                serviceAccountName="payments-api",
                privileged=True,
            )
        )
    return resources


def aws_estate(stage: int) -> list[Resource]:
    return [
        _aws(
            "IAMRole",
            "payments-api-irsa",
            policies=["AdministratorAccess"],
            attached_policies=[
                {
                    "name": "AdministratorAccess",
                    "arn": "arn:aws:iam::aws:policy/AdministratorAccess",
                }
            ],
            trust_policy=IRSA_TRUST,
        ),
        _aws("IAMRole", "ci-deploy", policies=["PowerUserAccess"], wildcard_actions=True),
        _aws("IAMRole", "readonly-auditor", policies=["SecurityAudit"]),
        _aws("IAMUser", "alice", mfa=False, access_key_age_days=400 + stage),
        _aws("IAMUser", "bob", mfa=True, access_key_age_days=20),
        _aws("SecurityGroup", "web-alb", ingress=[{"port": 443, "cidr": "0.0.0.0/0"}]),
        _aws("SecurityGroup", "bastion", ingress=[{"port": 22, "cidr": "0.0.0.0/0"}]),
        _aws("SecurityGroup", "db", ingress=[{"port": 5432, "cidr": "10.0.0.0/8"}]),
        _aws("SecretsManagerSecret", "prod/stripe", rotation=False, age_days=300),
        _aws("SecretsManagerSecret", "prod/db", rotation=True, age_days=12),
        _aws("CloudTrail", "org-trail", multi_region=True, logging=True),
        _aws("RDSInstance", "payments-db", encrypted=stage >= 1),
        _aws("S3Bucket", "shop-assets", public=True),
    ]


# -- collectors --------------------------------------------------------------------------


class FixtureCollector:
    """Serves the fixture estate; tests script failures, gaps and slowness per target."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.provider = name
        self.stage = 0
        self.fail: dict[str, str] = {}
        self.unknown: dict[str, dict[str, str]] = {}
        self.block: dict[str, threading.Event] = {}
        self.extra: dict[str, list[Resource]] = {}
        self.calls = 0

    def collect(self, target: Target) -> CollectResult:
        self.calls += 1
        if target.name in self.block:
            self.block[target.name].wait(60)
        scope = target.name if self.name == "kubernetes" else ACCOUNT
        recorder = RunRecorder(self.name, target.name, scope=scope)
        recorder.call(7)
        if target.name in self.fail:
            recorder.fail(self.fail[target.name])
            return CollectResult([], recorder.finish(0))
        if self.name == "kubernetes":
            resources = kube_estate(target.name, self.stage)
        else:
            resources = aws_estate(self.stage)
        resources = resources + self.extra.get(target.name, [])
        for kind, reason in self.unknown.get(target.name, {}).items():
            recorder.mark_unknown(kind, reason)
            resources = [r for r in resources if r.kind != kind]
        return CollectResult(resources, recorder.finish(len(resources)))


# -- checks ------------------------------------------------------------------------------


def fixture_registry() -> Registry:
    registry = Registry()
    check = registry.check

    @check(
        id="k8s-rbac-cluster-admin",
        title="Subject bound to cluster-admin",
        view=View.IDENTITIES,
        severity=Severity.CRITICAL,
        provider="kubernetes",
        requires=("ClusterRoleBinding",),
        remediation="Bind a namespaced Role with only the verbs the workload needs.",
        frameworks={"CIS Kubernetes": ["5.1.1"], "ISO 27001:2022": ["A.8.2"], "SOC 2": ["CC6.3"]},
    )
    def cluster_admin(inv):
        for binding in inv.of("kubernetes", "ClusterRoleBinding"):
            admin = binding.attrs["roleRef"] == "cluster-admin"
            yield Result(
                binding,
                Status.FAIL if admin else Status.PASS,
                detail=f"{', '.join(binding.attrs['subjects'])} -> {binding.attrs['roleRef']}",
                evidence={
                    "roleRef": binding.attrs["roleRef"],
                    "subjects": binding.attrs["subjects"],
                },
            )

    @check(
        id="k8s-pod-privileged",
        title="Privileged container",
        view=View.IDENTITIES,
        severity=Severity.HIGH,
        provider="kubernetes",
        requires=("Pod",),
        remediation="Remove securityContext.privileged; grant single capabilities instead.",
        frameworks={"CIS Kubernetes": ["5.2.2"], "ISO 27001:2022": ["A.8.2"]},
    )
    def privileged(inv):
        for pod in inv.of("kubernetes", "Pod"):
            bad = pod.attrs["privileged"]
            yield Result(
                pod,
                Status.FAIL if bad else Status.PASS,
                detail=f"serviceAccount {pod.attrs['serviceAccountName']}",
                evidence={"privileged": bad, "serviceAccountName": pod.attrs["serviceAccountName"]},
            )

    @check(
        id="k8s-sa-token-automount",
        title="Service account token mounted automatically",
        view=View.IDENTITIES,
        severity=Severity.MEDIUM,
        provider="kubernetes",
        requires=("ServiceAccount",),
        remediation="Set automountServiceAccountToken: false unless the pod calls the API.",
        frameworks={"CIS Kubernetes": ["5.1.6"]},
    )
    def automount(inv):
        for account in inv.of("kubernetes", "ServiceAccount"):
            on = account.attrs["automountServiceAccountToken"]
            yield Result(account, Status.FAIL if on else Status.PASS)

    @check(
        id="aws-iam-role-admin",
        title="IAM role with administrator access",
        view=View.IDENTITIES,
        severity=Severity.CRITICAL,
        provider="aws",
        requires=("IAMRole",),
        remediation="Replace AdministratorAccess with a policy scoped to the service's needs.",
        frameworks={"ISO 27001:2022": ["A.8.2"], "SOC 2": ["CC6.3"], "CIS AWS": ["1.16"]},
    )
    def role_admin(inv):
        for role in inv.of("aws", "IAMRole"):
            admin = "AdministratorAccess" in role.attrs["policies"]
            wildcard = role.attrs.get("wildcard_actions", False)
            status = Status.FAIL if admin or wildcard else Status.PASS
            yield Result(
                role,
                status,
                severity=None if admin else Severity.HIGH,
                detail=", ".join(role.attrs["policies"]),
                evidence={"policies": role.attrs["policies"], "wildcard_actions": wildcard},
            )

    @check(
        id="aws-iam-user-no-mfa",
        title="IAM user without MFA",
        view=View.IDENTITIES,
        severity=Severity.HIGH,
        provider="aws",
        requires=("IAMUser",),
        remediation="Enforce MFA for console users; prefer SSO over IAM users.",
        frameworks={"ISO 27001:2022": ["A.8.5"], "SOC 2": ["CC6.1"], "CIS AWS": ["1.10"]},
    )
    def no_mfa(inv):
        for user in inv.of("aws", "IAMUser"):
            yield Result(user, Status.PASS if user.attrs["mfa"] else Status.FAIL)

    @check(
        id="k8s-admin-port-exposed",
        title="Admin port exposed outside the cluster",
        view=View.ENDPOINTS,
        severity=Severity.CRITICAL,
        provider="kubernetes",
        requires=("Service",),
        remediation="Use ClusterIP and reach admin ports through kubectl port-forward.",
        frameworks={"ISO 27001:2022": ["A.8.20"], "CIS Kubernetes": ["5.3.2"]},
    )
    def admin_port(inv):
        admin_ports = {22, 2375, 6443, 8080, 10250}
        for service in inv.of("kubernetes", "Service"):
            exposed = service.attrs["type"] in ("LoadBalancer", "NodePort")
            ports = sorted(set(service.attrs["ports"]) & admin_ports)
            status = Status.FAIL if exposed and ports else Status.PASS
            title = f"Admin port {ports[0]} exposed" if status is Status.FAIL else None
            yield Result(
                service,
                status,
                title=title,
                detail=f"type {service.attrs['type']}, ports {service.attrs['ports']}",
                evidence={"type": service.attrs["type"], "ports": service.attrs["ports"]},
            )

    @check(
        id="k8s-ingress-no-tls",
        title="Ingress without TLS",
        view=View.ENDPOINTS,
        severity=Severity.MEDIUM,
        provider="kubernetes",
        requires=("Ingress",),
        remediation="Add a tls: section with a certificate (cert-manager can issue one).",
        frameworks={"ISO 27001:2022": ["A.8.24"]},
    )
    def ingress_tls(inv):
        for ingress in inv.of("kubernetes", "Ingress"):
            yield Result(
                ingress,
                Status.PASS if ingress.attrs["tls"] else Status.FAIL,
                evidence={"hosts": ingress.attrs["hosts"]},
            )

    @check(
        id="aws-sg-admin-port-open",
        title="Security group opens an admin port to the internet",
        view=View.ENDPOINTS,
        severity=Severity.CRITICAL,
        provider="aws",
        requires=("SecurityGroup",),
        remediation="Restrict the rule to a VPN range or use SSM Session Manager.",
        frameworks={"CIS AWS": ["5.2"], "ISO 27001:2022": ["A.8.20"]},
    )
    def sg_open(inv):
        for group in inv.of("aws", "SecurityGroup"):
            open_rules = [
                rule
                for rule in group.attrs["ingress"]
                if rule["cidr"] == "0.0.0.0/0" and rule["port"] in (22, 3389, 5432)
            ]
            yield Result(
                group,
                Status.FAIL if open_rules else Status.PASS,
                evidence={"ingress": group.attrs["ingress"]},
            )

    @check(
        id="aws-s3-public",
        title="S3 bucket readable by anyone",
        view=View.ENDPOINTS,
        severity=Severity.HIGH,
        provider="aws",
        requires=("S3Bucket",),
        remediation="Turn on S3 Block Public Access; serve assets through CloudFront.",
        frameworks={"CIS AWS": ["2.1.4"]},
    )
    def s3_public(inv):
        for bucket in inv.of("aws", "S3Bucket"):
            yield Result(bucket, Status.FAIL if bucket.attrs["public"] else Status.PASS)

    @check(
        id="k8s-secret-stale",
        title="Secret not rotated in 90 days",
        view=View.SECRETS,
        severity=Severity.HIGH,
        provider="kubernetes",
        requires=("Secret",),
        remediation="Rotate the secret and automate it (External Secrets, Vault).",
        frameworks={"ISO 27001:2022": ["A.5.17"]},
    )
    def secret_stale(inv):
        for secret in inv.of("kubernetes", "Secret"):
            days = secret.attrs["age_days"]
            yield Result(
                secret,
                Status.FAIL if days > 90 else Status.PASS,
                detail=f"last changed {days} days ago",
                evidence={"age_days": days},
            )

    @check(
        id="aws-secret-rotation-off",
        title="Secrets Manager rotation disabled",
        view=View.SECRETS,
        severity=Severity.MEDIUM,
        provider="aws",
        requires=("SecretsManagerSecret",),
        remediation="Enable rotation with a Lambda rotation function.",
        frameworks={"ISO 27001:2022": ["A.5.17"], "SOC 2": ["CC6.1"]},
    )
    def rotation(inv):
        for secret in inv.of("aws", "SecretsManagerSecret"):
            yield Result(
                secret,
                Status.PASS if secret.attrs["rotation"] else Status.FAIL,
                evidence={"age_days": secret.attrs["age_days"]},
            )

    @check(
        id="aws-access-key-stale",
        title="Access key older than 90 days",
        view=View.SECRETS,
        severity=Severity.HIGH,
        provider="aws",
        requires=("IAMUser",),
        remediation="Rotate the key, then delete the old one; prefer roles over keys.",
        frameworks={"CIS AWS": ["1.14"]},
    )
    def key_age(inv):
        for user in inv.of("aws", "IAMUser"):
            days = user.attrs["access_key_age_days"]
            yield Result(user, Status.FAIL if days > 90 else Status.PASS, detail=f"{days} days")

    @check(
        id="aws-cloudtrail-on",
        title="CloudTrail multi-region logging",
        view=View.GOVERNANCE,
        severity=Severity.HIGH,
        provider="aws",
        requires=("CloudTrail",),
        remediation="Create an organisation trail logging every region.",
        frameworks={"ISO 27001:2022": ["A.8.15"], "SOC 2": ["CC7.2"], "CIS AWS": ["3.1"]},
    )
    def trail(inv):
        for item in inv.of("aws", "CloudTrail"):
            ok = item.attrs["multi_region"] and item.attrs["logging"]
            yield Result(item, Status.PASS if ok else Status.FAIL)

    @check(
        id="aws-rds-encrypted",
        title="RDS storage not encrypted",
        view=View.GOVERNANCE,
        severity=Severity.HIGH,
        provider="aws",
        requires=("RDSInstance",),
        remediation="Restore from an encrypted snapshot copy; enable encryption by default.",
        frameworks={"ISO 27001:2022": ["A.8.24"], "CIS AWS": ["2.3.1"]},
    )
    def rds(inv):
        for item in inv.of("aws", "RDSInstance"):
            yield Result(item, Status.PASS if item.attrs["encrypted"] else Status.FAIL)

    @check(
        id="k8s-netpol-default-deny",
        title="Namespace without a default-deny NetworkPolicy",
        view=View.GOVERNANCE,
        severity=Severity.MEDIUM,
        provider="kubernetes",
        requires=("Namespace", "NetworkPolicy"),
        remediation="Add a default-deny NetworkPolicy, then allow flows explicitly.",
        frameworks={"ISO 27001:2022": ["A.8.22"], "CIS Kubernetes": ["5.3.2"]},
    )
    def netpol(inv):
        protected = {
            (p.scope, p.namespace)
            for p in inv.of("kubernetes", "NetworkPolicy")
            if p.attrs.get("default_deny")
        }
        for namespace in inv.of("kubernetes", "Namespace"):
            ok = (namespace.scope, namespace.name) in protected
            yield Result(namespace, Status.PASS if ok else Status.FAIL)

    control = registry.control
    control(
        id="least-privilege",
        title="Identities have least privilege",
        frameworks={"ISO 27001:2022": ["A.8.2"], "SOC 2": ["CC6.3"]},
        checks=["k8s-rbac-cluster-admin", "aws-iam-role-admin", "k8s-pod-privileged"],
        description="One identity per service, with only the permissions it uses.",
    )
    control(
        id="mfa",
        title="People sign in with MFA",
        frameworks={"ISO 27001:2022": ["A.8.5"], "SOC 2": ["CC6.1"]},
        checks=["aws-iam-user-no-mfa"],
    )
    control(
        id="no-admin-exposure",
        title="No admin interface exposed by accident",
        frameworks={"ISO 27001:2022": ["A.8.20"], "CIS AWS": ["5.2"]},
        checks=["k8s-admin-port-exposed", "aws-sg-admin-port-open"],
    )
    control(
        id="secret-rotation",
        title="Secrets are short-lived and rotated",
        frameworks={"ISO 27001:2022": ["A.5.17"]},
        checks=["k8s-secret-stale", "aws-secret-rotation-off", "aws-access-key-stale"],
    )
    control(
        id="audit-trail",
        title="Audit trail of administrative actions",
        frameworks={"ISO 27001:2022": ["A.8.15"], "SOC 2": ["CC7.2"]},
        checks=["aws-cloudtrail-on"],
    )
    control(
        id="encryption-at-rest",
        title="Data encrypted at rest",
        frameworks={"ISO 27001:2022": ["A.8.24"]},
        checks=["aws-rds-encrypted"],
    )
    control(
        id="segmentation",
        title="Service-to-service traffic is denied by default",
        frameworks={"ISO 27001:2022": ["A.8.22"]},
        checks=["k8s-netpol-default-deny"],
    )
    control(
        id="backup-restore-test",
        title="Backups are restored and tested",
        frameworks={"ISO 27001:2022": ["A.8.13"], "SOC 2": ["A1.2"]},
        description="A person attests a restore test at least every quarter.",
        needs_attestation=True,
    )
    return registry


# -- building a cache --------------------------------------------------------------------


class Fixture:
    """The collectors and engine wiring shared by the cache builder and the app."""

    def __init__(self) -> None:
        self.kube = FixtureCollector("kubernetes")
        self.aws = FixtureCollector("aws")
        self.registry = fixture_registry()

    def engine(self, store: Store) -> Engine:
        return Poller(store, {"kubernetes": self.kube, "aws": self.aws}, registry=self.registry)

    def poller(self, store: Store, progress=None):
        return self.engine(store).poll(TARGETS, progress)

    def set_stage(self, stage: int) -> None:
        self.kube.stage = stage
        self.aws.stage = stage


def build_cache(path: Path, *, failing_last: bool = True) -> Fixture:
    """Write the fixture's three snapshots (and triage) into a new cache at ``path``.

    With ``failing_last``, the staging context times out in the last poll, so the
    latest snapshot is partial and staging's findings are carried forward as unknown.
    """
    fixture = Fixture()
    with Store(path) as store:
        for stage, moment in enumerate(POLL_TIMES):
            fixture.set_stage(stage)
            if stage == 2 and failing_last:
                fixture.kube.fail["staging"] = (
                    "Get https://staging.k8s.example:6443/api: dial tcp 10.4.0.9:6443: i/o timeout"
                )
            with freeze_time(moment):
                fixture.poller(store)
                if stage == 1:
                    _triage(store)
        fixture.kube.fail.clear()
    fixture.kube.calls = fixture.aws.calls = 0
    return fixture


def _triage(store: Store) -> None:
    bastion = next(
        row for row in store.findings(store.latest().id) if row["resource_uid"].endswith("bastion")
    )
    store.add_waiver(
        Waiver(
            fingerprint=bastion["fingerprint"],
            reason="bastion scheduled for removal with the VPN migration",
            owner="platform-team",
            ticket="SEC-142",
            expires_at="2027-01-31T00:00:00Z",
        )
    )
    alice = next(
        row
        for row in store.findings(store.latest().id)
        if row["check_id"] == "aws-iam-user-no-mfa" and row["resource_uid"].endswith("alice")
    )
    store.add_waiver(
        Waiver(
            fingerprint=alice["fingerprint"],
            reason="break-glass user, MFA device in the safe",
            owner="secops",
            ticket="SEC-97",
            expires_at="2026-11-01T00:00:00Z",
        )
    )
    admin = next(
        row
        for row in store.findings(store.latest().id)
        if row["check_id"] == "k8s-rbac-cluster-admin" and row["status"] == "fail"
    )
    store.add_note(
        admin["fingerprint"], "dana", "payments team asked for this during the migration"
    )
    store.add_attestation(
        Attestation(
            control_id="backup-restore-test",
            by="dana",
            at="2026-09-01T00:00:00Z",
            expires_at="2026-12-01T00:00:00Z",
            note="restored payments-db snapshot into staging; checksums matched",
        )
    )
