"""Which published escalation methods (:mod:`.catalogue`) a principal's own identity
policies allow.

A step of a method is allowed when an ``Allow`` statement covers its action and reaches
its resource space, and no Deny surely takes it away:

* **Reach.** IAM steps must reach a customer resource of the principal's own account:
  ``iam:CreatePolicyVersion`` on ``arn:aws:iam::aws:policy/*`` (AWS-owned, unmodifiable)
  reaches nothing, on ``arn:aws:iam::*:policy/app-*`` it reaches the account's ``app-*``
  policies. Access keys and passwords must reach a user other than the principal
  (``${aws:username}`` is the principal itself). Other steps reach their service with any
  resource pattern. Resource spaces come from the IAM action catalogue.
* **Denies** (any of the principal's policies) cancel a step when they surely apply (no
  condition, or one that always holds now), cover its action (``Action``, or a
  ``NotAction`` that excludes none of it) and cover a resource the Allow reaches
  (``Resource``, or a ``NotResource`` that exempts it). A Deny that may apply is shown.
* **Conditions** that can never hold now drop the Allow; others make the step, and the
  method, *conditional*, which the evidence says.

Permission boundaries, SCPs and session policies are not evaluated (findings name the
boundary). Reaching a more privileged role by assuming it is the identity graph's part
(:mod:`postureapp.graph.iam`), which chains roles.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from postureapp.domain.aws import actions as catalogue_actions
from postureapp.domain.aws.catalogue import METHODS, OTHER_USER, Method, Step
from postureapp.domain.aws.conditions import Holds
from postureapp.domain.aws.policy import (
    AttachedPolicy,
    Match,
    _action_match,
    _condition_keys,
    common_arn,
    deny_covers_action,
    holds,
    resource_covers,
)

_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_SPACES = {
    "policy": ("iam", "policy"),
    "user": ("iam", "user"),
    "other-user": ("iam", "user"),
    "group": ("iam", "group"),
    "role": ("iam", "role"),
}


@dataclass(frozen=True, slots=True)
class StepGrant:
    """The statement allowing one step, the resource it reaches, and Denies that may
    narrow it."""

    action: str
    match: Match
    reaches: str
    narrowed_by: tuple[str, ...] = ()

    @property
    def conditional(self) -> bool:
        return bool(self.match.conditions)


@dataclass(frozen=True, slots=True)
class Found:
    """A method the principal's policies allow, step by step."""

    method: Method
    grants: tuple[StepGrant, ...]

    @property
    def conditional(self) -> bool:
        return any(grant.conditional or grant.narrowed_by for grant in self.grants)

    def evidence(self) -> dict[str, Any]:
        return {
            "method": self.method.id,
            "title": self.method.title,
            "actions": list(self.method.actions),
            "prerequisite": self.method.prerequisite or None,
            "conditional": self.conditional,
            "statements": [
                {
                    **grant.match.evidence(),
                    "grants": grant.action,
                    "reaches": grant.reaches,
                    "narrowed_by": list(grant.narrowed_by),
                }
                for grant in self.grants
            ],
            "sources": list(self.method.sources),
        }


@dataclass
class Escalation:
    """One principal's policies, asked method by method."""

    principal_arn: str
    principal_kind: str  # IAMUser | IAMGroup | IAMRole
    principal_name: str
    policies: Sequence[AttachedPolicy]
    now: datetime | None = None
    # Is the role behind a concrete ARN more privileged than nothing? (None: unknown.)
    role_privileged: Callable[[str], bool | None] | None = None
    _steps: dict[Step, StepGrant | None] = field(default_factory=dict)

    @property
    def account(self) -> str:
        parts = self.principal_arn.split(":")
        return parts[4] if len(parts) > 4 else ""

    @property
    def partition(self) -> str:
        parts = self.principal_arn.split(":")
        return parts[1] if len(parts) > 1 and parts[0] == "arn" else "aws"

    def methods(self) -> list[Found]:
        """Every catalogue method all of whose steps are allowed."""
        found = []
        for method in METHODS:
            grants = [self.step(step) for step in method.steps]
            if all(grant is not None for grant in grants):
                found.append(Found(method, tuple(g for g in grants if g is not None)))
        return found

    def step(self, step: Step) -> StepGrant | None:
        if step not in self._steps:
            self._steps[step] = self._step(step)
        return self._steps[step]

    # -- one step ------------------------------------------------------------------------

    def _space(self, step: Step) -> str | None:
        if step.reach is None:
            return None
        service, kind = _SPACES[step.reach]
        arn_format = catalogue_actions.resource_arn(service, kind)
        if arn_format is None:  # the catalogue always has IAM's; a stand-in if not
            arn_format = f"arn:${{Partition}}:{service}::${{Account}}:{kind}/${{Name}}"
        return catalogue_actions.arn_glob(arn_format, self.partition, self.account)

    def _resolve(self, pattern: str) -> str | None:
        """A resource pattern with policy variables filled in; None when it can only
        name nothing (``${aws:username}`` in a role's policy)."""
        if "${" not in pattern:
            return pattern

        def fill(match: re.Match[str]) -> str:
            name = match.group(1).lower()
            if name == "aws:username":
                if self.principal_kind != "IAMUser":
                    raise LookupError(name)
                return self.principal_name
            if name in ("*", "?", "$"):
                return name
            return "*"

        try:
            return _VARIABLE.sub(fill, pattern)
        except LookupError:
            return None

    def _reaches(self, step: Step, statement: dict[str, Any]) -> list[str]:
        """Resources of the step's space the statement reaches: one witness ARN per
        reaching pattern."""
        space = self._space(step)
        target = space or "*"
        if "NotResource" in statement:
            excluded = [self._resolve(p) for p in statement.get("NotResource") or []]
            if any(p is not None and resource_covers(p, target) for p in excluded):
                return []
            return [_witness(target)]
        witnesses = []
        for raw in statement.get("Resource") or []:
            pattern = self._resolve(raw)
            if pattern is None:
                continue
            if space is None:
                if _of_service(pattern, step.action):
                    witnesses.append(_witness(pattern))
                continue
            common = common_arn(pattern, space)
            if common is None:
                continue
            if self._excluded(step, pattern):
                continue
            witnesses.append(common)
        return witnesses

    def _excluded(self, step: Step, pattern: str) -> bool:
        """A concrete resource that escalates nothing: one's own keys or password, or a
        role with nothing to give."""
        if _wild(pattern):
            return False
        if step.reach == OTHER_USER:
            return self.principal_kind == "IAMUser" and pattern == self.principal_arn
        if step.action.lower() == "iam:passrole" and self.role_privileged is not None:
            return self.role_privileged(pattern) is False
        return False

    def _step(self, step: Step) -> StepGrant | None:
        denies, narrowing = self._denies(step.action)
        for policy in self.policies:
            for index, statement in _statements(policy.document):
                if statement.get("Effect") != "Allow":
                    continue
                if holds(statement, self.now) is Holds.NEVER:
                    continue
                pattern = _action_match(statement, step.action)
                if pattern is None:
                    continue
                for witness in self._reaches(step, statement):
                    if any(_deny_covers(deny, witness, self) for deny in denies):
                        continue
                    match = Match(
                        policy,
                        index,
                        statement.get("Sid"),
                        pattern,
                        _shown_resource(statement),
                        _condition_keys(statement),
                    )
                    return StepGrant(step.action, match, witness, tuple(narrowing))
        return None

    def _denies(self, action: str) -> tuple[list[dict[str, Any]], list[str]]:
        """Deny statements that surely apply to ``action``, and those that may (shown)."""
        sure: list[dict[str, Any]] = []
        maybe: list[str] = []
        for policy in self.policies:
            for index, statement in _statements(policy.document):
                if statement.get("Effect") != "Deny" or not deny_covers_action(statement, action):
                    continue
                state = holds(statement, self.now)
                if state is Holds.ALWAYS:
                    sure.append(statement)
                elif state is Holds.MAYBE:
                    sid = statement.get("Sid")
                    where = f'statement "{sid}"' if sid else f"statement #{index}"
                    maybe.append(f"{policy.label} {where} may deny {action}")
        return sure, maybe


def _deny_covers(statement: dict[str, Any], witness: str, escalation: Escalation) -> bool:
    if "NotResource" in statement:
        excluded = [escalation._resolve(p) for p in statement.get("NotResource") or []]
        return not any(p is not None and resource_covers(p, witness) for p in excluded)
    for raw in statement.get("Resource") or []:
        pattern = escalation._resolve(raw)
        if pattern is not None and resource_covers(pattern, witness):
            return True
    return False


def _statements(document: dict[str, Any] | None) -> list[tuple[int, dict[str, Any]]]:
    return [
        (index, statement)
        for index, statement in enumerate((document or {}).get("Statement") or [])
        if isinstance(statement, dict)
    ]


def _shown_resource(statement: dict[str, Any]) -> str:
    if "NotResource" in statement:
        return f"NotResource: {', '.join(statement.get('NotResource') or [])}"
    return ", ".join(statement.get("Resource") or [])


def _of_service(pattern: str, action: str) -> bool:
    """Could a resource pattern name a resource the action acts on? Its service field
    must be a wildcard, the action's service or that of one of its resource types
    (``ec2-instance-connect`` acts on ``ec2`` instances)."""
    fields = pattern.split(":")
    if pattern == "*" or len(fields) < 3 or _wild(fields[2]) or _wild(fields[0]):
        return True
    prefix = action.split(":", 1)[0].lower()
    services = {prefix}
    details = catalogue_actions.action_details(action) or {}
    for resource_type in details.get("resourceTypes") or []:
        name = str(resource_type.get("name", ""))
        # Optional types of other services are mostly where output goes (an S3 bucket
        # for ssm:SendCommand's log); instances are what a session or command runs on.
        if not resource_type.get("required") and name not in ("instance", "managed-instance"):
            continue
        arn = catalogue_actions.resource_arn(prefix, name)
        if arn and arn.count(":") >= 2:
            services.add(arn.split(":")[2].lower())
    return fields[2].lower() in services


def _wild(pattern: str) -> bool:
    return "*" in pattern or "?" in pattern


def _witness(pattern: str) -> str:
    return pattern.replace("*", "x").replace("?", "x") if pattern != "*" else "*"
