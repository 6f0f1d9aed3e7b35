"""Identity checks: administrators, privilege escalation, MFA, root, dormant identities,
cross-account trust."""

from __future__ import annotations

from postureapp.model import Severity, Status
from tests.checks.aws.estate import (
    ADMIN_ARN,
    OTHER_ACCOUNT,
    access_key,
    account,
    assume,
    attach,
    credentials,
    group,
    inline,
    inventory,
    managed_policy,
    only,
    results,
    role,
    statement,
    statuses,
    trust,
    user,
)

ADMIN = "aws-iam-admin-policy"
ESCALATION = "aws-iam-privilege-escalation"


def _admin_policy():
    return managed_policy("AdministratorAccess", statement(Action="*", Resource="*"), aws=True)


# -- administrative privileges -------------------------------------------------------------


def test_role_with_aws_managed_administrator_access_fails_naming_policy_and_statement():
    admin = _admin_policy()
    deploy = role("deploy", attached=attach(admin))
    reader = role("reader", policies=[inline("read", statement(Action="s3:Get*", Resource="*"))])
    found = results(ADMIN, inventory(admin, deploy, reader))

    bad = found[deploy.uid]
    assert bad.status is Status.FAIL
    assert bad.severity is Severity.CRITICAL
    assert 'AWS-managed policy "AdministratorAccess" statement #0 allows * on *' in bad.detail
    assert bad.evidence["grants"][0]["policy_arn"] == ADMIN_ARN
    assert bad.evidence["grants"][0]["statement"] == 0
    assert found[reader.uid].status is Status.PASS


def test_administrator_access_counts_even_when_its_document_was_not_collected():
    deploy = role("deploy", attached=attach(ADMIN_ARN))
    assert only(ADMIN, inventory(deploy)).status is Status.FAIL


def test_user_inherits_a_group_inline_iam_wildcard_and_is_reported_per_principal():
    ops = group(
        "ops", policies=[inline("iam-admin", statement(Sid="Iam", Action="iam:*", Resource="*"))]
    )
    alice = user("alice", groups=["ops"])
    bob = user("bob")
    found = results(ADMIN, inventory(ops, alice, bob))
    assert found[ops.uid].status is Status.FAIL
    assert found[alice.uid].status is Status.FAIL
    assert 'group "ops" inline policy "iam-admin" statement "Iam" allows iam:*' in (
        found[alice.uid].detail
    )
    assert found[alice.uid].evidence["grants"][0]["via_group"] == "ops"
    assert found[bob.uid].status is Status.PASS


def test_star_colon_star_and_assume_role_on_any_role():
    star = role("star", policies=[inline("p", statement(Action=["*:*"], Resource=["*"]))])
    hopper = role(
        "hopper", policies=[inline("hop", statement(Action="sts:AssumeRole", Resource="*"))]
    )
    found = results(ADMIN, inventory(star, hopper))
    assert found[star.uid].severity is Severity.CRITICAL
    assert found[hopper.uid].status is Status.FAIL
    assert found[hopper.uid].severity is Severity.HIGH
    assert "allows sts:AssumeRole on *" in found[hopper.uid].detail


def test_scoped_grants_pass():
    scoped = role(
        "scoped",
        policies=[
            inline(
                "p",
                statement(Action="iam:*", Resource="arn:aws:iam::123456789012:role/app-*"),
                statement(Action="*", Resource="arn:aws:s3:::bucket/*"),
                statement(Action="sts:AssumeRole", Resource="arn:aws:iam::999988887777:role/x"),
            )
        ],
    )
    assert only(ADMIN, inventory(scoped)).status is Status.PASS


def test_explicit_unconditional_deny_in_the_same_policies_cancels_the_grant():
    admin = _admin_policy()
    fenced = role(
        "fenced",
        attached=attach(admin),
        policies=[inline("fence", statement("Deny", Action="*", Resource="*"))],
    )
    assert only(ADMIN, inventory(admin, fenced)).status is Status.PASS


def test_conditional_or_partial_deny_does_not_cancel_it():
    admin = _admin_policy()
    conditional = role(
        "conditional",
        attached=attach(admin),
        policies=[
            inline(
                "mfa",
                statement(
                    "Deny",
                    Action="*",
                    Resource="*",
                    Condition={"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}},
                ),
            )
        ],
    )
    partial = role(
        "partial",
        attached=attach(admin),
        policies=[inline("no-iam", statement("Deny", Action="iam:*", Resource="*"))],
    )
    found = statuses(ADMIN, inventory(admin, conditional, partial))
    assert found == {conditional.uid: Status.FAIL, partial.uid: Status.FAIL}


def test_allow_not_action_is_reported_as_everything_but_and_high():
    power = role(
        "power",
        policies=[inline("power", statement(NotAction=["iam:*", "organizations:*"], Resource="*"))],
    )
    result = only(ADMIN, inventory(power))
    assert result.status is Status.FAIL
    assert result.severity is Severity.HIGH
    assert "allows every action (NotAction: iam:*, organizations:*) on *" in result.detail


def test_allow_on_not_resource_counts_as_any_resource_and_conditions_are_named():
    wide = role(
        "wide",
        policies=[
            inline(
                "p",
                statement(
                    Action="*",
                    NotResource="arn:aws:s3:::secret/*",
                    Condition={"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}},
                ),
            )
        ],
    )
    result = only(ADMIN, inventory(wide))
    assert result.status is Status.FAIL
    assert "NotResource: arn:aws:s3:::secret/*" in result.detail
    assert "conditional on aws:SourceIp" in result.detail


def test_missing_managed_policy_document_is_unknown_not_pass():
    custom = role("custom", attached=attach("arn:aws:iam::123456789012:policy/not-collected"))
    result = only(ADMIN, inventory(custom))
    assert result.status is Status.UNKNOWN
    assert "not-collected" in result.detail


def test_service_linked_roles_are_not_judged():
    admin = _admin_policy()
    linked = role("AWSServiceRoleForECS", attached=attach(admin), service_linked=True)
    assert statuses(ADMIN, inventory(admin, linked)) == {}


def test_permissions_boundary_is_named_but_not_evaluated():
    admin = _admin_policy()
    bounded = user("ci", attached=attach(admin), boundary="arn:aws:iam::123456789012:policy/cap")
    result = only(ADMIN, inventory(admin, bounded))
    assert result.status is Status.FAIL
    assert "permissions boundary (arn:aws:iam::123456789012:policy/cap)" in result.detail


# -- privilege escalation ------------------------------------------------------------------


def test_passrole_on_any_role_with_run_instances_is_escalation():
    launcher = role(
        "launcher",
        policies=[
            inline(
                "launch",
                statement(Sid="Pass", Action="iam:PassRole", Resource="*"),
                statement(Sid="Run", Action="ec2:RunInstances", Resource="*"),
            )
        ],
    )
    result = only(ESCALATION, inventory(launcher))
    assert result.status is Status.FAIL
    assert result.evidence["actions"] == ["ec2:RunInstances", "iam:PassRole"]
    assert 'statement "Pass" allows iam:PassRole on *' in result.detail


def test_passrole_to_one_role_or_without_compute_is_not_escalation():
    narrow = role(
        "narrow",
        policies=[
            inline(
                "p",
                statement(Action="iam:PassRole", Resource="arn:aws:iam::123456789012:role/app"),
                statement(Action="lambda:CreateFunction", Resource="*"),
            )
        ],
    )
    alone = role("alone", policies=[inline("p", statement(Action="iam:PassRole", Resource="*"))])
    assert statuses(ESCALATION, inventory(narrow, alone)) == {
        narrow.uid: Status.PASS,
        alone.uid: Status.PASS,
    }


def test_action_wildcards_match_escalation_actions():
    attacher = user(
        "attacher", policies=[inline("p", statement(Action="iam:Attach*", Resource="*"))]
    )
    versioner = role(
        "versioner",
        policies=[
            inline(
                "p", statement(Action="iam:CreatePolicyVersion", Resource="arn:aws:iam::*:policy/x")
            )
        ],
    )
    found = results(ESCALATION, inventory(attacher, versioner))
    assert found[attacher.uid].status is Status.FAIL
    assert found[attacher.uid].evidence["actions"] == [
        "iam:AttachGroupPolicy",
        "iam:AttachRolePolicy",
        "iam:AttachUserPolicy",
    ]
    assert "(Action iam:Attach*)" in found[attacher.uid].detail
    assert found[versioner.uid].evidence["actions"] == ["iam:CreatePolicyVersion"]


def test_self_service_access_keys_are_fine_other_users_keys_are_not():
    self_service = user(
        "self",
        policies=[
            inline(
                "own-keys",
                statement(
                    Action=["iam:CreateAccessKey", "iam:UpdateLoginProfile"],
                    Resource="arn:aws:iam::123456789012:user/${aws:username}",
                ),
            )
        ],
    )
    helpdesk = user(
        "helpdesk",
        policies=[inline("keys", statement(Action="iam:CreateAccessKey", Resource="*"))],
    )
    assert statuses(ESCALATION, inventory(self_service, helpdesk)) == {
        self_service.uid: Status.PASS,
        helpdesk.uid: Status.FAIL,
    }


def test_escalation_denied_explicitly_passes():
    guarded = role(
        "guarded",
        policies=[
            inline(
                "p",
                statement(Action="iam:PutRolePolicy", Resource="*"),
                statement("Deny", Action="iam:Put*", Resource="*"),
            )
        ],
    )
    assert only(ESCALATION, inventory(guarded)).status is Status.PASS


def test_escalation_unknown_when_a_policy_is_missing():
    custom = role("custom", attached=attach("arn:aws:iam::123456789012:policy/gone"))
    assert only(ESCALATION, inventory(custom)).status is Status.UNKNOWN


# -- MFA and root --------------------------------------------------------------------------


def test_console_user_without_mfa_fails_with_mfa_passes_unknown_without_report():
    no_mfa = user("no-mfa", creds=credentials(password=True, mfa=False))
    with_mfa = user("with-mfa", creds=credentials(password=True, mfa=True))
    api_only = user("api-only", creds=credentials(password=False))
    new = user("new", creds=None)
    found = results("aws-iam-user-console-mfa", inventory(no_mfa, with_mfa, api_only, new))
    assert found[no_mfa.uid].status is Status.FAIL
    assert found[no_mfa.uid].detail == 'user "no-mfa" has a console password and no MFA device'
    assert found[with_mfa.uid].status is Status.PASS
    assert found[api_only.uid].status is Status.PASS
    assert found[new.uid].status is Status.UNKNOWN


def test_root_mfa():
    assert only("aws-iam-root-mfa", inventory(account(root_mfa_active=False))).status is (
        Status.FAIL
    )
    assert only("aws-iam-root-mfa", inventory(account(root_mfa_active=True))).status is (
        Status.PASS
    )
    assert only("aws-iam-root-mfa", inventory(account(root_mfa_active=None))).status is (
        Status.UNKNOWN
    )


def test_root_access_keys():
    check = "aws-iam-root-access-keys"
    bad = only(check, inventory(account(root_access_keys_present=True)))
    assert bad.status is Status.FAIL
    assert bad.severity is None  # the check's own: critical
    assert only(check, inventory(account(root_access_keys_present=False))).status is Status.PASS
    assert only(check, inventory(account(root_access_keys_present=None))).status is Status.UNKNOWN


# -- dormant identities --------------------------------------------------------------------


def test_unused_user_fails_on_old_activity_and_passes_on_recent_key_use():
    settings = {"unused_days": 90}
    stale = user("stale", creds=credentials(password_last_used="2025-12-01T00:00:00Z"))
    keyed = user("keyed", creds=credentials(password=False))
    never = user("never", creds=credentials(), created_days=200)
    fresh = user("fresh", creds=credentials(), created_days=5)
    nothing = user("nothing", creds=credentials(password=False))
    found = results(
        "aws-iam-unused-user",
        inventory(
            stale,
            keyed,
            access_key("keyed", last_used_days=3),
            never,
            fresh,
            nothing,
            settings=settings,
        ),
    )
    assert found[stale.uid].status is Status.FAIL
    assert found[stale.uid].detail == (
        'user "stale" last signed in or used a key on 2025-12-01 (more than 90 days ago)'
    )
    assert found[keyed.uid].status is Status.PASS
    assert found[never.uid].status is Status.FAIL
    assert "never signed in" in found[never.uid].detail
    assert found[fresh.uid].status is Status.PASS
    assert found[nothing.uid].status is Status.PASS


def test_unused_user_detail_does_not_change_from_one_day_to_the_next():
    from datetime import timedelta

    from postureapp.inventory import Inventory

    stale = user("stale", creds=credentials(password_last_used="2025-12-01T00:00:00Z"))
    today = only("aws-iam-unused-user", inventory(stale))
    later = Inventory(resources=[stale], now=inventory().now + timedelta(days=3))
    tomorrow = only("aws-iam-unused-user", later)
    assert (today.detail, today.evidence) == (tomorrow.detail, tomorrow.evidence)


def test_unused_user_unknown_without_credential_report():
    assert only("aws-iam-unused-user", inventory(user("x", creds=None))).status is Status.UNKNOWN


def test_unused_roles():
    old_never = role("old-never", created_days=365)
    new_never = role("new-never", created_days=10)
    stale = role("stale", last_used_days=120)
    active = role("active", last_used_days=2)
    linked = role("AWSServiceRoleForSupport", service_linked=True, created_days=900)
    found = statuses(
        "aws-iam-unused-role",
        inventory(old_never, new_never, stale, active, linked, settings={"unused_days": 90}),
    )
    assert found == {
        old_never.uid: Status.FAIL,
        new_never.uid: Status.PASS,
        stale.uid: Status.FAIL,
        active.uid: Status.PASS,
    }


# -- trust ---------------------------------------------------------------------------------


def test_role_assumable_by_anyone_is_critical():
    open_role = role("open", trust_policy=trust(assume("*")))
    result = only("aws-iam-role-external-trust", inventory(open_role))
    assert result.status is Status.FAIL
    assert result.severity is Severity.CRITICAL
    assert "anyone can assume it" in result.detail


def test_role_trusting_another_account_without_external_id_fails_with_it_passes():
    vendor = role(
        "vendor",
        trust_policy=trust(assume({"AWS": f"arn:aws:iam::{OTHER_ACCOUNT}:root"})),
    )
    guarded = role(
        "guarded",
        trust_policy=trust(
            assume(
                {"AWS": OTHER_ACCOUNT},
                Condition={"StringEquals": {"sts:ExternalId": "abc"}},
            )
        ),
    )
    own = role("own", trust_policy=trust(assume({"AWS": "arn:aws:iam::123456789012:root"})))
    service = role("svc", trust_policy=trust(assume({"Service": "lambda.amazonaws.com"})))
    federated = role(
        "irsa",
        trust_policy=trust(
            statement(
                Principal={"Federated": "arn:aws:iam::123456789012:oidc-provider/oidc.eks"},
                Action="sts:AssumeRoleWithWebIdentity",
            )
        ),
    )
    found = results(
        "aws-iam-role-external-trust", inventory(vendor, guarded, own, service, federated)
    )
    assert found[vendor.uid].status is Status.FAIL
    assert found[vendor.uid].severity is Severity.MEDIUM
    assert found[vendor.uid].evidence["accounts"] == [OTHER_ACCOUNT]
    assert "without sts:ExternalId" in found[vendor.uid].detail
    assert found[guarded.uid].status is Status.PASS
    assert OTHER_ACCOUNT in found[guarded.uid].detail
    assert {found[r.uid].status for r in (own, service, federated)} == {Status.PASS}


def test_star_narrowed_by_a_condition_is_high():
    org = role(
        "org",
        trust_policy=trust(
            assume("*", Condition={"StringEquals": {"aws:PrincipalOrgID": "o-abc"}})
        ),
    )
    result = only("aws-iam-role-external-trust", inventory(org))
    assert result.status is Status.FAIL
    assert result.severity is Severity.HIGH
    assert "aws:PrincipalOrgID" in result.detail
