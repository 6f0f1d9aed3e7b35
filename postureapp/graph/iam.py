"""Effective permissions of IAM principals: what each can do, and which statements say so.

Built on :mod:`postureapp.domain.aws.policy` (pattern matching, the principal's policies), with a
stricter reading of Deny than the identity checks use, because here a Deny must be
*shown* whatever it does:

* a capability is asked as "action A on an arbitrary resource of its kind" (a canary
  ARN, as in :func:`postureapp.domain.aws.policy.canaries`); ``Action``/``NotAction`` and
  ``Resource``/``NotResource`` are honoured on both Allow and Deny;
* an unconditional Deny covering the action and the canary cancels the grant (the
  cancelling statement is listed in :attr:`Permission.denied`); a conditional Deny, or
  one on narrower resources, does not cancel it but is listed on the grant
  (``denied_by``) so a reader sees it; neither does a Deny with ``NotResource``
  exempting resources of the action's own service (those stay allowed, and become
  ``can`` edges to the exempted resources);
* conditions on an Allow are kept and displayed ("conditional"), never dropped, unless
  they can never hold now (:mod:`postureapp.domain.aws.conditions`);
* wildcards in Allow statements are expanded against the IAM action catalogue
  (:mod:`postureapp.domain.aws.actions`), so a grant reads "s3:Get* (63 actions)";
* escalation is the published methods (:mod:`postureapp.domain.aws.escalation`), each
  shown with the statements allowing every one of its steps.

Permission boundaries, SCPs, session and resource policies are not evaluated: a
capability can only be over-reported, never missed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from postureapp.domain.aws import actions as catalogue_actions
from postureapp.domain.aws.escalation import Escalation
from postureapp.domain.aws.policy import AttachedPolicy, Principals, action_covers, resource_covers
from postureapp.domain.aws.scopes import account_of
from postureapp.graph.model import ADMIN, AWS, BROAD_DATA, ESCALATE, READ_SECRETS, Grant
from postureapp.graph.model import Permission as Perm
from postureapp.model import Resource

SECRET_ACTIONS = (
    "secretsmanager:GetSecretValue",
    "ssm:GetParameter",
    "ssm:GetParameters",
    "ssm:GetParametersByPath",
)
_NAMED_SERVICES = ("s3", "secretsmanager", "ssm", "kms", "dynamodb")
_MAX_STEPS = 4
DATA_ACTIONS = ("s3:GetObject", "dynamodb:Scan", "dynamodb:GetItem", "dynamodb:Query")


def canary(principal: Resource, kind: str) -> str:
    """An ARN standing for "any resource of this kind" in the principal's account."""
    account = account_of(principal)
    partition = principal.uid.split(":", 2)[1] if principal.uid.startswith("arn:") else "aws"
    return {
        "any": "*",
        "secret": f"arn:{partition}:secretsmanager:posture-region:{account}:secret:canary",
        "parameter": f"arn:{partition}:ssm:posture-region:{account}:parameter/canary",
        "role": f"arn:{partition}:iam::{account}:role/posture-canary-role",
        "object": f"arn:{partition}:s3:::posture-canary-bucket/object",
        "table": f"arn:{partition}:dynamodb:posture-region:{account}:table/canary",
        # a resource of no particular service: only a pattern covering every ARN covers it
        "arn": f"arn:{partition}:posture-service:posture-region:{account}:posture-canary",
    }[kind]


def _resource_kind(action: str) -> str:
    service = action.split(":", 1)[0]
    return {
        "secretsmanager": "secret",
        "ssm": "parameter",
        "iam": "role",
        "s3": "object",
        "dynamodb": "table",
    }.get(service, "any")


def conditions_text(statement: dict[str, Any]) -> tuple[str, ...]:
    """``StringEquals aws:SourceVpc=vpc-1`` per condition key, as written."""
    found = []
    for operator, block in (statement.get("Condition") or {}).items():
        if isinstance(block, dict):
            for key, values in block.items():
                shown = ",".join(str(v) for v in (values if isinstance(values, list) else [values]))
                found.append(f"{operator} {key}={shown}")
        else:
            found.append(str(operator))
    return tuple(sorted(found))


def _covers_action(statement: dict[str, Any], action: str) -> str | None:
    if "NotAction" in statement:
        if any(action_covers(p, action) for p in statement.get("NotAction") or []):
            return None
        return f"NotAction: {', '.join(statement['NotAction'])}"
    return next((p for p in statement.get("Action") or [] if action_covers(p, action)), None)


def _covers_resource(statement: dict[str, Any], arn: str) -> str | None:
    if "NotResource" in statement:
        if any(resource_covers(p, arn) for p in statement.get("NotResource") or []):
            return None
        return f"NotResource: {', '.join(statement['NotResource'])}"
    return next((p for p in statement.get("Resource") or [] if resource_covers(p, arn)), None)


def instantiate(pattern: str) -> str:
    """A concrete ARN a resource pattern covers (its wildcards filled in)."""
    return pattern.replace("*", "posture-canary").replace("?", "x")


def _arn_service(arn: str) -> str:
    parts = arn.split(":")
    return parts[2] if len(parts) > 2 and parts[0] == "arn" else ""


def _may_be_of(pattern: str, service: str) -> bool:
    """Could a resource pattern name a resource of ``service``? (Wildcards in or before
    the service field may, so they count.)"""
    head = pattern.split(":")[:3]
    if any("*" in part or "?" in part for part in head) or len(head) < 3:
        return True
    return head[2].lower() == service.lower()


def _exempts_kind(statement: dict[str, Any], action: str) -> bool:
    """A Deny with ``NotResource`` naming resources of the action's own service leaves
    those resources allowed: it narrows the capability to them, it does not cancel it."""
    if "NotResource" not in statement:
        return False
    service = action.split(":", 1)[0] if ":" in action else "*"
    if service == "*":
        return bool(statement.get("NotResource"))
    return any(_may_be_of(p, service) for p in statement.get("NotResource") or [])


def _statement_label(policy: AttachedPolicy, index: int, statement: dict[str, Any]) -> str:
    sid = statement.get("Sid")
    return f"{policy.label} " + (f'statement "{sid}"' if sid else f"statement #{index}")


def _expanded(pattern: str) -> str:
    if pattern.startswith("NotAction") or ("*" not in pattern and "?" not in pattern):
        return pattern
    names = catalogue_actions.expand(pattern)
    if names == ("*",):
        return pattern
    if names == (pattern,):
        return f"{pattern} (service not in the IAM action catalogue: not expanded)"
    return f"{pattern} ({len(names)} actions)"


@dataclass(slots=True)
class _Query:
    action: str
    arn: str


class Analysis:
    """One principal's policies, queried capability by capability."""

    def __init__(
        self,
        principal: Resource,
        policies: Sequence[AttachedPolicy],
        now: datetime | None = None,
    ) -> None:
        self.principal = principal
        self.policies = list(policies)
        self.now = now
        self._statements = [
            (policy, index, statement)
            for policy in self.policies
            for index, statement in enumerate((policy.document or {}).get("Statement") or [])
            if isinstance(statement, dict)
        ]

    def grants(self, action: str, arn: str) -> tuple[list[Grant], list[str]]:
        """Allows of ``action`` on ``arn`` that survive the Denies, and the Denies that
        cancelled others."""
        cancelling: list[str] = []
        narrowing: list[str] = []
        for policy, index, statement in self._statements:
            if statement.get("Effect") != "Deny":
                continue
            covered = _covers_action(statement, action) is not None
            if not covered and action != "*":
                continue
            label = _statement_label(policy, index, statement)
            hit = _covers_resource(statement, arn)
            if (
                covered
                and hit is not None
                and "Condition" not in statement
                and not _exempts_kind(statement, action)
            ):
                cancelling.append(f"{label} denies {action} on {hit}")
            else:
                when = conditions_text(statement)
                denies = statement.get("Action") or [f"all but {statement.get('NotAction')}"]
                if "NotResource" in statement:
                    where = f"all but {', '.join(statement.get('NotResource') or [])}"
                else:
                    where = ", ".join(statement.get("Resource") or [])
                text = f"{label} denies {', '.join(denies)} on {where}"
                if when:
                    text += f" when {'; '.join(when)}"
                narrowing.append(text)
        found: list[Grant] = []
        for policy, index, statement in self._statements:
            if statement.get("Effect") != "Allow":
                continue
            pattern = _covers_action(statement, action)
            if pattern is None:
                continue
            resource = _covers_resource(statement, arn)
            if resource is None:
                continue
            label = _statement_label(policy, index, statement)
            found.append(
                Grant(
                    text=f"{label} allows {_expanded(pattern)} on {resource}",
                    source=policy.label,
                    resource=resource,
                    conditions=conditions_text(statement),
                    denied_by=tuple(narrowing),
                )
            )
        if cancelling:
            return [], cancelling
        return found, []

    def _any(self, capability: str, queries: Iterable[_Query]) -> Perm | None:
        grants: list[Grant] = []
        denied: list[str] = []
        for query in queries:
            found, cancelled = self.grants(query.action, query.arn)
            grants.extend(g for g in found if g not in grants)
            denied.extend(d for d in cancelled if d not in denied)
        if not grants:
            return None
        return Perm(capability, AWS, tuple(grants), tuple(denied))

    def _q(self, action: str) -> _Query:
        return _Query(action, canary(self.principal, _resource_kind(action)))

    def admin(self) -> Perm | None:
        # ``Resource: arn:aws:*`` is every resource as much as ``*`` is.
        return self._any(ADMIN, [_Query("*", "*"), _Query("*", canary(self.principal, "arn"))])

    def read_secrets(self) -> Perm | None:
        return self._any(READ_SECRETS, [self._q(action) for action in SECRET_ACTIONS])

    def escalate(self) -> Perm | None:
        """The published escalation methods (:mod:`postureapp.domain.aws.catalogue`) the
        principal's policies allow, one grant per method."""
        engine = Escalation(
            self.principal.uid, self.principal.kind, self.principal.name, self.policies, self.now
        )
        grants = []
        for found in engine.methods():
            steps = "; ".join(
                step.match.describe(step.action) for step in found.grants[:_MAX_STEPS]
            )
            text = f"{found.method.title} ({', '.join(found.method.actions)}): {steps}"
            if found.method.prerequisite:
                text += f"; needs {found.method.prerequisite}"
            conditions = tuple(
                sorted({key for step in found.grants for key in step.match.conditions})
            )
            narrowed = tuple(dict.fromkeys(n for step in found.grants for n in step.narrowed_by))
            grants.append(
                Grant(
                    text=text,
                    source=found.grants[0].match.policy.label,
                    resource=found.grants[0].reaches,
                    conditions=conditions,
                    denied_by=narrowed,
                )
            )
        if not grants:
            return None
        return Perm(ESCALATE, AWS, tuple(grants), ())

    def broad_data(self) -> Perm | None:
        return self._any(BROAD_DATA, [self._q(action) for action in DATA_ACTIONS])

    def permissions(self) -> list[Perm]:
        """Every capability held, worst first. An admin holds the rest implicitly, so
        they are not listed twice."""
        admin = self.admin()
        if admin is not None:
            return [admin]
        return [
            perm
            for perm in (self.read_secrets(), self.escalate(), self.broad_data())
            if perm is not None
        ]

    def named_resources(self) -> list[tuple[str, str]]:
        """(resource pattern, the statement granting it) for Allow statements naming
        specific buckets, secrets, parameters, keys or tables (not ``*``)."""
        found: list[tuple[str, str]] = []
        for policy, index, statement in self._statements:
            if statement.get("Effect") != "Allow":
                continue
            for pattern in statement.get("Resource") or []:
                service = pattern.split(":")[2] if pattern.count(":") >= 5 else ""
                if service in _NAMED_SERVICES:
                    acts = ", ".join(statement.get("Action") or statement.get("NotAction") or [])
                    label = _statement_label(policy, index, statement)
                    found.append((pattern, f"{label} allows {acts}"))
        found.extend(self._exempted_resources())
        return found

    def _exempted_resources(self) -> list[tuple[str, str]]:
        """Resources a Deny with ``NotResource`` leaves allowed: "deny reading secrets
        but app/*" with an Allow on ``*`` names app/* as what the principal reads."""
        found: list[tuple[str, str]] = []
        for policy, index, deny in self._statements:
            if deny.get("Effect") != "Deny" or "NotResource" not in deny:
                continue
            for pattern in deny.get("NotResource") or []:
                service = _arn_service(pattern) if pattern.count(":") >= 5 else ""
                if service not in _NAMED_SERVICES:
                    continue
                arn = instantiate(pattern)
                for allow_policy, allow_index, allow in self._statements:
                    if allow.get("Effect") != "Allow" or _covers_resource(allow, arn) is None:
                        continue
                    acts = [
                        a
                        for a in allow.get("Action") or []
                        if action_covers(a, f"{service}:*") or action_covers(f"{service}:*", a)
                    ]
                    if not acts and "NotAction" not in allow:
                        continue
                    shown = ", ".join(acts) or f"all but {', '.join(allow['NotAction'])}"
                    found.append(
                        (
                            pattern,
                            f"{_statement_label(allow_policy, allow_index, allow)} allows "
                            f"{shown}; {_statement_label(policy, index, deny)} denies it on "
                            "every other resource",
                        )
                    )
                    break
        return found


class IamIndex:
    """Analyses of every IAM principal of an inventory, built on demand and cached."""

    def __init__(self, principals: Principals) -> None:
        self.principals = principals
        self._cache: dict[str, tuple[list[Perm], list[str]]] = {}

    def permissions(self, principal: Resource) -> tuple[list[Perm], list[str]]:
        """The principal's capabilities, and what could not be read (missing policies)."""
        if principal.uid not in self._cache:
            policies, missing = self.principals.policies(principal)
            analysis = Analysis(principal, policies, self.principals.inv.now)
            self._cache[principal.uid] = (analysis.permissions(), missing)
        return self._cache[principal.uid]

    def analysis(self, principal: Resource) -> Analysis:
        policies, _ = self.principals.policies(principal)
        return Analysis(principal, policies, self.principals.inv.now)
