"""IAM policy documents: which statements of a principal's policies allow what.

This is deliberately *not* the whole IAM evaluation engine. It answers one question for
the identity checks -- "does some statement of this principal's identity policies allow
action A on (nearly) any resource?" -- and errs on the side of reporting:

* **Wildcards.** ``Action`` patterns (``*``, ``iam:*``, ``iam:Attach*``, ``*:*``) match
  case-insensitively, ``Resource`` patterns case-sensitively; ``?`` matches one character.
  A resource is "any" when a pattern matches *canary* ARNs standing for arbitrary
  resources (a role, a user... of the principal's own account), so ``*``,
  ``arn:aws:iam::*:role/*`` and ``arn:aws:iam::<own account>:*`` all count.
* **Conditions** on an ``Allow`` do not stop a match: they are reported with it, unless
  they can never hold now (:mod:`postureapp.domain.aws.conditions`: a ``DateLessThan``
  on ``aws:TokenIssueTime`` or ``aws:CurrentTime`` in the past), when the statement is
  ignored.
* **NotAction / NotResource** on an ``Allow`` grant everything they do not exclude: an
  ``Allow`` with ``NotAction`` matches an action unless one of its patterns covers it.
* **Explicit Deny** in the same principal's identity policies (its own, or its groups')
  cancels a grant when it surely applies: no condition (or one that always holds now),
  ``Action`` covering the action or ``NotAction`` excluding none of it, ``Resource``
  covering the canaries or ``NotResource`` exempting none of them. A Deny that may not
  apply (a condition on the caller) cancels nothing. Permission boundaries, SCPs,
  resource and session policies are not evaluated, so a finding can only be a false
  positive, never a false negative. Permission boundaries are named in the finding.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from postureapp.domain.aws.conditions import Holds, evaluate
from postureapp.domain.aws.managed import known_document
from postureapp.domain.aws.scopes import PROVIDER, account_of
from postureapp.facts import facts_of
from postureapp.facts.aws import (
    IAMGroupFacts,
    IAMPolicyFacts,
    IAMRoleFacts,
    IAMUserFacts,
    PolicyHolderFacts,
)
from postureapp.inventory import Inventory
from postureapp.model import Resource, utcnow


@dataclass(frozen=True, slots=True)
class AttachedPolicy:
    """One identity policy in effect for a principal."""

    name: str
    arn: str | None  # None for an inline policy
    via_group: str | None  # the group a user inherits it from
    document: dict[str, Any]
    aws_managed: bool = False

    @property
    def label(self) -> str:
        if self.arn is None:
            kind = "inline policy"
        elif self.aws_managed:
            kind = "AWS-managed policy"
        else:
            kind = "managed policy"
        where = f'group "{self.via_group}" ' if self.via_group else ""
        return f'{where}{kind} "{self.name}"'


@dataclass(frozen=True, slots=True)
class Match:
    """A statement that allows the action asked about."""

    policy: AttachedPolicy
    index: int
    sid: str | None
    action: str  # the pattern that matched, or "NotAction: a, b"
    resource: str  # the resource pattern that matched, or "NotResource: x"
    conditions: tuple[str, ...]  # condition keys, when the Allow is conditional

    @property
    def statement(self) -> str:
        return f'statement "{self.sid}"' if self.sid else f"statement #{self.index}"

    def describe(self, what: str) -> str:
        """One line naming the policy, the statement and the grant, e.g. ``AWS-managed
        policy "AdministratorAccess" statement #0 allows * on *``."""
        text = f"{self.policy.label} {self.statement} allows {what}"
        if self.action.startswith("NotAction"):
            text += f" ({self.action})"
        elif _normal_action(self.action).lower() != _normal_action(what).lower():
            text += f" (Action {self.action})"
        text += f" on {self.resource}"
        if self.conditions:
            text += f" (conditional on {', '.join(self.conditions)})"
        return text

    def evidence(self) -> dict[str, Any]:
        return {
            "policy": self.policy.name,
            "policy_arn": self.policy.arn,
            "via_group": self.policy.via_group,
            "statement": self.index,
            "sid": self.sid,
            "action": self.action,
            "resource": self.resource,
            "conditional": bool(self.conditions),
        }


# -- patterns ------------------------------------------------------------------------------


@lru_cache(maxsize=4096)
def _glob(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    """IAM wildcards only: ``*`` is any run of characters, ``?`` one character."""
    body = "".join(
        ".*" if char == "*" else "." if char == "?" else re.escape(char) for char in pattern
    )
    return re.compile(body, re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL)


def _normal_action(pattern: str) -> str:
    return "*" if pattern.strip() in ("*", "*:*") else pattern.strip()


def action_covers(pattern: str, action: str) -> bool:
    """Does an Action pattern cover ``action``? ``action`` may itself be a wildcard
    (``iam:*``): the pattern then has to cover all of it (``*`` or ``iam:*``, not
    ``iam:Get*``)."""
    return bool(_glob(_normal_action(pattern), True).fullmatch(_normal_action(action)))


def resource_covers(pattern: str, arn: str) -> bool:
    return bool(_glob(pattern, False).fullmatch(arn))


@lru_cache(maxsize=8192)
def common_arn(first: str, second: str) -> str | None:
    """A concrete string both IAM globs match (wildcards filled in), or None when no
    string matches both: ``arn:aws:iam::*:policy/app-*`` and the own account's policy
    space meet; ``arn:aws:iam::aws:policy/*`` (AWS-owned) and it do not."""
    memo: dict[tuple[int, int], str | None] = {}

    def walk(i: int, j: int) -> str | None:
        key = (i, j)
        if key in memo:
            return memo[key]
        result: str | None = None
        if i == len(first) and j == len(second):
            result = ""
        elif i < len(first) and first[i] == "*":
            result = walk(i + 1, j)
            if result is None and j < len(second):
                tail = walk(i, j + 1)
                if tail is not None:
                    result = _filled(second[j]) + tail
        elif j < len(second) and second[j] == "*":
            result = walk(i, j + 1)
            if result is None and i < len(first):
                tail = walk(i + 1, j)
                if tail is not None:
                    result = _filled(first[i]) + tail
        elif i < len(first) and j < len(second):
            a, b = first[i], second[j]
            if a == b or a == "?" or b == "?":
                tail = walk(i + 1, j + 1)
                if tail is not None:
                    result = (b if a == "?" else a).replace("?", "x") + tail
        memo[key] = result
        return result

    return walk(0, 0)


def _filled(char: str) -> str:
    return "x" if char in "*?" else char


def canaries(principal: Resource, *kinds: str) -> tuple[str, ...]:
    """ARNs standing for "any resource of this kind" in the principal's own account and
    partition; ``"any"`` stands for a resource of an unrelated service."""
    account = account_of(principal)
    partition = principal.uid.split(":", 2)[1] if principal.uid.startswith("arn:") else "aws"
    arns = {
        "any": f"arn:{partition}:s3:::posture-canary-bucket/object",
        "role": f"arn:{partition}:iam::{account}:role/posture-canary-role",
        "user": f"arn:{partition}:iam::{account}:user/posture-canary-user",
        "policy": f"arn:{partition}:iam::{account}:policy/posture-canary-policy",
        "group": f"arn:{partition}:iam::{account}:group/posture-canary-group",
    }
    return tuple(arns[kind] for kind in kinds)


# -- statements ----------------------------------------------------------------------------


def _statements(document: dict[str, Any] | None) -> Iterable[tuple[int, dict[str, Any]]]:
    for index, statement in enumerate((document or {}).get("Statement") or []):
        if isinstance(statement, dict):
            yield index, statement


def _condition_keys(statement: dict[str, Any]) -> tuple[str, ...]:
    condition = statement.get("Condition")
    if not isinstance(condition, dict):
        return ()
    keys: set[str] = set()
    for block in condition.values():
        if isinstance(block, dict):
            keys.update(str(key) for key in block)
    return tuple(sorted(keys))


def _resource_match(statement: dict[str, Any], arns: Sequence[str]) -> str | None:
    """The resource pattern that covers every one of ``arns``, or None."""
    if "NotResource" in statement:
        excluded = statement.get("NotResource") or []
        hit = [arn for arn in arns if any(resource_covers(p, arn) for p in excluded)]
        return None if hit else f"NotResource: {', '.join(excluded)}"
    for pattern in statement.get("Resource") or []:
        if all(resource_covers(pattern, arn) for arn in arns):
            return pattern
    return None


def _action_match(statement: dict[str, Any], action: str) -> str | None:
    if "NotAction" in statement:
        excluded = statement.get("NotAction") or []
        if any(_overlaps(pattern, action) for pattern in excluded):
            return None
        return f"NotAction: {', '.join(excluded)}"
    for pattern in statement.get("Action") or []:
        if action_covers(pattern, action):
            return pattern
    return None


def _overlaps(pattern: str, action: str) -> bool:
    """Could ``pattern`` exclude any part of ``action``? (Conservative: a partial overlap
    counts, so a NotAction statement is *not* taken to grant the whole of a wildcard.)"""
    if action_covers(pattern, action):
        return True
    if "*" not in action and "?" not in action:
        return False  # a single action is excluded only by a pattern covering it
    if action_covers(action, pattern):
        return True
    p_service, _, p_name = _normal_action(pattern).partition(":")
    a_service, _, a_name = _normal_action(action).partition(":")
    same_service = action_covers(p_service, a_service) or action_covers(a_service, p_service)
    return same_service and ("*" in p_name or "*" in a_name or "?" in p_name)


def holds(statement: dict[str, Any], now: datetime | None) -> Holds:
    """Whether a statement's condition can hold at ``now`` (see :mod:`.conditions`)."""
    return evaluate(statement.get("Condition"), now or utcnow())


def deny_covers_action(statement: dict[str, Any], action: str) -> bool:
    """Does a Deny take away all of ``action`` (which may be a wildcard)?"""
    if "NotAction" in statement:
        return not any(_overlaps(p, action) for p in statement.get("NotAction") or [])
    return any(action_covers(p, action) for p in statement.get("Action") or [])


def deny_covers_resources(statement: dict[str, Any], arns: Sequence[str]) -> str | None:
    """The resource pattern by which a Deny covers every one of ``arns`` (``()``: any
    resource, so only a Deny on every resource counts), or None."""
    if "NotResource" in statement:
        excluded = statement.get("NotResource") or []
        probe = arns or ("arn:aws:posture-service:posture-region:000000000000:any",)
        if any(resource_covers(p, arn) for p in excluded for arn in probe):
            return None
        return f"NotResource: {', '.join(excluded)}"
    for pattern in statement.get("Resource") or []:
        if pattern == "*" or (arns and all(resource_covers(pattern, arn) for arn in arns)):
            return pattern
    return None


def denied(
    policies: Sequence[AttachedPolicy],
    action: str,
    arns: Sequence[str] = (),
    now: datetime | None = None,
) -> Match | None:
    """The first Deny that surely takes ``action`` away on every one of ``arns`` (see
    the module docstring for what "surely" means)."""
    for policy in policies:
        for index, statement in _statements(policy.document):
            if statement.get("Effect") != "Deny" or holds(statement, now) is not Holds.ALWAYS:
                continue
            if not deny_covers_action(statement, action):
                continue
            resource = deny_covers_resources(statement, arns)
            if resource is None:
                continue
            pattern = (
                f"NotAction: {', '.join(statement.get('NotAction') or [])}"
                if "NotAction" in statement
                else next(p for p in statement.get("Action") or [] if action_covers(p, action))
            )
            return Match(policy, index, statement.get("Sid"), pattern, resource, ())
    return None


def allows(
    policies: Sequence[AttachedPolicy],
    action: str,
    arns: Sequence[str],
    *,
    not_action: bool = True,
    now: datetime | None = None,
) -> list[Match]:
    """``Allow`` statements granting ``action`` on every one of ``arns``, unless a Deny
    in the same policies surely takes the action away.

    Args:
        action: an action, or a wildcard standing for all of a service (``iam:*``) or
            everything (``*``).
        arns: canary ARNs (:func:`canaries`) the statement's resources must all cover.
        not_action: whether ``Allow`` + ``NotAction`` statements count; for ``*`` they
            never cover the action literally, so callers ask about them separately.
        now: the moment time conditions are judged at (default: now).
    """
    if denied(policies, action, arns, now):
        return []
    found = []
    for policy in policies:
        for index, statement in _statements(policy.document):
            if statement.get("Effect") != "Allow":
                continue
            if "NotAction" in statement and not not_action:
                continue
            if holds(statement, now) is Holds.NEVER:
                continue
            matched_action = _action_match(statement, action)
            if matched_action is None:
                continue
            matched_resource = _resource_match(statement, arns)
            if matched_resource is None:
                continue
            found.append(
                Match(
                    policy,
                    index,
                    statement.get("Sid"),
                    matched_action,
                    matched_resource,
                    _condition_keys(statement),
                )
            )
    return found


def not_action_allows(
    policies: Sequence[AttachedPolicy], arns: Sequence[str], now: datetime | None = None
) -> list[Match]:
    """``Allow`` + ``NotAction`` statements on every one of ``arns``: "everything except
    a few actions", which is reported as broad as it reads (unless a Deny surely takes
    IAM away: without it nothing is administered)."""
    if denied(policies, "*", arns, now) or denied(policies, "iam:*", arns, now):
        return []
    found = []
    for policy in policies:
        for index, statement in _statements(policy.document):
            if statement.get("Effect") != "Allow" or "NotAction" not in statement:
                continue
            if holds(statement, now) is Holds.NEVER:
                continue
            matched_resource = _resource_match(statement, arns)
            if matched_resource is None:
                continue
            excluded = ", ".join(statement.get("NotAction") or [])
            found.append(
                Match(
                    policy,
                    index,
                    statement.get("Sid"),
                    f"NotAction: {excluded}",
                    matched_resource,
                    _condition_keys(statement),
                )
            )
    return found


# -- principals ----------------------------------------------------------------------------


class Principals:
    """The identity policies in effect for each IAM user, group and role of an inventory."""

    def __init__(self, inv: Inventory) -> None:
        self.inv = inv
        self._groups: dict[tuple[str, str], Resource] = {
            (
                account_of(group),
                facts_of(group, IAMGroupFacts).get("group_name") or group.name,
            ): group
            for group in inv.of(PROVIDER, "IAMGroup")
        }

    def all(self) -> list[Resource]:
        """Users, groups and roles, service-linked roles excluded (AWS owns and scopes
        their policies; nobody can change them)."""
        found = []
        for kind in ("IAMUser", "IAMGroup", "IAMRole"):
            for principal in self.inv.of(PROVIDER, kind):
                if kind == "IAMRole" and facts_of(principal, IAMRoleFacts).get("service_linked"):
                    continue
                found.append(principal)
        return sorted(found, key=lambda r: (r.kind, r.uid))

    def policies(self, principal: Resource) -> tuple[list[AttachedPolicy], list[str]]:
        """The principal's policies (a user's include its groups'), and what could not be
        read: managed policies or groups missing from the inventory."""
        policies: list[AttachedPolicy] = []
        missing: list[str] = []
        self._own(principal, None, policies, missing)
        if principal.kind == "IAMUser":
            for name in facts_of(principal, IAMUserFacts).get("groups") or []:
                group = self._groups.get((account_of(principal), name))
                if group is None:
                    missing.append(f'group "{name}"')
                    continue
                self._own(group, name, policies, missing)
        return policies, missing

    def _own(
        self,
        holder: Resource,
        via_group: str | None,
        policies: list[AttachedPolicy],
        missing: list[str],
    ) -> None:
        for attached in facts_of(holder, PolicyHolderFacts).get("attached_policies") or []:
            arn = str(attached.get("arn") or "")
            name = str(attached.get("name") or arn.rsplit("/", 1)[-1])
            managed = self.inv.get(arn)
            document = (
                facts_of(managed, IAMPolicyFacts).get("document") if managed is not None else None
            )
            aws_managed = ":iam::aws:policy/" in arn
            if document is None and aws_managed:
                document = known_document(arn)  # a --filter Role export has no Policies
            if document is None:
                where = f'group "{via_group}" ' if via_group else ""
                missing.append(f'{where}managed policy "{name}" ({arn})')
                continue
            policies.append(AttachedPolicy(name, arn, via_group, document, aws_managed))
        for inline in facts_of(holder, PolicyHolderFacts).get("inline_policies") or []:
            document = inline.get("document")
            if document:
                policies.append(AttachedPolicy(str(inline.get("name")), None, via_group, document))
