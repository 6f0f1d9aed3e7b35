"""The dashboard's read-only mode (``allow_write=False``, what `posture serve` runs
without --allow-write), driven with Textual's Pilot: waive, note and attest are gone
from the footer and the palette, their keys open nothing, and a write that still
reached the app is refused."""

from __future__ import annotations

import pytest

from postureapp.model import Attestation, Waiver
from postureapp.store import Store
from postureapp.tui.commands import ActionCommands
from postureapp.tui.screens.modals import AttestationForm, NoteForm, WaiverForm
from tests.tui.test_app import SIZE, screen_text, settle

pytestmark = pytest.mark.anyio


def _counts(path) -> tuple[int, ...]:
    with Store(path) as store:
        return tuple(
            store.db.execute(f"select count(*) from {table}").fetchone()[0]
            for table in ("waivers", "notes", "attestations")
        )


async def _palette_titles(app) -> list[str]:
    provider = ActionCommands(app.screen)
    return [hit.text async for hit in provider.discover()]


async def test_read_only_hides_and_refuses_writes(make_app):
    before = _counts(make_app.path)
    app = make_app(initial_view="endpoints", allow_write=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        footer = screen_text(app).splitlines()[-1]
        assert "Filter" in footer and "w Waive" not in footer and "n Note" not in footer
        titles = await _palette_titles(app)
        assert "table: filter" in titles
        assert not {"findings: waive", "findings: add note"} & set(titles)
        await pilot.press("w", "n")
        await settle(app, pilot)
        assert not isinstance(app.screen, (WaiverForm, NoteForm))

        # A write that reached the app anyway (a stale form, a future key) is refused.
        row = app.screen.current_finding()
        app.save_waiver(Waiver(reason="x", owner="y", fingerprint=row["fingerprint"]))
        app.save_note(row["fingerprint"], "me", "text")
        await settle(app, pilot)
        refusals = [n for n in app._notifications if n.message.startswith("Read-only")]
        assert len(refusals) == 2

        app.switch_view("governance")
        await settle(app, pilot)
        assert "a Attest" not in screen_text(app).splitlines()[-1]
        assert "governance: record attestation" not in await _palette_titles(app)
        await pilot.press("a")
        await settle(app, pilot)
        assert not isinstance(app.screen, AttestationForm)
        app.save_attestation(
            Attestation(control_id="backup-restore-test", by="me", at="2026-11-20T09:00:00Z")
        )
        await settle(app, pilot)
    assert _counts(make_app.path) == before


async def test_writable_by_default(make_app):
    app = make_app(initial_view="endpoints")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert "findings: waive" in await _palette_titles(app)
        await pilot.press("w")
        await settle(app, pilot)
        assert isinstance(app.screen, WaiverForm)


def test_palette_has_no_textual_system_commands():
    # Textual's own palette entries include saving a screenshot to the server's disk;
    # the dashboard's palette is its action registry and its scope switcher alone.
    from postureapp.tui.app import PostureApp
    from postureapp.tui.commands import ContextCommands

    assert {ActionCommands, ContextCommands} == PostureApp.COMMANDS
