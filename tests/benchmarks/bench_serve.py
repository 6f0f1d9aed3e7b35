"""``posture serve`` benchmark: the dashboard in a real headless Chromium.

Figures, each the median of ``RUNS`` runs, on the demo estate (one poll of
``postureapp.demo``) and on a 100,000-finding cache (50,000 resources, as bench_tui):

* ``*_serve_to_paint_s``: from starting ``posture serve`` (the installed script) to the
  first painted view in Chromium: the overview's score on screen, read from xterm.js's
  screen buffer. Chromium is already running (its start is not ``posture serve``'s);
  the page load, the token exchange, the WebSocket, the session process and the app's
  start-up and first queries are all inside;
* ``*_url_s``: the part of that until the server printed its address;
* ``*_session_rss_mb``: RSS of the session's app process (one per connected browser)
  with the overview painted; ``*_session_rss_identities_mb`` after switching to the
  identities view (its table over every finding of the view);
* ``*_server_rss_mb``: RSS of the ``posture serve`` process itself.

Run: ``python -m tests.benchmarks.bench_serve`` (JSON on the last line of stdout).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.serve.harness import Dashboard, dashboard, serve

RUNS = 3
ROOT = Path(__file__).resolve().parents[2]


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError(f"no VmRSS for {pid}")


def demo_cache(path: Path) -> None:
    """One poll of the demo estate through the real collectors and shipped checks."""
    from postureapp.config import load_config
    from postureapp.demo import DemoEnvironment
    from postureapp.poll import run_poll
    from postureapp.store import Store

    empty = path.parent / "config.toml"
    empty.write_text("")
    with DemoEnvironment() as demo, Store(path) as store:
        run_poll(store, load_config(empty, environ={}), demo.targets)


def _build(kind: str, path: Path) -> None:
    code = "from pathlib import Path\nfrom tests.benchmarks import bench_serve, bench_tui\n" + (
        f"bench_serve.demo_cache(Path({str(path)!r}))\n"
        if kind == "demo"
        else f"bench_tui.build({str(path)!r})\n"
    )
    subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=True,
        stdout=subprocess.DEVNULL,
    )


def _identities(board: Dashboard) -> None:
    board.focus()
    board.press(":")
    board.wait_text("overview | identities")
    board.type("identities")
    board.press("enter")
    board.wait_text("IDENTITIES", "findings", absent=("overview | identities",), timeout=180)


def measure(path: Path, board: Dashboard) -> dict[str, float]:
    board.open("about:blank")
    began = time.perf_counter()
    with serve(path, timeout=120) as served:
        url_at = time.perf_counter()
        board.open(served.url)
        board.wait_text("Posture score", timeout=180)
        painted = time.perf_counter()
        (pid,) = served.session_pids()
        overview_rss = _rss_mb(pid)
        _identities(board)
        figures = {
            "serve_to_paint_s": painted - began,
            "url_s": url_at - began,
            "session_rss_mb": overview_rss,
            "session_rss_identities_mb": _rss_mb(pid),
            "server_rss_mb": _rss_mb(served.process.pid),
        }
        board.open("about:blank")
        served.wait_log(r"session \d+ closed")
    return figures


def main() -> None:
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as folder, dashboard() as board:
        for kind in ("demo", "100k"):
            path = Path(folder) / kind / "posture.db"
            path.parent.mkdir()
            _build(kind, path)
            runs = [measure(path, board) for _ in range(RUNS)]
            for key in runs[0]:
                value = statistics.median(run[key] for run in runs)
                figures[f"{kind}_{key}"] = round(value, 2 if key.endswith("_s") else 1)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
