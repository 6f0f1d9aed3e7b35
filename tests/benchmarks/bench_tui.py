"""Dashboard benchmark on a 50,000-resource / 100,000-finding cache.

Figures (budgets from issue 6):

* ``first_paint_s``: from creating the app (opening the cache included) to the first
  paint of the findings table with rows (< 1.5 s);
* ``filter_keystroke_ms``: from a key typed in the filter to the first paint of the
  table with the new result (< 100 ms), median over the keystrokes of a typed filter;
* ``page_down_ms``: from ``pagedown`` to the first paint of the next page (< 50 ms),
  median over many pages (most pages come from the page LRU; ``_max_ms`` shows one
  that had to be read from SQLite);
* ``peak_rss_mb``: peak RSS of this process (< 300 MB). The cache is generated in a
  child process so that the generator's 150,000 Python objects do not count.

Each figure is the median of ``RUNS`` runs in this process; ``make bench`` also runs
the module several times in fresh processes. Run:
``python -m tests.benchmarks.bench_tui`` (JSON on the last line of stdout).
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RESOURCES = 50_000
RUNS = 3
FILTER = "pod-12"
PAGES = 20
ROOT = Path(__file__).resolve().parents[2]


def build(path: str) -> None:
    """Write the synthetic estate as one snapshot (run in a child process)."""
    from postureapp.model import SnapshotStatus
    from postureapp.store import Store
    from tests.benchmarks.estate import generate_findings, generate_resources

    resources = generate_resources(RESOURCES)
    findings = generate_findings(resources)
    with Store(Path(path)) as store:
        store.write_snapshot(
            started_at="2026-11-22T00:00:00Z",
            finished_at="2026-11-22T00:00:01Z",
            status=SnapshotStatus.COMPLETE,
            runs=[],
            resources=resources,
            findings=findings,
        )


async def _wait_for_paint(pilot, table, after: int, timeout: float = 30.0) -> None:
    deadline = time.perf_counter() + timeout
    while table.paints <= after:
        if time.perf_counter() > deadline:
            raise TimeoutError("the table was not repainted")
        await pilot.pause()


async def measure(path: Path) -> dict[str, float]:
    from postureapp.checks.registry import Registry
    from postureapp.tui.app import PostureApp
    from postureapp.tui.widgets.vtable import VirtualTable

    began = time.perf_counter()
    app = PostureApp(
        path, targets=None, registry=Registry(), initial_view="identities", freeze_gc=True
    )
    async with app.run_test(size=(120, 40)) as pilot:
        table = app.screen.query_one("#table", VirtualTable)
        await _wait_for_paint(pilot, table, 0)
        first_paint = table.first_paint_after(began) - began
        assert table.row_count > 10_000, table.row_count

        await pilot.press("slash")
        keystrokes = []
        for char in FILTER:
            paints = table.paints
            start = time.perf_counter()
            await pilot.press(char)
            await _wait_for_paint(pilot, table, paints)
            keystrokes.append(table.first_paint_after(start) - start)
        matched = table.row_count
        await pilot.press("escape")  # cancel: back to the whole view
        await pilot.pause()
        assert table.row_count > 10_000
        table.focus()

        pages = []
        for _ in range(PAGES):
            paints = table.paints
            start = time.perf_counter()
            await pilot.press("pagedown")
            await _wait_for_paint(pilot, table, paints)
            pages.append(table.first_paint_after(start) - start)
        assert table.cursor > PAGES * 10
    return {
        "first_paint_s": first_paint,
        "filter_keystroke_ms": statistics.median(keystrokes) * 1000,
        "filter_keystroke_max_ms": max(keystrokes) * 1000,
        "filter_rows": matched,
        "page_down_ms": statistics.median(pages) * 1000,
        "page_down_max_ms": max(pages) * 1000,
    }


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.db"
        began = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                "-c",
                f"from tests.benchmarks.bench_tui import build; build({str(path)!r})",
            ],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            check=True,
        )
        build_seconds = time.perf_counter() - began
        runs = []
        for _ in range(RUNS):
            gc.collect()  # the previous run's app is garbage: do not bill its collection here
            runs.append(asyncio.run(measure(path)))
            gc.unfreeze()  # the app froze its start-up objects; let them go with it
    figures = {
        key: round(statistics.median(run[key] for run in runs), 3 if key.endswith("_s") else 1)
        for key in runs[0]
    }
    figures["findings"] = 2 * RESOURCES
    figures["build_cache_s"] = round(build_seconds, 1)
    figures["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    figures["runs"] = RUNS
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
