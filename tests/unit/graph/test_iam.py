"""Capabilities of one IAM principal: PassRole paired with scoped create actions, and
Denies with NotResource that narrow rather than cancel."""

from __future__ import annotations

from postureapp.domain.aws.policy import Principals
from postureapp.graph import build_graph
from postureapp.graph.iam import Analysis
from postureapp.graph.model import CAN
from tests.checks.aws import estate as aws
from tests.unit.graph import estate as e

FUNCTIONS = f"arn:aws:lambda:*:{aws.ACCOUNT}:function:*"
APP_SECRETS = f"arn:aws:secretsmanager:*:{aws.ACCOUNT}:secret:app/*"


def analysis(*statements) -> Analysis:
    role = aws.role("r", policies=[aws.inline("p", *statements)])
    policies, _ = Principals(aws.inventory(role)).policies(role)
    return Analysis(role, policies)


def pass_role(resource: str = "*"):
    return aws.statement("Allow", Action="iam:PassRole", Resource=resource)


def invoke():
    return aws.statement("Allow", Action="lambda:InvokeFunction", Resource=FUNCTIONS)


def test_pass_role_with_create_function_scoped_to_function_arns_escalates():
    perm = analysis(
        pass_role(),
        aws.statement("Allow", Action="lambda:CreateFunction", Resource=FUNCTIONS),
        invoke(),
    ).escalate()
    assert perm is not None and "lambda:CreateFunction" in perm.grants[0].text


def test_pass_role_with_create_on_one_named_function_escalates():
    named = f"arn:aws:lambda:eu-west-1:{aws.ACCOUNT}:function:job"
    perm = analysis(
        pass_role(),
        aws.statement("Allow", Action="lambda:CreateFunction", Resource=named),
        invoke(),
    ).escalate()
    assert perm is not None


def test_a_function_created_with_a_role_but_never_run_does_not_escalate():
    # The published method needs a way to run it (invoke, an event source, a permission).
    perm = analysis(
        pass_role(), aws.statement("Allow", Action="lambda:CreateFunction", Resource=FUNCTIONS)
    ).escalate()
    assert perm is None


def test_pass_role_with_create_allowed_only_on_another_service_does_not_escalate():
    other = "arn:aws:s3:::bucket/*"
    assert (
        analysis(pass_role(), aws.statement("Allow", Action="*", Resource=other)).escalate() is None
    )


def test_pass_role_with_scoped_create_cancelled_by_a_deny_on_all_functions_does_not_escalate():
    perm = analysis(
        pass_role(),
        aws.statement("Allow", Action="lambda:CreateFunction", Resource=FUNCTIONS),
        invoke(),
        aws.statement("Deny", Action="lambda:*", Resource="*"),
    ).escalate()
    assert perm is None


def test_pass_role_alone_does_not_escalate():
    assert analysis(pass_role()).escalate() is None


def test_a_deny_with_not_resource_narrows_secret_reading_instead_of_cancelling_it():
    a = analysis(
        aws.statement("Allow", Action="secretsmanager:GetSecretValue", Resource="*"),
        aws.statement("Deny", Action="secretsmanager:GetSecretValue", NotResource=APP_SECRETS),
    )
    perm = a.read_secrets()
    assert perm is not None and perm.denied == ()
    (grant,) = perm.grants
    assert grant.denied_by and "all but " + APP_SECRETS in grant.denied_by[0]
    named = dict(a.named_resources())
    assert APP_SECRETS in named and "denies it on every other resource" in named[APP_SECRETS]


def test_a_deny_with_not_resource_of_another_service_still_cancels():
    perm = analysis(
        aws.statement("Allow", Action="ssm:GetParameter", Resource="*"),
        aws.statement("Deny", Action="ssm:*", NotResource=APP_SECRETS),
    ).read_secrets()
    assert perm is None


def test_an_unconditional_deny_on_everything_still_cancels():
    perm = analysis(
        aws.statement("Allow", Action="secretsmanager:GetSecretValue", Resource="*"),
        aws.statement("Deny", Action="secretsmanager:GetSecretValue", Resource="*"),
    ).read_secrets()
    assert perm is None


def test_the_exempted_secrets_become_can_edges():
    role = aws.role(
        "reader",
        policies=[
            aws.inline(
                "p",
                aws.statement("Allow", Action="secretsmanager:GetSecretValue", Resource="*"),
                aws.statement(
                    "Deny", Action="secretsmanager:GetSecretValue", NotResource=APP_SECRETS
                ),
            )
        ],
    )
    g = build_graph(e.inventory(role))
    assert [edge.target for edge in g.out(role.uid, CAN)] == [APP_SECRETS]
    assert [p.capability for p in g.permissions[role.uid]] == ["read-secrets"]


def test_everything_on_every_arn_is_admin():
    perm = analysis(aws.statement("Allow", Action="*", Resource="arn:aws:*")).admin()
    assert perm is not None


def test_everything_on_one_bucket_is_not_admin():
    a = analysis(aws.statement("Allow", Action="*", Resource="arn:aws:s3:::bucket/*"))
    assert a.admin() is None
