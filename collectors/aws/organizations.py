"""An AWS organisation: its accounts listed from the management account (or a delegated
administrator), each collected as its own target through a role assumed there.

The organisation target (provider ``aws-organizations``, named after the profile that
holds the source credentials) is *discovery*: ``organizations:DescribeOrganization``,
``ListAccounts`` (every page) and the OU tree (``ListRoots``,
``ListOrganizationalUnitsForParent``, ``ListAccountsForParent``: calls grow with the OUs,
not the accounts). Its run records, in the management account's ``<id>/global`` scope,
one ``AWSOrganization``, every ``AWSOrganizationalUnit`` and every ``AWSAccount``
(id, name, status, OU path, and whether and how it is collected), so views can label
targets. It then hands the engine one ``aws`` target per selected account (see
:mod:`.assume`): the engine collects them in the same poll, bounded like every target.

Which accounts: ACTIVE ones (a suspended account is recorded, never collected), under
``include_ous`` if given, not under ``exclude_ous``, not in ``exclude_accounts``. Of
those, this process collects, with ``only_accounts`` (``posture collect --target``),
just those; with ``shard`` ``[i, n]`` (``posture collect --shard i/n``) those whose id
modulo ``n`` is ``i`` — stable when accounts come and go. The caller's own account is
read with the source credentials; every other through ``role_name`` (default
``OrganizationAccountAccessRole``, session name ``postureapp``, ``external_id`` if set).

Failures: a throttled call is retried (botocore's adaptive mode); a denied or failed
``ListAccounts`` fails this target with the permission named, and with no account list
every AWS finding is unknown (``Inventory.blind_providers``), so nothing in a member
account can look resolved. A member account whose role cannot be assumed is a failed run
of its own, in its own scope: the rest of the organisation is still judged.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from postureapp.collectors.aws._common import AwsCallError, partition_of_arn
from postureapp.collectors.aws._context import Context
from postureapp.collectors.aws.collector import DEFAULT_REGION, default_session, parse_options
from postureapp.collectors.base import CollectResult, RunRecorder
from postureapp.model import Resource, Target

log = logging.getLogger(__name__)

PROVIDER_KEY = "aws-organizations"  # the engine's key for this collector
KINDS = ("AWSOrganization", "AWSOrganizationalUnit", "AWSAccount")
DEFAULT_ROLE = "OrganizationAccountAccessRole"
# Options of the organisation target itself; the rest are handed to every account.
_OWN = ("role_name", "include_ous", "exclude_ous", "exclude_accounts", "only_accounts", "shard")

SessionFactory = Callable[[str | None], Any]


@dataclass(frozen=True)
class Selection:
    """Which accounts of the organisation to collect."""

    role_name: str = DEFAULT_ROLE
    include_ous: tuple[str, ...] = ()
    exclude_ous: tuple[str, ...] = ()
    exclude_accounts: frozenset[str] = frozenset()
    only_accounts: frozenset[str] = frozenset()
    shard: tuple[int, int] | None = None

    def why_not(self, account: Mapping[str, Any], ou_chain: Sequence[tuple[str, str]]) -> str:
        """Why an account is left out ("" when it is collected). ``ou_chain`` is its
        parents from the root down, as (id, path)."""
        ident = str(account.get("Id", ""))
        status = str(account.get("Status", ""))
        if status != "ACTIVE":
            return f"status {status or 'unknown'}"
        if ident in self.exclude_accounts:
            return "in fleet.aws_exclude_accounts"
        if self.include_ous and not _under(ou_chain, self.include_ous):
            return "not under fleet.aws_include_ous"
        if self.exclude_ous and _under(ou_chain, self.exclude_ous):
            return "under fleet.aws_exclude_ous"
        return ""

    def here(self, ident: str) -> bool:
        """Whether this process collects a fleet account (``--target``, ``--shard``).
        Not recorded in ``AWSAccount``: every part says the same of the fleet, and
        ``posture merge`` reads "collected" as "still in the fleet"."""
        if self.only_accounts and ident not in self.only_accounts:
            return False
        return self.shard is None or int(ident) % self.shard[1] == self.shard[0]


def _under(chain: Sequence[tuple[str, str]], wanted: Iterable[str]) -> bool:
    names = {w.strip("/").lower() for w in wanted}
    return any(ident.lower() in names or path.strip("/").lower() in names for ident, path in chain)


def parse_selection(raw: Mapping[str, Any]) -> Selection:
    """The organisation target's own options; a ValueError names the wrong one."""

    def strings(name: str) -> tuple[str, ...]:
        value = raw.get(name) or ()
        if isinstance(value, str):
            value = [value]
        if not all(isinstance(v, str) and v for v in value):
            raise ValueError(f"option {name!r} must be a list of names")
        return tuple(value)

    for name in ("exclude_accounts", "only_accounts"):
        bad = [a for a in strings(name) if not (a.isdigit() and len(a) == 12)]
        if bad:
            raise ValueError(f"option {name!r}: not a 12-digit account id: {', '.join(bad)}")
    shard = raw.get("shard")
    if shard is not None:
        index, count = (int(part) for part in shard)
        if not 0 <= index < count:
            raise ValueError(f"shard {index}/{count}: the index must be from 0 to {count - 1}")
        shard = (index, count)
    role = str(raw.get("role_name") or DEFAULT_ROLE)
    return Selection(
        role_name=role,
        include_ous=strings("include_ous"),
        exclude_ous=strings("exclude_ous"),
        exclude_accounts=frozenset(strings("exclude_accounts")),
        only_accounts=frozenset(strings("only_accounts")),
        shard=shard,
    )


def split_options(raw: Mapping[str, Any]) -> tuple[Selection, dict[str, Any]]:
    """The organisation's own options, validated, and those handed to every account.

    Raises:
        ValueError: an option is wrong (named).
    """
    own = {key: raw[key] for key in _OWN if key in raw}
    shared = {key: value for key, value in raw.items() if key not in _OWN}
    return parse_selection(own), shared


def organization_targets(profiles: Sequence[str], options: Mapping[str, Any]) -> list[Target]:
    """One organisation target per profile holding management (or delegated
    administrator) credentials; ``"default"`` is the default credential chain."""
    names = list(dict.fromkeys(p for p in profiles if p)) or ["default"]
    return [Target(provider=PROVIDER_KEY, name=name, options=dict(options)) for name in names]


@dataclass
class _Tree:
    """The OU tree: each account's chain of parents (id, path) from the root down."""

    units: list[dict[str, Any]] = field(default_factory=list)
    chain: dict[str, list[tuple[str, str]]] = field(default_factory=dict)


class OrganizationsCollector:
    """Discovers an organisation's accounts; never raises (``postureapp.collectors.base``)."""

    name = PROVIDER_KEY
    provider = "aws"

    def __init__(self, session_factory: SessionFactory | None = None) -> None:
        self._session_factory = session_factory or default_session

    def collect(self, target: Target) -> CollectResult:
        recorder = RunRecorder(collector=self.name, target=target.name, provider="aws")
        calls: Counter[str] = Counter()
        resources: list[Resource] = []
        discovered: list[Target] = []
        try:
            resources, discovered = self._collect(target, recorder, calls)
        except Exception as exc:  # the contract: a collector never raises past the engine
            log.exception("organisation discovery failed on %s", target.label)
            recorder.fail(f"unexpected error: {type(exc).__name__}: {exc}")
            discovered = []
        recorder.call(sum(calls.values()))
        return CollectResult(resources, recorder.finish(len(resources)), discovered)

    def _collect(
        self, target: Target, recorder: RunRecorder, calls: Counter[str]
    ) -> tuple[list[Resource], list[Target]]:
        try:
            selection, shared = split_options(target.options)
            options = parse_options(shared)
        except (TypeError, ValueError) as exc:
            recorder.fail(str(exc))
            return [], []
        profile = None if target.name in ("", "default") else target.name
        try:
            session = self._session_factory(profile)
        except Exception as exc:  # ProfileNotFound and kin: this target cannot start
            recorder.fail(f"cannot open an AWS session for {target.name}: {exc}")
            return [], []
        # Organizations answers in us-east-1 (the aws partition's home region).
        ctx = Context(session, "", "aws", options, DEFAULT_REGION, calls=calls)
        try:
            identity = ctx.call(ctx.client("sts"), "get_caller_identity") or {}
            caller = str(identity.get("Account", ""))
            ctx.partition = partition_of_arn(str(identity.get("Arn", "")))
            organization = (ctx.call(ctx.client("organizations"), "describe_organization") or {})[
                "Organization"
            ]
            accounts = [
                account
                for page in ctx.pages(
                    ctx.client("organizations"), "list_accounts", marker_in="NextToken"
                )
                for account in page.get("Accounts", [])
            ]
        except AwsCallError as exc:
            recorder.fail(_listing_failed(exc))
            return [], []
        except (KeyError, TypeError) as exc:
            recorder.fail(f"organizations: malformed answer ({type(exc).__name__}: {exc})")
            return [], []
        management = str(organization.get("MasterAccountId", ""))
        recorder.scope = management
        tree = self._tree(ctx, recorder, selection)
        if tree is None:
            return [], []
        scope = f"{management}/global"
        resources = [_organization(organization, scope)]
        resources += [_unit(unit, scope) for unit in tree.units]
        discovered: list[Target] = []
        for account in sorted(accounts, key=lambda a: str(a.get("Id", ""))):
            ident = str(account.get("Id", ""))
            chain = tree.chain.get(ident, [])
            reason = selection.why_not(account, chain)
            if not reason and selection.here(ident):
                discovered.append(
                    _account_target(ident, profile, caller, ctx.partition, selection, shared)
                )
            resources.append(_account(account, scope, chain, management, caller, reason))
        for ident in sorted(selection.only_accounts - {t.name for t in discovered}):
            recorder.mark_unknown(
                "AWSAccount",
                f"--target {ident}: not an active, selected account of the organisation",
            )
        for kind in KINDS:
            if kind not in recorder.unknown:
                recorder.mark_read(kind)
        return resources, discovered

    def _tree(self, ctx: Context, recorder: RunRecorder, selection: Selection) -> _Tree | None:
        """Walk the OU tree; without it, OU filters cannot be honoured (the run fails)
        and OU paths are unknown (the accounts are still collected)."""
        tree = _Tree()
        client = ctx.client("organizations")
        try:
            roots = ctx.call(client, "list_roots") or {}
            stack: list[tuple[str, str, list[tuple[str, str]]]] = [
                (root["Id"], "Root", []) for root in roots.get("Roots", [])
            ]
            while stack:
                parent, path, chain = stack.pop()
                chain = [*chain, (parent, path)]
                for page in ctx.pages(
                    client, "list_accounts_for_parent", marker_in="NextToken", ParentId=parent
                ):
                    for account in page.get("Accounts", []):
                        tree.chain[str(account["Id"])] = chain
                for page in ctx.pages(
                    client,
                    "list_organizational_units_for_parent",
                    marker_in="NextToken",
                    ParentId=parent,
                ):
                    for unit in page.get("OrganizationalUnits", []):
                        unit_path = f"{path}/{unit.get('Name', unit['Id'])}"
                        tree.units.append({**unit, "Path": unit_path, "ParentId": parent})
                        stack.append((unit["Id"], unit_path, chain))
        except (AwsCallError, KeyError, TypeError) as exc:
            reason = exc.reason if isinstance(exc, AwsCallError) else f"malformed answer: {exc}"
            if selection.include_ous or selection.exclude_ous:
                recorder.fail(
                    f"cannot read the OU tree for fleet.aws_include_ous/aws_exclude_ous: {reason}"
                )
                return None
            recorder.mark_unknown("AWSOrganizationalUnit", f"OU paths unknown: {reason}")
            tree.chain.clear()
        return tree


def _listing_failed(error: AwsCallError) -> str:
    if error.credentials:
        return (
            f"AWS credentials for the organisation are missing, expired or invalid: "
            f"{error.reason}. Refresh them or pick another profile"
        )
    if "AWSOrganizationsNotInUse" in error.reason:
        return f"{error.reason}: these credentials' account is not in an AWS organisation"
    return (
        f"cannot list the organisation's accounts: {error.reason}. Run from the management "
        "account or a delegated administrator, with organizations:DescribeOrganization, "
        "ListAccounts, ListRoots, ListOrganizationalUnitsForParent and ListAccountsForParent "
        '(README, "AWS Organizations permissions")'
    )


def _account_target(
    ident: str,
    profile: str | None,
    caller: str,
    partition: str,
    selection: Selection,
    shared: Mapping[str, Any],
) -> Target:
    options = {**shared, "account": ident, "source_profile": profile}
    if ident != caller:
        options["role_arn"] = f"arn:{partition}:iam::{ident}:role/{selection.role_name}"
    return Target(provider="aws", name=ident, options=options)


def _organization(organization: Mapping[str, Any], scope: str) -> Resource:
    """Kind ``AWSOrganization``: attrs ``{id, management_account_id, feature_set}``."""
    ident = str(organization.get("Id", ""))
    return Resource(
        uid=str(organization.get("Arn") or f"aws://organization/{ident}"),
        provider="aws",
        scope=scope,
        kind="AWSOrganization",
        name=ident,
        attrs={
            "id": ident,
            "management_account_id": str(organization.get("MasterAccountId", "")),
            "feature_set": str(organization.get("FeatureSet", "")),
        },
    )


def _unit(unit: Mapping[str, Any], scope: str) -> Resource:
    """Kind ``AWSOrganizationalUnit``: attrs ``{id, path, parent_id}``."""
    return Resource(
        uid=str(unit.get("Arn") or f"aws://organizational-unit/{unit['Id']}"),
        provider="aws",
        scope=scope,
        kind="AWSOrganizationalUnit",
        name=str(unit.get("Name", unit["Id"])),
        attrs={"id": str(unit["Id"]), "path": unit["Path"], "parent_id": str(unit["ParentId"])},
    )


def _account(
    account: Mapping[str, Any],
    scope: str,
    chain: Sequence[tuple[str, str]],
    management: str,
    caller: str,
    reason: str,
) -> Resource:
    """Kind ``AWSAccount``: attrs ``{account_id, name, status, ou_id, ou_path,
    management, collected, collected_as, not_collected}`` (the e-mail is left out)."""
    from postureapp.dates import from_any

    ident = str(account.get("Id", ""))
    ou_id, ou_path = chain[-1] if chain else (None, None)
    return Resource(
        uid=str(account.get("Arn") or f"aws://account/{ident}"),
        provider="aws",
        scope=scope,
        kind="AWSAccount",
        name=str(account.get("Name") or ident),
        created_at=from_any(account.get("JoinedTimestamp")),
        attrs={
            "account_id": ident,
            "name": str(account.get("Name") or ""),
            "status": str(account.get("Status") or ""),
            "ou_id": ou_id,
            "ou_path": ou_path,
            "management": ident == management,
            "collected": not reason,
            "collected_as": "" if reason else ("caller" if ident == caller else "role"),
            "not_collected": reason,
        },
    )


# What the identity running ``posture collect --organization`` needs in the management
# (or delegated administrator) account; every member account needs the role of
# deploy/aws/member-role.yaml. README ("AWS Organizations permissions") carries it, and a
# test keeps the two equal.
ORGANIZATION_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "PostureListTheOrganization",
            "Effect": "Allow",
            "Action": [
                "organizations:DescribeOrganization",
                "organizations:ListAccounts",
                "organizations:ListAccountsForParent",
                "organizations:ListOrganizationalUnitsForParent",
                "organizations:ListRoots",
            ],
            "Resource": "*",
        },
        {
            "Sid": "PostureReadEveryMemberAccount",
            "Effect": "Allow",
            "Action": "sts:AssumeRole",
            "Resource": "arn:aws:iam::*:role/PostureAppReader",
        },
    ],
}
ORGANIZATION_POLICY_JSON = json.dumps(ORGANIZATION_POLICY, indent=2)
