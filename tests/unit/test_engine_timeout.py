"""A run past its timeout: recorded failed at once, told it was abandoned, its late
result never written; and request pools that never hold the process open."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

from postureapp.collectors.base import CollectResult, RunRecorder, current_abandon_signal
from postureapp.collectors.pool import DaemonPool
from postureapp.model import Resource, RunStatus, SnapshotStatus, Target, k8s_uid
from postureapp.poll import Poller
from postureapp.store import Store


class StuckCollector:
    """Blocks until released; then returns one resource (the late result)."""

    name = "kubernetes"
    provider = "kubernetes"

    def __init__(self) -> None:
        self.release = threading.Event()
        self.saw_abandoned = threading.Event()
        self.finished = threading.Event()

    def collect(self, target: Target) -> CollectResult:
        signal = current_abandon_signal()
        if signal.wait(timeout=60):
            self.saw_abandoned.set()
        self.release.wait(timeout=60)
        recorder = RunRecorder(self.name, target.name, scope=target.name)
        late = Resource(
            uid=k8s_uid(target.name, "Namespace", "late"),
            provider="kubernetes",
            scope=target.name,
            kind="Namespace",
            name="late",
        )
        self.finished.set()
        return CollectResult([late], recorder.finish(1))


def test_a_timed_out_run_is_told_and_its_late_result_never_lands(tmp_path):
    collector = StuckCollector()
    with Store(tmp_path / "cache.db") as store:
        poller = Poller(store, {"kubernetes": collector}, timeout=0.5)
        result = poller.poll([Target("kubernetes", "prod")])
        [run] = result.runs
        assert run.status is RunStatus.FAILED and "timed out" in run.error
        assert result.status is SnapshotStatus.FAILED and result.resources == 0
        assert collector.saw_abandoned.wait(timeout=30)  # the collector was told
        collector.release.set()
        assert collector.finished.wait(timeout=30)
        # The next poll starts clean: the late answer of the first is not picked up.
        second = Poller(store, {"kubernetes": _Quick()}, timeout=30).poll(
            [Target("kubernetes", "prod")]
        )
        assert second.resources == 0
        assert [r["name"] for r in store.resources(second.snapshot_id)] == []
        assert [r["name"] for r in store.resources(result.snapshot_id)] == []


class _Quick:
    name = "kubernetes"
    provider = "kubernetes"

    def collect(self, target: Target) -> CollectResult:
        return CollectResult([], RunRecorder(self.name, target.name, scope=target.name).finish(0))


def test_outside_the_engine_the_signal_is_never_set():
    assert not current_abandon_signal().is_set()


def test_daemon_pool_runs_calls_and_carries_errors():
    with DaemonPool(3, "test") as pool:
        futures = [pool.submit(pow, 2, n) for n in range(10)]
        failing = pool.submit(int, "not a number")
    assert [f.result() for f in futures] == [2**n for n in range(10)]
    assert isinstance(failing.exception(), ValueError)


def test_a_stuck_pool_call_does_not_hold_the_process_open():
    """A ThreadPoolExecutor's worker is joined at exit (this took 60 s with one);
    DaemonPool's is dropped, so the process ends when its main thread does."""
    code = (
        "import time\n"
        "from postureapp.collectors.pool import DaemonPool\n"
        "pool = DaemonPool(2, 'stuck')\n"
        "pool.submit(time.sleep, 60)\n"
        "pool.shutdown(wait=False, cancel_futures=True)\n"
    )
    began = time.monotonic()
    subprocess.run([sys.executable, "-c", code], check=True, timeout=50)
    assert time.monotonic() - began < 45
