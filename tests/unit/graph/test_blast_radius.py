"""The blast radius from every identity the graph knows (IAM groups and users, roles,
Kubernetes service accounts, users and groups), and the edges it could not see drawn
where the tree stops, with the read that failed; both survive the stored document."""

from __future__ import annotations

from postureapp.graph import build_graph, decode_graph, encode_graph
from postureapp.graph.reach import TreeItem, blast_tree, exposure_table
from postureapp.model import k8s_uid
from tests.checks.aws import estate as aws
from tests.checks.kubernetes import estate as kube
from tests.unit.graph import estate as e

WEB = "k8s://prod/shop/Deployment/web"
WEB_SA = "k8s://prod/shop/ServiceAccount/web"
ADMINS = f"arn:aws:iam::{e.ACCOUNT}:group/admins"
ALICE = f"arn:aws:iam::{e.ACCOUNT}:user/alice"
DENIED = "403 AccessDeniedException: eks:ListPodIdentityAssociations"


def graph(*resources, runs=None):
    return build_graph(e.inventory(*resources, runs=runs))


def stored(g):
    """The graph as the dashboard reads it: through the cache's JSON document."""
    return decode_graph(encode_graph(g))


def lines(item: TreeItem, depth: int = 0) -> list[str]:
    found = [f"{'  ' * depth}{item.kind}|{item.relation or ''}|{item.name}|{item.evidence}"]
    for child in item.children:
        found.extend(lines(child, depth + 1))
    return found


def text(g, uid: str) -> str:
    root = blast_tree(g, uid)
    assert root is not None, f"{uid} has nothing to draw"
    return "\n".join(lines(root))


def unreadable_pod_identity():
    resources = [e.eks_cluster(), *e.pod_identity_exposed()]
    return graph(*resources, runs=[e.aws_partial(EKSPodIdentityAssociation=DENIED)])


def test_an_unreadable_pod_identity_read_is_an_unknown_edge_with_its_reason():
    g = unreadable_pod_identity()
    (unknown,) = g.unknown_from(WEB_SA)
    assert unknown.reaches == "an IAM role through EKS Pod Identity"
    assert DENIED in unknown.reason
    # The path checks keep reading the same gap as before.
    assert g.gaps[WEB_SA].startswith("EKS Pod Identity associations could not be read")


def test_the_stored_graph_keeps_unknown_edges_and_the_tree_shows_them_where_it_stops():
    g = stored(unreadable_pod_identity())
    assert [u.source for u in g.unknown] == [WEB_SA]
    tree = text(g, WEB)
    # Under the workload's service account, not at the top: that is where it stops.
    sa_line = next(line for line in tree.splitlines() if "runs-as" in line)
    unknown_line = next(line for line in tree.splitlines() if line.lstrip().startswith("unknown|"))
    assert len(unknown_line) - len(unknown_line.lstrip()) > len(sa_line) - len(sa_line.lstrip())
    assert "may reach an IAM role through EKS Pod Identity" in unknown_line
    assert DENIED in unknown_line


def test_a_document_stored_before_unknown_edges_falls_back_to_the_gap():
    document = encode_graph(unreadable_pod_identity())
    del document["unknown"]
    tree = text(decode_graph(document), WEB_SA)
    assert "unknown||may reach more|unknown — EKS Pod Identity associations" in tree


def test_a_fully_read_estate_has_no_unknown_edge():
    g = graph(*e.baseline())
    assert g.unknown == []
    assert "unknown|" not in text(g, WEB)


def test_unreadable_rbac_is_an_unknown_edge_on_each_service_account():
    g = stored(
        graph(*e.baseline(), runs=[e.kube_partial(RoleBinding="403 Forbidden: rolebindings")])
    )
    tree = text(g, WEB_SA)
    assert (
        "may reach Kubernetes roles through bindings|unknown — RoleBinding: 403 Forbidden" in tree
    )


def test_an_iam_group_reaches_what_its_policies_allow_and_names_its_members():
    g = stored(
        graph(
            aws.group("admins", attached=aws.attach(e.ADMIN)),
            aws.user("alice", groups=["admins"]),
        )
    )
    tree = text(g, ADMINS)
    assert tree.splitlines()[0].startswith("iam-group||admins")
    assert "capability|can|admin-equivalent (aws)" in tree
    assert "AdministratorAccess" in tree
    assert "iam-user|member|alice" in tree
    assert exposure_table(g)[ADMINS].reach == "admin(aws)"


def test_an_iam_user_reaches_through_its_own_policies_and_its_groups():
    secrets = aws.inline("own", aws.statement(Action="secretsmanager:GetSecretValue", Resource="*"))
    data = aws.inline("data", aws.statement(Action="s3:GetObject", Resource="*"))
    g = stored(
        graph(
            aws.group("analysts", policies=[data]),
            aws.user("alice", groups=["analysts"], policies=[secrets]),
        )
    )
    tree = text(g, ALICE)
    group_line = next(line for line in tree.splitlines() if "member-of" in line)
    assert "iam-group|member-of|analysts" in group_line
    own, through_group = tree.split(group_line, 1)
    assert "read-secrets (aws)" in own and "broad-data (aws)" in own
    assert "broad-data (aws)" in through_group and "read-secrets" not in through_group


def test_kubernetes_users_groups_and_idle_service_accounts_are_starting_points():
    admin = kube.cluster_role("admin-all", kube.rule(["*"], ["*"], groups=["*"]))
    resources = [
        admin,
        kube.crb("ops", "admin-all", kube.group("ops-team"), kube.user("carol")),
        kube.service_account("backup", "tools"),
        kube.crb("backup", "admin-all", kube.sa_subject("backup", "tools")),
    ]
    g = stored(graph(*resources))
    for uid in (
        k8s_uid(e.SCOPE, "Group", "ops-team"),
        k8s_uid(e.SCOPE, "User", "carol"),
        k8s_uid(e.SCOPE, "ServiceAccount", "backup", "tools"),
    ):
        tree = text(g, uid)
        assert "k8s-role|bound-to|admin-all" in tree
        assert "capability|can|admin-equivalent (kubernetes)" in tree
