"""Deterministic caches for export tests: a realistic one (golden files) and a hostile
one (every outside string is an attack), both written straight through the store with
fixed timestamps, so documents built from them at a frozen time are byte-stable."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from postureapp.checks.registry import Registry
from postureapp.graph import derived_facts
from postureapp.inventory import Inventory
from postureapp.model import (
    Attestation,
    CollectorRun,
    Finding,
    Resource,
    RunStatus,
    Severity,
    SnapshotStatus,
    Status,
    View,
    Waiver,
    fingerprint,
    k8s_uid,
)
from postureapp.store import Store

FROZEN_NOW = "2026-11-22T09:00:00Z"
GOLDEN_VERSION = "0.0.0+golden"
ACCOUNT = "123456789012"
CANARY = "CANARY-SECRET-VALUE-7f3a"


def fixture_registry() -> Registry:
    """A small catalog spanning the four views, every severity and both providers."""
    registry = Registry()

    def add(id, title, view, severity, provider, frameworks, references=()):
        registry.check(
            id=id,
            title=title,
            view=view,
            severity=severity,
            provider=provider,
            remediation=f"Fix {title.lower()}.",
            frameworks=frameworks,
            references=references,
            description=f"{title}: a test check.",
        )(lambda inv: [])

    add(
        "k8s-privileged-pod",
        "Privileged pod",
        View.IDENTITIES,
        Severity.HIGH,
        "kubernetes",
        {"CIS Kubernetes": ["5.2.1"], "ISO 27001:2022": ["A.8.2"]},
        ["https://kubernetes.io/docs/concepts/security/pod-security-standards/"],
    )
    add(
        "k8s-cluster-admin-binding",
        "Subject bound to cluster-admin",
        View.IDENTITIES,
        Severity.CRITICAL,
        "kubernetes",
        {"CIS Kubernetes": ["5.1.1"]},
    )
    add(
        "k8s-admin-service-exposed",
        "Admin service exposed",
        View.ENDPOINTS,
        Severity.CRITICAL,
        "kubernetes",
        {"SOC 2": ["CC6.6"]},
    )
    add(
        "k8s-namespace-no-netpol",
        "Namespace without network policy",
        View.ENDPOINTS,
        Severity.INFO,
        "kubernetes",
        {},
    )
    add(
        "aws-sg-open-ingress",
        "Security group open to the internet",
        View.ENDPOINTS,
        Severity.HIGH,
        "aws",
        {"CIS AWS": ["5.2"]},
    )
    add(
        "aws-secret-not-rotated",
        "Secret not rotated",
        View.SECRETS,
        Severity.MEDIUM,
        "aws",
        {"ISO 27001:2022": ["A.8.24"]},
    )
    add("k8s-secret-stale", "Stale Kubernetes secret", View.SECRETS, Severity.LOW, "kubernetes", {})
    add(
        "aws-cloudtrail-disabled",
        "CloudTrail not enabled",
        View.GOVERNANCE,
        Severity.HIGH,
        "aws",
        {"ISO 27001:2022": ["A.8.15"], "SOC 2": ["CC7.2"]},
    )
    registry.control(
        id="ctl-least-privilege",
        title="Workloads and people have least privilege",
        frameworks={"ISO 27001:2022": ["A.8.2"], "SOC 2": ["CC6.1"]},
        checks=["k8s-privileged-pod", "k8s-cluster-admin-binding"],
    )
    registry.control(
        id="ctl-secret-rotation",
        title="Secrets are rotated",
        frameworks={"ISO 27001:2022": ["A.8.24"]},
        checks=["aws-secret-not-rotated", "k8s-secret-stale"],
    )
    registry.control(
        id="ctl-audit-trail",
        title="An audit trail is kept",
        frameworks={"ISO 27001:2022": ["A.8.15"]},
        checks=["aws-cloudtrail-disabled"],
    )
    registry.control(
        id="ctl-restore-tested",
        title="Backups are restored in a test",
        frameworks={"ISO 27001:2022": ["A.8.13"], "SOC 2": ["A1.3"]},
        needs_attestation=True,
    )
    return registry


def pod(name: str, cluster: str = "prod", namespace: str = "shop", **attrs: Any) -> Resource:
    return Resource(
        uid=k8s_uid(cluster, "Pod", name, namespace),
        provider="kubernetes",
        scope=cluster,
        kind="Pod",
        name=name,
        namespace=namespace,
        attrs=attrs,
        created_at="2026-01-05T10:00:00Z",
    )


def aws(kind: str, name: str, arn: str, region: str = "eu-west-1", **attrs: Any) -> Resource:
    return Resource(
        uid=arn,
        provider="aws",
        scope=f"{ACCOUNT}/{region}",
        kind=kind,
        name=name,
        attrs=attrs,
        created_at=None,
    )


def finding(registry: Registry, check_id: str, uid: str, status: Status, **kw: Any) -> Finding:
    meta = registry.checks[check_id]
    return Finding(
        check_id=check_id,
        resource_uid=uid,
        status=status,
        severity=kw.pop("severity", meta.severity),
        view=meta.view,
        title=kw.pop("title", meta.title),
        detail=kw.pop("detail", ""),
        evidence=kw.pop("evidence", {}),
        remediation=meta.remediation,
    )


def write(
    store: Store,
    registry: Registry,
    when: str,
    status: SnapshotStatus,
    runs: Iterable[CollectorRun],
    resources: Iterable[Resource],
    findings: Iterable[Finding],
) -> int:
    runs, resources = list(runs), list(resources)
    # What the engine keeps beside every snapshot it writes (the graph, attack paths).
    derived = derived_facts(Inventory(resources=resources, runs=runs))
    return store.write_snapshot(
        started_at=when.replace(":00:00Z", ":00:00Z"),
        finished_at=when.replace("T08:00:00Z", "T08:00:42Z"),
        status=status,
        runs=runs,
        resources=resources,
        findings=findings,
        catalog=[meta.to_dict() for meta in registry.checks.values()],
        derived=derived,
    )


def build_golden_cache(path: Path) -> tuple[Store, Registry]:
    """Two snapshots: a complete one, then a partial one where a pod turned privileged,
    a finding was fixed, one lost sight of, and one is waived."""
    registry = fixture_registry()
    store = Store(path)
    web, debug, api = pod("web", privileged=False), pod("debug"), pod("api")
    admin_svc = Resource(
        uid=k8s_uid("prod", "Service", "admin", "shop"),
        provider="kubernetes",
        scope="prod",
        kind="Service",
        name="admin",
        namespace="shop",
        attrs={
            "type": "LoadBalancer",
            "ports": [8443],
            "selector": {"app": "admin"},
            "load_balancer_ingress": [{"hostname": "admin.elb.example.com", "ip": None}],
        },
    )
    # The admin UI behind that load balancer runs as a cluster-admin service account:
    # the golden document carries this one attack path (issue 9).
    admin_ui = pod(
        "admin-ui-6d5f7-x2x4q",
        labels={"app": "admin"},
        service_account="admin-ui",
        workload={"kind": "Deployment", "name": "admin-ui", "inferred": True},
    )
    admin_ui_binding = Resource(
        uid=k8s_uid("prod", "ClusterRoleBinding", "admin-ui"),
        provider="kubernetes",
        scope="prod",
        kind="ClusterRoleBinding",
        name="admin-ui",
        attrs={
            "role_ref": {
                "api_group": "rbac.authorization.k8s.io",
                "kind": "ClusterRole",
                "name": "cluster-admin",
            },
            "subjects": [
                {
                    "kind": "ServiceAccount",
                    "name": "admin-ui",
                    "namespace": "shop",
                    "api_group": None,
                }
            ],
        },
    )
    binding = Resource(
        uid=k8s_uid("prod", "ClusterRoleBinding", "ci-deployer"),
        provider="kubernetes",
        scope="prod",
        kind="ClusterRoleBinding",
        name="ci-deployer",
    )
    stale = Resource(
        uid=k8s_uid("prod", "Secret", "db-password", "shop"),
        provider="kubernetes",
        scope="prod",
        kind="Secret",
        name="db-password",
        namespace="shop",
        attrs={"age_days": 400},
    )
    sg = aws("SecurityGroup", "sg-0abc", f"arn:aws:ec2:eu-west-1:{ACCOUNT}:security-group/sg-0abc")
    secret = aws(
        "SecretsManagerSecret",
        "payments/api-key",
        f"arn:aws:secretsmanager:eu-west-1:{ACCOUNT}:secret:payments/api-key-AbCdEf",
    )
    role = aws("IAMRole", "deployer", f"arn:aws:iam::{ACCOUNT}:role/deployer", region="global")
    resources = [web, debug, api, admin_svc, binding, stale, sg, secret, role]
    resources += [admin_ui, admin_ui_binding]
    ok_runs = [
        CollectorRun(
            "kubernetes",
            "prod",
            RunStatus.OK,
            scope="prod",
            items=6,
            api_calls=14,
            seconds=1.25,
            provider="kubernetes",
        ),
        CollectorRun(
            "aws",
            "prod:eu-west-1",
            RunStatus.OK,
            scope=f"{ACCOUNT}/eu-west-1",
            items=3,
            api_calls=22,
            seconds=3.5,
            provider="aws",
        ),
    ]
    f = lambda *a, **k: finding(registry, *a, **k)  # noqa: E731
    first = [
        f("k8s-privileged-pod", web.uid, Status.PASS, detail="web privileged=False"),
        f(
            "k8s-privileged-pod",
            debug.uid,
            Status.FAIL,
            detail="debug privileged=True",
            evidence={"container": "shell"},
        ),
        f("k8s-privileged-pod", api.uid, Status.PASS, detail="api privileged=False"),
        f(
            "k8s-cluster-admin-binding",
            binding.uid,
            Status.FAIL,
            detail="ci-deployer binds ServiceAccount ci/deployer to cluster-admin",
        ),
        f(
            "k8s-admin-service-exposed",
            admin_svc.uid,
            Status.FAIL,
            detail="admin (port 8443) is a LoadBalancer reachable from 0.0.0.0/0",
        ),
        f(
            "k8s-namespace-no-netpol",
            "k8s://prod/shop",
            Status.FAIL,
            detail="namespace shop has no NetworkPolicy",
        ),
        f("aws-sg-open-ingress", sg.uid, Status.FAIL, detail="sg-0abc allows 0.0.0.0/0 on 22"),
        f("aws-secret-not-rotated", secret.uid, Status.FAIL, detail="not rotated for 400 days"),
        f("k8s-secret-stale", stale.uid, Status.PASS),
        f("aws-cloudtrail-disabled", f"aws://{ACCOUNT}/eu-west-1", Status.PASS),
    ]
    write(
        store, registry, "2026-11-21T08:00:00Z", SnapshotStatus.COMPLETE, ok_runs, resources, first
    )
    partial_runs = [
        ok_runs[0],
        CollectorRun(
            "aws",
            "prod:eu-west-1",
            RunStatus.PARTIAL,
            scope=f"{ACCOUNT}/eu-west-1",
            error="",
            items=2,
            api_calls=19,
            seconds=4.0,
            provider="aws",
            unknown={"SecretsManagerSecret": "AccessDeniedException: ListSecrets"},
        ),
        CollectorRun(
            "aws",
            "prod:us-east-1",
            RunStatus.FAILED,
            scope="",
            error="ThrottlingException: Rate exceeded (gave up after 5 tries)",
            api_calls=5,
            seconds=30.0,
            provider="aws",
        ),
    ]
    second = [
        f("k8s-privileged-pod", web.uid, Status.PASS, detail="web privileged=False"),
        f("k8s-privileged-pod", debug.uid, Status.PASS, detail="debug privileged=False"),
        f(
            "k8s-privileged-pod",
            api.uid,
            Status.FAIL,
            detail="api privileged=True",
            evidence={"container": "app"},
        ),
        f(
            "k8s-cluster-admin-binding",
            binding.uid,
            Status.FAIL,
            detail="ci-deployer binds ServiceAccount ci/deployer to cluster-admin",
        ),
        f(
            "k8s-admin-service-exposed",
            admin_svc.uid,
            Status.FAIL,
            detail="admin (port 8443) is a LoadBalancer reachable from 0.0.0.0/0",
        ),
        f(
            "k8s-namespace-no-netpol",
            "k8s://prod/shop",
            Status.FAIL,
            detail="namespace shop has no NetworkPolicy",
        ),
        f(
            "aws-sg-open-ingress",
            sg.uid,
            Status.FAIL,
            severity=Severity.CRITICAL,
            detail="sg-0abc allows 0.0.0.0/0 on 22 and 3389",
        ),
        # Lost sight of (the engine carries a failing finding forward as unknown).
        f(
            "aws-secret-not-rotated",
            secret.uid,
            Status.UNKNOWN,
            detail="SecretsManagerSecret not collected: AccessDeniedException: ListSecrets",
        ),
        f("k8s-secret-stale", stale.uid, Status.FAIL, detail="db-password is 400 days old"),
        f(
            "aws-cloudtrail-disabled",
            f"aws://{ACCOUNT}/eu-west-1",
            Status.ERROR,
            detail="check raised KeyError: 'trails'",
        ),
    ]
    write(
        store,
        registry,
        "2026-11-22T08:00:00Z",
        SnapshotStatus.PARTIAL,
        partial_runs,
        [r for r in resources if r is not secret],
        second,
    )
    store.add_waiver(
        Waiver(
            reason="Break-glass binding, reviewed quarterly",
            owner="platform-team",
            fingerprint=fingerprint("k8s-cluster-admin-binding", binding.uid),
            ticket="SEC-142",
            created_at="2026-11-01T00:00:00Z",
            expires_at="2099-01-01T00:00:00Z",
        )
    )
    store.add_attestation(
        Attestation(
            control_id="ctl-restore-tested",
            by="alice@example.com",
            at="2026-11-10T12:00:00Z",
            expires_at="2027-02-10T12:00:00Z",
            note="restored orders DB into staging",
        )
    )
    return store, registry


# Every string an attacker controls (resource names, labels, error text) is one of these.
HOSTILE = [
    "<img src=x onerror=alert(1)>",
    "<img src=x onerror=\"document.title='PWNED';document.body.setAttribute('data-pwned','img')\">",
    "</script><script>document.title='PWNED';document.body.setAttribute('data-pwned','s')</script>",
    "[bold red]x[/]",
    '=HYPERLINK("http://evil.example/x","click")',
    "+1",
    "-2",
    "@SUM(A1)",
    "\tTAB-LEADING",
    "\rCR-LEADING",
    "| pipe | in | cell",
    "`backtick` ```fence```",
    "\x1b[31mANSI-RED\x1b[0m",
    "[link](javascript:alert(3)) ![img](http://evil.example/i.png) *bold* _it_ ~~s~~ $x$",
    "line one\nline two\r\n| --- |",
    "sep\u2028arator\u2029end &amp; &lt;b&gt;",
    # BEL, NUL, and OSC 52 (a terminal showing this would overwrite the clipboard).
    "bell\x07nul\x00\x1b]52;c;cHduZWQ=\x07OSC52",
    # Trojan Source: an override, an isolate and a mark reorder what is shown.
    "\u202eRLO-gnp.exe\u202c \u2066isolate\u2069 \u200fmark\u200e \u061calm",
]


def build_hostile_cache(path: Path, canary_in_attrs: bool = True) -> tuple[Store, Registry]:
    """One snapshot whose every outside string is hostile; attrs hold the canary."""
    registry = fixture_registry()
    store = Store(path)
    resources, findings = [], []
    for index, text in enumerate(HOSTILE):
        resource = pod(
            f"{text}-{index}",
            namespace=f"ns-{index}",
            labels={"note": text, "canary": CANARY} if canary_in_attrs else {"note": text},
            **({CANARY: CANARY} if canary_in_attrs else {}),
        )
        resources.append(resource)
        findings.append(
            finding(
                registry,
                "k8s-privileged-pod",
                resource.uid,
                Status.FAIL,
                title=text,
                detail=text,
                evidence={"raw": text},
            )
        )
        # A finding whose uid itself starts with the payload (a scope-level finding).
        findings.append(
            finding(
                registry,
                "k8s-admin-service-exposed",
                text,
                Status.FAIL,
                title=f"{text} (on scope)",
                detail=text,
            )
        )
    runs = [
        CollectorRun(
            "kubernetes",
            HOSTILE[1],
            RunStatus.FAILED,
            scope="",
            error=HOSTILE[2] + HOSTILE[12],
            provider="kubernetes",
        ),
        CollectorRun(
            "kubernetes",
            "prod",
            RunStatus.PARTIAL,
            scope="prod",
            unknown={"Secret": HOSTILE[0] + HOSTILE[10]},
            provider="kubernetes",
        ),
    ]
    write(
        store, registry, "2026-11-22T08:00:00Z", SnapshotStatus.PARTIAL, runs, resources, findings
    )
    store.add_waiver(
        Waiver(
            reason=HOSTILE[1],
            owner=HOSTILE[4],
            fingerprint=findings[0].fingerprint,
            created_at="2026-11-01T00:00:00Z",
            expires_at="2099-01-01T00:00:00Z",
        )
    )
    store.add_attestation(
        Attestation(
            control_id="ctl-restore-tested",
            by=HOSTILE[2],
            at="2026-11-10T12:00:00Z",
            note=HOSTILE[0],
        )
    )
    return store, registry


def frozen_document(store: Store, registry: Registry, snapshot_id: int | None = None) -> dict:
    """The v1 document as of FROZEN_NOW, with the tool version pinned."""
    from freezegun import freeze_time

    from postureapp.export import build_document

    snapshot = store.snapshot(snapshot_id) if snapshot_id else store.latest()
    with freeze_time(FROZEN_NOW):
        document = build_document(store, snapshot, registry)
    document["tool"]["version"] = GOLDEN_VERSION
    return document
