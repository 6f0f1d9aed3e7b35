"""Every kube context: ``posture collect --all-contexts`` (or ``fleet.kube_all_contexts``)
against several Kubernetes API servers at once, through the installed console script."""

from __future__ import annotations

from pathlib import Path

import pytest

from postureapp.store import Store
from tests.integration.fleet.conftest import environment, posture
from tests.kube import KubeAPIServer, generate_cluster, server_from_fixtures, write_kubeconfig

CONTEXTS = ("eu-prod", "us-prod", "staging", "dev")


@pytest.fixture
def clusters(tmp_path: Path):
    """Four API servers: the fixture estate, and three small generated clusters."""
    servers = [server_from_fixtures(token="t0")]
    for index in range(1, len(CONTEXTS)):
        objects = generate_cluster(
            namespaces=5,
            pods=40,
            service_accounts=10,
            bindings=10,
            secrets=10,
            services=8,
            seed=index,
        )
        servers.append(KubeAPIServer(objects, token=f"t{index}"))
    for server in servers:
        server.start()
    kubeconfig = write_kubeconfig(
        tmp_path / "kubeconfig",
        {name: (s.url, s.token) for name, s in zip(CONTEXTS, servers, strict=True)},
        CONTEXTS[0],
    )
    yield servers, kubeconfig
    for server in servers:
        server.stop()


def _runs(db: Path):
    with Store(db, readonly=True) as store:
        snapshot = store.latest()
        return snapshot, {run.target: run for run in snapshot.runs}


def test_all_contexts_are_collected_concurrently(clusters, tmp_path):
    servers, kubeconfig = clusters
    env = environment(tmp_path / "home", KUBECONFIG=str(kubeconfig))
    ran = posture(["collect", "--all-contexts", "--db", str(tmp_path / "f.db")], env)
    assert ran.code in (0, 3), ran.stderr
    snapshot, runs = _runs(tmp_path / "f.db")
    assert set(runs) == set(CONTEXTS)
    for name, run in runs.items():
        assert (run.provider, run.scope) == ("kubernetes", name)
        assert run.status.value != "failed", run.error
    with Store(tmp_path / "f.db", readonly=True) as store:
        scopes = {r["scope"] for r in store.resources(snapshot.id) if r["kind"] == "Pod"}
    assert scopes == set(CONTEXTS)
    # Each server saw its own lists; every cluster was listed.
    assert all(len(server.requests) > 10 for server in servers)


def test_a_dead_cluster_fails_alone(clusters, tmp_path):
    servers, kubeconfig = clusters
    servers[2].stop()
    home = tmp_path / "home"
    config = home / ".config" / "posture" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text("[fleet]\nkube_all_contexts = true\n")
    env = environment(home, KUBECONFIG=str(kubeconfig))
    ran = posture(["collect", "--db", str(tmp_path / "f.db")], env)
    assert ran.code == 3, ran.stderr
    _, runs = _runs(tmp_path / "f.db")
    assert set(runs) == set(CONTEXTS)
    assert runs["staging"].status.value == "failed"
    assert runs["staging"].scope == "staging"  # the others stay judged
    assert all(runs[name].status.value != "failed" for name in CONTEXTS if name != "staging")
    assert "kubernetes staging: failed" in ran.stderr


def test_all_contexts_without_a_kubeconfig_is_one_line(tmp_path):
    env = environment(tmp_path / "home", KUBECONFIG=str(tmp_path / "missing"))
    ran = posture(["collect", "--all-contexts", "--db", str(tmp_path / "f.db")], env)
    assert ran.code == 2
    assert "--all-contexts: cannot read kubeconfig" in ran.stderr
    assert len(ran.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "f.db").exists()


def test_a_served_polling_dashboard_polls_every_context_the_config_names(clusters, tmp_path):
    """`posture serve --allow-poll` builds its targets from the config alone: the fleet
    settings count there too (it used to poll only the current context)."""
    from postureapp.config import load_config
    from postureapp.serve.session import configured_targets

    _, kubeconfig = clusters
    path = tmp_path / "config.toml"
    path.write_text(
        f'[targets]\nkubeconfig = ["{kubeconfig}"]\n[fleet]\nkube_all_contexts = true\n'
    )
    targets = configured_targets(load_config(path))
    assert sorted(t.name for t in targets if t.provider == "kubernetes") == sorted(CONTEXTS)
