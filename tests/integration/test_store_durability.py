"""The cache survives what happens on call: a killed poll, a dashboard reading while
polls write, and months of unchanged polls."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from postureapp.model import SnapshotStatus
from postureapp.store import Store
from tests.benchmarks.estate import generate_findings, generate_resources, mutate

REPO = Path(__file__).resolve().parents[2]

KILLED_WRITER = textwrap.dedent(
    """
    import sys, time
    from postureapp.store import Store
    from postureapp.model import SnapshotStatus
    from tests.benchmarks.estate import generate_resources, generate_findings

    store = Store(sys.argv[1])
    resources = generate_resources(30000, seed=99)
    findings = generate_findings(resources)
    calls = 0

    def pause_mid_write():
        global calls
        calls += 1
        if calls == 3000 and store.db.conn.in_transaction:
            print("MIDWAY", flush=True)
            time.sleep(120)
        return 0

    store.db.conn.set_progress_handler(pause_mid_write, 1000)
    store.write_snapshot(started_at="s", finished_at="f", status=SnapshotStatus.COMPLETE,
                         runs=[], resources=resources, findings=findings)
    print("FINISHED", flush=True)
    """
)


def _write(store, resources, findings):
    return store.write_snapshot(
        started_at="2026-11-01T00:00:00Z",
        finished_at="2026-11-01T00:00:01Z",
        status=SnapshotStatus.COMPLETE,
        runs=[],
        resources=resources,
        findings=findings,
    ).snapshot_id


def test_sigkill_mid_snapshot_leaves_the_previous_one_whole(tmp_path):
    path = tmp_path / "cache.db"
    with Store(path) as store:
        resources = generate_resources(2000)
        first = _write(store, resources, generate_findings(resources))
        expected = [r["uid"] for r in store.resources(first)]
    child = subprocess.Popen(
        [sys.executable, "-c", KILLED_WRITER, str(path)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    try:
        assert child.stdout.readline().strip() == "MIDWAY"
        wal = Path(f"{path}-wal")
        assert wal.exists() and wal.stat().st_size > 0  # the write really was under way
        child.send_signal(signal.SIGKILL)
        child.wait(10)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == -signal.SIGKILL
    with Store(path) as store:
        assert store.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert [s.id for s in store.snapshots()] == [first]
        assert [r["uid"] for r in store.resources(first)] == expected
        assert len(list(store.findings(first))) == 4000


def test_reader_never_sees_database_is_locked_while_50_polls_write(tmp_path):
    path = tmp_path / "cache.db"
    writer = Store(path)
    errors: list[BaseException] = []
    reads = 0
    done = threading.Event()

    def read_like_the_dashboard():
        nonlocal reads
        reader = Store(path)
        try:
            while not done.is_set():
                latest = reader.latest()
                if latest is not None:
                    rows = reader.db.conn.execute(
                        "SELECT fingerprint, severity FROM findings WHERE valid_to IS NULL"
                        " ORDER BY severity_rank DESC LIMIT 200"
                    ).fetchall()
                    assert len(rows) <= 200
                    reader.status_counts(latest.id)
                reads += 1
        except BaseException as error:  # surfaced by the assertion below
            errors.append(error)
        finally:
            reader.close()

    thread = threading.Thread(target=read_like_the_dashboard)
    thread.start()
    try:
        resources = generate_resources(3000)
        for poll in range(50):
            resources = mutate(resources, share=0.02, seed=poll)
            _write(writer, resources, generate_findings(resources))
    finally:
        done.set()
        thread.join(30)
        writer.close()
    assert errors == []
    assert reads > 50


@pytest.mark.slow
def test_unchanged_50k_estate_grows_the_file_by_less_than_64_kib_per_poll(tmp_path):
    from postureapp.poll import Poller
    from tests.conftest import ScriptedCollector, privileged_pod_registry

    collector = ScriptedCollector()
    collector.pods = {"prod": [f"pod-{i}" for i in range(50_000)]}
    collector.bad = {f"pod-{i}" for i in range(0, 50_000, 7)}
    path = tmp_path / "cache.db"
    with Store(path) as store:
        engine = Poller(store, {"kubernetes": collector}, registry=privileged_pod_registry())
        from postureapp.model import Target

        def size_after(poll):
            poll()
            store.db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            return path.stat().st_size + Path(f"{path}-wal").stat().st_size

        baseline = size_after(lambda: engine.poll([Target("kubernetes", "prod")]))
        growth = []
        for _ in range(3):
            size = size_after(lambda: engine.poll([Target("kubernetes", "prod")]))
            growth.append(size - baseline)
            baseline = size
    assert all(delta < 64 * 1024 for delta in growth), growth
