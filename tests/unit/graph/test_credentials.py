"""The last question of the blast radius: which of the identity's credentials are stale."""

from __future__ import annotations

from postureapp.graph import build_graph
from postureapp.graph.reach import blast_tree
from tests.checks.aws import estate as aws
from tests.checks.kubernetes import estate as kube
from tests.unit.graph import estate as e

WEB_SA = "k8s://prod/shop/ServiceAccount/web"
TOKEN = "kubernetes.io/service-account-token"


def _token(name: str, sa: str, last_used: str | None = None) -> object:
    labels = {"kubernetes.io/legacy-token-last-used": last_used} if last_used else None
    return kube.secret(
        name,
        "shop",
        TOKEN,
        annotations={"kubernetes.io/service-account.name": sa},
        labels=labels,
    )


def _credentials(tree, kind="credential"):
    found = []
    stack = [tree]
    while stack:
        item = stack.pop()
        if item.kind == kind:
            found.append(item)
        stack.extend(item.children)
    return {item.name: item for item in found}


def test_a_service_accounts_unused_long_lived_token_is_stale():
    resources = [
        *e.baseline(),
        _token("web-token-old", "web"),  # created 2024-12-01, never used: stale by 2026-06
        _token("web-token-used", "web", last_used="2026-05-30"),
        _token("batch-token", "batch"),  # another service account's: not web's
    ]
    graph = build_graph(e.inventory(*resources))
    credentials = {c.what: c for c in graph.credentials[WEB_SA]}
    assert set(credentials) == {
        "long-lived token Secret shop/web-token-old",
        "long-lived token Secret shop/web-token-used",
    }
    assert credentials["long-lived token Secret shop/web-token-old"].stale is True
    assert credentials["long-lived token Secret shop/web-token-used"].stale is False
    assert (
        "last used 2026-05-30" in credentials["long-lived token Secret shop/web-token-used"].detail
    )
    items = _credentials(blast_tree(graph, WEB_SA))
    assert items["long-lived token Secret shop/web-token-old"].critical
    assert not items["long-lived token Secret shop/web-token-used"].critical


def test_the_assumed_roles_last_use_and_a_users_keys_are_judged_on_the_thresholds():
    role = e.admin_role("web-admin", e.irsa_trust("system:serviceaccount:shop:web"))
    role.attrs["last_used_date"] = aws.ago(3)
    deploy_user = aws.user(
        "deployer", attached=aws.attach(e.ADMIN), creds=aws.credentials(password=False)
    )
    old_key = aws.access_key("deployer", slot=1, created_days=400, last_used_days=2)
    fresh_key = aws.access_key("deployer", slot=2, created_days=10, last_used_days=1)
    resources = [r for r in e.baseline() if r.kind != "IAMRole"]
    graph = build_graph(e.inventory(*resources, role, deploy_user, old_key, fresh_key))

    (sessions,) = graph.credentials[role.uid]
    assert sessions.stale is False and "last assumed" in sessions.detail
    keys = {c.what: c for c in graph.credentials[deploy_user.uid]}
    assert keys["access key slot 1"].stale is True
    assert "not rotated for over 90 days" in keys["access key slot 1"].detail
    assert keys["access key slot 2"].stale is False
    assert "console password" not in keys  # no password enabled, none listed


def test_a_role_never_assumed_since_long_ago_is_flagged_under_the_service_account():
    tree = blast_tree(build_graph(e.inventory(*e.baseline())), WEB_SA)
    (sessions,) = _credentials(tree).values()  # the role was created 400 days ago, never used
    assert sessions.name == "role sessions" and sessions.critical
    assert "never assumed since" in sessions.evidence
