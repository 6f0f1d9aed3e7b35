"""AWS identity checks: who can do everything, who can make themselves able to, which
credentials are weak, which identities are dormant, and which roles outsiders can assume.

One identity per service with least privilege is what keeps the blast radius of a
breached service small; an ``AdministratorAccess`` role behind a microservice is the
monolith's super-user identity again. Policy evaluation is in :mod:`postureapp.checks.aws.policy`
(what it honours and what it deliberately ignores is documented there).
"""

from __future__ import annotations

from typing import Any

from postureapp.checks.aws import _escalation
from postureapp.checks.aws._common import DormancyWording, dormancy
from postureapp.checks.registry import Result, check
from postureapp.dates import when
from postureapp.domain.aws import policy
from postureapp.domain.aws.scopes import PROVIDER, account_of
from postureapp.domain.aws.trust import trust_grants
from postureapp.domain.text import listing
from postureapp.domain.thresholds import UNUSED_DAYS, cutoff, threshold
from postureapp.facts import facts_of
from postureapp.facts.aws import IAMAccessKeyFacts, IAMAccountFacts, IAMRoleFacts, IAMUserFacts
from postureapp.inventory import Inventory
from postureapp.model import Resource, Severity, Status, View

# A --filter Role export reads roles only: users, groups and customer-managed policies
# are unknown there, and each principal whose policy is missing says so itself.
IAM_KINDS = ("IAMRole",)
_PRINCIPAL_WORD = {"IAMUser": "user", "IAMGroup": "group", "IAMRole": "role"}
_MAX_LISTED = 4
_MAX_EVIDENCE = 10


def _who(principal: Resource) -> str:
    return f'{_PRINCIPAL_WORD.get(principal.kind, "principal")} "{principal.name}"'


def _unreadable(missing: list[str]) -> str:
    return f"cannot judge every policy: {listing(missing, 3)} not collected"


def _first_per_statement(
    found: list[tuple[str, list[policy.Match], Severity]],
) -> list[tuple[str, policy.Match, Severity]]:
    """Each statement once, under the strongest grant it makes (found is ordered
    strongest first): ``Action: *`` also covers iam:* and sts:AssumeRole."""
    seen: set[tuple[str, int]] = set()
    grants = []
    for what, matches, severity in found:
        for match in matches:
            key = (match.policy.label, match.index)
            if key not in seen:
                seen.add(key)
                grants.append((what, match, severity))
    return grants


# -- administrative privileges -------------------------------------------------------------


@check(
    id="aws-iam-admin-policy",
    title="IAM principal with administrative privileges",
    view=View.IDENTITIES,
    severity=Severity.CRITICAL,
    provider=PROVIDER,
    requires=IAM_KINDS,
    remediation=(
        "Replace the grant with a policy listing only the actions and resources the "
        "principal uses (IAM console > Roles/Users > Access Advisor shows what was used; "
        "IAM Access Analyzer can generate a policy from CloudTrail). Detach it with "
        "`aws iam detach-role-policy --role-name ROLE --policy-arn ARN` (or "
        "detach-user-policy / detach-group-policy), or edit the inline policy with "
        "`aws iam put-role-policy`. Keep administrator access for a break-glass role "
        "that requires MFA, and waive that one finding with a reason."
    ),
    frameworks={
        "CIS AWS": ["1.16"],
        "AWS FSBP": ["IAM.1"],
        "ISO 27001:2022": ["A.8.2", "A.5.15"],
        "SOC 2": ["CC6.1", "CC6.3"],
    },
    references=(
        "https://docs.aws.amazon.com/IAM/latest/UserGuide/best-practices.html#grant-least-privilege",
        "https://docs.aws.amazon.com/securityhub/latest/userguide/iam-controls.html#iam-1",
        "https://docs.aws.amazon.com/IAM/latest/UserGuide/access-analyzer-policy-generation.html",
    ),
    controls=("least-privilege",),
)
def admin_policy(inv: Inventory):
    """Users (with their groups' policies), groups and roles whose identity policies allow
    ``*`` on ``*``, ``iam:*``, every action but a few (``Allow`` + ``NotAction``), or
    ``sts:AssumeRole`` on any role. An unconditional ``Deny`` of the same action in the
    same principal's policies cancels the grant. Service-linked roles are skipped."""
    principals = policy.Principals(inv)
    for principal in principals.all():
        policies, missing = principals.policies(principal)
        everything = policy.canaries(principal, "any", "role")
        iam_any = policy.canaries(principal, "role", "user", "policy")
        any_role = policy.canaries(principal, "role")
        export = _escalation.export_note(inv, principal)
        note: dict[str, Any] = {"export": export} if export else {}
        grants = _first_per_statement(
            [
                (
                    "*",
                    policy.allows(policies, "*", everything, not_action=False, now=inv.now)
                    if not policy.denied(policies, "iam:*", iam_any, inv.now)
                    else [],
                    Severity.CRITICAL,
                ),
                (
                    "iam:*",
                    policy.allows(policies, "iam:*", iam_any, not_action=False, now=inv.now),
                    Severity.CRITICAL,
                ),
                (
                    "every action",
                    policy.not_action_allows(policies, everything, inv.now),
                    Severity.HIGH,
                ),
                (
                    "sts:AssumeRole",
                    policy.allows(
                        policies, "sts:AssumeRole", any_role, not_action=False, now=inv.now
                    ),
                    Severity.HIGH,
                ),
            ]
        )
        if grants:
            severity = max((g[2] for g in grants), key=lambda s: s.rank)
            lines = [match.describe(what) for what, match, _ in grants]
            detail = f"{_who(principal)}: {listing(lines, _MAX_LISTED)}"
            boundary = (
                facts_of(principal, IAMRoleFacts).get("permissions_boundary")
                if principal.kind != "IAMGroup"
                else None
            )
            if boundary:
                detail += f"; a permissions boundary ({boundary}) may limit this, not evaluated"
            evidence: dict[str, Any] = {
                "grants": [{"grants": what, **match.evidence()} for what, match, _ in grants][
                    :_MAX_EVIDENCE
                ],
                "permissions_boundary": boundary,
                **note,
            }
            yield Result(principal, Status.FAIL, detail, evidence, severity=severity)
        elif missing:
            yield Result(
                principal, Status.UNKNOWN, f"{_who(principal)}: {_unreadable(missing)}", note
            )
        else:
            yield Result(
                principal,
                Status.PASS,
                f"{_who(principal)}: no policy allows *, iam:*, NotAction or "
                "sts:AssumeRole on any role",
                note,
            )


# -- privilege escalation ------------------------------------------------------------------


@check(
    id="aws-iam-privilege-escalation",
    title="IAM principal can escalate its own privileges",
    view=View.IDENTITIES,
    severity=Severity.HIGH,
    provider=PROVIDER,
    requires=IAM_KINDS,
    remediation=(
        "Remove the escalation actions from the principal's policies or scope them: "
        "iam:PassRole to the exact role ARNs the service launches (with an "
        "iam:PassedToService condition), iam:CreateAccessKey / *LoginProfile to "
        "arn:aws:iam::ACCOUNT:user/${aws:username}, and policy-management actions "
        "(CreatePolicyVersion, Attach*/Put*Policy, UpdateAssumeRolePolicy) to a "
        "deployment role only. Edit with `aws iam create-policy-version --set-as-default` "
        "or `aws iam put-role-policy`, or cap the principal with a permissions boundary "
        "(`aws iam put-role-permissions-boundary`)."
    ),
    frameworks={
        "ISO 27001:2022": ["A.8.2", "A.5.18"],
        "SOC 2": ["CC6.1", "CC6.3"],
    },
    references=(
        "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_passrole.html",
        "https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html",
        "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html",
    ),
    controls=("least-privilege",),
    no_benchmark="no CIS or FSBP control for IAM privilege-escalation paths",
)
def privilege_escalation(inv: Inventory):
    """Principals whose own policies allow a published escalation method -- Rhino
    Security Labs' methods, Bishop Fox's iam-vulnerable paths, Prowler's combinations:
    policy versions and attachments, inline policy writes, trust policy edits, group
    membership, other users' keys or passwords, iam:PassRole with a service that runs
    code as the role (EC2, Lambda, Glue, CloudFormation, Data Pipeline, CodeBuild,
    SageMaker, ECS, App Runner...), or code and shells in what already runs with a role
    (lambda:UpdateFunctionCode, ssm:SendCommand, ssm:StartSession, EC2 Instance
    Connect...) -- or that can assume a chain of roles ending at an administrator.
    IAM steps must reach a customer resource of the account (AWS-owned policies do not
    count); a Deny that surely applies cancels, one that may apply is shown; a condition
    that can never hold now drops its Allow, others make the verdict conditional."""
    yield from _escalation.judge(inv)


# -- credentials ---------------------------------------------------------------------------


@check(
    id="aws-iam-user-console-mfa",
    title="IAM user with a console password and no MFA",
    view=View.IDENTITIES,
    severity=Severity.HIGH,
    provider=PROVIDER,
    requires=("IAMUser",),
    remediation=(
        "Have the user register an MFA device (IAM console > Users > USER > Security "
        "credentials > Assign MFA device; a passkey or security key is strongest), or "
        "remove the console password if the user does not need it: "
        "`aws iam delete-login-profile --user-name USER`. Better still, move people to "
        "IAM Identity Center and keep IAM users for nothing."
    ),
    frameworks={
        "CIS AWS": ["1.10"],
        "AWS FSBP": ["IAM.5"],
        "ISO 27001:2022": ["A.8.5", "A.5.17"],
        "SOC 2": ["CC6.1"],
    },
    references=(
        "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_mfa.html",
        "https://docs.aws.amazon.com/securityhub/latest/userguide/iam-controls.html#iam-5",
    ),
    controls=("aws-mfa",),
)
def user_console_mfa(inv: Inventory):
    """Users whose credential report row shows a console password without MFA. A user
    missing from the report (created since, or the report unreadable) is unknown."""
    for user in sorted(inv.of(PROVIDER, "IAMUser"), key=lambda r: r.uid):
        credentials = facts_of(user, IAMUserFacts).get("credentials")
        if credentials is None:
            yield Result(
                user,
                Status.UNKNOWN,
                f'user "{user.name}" is not in the credential report (created after it was '
                "generated, or the report could not be read)",
            )
        elif not credentials.get("password_enabled"):
            yield Result(user, Status.PASS, f'user "{user.name}" has no console password')
        elif credentials.get("mfa_active"):
            yield Result(user, Status.PASS, f'user "{user.name}" signs in with MFA')
        else:
            yield Result(
                user,
                Status.FAIL,
                f'user "{user.name}" has a console password and no MFA device',
                {"password_enabled": True, "mfa_active": False},
            )


@check(
    id="aws-iam-root-mfa",
    title="Root user without MFA",
    view=View.IDENTITIES,
    severity=Severity.CRITICAL,
    provider=PROVIDER,
    requires=("IAMAccount",),
    remediation=(
        "Sign in as the root user and enable MFA: account menu > Security credentials > "
        "Multi-factor authentication > Assign MFA device (a hardware security key is "
        "preferred). In an AWS Organization, consider centralised root access "
        "management to remove root credentials from member accounts."
    ),
    frameworks={
        "CIS AWS": ["1.5"],
        "AWS FSBP": ["IAM.9"],
        "ISO 27001:2022": ["A.8.5", "A.8.2"],
        "SOC 2": ["CC6.1"],
    },
    references=(
        "https://docs.aws.amazon.com/IAM/latest/UserGuide/enable-mfa-for-root.html",
        "https://docs.aws.amazon.com/securityhub/latest/userguide/iam-controls.html#iam-9",
    ),
    controls=("aws-mfa",),
)
def root_mfa(inv: Inventory):
    """The root user of each account must have MFA (unknown when neither the credential
    report nor the account summary could be read)."""
    for account in sorted(inv.of(PROVIDER, "IAMAccount"), key=lambda r: r.uid):
        active = facts_of(account, IAMAccountFacts).get("root_mfa_active")
        if active is None:
            yield Result(account, Status.UNKNOWN, "root MFA status could not be read")
        elif active:
            yield Result(account, Status.PASS, f"root user of {account.name} has MFA")
        else:
            yield Result(
                account,
                Status.FAIL,
                f"root user of account {account.name} has no MFA device",
                {"root_mfa_active": False},
            )


@check(
    id="aws-iam-root-access-keys",
    title="Root user has access keys",
    view=View.IDENTITIES,
    severity=Severity.CRITICAL,
    provider=PROVIDER,
    requires=("IAMAccount",),
    remediation=(
        "Sign in as the root user, open Security credentials > Access keys, deactivate "
        "then delete every key. Move whatever used it to an IAM role with only the "
        "permissions it needs."
    ),
    frameworks={
        "CIS AWS": ["1.4"],
        "AWS FSBP": ["IAM.4"],
        "ISO 27001:2022": ["A.8.2", "A.5.17"],
        "SOC 2": ["CC6.1"],
    },
    references=(
        "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_root-user_manage_delete-key.html",
        "https://docs.aws.amazon.com/securityhub/latest/userguide/iam-controls.html#iam-4",
    ),
    controls=("aws-credential-rotation", "least-privilege"),
)
def root_access_keys(inv: Inventory):
    """Root access keys never expire and cannot be limited by any policy."""
    for account in sorted(inv.of(PROVIDER, "IAMAccount"), key=lambda r: r.uid):
        present = facts_of(account, IAMAccountFacts).get("root_access_keys_present")
        if present is None:
            yield Result(account, Status.UNKNOWN, "root access key status could not be read")
        elif not present:
            yield Result(account, Status.PASS, f"root user of {account.name} has no access key")
        else:
            used = (
                "has been used"
                if facts_of(account, IAMAccountFacts).get("root_access_key_last_used")
                else ("has no recorded use")
            )
            yield Result(
                account,
                Status.FAIL,
                f"root user of account {account.name} has an active access key ({used})",
                {"root_access_keys_present": True},
            )


# -- dormant identities --------------------------------------------------------------------


@check(
    id="aws-iam-unused-user",
    title="IAM user unused for too long",
    view=View.IDENTITIES,
    severity=Severity.MEDIUM,
    provider=PROVIDER,
    requires=("IAMUser", "IAMAccessKey"),
    remediation=(
        "Confirm with the owner, then remove the user's credentials "
        "(`aws iam delete-login-profile --user-name USER`, "
        "`aws iam update-access-key --status Inactive ...`) and delete the user once "
        "nothing breaks. Off-boarding should do this the day someone leaves."
    ),
    frameworks={
        "CIS AWS": ["1.12"],
        "AWS FSBP": ["IAM.8", "IAM.22"],
        "ISO 27001:2022": ["A.5.18", "A.5.16"],
        "SOC 2": ["CC6.2", "CC6.3"],
    },
    references=(
        "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_finding-unused.html",
        "https://docs.aws.amazon.com/securityhub/latest/userguide/iam-controls.html#iam-22",
    ),
    controls=("least-privilege",),
)
def unused_user(inv: Inventory):
    """Users with credentials and no console sign-in or access-key use for more than
    ``unused_days`` (never used counts from the user's creation). Users without any
    credential pass: nothing can sign in as them."""
    days = threshold(inv, "unused_days", UNUSED_DAYS)
    limit = cutoff(inv, days)
    keys: dict[str, list[Resource]] = {}
    for key in inv.of(PROVIDER, "IAMAccessKey"):
        key_facts = facts_of(key, IAMAccessKeyFacts)
        keys.setdefault(key_facts.get("user_arn") or key_facts.get("user_name") or "", []).append(
            key
        )
    for user in sorted(inv.of(PROVIDER, "IAMUser"), key=lambda r: r.uid):
        credentials = facts_of(user, IAMUserFacts).get("credentials")
        if credentials is None:
            yield Result(
                user,
                Status.UNKNOWN,
                f'user "{user.name}" is not in the credential report; its sign-ins are unknown',
            )
            continue
        mine = keys.get(user.uid, []) + keys.get(user.name, [])
        has_key = any(facts_of(key, IAMAccessKeyFacts).get("active") for key in mine)
        if not credentials.get("password_enabled") and not has_key:
            yield Result(user, Status.PASS, f'user "{user.name}" has no password or active key')
            continue
        uses = [when(credentials.get("password_last_used"))]
        uses += [when(facts_of(key, IAMAccessKeyFacts).get("last_used_date")) for key in mine]
        last = max((moment for moment in uses if moment), default=None)
        created = when(facts_of(user, IAMUserFacts).get("create_date"))
        yield dormancy(user, f'user "{user.name}"', last, created, limit, days, _USER_WORDING)


_USER_WORDING = DormancyWording(
    recent="{name} used within {days} days",
    stale="{name} last signed in or used a key on {when} (more than {days} days ago)",
    no_date="{name}: no creation date",
    never_old="{name} has never signed in or used a key since it was created on {when} "
    "(more than {days} days ago)",
    never_new="{name} never used yet, created {when}",
)
_ROLE_WORDING = DormancyWording(
    recent="{name} used within {days} days",
    stale="{name} last used on {when} (more than {days} days ago)",
    no_date="{name}: no creation date",
    never_old="{name} has no recorded use since it was created on {when} "
    "(more than {days} days ago)",
    never_new="{name} not used yet, created {when}",
)


@check(
    id="aws-iam-unused-role",
    title="IAM role unused for too long",
    view=View.IDENTITIES,
    severity=Severity.LOW,
    provider=PROVIDER,
    requires=("IAMRole",),
    remediation=(
        "Check the role's owner and its last activity (IAM console > Roles > ROLE > "
        "Last activity), then delete it: `aws iam delete-role --role-name ROLE` after "
        "detaching its policies and removing it from instance profiles."
    ),
    frameworks={
        "ISO 27001:2022": ["A.5.18"],
        "SOC 2": ["CC6.3"],
    },
    references=(
        "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_manage_delete.html",
        "https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_access-advisor.html",
    ),
    controls=("one-identity-per-service",),
    no_benchmark="no CIS or FSBP control for unused IAM roles",
)
def unused_role(inv: Inventory):
    """Roles not assumed for more than ``unused_days``: never used and created before
    that, or last used before that. Service-linked roles are AWS's and are skipped.
    (IAM tracks ``RoleLastUsed`` over the last 400 days only.)"""
    days = threshold(inv, "unused_days", UNUSED_DAYS)
    limit = cutoff(inv, days)
    for role in sorted(inv.of(PROVIDER, "IAMRole"), key=lambda r: r.uid):
        if facts_of(role, IAMRoleFacts).get("service_linked"):
            continue
        last = when(facts_of(role, IAMRoleFacts).get("last_used_date"))
        created = when(facts_of(role, IAMRoleFacts).get("create_date"))
        yield dormancy(role, f'role "{role.name}"', last, created, limit, days, _ROLE_WORDING)


# -- who can assume a role -----------------------------------------------------------------


@check(
    id="aws-iam-role-external-trust",
    title="IAM role assumable by anyone or by another account without an external id",
    view=View.IDENTITIES,
    severity=Severity.HIGH,
    provider=PROVIDER,
    requires=("IAMRole",),
    remediation=(
        "Edit the trust policy (IAM console > Roles > ROLE > Trust relationships, or "
        "`aws iam update-assume-role-policy --role-name ROLE --policy-document "
        "file://trust.json`): "
        'never trust "*"; name the exact role ARN of the other account rather than its '
        'root, and for a third party add `"Condition": {"StringEquals": '
        '{"sts:ExternalId": "<id the vendor gave you>"}}`.'
    ),
    frameworks={
        "ISO 27001:2022": ["A.5.15", "A.5.19"],
        "SOC 2": ["CC6.1", "CC6.3"],
    },
    references=(
        "https://docs.aws.amazon.com/IAM/latest/UserGuide/confused-deputy.html",
        "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_create_for-user_externalid.html",
        "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html",
    ),
    controls=("least-privilege", "trust-domains"),
    no_benchmark="no CIS or FSBP control for cross-account trust without an external id",
)
def role_external_trust(inv: Inventory):
    """Trust policies that let ``Principal: {"AWS": "*"}`` (or a ``NotPrincipal``) or
    another account (id or ARN) call sts:AssumeRole without an ``sts:ExternalId``
    condition. "*" without any condition is critical; "*" narrowed by conditions (say
    ``aws:PrincipalOrgID``) is high; a named account without an external id is medium.
    ``Service`` and ``Federated`` principals are not cross-account and are not judged."""
    for role in sorted(inv.of(PROVIDER, "IAMRole"), key=lambda r: r.uid):
        if facts_of(role, IAMRoleFacts).get("service_linked"):
            continue
        trust = facts_of(role, IAMRoleFacts).get("trust_policy")
        if trust is None:
            yield Result(role, Status.UNKNOWN, f'role "{role.name}": trust policy not collected')
            continue
        grants = trust_grants(trust, account_of(role))
        bad = [grant for grant in grants if grant.anyone or not grant.external_id]
        if not bad:
            outside = sorted({g.account for g in grants if g.account})
            detail = f'role "{role.name}" trusts no principal outside its account'
            if outside:
                detail = (
                    f'role "{role.name}" trusts {listing(outside)} with an sts:ExternalId condition'
                )
            yield Result(role, Status.PASS, detail)
            continue
        severity = Severity.MEDIUM
        parts = []
        for grant in bad:
            where = f'statement "{grant.sid}"' if grant.sid else f"statement #{grant.index}"
            if grant.anyone:
                if grant.conditions:
                    severity = max(severity, Severity.HIGH, key=lambda s: s.rank)
                    parts.append(
                        f"{where} trusts {grant.principal} (conditional on "
                        f"{', '.join(grant.conditions)})"
                    )
                else:
                    severity = Severity.CRITICAL
                    parts.append(f"{where} trusts {grant.principal}: anyone can assume it")
            else:
                parts.append(
                    f"{where} trusts account {grant.account} ({grant.principal}) without "
                    "sts:ExternalId"
                )
        yield Result(
            role,
            Status.FAIL,
            f'role "{role.name}": {listing(parts, _MAX_LISTED)}',
            {
                "principals": sorted({grant.principal for grant in bad}),
                "accounts": sorted({grant.account for grant in bad if grant.account}),
                "statements": sorted({grant.index for grant in bad}),
            },
            severity=severity,
        )
