"""IAM: principals, their policies, their credentials.

Everything comes from ONE paginated ``GetAccountAuthorizationDetails`` pass (users,
groups, roles with trust policies and ``RoleLastUsed``, managed policies with their
default version, inline policies) plus the credential report; no per-principal calls.
Access keys are listed per user only when the credential report cannot be read, and for
the users created after the report was generated.
The same functions normalise the live answers and the offline files
(``postureapp.collectors.aws.offline``).

All kinds are global: ``scope = "{account}/global"``. Timestamps are ISO 8601 UTC with
``Z`` (or null); "last used" timestamps are truncated to the day (``...T00:00:00Z``:
AWS moves them on every use, and a poll where nothing else changed should not rewrite
every active principal). Policy documents are normalised by
:func:`postureapp.collectors.aws._common.normalise_policy` (``Statement`` always a list;
``Action``/``NotAction``/``Resource``/``NotResource`` always lists; ``Principal`` always
``{type: [values]}``; ``Condition`` values always lists). No attr is relative to "now"
(no ages): checks compute ages from the timestamps and ``Inventory.now``.

Kinds and attrs
---------------

``IAMUser`` (uid: user ARN)
    user_name, user_id, arn, path, create_date,
    groups: [group name] (sorted),
    attached_policies: [{"name", "arn"}] (sorted by arn),
    inline_policies: [{"name", "document"}] (sorted by name),
    permissions_boundary: policy ARN | null,
    tags: {key: value},
    credentials: null when the credential report could not be read (the run then lists
        ``IAMCredentialReport`` as unknown) or the user is newer than the report, else {
        "password_enabled": bool, "password_last_used": iso|null,
        "password_last_changed": iso|null, "mfa_active": bool,
        "access_keys_active": int}

``IAMGroup`` (uid: group ARN)
    group_name, group_id, arn, path, create_date, members: [user name] (sorted),
    attached_policies, inline_policies (as for users)

``IAMRole`` (uid: role ARN)
    role_name, role_id, arn, path, create_date, description, max_session_duration,
    trust_policy: normalised document | null,
    trusted_principals: {"AWS"|"Service"|"Federated"|...: [principal]} from the trust
        policy's Allow statements,
    last_used_date: iso|null, last_used_region: str|null (``RoleLastUsed``),
    attached_policies, inline_policies (as for users), permissions_boundary,
    instance_profiles: [instance profile ARN] (sorted),
    service_linked: bool (path starts with ``/aws-service-role/``), tags

``IAMPolicy`` (uid: policy ARN) -- every customer-managed policy, plus the AWS-managed
policies attached to at least one principal
    name, policy_id, arn, path, aws_managed: bool, default_version_id,
    document: normalised default-version document | null,
    attachment_count: int, permissions_boundary_usage_count: int, is_attachable: bool,
    description, create_date, update_date

``IAMAccessKey`` (uid: ``aws://{account}/global/IAMAccessKey/{user}/{created}``, the
same from both sources below; a rotated key is a new resource. Two keys of one user
created in the same second get ``/1`` and ``/2`` appended.)
    user_name, user_arn, access_key_id: str|null (the credential report does not give
    it), slot: 1|2|null, active: bool, created: iso|null (the report's ``last_rotated``,
    which is the key's creation time), last_used_date, last_used_region,
    last_used_service (null when never used),
    source: "credential_report" | "list_access_keys"

``IAMCredentialReport`` (uid: ``aws://{account}/global/IAMCredentialReport/report``)
    generated_at: iso|null (label the report's age with this: AWS regenerates it at most
    every four hours), users: int (rows without the root row),
    source: "api" | "file"

``IAMAccount`` (uid: ``arn:{partition}:iam::{account}:root``)
    account_id,
    root_mfa_active: bool|null, root_access_keys_present: bool|null,
    root_password_last_used: iso|null, root_access_key_last_used: iso|null
        (root fields come from the report's ``<root_account>`` row, else from
        ``GetAccountSummary``),
    password_policy: {MinimumPasswordLength, RequireSymbols, ..., MaxPasswordAge, ...}
        | null, password_policy_set: bool|null (null when it could not be read),
    mfa_devices_in_use: int|null

``IAMServerCertificate`` (uid: certificate ARN)
    name, server_certificate_id, arn, path, upload_date, expiration
"""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Iterable, Mapping
from typing import Any

from postureapp.collectors.aws._common import (
    GLOBAL,
    AwsCallError,
    MalformedAnswer,
    allowed_principals,
    as_list,
    fallback_uid,
    iso,
    iso_day,
    normalise_policy,
    plain,
    scope,
    tags_dict,
    to_bool,
)
from postureapp.collectors.aws._context import Context, Unit
from postureapp.model import Resource

KINDS = (
    "IAMUser",
    "IAMGroup",
    "IAMRole",
    "IAMPolicy",
    "IAMAccessKey",
    "IAMCredentialReport",
    "IAMAccount",
    "IAMServerCertificate",
)
AUTH_KINDS = ("IAMUser", "IAMGroup", "IAMRole", "IAMPolicy")
REPORT_HEADER_START = ("user", "arn", "user_creation_time")
ROOT_ROW = "<root_account>"
_AUTH_LIST_KEYS = ("UserDetailList", "GroupDetailList", "RoleDetailList", "Policies")
_PAGE_SIZE = 1000  # the largest MaxItems IAM accepts


# -- authorization details: pure normalisation -------------------------------------------


LIST_KINDS = {
    "UserDetailList": "IAMUser",
    "GroupDetailList": "IAMGroup",
    "RoleDetailList": "IAMRole",
    "Policies": "IAMPolicy",
}


class MalformedItem(MalformedAnswer):
    """One entry of a list does not have the documented shape: it is dropped and its
    kind becomes unknown, never read as a principal with no policies."""


def merge_authorization_pages(pages: Iterable[Mapping[str, Any]]) -> dict[str, list[Any]]:
    """Concatenate the lists of every page; a list no page holds is absent from the
    result (a ``--filter Role`` export has no users): absent is unread, empty is read.
    Raise MalformedAnswer on a wrong shape."""
    merged: dict[str, list[Any]] = {}
    for page in pages:
        if not isinstance(page, Mapping):
            raise MalformedAnswer("authorization details page is not an object")
        for key in _AUTH_LIST_KEYS:
            if key not in page:
                continue
            items = page[key]
            if not isinstance(items, list):
                raise MalformedAnswer(f"{key} is not a list")
            merged.setdefault(key, []).extend(items)
    return merged


def normalise_authorization_details(
    details: Mapping[str, list[Any]], account: str
) -> list[Resource]:
    """Users, groups, roles and managed policies; raise on the first malformed entry."""
    resources, problems = normalise_details_lenient(details, account)
    if problems:
        raise MalformedAnswer(next(iter(problems.values())))
    return resources


def normalise_details_lenient(
    details: Mapping[str, list[Any]], account: str
) -> tuple[list[Resource], dict[str, str]]:
    """Users, groups, roles and managed policies, and for each kind with a malformed
    entry one line naming the entry and the field (that entry is dropped)."""
    where = scope(account, GLOBAL)
    resources: list[Resource] = []
    problems: dict[str, str] = {}
    members: dict[str, list[str]] = {}
    referenced: set[str] = set()
    builders = (
        ("UserDetailList", "UserName", _user),
        ("GroupDetailList", "GroupName", _group),
        ("RoleDetailList", "RoleName", _role),
        ("Policies", "PolicyName", _policy),
    )
    for key, name_key, build in builders:
        for position, raw in enumerate(details.get(key, [])):
            try:
                resource = build(raw, where, members, referenced)
            except MalformedItem as exc:
                label = raw.get(name_key) if isinstance(raw, Mapping) else None
                which = f'"{label}"' if isinstance(label, str) else f"#{position}"
                problems.setdefault(LIST_KINDS[key], f"{key} entry {which}: {exc} (dropped)")
                continue
            if resource is not None:
                resources.append(resource)
    return resources, problems


def _user(raw: Any, where: str, members: dict[str, list[str]], referenced: set[str]) -> Resource:
    user = _entity(raw, "UserName")
    groups = _strings(user, "GroupList")
    for group in groups:
        members.setdefault(group, []).append(user["UserName"])
    attrs = {
        "user_name": user["UserName"],
        "user_id": _text(user, "UserId"),
        "arn": user["Arn"],
        "path": _text(user, "Path") or "/",
        "create_date": _date(user, "CreateDate"),
        "groups": sorted(groups),
        "attached_policies": _attached(user.get("AttachedManagedPolicies"), referenced),
        "inline_policies": _inline(user.get("UserPolicyList")),
        "permissions_boundary": _boundary(user.get("PermissionsBoundary")),
        "tags": tags_dict(user.get("Tags")),
        "credentials": None,
    }
    return _resource(user["Arn"], where, "IAMUser", user["UserName"], attrs)


def _group(raw: Any, where: str, members: dict[str, list[str]], referenced: set[str]) -> Resource:
    group = _entity(raw, "GroupName")
    attrs = {
        "group_name": group["GroupName"],
        "group_id": _text(group, "GroupId"),
        "arn": group["Arn"],
        "path": _text(group, "Path") or "/",
        "create_date": _date(group, "CreateDate"),
        "members": sorted(members.get(group["GroupName"], [])),
        "attached_policies": _attached(group.get("AttachedManagedPolicies"), referenced),
        "inline_policies": _inline(group.get("GroupPolicyList")),
    }
    return _resource(group["Arn"], where, "IAMGroup", group["GroupName"], attrs)


def _role(raw: Any, where: str, members: dict[str, list[str]], referenced: set[str]) -> Resource:
    role = _entity(raw, "RoleName")
    trust = _document(role.get("AssumeRolePolicyDocument"), "AssumeRolePolicyDocument")
    last_used = role.get("RoleLastUsed") or {}
    if not isinstance(last_used, Mapping):
        raise MalformedItem("RoleLastUsed is not an object")
    path = _text(role, "Path") or "/"
    duration = role.get("MaxSessionDuration")
    if duration is not None and (not isinstance(duration, int) or isinstance(duration, bool)):
        raise MalformedItem("MaxSessionDuration is not a whole number")
    profiles = []
    for profile in as_list(role.get("InstanceProfileList")):
        if not isinstance(profile, Mapping) or not isinstance(profile.get("Arn"), str):
            raise MalformedItem("an InstanceProfileList entry has no Arn")
        profiles.append(profile["Arn"])
    attrs = {
        "role_name": role["RoleName"],
        "role_id": _text(role, "RoleId"),
        "arn": role["Arn"],
        "path": path,
        "create_date": _date(role, "CreateDate"),
        "description": _text(role, "Description") or "",
        "max_session_duration": duration,
        "trust_policy": trust,
        "trusted_principals": allowed_principals(trust),
        "last_used_date": iso_day(last_used.get("LastUsedDate")),
        "last_used_region": _text(last_used, "Region"),
        "attached_policies": _attached(role.get("AttachedManagedPolicies"), referenced),
        "inline_policies": _inline(role.get("RolePolicyList")),
        "permissions_boundary": _boundary(role.get("PermissionsBoundary")),
        "instance_profiles": sorted(profiles),
        "service_linked": path.startswith("/aws-service-role/"),
        "tags": tags_dict(role.get("Tags")),
    }
    return _resource(role["Arn"], where, "IAMRole", role["RoleName"], attrs)


def _policy(
    raw: Any, where: str, members: dict[str, list[str]], referenced: set[str]
) -> Resource | None:
    if not isinstance(raw, Mapping) or not isinstance(raw.get("Arn"), str) or not raw["Arn"]:
        raise MalformedItem("no Arn")
    arn = str(raw["Arn"])
    aws_managed = arn.split(":")[4:5] == ["aws"]
    attachments = _count(raw, "AttachmentCount")
    if aws_managed and attachments == 0 and arn not in referenced:
        return None  # the ~1,300 AWS-managed policies nobody uses are noise
    default_version = _text(raw, "DefaultVersionId")
    document = None
    for version in as_list(raw.get("PolicyVersionList")):
        if not isinstance(version, Mapping):
            raise MalformedItem("a PolicyVersionList entry is not an object")
        if version.get("IsDefaultVersion") is True or version.get("VersionId") == default_version:
            document = _document(version.get("Document"), "PolicyVersionList.Document")
            break
    name = _text(raw, "PolicyName") or arn.rsplit("/", 1)[-1]
    attrs = {
        "name": name,
        "policy_id": _text(raw, "PolicyId"),
        "arn": arn,
        "path": _text(raw, "Path") or "/",
        "aws_managed": aws_managed,
        "default_version_id": default_version,
        "document": document,
        "attachment_count": attachments,
        "permissions_boundary_usage_count": _count(raw, "PermissionsBoundaryUsageCount"),
        "is_attachable": raw.get("IsAttachable", True) is not False,
        "description": _text(raw, "Description") or "",
        "create_date": _date(raw, "CreateDate"),
        "update_date": _date(raw, "UpdateDate"),
    }
    return _resource(arn, where, "IAMPolicy", name, attrs)


def _entity(raw: Any, name_key: str) -> Mapping[str, Any]:
    if not isinstance(raw, Mapping):
        raise MalformedItem("not an object")
    for key in (name_key, "Arn"):
        if not isinstance(raw.get(key), str) or not raw[key]:
            raise MalformedItem(f"{key} is missing or not a string")
    return raw


def _text(raw: Mapping[str, Any], key: str) -> str | None:
    value = raw.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise MalformedItem(f"{key} is a {type(value).__name__}, not a string")
    return value


def _strings(raw: Mapping[str, Any], key: str) -> list[str]:
    values = as_list(raw.get(key))
    if not all(isinstance(value, str) for value in values):
        raise MalformedItem(f"{key} holds something other than names")
    return values


def _count(raw: Mapping[str, Any], key: str) -> int:
    value = raw.get(key)
    if value is None:
        return 0
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise MalformedItem(f"{key} is not a count")
    return value


def _date(raw: Mapping[str, Any], key: str) -> str | None:
    value = raw.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, float) and value != value:  # NaN
        raise MalformedItem(f"{key} is NaN")
    moment = iso(value)
    if moment is None:
        raise MalformedItem(f"{key} is not a date")
    return moment


def _document(value: Any, field: str) -> dict[str, Any] | None:
    try:
        return normalise_policy(value)
    except MalformedAnswer as exc:
        raise MalformedItem(f"{field}: {exc}") from None


def _attached(items: Any, referenced: set[str]) -> list[dict[str, str]]:
    result = []
    for item in as_list(items):
        if not isinstance(item, Mapping) or not isinstance(item.get("PolicyArn"), str):
            raise MalformedItem("an AttachedManagedPolicies entry has no PolicyArn")
        arn = item["PolicyArn"]
        referenced.add(arn)
        name = item.get("PolicyName")
        result.append(
            {"name": name if isinstance(name, str) else arn.rsplit("/", 1)[-1], "arn": arn}
        )
    return sorted(result, key=lambda p: p["arn"])


def _inline(items: Any) -> list[dict[str, Any]]:
    result = []
    for item in as_list(items):
        if not isinstance(item, Mapping) or not isinstance(item.get("PolicyName"), str):
            raise MalformedItem("an inline policy has no PolicyName")
        document = _document(item.get("PolicyDocument"), f"inline policy {item['PolicyName']}")
        result.append({"name": item["PolicyName"], "document": document})
    return sorted(result, key=lambda p: p["name"])


def _boundary(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise MalformedItem("PermissionsBoundary is not an object")
    arn = value.get("PermissionsBoundaryArn")
    if arn is not None and not isinstance(arn, str):
        raise MalformedItem("PermissionsBoundaryArn is not a string")
    return arn


def _resource(uid: str, where: str, kind: str, name: str, attrs: dict[str, Any]) -> Resource:
    return Resource(
        uid=uid,
        provider="aws",
        scope=where,
        kind=kind,
        name=name,
        attrs=attrs,
        created_at=attrs.get("create_date"),
    )


# -- credential report: pure normalisation ------------------------------------------------


def parse_credential_report(text: str) -> list[dict[str, str]]:
    """The report's CSV as rows; raise MalformedAnswer naming the line that is wrong."""
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader)
    except StopIteration:
        raise MalformedAnswer("the credential report is empty") from None
    except csv.Error as exc:
        raise MalformedAnswer(f"the credential report is not CSV ({exc})") from None
    if tuple(header[:3]) != REPORT_HEADER_START:
        raise MalformedAnswer("the credential report header does not start with user,arn,...")
    rows = []
    try:
        for line_number, row in enumerate(reader, start=2):
            if not row:
                continue
            if len(row) != len(header):
                raise MalformedAnswer(
                    f"credential report line {line_number} has {len(row)} fields, "
                    f"expected {len(header)} (truncated?)"
                )
            rows.append(dict(zip(header, row, strict=True)))
    except csv.Error as exc:
        raise MalformedAnswer(f"the credential report is not valid CSV ({exc})") from None
    return rows


def credential_resources(
    rows: list[dict[str, str]], account: str, generated_at: str | None, source: str
) -> list[Resource]:
    """The report itself plus one IAMAccessKey per key slot in use."""
    where = scope(account, GLOBAL)
    resources = [
        Resource(
            uid=fallback_uid(account, GLOBAL, "IAMCredentialReport", "report"),
            provider="aws",
            scope=where,
            kind="IAMCredentialReport",
            name="credential report",
            attrs={
                "generated_at": generated_at,
                "users": sum(1 for row in rows if row.get("user") != ROOT_ROW),
                "source": source,
            },
        )
    ]
    for row in rows:
        if row.get("user") == ROOT_ROW:
            continue
        created_by_slot = {slot: iso(row.get(f"access_key_{slot}_last_rotated")) for slot in (1, 2)}
        same_second = created_by_slot[1] is not None and created_by_slot[1] == created_by_slot[2]
        for slot in (1, 2):
            created = created_by_slot[slot]
            active = to_bool(row.get(f"access_key_{slot}_active"))
            if created is None and not active:
                continue  # the slot is empty
            resources.append(
                access_key_resource(
                    account,
                    user_name=row["user"],
                    user_arn=row.get("arn", ""),
                    access_key_id=None,
                    slot=slot,
                    active=bool(active),
                    created=created,
                    last_used_date=iso_day(row.get(f"access_key_{slot}_last_used_date")),
                    last_used_region=_present(row.get(f"access_key_{slot}_last_used_region")),
                    last_used_service=_present(row.get(f"access_key_{slot}_last_used_service")),
                    source="credential_report",
                    twin=slot if same_second else None,
                )
            )
    return resources


def access_key_resource(
    account: str,
    *,
    user_name: str,
    user_arn: str,
    access_key_id: str | None,
    slot: int | None,
    active: bool,
    created: str | None,
    last_used_date: str | None,
    last_used_region: str | None,
    last_used_service: str | None,
    source: str,
    twin: int | None = None,
) -> Resource:
    """One access key. Its uid is the user and the key's creation second, which both
    sources know; ``twin`` (1 or 2) tells apart two keys of one user created in the same
    second (then the uid may differ between the two sources)."""
    ident = f"{user_name}/{created or access_key_id or slot}"
    if twin:
        ident += f"/{twin}"
    name = access_key_id or f"{user_name} key {slot}"
    return Resource(
        uid=fallback_uid(account, GLOBAL, "IAMAccessKey", ident),
        provider="aws",
        scope=scope(account, GLOBAL),
        kind="IAMAccessKey",
        name=name,
        attrs={
            "user_name": user_name,
            "user_arn": user_arn,
            "access_key_id": access_key_id,
            "slot": slot,
            "active": active,
            "created": created,
            "last_used_date": last_used_date,
            "last_used_region": last_used_region,
            "last_used_service": last_used_service,
            "source": source,
        },
        created_at=created,
    )


def _present(value: str | None) -> str | None:
    if value is None or value.strip().lower() in {"", "n/a", "not_supported", "no_information"}:
        return None
    return value


def merge_credentials(resources: list[Resource], rows: list[dict[str, str]] | None) -> None:
    """Put each user's report row into ``IAMUser.attrs["credentials"]`` and the root
    row into ``IAMAccount``; a no-op when the report could not be read."""
    if rows is None:
        return
    by_arn = {row.get("arn"): row for row in rows if row.get("user") != ROOT_ROW}
    root = next((row for row in rows if row.get("user") == ROOT_ROW), None)
    for resource in resources:
        if resource.kind == "IAMUser":
            row = by_arn.get(resource.uid)
            if row is None:
                continue  # created after the report was generated
            resource.attrs["credentials"] = {
                "password_enabled": bool(to_bool(row.get("password_enabled"))),
                "password_last_used": iso_day(row.get("password_last_used")),
                "password_last_changed": iso(row.get("password_last_changed")),
                "mfa_active": bool(to_bool(row.get("mfa_active"))),
                "access_keys_active": sum(
                    1 for slot in (1, 2) if to_bool(row.get(f"access_key_{slot}_active"))
                ),
            }
        elif resource.kind == "IAMAccount" and root is not None:
            keys = [to_bool(root.get(f"access_key_{slot}_active")) for slot in (1, 2)]
            used = [iso_day(root.get(f"access_key_{slot}_last_used_date")) for slot in (1, 2)]
            resource.attrs.update(
                root_mfa_active=bool(to_bool(root.get("mfa_active"))),
                root_access_keys_present=any(keys),
                root_password_last_used=iso_day(root.get("password_last_used")),
                root_access_key_last_used=max((u for u in used if u), default=None),
            )


def account_resource(
    account: str,
    partition: str,
    summary: Mapping[str, Any] | None,
    password_policy: Mapping[str, Any] | None,
    password_policy_known: bool,
) -> Resource:
    summary = summary or {}
    mfa = summary.get("AccountMFAEnabled")
    keys = summary.get("AccountAccessKeysPresent")
    devices = summary.get("MFADevicesInUse")
    return Resource(
        uid=f"arn:{partition}:iam::{account}:root",
        provider="aws",
        scope=scope(account, GLOBAL),
        kind="IAMAccount",
        name=account,
        attrs={
            "account_id": account,
            "root_mfa_active": None if mfa is None else bool(mfa),
            "root_access_keys_present": None if keys is None else bool(keys),
            "root_password_last_used": None,
            "root_access_key_last_used": None,
            "password_policy": plain(dict(password_policy)) if password_policy else None,
            "password_policy_set": (password_policy is not None) if password_policy_known else None,
            "mfa_devices_in_use": None if devices is None else int(devices),
        },
    )


# -- live ---------------------------------------------------------------------------------


def units(ctx: Context) -> list[Unit]:
    """IAM is global: four units, whatever the number of regions."""
    ctx.finalise_with(lambda resources: _finalise(ctx, resources), ("IAMUser", "IAMAccessKey"))
    return [
        Unit("iam authorization details", AUTH_KINDS, lambda: _authorization(ctx)),
        Unit(
            "iam credential report",
            ("IAMCredentialReport", "IAMAccessKey"),
            lambda: _credential_report(ctx),
        ),
        Unit("iam account", ("IAMAccount",), lambda: _account(ctx)),
        Unit("iam server certificates", ("IAMServerCertificate",), lambda: _certificates(ctx)),
    ]


def _authorization(ctx: Context) -> list[Resource]:
    client = ctx.client("iam")
    with ctx.reading(*AUTH_KINDS):
        pages = ctx.pages(
            client,
            "get_account_authorization_details",
            marker_in="Marker",
            truncated_key="IsTruncated",
            MaxItems=_PAGE_SIZE,
        )
        merged = merge_authorization_pages(pages)
        resources, problems = normalise_details_lenient(merged, ctx.account)
        for kind, reason in problems.items():
            ctx.unknown(kind, reason)
        return resources
    return []


def _credential_report(ctx: Context) -> list[Resource]:
    client = ctx.client("iam")
    with ctx.reading("IAMCredentialReport"):
        answer = _fetch_report(ctx, client)
        rows = parse_credential_report(answer["Content"].decode("utf-8"))
        ctx.shared["iam.rows"] = rows
        return credential_resources(rows, ctx.account, iso(answer.get("GeneratedTime")), "api")
    # No report (denied, still generating, malformed): list keys per user instead.
    with ctx.reading("IAMAccessKey"):
        return _list_access_keys(ctx, client)
    return []


def _fetch_report(ctx: Context, client: Any) -> dict[str, Any]:
    """Generate the report (AWS reuses one younger than four hours), poll with a bounded
    backoff, then read it."""
    deadline = time.monotonic() + ctx.options.credential_report_wait
    delay = 0.2
    while True:
        state = (ctx.call(client, "generate_credential_report") or {}).get("State")
        if state == "COMPLETE":
            break
        if time.monotonic() + delay > deadline:
            raise AwsCallError(
                "iam:GenerateCredentialReport",
                f"iam:GenerateCredentialReport still {state or 'pending'} after "
                f"{ctx.options.credential_report_wait:g}s",
            )
        time.sleep(delay)
        delay = min(delay * 2, 4.0)
    answer = ctx.call(client, "get_credential_report") or {}
    if not isinstance(answer.get("Content"), bytes | bytearray):
        raise MalformedAnswer("iam:GetCredentialReport returned no content")
    return answer


def _list_access_keys(ctx: Context, client: Any) -> list[Resource]:
    resources = []
    for page in ctx.pages(client, "list_users", marker_in="Marker", truncated_key="IsTruncated"):
        for user in page.get("Users", []):
            resources.extend(_user_keys(ctx, client, user["UserName"], user.get("Arn", "")))
    return resources


def _user_keys(ctx: Context, client: Any, user_name: str, user_arn: str) -> list[Resource]:
    """One user's access keys, with ``ListAccessKeys`` and ``GetAccessKeyLastUsed``."""
    answer = ctx.call(client, "list_access_keys", UserName=user_name) or {}
    keys = sorted(answer.get("AccessKeyMetadata", []), key=lambda k: k["AccessKeyId"])
    seconds = [iso(key.get("CreateDate")) for key in keys]
    resources = []
    for key, created in zip(keys, seconds, strict=True):
        twins = [k for k, c in zip(keys, seconds, strict=True) if c == created]
        used = ctx.call(client, "get_access_key_last_used", AccessKeyId=key["AccessKeyId"])
        last = (used or {}).get("AccessKeyLastUsed", {})
        resources.append(
            access_key_resource(
                ctx.account,
                user_name=user_name,
                user_arn=user_arn,
                access_key_id=key["AccessKeyId"],
                slot=None,
                active=key.get("Status") == "Active",
                created=created,
                last_used_date=iso_day(last.get("LastUsedDate")),
                last_used_region=_present(last.get("Region")),
                last_used_service=_present(last.get("ServiceName")),
                source="list_access_keys",
                twin=twins.index(key) + 1 if created and len(twins) > 1 else None,
            )
        )
    return resources


def _finalise(ctx: Context, resources: list[Resource]) -> None:
    """Merge the report into users; list keys of users newer than the report (AWS keeps
    a report for up to four hours), so their keys are not silently missing."""
    rows = ctx.shared.get("iam.rows")
    merge_credentials(resources, rows)
    if rows is None:
        return
    reported = {row.get("arn") for row in rows}
    client = ctx.client("iam")
    for user in [r for r in resources if r.kind == "IAMUser" and r.uid not in reported]:
        with ctx.reading("IAMAccessKey"):
            resources.extend(_user_keys(ctx, client, user.attrs["user_name"], user.uid))


def _account(ctx: Context) -> list[Resource]:
    client = ctx.client("iam")
    summary = None
    policy = None
    known = False
    with ctx.reading("IAMAccount"):
        summary = (ctx.call(client, "get_account_summary") or {}).get("SummaryMap", {})
    with ctx.reading("IAMAccount"):
        answer = ctx.call(client, "get_account_password_policy", absent=("NoSuchEntity",))
        policy = (answer or {}).get("PasswordPolicy")
        known = True
    return [account_resource(ctx.account, ctx.partition, summary, policy, known)]


def _certificates(ctx: Context) -> list[Resource]:
    client = ctx.client("iam")
    resources = []
    with ctx.reading("IAMServerCertificate"):
        for page in ctx.pages(
            client, "list_server_certificates", marker_in="Marker", truncated_key="IsTruncated"
        ):
            for cert in page.get("ServerCertificateMetadataList", []):
                attrs = {
                    "name": cert["ServerCertificateName"],
                    "server_certificate_id": cert.get("ServerCertificateId"),
                    "arn": cert["Arn"],
                    "path": cert.get("Path", "/"),
                    "upload_date": iso(cert.get("UploadDate")),
                    "expiration": iso(cert.get("Expiration")),
                }
                resources.append(
                    Resource(
                        uid=cert["Arn"],
                        provider="aws",
                        scope=scope(ctx.account, GLOBAL),
                        kind="IAMServerCertificate",
                        name=cert["ServerCertificateName"],
                        attrs=attrs,
                        created_at=attrs["upload_date"],
                    )
                )
    return resources
