"""Secret checks: access keys, Secrets Manager, KMS, certificates."""

from __future__ import annotations

from postureapp.model import Severity, Status
from tests.checks.aws.estate import (
    ACCOUNT,
    REGION,
    access_key,
    ago,
    ahead,
    credentials,
    inventory,
    only,
    resource,
    results,
    statuses,
    user,
)

# -- access keys ---------------------------------------------------------------------------


def test_access_key_age():
    old = access_key("old", created_days=200)
    fresh = access_key("fresh", created_days=30)
    retired = access_key("retired", created_days=900, active=False)
    unknown = access_key("unknown", created_days=None)
    found = results(
        "aws-iam-access-key-age",
        inventory(old, fresh, retired, unknown, settings={"secret_rotation_days": 90}),
    )
    assert found[old.uid].status is Status.FAIL
    assert found[old.uid].detail == (
        'access key key 1 of user "old" was created on 2025-11-13 and not rotated since '
        "(more than 90 days ago)"
    )
    assert found[old.uid].evidence == {"created": "2025-11-13", "rotation_days": 90}
    assert found[fresh.uid].status is Status.PASS
    assert found[retired.uid].status is Status.PASS
    assert found[unknown.uid].status is Status.UNKNOWN


def test_access_key_age_follows_the_configured_threshold():
    key = access_key("k", created_days=45)
    assert only("aws-iam-access-key-age", inventory(key)).status is Status.PASS
    strict = inventory(key, settings={"secret_rotation_days": 30})
    assert only("aws-iam-access-key-age", strict).status is Status.FAIL


def test_access_key_unused():
    stale = access_key("stale", created_days=400, last_used_days=120)
    never = access_key("never", created_days=100, last_used_days=None)
    new = access_key("new", created_days=3, last_used_days=None)
    busy = access_key("busy", created_days=400, last_used_days=1)
    found = results("aws-iam-access-key-unused", inventory(stale, never, new, busy))
    assert found[stale.uid].status is Status.FAIL
    assert "last used on" in found[stale.uid].detail
    assert found[never.uid].status is Status.FAIL
    assert "never been used" in found[never.uid].detail
    assert found[new.uid].status is Status.PASS
    assert found[busy.uid].status is Status.PASS


def test_more_than_one_active_key_per_user():
    alice = user("alice", creds=credentials())
    bob = user("bob", creds=credentials())
    inv = inventory(
        alice,
        bob,
        access_key("alice", slot=1, created_days=20),
        access_key("alice", slot=2, created_days=10),
        access_key("bob", slot=1),
        access_key("bob", slot=2, active=False, created_days=500),
    )
    found = results("aws-iam-user-multiple-active-keys", inv)
    assert found[alice.uid].status is Status.FAIL
    assert found[alice.uid].evidence["active_keys"] == 2
    assert found[bob.uid].status is Status.PASS


# -- Secrets Manager -----------------------------------------------------------------------


def secret(name: str, **attrs):
    base = {
        "name": name,
        "rotation_enabled": False,
        "rotation_rules": None,
        "last_rotated_date": None,
        "last_changed_date": None,
        "last_accessed_date": None,
        "created_date": ago(400),
        "deleted_date": None,
    }
    base.update(attrs)
    return resource(
        "SecretsManagerSecret",
        name,
        base,
        uid=f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:{name}-AbCdEf",
    )


def test_rotation_disabled():
    manual = secret("manual")
    rotating = secret(
        "rotating", rotation_enabled=True, rotation_rules={"automatically_after_days": 30}
    )
    deleting = secret("deleting", deleted_date=ago(1))
    found = results("aws-secretsmanager-rotation-disabled", inventory(manual, rotating, deleting))
    assert found[manual.uid].status is Status.FAIL
    assert found[rotating.uid].status is Status.PASS
    assert "every 30 days" in found[rotating.uid].detail
    assert deleting.uid not in found


def test_stale_secret_uses_last_rotation_then_last_change_then_creation():
    rotated_long_ago = secret("a", last_rotated_date="2025-05-01T00:00:00Z")
    changed_recently = secret("b", last_changed_date=ago(10))
    created_long_ago = secret("c")
    rotated_recently = secret("d", last_rotated_date=ago(5), last_changed_date=ago(5))
    found = results(
        "aws-secretsmanager-stale",
        inventory(rotated_long_ago, changed_recently, created_long_ago, rotated_recently),
    )
    assert found[rotated_long_ago.uid].status is Status.FAIL
    assert found[rotated_long_ago.uid].detail == (
        'secret "a" last rotated on 2025-05-01 (more than 90 days ago)'
    )
    assert found[changed_recently.uid].status is Status.PASS
    assert found[created_long_ago.uid].status is Status.FAIL
    assert "never rotated or changed; created" in found[created_long_ago.uid].detail
    assert found[rotated_recently.uid].status is Status.PASS


def test_stale_secret_unknown_without_any_date():
    undated = secret("undated", created_date=None)
    assert only("aws-secretsmanager-stale", inventory(undated)).status is Status.UNKNOWN


def test_unused_secret():
    forgotten = secret("forgotten", last_accessed_date=ago(200))
    never = secret("never")
    fresh = secret("fresh", created_date=ago(3))
    used = secret("used", last_accessed_date=ago(1))
    found = statuses("aws-secretsmanager-unused", inventory(forgotten, never, fresh, used))
    assert found == {
        forgotten.uid: Status.FAIL,
        never.uid: Status.FAIL,
        fresh.uid: Status.PASS,
        used.uid: Status.PASS,
    }


# -- KMS -----------------------------------------------------------------------------------


def kms_key(key_id: str, **attrs):
    base = {
        "key_id": key_id,
        "key_state": "Enabled",
        "key_spec": "SYMMETRIC_DEFAULT",
        "rotation_supported": True,
        "rotation_enabled": False,
        "rotation_period_days": None,
    }
    base.update(attrs)
    return resource("KMSKey", key_id, base, uid=f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{key_id}")


def test_kms_rotation():
    off = kms_key("off")
    on = kms_key("on", rotation_enabled=True, rotation_period_days=365)
    unreadable = kms_key("unreadable", rotation_enabled=None)
    asymmetric = kms_key(
        "rsa", key_spec="RSA_2048", rotation_supported=False, rotation_enabled=None
    )
    dying = kms_key("dying", key_state="PendingDeletion", rotation_enabled=None)
    found = results("aws-kms-key-rotation", inventory(off, on, unreadable, asymmetric, dying))
    assert found[off.uid].status is Status.FAIL
    assert found[on.uid].status is Status.PASS
    assert found[unreadable.uid].status is Status.UNKNOWN
    assert asymmetric.uid not in found
    assert dying.uid not in found


# -- certificates --------------------------------------------------------------------------


def acm(name: str, not_after: str | None, in_use: bool = True):
    return resource(
        "ACMCertificate",
        name,
        {
            "domain_name": name,
            "not_after": not_after,
            "in_use": in_use,
            "in_use_by": ["arn:lb"] if in_use else [],
        },
        uid=f"arn:aws:acm:{REGION}:{ACCOUNT}:certificate/{name}",
    )


def test_acm_certificates_in_use():
    expired = acm("expired.example.com", ago(2))
    expiring = acm("soon.example.com", ahead(10))
    healthy = acm("ok.example.com", ahead(200))
    unused = acm("unused.example.com", ago(100), in_use=False)
    undated = acm("undated.example.com", None)
    found = results(
        "aws-acm-certificate-expiry", inventory(expired, expiring, healthy, unused, undated)
    )
    assert found[expired.uid].status is Status.FAIL
    assert found[expired.uid].severity is Severity.CRITICAL
    assert found[expired.uid].detail.endswith("expired on 2026-05-30")
    assert found[expiring.uid].status is Status.FAIL
    assert found[expiring.uid].severity is Severity.MEDIUM
    assert "expires on 2026-06-11 (within 30 days)" in found[expiring.uid].detail
    assert found[healthy.uid].status is Status.PASS
    assert unused.uid not in found
    assert found[undated.uid].status is Status.UNKNOWN


def test_iam_server_certificates():
    def cert(name, expiration):
        return resource(
            "IAMServerCertificate",
            name,
            {"name": name, "expiration": expiration},
            uid=f"arn:aws:iam::{ACCOUNT}:server-certificate/{name}",
            region="global",
        )

    expired = cert("old", ago(1))
    expiring = cert("soon", ahead(20))
    healthy = cert("ok", ahead(300))
    found = results(
        "aws-iam-server-certificate-expiry",
        inventory(expired, expiring, healthy, settings={"cert_warning_days": 14}),
    )
    assert found[expired.uid].severity is Severity.HIGH
    assert found[expiring.uid].status is Status.PASS  # 20 days out, warning at 14
    assert found[healthy.uid].status is Status.PASS
