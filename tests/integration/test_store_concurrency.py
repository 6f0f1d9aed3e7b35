"""The dashboard polling and ten ``posture collect`` at once, on one cache file.

Real processes: ``posture tui`` in a pseudo-terminal, polling a Kubernetes API emulator
every 10 s, and the collects started together against the same emulator, each under
its own kube context (so each snapshot's resources carry their collector's name in
their uids). Afterwards every snapshot must be whole and be what it says it is: the id
a collect printed holds exactly the resources that context serves (the hash of its
uid + content set, against a reference collected here) and the counts it printed; no
id is missing, none mixes two collects, and the file passes integrity_check.

    .venv/bin/python -m pytest -q -m slow tests/integration/test_store_concurrency.py
    POSTURE_CONCURRENCY_ESTATE=full .venv/bin/python -m pytest ...   # the 30,000 one
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import multiprocessing
import os
import pty
import re
import signal
import sqlite3
import struct
import subprocess
import sys
import termios
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from postureapp.collectors.kubernetes import KubernetesCollector
from postureapp.model import Target, canonical_json
from postureapp.store import Store

POSTURE = str(Path(sys.executable).with_name("posture"))
TOKEN = "concurrency-token"
DASHBOARD = "ctx-dsh"
REFERENCE = "ctx-ref"
SUMMARY = re.compile(r"snapshot (\d+) complete: (\d+) resources, (\d+) findings")
# A quarter of generate_cluster's defaults: about 7,600 resources and 20,000 findings a
# snapshot, each collect rewriting them all (its context is new to the cache). With
# POSTURE_CONCURRENCY_ESTATE=full, the defaults: about 30,000 resources, like the
# estate of the report (about 8 minutes on a loaded 2-core machine).
LARGE = (
    {}
    if os.environ.get("POSTURE_CONCURRENCY_ESTATE") == "full"
    else {
        "namespaces": 50,
        "pods": 2_500,
        "service_accounts": 750,
        "bindings": 1_250,
        "secrets": 2_500,
        "services": 500,
    }
)
SMALL = {
    "namespaces": 8,
    "pods": 200,
    "service_accounts": 60,
    "bindings": 80,
    "secrets": 200,
    "services": 40,
}


def _serve(conn, sizes: dict[str, int]) -> None:  # in a child process
    from tests.kube import KubeAPIServer, generate_cluster

    with KubeAPIServer(generate_cluster(**sizes), token=TOKEN) as server:
        conn.send(server.url)
        conn.recv()


@contextlib.contextmanager
def kube_api(sizes: dict[str, int]) -> Iterator[str]:
    """The emulator in its own process, as a real API server is to posture."""
    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe()
    server = context.Process(target=_serve, args=(child, sizes), daemon=True)
    server.start()
    try:
        assert parent.poll(300), "the API emulator did not start"
        yield parent.recv()
    finally:
        parent.send("stop")
        server.join(30)
        if server.is_alive():
            server.kill()


class Dashboard:
    """``posture tui`` in a pseudo-terminal, its screen output drained (and kept)."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 140, 0, 0))
        self.process = subprocess.Popen(
            args, stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True
        )
        os.close(slave)
        self.master = master
        self.output = bytearray()
        self.reader = threading.Thread(target=self._drain, daemon=True)
        self.reader.start()

    def _drain(self) -> None:
        while True:
            try:
                chunk = os.read(self.master, 65536)
            except OSError:
                return
            if not chunk:
                return
            self.output += chunk

    def quit(self) -> int:
        os.write(self.master, b"\x11")  # ctrl+q
        try:
            return self.process.wait(120)
        finally:
            if self.process.poll() is None:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
            self.reader.join(10)
            os.close(self.master)

    def text(self) -> str:
        return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", self.output.decode(errors="replace"))


def _wait_for(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.5)


def _dashboard_snapshots(db: Path) -> int:
    """How many snapshots the dashboard has written so far (SQLite reads only)."""
    if not db.exists():
        return 0
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=60)
    try:
        return conn.execute(
            "SELECT count(DISTINCT snapshot_id) FROM collector_runs WHERE target = ?",
            (DASHBOARD,),
        ).fetchone()[0]
    except sqlite3.DatabaseError:  # the cache is not created yet
        return 0
    finally:
        conn.close()


def _digest(records: list[list], context: str) -> str:
    """Hash of a resource set with the context's name (in uids, scope) taken out."""
    lines = sorted(canonical_json(record).replace(context, "@") for record in records)
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def _stored(store: Store, snapshot_id: int) -> list[list]:
    return [
        [r["uid"], r["provider"], r["scope"], r["kind"], r["name"], r["namespace"],
         r["attrs"], r["created_at"]]
        for r in store.resources(snapshot_id)
    ]  # fmt: skip


@dataclass
class Outcome:
    seconds: float
    snapshots: int
    dashboard_polls_during: int


def run_scenario(tmp_path: Path, sizes: dict[str, int], collects: int) -> Outcome:
    from tests.kube import write_kubeconfig

    names = [f"ctx-c{index:02d}" for index in range(collects)]
    with kube_api(sizes) as url:
        kubeconfig = write_kubeconfig(
            tmp_path / "kubeconfig",
            {name: (url, TOKEN) for name in [DASHBOARD, REFERENCE, *names]},
            DASHBOARD,
        )
        reference = KubernetesCollector().collect(
            Target("kubernetes", REFERENCE, {"kubeconfig": str(kubeconfig)})
        )
        assert reference.run.status.value == "ok", reference.run.error
        expected = _digest(
            [
                [r.uid, r.provider, r.scope, r.kind, r.name, r.namespace or "",
                 r.attrs, r.created_at]
                for r in reference.resources
            ],
            REFERENCE,
        )  # fmt: skip
        db = tmp_path / "cache.db"
        env = {
            **os.environ,
            "POSTURE_RETENTION": "100000",  # nothing pruned: every snapshot is checked
            "XDG_CONFIG_HOME": str(tmp_path / "config"),
            "XDG_DATA_HOME": str(tmp_path / "data"),
            "TERM": "xterm-256color",
        }
        kube = ["--kubeconfig", str(kubeconfig)]
        began = time.monotonic()
        dashboard = Dashboard(
            [POSTURE, "--db", str(db), "tui", *kube, "--context", DASHBOARD, "--interval", "10"],
            env,
        )
        try:
            _wait_for(lambda: _dashboard_snapshots(db) > 0, 600, "the dashboard's first poll")
            runs = {
                name: subprocess.Popen(
                    [POSTURE, "--db", str(db), "collect", *kube, "--context", name],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.PIPE,
                    stdin=subprocess.DEVNULL,
                    text=True,
                    env=env,
                )
                for name in names
            }
            results = {name: run.communicate(timeout=1800)[1] for name, run in runs.items()}
            codes = {name: run.returncode for name, run in runs.items()}
            polls = _dashboard_snapshots(db)
            # One more dashboard poll after the collects: the dashboard kept polling.
            _wait_for(lambda: _dashboard_snapshots(db) > polls, 600, "one more dashboard poll")
        finally:
            code = dashboard.quit()
    screen = dashboard.text()
    assert code == 0, screen[-2000:]
    assert "Traceback" not in screen and "Poll failed" not in screen, screen[-2000:]
    assert codes == dict.fromkeys(names, 0), results

    printed = {}
    for name, stderr in results.items():
        [match] = SUMMARY.findall(stderr)
        printed[name] = tuple(int(value) for value in match)
    ids = [snapshot_id for snapshot_id, _, _ in printed.values()]
    assert len(set(ids)) == collects, printed

    with Store(db, readonly=True) as store:
        assert store.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        snapshots = {s.id: s for s in store.snapshots()}
        assert sorted(snapshots) == list(range(1, max(snapshots) + 1))  # none lost
        dashboard_ids = set(snapshots) - set(ids)
        for name, (snapshot_id, resources, findings) in printed.items():
            snapshot = snapshots[snapshot_id]
            stored = _stored(store, snapshot_id)
            assert {record[2] for record in stored} == {name}, (name, snapshot_id)
            assert len(stored) == resources == snapshot.resource_count
            assert findings == snapshot.finding_count == len(list(store.findings(snapshot_id)))
            assert _digest(stored, name) == expected, (name, snapshot_id)
        for snapshot_id in dashboard_ids:
            stored = _stored(store, snapshot_id)
            assert {record[2] for record in stored} == {DASHBOARD}, snapshot_id
            assert _digest(stored, DASHBOARD) == expected, snapshot_id
        during = 0
        for snapshot_id in dashboard_ids:
            snapshot = snapshots[snapshot_id]
            # A dashboard snapshot whose id falls among the collects' was written
            # while they were writing.
            during += min(ids) < snapshot_id < max(ids)
    return Outcome(time.monotonic() - began, len(snapshots), during)


def test_dashboard_and_collects_at_once_lose_nothing(tmp_path):
    """The default-suite variant: a small estate, four collects."""
    outcome = run_scenario(tmp_path, SMALL, collects=4)
    assert outcome.snapshots >= 6


@pytest.mark.slow
def test_dashboard_and_ten_collects_on_a_large_estate_lose_nothing(tmp_path):
    outcome = run_scenario(tmp_path, LARGE, collects=10)
    print(
        f"\nconcurrency: {outcome.seconds:.0f} s, {outcome.snapshots} snapshots, "
        f"{outcome.dashboard_polls_during} dashboard polls among the collects'"
    )
    assert outcome.snapshots >= 12
