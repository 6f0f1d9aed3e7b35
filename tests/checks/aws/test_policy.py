"""The IAM policy helpers: wildcard matching, NotAction, Deny, trust principals."""

from __future__ import annotations

import pytest

from postureapp.domain.aws import policy
from postureapp.domain.aws.trust import trust_grants
from tests.checks.aws.estate import ACCOUNT, OTHER_ACCOUNT, assume, document, role, statement


@pytest.mark.parametrize(
    ("pattern", "action", "covered"),
    [
        ("*", "*", True),
        ("*:*", "*", True),
        ("*", "iam:*", True),
        ("iam:*", "iam:*", True),
        ("IAM:*", "iam:PassRole", True),
        ("iam:Attach*", "iam:AttachRolePolicy", True),
        ("iam:Attach*", "iam:*", False),  # a part of IAM is not all of it
        ("iam:Get*", "iam:PassRole", False),
        ("sts:Assume?ole", "sts:AssumeRole", True),
        ("s3:*", "*", False),
    ],
)
def test_action_covers(pattern, action, covered):
    assert policy.action_covers(pattern, action) is covered


def test_resource_patterns_are_case_sensitive_and_use_canaries():
    principal = role("r")
    any_role = policy.canaries(principal, "role")
    assert policy.resource_covers("*", any_role[0])
    assert policy.resource_covers(f"arn:aws:iam::{ACCOUNT}:role/*", any_role[0])
    assert policy.resource_covers("arn:aws:iam::*:role/*", any_role[0])
    assert not policy.resource_covers("arn:aws:iam::*:ROLE/*", any_role[0])
    assert not policy.resource_covers(f"arn:aws:iam::{OTHER_ACCOUNT}:role/*", any_role[0])


def _policies(*statements):
    return [policy.AttachedPolicy("p", None, None, document(*statements))]


def test_not_action_allow_grants_what_it_does_not_exclude():
    policies = _policies(statement(NotAction="iam:*", Resource="*"))
    assert policy.allows(policies, "s3:GetObject", ())
    assert not policy.allows(policies, "iam:PassRole", ())
    # only a part of IAM excluded: conservatively "not all of iam:*", but PassRole allowed
    partial = _policies(statement(NotAction="iam:Delete*", Resource="*"))
    assert policy.allows(partial, "iam:PassRole", ())
    assert not policy.allows(partial, "iam:*", ())


def test_a_deny_cancels_when_it_surely_covers_the_action_and_every_resource():
    allow = statement(Action="iam:*", Resource="*")
    assert not policy.allows(
        _policies(allow, statement("Deny", Action="iam:*", Resource="*")), "iam:PassRole", ()
    )
    scoped_deny = statement("Deny", Action="iam:*", Resource="arn:aws:iam::*:role/admin")
    assert policy.allows(_policies(allow, scoped_deny), "iam:PassRole", ())
    # "Deny everything but s3:*" takes iam:PassRole away; "everything but iam:*" does not.
    not_action_deny = statement("Deny", NotAction="s3:*", Resource="*")
    assert not policy.allows(_policies(allow, not_action_deny), "iam:PassRole", ())
    sparing_iam = statement("Deny", NotAction="iam:*", Resource="*")
    assert policy.allows(_policies(allow, sparing_iam), "iam:PassRole", ())
    # A Deny on every resource but one bucket still covers IAM resources.
    not_resource_deny = statement("Deny", Action="iam:*", NotResource="arn:aws:s3:::logs/*")
    assert not policy.allows(_policies(allow, not_resource_deny), "iam:PassRole", ())
    # A Deny whose condition may not hold cancels nothing; one that always holds does.
    maybe = statement(
        "Deny",
        Action="iam:*",
        Resource="*",
        Condition={"Bool": {"aws:MultiFactorAuthPresent": "false"}},
    )
    assert policy.allows(_policies(allow, maybe), "iam:PassRole", ())
    always = statement(
        "Deny",
        Action="iam:*",
        Resource="*",
        Condition={"DateGreaterThan": {"aws:CurrentTime": "2020-01-01T00:00:00Z"}},
    )
    assert not policy.allows(_policies(allow, always), "iam:PassRole", ())


def test_an_allow_whose_condition_can_never_hold_now_grants_nothing():
    expired = statement(
        Action="iam:*",
        Resource="*",
        Condition={"DateLessThan": {"aws:TokenIssueTime": "2020-01-01T00:00:01Z"}},
    )
    assert not policy.allows(_policies(expired), "iam:PassRole", ())
    current = statement(
        Action="iam:*",
        Resource="*",
        Condition={"DateGreaterThan": {"aws:TokenIssueTime": "2020-01-01T00:00:01Z"}},
    )
    assert policy.allows(_policies(current), "iam:PassRole", ())


def test_trust_grants():
    trust = document(
        assume({"AWS": ["*", OTHER_ACCOUNT, f"arn:aws:iam::{ACCOUNT}:role/ci"]}),
        assume({"AWS": "AROAEXAMPLEDELETEDID"}),
        assume({"Service": "ec2.amazonaws.com"}),
        statement(NotPrincipal={"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, Action="sts:*"),
    )
    grants = trust_grants(trust, ACCOUNT)
    assert [(g.principal, g.account) for g in grants] == [
        ("*", None),
        (OTHER_ACCOUNT, OTHER_ACCOUNT),
        (f"NotPrincipal: arn:aws:iam::{ACCOUNT}:root", None),
    ]
