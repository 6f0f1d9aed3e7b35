"""``:fleet``: every target side by side, its health and data age; ``f`` switches to
targets x governance controls; enter shows one target (the ``:ctx`` switch) from its
overview, or one view or control of it."""

from __future__ import annotations

import threading

import pytest
from textual.widgets import DataTable

from postureapp.collectors.base import CollectResult, RunRecorder
from postureapp.model import Target
from postureapp.poll import Poller
from postureapp.tui.actions import ACTIONS, resolve_command
from postureapp.tui.screens.findings import FindingsScreen
from postureapp.tui.screens.fleet import FleetScreen
from postureapp.tui.screens.overlays import HelpScreen
from postureapp.tui.widgets.vtable import VirtualTable
from tests.tui.estate import ACCOUNT
from tests.tui.test_app import SIZE, header_text, screen_text, settle, type_text

pytestmark = pytest.mark.anyio


def _line(text: str, name: str) -> str:
    return next(line for line in text.splitlines() if f"  {name} " in line)


async def _open_fleet(app, pilot) -> FleetScreen:
    await settle(app, pilot)
    await type_text(pilot, ":fleet")
    await pilot.press("enter")
    await settle(app, pilot)
    assert app.current_mode == "fleet"
    assert isinstance(app.screen, FleetScreen)
    return app.screen


async def test_fleet_matrix_health_age_and_modes(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open_fleet(app, pilot)
        assert [row.name for row in screen.fleet.rows] == ["prod-eu", "staging", ACCOUNT]
        text = screen_text(app)
        assert "3 targets" in text
        prod = _line(text, "prod-eu")
        assert "✓ ok" in prod and "15m" in prod and "crit" in prod
        # staging timed out in the last poll: failed, dated by its last good poll (24 h
        # ago), and its findings unknown, never a clean "0".
        staging = _line(text, "staging")
        assert "✗ failed" in staging and "24h (last ok)" in staging
        assert "?4" in staging and "✓" not in staging
        await pilot.press("down")  # the detail shows the highlighted target's error
        await pilot.pause()
        assert "i/o timeout" in screen_text(app)

        await pilot.press("f")
        await pilot.pause()
        text = screen_text(app)
        assert "by governance control" in text
        controls = [meta.id for meta in screen.fleet.controls]
        staging = _line(text, "staging")
        assert "✗" in staging.split("failed", 1)[0]  # its health; no control passes blind
        assert staging.count("?") >= 1 and "◐" not in staging
        account = _line(text, ACCOUNT)
        assert "·" in account  # a Kubernetes-only control does not apply to an account
        # the highlighted control is named in the detail
        table = screen.query_one("#fleet", DataTable)
        table.cursor_coordinate = (0, 3)
        await pilot.pause()
        assert controls[0] in screen_text(app)

        await pilot.press("f")
        await pilot.pause()
        assert "by view" in screen_text(app)


async def test_enter_on_a_target_shows_only_it_and_a_cell_opens_its_view(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open_fleet(app, pilot)
        table = screen.query_one("#fleet", DataTable)
        table.cursor_coordinate = (1, 0)  # staging, its name
        await pilot.press("enter")
        await settle(app, pilot)
        assert app.current_mode == "overview"
        assert app.queries.scope == "staging"

        await pilot.press("escape")  # back to the fleet, which still lists every target
        await settle(app, pilot)
        assert app.current_mode == "fleet"
        assert len(app.screen.fleet.rows) == 3
        assert "● staging" in screen_text(app)  # the context shown is marked

        table = app.screen.query_one("#fleet", DataTable)
        table.cursor_coordinate = (2, 4)  # the account, endpoints
        await pilot.press("enter")
        await settle(app, pilot)
        assert app.current_mode == "endpoints"
        assert app.queries.scope == ACCOUNT
        rows = app.screen.query_one("#table", VirtualTable)
        scopes = {rows.source.row(i)["scope"] for i in range(rows.row_count)}
        assert scopes and all(scope.startswith(ACCOUNT) for scope in scopes)

        await type_text(pilot, ":fleet")
        await pilot.press("enter")
        await settle(app, pilot)
        await pilot.press("f")
        await pilot.pause()
        table = app.screen.query_one("#fleet", DataTable)
        first = app.screen.fleet.controls[0]
        table.cursor_coordinate = (0, 3)  # prod-eu, the first control
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, FindingsScreen)
        assert app.queries.scope == "prod-eu"
        assert first.id in screen_text(app)


async def test_fleet_is_in_the_palette_and_help(make_app):
    assert resolve_command("fleet")[0].name == "fleet"
    assert any(action.title == "view: open fleet" for action in ACTIONS)
    app = make_app(initial_view="fleet")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("question_mark")
        await settle(app, pilot)
        assert isinstance(app.screen, HelpScreen)
        assert "fleet: by view or by control" in screen_text(app)  # this screen's keys
        assert "`:fleet` — every target" in app.screen.query_one("#help-body").source
        await pilot.press("escape")
        app.switch_view("overview")  # leave, then come back through the palette
        await settle(app, pilot)
        await pilot.press("ctrl+p")
        await pilot.pause()
        await type_text(pilot, "view: open fleet")
        await pilot.pause()
        await pilot.press("enter")
        await settle(app, pilot)
        assert app.current_mode == "fleet"


class _Organisation:
    """A collector that, like ``aws-organizations``, discovers targets as it runs (the
    fixture's two clusters), which the same poll then collects."""

    name = provider = "org"

    def collect(self, target: Target) -> CollectResult:
        recorder = RunRecorder(self.name, target.name, scope="org")
        found = [Target("kubernetes", "prod-eu"), Target("kubernetes", "staging")]
        return CollectResult([], recorder.finish(0), found)


async def test_poll_progress_counts_discovered_targets(make_app):
    fixture = make_app.fixture
    gate = threading.Event()
    fixture.kube.block["staging"] = gate

    def poller(store, progress):
        collectors = {"org": _Organisation(), "kubernetes": fixture.kube}
        return Poller(store, collectors, registry=fixture.registry).poll(
            [Target("org", "o")], progress
        )

    app = make_app(polling=True, targets=[Target("org", "o")], poller=poller)
    try:
        async with app.run_test(size=SIZE) as pilot:
            # the organisation and prod-eu are done, staging is held: 2 of 3, not 2 of 1
            for _ in range(600):
                if app.poll_progress == (2, 3):
                    break
                await pilot.pause(0.05)
            assert app.poll_progress == (2, 3)
            assert "2/3" in header_text(app)
            gate.set()
            await settle(app, pilot)
            assert not app.polling
    finally:
        gate.set()
