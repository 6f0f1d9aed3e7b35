"""AWS-managed policies whose effect is known without their document.

A dump made with ``aws iam get-account-authorization-details --filter Role`` (or
``LocalManagedPolicy``-less filters) has no ``Policies`` list, so the documents of the
AWS-managed policies a role attaches are absent. A few of them decide the verdicts that
matter here and are stable: ``AdministratorAccess`` grants everything;
``PowerUserAccess`` everything but IAM, Organizations and Account (plus a handful of IAM
reads and service-linked role creation); ``IAMFullAccess`` all of IAM. The read-only
job-function policies grant reads only (their exact action list changes often, so they
are approximated by the read verbs, which no escalation method uses).

A policy not listed here whose document is absent stays "not collected": its principal
is unknown, never judged on a guess.
"""

from __future__ import annotations

from typing import Any

_READ_VERBS = ["*:Describe*", "*:Get*", "*:List*", "*:BatchGet*", "*:Search*", "*:View*"]


def _doc(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


KNOWN: dict[str, dict[str, Any]] = {
    "AdministratorAccess": _doc({"Effect": "Allow", "Action": ["*"], "Resource": ["*"]}),
    "PowerUserAccess": _doc(
        {
            "Effect": "Allow",
            "NotAction": ["iam:*", "organizations:*", "account:*"],
            "Resource": ["*"],
        },
        {
            "Effect": "Allow",
            "Action": [
                "account:GetAccountInformation",
                "account:GetPrimaryEmail",
                "account:ListRegions",
                "iam:CreateServiceLinkedRole",
                "iam:DeleteServiceLinkedRole",
                "iam:ListRoles",
                "organizations:DescribeOrganization",
            ],
            "Resource": ["*"],
        },
    ),
    "IAMFullAccess": _doc(
        {
            "Effect": "Allow",
            "Action": [
                "iam:*",
                "organizations:DescribeAccount",
                "organizations:DescribeOrganization",
                "organizations:DescribeOrganizationalUnit",
                "organizations:DescribePolicy",
                "organizations:ListChildren",
                "organizations:ListParents",
                "organizations:ListPoliciesForTarget",
                "organizations:ListRoots",
                "organizations:ListPolicies",
                "organizations:ListTargetsForPolicy",
            ],
            "Resource": ["*"],
        }
    ),
    "ReadOnlyAccess": _doc({"Effect": "Allow", "Action": _READ_VERBS, "Resource": ["*"]}),
    "ViewOnlyAccess": _doc({"Effect": "Allow", "Action": _READ_VERBS, "Resource": ["*"]}),
    "SecurityAudit": _doc({"Effect": "Allow", "Action": _READ_VERBS, "Resource": ["*"]}),
}


def known_document(arn: str) -> dict[str, Any] | None:
    """The known effect of an AWS-managed policy (``arn:<partition>:iam::aws:policy/...``),
    or None."""
    parts = arn.split(":", 5)
    if len(parts) < 6 or parts[4] != "aws" or not parts[5].startswith("policy/"):
        return None
    return KNOWN.get(parts[5].rsplit("/", 1)[-1])
