"""AWS stale-secret checks: long-lived keys, secrets nobody rotates or uses, KMS keys
without rotation, certificates about to expire.

"Short-lived and rotated secrets": a key that is never rotated is a key a former
employee or a leaked CI log can still use years later. Thresholds come from the
configuration (``secret_rotation_days``, ``unused_days``, ``cert_warning_days``); details
name dates, never a day count, so they stay the same from one poll to the next.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from postureapp.checks.aws._common import DormancyWording, dormancy
from postureapp.checks.registry import Result, check
from postureapp.dates import day, when
from postureapp.domain.aws.scopes import PROVIDER
from postureapp.domain.thresholds import (
    CERT_WARNING_DAYS,
    ROTATION_DAYS,
    UNUSED_DAYS,
    cutoff,
    now,
    threshold,
)
from postureapp.facts import facts_of
from postureapp.facts.aws import (
    ACMCertificateFacts,
    IAMAccessKeyFacts,
    IAMServerCertificateFacts,
    KMSKeyFacts,
    SecretsManagerSecretFacts,
)
from postureapp.facts.aws_services import RotationRules
from postureapp.inventory import Inventory
from postureapp.model import Resource, Severity, Status, View

_KEY_REMEDIATION_TAIL = (
    " Prefer no long-lived keys at all: IAM roles for workloads (instance profiles, IRSA "
    "or EKS Pod Identity) and IAM Identity Center for people."
)


def _key_name(key: Resource) -> str:
    key_facts = facts_of(key, IAMAccessKeyFacts)
    ident = key_facts.get("access_key_id") or f"key {key_facts.get('slot') or '?'}"
    return f'access key {ident} of user "{key_facts.get("user_name")}"'


def _keys(inv: Inventory) -> list[Resource]:
    return sorted(inv.of(PROVIDER, "IAMAccessKey"), key=lambda r: r.uid)


@check(
    id="aws-iam-access-key-age",
    title="IAM access key not rotated",
    view=View.SECRETS,
    severity=Severity.MEDIUM,
    provider=PROVIDER,
    requires=("IAMAccessKey",),
    remediation=(
        "Rotate the key: create a second key (`aws iam create-access-key --user-name "
        "USER`), deploy it, check the old key's last use has stopped, then `aws iam "
        "update-access-key --access-key-id OLD --status Inactive --user-name USER` and "
        "`aws iam delete-access-key`." + _KEY_REMEDIATION_TAIL
    ),
    frameworks={
        "CIS AWS": ["1.14"],
        "AWS FSBP": ["IAM.3"],
        "ISO 27001:2022": ["A.5.17"],
        "SOC 2": ["CC6.1"],
    },
    references=(
        "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_access-keys.html#rotating_access_keys_console",
        "https://docs.aws.amazon.com/securityhub/latest/userguide/iam-controls.html#iam-3",
    ),
    controls=("aws-credential-rotation",),
)
def access_key_age(inv: Inventory):
    """Active access keys created more than ``secret_rotation_days`` ago (a key's
    creation is its last rotation). Inactive keys pass."""
    days = threshold(inv, "secret_rotation_days", ROTATION_DAYS)
    limit = cutoff(inv, days)
    for key in _keys(inv):
        name = _key_name(key)
        key_facts = facts_of(key, IAMAccessKeyFacts)
        if not key_facts.get("active"):
            yield Result(key, Status.PASS, f"{name} is inactive")
            continue
        created = when(key_facts.get("created"))
        if created is None:
            yield Result(key, Status.UNKNOWN, f"{name}: creation date unknown")
        elif created < limit:
            yield Result(
                key,
                Status.FAIL,
                f"{name} was created on {day(created)} and not rotated since "
                f"(more than {days} days ago)",
                {"created": day(created), "rotation_days": days},
            )
        else:
            yield Result(key, Status.PASS, f"{name} created {day(created)}, within {days} days")


@check(
    id="aws-iam-access-key-unused",
    title="IAM access key unused",
    view=View.SECRETS,
    severity=Severity.MEDIUM,
    provider=PROVIDER,
    requires=("IAMAccessKey",),
    remediation=(
        "Deactivate the key (`aws iam update-access-key --access-key-id ID --status "
        "Inactive --user-name USER`), wait for complaints, then delete it (`aws iam "
        "delete-access-key`)." + _KEY_REMEDIATION_TAIL
    ),
    frameworks={
        "CIS AWS": ["1.12"],
        "AWS FSBP": ["IAM.8", "IAM.22"],
        "ISO 27001:2022": ["A.5.17", "A.5.18"],
        "SOC 2": ["CC6.1", "CC6.3"],
    },
    references=(
        "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_finding-unused.html",
        "https://docs.aws.amazon.com/securityhub/latest/userguide/iam-controls.html#iam-22",
    ),
    controls=("aws-credential-rotation",),
)
def access_key_unused(inv: Inventory):
    """Active keys last used more than ``unused_days`` ago, or never used and created
    more than ``unused_days`` ago."""
    days = threshold(inv, "unused_days", UNUSED_DAYS)
    limit = cutoff(inv, days)
    for key in _keys(inv):
        name = _key_name(key)
        key_facts = facts_of(key, IAMAccessKeyFacts)
        if not key_facts.get("active"):
            yield Result(key, Status.PASS, f"{name} is inactive")
            continue
        last = when(key_facts.get("last_used_date"))
        created = when(key_facts.get("created"))
        yield dormancy(key, name, last, created, limit, days, _KEY_WORDING)


_KEY_WORDING = DormancyWording(
    recent="{name} used within {days} days",
    stale="{name} was last used on {when} (more than {days} days ago)",
    no_date="{name}: never used and creation date unknown",
    never_old="{name} has never been used since it was created on {when} "
    "(more than {days} days ago)",
    never_new="{name} not used yet, created {when}",
)


@check(
    id="aws-iam-user-multiple-active-keys",
    title="IAM user with more than one active access key",
    view=View.SECRETS,
    severity=Severity.LOW,
    provider=PROVIDER,
    requires=("IAMUser", "IAMAccessKey"),
    remediation=(
        "Keep one active key per user: find the one still in use (IAM console > Users > "
        "USER > Security credentials shows each key's last use), then deactivate and "
        "delete the other (`aws iam update-access-key --status Inactive`, `aws iam "
        "delete-access-key`). Two keys should exist only for the hours of a rotation."
    ),
    frameworks={
        "CIS AWS": ["1.13"],
        "ISO 27001:2022": ["A.5.17"],
        "SOC 2": ["CC6.1"],
    },
    references=(
        "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_access-keys.html",
    ),
    controls=("aws-credential-rotation",),
)
def user_multiple_active_keys(inv: Inventory):
    """Users with two active access keys (counted from the IAMAccessKey records, which
    come from the credential report or, without it, from ListAccessKeys)."""
    active: dict[str, list[Resource]] = {}
    for key in _keys(inv):
        key_facts = facts_of(key, IAMAccessKeyFacts)
        if key_facts.get("active"):
            owner = key_facts.get("user_arn") or key_facts.get("user_name") or ""
            active.setdefault(owner, []).append(key)
    for user in sorted(inv.of(PROVIDER, "IAMUser"), key=lambda r: r.uid):
        mine = active.get(user.uid, []) + active.get(user.name, [])
        name = f'user "{user.name}"'
        if len(mine) > 1:
            created = sorted(
                day(moment)
                for key in mine
                if (moment := when(facts_of(key, IAMAccessKeyFacts).get("created")))
            )
            yield Result(
                user,
                Status.FAIL,
                f"{name} has {len(mine)} active access keys"
                + (f" (created {', '.join(created)})" if created else ""),
                {"active_keys": len(mine), "created": created},
            )
        else:
            yield Result(user, Status.PASS, f"{name} has {len(mine)} active access key(s)")


# -- Secrets Manager -----------------------------------------------------------------------


def _secrets(inv: Inventory) -> Iterable[Resource]:
    """Secrets not scheduled for deletion (those are on their way out)."""
    for secret in sorted(inv.of(PROVIDER, "SecretsManagerSecret"), key=lambda r: r.uid):
        if not facts_of(secret, SecretsManagerSecretFacts).get("deleted_date"):
            yield secret


_SECRETS_FRAMEWORKS_ISO_SOC = {"ISO 27001:2022": ["A.5.17", "A.8.24"], "SOC 2": ["CC6.1"]}


@check(
    id="aws-secretsmanager-rotation-disabled",
    title="Secrets Manager secret without automatic rotation",
    view=View.SECRETS,
    severity=Severity.MEDIUM,
    provider=PROVIDER,
    requires=("SecretsManagerSecret",),
    remediation=(
        "Turn on rotation (Secrets Manager console > SECRET > Rotation > Edit rotation, "
        "or `aws secretsmanager rotate-secret --secret-id NAME --rotation-lambda-arn ARN "
        "--rotation-rules AutomaticallyAfterDays=30`); for RDS, Redshift and DocumentDB "
        "credentials use the managed rotation templates or let RDS manage the master "
        "password (`--manage-master-user-password`)."
    ),
    frameworks={"AWS FSBP": ["SecretsManager.1"], **_SECRETS_FRAMEWORKS_ISO_SOC},
    references=(
        "https://docs.aws.amazon.com/secretsmanager/latest/userguide/rotating-secrets.html",
        "https://docs.aws.amazon.com/securityhub/latest/userguide/secretsmanager-controls.html#secretsmanager-1",
    ),
    controls=("aws-credential-rotation",),
)
def secret_rotation_disabled(inv: Inventory):
    """Secrets with automatic rotation off (secrets scheduled for deletion are skipped)."""
    for secret in _secrets(inv):
        name = f'secret "{secret.name}"'
        secret_facts = facts_of(secret, SecretsManagerSecretFacts)
        if secret_facts.get("rotation_enabled"):
            rules: RotationRules | dict[str, Any] = secret_facts.get("rotation_rules") or {}
            every = rules.get("schedule_expression") or (
                f"every {rules['automatically_after_days']} days"
                if rules.get("automatically_after_days")
                else "on a schedule"
            )
            yield Result(secret, Status.PASS, f"{name} rotates automatically ({every})")
        else:
            yield Result(
                secret,
                Status.FAIL,
                f"{name} has automatic rotation turned off",
                {"rotation_enabled": False},
            )


def _rotation_reference(secret: Resource) -> tuple[str, str, datetime] | None:
    """The attr a secret's freshness is measured from, a label for it, and its value."""
    for attr, label in (
        ("last_rotated_date", "last rotated"),
        ("last_changed_date", "never rotated; last changed"),
        ("created_date", "never rotated or changed; created"),
    ):
        moment = when(facts_of(secret, SecretsManagerSecretFacts).get(attr))
        if moment is not None:
            return attr, label, moment
    return None


@check(
    id="aws-secretsmanager-stale",
    title="Secrets Manager secret not rotated recently",
    view=View.SECRETS,
    severity=Severity.MEDIUM,
    provider=PROVIDER,
    requires=("SecretsManagerSecret",),
    remediation=(
        "Rotate it now (`aws secretsmanager rotate-secret --secret-id NAME`, or put a new "
        "value with `aws secretsmanager put-secret-value` and update its consumers), then "
        "turn on automatic rotation so it stays fresh; check a failing rotation Lambda in "
        "its CloudWatch logs."
    ),
    frameworks={"AWS FSBP": ["SecretsManager.4"], **_SECRETS_FRAMEWORKS_ISO_SOC},
    references=(
        "https://docs.aws.amazon.com/secretsmanager/latest/userguide/rotate-secrets_turn-on-for-other.html",
        "https://docs.aws.amazon.com/securityhub/latest/userguide/secretsmanager-controls.html#secretsmanager-4",
    ),
    controls=("aws-credential-rotation",),
)
def secret_stale(inv: Inventory):
    """Secrets whose last rotation is older than ``secret_rotation_days``; a secret never
    rotated counts from its last change (AWS moves LastChangedDate on any edit, so this
    is lenient), else from its creation."""
    days = threshold(inv, "secret_rotation_days", ROTATION_DAYS)
    limit = cutoff(inv, days)
    for secret in _secrets(inv):
        name = f'secret "{secret.name}"'
        since = _rotation_reference(secret)
        if since is None:
            yield Result(secret, Status.UNKNOWN, f"{name}: no rotation, change or creation date")
            continue
        attr, label, moment = since
        if moment < limit:
            yield Result(
                secret,
                Status.FAIL,
                f"{name} {label} on {day(moment)} (more than {days} days ago)",
                {"since": attr, "date": day(moment), "rotation_days": days},
            )
        else:
            yield Result(secret, Status.PASS, f"{name} {label} on {day(moment)}")


@check(
    id="aws-secretsmanager-unused",
    title="Secrets Manager secret not accessed for too long",
    view=View.SECRETS,
    severity=Severity.LOW,
    provider=PROVIDER,
    requires=("SecretsManagerSecret",),
    remediation=(
        "Find out whether anything still needs it (CloudTrail GetSecretValue events), then "
        "delete it with a recovery window: `aws secretsmanager delete-secret --secret-id "
        "NAME --recovery-window-in-days 30`. An unused secret is a credential nobody "
        "watches."
    ),
    frameworks={
        "AWS FSBP": ["SecretsManager.3"],
        "ISO 27001:2022": ["A.5.17", "A.5.18"],
        "SOC 2": ["CC6.1", "CC6.3"],
    },
    references=(
        "https://docs.aws.amazon.com/secretsmanager/latest/userguide/manage_delete-secret.html",
        "https://docs.aws.amazon.com/securityhub/latest/userguide/secretsmanager-controls.html#secretsmanager-3",
    ),
)
def secret_unused(inv: Inventory):
    """Secrets last accessed more than ``unused_days`` ago, or never accessed and created
    more than ``unused_days`` ago (AWS records the access date to the day)."""
    days = threshold(inv, "unused_days", UNUSED_DAYS)
    limit = cutoff(inv, days)
    for secret in _secrets(inv):
        name = f'secret "{secret.name}"'
        secret_facts = facts_of(secret, SecretsManagerSecretFacts)
        accessed = when(secret_facts.get("last_accessed_date"))
        created = when(secret_facts.get("created_date"))
        yield dormancy(secret, name, accessed, created, limit, days, _SECRET_WORDING)


_SECRET_WORDING = DormancyWording(
    recent="{name} accessed within {days} days",
    stale="{name} was last accessed on {when} (more than {days} days ago)",
    no_date="{name}: never accessed, creation date unknown",
    never_old="{name} has never been accessed since it was created on {when} "
    "(more than {days} days ago)",
    never_new="{name} not accessed yet, created {when}",
    evidence_key="last_accessed",
)


# -- KMS -----------------------------------------------------------------------------------

_PENDING = ("PendingDeletion", "PendingReplicaDeletion")


@check(
    id="aws-kms-key-rotation",
    title="KMS customer key without automatic rotation",
    view=View.SECRETS,
    severity=Severity.MEDIUM,
    provider=PROVIDER,
    requires=("KMSKey",),
    remediation=(
        "Enable automatic rotation: `aws kms enable-key-rotation --key-id KEY "
        "--rotation-period-in-days 365` (KMS console > Customer managed keys > KEY > Key "
        "rotation). Old key material is kept, so existing ciphertext still decrypts."
    ),
    frameworks={
        "CIS AWS": ["3.6"],
        "AWS FSBP": ["KMS.4"],
        "ISO 27001:2022": ["A.8.24"],
        "SOC 2": ["CC6.1"],
    },
    references=(
        "https://docs.aws.amazon.com/kms/latest/developerguide/rotate-keys.html",
        "https://docs.aws.amazon.com/securityhub/latest/userguide/kms-controls.html#kms-4",
    ),
    controls=("aws-encryption-at-rest", "secrets-encryption"),
)
def kms_key_rotation(inv: Inventory):
    """Customer-managed keys that support automatic rotation (symmetric, key material
    from KMS) and do not have it on. Keys that cannot rotate automatically (asymmetric,
    HMAC, imported material) and keys pending deletion are not judged; unknown when the
    rotation status could not be read."""
    for key in sorted(inv.of(PROVIDER, "KMSKey"), key=lambda r: r.uid):
        key_facts = facts_of(key, KMSKeyFacts)
        if key_facts.get("key_state") in _PENDING or not key_facts.get("rotation_supported"):
            continue
        name = f'KMS key "{key.name}"'
        enabled = key_facts.get("rotation_enabled")
        if enabled is None:
            yield Result(key, Status.UNKNOWN, f"{name}: rotation status could not be read")
        elif enabled:
            period = key_facts.get("rotation_period_days")
            every = f" every {period} days" if period else ""
            yield Result(key, Status.PASS, f"{name} rotates automatically{every}")
        else:
            yield Result(
                key,
                Status.FAIL,
                f"{name} ({key_facts.get('key_spec')}) does not rotate automatically",
                {"rotation_enabled": False, "key_state": key_facts.get("key_state")},
            )


# -- certificates --------------------------------------------------------------------------


def _expiry(
    inv: Inventory,
    resource: Resource,
    name: str,
    not_after: str | None,
    expired_severity: Severity,
) -> Result:
    days = threshold(inv, "cert_warning_days", CERT_WARNING_DAYS)
    expires = when(not_after)
    if expires is None:
        return Result(resource, Status.UNKNOWN, f"{name}: expiry date unknown")
    moment = now(inv)
    if expires <= moment:
        return Result(
            resource,
            Status.FAIL,
            f"{name} expired on {day(expires)}",
            {"not_after": day(expires), "expired": True},
            severity=expired_severity,
            title="Certificate expired",
        )
    if expires <= moment + timedelta(days=days):
        return Result(
            resource,
            Status.FAIL,
            f"{name} expires on {day(expires)} (within {days} days)",
            {"not_after": day(expires), "expired": False, "warning_days": days},
            severity=Severity.MEDIUM,
        )
    return Result(resource, Status.PASS, f"{name} valid until {day(expires)}")


@check(
    id="aws-acm-certificate-expiry",
    title="ACM certificate in use is expiring",
    view=View.SECRETS,
    severity=Severity.MEDIUM,
    provider=PROVIDER,
    requires=("ACMCertificate",),
    remediation=(
        "For an Amazon-issued certificate, find out why managed renewal failed (ACM "
        "console > CERTIFICATE > Renewal status; usually a DNS validation CNAME was "
        "removed) and restore the validation record. For an imported certificate, obtain "
        "a new one and re-import it under the same ARN: `aws acm import-certificate "
        "--certificate-arn ARN --certificate fileb://cert.pem --private-key "
        "fileb://key.pem --certificate-chain fileb://chain.pem`."
    ),
    frameworks={
        "AWS FSBP": ["ACM.1"],
        "ISO 27001:2022": ["A.8.24"],
        "SOC 2": ["CC6.7"],
    },
    references=(
        "https://docs.aws.amazon.com/acm/latest/userguide/managed-renewal.html",
        "https://docs.aws.amazon.com/acm/latest/userguide/import-reimport.html",
    ),
    controls=("aws-credential-rotation",),
)
def acm_certificate_expiry(inv: Inventory):
    """Certificates attached to something (``in_use``) that expire within
    ``cert_warning_days`` (medium) or have expired (critical: clients fail, or learn to
    ignore TLS errors). Certificates nobody uses are not judged."""
    for cert in sorted(inv.of(PROVIDER, "ACMCertificate"), key=lambda r: r.uid):
        cert_facts = facts_of(cert, ACMCertificateFacts)
        if not cert_facts.get("in_use"):
            continue
        name = f'certificate for "{cert_facts.get("domain_name") or cert.name}" (in use)'
        yield _expiry(inv, cert, name, cert_facts.get("not_after"), Severity.CRITICAL)


@check(
    id="aws-iam-server-certificate-expiry",
    title="IAM server certificate expiring or expired",
    view=View.SECRETS,
    severity=Severity.MEDIUM,
    provider=PROVIDER,
    requires=("IAMServerCertificate",),
    remediation=(
        "Move the certificate to ACM (which renews Amazon-issued certificates itself), or "
        "upload the renewed one (`aws iam upload-server-certificate`) and point listeners "
        "at it; delete expired ones: `aws iam delete-server-certificate "
        "--server-certificate-name NAME`."
    ),
    frameworks={
        "CIS AWS": ["1.19"],
        "AWS FSBP": ["IAM.26"],
        "ISO 27001:2022": ["A.8.24"],
        "SOC 2": ["CC6.7"],
    },
    references=(
        "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_server-certs.html",
        "https://docs.aws.amazon.com/securityhub/latest/userguide/iam-controls.html#iam-26",
    ),
    controls=("aws-credential-rotation",),
)
def iam_server_certificate_expiry(inv: Inventory):
    """IAM server certificates expiring within ``cert_warning_days`` (medium) or expired
    (high: IAM does not say whether a listener still uses it)."""
    for cert in sorted(inv.of(PROVIDER, "IAMServerCertificate"), key=lambda r: r.uid):
        name = f'IAM server certificate "{cert.name}"'
        yield _expiry(
            inv,
            cert,
            name,
            facts_of(cert, IAMServerCertificateFacts).get("expiration"),
            Severity.HIGH,
        )
