"""Store benchmark: write a 50,000-resource / 100,000-finding snapshot, re-poll it with
5% change, diff the two, and report peak RSS. Budgets (issue 2): write < 3 s,
diff < 1 s, peak RSS < 400 MB.

Run: ``python -m tests.benchmarks.bench_store`` (one run, JSON on stdout); ``make bench``
runs it several times in fresh processes and prints medians.
"""

from __future__ import annotations

import json
import resource
import tempfile
import time
from pathlib import Path

from postureapp.model import SnapshotStatus
from postureapp.store import Store
from tests.benchmarks.estate import generate_findings, generate_resources, mutate

RESOURCES = 50_000


def main() -> None:
    resources = generate_resources(RESOURCES)
    findings = generate_findings(resources)
    changed = mutate(resources, share=0.05)
    changed_findings = generate_findings(changed)
    with tempfile.TemporaryDirectory() as folder:
        store = Store(Path(folder) / "bench.db")

        def write(items, judged):
            began = time.perf_counter()
            snapshot_id = store.write_snapshot(
                started_at="2026-11-22T00:00:00Z",
                finished_at="2026-11-22T00:00:01Z",
                status=SnapshotStatus.COMPLETE,
                runs=[],
                resources=items,
                findings=judged,
            ).snapshot_id
            return snapshot_id, time.perf_counter() - began

        first, first_seconds = write(resources, findings)
        second, second_seconds = write(changed, changed_findings)
        began = time.perf_counter()
        diff = store.diff(first, second)
        diff_seconds = time.perf_counter() - began
        store.close()
    print(
        json.dumps(
            {
                "write_50k_resources_100k_findings_s": round(first_seconds, 3),
                "write_again_5pct_changed_s": round(second_seconds, 3),
                "diff_two_100k_snapshots_s": round(diff_seconds, 3),
                "diff_rows": len(diff.opened) + len(diff.resolved) + len(diff.changed),
                "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            }
        )
    )


if __name__ == "__main__":
    main()
