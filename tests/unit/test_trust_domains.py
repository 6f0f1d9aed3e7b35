"""Trust domains listed from a snapshot's resources: clusters, accounts, mesh trust domains
and the identity providers behind them; read back from a real SQLite cache file."""

from __future__ import annotations

from typing import Any

from postureapp.governance import TrustDomain, trust_domains, trust_domains_of_snapshot
from postureapp.model import Resource, SnapshotStatus
from postureapp.store import Store
from postureapp.tui.screens.governance import trust_text

ACCOUNT = "123456789012"
ISSUER = "https://oidc.eks.eu-west-1.amazonaws.com/id/ABC123"
SERVER = "https://ABC123.gr7.eu-west-1.eks.amazonaws.com"


def res(provider: str, scope: str, kind: str, name: str, **attrs: Any) -> Resource:
    return Resource(
        uid=f"{provider}://{scope}/{kind}/{name}",
        provider=provider,
        scope=scope,
        kind=kind,
        name=name,
        attrs=attrs,
    )


def policy(scope: str, name: str, *principals: str) -> Resource:
    rules = [{"from": [{"source": {"principals": list(principals)}}]}]
    return res("kubernetes", scope, "AuthorizationPolicy", name, rules=rules)


ESTATE = [
    res("kubernetes", "prod", "Cluster", "prod", server=SERVER, installed={"istio": True}),
    res(
        "kubernetes",
        "edge",
        "Cluster",
        "edge",
        server="https://10.0.0.1",
        installed={"istio": True},
    ),
    res("kubernetes", "lab", "Cluster", "lab", server="https://lab", installed={"istio": False}),
    policy("prod", "allow-web", "corp.example/ns/shop/sa/web", "*/ns/shop/sa/any"),
    res(
        "aws",
        f"{ACCOUNT}/eu-west-1",
        "EKSCluster",
        "prod-eks",
        endpoint=SERVER,
        oidc_issuer=ISSUER,
        arn="arn:aws:eks:eu-west-1:123456789012:cluster/prod-eks",
    ),
    res(
        "aws",
        f"{ACCOUNT}/global",
        "IAMOIDCProvider",
        "oidc.eks.eu-west-1.amazonaws.com/id/ABC123",
        url="oidc.eks.eu-west-1.amazonaws.com/id/ABC123",
        client_ids=["sts.amazonaws.com"],
    ),
    res("aws", "999988887777/us-east-1", "AWSRegion", "us-east-1", region="us-east-1"),
    # Read by nothing here: a Pod must not be needed to list trust domains.
    res("kubernetes", "prod", "Pod", "web-1"),
]


def by_name(domains: list[TrustDomain]) -> dict[tuple[str, str], TrustDomain]:
    return {(d.kind, d.name): d for d in domains}


def test_clusters_accounts_and_meshes_with_their_providers():
    domains = by_name(trust_domains(r.to_dict() for r in ESTATE))

    assert set(domains) == {
        ("kubernetes cluster", "prod"),
        ("kubernetes cluster", "edge"),
        ("kubernetes cluster", "lab"),
        ("aws account", ACCOUNT),
        ("aws account", "999988887777"),
        ("mesh trust domain", "corp.example"),
        ("mesh trust domain", "cluster.local"),
    }
    prod = domains[("kubernetes cluster", "prod")]
    assert f"EKS OIDC issuer {ISSUER} — registered in IAM (IRSA)" in prod.providers
    # Near miss: a cluster that is not the EKS cluster gets no EKS issuer.
    assert not any("EKS" in p for p in domains[("kubernetes cluster", "edge")].providers)
    account = domains[("aws account", ACCOUNT)]
    assert account.providers == (
        "IAM OIDC provider oidc.eks.eu-west-1.amazonaws.com/id/ABC123 "
        "(audiences: sts.amazonaws.com)",
    )
    assert domains[("aws account", "999988887777")].notes == (
        "no IAM OIDC provider: no workload federation",
    )
    corp = domains[("mesh trust domain", "corp.example")]
    assert corp.providers == ("Istio CA (istiod) of prod",)
    # edge runs Istio and no policy names a domain: Istio's default, said to be assumed.
    default = domains[("mesh trust domain", "cluster.local")]
    assert default.notes[0] == "clusters: edge"
    assert "Istio's default" in default.notes[-1]


def test_an_unregistered_issuer_is_named_as_such():
    estate = [r for r in ESTATE if r.kind != "IAMOIDCProvider"]
    prod = by_name(trust_domains(r.to_dict() for r in estate))[("kubernetes cluster", "prod")]
    assert f"EKS OIDC issuer {ISSUER} — not registered in IAM" in prod.providers


def test_two_clusters_sharing_a_mesh_trust_domain_are_flagged():
    estate = [*ESTATE, policy("edge", "allow", "corp.example/ns/api/sa/gw")]
    corp = by_name(trust_domains(r.to_dict() for r in estate))[
        ("mesh trust domain", "corp.example")
    ]
    assert corp.notes[0] == "clusters: edge, prod"
    assert "shared by several clusters" in corp.notes[1]


def test_read_from_a_cache_file_by_kind(tmp_path):
    with Store(tmp_path / "cache.db") as store:
        stats = store.write_snapshot(
            started_at="2026-11-22T10:00:00Z",
            finished_at="2026-11-22T10:01:00Z",
            status=SnapshotStatus.COMPLETE,
            runs=[],
            resources=ESTATE,
            findings=[],
        )
        snapshot_id = store.latest().id
        stored = trust_domains_of_snapshot(store, snapshot_id)
    assert stats is not None
    assert stored == trust_domains(r.to_dict() for r in ESTATE)


def test_trust_text_keeps_outside_names_as_data():
    hostile = TrustDomain("mesh trust domain", "[bold red]evil[/]\x1b[2J", ("[link=x]idp[/link]",))
    text = trust_text([hostile])
    assert "[bold red]evil[/]" in text.plain
    assert "\x1b" not in text.plain
    assert "[link=x]idp[/link]" in text.plain
