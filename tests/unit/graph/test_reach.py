"""What the dashboard reads from the graph: exposure columns and the blast tree."""

from __future__ import annotations

from postureapp.graph import build_graph
from postureapp.graph.reach import blast_tree, exposure_table
from postureapp.store.views import parse_filter
from tests.checks.kubernetes import estate as kube
from tests.unit.graph import estate as e

WEB = "k8s://prod/shop/Deployment/web"
WEB_SA = "k8s://prod/shop/ServiceAccount/web"


def test_exposure_marks_what_lies_on_a_path_and_says_what_it_reaches():
    resources = [
        *e.baseline(),
        kube.service_account("batch", "shop"),
        *e.deployment("batch", "shop", "batch"),
        kube.crb("batch-admin", "cluster-admin", kube.sa_subject("batch", "shop")),
    ]
    table = exposure_table(build_graph(e.inventory(*resources)))
    assert table[WEB].exposed and table[WEB].reach == "admin(aws)"
    assert table[WEB_SA].exposed and table[e.role_arn("web-admin")].exposed
    pod = "k8s://prod/shop/Pod/web-5d4c3b2a1-0"
    assert table[pod] == table[WEB]  # a pod stands for its workload
    batch = table["k8s://prod/shop/ServiceAccount/batch"]
    assert not batch.exposed and batch.reach == "admin(k8s)"


def test_blast_tree_from_a_service_account_goes_both_ways():
    tree = blast_tree(build_graph(e.inventory(*e.baseline())), WEB_SA)
    assert tree is not None
    reached, assumed = tree.children
    assert reached.name == "reached from the internet"
    entry = reached.children[0]
    assert entry.kind == "endpoint" and "internet-facing" in entry.evidence
    assert assumed.relation == "assumes" and "StringEquals" in assumed.evidence
    (capability,) = [child for child in assumed.children if child.kind == "capability"]
    assert capability.critical and "AdministratorAccess" in capability.children[0].name


def test_blast_tree_of_an_unknown_uid_is_none():
    assert blast_tree(build_graph(e.inventory(*e.baseline())), "k8s://prod/x/Secret/y") is None


def test_the_exposed_filter_term():
    assert [t.value for t in parse_filter("exposed:YES").terms] == ["yes"]
    assert parse_filter("exposed:maybe").errors
