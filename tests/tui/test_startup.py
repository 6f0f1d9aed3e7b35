"""Issue 14: the dashboard's first frame from process start. The overview is painted
from a preview (counts read in one scan, in a thread started before Textual is
imported) and the rows table is built after it; these tests hold the preview to the
table's answers, the start-up path to its imports, and typed-ahead keys to landing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from postureapp.model import Waiver
from postureapp.store import Store
from postureapp.store.loading import Loading
from postureapp.store.views import DashboardQueries, Sort, parse_filter
from tests.terminal import Terminal
from tests.tui.estate import clock

ROOT = Path(__file__).resolve().parents[2]
POSTURE = Path(sys.executable).with_name("posture")
# Not needed to open the dashboard on the cache: the collectors and their clients, the
# exporters, the check catalog, the identity graph (loaded in a worker once painted).
NOT_BEFORE_FIRST_FRAME = (
    "boto3",
    "botocore",
    "kubernetes",
    "httpx",
    "jinja2",
    "numpy",
    "postureapp.checks",
    "postureapp.collectors",
    "postureapp.export",
    "postureapp.graph",
    "postureapp.poll",
    "postureapp.engine",
)
NEVER_OFFLINE = ("boto3", "botocore", "kubernetes", "httpx", "jinja2")


def _add_glob_waivers(path: Path) -> None:
    """Waivers by check and resource glob, live and expired, beside the fixture's
    fingerprint waivers (one live, one expired)."""
    with Store(path) as store:
        rows = [row for row in store.findings(store.latest().id) if row["status"] == "fail"]
        first, second = rows[0], rows[-1]
        store.add_waiver(
            Waiver(
                reason="accepted",
                owner="a",
                check_id=first["check_id"],
                resource_glob=first["resource_uid"][:-2] + "*",
                expires_at="2027-06-01T00:00:00Z",
            )
        )
        store.add_waiver(
            Waiver(
                reason="lapsed",
                owner="b",
                check_id=second["check_id"],
                expires_at="2026-01-01T00:00:00Z",
            )
        )


def test_the_preview_counts_what_the_rows_table_counts(cache):
    path, _ = cache
    _add_glob_waivers(path)
    with Store(path) as store:
        queries = DashboardQueries(store, clock=clock)
        queries.preview()
        assert not queries.ready
        preview = sorted(queries._counts)
        header = queries.header()
        score, overview = queries.score(), queries.overview()
        assert overview.top_risks is None  # not read yet: never "no failing findings"
        queries.reload(force=True)
        assert queries.ready
        assert sorted(queries._counts) == preview
        assert {row[3] for row in preview} == {0, 1, 2}  # none, live and expired waivers
        assert queries.score() == score
        assert queries.header() == header  # the same targets named, before and after
        after = queries.overview()
        assert (after.failing, after.unknown) == (overview.failing, overview.unknown)
        assert after.top_risks


def test_loading_in_a_thread_gives_the_preview_then_the_rows(cache):
    path, _ = cache
    _add_glob_waivers(path)
    loading = Loading(path, clock)
    snapshot, previous, counts, changes, aws_scopes = loading.counts(timeout=60)
    queries = loading.result(timeout=60)
    assert queries is not None and queries.ready
    try:
        assert (snapshot.id, previous.id) == (queries.snapshot.id, queries.previous.id)
        assert sorted(counts) == sorted(queries._counts)
        assert aws_scopes == queries._aws_scopes and aws_scopes
        assert changes == {(snapshot.id, previous.id): queries.changes_since_previous()}
        assert len(queries.query("identities", parse_filter(""), Sort())) > 0
    finally:
        queries.store.close()


def test_a_cache_that_cannot_be_read_fails_the_loading_not_the_caller(tmp_path):
    loading = Loading(tmp_path / "absent.db")
    assert loading.counts(timeout=60) is None
    assert loading.result(timeout=60) is None


_PROBE = """
import asyncio, json, sys
from pathlib import Path
import postureapp.cli as cli
cli._group.cli.get_command(None, "tui")  # what `posture tui` imports to run
from postureapp.store.loading import Loading
loading = Loading(Path(sys.argv[1]))
from postureapp.tui.app import PostureApp

class Probe(PostureApp):
    def _finish_loading(self, release=True):
        if release and not hasattr(self, "first_frame"):
            self.first_frame = sorted(sys.modules)
        super()._finish_loading(release)

async def main():
    app = Probe(Path(sys.argv[1]), offline=True, loading=loading)
    async with app.run_test(size=(120, 40)) as pilot:
        while not app.queries.ready or not hasattr(app, "first_frame"):
            await pilot.pause()
        await app.workers.wait_for_complete()
        print(json.dumps({"first_frame": app.first_frame, "end": sorted(sys.modules)}))

asyncio.run(main())
"""


def test_opening_the_dashboard_imports_no_collector_exporter_or_catalog(cache):
    path, _ = cache
    result = subprocess.run(
        [sys.executable, "-c", _PROBE, str(path)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    modules = json.loads(result.stdout.strip().splitlines()[-1])

    def loaded(names: list[str], banned: tuple[str, ...]) -> list[str]:
        return [m for m in names if any(m == b or m.startswith(b + ".") for b in banned)]

    assert loaded(modules["first_frame"], NOT_BEFORE_FIRST_FRAME) == []
    assert loaded(modules["end"], NEVER_OFFLINE) == []


def test_every_command_is_registered_by_the_module_the_lazy_group_names():
    code = (
        "import json\n"
        "from postureapp.cli import group\n"
        "group.load_all()\n"
        "print(json.dumps({name: command.callback.__module__ if command.callback else ''"
        " for name, command in group.cli.commands.items()}))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    registered = json.loads(result.stdout)
    from postureapp.cli.group import COMMAND_MODULES

    assert set(registered) == set(COMMAND_MODULES)
    for name, module in registered.items():
        if module:  # a group's callback may be None
            assert module == f"postureapp.cli.{COMMAND_MODULES[name]}", name


def test_keys_typed_before_the_first_frame_land(cache, tmp_path):
    """Typed as the process starts (before its first frame, while the rows are still
    being read): the view command still opens the view it names."""
    path, _ = cache
    env = {**os.environ, "PATH": f"{POSTURE.parent}{os.pathsep}{os.environ['PATH']}"}
    with Terminal(f"posture --offline --db {path}", cwd=tmp_path, env=env) as terminal:
        # As soon as the dashboard has the terminal in raw mode (keys typed earlier meet
        # the line discipline, not the dashboard: an Enter there arrives as ctrl+j).
        _wait_for_raw_mode(terminal)
        terminal.send(":identities", "Enter")
        screen = terminal.wait_for("IDENTITIES")
        assert " findings" in screen and "Posture score" not in screen
        terminal.send("C-q")
        assert terminal.exit_code() == 0, terminal.screen()


def _wait_for_raw_mode(terminal: Terminal, timeout: float = 90) -> None:
    """Until the pane shows the alternate screen with the cursor hidden: Textual hides
    it right after it puts the terminal in raw mode."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        shown = subprocess.run(
            [*terminal._tmux(), "display-message", "-p", "#{alternate_on}#{cursor_flag}"],
            capture_output=True,
            text=True,
            check=False,
            timeout=30,
        ).stdout.strip()
        if shown == "10":
            return
        time.sleep(0.02)
    raise AssertionError(f"the dashboard never took the terminal:\n{terminal.screen()}")
