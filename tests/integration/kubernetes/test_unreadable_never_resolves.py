"""A poll that could not read the cluster never reports a failing finding as resolved.

The fault matrix of issue 13: after a clean poll of the fixture estate, the next poll
meets one fault -- pods forbidden (403), the token rejected (401), endless throttling
(429) or server errors (500), a garbled body, a dropped connection, a read timeout, or
the server killed while paging through pods -- and the diff between the two snapshots
must list nothing under *resolved*. What was failing comes back *unknown* (changed),
the derived attack-path findings included.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from postureapp.model import SnapshotStatus, Target
from postureapp.poll import Poller
from postureapp.store import Store
from tests.integration.kubernetes.conftest import CONTEXT, TOKEN, fast_collector
from tests.kube import KubeAPIServer, server_from_fixtures


def _reject_token(server: KubeAPIServer) -> None:
    server.token = "rotated-" + TOKEN


FAULTS: dict[str, Callable[[KubeAPIServer], object]] = {
    "403 on pods": lambda s: s.forbid("pods"),
    "401 token rejected": _reject_token,
    "endless 429": lambda s: s.fail("pods", status=429, times=None, retry_after=0),
    "endless 500": lambda s: s.fail("pods", status=500, times=None),
    "garbled body": lambda s: s.garble("pods", times=None),
    "dropped connection": lambda s: s.drop_connection("pods", times=None),
    "read timeout": lambda s: s.delay("pods", seconds=3.0, times=None),
    "killed on page 3": lambda s: s.die("pods", after=2),
}


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_a_fault_never_resolves_a_failing_finding(fault: str, tmp_path: Path):
    with server_from_fixtures(token=TOKEN) as server:
        kubeconfig = server.write_kubeconfig(tmp_path / "kubeconfig", context=CONTEXT)
        target = Target("kubernetes", CONTEXT, {"kubeconfig": str(kubeconfig)})
        collector = fast_collector(read_timeout=1.0, attempts=2, page_size=2)
        with Store(tmp_path / "cache.db") as store:
            poller = Poller(store, {"kubernetes": collector})
            first = poller.poll([target])
            assert first.status is SnapshotStatus.COMPLETE
            failing_before = [f for f in store.findings(first.snapshot_id) if f["status"] == "fail"]
            # The estate must give the matrix something to lose: derived path findings too.
            assert any(f["check_id"].startswith("path-") for f in failing_before)

            FAULTS[fault](server)
            second = poller.poll([target])

            assert second.status is not SnapshotStatus.COMPLETE
            diff = store.diff(first.snapshot_id, second.snapshot_id)
            assert diff.resolved == [], [(r["check_id"], r["resource_uid"]) for r in diff.resolved]
            now = {f["fingerprint"]: f["status"] for f in store.findings(second.snapshot_id)}
            for finding in failing_before:
                assert now.get(finding["fingerprint"]) in ("fail", "unknown"), finding
