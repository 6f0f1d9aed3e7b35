"""The identity graph on small two-plane estates: each link, each near-miss."""

from __future__ import annotations

from postureapp.graph import attack_paths, build_graph, exposed_workloads, paths_from
from postureapp.graph.model import ADMIN, ASSUMES, BROAD_DATA, ESCALATE, READ_SECRETS
from tests.checks.aws import estate as aws
from tests.checks.kubernetes import estate as kube
from tests.unit.graph import estate as e

WEB = "k8s://prod/shop/Deployment/web"
WEB_SA = "k8s://prod/shop/ServiceAccount/web"
WEB_ROLE = e.role_arn("web-admin")


def graph(*resources, runs=None):
    return build_graph(e.inventory(*resources, runs=runs))


def test_the_full_path_from_load_balancer_to_aws_admin_has_each_hop_and_its_evidence():
    g = graph(*e.baseline())
    (path,) = attack_paths(g)
    assert [h.kind for h in path.hops] == [
        "endpoint",
        "workload",
        "service-account",
        "iam-role",
        "capability",
    ]
    assert [h.relation for h in path.hops] == [None, "exposes", "runs-as", "assumes", "can"]
    assert path.capability == ADMIN and path.plane == "aws" and not path.conditional
    assumes = path.hops[3].evidence
    assert assumes["confirmed"] is True and assumes["issuer_verified"] is True
    assert (
        "StringEquals" in assumes["trust"] and "system:serviceaccount:shop:web" in assumes["trust"]
    )
    assert "internet-facing LoadBalancer web.elb.example.com" in path.hops[0].evidence["why"]
    grant = path.hops[-1].evidence["grants"][0]
    assert "AdministratorAccess" in grant["text"] and grant["resource"] == "*"
    assert exposed_workloads(g) == {WEB: ["k8s://prod/shop/Service/web"]}
    hop_dict = path.to_dict()["hops"][0]
    assert set(hop_dict) == {"kind", "uid", "name", "relation", "evidence"}


def test_a_trust_policy_for_another_namespace_is_a_near_miss_without_assume_edge():
    resources = e.baseline()
    resources[-1] = e.admin_role("web-admin", e.irsa_trust("system:serviceaccount:other:web"))
    g = graph(*resources)
    assert g.out(WEB_SA, ASSUMES) == []
    assert attack_paths(g) == []
    (miss,) = g.near_misses
    assert miss["service_account"] == WEB_SA and "system:serviceaccount:other:web" in miss["reason"]


def test_a_trust_for_another_clusters_issuer_does_not_link():
    resources = e.baseline()
    resources[-1] = e.admin_role(
        "web-admin", e.irsa_trust("system:serviceaccount:shop:web", host=e.OTHER_ISSUER)
    )
    g = graph(*resources)
    assert g.out(WEB_SA, ASSUMES) == []
    assert "another OIDC provider" in g.near_misses[0]["reason"]


def test_without_the_eks_cluster_the_issuer_is_unverified_and_said_so():
    g = graph(*e.baseline()[1:])
    (edge,) = g.out(WEB_SA, ASSUMES)
    assert edge.evidence["issuer_verified"] is False
    assert "not verified" in edge.evidence["trust"]


def test_a_namespace_wildcard_sub_links_and_is_marked():
    resources = e.baseline()
    resources[-1] = e.admin_role(
        "web-admin", e.irsa_trust("system:serviceaccount:shop:*", operator="StringLike")
    )
    (edge,) = graph(*resources).out(WEB_SA, ASSUMES)
    assert edge.evidence["wildcard"] == "namespace"


def test_a_wildcard_in_string_equals_is_literal_and_does_not_link():
    resources = e.baseline()
    resources[-1] = e.admin_role("web-admin", e.irsa_trust("system:serviceaccount:shop:*"))
    assert graph(*resources).out(WEB_SA, ASSUMES) == []


def test_an_explicit_deny_of_everything_cancels_the_admin_grant_and_is_shown():
    deny = aws.inline("guard", aws.statement("Deny", Action="*", Resource="*"))
    role = aws.role(
        "web-admin",
        attached=aws.attach(e.ADMIN),
        policies=[deny],
        trust_policy=e.irsa_trust("system:serviceaccount:shop:web"),
    )
    g = graph(*e.baseline()[:-1], role)
    assert g.permissions[WEB_ROLE] == []
    assert attack_paths(g) == []


def test_a_deny_overrides_an_allow_of_the_same_action():
    allow = aws.inline("read", aws.statement(Action="s3:GetObject", Resource="*"))
    deny = aws.inline("guard", aws.statement("Deny", Action="s3:Get*", Resource="*"))
    role = aws.role("reader", policies=[allow, deny])
    g = graph(role)
    assert g.permissions[role.uid] == []
    near = aws.role("reader2", policies=[allow])
    (perm,) = graph(near).permissions[near.uid]
    assert perm.capability == BROAD_DATA


def test_a_conditional_or_narrower_deny_does_not_cancel_but_is_listed():
    allow = aws.inline("read", aws.statement(Action="s3:GetObject", Resource="*"))
    deny = aws.inline(
        "guard",
        aws.statement(
            "Deny",
            Action="s3:*",
            Resource="*",
            Condition={"Bool": {"aws:SecureTransport": "false"}},
        ),
    )
    role = aws.role("reader", policies=[allow, deny])
    (perm,) = graph(role).permissions[role.uid]
    assert perm.capability == BROAD_DATA
    assert "Bool aws:SecureTransport=false" in perm.grants[0].denied_by[0]


def test_conditions_on_an_allow_are_shown_not_dropped():
    allow = aws.inline(
        "secrets",
        aws.statement(
            Action="secretsmanager:GetSecretValue",
            Resource="*",
            Condition={"StringEquals": {"aws:ResourceTag/team": "shop"}},
        ),
    )
    role = aws.role("reader", policies=[allow])
    (perm,) = graph(role).permissions[role.uid]
    assert perm.capability == READ_SECRETS and perm.conditional
    assert perm.grants[0].conditions == ("StringEquals aws:ResourceTag/team=shop",)
    assert "[conditional]" in perm.summary()


def test_a_secret_named_in_the_policy_is_a_resource_not_the_read_secrets_capability():
    arn = f"arn:aws:secretsmanager:{aws.REGION}:{aws.ACCOUNT}:secret:shop/db-*"
    allow = aws.inline("own", aws.statement(Action="secretsmanager:GetSecretValue", Resource=arn))
    role = aws.role("scoped", policies=[allow])
    g = graph(role)
    assert g.permissions[role.uid] == []
    assert [edge.target for edge in g.out(role.uid, "can")] == [arn]


def test_wildcards_are_expanded_against_botocore_models():
    allow = aws.inline("read", aws.statement(Action="s3:Get*", Resource="*"))
    role = aws.role("reader", policies=[allow])
    (perm,) = graph(role).permissions[role.uid]
    text = perm.grants[0].text
    assert "s3:Get* (" in text and "actions)" in text


def test_pass_role_escalates_only_with_a_compute_create_action():
    alone = aws.role(
        "passer", policies=[aws.inline("p", aws.statement(Action="iam:PassRole", Resource="*"))]
    )
    assert graph(alone).permissions[alone.uid] == []
    paired = aws.role(
        "builder",
        policies=[
            aws.inline("p", aws.statement(Action=["iam:PassRole", "lambda:Create*"], Resource="*"))
        ],
    )
    (perm,) = graph(paired).permissions[paired.uid]
    assert perm.capability == ESCALATE and "lambda:Create" in perm.grants[0].text


def test_policy_version_rewrite_is_escalation():
    role = aws.role(
        "rewriter",
        policies=[aws.inline("p", aws.statement(Action="iam:CreatePolicyVersion", Resource="*"))],
    )
    assert [p.capability for p in graph(role).permissions[role.uid]] == [ESCALATE]


def test_kubernetes_rbac_paths_with_bindings_as_evidence():
    resources = [
        kube.service_account("ops", "shop"),
        *e.deployment("ops", "shop", "ops"),
        e.load_balancer("ops", "shop", "ops"),
        kube.crb("ops-admin", "cluster-admin", kube.sa_subject("ops", "shop")),
        kube.service_account("reader", "shop"),
        *e.deployment("reader", "shop", "reader"),
        e.load_balancer("reader", "shop", "reader"),
        kube.role("secrets", "shop", kube.rule(["get", "list"], ["secrets"])),
        kube.rb("reader-secrets", "shop", "secrets", kube.sa_subject("reader")),
        kube.service_account("named", "shop"),
        *e.deployment("named", "shop", "named"),
        e.load_balancer("named", "shop", "named"),
        kube.role("one", "shop", kube.rule(["get"], ["secrets"], names=["tls"])),
        kube.rb("named-one", "shop", "one", kube.sa_subject("named")),
    ]
    g = graph(*resources)
    found = {(p.workload.name, p.capability, p.plane) for p in attack_paths(g)}
    assert found == {
        ("shop/ops", ADMIN, "kubernetes"),
        ("shop/reader", READ_SECRETS, "kubernetes"),
    }
    admin = next(p for p in attack_paths(g) if p.capability == ADMIN)
    assert admin.hops[3].relation == "bound-to"
    assert "ClusterRoleBinding ops-admin" in admin.hops[3].evidence["binding"]


def test_ingress_to_cluster_ip_service_to_workload():
    resources = [
        kube.service_account("web", "shop"),
        *e.deployment("web", "shop", "web"),
        e.internal_service("web", "shop", "web"),
        kube.k8s(
            "Ingress",
            "web",
            "shop",
            spec={
                "rules": [
                    {
                        "host": "shop.example.com",
                        "http": {
                            "paths": [
                                {
                                    "path": "/",
                                    "pathType": "Prefix",
                                    "backend": {"service": {"name": "web", "port": {"number": 80}}},
                                }
                            ]
                        },
                    }
                ]
            },
        ),
        kube.crb("web-admin", "cluster-admin", kube.sa_subject("web", "shop")),
    ]
    (path,) = attack_paths(graph(*resources))
    assert [h.kind for h in path.hops][:3] == ["endpoint", "endpoint", "workload"]
    assert path.hops[0].uid.endswith("/Ingress/web")


def test_an_internal_load_balancer_is_no_entry_point():
    resources = e.baseline()
    resources[3] = e.load_balancer("web", "shop", "web", internal=True)
    g = graph(*resources)
    assert attack_paths(g) == [] and exposed_workloads(g) == {}
    # from the workload itself the reach is still known (the blast radius view uses it)
    assert [p.capability for p in paths_from(g, WEB)] == [ADMIN]


def test_an_alb_whose_dns_name_is_the_services_address_leads_to_it():
    lb = aws.resource(
        "LoadBalancer",
        "alb",
        {"internet_facing": True, "scheme": "internet-facing", "dns_name": "web.elb.example.com"},
        uid=f"arn:aws:elasticloadbalancing:{aws.REGION}:{aws.ACCOUNT}:loadbalancer/app/alb/1",
    )
    g = graph(*e.baseline(), lb)
    starts = {p.endpoint.uid for p in attack_paths(g)}
    assert lb.uid in starts


def test_an_instance_behind_an_open_security_group_runs_as_its_profile_role():
    profile = f"arn:aws:iam::{aws.ACCOUNT}:instance-profile/bastion"
    role = aws.role("bastion", attached=aws.attach(e.ADMIN))
    role.attrs["instance_profiles"] = [profile]
    group = aws.resource(
        "SecurityGroup",
        "sg-1",
        {
            "group_id": "sg-1",
            "group_name": "ssh",
            "ingress": [
                {"protocol": "tcp", "from_port": 22, "to_port": 22, "open_to_internet": True}
            ],
        },
    )
    instance = aws.resource(
        "EC2Instance",
        "i-1",
        {
            "instance_id": "i-1",
            "name": "bastion",
            "state": "running",
            "public_ip": "203.0.113.9",
            "security_groups": ["sg-1"],
            "iam_instance_profile": profile,
        },
    )
    (path,) = attack_paths(graph(role, group, instance))
    assert [h.relation for h in path.hops] == [None, "exposes", "runs", "can"]
    private = aws.resource("EC2Instance", "i-1", {**instance.attrs, "public_ip": None})
    assert attack_paths(graph(role, group, private)) == []


def test_pod_identity_association_links_when_the_role_trusts_eks_pods():
    pod_trust = aws.trust(
        aws.statement(
            Principal={"Service": "pods.eks.amazonaws.com"},
            Action=["sts:AssumeRole", "sts:TagSession"],
        )
    )
    association = aws.resource(
        "EKSPodIdentityAssociation",
        "a-1",
        {
            "cluster": e.SCOPE,
            "association_id": "a-1",
            "namespace": "shop",
            "service_account": "web",
            "role_arn": WEB_ROLE,
        },
    )
    resources = [
        kube.service_account("web", "shop"),
        *e.deployment("web", "shop", "web"),
        e.load_balancer("web", "shop", "web"),
        e.admin_role("web-admin", pod_trust),
        association,
    ]
    (path,) = attack_paths(graph(*resources))
    assert "EKS Pod Identity" in path.hops[3].evidence["via"]
    resources[3] = e.admin_role(
        "web-admin", aws.trust(aws.assume({"Service": "ec2.amazonaws.com"}))
    )
    assert attack_paths(graph(*resources)) == []


def test_a_role_in_an_unread_account_is_a_gap_on_the_service_account():
    resources = e.baseline()[:-1]  # the IAM role could not be read
    g = graph(*resources, runs=[e.aws_partial(IAMRole="AccessDenied")])
    assert "AccessDenied" in g.gaps[WEB_SA]
    assert g.near_misses == []


def _cluster_admin_bound_to(subject):
    return [
        kube.service_account("web", "shop"),
        *e.deployment("web", "shop", "web"),
        e.load_balancer("web", "shop", "web"),
        kube.cluster_role("cluster-admin", kube.rule(["*"], ["*"], groups=("*",))),
        kube.crb("b", "cluster-admin", subject),
    ]


def test_a_user_subject_named_after_a_service_account_binds_that_service_account():
    g = graph(*_cluster_admin_bound_to(kube.user("system:serviceaccount:shop:web")))
    (path,) = attack_paths(g)
    assert path.capability == ADMIN and path.plane == "kubernetes"
    assert path.hops[2].uid == WEB_SA


def test_user_subjects_naming_another_or_no_service_account_bind_nothing_here():
    for name in ("system:serviceaccount:other:web", "web", "system:serviceaccount:shop"):
        assert attack_paths(graph(*_cluster_admin_bound_to(kube.user(name)))) == [], name
