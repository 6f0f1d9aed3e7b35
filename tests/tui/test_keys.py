"""Keys typed ahead land where they were meant to (postureapp.tui.keys).

``burst`` queues every key on the app before it handles the first, as a terminal does
with a paste or with keys typed while the dashboard was busy; ``busy`` makes the app
block first, so the whole burst waits behind it (the "under load" case).
"""

from __future__ import annotations

import time

import pytest
from textual import events
from textual.keys import _character_to_key
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

from postureapp.tui.screens.findings import FindingsScreen
from postureapp.tui.screens.modals import WaiverForm
from postureapp.tui.screens.overview import OverviewScreen
from tests.tui.test_app import SIZE, settle, table_rows

pytestmark = pytest.mark.anyio


def key_event(key: str) -> events.Key:
    """The event a terminal sends for one character, or for a named key ("enter")."""
    if len(key) == 1:
        name = key if key.isalnum() else _character_to_key(key)
        return events.Key(name, key)
    return events.Key(key, {"enter": "\r", "escape": "\x1b", "tab": "\t"}.get(key))


def burst(app, *chunks: str, busy: float = 0.0) -> None:
    """Queue keys on the app at once. A chunk is typed text, or a key name in <...>."""
    if busy:
        app.call_later(lambda: time.sleep(busy))  # the app is stuck; keys queue up behind
    for chunk in chunks:
        keys = [chunk[1:-1]] if chunk.startswith("<") and chunk.endswith(">") else list(chunk)
        for key in keys:
            app.post_message(key_event(key))


async def test_command_then_view_in_one_burst(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        for busy in (0.0, 0.3):
            burst(app, ":", "endpoints", "<enter>", busy=busy)
            await settle(app, pilot)
            assert app.current_mode == "endpoints", busy
            assert not app.screen.command_line.is_open
            burst(app, ":", "overview", "<enter>", busy=busy)
            await settle(app, pilot)
            assert isinstance(app.screen, OverviewScreen)


async def test_view_filter_and_moves_in_one_burst(make_app):
    """``:endpoints⏎/provider:kubernetes -web⏎j`` typed at once, the app busy: every key
    lands, in order — the view, then the filter (applied on enter), then the move."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        burst(app, ":identities", "<enter>", "/sev:high -payments", "<enter>", "j", busy=0.3)
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, FindingsScreen) and screen.view == "identities"
        assert screen.filter_text == "sev:high -payments"
        assert not screen.filter_box.has_class("-open")
        rows = table_rows(screen)
        assert len(rows) >= 2
        assert all(row["severity_rank"] >= 3 for row in rows)
        assert not any(
            "payments" in (row["title"] + row["name"] + row["resource_uid"]) for row in rows
        )
        assert screen.table.cursor == 1  # the "j" after the enter moved the table


async def test_filter_keys_typed_while_busy_all_arrive(make_app):
    app = make_app(initial_view="identities")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        burst(app, "/kind:Pod", busy=0.3)
        await settle(app, pilot)
        screen = app.screen
        assert screen.filter_box.value == "kind:Pod"
        assert screen.filter_text == "kind:Pod"  # the debounced query ran on the whole text
        assert {row["kind"] for row in table_rows(screen)} == {"Pod"}
        burst(app, "<escape>")  # cancel: the filter from before the "/" comes back
        await settle(app, pilot)
        assert screen.filter_text == ""


async def test_form_keys_typed_right_after_opening_land_in_it(make_app):
    app = make_app(initial_view="endpoints")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        burst(app, "w", "compensating WAF rule", busy=0.2)
        await settle(app, pilot)
        assert isinstance(app.screen, WaiverForm)
        assert app.screen.query_one("#field-reason").value == "compensating WAF rule"


async def test_k9s_moves(make_app):
    app = make_app(initial_view="identities")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        table = app.screen.table
        burst(app, "jjj")
        await settle(app, pilot)
        assert table.cursor == 3
        burst(app, "k")
        await settle(app, pilot)
        assert table.cursor == 2
        burst(app, "G")
        await settle(app, pilot)
        assert table.cursor == table.row_count - 1
        burst(app, "g")
        await settle(app, pilot)
        assert table.cursor == 0


async def test_colon_and_slash_are_text_inside_a_filter(make_app):
    app = make_app(initial_view="identities")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        burst(app, "/ns:payments a/b", "<enter>")
        await settle(app, pilot)
        screen = app.screen
        assert screen.filter_text == "ns:payments a/b"
        assert not screen.command_line.is_open


async def test_a_burst_costs_one_query(make_app):
    """Typed ahead, "kind:Pod" is one query (not eight); typed key by key, each key
    gets its answer."""
    app = make_app(initial_view="identities")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        screen = app.screen
        queried: list[str] = []
        original = screen.refresh_data

        def counted(*args, **kwargs):
            queried.append(screen.filter_text)
            original(*args, **kwargs)

        screen.refresh_data = counted
        burst(app, "/kind:Pod")
        await settle(app, pilot)
        assert queried == ["kind:Pod"]
        queried.clear()
        for key in ("space", "n", "s"):
            await pilot.press(key)
            await settle(app, pilot)
        assert queried == ["kind:Pod ", "kind:Pod n", "kind:Pod ns"]


async def test_a_key_after_a_blur_brings_the_key_bar_back(make_app):
    """A browser tab (posture serve) reports blur; the app then draws no bindings. A key
    means the app has the focus again, even though these keys bypass Textual's handler."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.post_message(events.AppBlur())
        await settle(app, pilot)
        assert not app.app_focus
        burst(app, ":", "endpoints", "<enter>")
        await settle(app, pilot)
        assert app.app_focus and app.current_mode == "endpoints"
        labels = {key.description for key in app.screen.query_one(Footer).query(FooterKey)}
        assert "Filter" in labels, labels
