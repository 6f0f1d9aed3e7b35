"""Dashboard benchmark on a 50,000-resource / 100,000-finding cache.

Figures (budgets from issues 6 and 14):

* ``process_first_paint_s`` (issue 14, <= 0.8 s): what a user waits for. The installed
  console script, ``posture --db CACHE tui --offline``, runs as a real process in a
  pseudo-terminal (120x40, ``TERM=xterm-256color``); the figure is the time from
  spawning it to the first bytes written to the terminal that, with escape sequences
  stripped, show the cache's real failing count on the overview (``12,345 failing``):
  Python's start-up, every import, opening the cache, the queries and the first frame
  are all in it. Median of :data:`PROCESS_RUNS` processes; ``process_first_byte_s`` is
  when the process first wrote anything (Textual's set-up sequences), and
  ``process_peak_rss_mb`` the median peak RSS of those processes (they quit at once
  with ctrl+q once painted); ``process_first_paint_cpu_s``, the CPU time the process
  had used by its first frame (both its threads: on a busy machine, the part of the
  wall-clock figure that is its own work). The processes run as installed, with their
  bytecode cached (``PYTHONDONTWRITEBYTECODE`` is dropped, one untimed run first);
* ``process_identities_s``: the same, with ``:identities`` and enter typed as soon as
  the dashboard takes the terminal (before its first frame), up to the Identities
  table's first frame (its bar's real "N of M findings"): the first paint of a finding
  table from process start, and keys typed ahead kept;
* ``first_paint_s``: from creating the app in this process (opening the cache
  included) to the first paint of the findings table with rows (< 1.5 s);
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
import contextlib
import gc
import json
import os
import pty
import re
import resource
import select
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

if sys.platform != "win32":
    import fcntl
    import struct
    import termios

RESOURCES = 50_000
RUNS = 3
PROCESS_RUNS = 5
SIZE = (120, 40)
FILTER = "pod-12"
PAGES = 20
# Each matches rows (the table records paints of rows, not of "nothing matches"), and
# means the same before and after issue 16 (so no "-word", which was new there).
BURSTS = ("pod-12", "sev:critical team-3", "kind:ServiceAccount ns:team-1-prod", "team-2 check 1")
ROOT = Path(__file__).resolve().parents[2]
POSTURE = Path(sys.executable).with_name("posture")
# CSI, OSC, DCS and two-character escapes: what is left is the text on the screen.
_ESCAPES = re.compile(
    rb"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|P[^\x1b]*\x1b\\|[@-Z\\-_])"
)
# Textual writes this (focus reporting on) once its terminal is in raw mode: keys typed
# before it would meet the line discipline (an Enter there arrives as ctrl+j).
_RAW_MODE = b"\x1b[?1004h"


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


def expected_text(path: Path) -> tuple[bytes, bytes]:
    """What the first frames must show, read from the cache itself: the overview's
    failing count and the Identities bar (no waivers in the bench cache)."""
    with sqlite3.connect(path) as conn:
        failing, shown, total = conn.execute(
            "SELECT sum(status = 'fail'), sum(view = 'identities' AND status != 'pass'),"
            " sum(view = 'identities') FROM findings WHERE valid_to IS NULL"
        ).fetchone()
    return f"{failing:,} failing".encode(), f"{shown:,} of {total:,} findings".encode()


def run_process(path: Path, wanted: bytes, typed: bytes = b"") -> dict[str, float]:
    """Spawn the console script on a pseudo-terminal; seconds from the spawn to the
    first output whose text shows ``wanted`` (``typed`` is typed once the dashboard
    has taken the terminal); then quit it (ctrl+q) and take its peak RSS."""
    master, slave = pty.openpty()
    columns, lines = SIZE
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", lines, columns, 0, 0))
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": str(columns), "LINES": str(lines)}
    env.pop("POSTURE_CONFIG", None)
    # As installed: a user's Python reads its modules' cached bytecode (pip compiles it
    # at install, an editable install writes it on first run). Where this variable is
    # set (some sandboxes, CI) every start would compile ~40 modules from source.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    began = time.perf_counter()
    process = subprocess.Popen(
        [str(POSTURE), "--db", str(path), "tui", "--offline"],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=env,
        start_new_session=True,  # its own session: the pty becomes its terminal
    )
    os.close(slave)
    output = b""
    first_byte = painted = None
    try:
        while painted is None:
            if time.perf_counter() - began > 60:
                raise TimeoutError(f"{wanted!r} never shown; screen: {_text(output)[-500:]!r}")
            if not select.select([master], [], [], 1.0)[0]:
                continue
            try:
                chunk = os.read(master, 1 << 16)
            except OSError:  # EIO: the process is gone
                raise RuntimeError(f"posture died: {_text(output)[-2000:]!r}") from None
            now = time.perf_counter() - began
            first_byte = now if first_byte is None else first_byte
            if typed and _RAW_MODE in output + chunk and _RAW_MODE not in output:
                os.write(master, typed)
            output += chunk
            if wanted in _text(output):
                painted = now
                cpu = _cpu_seconds(process.pid)
        os.write(master, b"\x11")  # ctrl+q
        rss = _reap(process, master)
    finally:
        if process.returncode is None:
            process.kill()
            process.wait()
        os.close(master)
    return {"painted_s": painted, "first_byte_s": first_byte, "peak_rss_mb": rss, "cpu_s": cpu}


def _cpu_seconds(pid: int) -> float:
    """CPU time a running process has used so far, all its threads (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _text(output: bytes) -> bytes:
    return _ESCAPES.sub(b"", output)


def _reap(process: subprocess.Popen, master: int, timeout: float = 30.0) -> float:
    """Drain the terminal until the process exits; its peak RSS in MB."""
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            process.returncode = os.waitstatus_to_exitcode(status)
            if process.returncode != 0:
                raise RuntimeError(f"posture exited {process.returncode}")
            return usage.ru_maxrss / 1024
        if select.select([master], [], [], 0.1)[0]:
            with contextlib.suppress(OSError):
                os.read(master, 1 << 16)
    raise TimeoutError("posture did not quit on ctrl+q")


def measure_processes(path: Path) -> dict[str, float]:
    """The process figures (see the module's docstring), medians of PROCESS_RUNS."""
    overview_text, identities_text = expected_text(path)
    run_process(path, overview_text)  # not timed: writes the bytecode caches, as a first run
    overview = [run_process(path, overview_text) for _ in range(PROCESS_RUNS)]
    identities = [
        run_process(path, identities_text, typed=b":identities\r") for _ in range(PROCESS_RUNS)
    ]
    return {
        "process_first_paint_s": statistics.median(r["painted_s"] for r in overview),
        "process_first_paint_runs_s": [round(r["painted_s"], 3) for r in overview],
        "process_first_byte_s": statistics.median(r["first_byte_s"] for r in overview),
        "process_first_paint_cpu_s": statistics.median(r["cpu_s"] for r in overview),
        "process_identities_s": statistics.median(r["painted_s"] for r in identities),
        "process_peak_rss_mb": statistics.median(r["peak_rss_mb"] for r in overview),
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
        load = os.getloadavg()[0]
        processes = measure_processes(path)
        runs = []
        for _ in range(RUNS):
            gc.collect()  # the previous run's app is garbage: do not bill its collection here
            runs.append(asyncio.run(measure(path)))
            gc.unfreeze()  # the app froze its start-up objects; let them go with it
    figures = {
        key: round(statistics.median(run[key] for run in runs), 3 if key.endswith("_s") else 1)
        for key in runs[0]
    }
    figures = {
        key: value if isinstance(value, list) else round(value, 3 if key.endswith("_s") else 1)
        for key, value in processes.items()
    } | figures
    figures["findings"] = 2 * RESOURCES
    figures["build_cache_s"] = round(build_seconds, 1)
    figures["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    figures["runs"] = RUNS
    figures["process_runs"] = PROCESS_RUNS
    figures["load_average"] = round(load, 1)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
