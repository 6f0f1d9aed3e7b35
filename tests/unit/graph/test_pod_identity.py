"""EKS Pod Identity and instance profiles in the graph: which cluster a kube context
is, and a gap (never silence) whenever a link could exist but was not seen."""

from __future__ import annotations

from postureapp.graph import attack_paths, build_graph
from postureapp.graph.model import ASSUMES, RUNS
from tests.checks.aws import estate as aws
from tests.unit.graph import estate as e

WEB = "k8s://prod/shop/Deployment/web"
WEB_SA = "k8s://prod/shop/ServiceAccount/web"
SERVER = "https://ABC123.gr7.eu-west-1.eks.amazonaws.com"


def graph(*resources, runs=None, server=None):
    return build_graph(e.inventory(*resources, runs=runs, server=server))


def pod_identity_estate(*, cluster: str = e.SCOPE, endpoint: str | None = None):
    return [
        e.eks_cluster(cluster, endpoint=endpoint),
        *e.pod_identity_exposed(),
        e.admin_role("pi-admin", e.POD_TRUST),
        e.association("shop", "web", "pi-admin", cluster=cluster),
    ]


def test_pod_identity_links_when_the_context_is_named_after_the_cluster():
    g = graph(*pod_identity_estate())
    (edge,) = g.out(WEB_SA, ASSUMES)
    assert edge.target == e.role_arn("pi-admin")
    assert WEB_SA not in g.gaps


def test_pod_identity_links_through_the_api_endpoint_when_the_context_is_named_otherwise():
    g = graph(*pod_identity_estate(cluster="prod-eks", endpoint=SERVER), server=SERVER)
    (edge,) = g.out(WEB_SA, ASSUMES)
    assert "EKS Pod Identity association a-1" in edge.evidence["via"]
    (path,) = attack_paths(g)
    assert path.hops[-2].uid == e.role_arn("pi-admin")


def test_irsa_and_pod_identity_use_the_same_cluster_match():
    irsa_sa = e.irsa_account("web", "shop", "web-admin")
    resources = [
        e.eks_cluster("prod-eks", endpoint=SERVER),
        irsa_sa,
        *e.deployment("web", "shop", "web"),
        e.load_balancer("web", "shop", "web"),
        e.admin_role("web-admin", e.irsa_trust("system:serviceaccount:shop:web")),
    ]
    (edge,) = graph(*resources, server=SERVER).out(WEB_SA, ASSUMES)
    assert edge.evidence["issuer_verified"] is True


def test_an_association_of_another_cluster_does_not_link_and_is_no_gap():
    resources = [
        *pod_identity_estate(cluster="prod-eks", endpoint=SERVER),
        e.eks_cluster(e.SCOPE),  # the context's own cluster, by name
    ]
    resources[-2] = e.association("shop", "web", "pi-admin", cluster="staging")
    g = graph(*resources)
    assert g.out(WEB_SA, ASSUMES) == []
    assert WEB_SA not in g.gaps


def test_unreadable_associations_are_a_gap_on_every_service_account_of_the_cluster():
    resources = pod_identity_estate()[:-1]
    g = graph(*resources, runs=[e.aws_partial(EKSPodIdentityAssociation="AccessDenied")])
    assert g.out(WEB_SA, ASSUMES) == []
    assert "EKS Pod Identity" in g.gaps[WEB_SA] and "AccessDenied" in g.gaps[WEB_SA]


def test_a_cluster_whose_associations_were_not_counted_is_a_gap():
    resources = [e.eks_cluster(associations=None), *e.pod_identity_exposed()]
    assert "not read for this cluster" in graph(*resources).gaps[WEB_SA]


def test_unreadable_eks_clusters_are_a_gap_when_the_context_matches_none():
    g = graph(*e.pod_identity_exposed(), runs=[e.aws_partial(EKSCluster="AccessDenied")])
    assert "EKS clusters of" in g.gaps[WEB_SA] and "AccessDenied" in g.gaps[WEB_SA]


def test_no_gap_when_every_eks_cluster_was_read_and_none_is_this_context():
    # A self-managed or other-cloud cluster: nothing in the collected accounts is it.
    g = graph(e.eks_cluster("elsewhere"), *e.pod_identity_exposed())
    assert WEB_SA not in g.gaps


def test_no_gap_in_a_cluster_only_poll():
    from postureapp.inventory import Inventory
    from tests.checks.kubernetes import estate as kube

    g = build_graph(Inventory(resources=[kube.cluster(), *e.pod_identity_exposed()]))
    assert g.gaps == {}


def test_an_association_whose_role_was_not_read_is_a_gap_not_silence():
    resources = [r for r in pod_identity_estate() if r.kind != "IAMRole"]
    g = graph(*resources, runs=[e.aws_partial(IAMRole="AccessDenied")])
    assert g.out(WEB_SA, ASSUMES) == []
    assert "pi-admin" in g.gaps[WEB_SA] and "AccessDenied" in g.gaps[WEB_SA]
    assert g.near_misses == []


def test_an_association_whose_describe_failed_is_a_gap():
    resources = pod_identity_estate()
    resources[-1] = e.association("shop", "web", None)
    assert "its IAM role was not read" in graph(*resources).gaps[WEB_SA]


def test_an_association_to_a_deleted_role_in_a_fully_read_account_is_a_near_miss():
    resources = [r for r in pod_identity_estate() if r.kind != "IAMRole"]
    g = graph(*resources)
    assert WEB_SA not in g.gaps
    (miss,) = g.near_misses
    assert miss["role"] == e.role_arn("pi-admin") and miss["reason"] == "no such IAM role"


def test_an_instance_whose_profile_role_was_not_read_is_a_gap_on_the_instance():
    instance_uid = e.open_instance(None)[1].uid
    g = graph(
        *e.open_instance(e.instance_profile("bastion")),
        runs=[e.aws_partial(IAMRole="AccessDenied")],
    )
    assert "AccessDenied" in g.gaps[instance_uid]
    assert g.out(instance_uid, RUNS) == []


def test_an_instance_profile_without_a_role_in_a_fully_read_account_is_no_gap():
    instance_uid = e.open_instance(None)[1].uid
    g = graph(*e.open_instance(e.instance_profile("bastion")))
    assert instance_uid not in g.gaps


def test_an_instance_profile_of_an_uncollected_account_is_a_gap():
    instance_uid = e.open_instance(None)[1].uid
    foreign = "arn:aws:iam::999999999999:instance-profile/bastion"
    assert "999999999999" in graph(*e.open_instance(foreign)).gaps[instance_uid]


def test_the_instance_profile_role_links_as_before():
    role = aws.role("bastion", attached=aws.attach(e.ADMIN))
    role.attrs["instance_profiles"] = [e.instance_profile("bastion")]
    g = graph(role, *e.open_instance(e.instance_profile("bastion")))
    instance_uid = e.open_instance(None)[1].uid
    assert [edge.target for edge in g.out(instance_uid, RUNS)] == [role.uid]
    assert instance_uid not in g.gaps
