"""The RBAC model the identity checks share: matching, aggregation, subjects."""

from __future__ import annotations

from postureapp.domain.kubernetes import rbac

from .estate import cluster_role, crb, inventory, k8s, rb, rule, sa_subject


def test_rule_matching_follows_the_authorizer():
    exec_any = rbac.Rule(("",), ("*/exec",), ("create",))
    assert exec_any.allows("create", "", "pods/exec")
    assert not exec_any.allows("create", "", "pods")
    everything = rbac.Rule(("*",), ("*",), ("*",))
    assert everything.allows("impersonate", "authentication.k8s.io", "userextras/scopes")
    assert everything.admin_equivalent and everything.wildcard
    core_only = rbac.Rule(("",), ("*",), ("*",))
    assert not core_only.admin_equivalent and core_only.wildcard
    assert not core_only.allows("get", "apps", "deployments")
    urls = rbac.Rule(verbs=("get",), non_resource_urls=("/metrics",))
    assert not urls.allows("get", "", "pods") and not urls.wildcard


def test_aggregation_is_transitive_and_survives_cycles():
    inv = inventory(
        cluster_role("a", aggregate={"agg": "a"}, labels={"agg": "b"}),
        cluster_role("b", rule(["get"], ["pods"]), aggregate={"agg": "b"}, labels={"agg": "a"}),
        cluster_role("c", rule(["list"], ["secrets"]), labels={"agg": "b"}),
        crb("to-a", "a", sa_subject("x", "ns")),
    )
    [grant] = rbac.RbacIndex(inv).grants()
    assert {r.describe() for r in grant.rules} == {"get on pods", "list on secrets"}
    assert set(grant.aggregated_from) == {"b"}


def test_aggregation_selectors_with_expressions():
    inv = inventory(
        k8s(
            "ClusterRole",
            "monitoring",
            aggregationRule={
                "clusterRoleSelectors": [
                    {"matchExpressions": [{"key": "team", "operator": "In", "values": ["obs"]}]}
                ]
            },
            rules=[],
        ),
        cluster_role("obs-extra", rule(["get"], ["nodes/proxy"]), labels={"team": "obs"}),
        cluster_role("other", rule(["*"], ["*"], groups=["*"]), labels={"team": "web"}),
        crb("monitoring", "monitoring", sa_subject("prometheus", "monitoring")),
    )
    [grant] = rbac.RbacIndex(inv).grants()
    assert [r.describe() for r in grant.rules] == ["get on nodes/proxy"]
    assert rbac.NODES_PROXY.matching(grant)


def test_subjects_and_scope_of_a_grant():
    inv = inventory(
        rb(
            "mixed",
            "shop",
            "view",
            sa_subject("api"),
            sa_subject("ci", "tools"),
            {"kind": "Group", "name": "system:serviceaccounts"},
            kind="ClusterRole",
        )
    )
    [grant] = rbac.RbacIndex(inv).grants()
    assert grant.namespace == "shop" and grant.where == "in namespace shop"
    assert grant.subject_labels == [
        "ServiceAccount shop/api",
        "ServiceAccount tools/ci",
        "Group system:serviceaccounts",
    ]
    assert [s.public for s in grant.subjects] == [False, False, True]
    assert grant.assumed_builtin and not rbac.READ_SECRETS.matching(grant)  # view: no secrets
