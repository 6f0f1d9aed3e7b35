"""Small hand-built AWS inventories for the check tests.

Resources carry the attrs the collector documents (``collectors/aws/*.py``); policy
documents go through the collector's own ``normalise_policy`` so the tests see exactly
the shape the checks get in production.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import postureapp.checks.aws  # noqa: F401  (registers the AWS checks)
from postureapp.checks.registry import REGISTRY, Result
from postureapp.collectors.aws._common import allowed_principals, normalise_policy
from postureapp.inventory import Inventory
from postureapp.model import CollectorRun, Resource, RunStatus, Status, isoformat

ACCOUNT = "123456789012"
OTHER_ACCOUNT = "999988887777"
REGION = "eu-west-1"
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
REGION_SCOPE = f"{ACCOUNT}/{REGION}"
ADMIN_ARN = "arn:aws:iam::aws:policy/AdministratorAccess"


def ago(days: float) -> str:
    return isoformat(NOW - timedelta(days=days))


def ahead(days: float) -> str:
    return isoformat(NOW + timedelta(days=days))


def resource(
    kind: str,
    name: str,
    attrs: dict[str, Any] | None = None,
    *,
    uid: str | None = None,
    region: str = REGION,
    account: str = ACCOUNT,
) -> Resource:
    return Resource(
        uid=uid or f"aws://{account}/{region}/{kind}/{name}",
        provider="aws",
        scope=f"{account}/{region}",
        kind=kind,
        name=name,
        attrs=dict(attrs or {}),
    )


def inventory(*resources: Resource, settings: dict[str, Any] | None = None, runs=()) -> Inventory:
    return Inventory(
        resources=list(resources), runs=list(runs), settings=dict(settings or {}), now=NOW
    )


def partial_run(**unknown: str) -> CollectorRun:
    """The run record of an AWS collection that could not read some kinds."""
    return CollectorRun(
        collector="aws",
        target="prod",
        status=RunStatus.PARTIAL,
        scope=ACCOUNT,
        unknown=dict(unknown),
        provider="aws",
    )


def run(check_id: str, inv: Inventory) -> list[Result]:
    return list(REGISTRY.checks[check_id].function(inv))


def results(check_id: str, inv: Inventory) -> dict[str, Result]:
    """The check's results by resource uid (each resource judged once)."""
    found: dict[str, Result] = {}
    for result in run(check_id, inv):
        uid = result.resource if isinstance(result.resource, str) else result.resource.uid
        assert uid not in found, f"{check_id} judged {uid} twice"
        found[uid] = result
    return found


def statuses(check_id: str, inv: Inventory) -> dict[str, Status]:
    return {uid: result.status for uid, result in results(check_id, inv).items()}


def only(check_id: str, inv: Inventory) -> Result:
    found = run(check_id, inv)
    assert len(found) == 1, [(r.resource, r.status, r.detail) for r in found]
    return found[0]


# -- IAM -----------------------------------------------------------------------------------


def statement(effect: str = "Allow", **fields: Any) -> dict[str, Any]:
    return {"Effect": effect, **fields}


def document(*statements: dict[str, Any]) -> dict[str, Any]:
    return normalise_policy({"Version": "2012-10-17", "Statement": list(statements)})


def inline(name: str, *statements: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "document": document(*statements)}


def managed_policy(name: str, *statements: dict[str, Any], aws: bool = False) -> Resource:
    owner = "aws" if aws else ACCOUNT
    arn = f"arn:aws:iam::{owner}:policy/{name}"
    return resource(
        "IAMPolicy",
        name,
        {"name": name, "arn": arn, "aws_managed": aws, "document": document(*statements)},
        uid=arn,
        region="global",
    )


def attach(*policies: Resource | str) -> list[dict[str, str]]:
    found = []
    for item in policies:
        arn = item if isinstance(item, str) else item.uid
        found.append({"name": arn.rsplit("/", 1)[-1], "arn": arn})
    return found


def credentials(password: bool = True, mfa: bool = False, **more: Any) -> dict[str, Any]:
    return {
        "password_enabled": password,
        "password_last_used": more.get("password_last_used"),
        "password_last_changed": None,
        "mfa_active": mfa,
        "access_keys_active": more.get("access_keys_active", 0),
    }


def user(
    name: str,
    *,
    attached: list[dict[str, str]] | None = None,
    policies: list[dict[str, Any]] | None = None,
    groups: list[str] | None = None,
    creds: dict[str, Any] | None = None,
    created_days: float = 400,
    boundary: str | None = None,
) -> Resource:
    arn = f"arn:aws:iam::{ACCOUNT}:user/{name}"
    return resource(
        "IAMUser",
        name,
        {
            "user_name": name,
            "arn": arn,
            "path": "/",
            "create_date": ago(created_days),
            "groups": sorted(groups or []),
            "attached_policies": attached or [],
            "inline_policies": policies or [],
            "permissions_boundary": boundary,
            "tags": {},
            "credentials": creds,
        },
        uid=arn,
        region="global",
    )


def group(
    name: str,
    *,
    attached: list[dict[str, str]] | None = None,
    policies: list[dict[str, Any]] | None = None,
    members: list[str] | None = None,
) -> Resource:
    arn = f"arn:aws:iam::{ACCOUNT}:group/{name}"
    return resource(
        "IAMGroup",
        name,
        {
            "group_name": name,
            "arn": arn,
            "members": sorted(members or []),
            "attached_policies": attached or [],
            "inline_policies": policies or [],
        },
        uid=arn,
        region="global",
    )


def trust(*statements: dict[str, Any]) -> dict[str, Any]:
    return document(*statements)


def assume(principal: Any, **fields: Any) -> dict[str, Any]:
    return statement("Allow", Principal=principal, Action="sts:AssumeRole", **fields)


def role(
    name: str,
    *,
    attached: list[dict[str, str]] | None = None,
    policies: list[dict[str, Any]] | None = None,
    trust_policy: dict[str, Any] | None = None,
    created_days: float = 400,
    last_used_days: float | None = None,
    service_linked: bool = False,
) -> Resource:
    path = "/aws-service-role/" if service_linked else "/"
    arn = f"arn:aws:iam::{ACCOUNT}:role{path}{name}"
    trust_doc = trust_policy or trust(assume({"Service": "ec2.amazonaws.com"}))
    return resource(
        "IAMRole",
        name,
        {
            "role_name": name,
            "arn": arn,
            "path": path,
            "create_date": ago(created_days),
            "trust_policy": trust_doc,
            "trusted_principals": allowed_principals(trust_doc),
            "last_used_date": None if last_used_days is None else ago(last_used_days),
            "last_used_region": None,
            "attached_policies": attached or [],
            "inline_policies": policies or [],
            "permissions_boundary": None,
            "instance_profiles": [],
            "service_linked": service_linked,
            "tags": {},
        },
        uid=arn,
        region="global",
    )


def access_key(
    user_name: str,
    *,
    slot: int = 1,
    active: bool = True,
    created_days: float | None = 10,
    last_used_days: float | None = 1,
) -> Resource:
    created = None if created_days is None else ago(created_days)
    return resource(
        "IAMAccessKey",
        f"{user_name}/{created or slot}",
        {
            "user_name": user_name,
            "user_arn": f"arn:aws:iam::{ACCOUNT}:user/{user_name}",
            "access_key_id": None,
            "slot": slot,
            "active": active,
            "created": created,
            "last_used_date": None if last_used_days is None else ago(last_used_days),
            "last_used_region": None,
            "last_used_service": None,
            "source": "credential_report",
        },
        region="global",
    )


def account(**attrs: Any) -> Resource:
    base = {
        "account_id": ACCOUNT,
        "root_mfa_active": True,
        "root_access_keys_present": False,
        "root_password_last_used": None,
        "root_access_key_last_used": None,
        "password_policy": None,
        "password_policy_set": False,
        "mfa_devices_in_use": 1,
    }
    base.update(attrs)
    return resource(
        "IAMAccount", ACCOUNT, base, uid=f"arn:aws:iam::{ACCOUNT}:root", region="global"
    )


def aws_region(name: str = REGION, account_id: str = ACCOUNT) -> Resource:
    return resource(
        "AWSRegion",
        name,
        {"region": name},
        uid=f"aws://{account_id}/{name}/AWSRegion/{name}",
        region=name,
        account=account_id,
    )
