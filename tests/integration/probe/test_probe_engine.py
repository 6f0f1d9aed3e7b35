"""The engine runs the probe after the other collectors, on what they found: a
LoadBalancer Service's address and port lead to a real local server, and a failed
primary collection makes the probe run say it saw fewer endpoints."""

from __future__ import annotations

import threading

import postureapp.checks  # noqa: F401  (registers the probe checks)
from postureapp.collectors.base import CollectResult, RunRecorder
from postureapp.collectors.probe import ProbeCollector
from postureapp.engine import Engine
from postureapp.model import Resource, RunStatus, SnapshotStatus, Status, Target, k8s_uid
from postureapp.poll import Poller
from postureapp.store import Store


class Cluster:
    """A primary collector publishing one LoadBalancer Service, or failing."""

    name = "kubernetes"
    provider = "kubernetes"

    def __init__(self, port: int) -> None:
        self.port = port
        self.fail = ""
        self.unknown: dict[str, str] = {}

    def collect(self, target: Target) -> CollectResult:
        recorder = RunRecorder(self.name, target.name, scope=target.name)
        if self.fail:
            recorder.fail(self.fail)
            return CollectResult([], recorder.finish(0))
        for kind, why in self.unknown.items():
            recorder.mark_unknown(kind, why)
        service = Resource(
            uid=k8s_uid(target.name, "Service", "admin", "platform"),
            provider="kubernetes",
            scope=target.name,
            kind="Service",
            name="admin",
            namespace="platform",
            attrs={
                "type": "LoadBalancer",
                "ports": [{"name": "http", "port": self.port, "protocol": "TCP"}],
                "load_balancer_ingress": [{"ip": "127.0.0.1", "hostname": None}],
                "external_ips": [],
            },
        )
        return CollectResult([service], recorder.finish(1))


PROBE = Target("probe", "probe", {"allow_private": True, "timeout": 2})


def _engine(store, cluster, **kwargs):
    return Poller(store, {"kubernetes": cluster, "probe": ProbeCollector()}, **kwargs)


def test_the_probe_follows_what_the_cluster_published(estate, tmp_path):
    cluster = Cluster(estate.ports["open_admin"])
    with Store(tmp_path / "cache.db") as store:
        result = _engine(store, cluster).poll([PROBE, Target("kubernetes", "prod")])
        assert result.status is SnapshotStatus.COMPLETE
        rows = list(
            store.db.conn.execute(
                "SELECT status, evidence FROM findings WHERE check_id = 'probe-admin-path-open'"
            )
        )
        probes = [r for r in store.resources(result.snapshot_id) if r["kind"] == "EndpointProbe"]
        names = [r["name"] for r in probes]
    # the Endpoints row names the publisher, not only an address
    assert names == [f"admin http://127.0.0.1:{estate.ports['open_admin']}/"]
    assert len(rows) == 1 and rows[0][0] == "fail"
    assert "k8s://prod/platform/Service/admin" in rows[0][1]
    assert "Service platform/admin" in rows[0][1]  # the detail pane can name it


def test_a_failed_cluster_makes_the_probe_partial_never_clean(estate):
    cluster = Cluster(estate.ports["open_admin"])
    cluster.fail = "connection refused"
    engine = Engine({"kubernetes": cluster, "probe": ProbeCollector()})
    outcomes = engine.collect([Target("kubernetes", "prod"), PROBE])
    probe_run = outcomes[1].run
    assert probe_run.status is RunStatus.PARTIAL
    assert "fewer endpoints seen" in probe_run.error and "connection refused" in probe_run.error
    assert outcomes[1].resources == []
    findings = engine.judge([], [o.run for o in outcomes])
    assert not [f for f in findings if f.check_id.startswith("probe-") and f.status is Status.PASS]


def test_a_partial_cluster_still_judges_what_was_probed(estate):
    cluster = Cluster(estate.ports["open_admin"])
    cluster.unknown = {"Ingress": "ingresses is forbidden"}
    engine = Engine({"kubernetes": cluster, "probe": ProbeCollector()})
    outcomes = engine.collect([Target("kubernetes", "prod"), PROBE])
    assert outcomes[1].run.status is RunStatus.PARTIAL
    assert "ingresses is forbidden" in outcomes[1].run.error
    findings = engine.judge([r for o in outcomes for r in o.resources], [o.run for o in outcomes])
    admin = [f for f in findings if f.check_id == "probe-admin-path-open"]
    assert [f.status for f in admin] == [Status.FAIL]


class Stuck:
    name = "probe"
    provider = "probe"
    needs_inventory = True

    def __init__(self) -> None:
        self.release = threading.Event()
        self.seen: list[int] = []

    def collect(self, target, inventory):
        self.seen.append(len(inventory))
        self.release.wait(10)
        raise RuntimeError("late and broken")


def test_a_dependent_collector_keeps_the_engines_guarantees(estate):
    cluster = Cluster(estate.ports["denied"])
    stuck = Stuck()
    engine = Engine({"kubernetes": cluster, "probe": stuck}, timeout=0.5)
    try:
        outcomes = engine.collect([PROBE, Target("kubernetes", "prod")])
    finally:
        stuck.release.set()
    assert stuck.seen == [1]  # it ran after the cluster, with its inventory
    assert outcomes[0].run.status is RunStatus.FAILED and "timed out" in outcomes[0].run.error
    assert outcomes[1].run.status is RunStatus.OK

    stuck.release.set()
    raised = Engine({"kubernetes": cluster, "probe": stuck}).collect([PROBE])
    assert raised[0].run.status is RunStatus.FAILED
    assert "late and broken" in raised[0].run.error
