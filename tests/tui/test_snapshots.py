"""Snapshot tests: each view of the fixture cache at 120x40 (the finding tables and
governance also at 100 and 200 columns), with a fixed "now".

Regenerate after an intended change with ``pytest tests/tui --snapshot-update`` and
review the SVG diffs like code.
"""

from __future__ import annotations

import pytest
from textual.widgets import Input

from tests.tui.test_app import settle

SIZE = (120, 40)


async def _settle(pilot) -> None:
    await settle(pilot.app, pilot)
    # A text cursor blinks every 0.5 s: on a loaded machine the picture would catch
    # either phase. Stopped and drawn in the focused field only, it is the same each run
    # (Textual has no public setter for the phase).
    for field in pilot.app.screen.query(Input):
        field.cursor_blink = False
        field._cursor_visible = field.has_focus
        field.refresh()
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


@pytest.mark.parametrize("width", [100, 120, 200])
@pytest.mark.parametrize("view", ["identities", "endpoints", "governance"])
def test_layout_gives_the_title_room_first(snap_compare, make_app, view, width):
    """Issue 16: at 120 columns titles were cut to "Internet-exposed w…", at 200 the
    resource took 60 cells while kind and scope were cut."""
    app = make_app(initial_view=view)
    assert snap_compare(app, terminal_size=(width, 40), run_before=_keys())


def test_resources_browser(snap_compare, make_app):
    app = make_app()
    assert snap_compare(app, terminal_size=SIZE, run_before=_keys("colon", "r", "e", "s", "enter"))


def test_governance_by_iso(snap_compare, make_app):
    app = make_app(initial_view="governance")
    assert snap_compare(app, terminal_size=SIZE, run_before=_keys("f"))


def test_control_failing_findings(snap_compare, make_app):
    app = make_app(initial_view="governance")
    assert snap_compare(app, terminal_size=SIZE, run_before=_keys("enter"))


def test_collected_facts(snap_compare, make_app):
    app = make_app(initial_view="identities")
    assert snap_compare(app, terminal_size=SIZE, run_before=_keys("y"))


def test_one_context_shown(snap_compare, make_app):
    app = make_app(initial_view="endpoints")
    keys = ("colon", *"ctx", "space", *"prod-eu", "enter")
    assert snap_compare(app, terminal_size=SIZE, run_before=_keys(*keys))
