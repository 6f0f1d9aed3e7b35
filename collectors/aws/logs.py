"""CloudWatch Logs log groups (retention: how long the central log keeps what services
wrote) and IAM OpenID Connect providers (the identity providers that back EKS service
accounts through IRSA, and CI systems), for the observability and trust-domain controls.

Kinds and attrs
---------------

``CloudWatchLogGroup`` (uid: log group ARN without the trailing ``:*``; scope
``"{account}/{region}"``)
    name, arn, retention_days: int|null (null: never expire), kms_key_id: str|null,
    stored_bytes: int|null, created_at: iso|null, log_group_class: str|null

``IAMOIDCProvider`` (uid: provider ARN; scope ``"{account}/global"``)
    arn, url (the issuer without ``https://``, as IAM stores it), client_ids: [..]
    (sorted), created_at: iso|null. Thumbprints are not kept: they change with the
    issuer's certificate and say nothing about who is trusted.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Any

from postureapp.collectors.aws._common import GLOBAL, iso, scope
from postureapp.collectors.aws._context import Context, Unit
from postureapp.model import Resource

KINDS = ("CloudWatchLogGroup", "IAMOIDCProvider")


def units(ctx: Context, regions: list[str], services: set[str]) -> list[Unit]:
    result = []
    if "logs" in services:
        result += [
            Unit(f"logs {region}", ("CloudWatchLogGroup",), partial(_groups, ctx, region))
            for region in regions
        ]
    if "iam" in services:
        result.append(Unit("iam oidc providers", ("IAMOIDCProvider",), lambda: _providers(ctx)))
    return result


def _groups(ctx: Context, region: str) -> list[Resource]:
    client = ctx.client("logs", region)
    found = []
    with ctx.reading("CloudWatchLogGroup"):
        for page in ctx.pages(client, "describe_log_groups", marker_in="nextToken", limit=50):
            for group in page.get("logGroups", []):
                found.append(log_group(ctx.account, region, group))
    return found


def log_group(account: str, region: str, group: Mapping[str, Any]) -> Resource:
    """One ``DescribeLogGroups`` item as a resource."""
    arn = str(group.get("arn") or "").removesuffix(":*")
    attrs = {
        "name": group.get("logGroupName"),
        "arn": arn,
        "retention_days": group.get("retentionInDays"),
        "kms_key_id": group.get("kmsKeyId"),
        "stored_bytes": group.get("storedBytes"),
        "created_at": iso(group.get("creationTime")),
        "log_group_class": group.get("logGroupClass"),
    }
    return Resource(
        uid=arn or f"aws://{account}/{region}/CloudWatchLogGroup/{group.get('logGroupName')}",
        provider="aws",
        scope=scope(account, region),
        kind="CloudWatchLogGroup",
        name=str(group.get("logGroupName") or arn),
        attrs=attrs,
        created_at=attrs["created_at"],
    )


def _providers(ctx: Context) -> list[Resource]:
    client = ctx.client("iam")
    found = []
    with ctx.reading("IAMOIDCProvider"):
        listed = (ctx.call(client, "list_open_id_connect_providers") or {}).get(
            "OpenIDConnectProviderList", []
        )
        for item in listed:
            arn = item["Arn"]
            detail = ctx.call(client, "get_open_id_connect_provider", OpenIDConnectProviderArn=arn)
            found.append(oidc_provider(ctx.account, arn, detail or {}))
    return found


def oidc_provider(account: str, arn: str, detail: Mapping[str, Any]) -> Resource:
    """One ``GetOpenIDConnectProvider`` answer as a resource."""
    url = str(detail.get("Url") or arn.split(":oidc-provider/", 1)[-1])
    created = iso(detail.get("CreateDate"))
    attrs = {
        "arn": arn,
        "url": url,
        "client_ids": sorted(detail.get("ClientIDList", [])),
        "created_at": created,
    }
    return Resource(
        uid=arn,
        provider="aws",
        scope=scope(account, GLOBAL),
        kind="IAMOIDCProvider",
        name=url,
        attrs=attrs,
        created_at=created,
    )
