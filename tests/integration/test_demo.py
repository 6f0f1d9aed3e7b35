"""The demo estate is the end-to-end fixture: real servers, real collectors, real
checks. What it plants must be found; what it keeps clean must not be flagged."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from postureapp.config import load_config
from postureapp.demo import DemoEnvironment
from postureapp.export import FORMATS, build_document, write
from postureapp.poll import run_poll
from postureapp.store import Store

# One xdist worker runs this module: the demo estate's poll (demo_run)
# is built once, not once per worker.
pytestmark = pytest.mark.xdist_group("demo")


REPO = Path(__file__).resolve().parents[2]
CANARIES = ("DEMO-CANARY-SECRET-d3m0", "DEMO-CANARY-ENV-pa55", "demo-only-not-real")


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    """One demo estate, polled twice with a change of story in between."""
    empty = tmp_path_factory.mktemp("config") / "config.toml"
    empty.write_text("")
    config = load_config(empty, environ={})
    with DemoEnvironment() as demo, Store(demo.db_path) as store:
        first = run_poll(store, config, demo.targets)
        change = demo.evolve()
        second = run_poll(store, config, demo.targets)
        documents = {snapshot.id: build_document(store, snapshot) for snapshot in store.snapshots()}
        diff = store.diff(first.snapshot_id, second.snapshot_id)
        later_changes = [demo.evolve(), demo.evolve()]
        third = run_poll(store, config, demo.targets)
        later = store.diff(second.snapshot_id, third.snapshot_id)
        cache = b"".join(p.read_bytes() for p in demo.folder.glob("cache.db*"))
        yield {
            "first": documents[first.snapshot_id],
            "second": documents[second.snapshot_id],
            "diff": diff,
            "change": change,
            "later": later,
            "later_changes": later_changes,
            "cache": cache,
            "runs": first.runs,
        }


def _failing(document, check_id):
    return {
        f["resource_uid"]
        for f in document["findings"]
        if f["check_id"] == check_id and f["status"] == "fail"
    }


def test_both_collectors_ran_against_the_local_servers(demo_run):
    runs = {run.collector: run for run in demo_run["runs"]}
    assert runs["kubernetes"].status.value == "ok", runs["kubernetes"].error
    # moto lacks two APIs; the run says so instead of pretending
    assert runs["aws"].status.value == "partial"
    assert "EKSPodIdentityAssociation" in runs["aws"].unknown


@pytest.mark.parametrize(
    ("check_id", "uid_fragment"),
    [
        ("k8s-rbac-cluster-admin", "ClusterRoleBinding/argocd-server-admin"),
        ("k8s-admin-ui-exposed", "platform/Service/argocd-server"),
        ("k8s-sa-shared", "shop/ServiceAccount/shop-backend"),
        ("k8s-sa-default-used", "shop/Deployment/catalog"),
        ("k8s-env-literal-secret", "shop/Deployment/cart"),
        ("k8s-mesh-mtls", "demo-prod"),
        ("k8s-secret-stale", "shop/Secret/shop-db"),
        ("k8s-svc-loadbalancer", "data/Service/reports-ui"),
        ("aws-iam-admin-policy", "role/data-pipeline"),
        ("aws-iam-access-key-age", "legacy-batch"),
        ("aws-ec2-sg-admin-ports-open", "security-group/"),
        ("aws-elb-internet-facing", "loadbalancer/app/argocd-public"),
        ("aws-rds-public", "db:orders-db"),
        ("aws-s3-bucket-public", "demo-shop-assets"),
        ("aws-eks-public-endpoint", "cluster/demo-prod"),
        ("aws-iam-role-external-trust", "role/ci-deployer"),
    ],
)
def test_planted_problems_are_found(demo_run, check_id, uid_fragment):
    failing = _failing(demo_run["first"], check_id)
    assert any(uid_fragment in uid for uid in failing), (check_id, failing)


def test_the_clean_namespace_is_not_flagged(demo_run):
    payments = [
        f
        for f in demo_run["first"]["findings"]
        if "/payments/" in f["resource_uid"] and f["status"] == "fail"
    ]
    assert payments == []
    judged = [f for f in demo_run["first"]["findings"] if "/payments/" in f["resource_uid"]]
    assert len(judged) >= 5  # it was looked at, and passed


def test_the_story_moves_on_and_the_diff_shows_it(demo_run):
    assert "Grafana" in demo_run["change"]
    opened = {row["resource_uid"] for row in demo_run["diff"].opened}
    assert any("grafana-public" in uid for uid in opened), opened
    assert "rotated" in demo_run["later_changes"][0]
    assert "cluster-admin" in demo_run["later_changes"][1]
    resolved = {(row["check_id"], row["resource_uid"]) for row in demo_run["later"].resolved}
    assert any(
        check == "k8s-rbac-cluster-admin" and uid.endswith("argocd-server-admin")
        for check, uid in resolved
    ), resolved


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_no_secret_value_in_the_cache_or_any_export(demo_run, fmt, tmp_path):
    for canary in CANARIES:
        assert canary.encode() not in demo_run["cache"]
    out = tmp_path / f"report.{fmt}"
    with out.open("w", encoding="utf-8") as handle:
        write(fmt, demo_run["second"], handle)
    text = out.read_text(encoding="utf-8")
    for canary in CANARIES:
        assert canary not in text


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _announced(stderr: str) -> tuple[Path, list[int]]:
    """The folder and the two servers' ports the demo announces on stderr."""
    line = next(text for text in stderr.splitlines() if "estate up in" in text)
    folder = Path(line.split("estate up in ")[1].split()[0])
    ports = [
        int(part.rsplit(":", 1)[1].strip(",)")) for part in line.split() if "127.0.0.1:" in part
    ]
    return folder, ports


def _demo_process(*args):
    return subprocess.Popen(
        [sys.executable, "-m", "postureapp", "demo", "--headless", *args],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )


def test_headless_demo_exports_and_leaves_nothing_behind(tmp_path):
    report = tmp_path / "report.json"
    child = _demo_process("--format", "json", "-o", str(report))
    _out, err = child.communicate(timeout=180)
    assert child.returncode == 0, err
    folder, ports = _announced(err)
    assert not folder.exists()
    document = json.loads(report.read_text())
    assert document["snapshot"]["finding_count"] > 50
    assert len(ports) == 2 and not any(_listening(port) for port in ports)


def test_ctrl_c_stops_the_servers_and_removes_the_folder(tmp_path):
    child = _demo_process("--format", "json", "-o", str(tmp_path / "r.json"))
    line = child.stderr.readline()
    assert "estate up in" in line, line
    folder, ports = _announced(line)
    assert folder.exists() and all(_listening(port) for port in ports)
    child.send_signal(signal.SIGINT)
    child.communicate(timeout=60)
    assert child.returncode == 130
    assert not folder.exists()
    assert not any(_listening(port) for port in ports)
    assert not (tmp_path / "r.json").exists()


def test_a_crash_inside_the_demo_still_stops_everything():
    with pytest.raises(RuntimeError, match="boom"), DemoEnvironment() as demo:
        folder, ports = _announced(f"demo: estate up in {demo.folder} {demo.describe()}")
        assert folder.exists() and all(_listening(port) for port in ports)
        raise RuntimeError("boom")
    assert not folder.exists()
    assert not any(_listening(port) for port in ports)


def test_demo_db_keeps_the_demo_cache_in_a_new_file_and_never_writes_an_existing_one(tmp_path):
    """``posture demo --db FILE``: the engineer keeps the demo's cache to open it later;
    a file that exists may be a real cache, so the made-up estate is never written in."""
    from tests.integration.test_cli import POSTURE, posture

    kept = tmp_path / "demo.db"
    run = subprocess.run(
        [*POSTURE, "demo", "--headless", "--db", str(kept), "--format", "json", "-o", "-"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    exported = json.loads(run.stdout)
    assert kept.exists()
    again = posture("--db", str(kept), "export", "--format", "json", check=True)
    assert json.loads(again.stdout)["snapshot"] == exported["snapshot"]

    before = kept.read_bytes()
    refused = posture("demo", "--headless", "--db", str(kept), "--format", "json")
    assert refused.returncode == 2
    assert refused.stderr.count("\n") == 1 and "exists" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert kept.read_bytes() == before


def test_an_interrupt_dropped_inside_a_finaliser_is_still_not_lost():
    """A signal's KeyboardInterrupt raised while the main thread runs a finaliser (or a
    GC or SQLite callback) is printed and dropped by Python; the headless demo checks
    between steps, so its Ctrl-C is never lost (it once finished with exit 0)."""
    import gc

    from postureapp.demo import _raise_on

    class Finaliser:
        def __del__(self):
            signal.raise_signal(signal.SIGUSR1)  # the handler runs in here: dropped

    before = signal.getsignal(signal.SIGUSR1)
    restore = _raise_on(signal.SIGUSR1)
    try:
        unraisable = []
        previous_hook, sys.unraisablehook = sys.unraisablehook, unraisable.append
        try:
            Finaliser()  # collected at once: __del__ runs
            gc.collect()
        finally:
            sys.unraisablehook = previous_hook
        assert [type(u.exc_value) for u in unraisable] == [KeyboardInterrupt]
        with pytest.raises(KeyboardInterrupt):
            restore.check()
    finally:
        restore()
    assert signal.getsignal(signal.SIGUSR1) == before
