"""Role trust policies: who may assume a role, from inside or outside its account.

Two questions: which outsiders a trust policy admits (:func:`trust_grants`, for the
external-trust check), and whether one IAM principal of the inventory can assume one
role (:func:`can_assume`, for the identity graph's role chains). Within an account, a
trust statement naming the principal's own ARN (or ``*``) is enough by itself; one
naming the account (``arn:aws:iam::<account>:root`` or the bare id) also needs an
``sts:AssumeRole`` grant in the principal's identity policies. A Deny of
``sts:AssumeRole`` on the role in those policies stops both.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from postureapp.domain.aws.conditions import Holds
from postureapp.domain.aws.policy import (
    AttachedPolicy,
    _action_match,
    _condition_keys,
    _statements,
    allows,
    denied,
    holds,
)

ASSUME = "sts:AssumeRole"


@dataclass(frozen=True, slots=True)
class TrustGrant:
    """Who outside the account an ``Allow`` statement of a trust policy lets assume the role."""

    index: int
    sid: str | None
    principal: str  # "*", an account id or an ARN, or "NotPrincipal: ..."
    account: str | None  # the foreign account, None for "*"
    external_id: bool
    conditions: tuple[str, ...]

    @property
    def anyone(self) -> bool:
        return self.account is None


_ACCOUNT = re.compile(r"^\d{12}$")


def principal_account(value: str) -> str | None:
    """The account of an AWS principal value (an account id, or an IAM/STS ARN)."""
    if _ACCOUNT.match(value):
        return value
    parts = value.split(":")
    if len(parts) >= 5 and parts[0] == "arn" and parts[2] in ("iam", "sts"):
        return parts[4] or None
    return None


def trust_grants(document: dict[str, Any] | None, own_account: str) -> list[TrustGrant]:
    """Statements letting ``*`` or another account call ``sts:AssumeRole``. ``Service``
    and ``Federated`` principals are not cross-account; a principal value that is neither
    ``*``, an account nor an ARN (a unique id left by a deleted principal) is skipped."""
    grants = []
    for index, statement in _statements(document):
        if statement.get("Effect") != "Allow":
            continue
        if _action_match(statement, "sts:AssumeRole") is None:
            continue
        keys = _condition_keys(statement)
        external_id = any(key.lower() == "sts:externalid" for key in keys)
        sid = statement.get("Sid")
        if "NotPrincipal" in statement:
            excluded = sorted(
                value for values in statement["NotPrincipal"].values() for value in values
            )
            label = f"NotPrincipal: {', '.join(excluded)}"
            grants.append(TrustGrant(index, sid, label, None, external_id, keys))
            continue
        for value in (statement.get("Principal") or {}).get("AWS", []):
            if value == "*":
                grants.append(TrustGrant(index, sid, "*", None, external_id, keys))
                continue
            account = principal_account(value)
            if account is not None and account != own_account:
                grants.append(TrustGrant(index, sid, value, account, external_id, keys))
    return grants


@dataclass(frozen=True, slots=True)
class Assumption:
    """How a principal gets into a role: the trust statement, and the identity grant
    when the trust names only the account."""

    how: str
    conditional: bool

    def to_dict(self) -> dict[str, Any]:
        return {"how": self.how, "conditional": self.conditional}


def _names(value: str, principal_arn: str, principal_account: str) -> str | None:
    """How a trust policy's AWS principal value names the principal: "arn" (its own
    ARN, or a session of the role), "account" (its account), "anyone", or None."""
    if value == "*":
        return "anyone"
    if value == principal_arn:
        return "arn"
    if value in (principal_account, f"arn:aws:iam::{principal_account}:root") or (
        value.endswith(f":iam::{principal_account}:root")
    ):
        return "account"
    parts = principal_arn.split(":", 5)
    if len(parts) == 6 and parts[5].startswith("role/"):
        role_name = parts[5].rsplit("/", 1)[-1]
        session = f"arn:{parts[1]}:sts::{parts[4]}:assumed-role/{role_name}/"
        if value.startswith(session):
            return "arn"
    return None


def can_assume(
    trust: dict[str, Any] | None,
    role_arn: str,
    principal_arn: str,
    policies: Sequence[AttachedPolicy],
    now: datetime | None = None,
) -> Assumption | None:
    """Whether the principal (``principal_arn`` with its identity ``policies``) can
    assume the role, and how; None when it cannot."""
    own = principal_arn.split(":")[4] if principal_arn.count(":") >= 4 else ""
    role_account = role_arn.split(":")[4] if role_arn.count(":") >= 4 else ""
    if denied(policies, ASSUME, (role_arn,), now):
        return None
    for index, statement in _statements(trust):
        if statement.get("Effect") != "Allow" or _action_match(statement, ASSUME) is None:
            continue
        state = holds(statement, now)
        if state is Holds.NEVER or "NotPrincipal" in statement:
            continue
        sid = statement.get("Sid")
        label = f'trust statement "{sid}"' if sid else f"trust statement #{index}"
        for value in (statement.get("Principal") or {}).get("AWS", []):
            naming = _names(str(value), principal_arn, own)
            if naming is None:
                continue
            conditional = state is Holds.MAYBE
            if naming in ("arn", "anyone") and own == role_account:
                who = "names it" if naming == "arn" else "trusts *"
                return Assumption(f"{label} {who}", conditional)
            grants = allows(policies, ASSUME, (role_arn,), now=now)
            if grants:
                grant = grants[0]
                text = (
                    f"{label} trusts {value}; {grant.policy.label} {grant.statement} "
                    f"allows {ASSUME} on {grant.resource}"
                )
                return Assumption(text, conditional or bool(grant.conditions))
    return None
