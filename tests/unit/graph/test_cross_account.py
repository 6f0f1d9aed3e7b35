"""The blast radius crosses accounts: a user of one account whose policy lets it assume
a role of another account, trusted there, reaches what that role holds (issue 17: one
cache, many accounts)."""

from __future__ import annotations

import json
from dataclasses import replace

from postureapp.graph import build_graph, decode_graph, encode_graph
from postureapp.graph.reach import blast_tree
from postureapp.model import Resource
from tests.checks.aws import estate as aws
from tests.unit.graph.test_blast_radius import lines

OTHER = "210987654321"
CI_USER = f"arn:aws:iam::{aws.ACCOUNT}:user/ci"
DEPLOYER = f"arn:aws:iam::{OTHER}:role/deployer"


def in_account(resource: Resource, account: str) -> Resource:
    """The same resource as seen in another account (its ARNs, uid and scope)."""
    moved = json.loads(json.dumps(resource.attrs).replace(aws.ACCOUNT, account))
    return replace(
        resource,
        uid=resource.uid.replace(aws.ACCOUNT, account),
        scope=resource.scope.replace(aws.ACCOUNT, account),
        attrs=moved,
    )


def estate(*, trusted: bool) -> list[Resource]:
    admin = aws.managed_policy("deploy-everything", aws.statement(Action="*", Resource="*"))
    trust = aws.trust(aws.assume({"AWS": CI_USER if trusted else f"arn:aws:iam::{OTHER}:root"}))
    here = aws.role("deployer", attached=aws.attach(admin), trust_policy=trust)
    deployer = in_account(here, OTHER)
    # The trust names principals of the first account: it stays as written.
    for key in ("trust_policy", "trusted_principals"):
        deployer.attrs[key] = here.attrs[key]
    ci = aws.user(
        "ci",
        policies=[aws.inline("hop", aws.statement(Action="sts:AssumeRole", Resource=DEPLOYER))],
    )
    return [
        aws.aws_region(),
        aws.aws_region(account_id=OTHER),
        in_account(admin, OTHER),
        deployer,
        ci,
    ]


def tree(resources: list[Resource]) -> str:
    graph = decode_graph(encode_graph(build_graph(aws.inventory(*resources))))
    root = blast_tree(graph, CI_USER)
    assert root is not None, "the user has nothing to draw"
    return "\n".join(lines(root))


def test_a_user_reaches_the_admin_role_it_may_assume_in_another_account():
    drawn = tree(estate(trusted=True))
    assert DEPLOYER.split("/")[-1] in drawn and OTHER in drawn, drawn
    assert "admin" in drawn.lower(), drawn


def test_no_edge_when_the_other_account_does_not_trust_the_user():
    drawn = tree(estate(trusted=False))
    assert "deployer" not in drawn, drawn
