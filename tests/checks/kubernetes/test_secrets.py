"""Secret checks: legacy tokens, rotation age, certificates, literal credentials."""

from __future__ import annotations

from datetime import timedelta

from postureapp.model import Severity, Status, k8s_uid

from .estate import NOW, SCOPE, container, inventory, k8s, pod, results, secret, severity


def secret_uid(name: str, ns: str) -> str:
    return k8s_uid(SCOPE, "Secret", name, ns)


def _token(
    name, ns, sa, last_used=None, invalid_since=None, kind="kubernetes.io/service-account-token"
):
    labels = {}
    if last_used:
        labels["kubernetes.io/legacy-token-last-used"] = last_used
    if invalid_since:
        labels["kubernetes.io/legacy-token-invalid-since"] = invalid_since
    return secret(
        name,
        ns,
        kind,
        labels=labels or None,
        annotations={"kubernetes.io/service-account.name": sa},
        created="2021-06-15T12:05:00Z",
    )


def test_legacy_token_recently_used_is_high_with_the_date_never_used_is_medium():
    inv = inventory(
        _token("ci-token", "kube-system", "ci-deployer", last_used="2025-01-02"),
        _token("old-token", "legacy", "legacy-app", last_used="2024-01-15"),
        _token("unused-token", "legacy", "batch"),
        _token("dead-token", "legacy", "gone", invalid_since="2024-12-01"),
        _token("untyped-token", "legacy", "other", kind=None),  # type could not be read
        secret("payments-db", "pay"),
    )
    found = results("k8s-secret-legacy-token", inv)
    ci = found[secret_uid("ci-token", "kube-system")]
    assert ci.status is Status.FAIL
    assert severity("k8s-secret-legacy-token", ci) is Severity.HIGH
    assert "ServiceAccount kube-system/ci-deployer, last used 2025-01-02" in ci.detail
    assert ci.evidence["last_used"] == "2025-01-02"
    old = found[secret_uid("old-token", "legacy")]
    assert severity("k8s-secret-legacy-token", old) is Severity.MEDIUM
    assert "last used 2024-01-15" in old.detail
    assert "no recorded use" in found[secret_uid("unused-token", "legacy")].detail
    assert (
        severity("k8s-secret-legacy-token", found[secret_uid("dead-token", "legacy")])
        is Severity.LOW
    )
    assert found[secret_uid("untyped-token", "legacy")].status is Status.FAIL
    assert found[secret_uid("payments-db", "pay")].status is Status.PASS


def test_stale_secrets_use_the_threshold_and_skip_tokens_helm_and_managed_ones():
    inv = inventory(
        secret("payments-db", "pay", created="2023-01-10T10:12:00Z"),
        secret("fresh", "pay", created="2025-01-01T00:00:00Z"),
        secret("no-date", "pay", created=None),
        _token("ci-token", "kube-system", "ci"),
        secret(
            "sh.helm.release.v1.api.v3",
            "pay",
            "helm.sh/release.v1",
            labels={"owner": "helm", "name": "api"},
            created="2022-01-01T00:00:00Z",
        ),
        secret(
            "web-tls",
            "web",
            "kubernetes.io/tls",
            annotations={"cert-manager.io/certificate-name": "web-cert"},
            created="2022-01-01T00:00:00Z",
        ),
        secret(
            "synced",
            "pay",
            owners=[
                {
                    "apiVersion": "external-secrets.io/v1beta1",
                    "kind": "ExternalSecret",
                    "name": "synced",
                    "controller": True,
                }
            ],
            created="2022-01-01T00:00:00Z",
        ),
    )
    found = results("k8s-secret-stale", inv)
    assert set(found) == {
        secret_uid("payments-db", "pay"),
        secret_uid("fresh", "pay"),
        secret_uid("no-date", "pay"),
    }
    old = found[secret_uid("payments-db", "pay")]
    assert old.status is Status.FAIL
    assert "created 2023-01-10" in old.detail and "90-day" in old.detail
    assert found[secret_uid("fresh", "pay")].status is Status.PASS
    assert found[secret_uid("no-date", "pay")].status is Status.UNKNOWN
    # the threshold comes from the settings
    longer = inventory(
        secret("payments-db", "pay", created="2023-01-10T10:12:00Z"),
        settings={"secret_rotation_days": 3650},
    )
    assert (
        results("k8s-secret-stale", longer)[secret_uid("payments-db", "pay")].status is Status.PASS
    )


def _cert(name: str, not_after: str | None, ready: str = "True"):
    status = {"conditions": [{"type": "Ready", "status": ready}]}
    if not_after:
        status["notAfter"] = not_after
    return k8s(
        "Certificate",
        name,
        "web",
        spec={
            "secretName": f"{name}-tls",
            "dnsNames": [f"{name}.example.com"],
            "issuerRef": {"name": "le"},
        },
        status=status,
    )


def test_certificate_expired_high_expiring_medium_valid_pass_unknown_without_not_after():
    inv = inventory(
        _cert("expired", "2025-01-10T00:00:00Z", ready="False"),
        _cert("soon", "2025-02-01T00:00:00Z"),
        _cert("fine", "2025-06-01T00:00:00Z"),
        _cert("pending", None),
    )
    found = results("k8s-cert-expiry", inv)

    def uid(name):
        return k8s_uid(SCOPE, "Certificate", name, "web")

    expired = found[uid("expired")]
    assert expired.status is Status.FAIL
    assert severity("k8s-cert-expiry", expired) is Severity.HIGH
    assert "expired on 2025-01-10" in expired.detail and "not Ready" in expired.detail
    soon = found[uid("soon")]
    assert soon.status is Status.FAIL
    assert severity("k8s-cert-expiry", soon) is Severity.MEDIUM
    assert "expires on 2025-02-01, within the 30-day" in soon.detail
    assert found[uid("fine")].status is Status.PASS
    assert found[uid("pending")].status is Status.UNKNOWN


def test_literal_secret_in_env_reports_the_name_and_hint_never_the_value():
    value = "hunter2-CANARY-value"
    inv = inventory(
        pod(
            "legacy-app-5d4c3b2a1-a",
            "legacy",
            deployment="legacy-app",
            containers=[
                container(
                    "app",
                    env=[
                        {"name": "DB_PASSWORD", "value": value},
                        {"name": "AWS_ACCESS_KEY_ID", "value": "AKIAIOSFODNN7EXAMPLE"},
                        {"name": "LOG_LEVEL", "value": "debug"},
                        {
                            "name": "API_TOKEN",
                            "valueFrom": {"secretKeyRef": {"name": "api", "key": "token"}},
                        },
                    ],
                )
            ],
        ),
        pod("web-5d4c3b2a1-a", "shop", deployment="web"),
    )
    found = results("k8s-env-literal-secret", inv)
    legacy = found[k8s_uid(SCOPE, "Deployment", "legacy-app", "legacy")]
    assert legacy.status is Status.FAIL
    assert legacy.evidence["variables"] == [
        "app: AWS_ACCESS_KEY_ID (aws-access-key-id)",
        "app: DB_PASSWORD (secret-like-name)",
    ]
    assert value not in legacy.detail and value not in str(legacy.evidence)
    assert "AKIAIOSFODNN7EXAMPLE" not in legacy.detail
    assert found[k8s_uid(SCOPE, "Deployment", "web", "shop")].status is Status.PASS


def test_details_do_not_drift_between_polls():
    inv_today = inventory(
        secret("payments-db", "pay", created="2023-01-10T10:12:00Z"),
        _token("t", "pay", "api", last_used="2025-01-02"),
    )
    inv_tomorrow = inventory(*inv_today.resources, now=NOW + timedelta(days=1))
    for check_id in ("k8s-secret-stale", "k8s-secret-legacy-token"):
        assert {u: (r.detail, r.evidence) for u, r in results(check_id, inv_today).items()} == {
            u: (r.detail, r.evidence) for u, r in results(check_id, inv_tomorrow).items()
        }
