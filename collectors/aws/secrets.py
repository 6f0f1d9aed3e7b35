"""Secrets and keys: Secrets Manager secrets (metadata only), KMS customer-managed keys and
ACM certificates. IAM server certificates and access keys live in ``postureapp.collectors.aws.iam``.

Secret values are never read: the collector calls ``ListSecrets`` only (which carries
every date and the rotation settings), never ``GetSecretValue`` or ``DescribeSecret``.

Kinds and attrs (scope ``"{account}/{region}"``)
------------------------------------------------

``SecretsManagerSecret`` (uid: secret ARN)
    name, arn, description, kms_key_id: str|null (null = the aws/secretsmanager key),
    rotation_enabled: bool, rotation_lambda_arn: str|null,
    rotation_rules: {"automatically_after_days": int|null, "schedule_expression":
        str|null, "duration": str|null} | null,
    last_rotated_date, last_changed_date, last_accessed_date, next_rotation_date,
    created_date, deleted_date: iso|null (last_accessed_date is a day: ...T00:00:00Z),
    primary_region: str|null, owning_service: str|null, tags

``KMSKey`` (uid: key ARN) -- customer-managed keys only (``KeyManager == "CUSTOMER"``)
    key_id, arn, aliases: [alias name] (sorted), description, key_state, enabled: bool,
    key_manager, key_spec, key_usage, origin, multi_region: bool, creation_date,
    deletion_date: iso|null,
    rotation_supported: bool (symmetric keys with key material from KMS),
    rotation_enabled: bool|null (null when unsupported, or the key is pending deletion),
    rotation_period_days: int|null

``ACMCertificate`` (uid: certificate ARN)
    arn, domain_name, subject_alternative_names: [..], status, type: "AMAZON_ISSUED"|
    "IMPORTED"|"PRIVATE", issuer, key_algorithm, not_before, not_after: iso|null,
    in_use_by: [ARN] (sorted), in_use: bool, renewal_eligibility, created_at,
    imported_at: iso|null
"""

from __future__ import annotations

from functools import partial
from typing import Any

from postureapp.collectors.aws._common import iso, iso_day, scope, tags_dict
from postureapp.collectors.aws._context import Context, Unit
from postureapp.model import Resource

KINDS = ("SecretsManagerSecret", "KMSKey", "ACMCertificate")
_ACM_KEY_TYPES = [
    "RSA_1024",
    "RSA_2048",
    "RSA_3072",
    "RSA_4096",
    "EC_prime256v1",
    "EC_secp384r1",
    "EC_secp521r1",
]
_ROTATABLE_SPECS = {"SYMMETRIC_DEFAULT"}


def units(ctx: Context, regions: list[str], services: set[str]) -> list[Unit]:
    result = []
    for region in regions:
        if "secretsmanager" in services:
            result.append(
                Unit(
                    f"secretsmanager {region}",
                    ("SecretsManagerSecret",),
                    partial(_secrets, ctx, region),
                )
            )
        if "kms" in services:
            result.append(Unit(f"kms {region}", ("KMSKey",), partial(_keys, ctx, region)))
        if "acm" in services:
            result.append(
                Unit(f"acm {region}", ("ACMCertificate",), partial(_certificates, ctx, region))
            )
    return result


def _secrets(ctx: Context, region: str) -> list[Resource]:
    client = ctx.client("secretsmanager", region)
    found = []
    with ctx.reading("SecretsManagerSecret"):
        for page in ctx.pages(client, "list_secrets", marker_in="NextToken", MaxResults=100):
            for secret in page.get("SecretList", []):
                rules = secret.get("RotationRules")
                attrs = {
                    "name": secret.get("Name"),
                    "arn": secret["ARN"],
                    "description": secret.get("Description", ""),
                    "kms_key_id": secret.get("KmsKeyId"),
                    "rotation_enabled": bool(secret.get("RotationEnabled", False)),
                    "rotation_lambda_arn": secret.get("RotationLambdaARN") or None,
                    "rotation_rules": None
                    if not rules
                    else {
                        "automatically_after_days": rules.get("AutomaticallyAfterDays"),
                        "schedule_expression": rules.get("ScheduleExpression"),
                        "duration": rules.get("Duration"),
                    },
                    "last_rotated_date": iso(secret.get("LastRotatedDate")),
                    "last_changed_date": iso(secret.get("LastChangedDate")),
                    "last_accessed_date": iso_day(secret.get("LastAccessedDate")),
                    "next_rotation_date": iso(secret.get("NextRotationDate")),
                    "created_date": iso(secret.get("CreatedDate")),
                    "deleted_date": iso(secret.get("DeletedDate")),
                    "primary_region": secret.get("PrimaryRegion"),
                    "owning_service": secret.get("OwningService"),
                    "tags": tags_dict(secret.get("Tags")),
                }
                found.append(
                    Resource(
                        uid=secret["ARN"],
                        provider="aws",
                        scope=scope(ctx.account, region),
                        kind="SecretsManagerSecret",
                        name=secret.get("Name") or secret["ARN"],
                        attrs=attrs,
                        created_at=attrs["created_date"],
                    )
                )
    return found


def _keys(ctx: Context, region: str) -> list[Resource]:
    client = ctx.client("kms", region)
    found = []
    with ctx.reading("KMSKey"):
        aliases: dict[str, list[str]] = {}
        for page in ctx.pages(
            client,
            "list_aliases",
            marker_in="Marker",
            marker_out="NextMarker",
            truncated_key="Truncated",
            Limit=100,
        ):
            for alias in page.get("Aliases", []):
                if alias.get("TargetKeyId"):
                    aliases.setdefault(alias["TargetKeyId"], []).append(alias["AliasName"])
        for page in ctx.pages(
            client,
            "list_keys",
            marker_in="Marker",
            marker_out="NextMarker",
            truncated_key="Truncated",
            Limit=100,
        ):
            for key in page.get("Keys", []):
                names = aliases.get(key["KeyId"], [])
                if names and all(name.startswith("alias/aws/") for name in names):
                    continue  # AWS-managed: no need to describe it to know
                with ctx.reading("KMSKey"):  # one key's policy may deny us; go on
                    resource = _key(ctx, client, region, key["KeyId"], sorted(names))
                    if resource is not None:
                        found.append(resource)
    return found


def _key(
    ctx: Context, client: Any, region: str, key_id: str, aliases: list[str]
) -> Resource | None:
    meta = (ctx.call(client, "describe_key", KeyId=key_id) or {}).get("KeyMetadata") or {}
    if meta.get("KeyManager") != "CUSTOMER":
        return None
    supported = (
        meta.get("KeySpec", meta.get("CustomerMasterKeySpec")) in _ROTATABLE_SPECS
        and meta.get("Origin") == "AWS_KMS"
    )
    rotation_enabled = None
    period = None
    if supported and meta.get("KeyState") in ("Enabled", "Disabled"):
        status = ctx.call(client, "get_key_rotation_status", KeyId=key_id) or {}
        rotation_enabled = bool(status.get("KeyRotationEnabled", False))
        period = status.get("RotationPeriodInDays")
    attrs = {
        "key_id": meta.get("KeyId", key_id),
        "arn": meta.get("Arn"),
        "aliases": aliases,
        "description": meta.get("Description", ""),
        "key_state": meta.get("KeyState"),
        "enabled": bool(meta.get("Enabled", False)),
        "key_manager": meta.get("KeyManager"),
        "key_spec": meta.get("KeySpec", meta.get("CustomerMasterKeySpec")),
        "key_usage": meta.get("KeyUsage"),
        "origin": meta.get("Origin"),
        "multi_region": bool(meta.get("MultiRegion", False)),
        "creation_date": iso(meta.get("CreationDate")),
        "deletion_date": iso(meta.get("DeletionDate")),
        "rotation_supported": supported,
        "rotation_enabled": rotation_enabled,
        "rotation_period_days": period,
    }
    arn = meta.get("Arn") or f"arn:{ctx.partition}:kms:{region}:{ctx.account}:key/{key_id}"
    return Resource(
        uid=arn,
        provider="aws",
        scope=scope(ctx.account, region),
        kind="KMSKey",
        name=aliases[0] if aliases else key_id,
        attrs=attrs,
        created_at=attrs["creation_date"],
    )


def _certificates(ctx: Context, region: str) -> list[Resource]:
    client = ctx.client("acm", region)
    found = []
    with ctx.reading("ACMCertificate"):
        for page in ctx.pages(
            client,
            "list_certificates",
            marker_in="NextToken",
            Includes={"keyTypes": _ACM_KEY_TYPES},
            MaxItems=1000,
        ):
            for summary in page.get("CertificateSummaryList", []):
                arn = summary["CertificateArn"]
                cert = None
                with ctx.reading("ACMCertificate"):
                    answer = ctx.call(client, "describe_certificate", CertificateArn=arn) or {}
                    cert = answer.get("Certificate") or {}
                if cert is None:
                    continue
                in_use_by = sorted(cert.get("InUseBy", []))
                attrs = {
                    "arn": arn,
                    "domain_name": cert.get("DomainName", summary.get("DomainName")),
                    "subject_alternative_names": list(cert.get("SubjectAlternativeNames", [])),
                    "status": cert.get("Status"),
                    "type": cert.get("Type"),
                    "issuer": cert.get("Issuer"),
                    "key_algorithm": cert.get("KeyAlgorithm"),
                    "not_before": iso(cert.get("NotBefore")),
                    "not_after": iso(cert.get("NotAfter")),
                    "in_use_by": in_use_by,
                    "in_use": bool(in_use_by),
                    "renewal_eligibility": cert.get("RenewalEligibility"),
                    "created_at": iso(cert.get("CreatedAt")),
                    "imported_at": iso(cert.get("ImportedAt")),
                }
                found.append(
                    Resource(
                        uid=arn,
                        provider="aws",
                        scope=scope(ctx.account, region),
                        kind="ACMCertificate",
                        name=attrs["domain_name"] or arn,
                        attrs=attrs,
                        created_at=attrs["created_at"] or attrs["imported_at"],
                    )
                )
    return found
