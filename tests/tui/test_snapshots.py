"""Snapshot tests: each view of the fixture cache at 120x40, with a fixed "now".

Regenerate after an intended change with ``pytest tests/tui --snapshot-update`` and
review the SVG diffs like code.
"""

from __future__ import annotations

import pytest

SIZE = (120, 40)


async def _settle(pilot) -> None:
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def _keys(*keys: str):
    async def run_before(pilot) -> None:
        await _settle(pilot)
        if keys:
            await pilot.press(*keys)
            await _settle(pilot)

    return run_before


@pytest.mark.parametrize(
    "view", ["overview", "identities", "endpoints", "secrets", "governance", "changes"]
)
def test_view(snap_compare, make_app, view):
    assert snap_compare(make_app(initial_view=view), terminal_size=SIZE, run_before=_keys())


def test_identities_detail_pane(snap_compare, make_app):
    app = make_app(initial_view="identities")
    assert snap_compare(app, terminal_size=SIZE, run_before=_keys("down", "down", "enter"))


def test_identities_filtered_by_name(snap_compare, make_app):
    app = make_app(initial_view="identities")
    keys = ("slash", *"sev:high ns:payments".replace(" ", "_"), "enter")
    keys = tuple("space" if key == "_" else key for key in keys)
    assert snap_compare(app, terminal_size=SIZE, run_before=_keys(*keys))


def test_endpoints_with_waived_shown(snap_compare, make_app):
    app = make_app(initial_view="endpoints")
    assert snap_compare(app, terminal_size=SIZE, run_before=_keys("W"))


def test_changes_last_7_days(snap_compare, make_app):
    app = make_app(initial_view="changes")
    assert snap_compare(app, terminal_size=SIZE, run_before=_keys("3"))


def test_waiver_form_errors(snap_compare, make_app):
    app = make_app(initial_view="endpoints")

    async def run_before(pilot) -> None:
        await _settle(pilot)
        await pilot.press("w")
        pilot.app.screen.query_one("#field-expires").value = "yesterday"
        await pilot.press("ctrl+s")
        await _settle(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_overview_light_theme(snap_compare, make_app):
    app = make_app()
    assert snap_compare(app, terminal_size=SIZE, run_before=_keys("t"))


def test_blast_radius_tree(snap_compare, make_app):
    """From the first identity row (the exposed IRSA admin role): where the internet
    reaches it from, and what it can do, hop by hop."""
    app = make_app(initial_view="identities")
    assert snap_compare(app, terminal_size=SIZE, run_before=_keys("b"))
