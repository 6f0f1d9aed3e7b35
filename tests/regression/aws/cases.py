"""The AWS regression bank: dumps as ``aws iam get-account-authorization-details`` (and
``aws iam get-credential-report``) print them, each with the verdicts it must get.

A :class:`Bank` is a set of files (what ``posture collect --from`` reads) and labels;
the live scorer replays the same authorization details into moto's IAM. Banks:

* ``iam-vulnerable`` (``bank/iam-vulnerable/``): Bishop Fox's 31 paths and its tool
  tests (4 must flag, 5 must not), converted from its Terraform;
* ``rhino`` and ``prowler``: one role per published method or combination, allowed
  exactly its actions on ``*`` (:mod:`.catalogues`);
* ``semantics``: policies that read broad but grant nothing to escalate with (and a few
  that read narrow but do), written for this bank;
* ``three-state``: an SSO-only account (no users or groups), a ``--filter Role`` export,
  credential reports with their root row;
* ``formats``: the SSO-only dump saved with a byte-order mark and as UTF-16.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.regression.aws.catalogues import PROWLER, RHINO

ACCOUNT = "123456789012"
ESCALATION = "aws-iam-privilege-escalation"
ADMIN = "aws-iam-admin-policy"
ROOT_MFA = "aws-iam-root-mfa"
ROOT_KEYS = "aws-iam-root-access-keys"
BANK = Path(__file__).parent / "bank"
OUTSIDER = f"arn:aws:iam::{ACCOUNT}:user/terraform-runner"  # trusted, never in a dump
CREATED = "2025-09-11T00:00:00Z"


@dataclass
class Label:
    principal: str
    check: str
    expect: str  # fail | pass | unknown (the data is really not there)
    category: str
    case: str


@dataclass
class Bank:
    name: str
    details: dict[str, Any]
    labels: list[Label]
    report: str | None = None  # a credential report CSV
    live: bool = True  # can be replayed into moto (an export filter cannot)
    encode: Any = None  # bytes of details.json, when not plain UTF-8
    extra: dict[str, Any] = field(default_factory=dict)

    def files(self) -> dict[str, bytes]:
        text = json.dumps(self.details, indent=1)
        found = {"details.json": self.encode(text) if self.encode else text.encode()}
        if self.report is not None:
            found["report.csv"] = self.report.encode()
        return found


# -- builders ------------------------------------------------------------------------------


def _doc(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(*actions: str, resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": list(actions), "Resource": resource, **extra}


def deny(**body: Any) -> dict[str, Any]:
    return {"Effect": "Deny", **body}


def trust(*principals: str) -> dict[str, Any]:
    return _doc(
        {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"AWS": list(principals)}}
    )


def arn(kind: str, name: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:{kind}/{name}"


def role(
    name: str,
    *statements: dict[str, Any],
    attached: tuple[str, ...] = (),
    trusted: tuple[str, ...] = (OUTSIDER,),
) -> dict[str, Any]:
    inline = [{"PolicyName": "inline", "PolicyDocument": _doc(*statements)}] if statements else []
    return {
        "Path": "/",
        "RoleName": name,
        "RoleId": "AROA" + re.sub(r"[^A-Z0-9]", "", name.upper())[:17],
        "Arn": arn("role", name),
        "CreateDate": CREATED,
        "AssumeRolePolicyDocument": trust(*trusted),
        "InstanceProfileList": [],
        "RolePolicyList": inline,
        "AttachedManagedPolicies": [
            {"PolicyName": p.rsplit("/", 1)[-1], "PolicyArn": p} for p in attached
        ],
        "Tags": [],
        "RoleLastUsed": {},
        "MaxSessionDuration": 3600,
    }


def user(name: str, *statements: dict[str, Any]) -> dict[str, Any]:
    inline = [{"PolicyName": "inline", "PolicyDocument": _doc(*statements)}] if statements else []
    return {
        "Path": "/",
        "UserName": name,
        "UserId": "AIDA" + re.sub(r"[^A-Z0-9]", "", name.upper())[:17],
        "Arn": arn("user", name),
        "CreateDate": CREATED,
        "UserPolicyList": inline,
        "GroupList": [],
        "AttachedManagedPolicies": [],
        "Tags": [],
    }


def managed(name: str, *statements: dict[str, Any]) -> dict[str, Any]:
    return {
        "PolicyName": name,
        "PolicyId": "ANPA" + re.sub(r"[^A-Z0-9]", "", name.upper())[:17],
        "Arn": arn("policy", name),
        "Path": "/",
        "DefaultVersionId": "v1",
        "AttachmentCount": 1,
        "PermissionsBoundaryUsageCount": 0,
        "IsAttachable": True,
        "CreateDate": CREATED,
        "UpdateDate": CREATED,
        "PolicyVersionList": [
            {"Document": _doc(*statements), "VersionId": "v1", "IsDefaultVersion": True}
        ],
    }


def details(
    users: list[dict[str, Any]] = (),  # type: ignore[assignment]
    roles: list[dict[str, Any]] = (),  # type: ignore[assignment]
    policies: list[dict[str, Any]] = (),  # type: ignore[assignment]
) -> dict[str, Any]:
    return {
        "UserDetailList": list(users),
        "GroupDetailList": [],
        "RoleDetailList": list(roles),
        "Policies": list(policies),
    }


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9+=,.@_-]", "-", text).strip("-")[:60]


# -- banks ---------------------------------------------------------------------------------


def iam_vulnerable() -> Bank:
    folder = BANK / "iam-vulnerable"
    labels = json.loads((folder / "labels.json").read_text())["labels"]
    return Bank(
        "iam-vulnerable",
        json.loads((folder / "details.json").read_text()),
        [Label(**label) for label in labels],
    )


def _one_role_each(name: str, category: str, catalogue: dict[str, tuple[str, ...]]) -> Bank:
    roles, labels = [], []
    for key, actions in catalogue.items():
        role_name = _slug(f"{name}-{key}")
        roles.append(role(role_name, allow(*actions)))
        labels.append(Label(arn("role", role_name), ESCALATION, "fail", category, key))
    return Bank(name, details(roles=roles), labels)


def rhino() -> Bank:
    return _one_role_each("rhino", "Rhino Security Labs: 28 methods", RHINO)


def prowler() -> Bank:
    return _one_role_each("prowler", f"Prowler: {len(PROWLER)} combinations", PROWLER)


EXPIRED = {"DateLessThan": {"aws:TokenIssueTime": "2020-01-01T00:00:01Z"}}
MFA = {"Bool": {"aws:MultiFactorAuthPresent": "true"}}
ADMIN_ACCESS = "arn:aws:iam::aws:policy/AdministratorAccess"


def semantics() -> Bank:
    """Policies whose letter and effect differ (written for this bank)."""
    quiet = "policy semantics: must not flag"
    loud = "policy semantics: must flag"
    roles = [
        # Deny everything but one read: nothing is left to escalate or administer with.
        role(
            "sem-deny-notaction-one-left",
            allow("*"),
            deny(NotAction=["s3:GetObject"], Resource="*"),
        ),
        role(
            "sem-aws-owned-policy-version",
            allow("iam:CreatePolicyVersion", resource="arn:aws:iam::aws:policy/*"),
        ),
        role("sem-expired-token-condition", allow("iam:*", Condition=EXPIRED)),
        role("sem-passrole-alone", allow("iam:PassRole")),
        role(
            "sem-compute-without-passrole",
            allow("ec2:RunInstances", "lambda:CreateFunction", "lambda:InvokeFunction"),
        ),
        role("sem-read-only", allow("iam:Get*", "iam:List*", "ec2:Describe*", "s3:Get*")),
        role(
            "sem-passrole-to-empty-role",
            allow("iam:PassRole", resource=arn("role", "sem-empty")),
            allow("ec2:RunInstances"),
        ),
        role("sem-empty"),
        role("sem-chain-start", allow("sts:AssumeRole", resource=arn("role", "sem-chain-reader"))),
        role("sem-chain-reader", allow("s3:GetObject"), trusted=(arn("role", "sem-chain-start"),)),
        role(
            "sem-deny-iam-not-resource",
            allow("iam:*"),
            deny(Action=["iam:*"], NotResource=["arn:aws:s3:::logs/*"]),
        ),
        # Read narrow, escalate all the same.
        role("sem-conditional-mfa", allow("iam:CreatePolicyVersion", Condition=MFA)),
        role("sem-wildcard-actions", allow("iam:Pass*", "ec2:Run*")),
        role(
            "sem-not-resource-allow",
            {
                "Effect": "Allow",
                "Action": ["iam:AttachRolePolicy"],
                "NotResource": [arn("role", "break-glass")],
            },
        ),
        role("sem-chain-1", trusted=(arn("role", "sem-chain-entry"),), attached=(ADMIN_ACCESS,)),
        role("sem-chain-2", trusted=(arn("role", "sem-chain-entry-2"),)),
        role("sem-chain-entry", trusted=(arn("role", "sem-chain-3"),)),
        role("sem-chain-entry-2"),
        role("sem-chain-3", allow("sts:AssumeRole", resource=arn("role", "sem-chain-entry"))),
        role(
            "sem-other-users-keys",
            allow("iam:CreateAccessKey", resource=f"arn:aws:iam::{ACCOUNT}:user/*"),
        ),
        role(
            "sem-deny-may-apply",
            allow("iam:PutRolePolicy"),
            deny(
                Action=["iam:*"],
                Resource="*",
                Condition={"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}},
            ),
        ),
    ]
    users = [
        user(
            "sem-self-service",
            allow(
                "iam:CreateAccessKey",
                "iam:CreateLoginProfile",
                "iam:UpdateLoginProfile",
                resource=f"arn:aws:iam::{ACCOUNT}:user/${{aws:username}}",
            ),
        ),
    ]
    policies = [
        {**managed("AdministratorAccess", allow("*")), "Arn": ADMIN_ACCESS, "Path": "/"},
    ]
    expected = {
        "sem-deny-notaction-one-left": (quiet, "pass", "pass"),
        "sem-aws-owned-policy-version": (quiet, "pass", "pass"),
        "sem-expired-token-condition": (quiet, "pass", "pass"),
        "sem-passrole-alone": (quiet, "pass", None),
        "sem-compute-without-passrole": (quiet, "pass", None),
        "sem-read-only": (quiet, "pass", "pass"),
        "sem-passrole-to-empty-role": (quiet, "pass", None),
        "sem-chain-start": (quiet, "pass", None),
        "sem-deny-iam-not-resource": (quiet, "pass", None),
        "sem-conditional-mfa": (loud, "fail", None),
        "sem-wildcard-actions": (loud, "fail", None),
        "sem-not-resource-allow": (loud, "fail", None),
        "sem-chain-3": (loud, "fail", None),
        "sem-chain-entry": (loud, "fail", None),
        "sem-other-users-keys": (loud, "fail", None),
        "sem-deny-may-apply": (loud, "fail", None),
    }
    labels = []
    for name, (category, escalation, admin) in expected.items():
        labels.append(Label(arn("role", name), ESCALATION, escalation, category, name))
        if admin:
            labels.append(Label(arn("role", name), ADMIN, admin, category, name))
    labels.append(
        Label(arn("user", "sem-self-service"), ESCALATION, "pass", quiet, "sem-self-service")
    )
    return Bank("semantics", details(users=users, roles=roles, policies=policies), labels)


# A credential report: the root row and one user (columns as AWS writes them).
_HEADER = (
    "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,"
    "password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,"
    "access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,"
    "access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,"
    "access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,"
    "cert_1_last_rotated,cert_2_active,cert_2_last_rotated"
)


def report_csv(mfa: bool, key: bool) -> str:
    root = (
        f"<root_account>,arn:aws:iam::{ACCOUNT}:root,2019-01-01T00:00:00+00:00,not_supported,"
        f"2025-01-01T00:00:00+00:00,not_supported,not_supported,{str(mfa).lower()},"
        f"{str(key).lower()},{'2019-06-01T00:00:00+00:00' if key else 'N/A'},N/A,N/A,N/A,"
        "false,N/A,N/A,N/A,N/A,false,N/A,false,N/A"
    )
    return f"{_HEADER}\n{root}\n"


def sso_only(name: str, category: str) -> tuple[dict[str, Any], list[Label]]:
    """An account reached through IAM Identity Center: no users, no groups, two roles."""
    roles = [
        role(f"{name}-admin", allow("*")),
        role(f"{name}-reader", allow("s3:GetObject")),
    ]
    labels = [
        Label(arn("role", f"{name}-admin"), ADMIN, "fail", category, f"{name}: *:* role"),
        Label(arn("role", f"{name}-admin"), ESCALATION, "fail", category, f"{name}: *:* role"),
        Label(arn("role", f"{name}-reader"), ADMIN, "pass", category, f"{name}: reader"),
        Label(arn("role", f"{name}-reader"), ESCALATION, "pass", category, f"{name}: reader"),
    ]
    return details(roles=roles), labels


def three_state() -> list[Bank]:
    category = "three-state: empty and partial dumps"
    banks = []
    sso, labels = sso_only("sso", category)
    banks.append(Bank("sso-only", sso, labels))
    root = f"arn:aws:iam::{ACCOUNT}:root"
    report_labels = [
        Label(root, ROOT_MFA, "fail", category, "root row: no MFA, a key"),
        Label(root, ROOT_KEYS, "fail", category, "root row: no MFA, a key"),
    ]
    banks.append(
        Bank("sso-only+report", sso, labels + report_labels, report_csv(False, True), live=False)
    )
    good = [
        Label(root, ROOT_MFA, "pass", category, "root row: MFA, no key"),
        Label(root, ROOT_KEYS, "pass", category, "root row: MFA, no key"),
    ]
    banks.append(
        Bank("sso-only+good-report", sso, labels + good, report_csv(True, False), live=False)
    )
    # `aws iam get-account-authorization-details --filter Role`: roles only.
    roles = [
        role("export-inline-admin", allow("*")),
        role("export-administrator-access", attached=(ADMIN_ACCESS,)),
        role("export-read-only", attached=("arn:aws:iam::aws:policy/ReadOnlyAccess",)),
        role("export-customer-policy", attached=(arn("policy", "not-in-the-export"),)),
    ]
    export = [
        Label(
            arn("role", "export-inline-admin"), ADMIN, "fail", category, "--filter Role: inline *:*"
        ),
        Label(
            arn("role", "export-inline-admin"),
            ESCALATION,
            "fail",
            category,
            "--filter Role: inline *:*",
        ),
        Label(
            arn("role", "export-administrator-access"),
            ADMIN,
            "fail",
            category,
            "--filter Role: AdministratorAccess",
        ),
        Label(
            arn("role", "export-administrator-access"),
            ESCALATION,
            "fail",
            category,
            "--filter Role: AdministratorAccess",
        ),
        Label(
            arn("role", "export-read-only"),
            ADMIN,
            "pass",
            category,
            "--filter Role: ReadOnlyAccess",
        ),
        Label(
            arn("role", "export-read-only"),
            ESCALATION,
            "pass",
            category,
            "--filter Role: ReadOnlyAccess",
        ),
        Label(
            arn("role", "export-customer-policy"),
            ESCALATION,
            "unknown",
            category,
            "--filter Role: customer policy",
        ),
    ]
    banks.append(Bank("roles-only", {"RoleDetailList": roles}, export, live=False))
    return banks


def formats() -> list[Bank]:
    category = "formats: BOM and UTF-16"
    encodings = {
        "utf-8 with BOM": lambda text: b"\xef\xbb\xbf" + text.encode("utf-8"),
        "utf-16 (PowerShell >)": lambda text: text.encode("utf-16"),
        "utf-16-le without BOM": lambda text: text.encode("utf-16-le"),
    }
    banks = []
    for label, encode in encodings.items():
        name = _slug(label.split(" ")[0])
        data, labels = sso_only(f"fmt-{name}", category)
        for item in labels:
            item.case = f"{label}: {item.case}"
        banks.append(Bank(f"format {label}", data, labels, live=False, encode=encode))
    return banks


def all_banks() -> list[Bank]:
    return [iam_vulnerable(), rhino(), prowler(), semantics(), *three_state(), *formats()]
