"""Every Kubernetes resource the collectors produce conforms to its facts type
(``postureapp.facts``), strictly: types, missing and extra keys, NaN. Live against the
fixture estate and a generated cluster, offline from a dump of each."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from postureapp.collectors.kubernetes import load_dump
from postureapp.collectors.kubernetes.kinds import ALL_KINDS
from postureapp.collectors.offline import offline_targets
from postureapp.model import RunStatus, Target
from tests.facts import assert_conforms
from tests.kube import KubeAPIServer, generate_cluster, server_from_fixtures
from tests.kube.dumps import write_dump

from .conftest import CONTEXT, TOKEN, fast_collector


def collect(server: KubeAPIServer, tmp_path: Path):
    kubeconfig = server.write_kubeconfig(tmp_path / "kubeconfig", context=CONTEXT)
    return fast_collector(page_size=200).collect(
        Target("kubernetes", CONTEXT, {"kubeconfig": str(kubeconfig)})
    )


def test_live_fixture_estate_conforms_and_covers_every_kind(tmp_path: Path) -> None:
    with server_from_fixtures(token=TOKEN) as server:
        result = collect(server, tmp_path)
    assert result.run.status is RunStatus.OK, result.run.error
    assert_conforms(result.resources)
    kinds = Counter(r.kind for r in result.resources)
    # The estate holds every kind the collector reads but two add-ons' ones.
    missing = {spec.kind for spec in ALL_KINDS} - set(kinds)
    allowed = {
        "ClusterPolicy",
        "Policy",
        "Gateway",
        "HTTPRoute",
        "PodDisruptionBudget",
        "EnvoyFilter",
    }
    assert missing <= allowed, missing


def test_live_generated_cluster_conforms(tmp_path: Path) -> None:
    objects = generate_cluster(
        namespaces=6, pods=60, service_accounts=20, bindings=40, secrets=30, services=12
    )
    with KubeAPIServer(objects, token=TOKEN) as server:
        result = collect(server, tmp_path)
    assert result.run.status is RunStatus.OK, result.run.error
    assert_conforms(result.resources)
    assert Counter(r.kind for r in result.resources)["Deployment"] == 12


def test_offline_dumps_conform_with_their_cluster(tmp_path: Path) -> None:
    with server_from_fixtures(token=TOKEN) as server:
        objects = list(server.objects())
    folder = write_dump(objects, tmp_path / "fixtures")
    dump = load_dump(folder)
    assert_conforms(dump.resources)
    [target] = offline_targets([folder])
    assert_conforms(target.options["resources"])  # the dump's Cluster resource included
    generated = write_dump(generate_cluster(namespaces=3, pods=15), tmp_path / "generated")
    assert_conforms(load_dump(generated).resources)
