"""Dashboard benchmark on a 50,000-resource / 100,000-finding cache.

Figures (budgets from issue 6):

* ``first_paint_s``: from creating the app (opening the cache included) to the first
  paint of the findings table with rows (< 1.5 s);
* ``filter_keystroke_ms``: from a key typed in the filter to the first paint of the
  table with that prefix's result (< 100 ms), median over the keystrokes of a typed
  filter (with the filter's debounce, the pause after each key is in it);
* ``page_down_ms``: from ``pagedown`` to the first paint of the next page (< 50 ms),
  median over many pages (most pages come from the page LRU; ``_max_ms`` shows one
  that had to be read from SQLite);
* ``peak_rss_mb``: peak RSS of this process (< 300 MB). The cache is generated in a
  child process so that the generator's 150,000 Python objects do not count;
* ``settled_query_ms`` (issue 16, < 100 ms): a filter arrives as one burst of keys
  (a paste, or keys typed while the dashboard was busy), queued on the app at once
  after ``/``; from the burst to the first paint of the table with the whole filter's
  result, median over :data:`BURSTS`. ``settled_queries`` counts the queries the
  burst cost (one per key without a debounce).

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
# Each matches rows (the table records paints of rows, not of "nothing matches"), and
# means the same before and after issue 16 (so no "-word", which was new there).
BURSTS = ("pod-12", "sev:critical team-3", "kind:ServiceAccount ns:team-1-prod", "team-2 check 1")
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

        calls = _count_queries(app.screen)
        await pilot.press("slash")
        keystrokes = []
        for number, char in enumerate(FILTER, 1):
            start = time.perf_counter()
            await pilot.press(char)
            keystrokes.append(await _painted(pilot, table, calls, FILTER[:number]) - start)
        matched = table.row_count
        await pilot.press("escape")  # cancel: back to the whole view
        await pilot.pause()
        assert table.row_count > 10_000
        table.focus()

        settled, queries = await _bursts(app, pilot, table, calls)
        await pilot.press("home")  # a cancelled filter keeps the cursor where it was

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
        "settled_query_ms": statistics.median(settled) * 1000,
        "settled_query_max_ms": max(settled) * 1000,
        "settled_queries": statistics.median(queries),
    }


def _count_queries(screen) -> list[tuple[float, str]]:
    """Record when the screen re-queried its table, and with which filter."""
    calls: list[tuple[float, str]] = []
    original = screen.refresh_data

    def counted(*args, **kwargs):
        original(*args, **kwargs)
        calls.append((time.perf_counter(), screen.filter_text))

    screen.refresh_data = counted
    return calls


async def _painted(pilot, table, calls, text: str, timeout: float = 30.0) -> float:
    """When the table was first painted with the result of the filter ``text``."""
    deadline = time.perf_counter() + timeout
    while not any(typed == text for _, typed in calls):
        if time.perf_counter() > deadline:
            raise TimeoutError(f"the filter {text!r} never ran")
        await pilot.pause()
    done = next(moment for moment, typed in calls if typed == text)
    while table.first_paint_after(done) is None:
        if time.perf_counter() > deadline:
            raise TimeoutError(f"the result of {text!r} was never painted")
        await pilot.pause()
    return table.first_paint_after(done)


async def _bursts(app, pilot, table, calls) -> tuple[list[float], list[int]]:
    """Each filter of :data:`BURSTS` typed as one burst after ``/``; the time from the
    burst to the paint of its whole result, and how many queries ran meanwhile."""
    from textual import events
    from textual.keys import _character_to_key

    settled, queries = [], []
    for text in BURSTS:
        await pilot.press("slash")
        await pilot.pause()
        calls.clear()
        began = time.perf_counter()
        for char in text:
            key = char if char.isalnum() else _character_to_key(char)
            app.post_message(events.Key(key, char))
        settled.append(await _painted(pilot, table, calls, text) - began)
        queries.append(len(calls))
        await pilot.press("escape")  # cancel: back to the whole view
        await pilot.pause()
        await app.workers.wait_for_complete()
    return settled, queries


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
