"""S3: the account-level public access block and every bucket's exposure settings.

The bucket list is global; each batch of buckets is read by a follow-up unit, with a
client in the bucket's own region.

Kinds and attrs (scope ``"{account}/global"``)
----------------------------------------------

``S3AccountPublicAccessBlock``
(uid: ``aws://{account}/global/S3AccountPublicAccessBlock/{account}``)
    configured: bool, block_public_acls, ignore_public_acls, block_public_policy,
    restrict_public_buckets: bool (false when not configured)

``S3Bucket`` (uid: ``arn:{partition}:s3:::{name}``)
    name, region, creation_date,
    public_access_block: {"block_public_acls", "ignore_public_acls",
        "block_public_policy", "restrict_public_buckets": bool} | null (none set, or
        not readable: see ``unread``),
    has_policy: bool|null, policy_is_public: bool|null (``GetBucketPolicyStatus``),
    acl_public_grants: [{"grantee": "AllUsers"|"AuthenticatedUsers", "permission"}]
        | null,
    encryption: {"algorithm": "AES256"|"aws:kms"|"aws:kms:dsse", "kms_key_id":
        str|null, "bucket_key_enabled": bool} | null (no default encryption, or not
        readable),
    unread: {"public_access_block"|"policy_status"|"acl"|"encryption": reason} --
        empty when every setting was read; a non-empty map also marks ``S3Bucket``
        unknown for the run, so a check never reads a null here as "not set".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from postureapp.collectors.aws._common import GLOBAL, AwsCallError, fallback_uid, iso, scope
from postureapp.collectors.aws._context import Context, Unit
from postureapp.model import Resource

KINDS = ("S3Bucket", "S3AccountPublicAccessBlock")
_BATCH = 10
_PUBLIC_GROUPS = {
    "http://acs.amazonaws.com/groups/global/AllUsers": "AllUsers",
    "http://acs.amazonaws.com/groups/global/AuthenticatedUsers": "AuthenticatedUsers",
}
_PAB_KEYS = {
    "BlockPublicAcls": "block_public_acls",
    "IgnorePublicAcls": "ignore_public_acls",
    "BlockPublicPolicy": "block_public_policy",
    "RestrictPublicBuckets": "restrict_public_buckets",
}


def units(ctx: Context) -> list[Unit]:
    return [
        Unit("s3 buckets", ("S3Bucket",), lambda: _buckets(ctx)),
        Unit(
            "s3 account public access block", ("S3AccountPublicAccessBlock",), lambda: _account(ctx)
        ),
    ]


def _pab(config: Mapping[str, Any] | None) -> dict[str, bool]:
    config = config or {}
    return {ours: bool(config.get(theirs, False)) for theirs, ours in _PAB_KEYS.items()}


def _account(ctx: Context) -> list[Resource]:
    client = ctx.client("s3control")
    with ctx.reading("S3AccountPublicAccessBlock"):
        answer = ctx.call(
            client,
            "get_public_access_block",
            absent=("NoSuchPublicAccessBlockConfiguration",),
            AccountId=ctx.account,
        )
        config = (answer or {}).get("PublicAccessBlockConfiguration")
        return [
            Resource(
                uid=fallback_uid(ctx.account, GLOBAL, "S3AccountPublicAccessBlock", ctx.account),
                provider="aws",
                scope=scope(ctx.account, GLOBAL),
                kind="S3AccountPublicAccessBlock",
                name=f"S3 public access block ({ctx.account})",
                attrs={"configured": config is not None, **_pab(config)},
            )
        ]
    return []


def _buckets(ctx: Context) -> list[Resource]:
    client = ctx.client("s3")
    with ctx.reading("S3Bucket"):
        batch: list[Mapping[str, Any]] = []
        for page in ctx.pages(client, "list_buckets", marker_in="ContinuationToken"):
            for bucket in page.get("Buckets", []):
                batch.append(bucket)
                if len(batch) == _BATCH:
                    _spawn(ctx, batch)
                    batch = []
        if batch:
            _spawn(ctx, batch)
    return []


def _spawn(ctx: Context, batch: list[Mapping[str, Any]]) -> None:
    buckets = list(batch)
    ctx.spawn(
        Unit(
            f"s3 buckets {buckets[0]['Name']}..",
            ("S3Bucket",),
            lambda: [r for b in buckets if (r := _bucket(ctx, b)) is not None],
        )
    )


def _bucket(ctx: Context, bucket: Mapping[str, Any]) -> Resource | None:
    name = bucket["Name"]
    unread: dict[str, str] = {}

    def read(setting: str, operation: str, absent: tuple[str, ...]) -> dict[str, Any] | None:
        try:
            return ctx.call(
                client, operation, absent=absent, where=f"for bucket {name}", Bucket=name
            )
        except AwsCallError as exc:
            if exc.code == "NoSuchBucket":
                raise
            unread[setting] = exc.reason
            ctx.unknown("S3Bucket", exc.reason)
            return None

    region = bucket.get("BucketRegion")
    try:
        if not region:
            location = (
                ctx.call(
                    ctx.client("s3"), "get_bucket_location", where=f"for bucket {name}", Bucket=name
                )
                or {}
            )
            region = _region(location.get("LocationConstraint"))
        client = ctx.client("s3", region)
        pab = read(
            "public_access_block",
            "get_public_access_block",
            ("NoSuchPublicAccessBlockConfiguration",),
        )
        status = read("policy_status", "get_bucket_policy_status", ("NoSuchBucketPolicy",))
        acl = read("acl", "get_bucket_acl", ())
        encryption = read(
            "encryption",
            "get_bucket_encryption",
            ("ServerSideEncryptionConfigurationNotFoundError",),
        )
    except AwsCallError as exc:
        if exc.code == "NoSuchBucket":
            return None  # deleted since the list
        ctx.unknown("S3Bucket", exc.reason)
        return None

    if "policy_status" in unread:
        has_policy = policy_public = None
    elif status is None:
        has_policy, policy_public = False, False
    else:
        has_policy = True
        policy_public = bool((status.get("PolicyStatus") or {}).get("IsPublic", False))

    grants = None
    if "acl" not in unread:
        grants = sorted(
            (
                {"grantee": _PUBLIC_GROUPS[g["Grantee"]["URI"]], "permission": g.get("Permission")}
                for g in (acl or {}).get("Grants", [])
                if (g.get("Grantee") or {}).get("URI") in _PUBLIC_GROUPS
            ),
            key=lambda g: (g["grantee"], g["permission"] or ""),
        )

    default = None
    rules = ((encryption or {}).get("ServerSideEncryptionConfiguration") or {}).get("Rules", [])
    if rules:
        rule = rules[0]
        by_default = rule.get("ApplyServerSideEncryptionByDefault") or {}
        default = {
            "algorithm": by_default.get("SSEAlgorithm"),
            "kms_key_id": by_default.get("KMSMasterKeyID"),
            "bucket_key_enabled": bool(rule.get("BucketKeyEnabled", False)),
        }

    config = (pab or {}).get("PublicAccessBlockConfiguration")
    attrs = {
        "name": name,
        "region": region,
        "creation_date": iso(bucket.get("CreationDate")),
        "public_access_block": _pab(config) if config is not None else None,
        "has_policy": has_policy,
        "policy_is_public": policy_public,
        "acl_public_grants": grants,
        "encryption": default,
        "unread": unread,
    }
    return Resource(
        uid=f"arn:{ctx.partition}:s3:::{name}",
        provider="aws",
        scope=scope(ctx.account, GLOBAL),
        kind="S3Bucket",
        name=name,
        attrs=attrs,
        created_at=attrs["creation_date"],
    )


def _region(constraint: str | None) -> str:
    if not constraint:
        return "us-east-1"
    if constraint == "EU":
        return "eu-west-1"
    return constraint
