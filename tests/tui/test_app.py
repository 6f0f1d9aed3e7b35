"""Behaviour of the dashboard, driven with Textual's Pilot at 120x40.

Waits are on the app (``pilot.pause()``, ``app.workers.wait_for_complete()``), never on
the wall clock.
"""

from __future__ import annotations

import asyncio
import threading

import pytest
from textual.worker import WorkerCancelled

from postureapp.model import SnapshotStatus
from postureapp.store import Store
from postureapp.tui.messages import PollFinished
from postureapp.tui.screens.changes import ChangesScreen
from postureapp.tui.screens.findings import FindingsScreen
from postureapp.tui.screens.governance import GovernanceScreen
from postureapp.tui.screens.modals import AttestationForm, MarkdownView, NoteForm, WaiverForm
from postureapp.tui.screens.overlays import HelpScreen
from postureapp.tui.screens.overview import OverviewScreen
from postureapp.tui.widgets.header import StatusHeader
from postureapp.tui.widgets.vtable import VirtualTable

pytestmark = pytest.mark.anyio
SIZE = (120, 40)


async def settle(app, pilot) -> None:
    """Let workers finish and their messages be handled. A worker that a newer one of
    its exclusive group cancelled is done, not a failure; one that raised fails the test."""
    await pilot.pause()
    while running := [worker for worker in app.workers if not worker.is_finished]:
        outcomes = await asyncio.gather(
            *(worker.wait() for worker in running), return_exceptions=True
        )
        for outcome in outcomes:
            if isinstance(outcome, BaseException) and not isinstance(outcome, WorkerCancelled):
                raise outcome
        await pilot.pause()
    await pilot.pause()


async def settle_until(app, pilot, condition, what: str, timeout: float = 60.0) -> None:
    """Settle until ``condition()`` holds: a poll, the read it triggers and the repaint
    after it are separate steps, and a loaded machine may take any of them late."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    await settle(app, pilot)
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"{what}: not within {timeout:.0f}s")
        await pilot.pause(0.05)
        await settle(app, pilot)


def header_text(app) -> str:
    header = app.screen.query_one(StatusHeader)
    return "\n".join(
        "".join(segment.text for segment in line) for line in header.render_lines(header.region)
    )


def table_rows(screen, selector="#table"):
    table = screen.query_one(selector, VirtualTable)
    return [table.source.row(index) for index in range(table.row_count)]


def screen_text(app) -> str:
    """Everything on screen, as plain text (what a user would read)."""
    strips = app.screen._compositor.render_strips()
    return "\n".join(strip.text for strip in strips)


async def type_text(pilot, text: str) -> None:
    await pilot.press(*[{" ": "space"}.get(char, char) for char in text])


# -- views ---------------------------------------------------------------------------


async def test_overview_shows_score_health_and_risks(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert isinstance(app.screen, OverviewScreen)
        text = screen_text(app)
        assert "Posture score" in text and "Collector health" in text
        assert "PARTIAL" in header_text(app)
        assert "staging" in header_text(app) and "failed" in header_text(app)
        risks = table_rows(app.screen, "#risks")
        assert risks[0]["severity"] == "critical"
        assert app.trend_points and len(app.trend_points) == 3


async def test_command_line_switches_views(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        for typed, screen_type in (
            ("identities", FindingsScreen),
            ("gov", GovernanceScreen),
            ("changes", ChangesScreen),
            ("endpoints", FindingsScreen),
            ("overview", OverviewScreen),
        ):
            await pilot.press("colon")
            assert app.screen.command_line.is_open
            assert app.screen.focused is app.screen.command_line.input
            await type_text(pilot, typed)
            await pilot.press("enter")
            await settle(app, pilot)
            assert isinstance(app.screen, screen_type), typed
            assert not app.screen.command_line.is_open
        await pilot.press("colon")
        await type_text(pilot, "nope")
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen.command_line.is_open  # stays open, with an inline error
        assert "no view 'nope'" in screen_text(app)
        await pilot.press("escape")
        assert isinstance(app.screen, OverviewScreen)
        assert not app.screen.command_line.is_open


async def test_escape_goes_back_to_previous_view(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.switch_view("secrets")
        await settle(app, pilot)
        app.switch_view("governance")
        await settle(app, pilot)
        await pilot.press("escape")
        assert app.current_mode == "secrets"
        await pilot.press("escape")
        assert app.current_mode == "overview"


async def test_each_finding_view_lists_its_findings(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        for view in ("identities", "endpoints", "secrets"):
            app.switch_view(view)
            await settle(app, pilot)
            rows = table_rows(app.screen)
            assert rows, view
            assert {row["view"] for row in rows} == {view}
            assert all(row["status"] != "pass" for row in rows)


async def test_filter_narrows_live_and_escape_restores(make_app):
    app = make_app(initial_view="identities")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        before = len(table_rows(app.screen))
        await pilot.press("slash")
        await type_text(pilot, "sev:critical")
        await pilot.pause()
        rows = table_rows(app.screen)
        assert 0 < len(rows) < before
        assert all(row["severity"] == "critical" for row in rows)
        await type_text(pilot, " kind:IAMRole")
        await pilot.pause()
        assert {row["name"] for row in table_rows(app.screen)} == {"payments-api-irsa"}
        await pilot.press("enter")  # keep the filter, back to the table
        assert app.screen.query_one("#table").has_focus
        assert app.screen.filter_text == "sev:critical kind:IAMRole"
        # open the filter again and cancel: the previous filter comes back
        await pilot.press("slash")
        await type_text(pilot, " ns:zzz")
        await pilot.pause()
        assert table_rows(app.screen) == []
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen.filter_text == "sev:critical kind:IAMRole"
        assert len(table_rows(app.screen)) == 1
        # escape on the table clears the filter
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen.filter_text == ""
        assert len(table_rows(app.screen)) == before


async def test_filter_errors_are_shown(make_app):
    app = make_app(initial_view="identities")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("slash")
        await type_text(pilot, "sev:urgent")
        await pilot.pause()
        assert "unknown severity 'urgent'" in screen_text(app)


async def test_sort_cycles_and_reverses(make_app):
    app = make_app(initial_view="identities")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        ranks = [row["severity_rank"] for row in table_rows(app.screen)]
        assert ranks == sorted(ranks, reverse=True)
        await pilot.press("S")  # reverse
        ranks = [row["severity_rank"] for row in table_rows(app.screen)]
        assert ranks == sorted(ranks)
        for _ in range(4):  # severity -> status -> title -> kind -> name
            await pilot.press("s")
        assert app.screen.sort.column == "name"
        names = [row["name"].lower() for row in table_rows(app.screen)]
        assert names == sorted(names)
        assert "RESOURCE ↑" in screen_text(app)


async def test_cursor_keys_and_detail_pane(make_app):
    app = make_app(initial_view="identities")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        table = app.screen.query_one("#table", VirtualTable)
        await pilot.press("down", "down")
        assert table.cursor == 2
        await pilot.press("end")
        assert table.cursor == table.row_count - 1
        await pilot.press("home")
        first = table.current_row
        await pilot.press("enter")
        await pilot.pause()
        detail = app.screen.query_one("#detail")
        assert detail.has_class("-open")
        body = str(app.screen.query_one("#detail-body").content)
        assert "Remediation" in body and "History" in body and "Evidence" in body
        assert "Remediation" in screen_text(app)
        assert detail.finding["fid"] == first["fid"]
        await pilot.press("down")
        await pilot.pause()
        assert detail.finding["fid"] == table.current_row["fid"]  # the pane follows
        await pilot.press("escape")
        assert not detail.has_class("-open")


async def test_related_resources_jump(make_app):
    app = make_app(initial_view="identities")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("slash")
        await type_text(pilot, "check:k8s-sa-token-automount payments-api")
        await pilot.press("enter")
        await pilot.pause()
        assert table_rows(app.screen)[0]["name"] == "payments-api"
        await pilot.press("o")  # opens the pane and focuses the related list
        await pilot.pause()
        related = app.screen.query_one("#related")
        assert related.has_focus
        labels = [str(related.get_option_at_index(i).prompt) for i in range(related.option_count)]
        index = next(i for i, label in enumerate(labels) if "payments-api-6b7f" in label)
        related.highlighted = index
        await pilot.press("enter")
        await settle(app, pilot)
        assert app.screen.filter_text.startswith(
            'uid:"k8s://prod-eu/payments/Pod/payments-api-6b7f"'
        )
        assert {row["name"] for row in table_rows(app.screen)} == {"payments-api-6b7f"}


async def test_top_risk_opens_in_its_view(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        risk = table_rows(app.screen, "#risks")[1]
        await pilot.press("down", "enter")
        await settle(app, pilot)
        assert app.current_mode == risk["view"]
        assert app.screen.query_one("#table", VirtualTable).current_row["fid"] == risk["fid"]


# -- triage --------------------------------------------------------------------------


async def test_waive_shows_errors_then_saves(make_app):
    app = make_app(initial_view="endpoints")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        table = app.screen.query_one("#table", VirtualTable)
        target = table.current_row
        await pilot.press("w")
        form = app.screen
        assert isinstance(form, WaiverForm)
        form.query_one("#field-owner").value = ""
        form.query_one("#field-expires").value = "2020-01-01"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is form  # not saved
        text = screen_text(app)
        assert "a waiver needs a reason" in text
        assert "a waiver needs an owner" in text
        assert "the expiry must be in the future" in text
        form.query_one("#field-expires").value = "next tuesday"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "not a date" in screen_text(app)
        form.query_one("#field-reason").value = "compensating WAF rule in front"
        form.query_one("#field-owner").value = "edge-team"
        form.query_one("#field-ticket").value = "SEC-200"
        form.query_one("#field-expires").value = "30d"
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert not isinstance(app.screen, WaiverForm)
        with Store(make_app.path) as store:
            saved = [w for w in store.waivers() if w.fingerprint == target["fingerprint"]]
        assert saved and saved[0].owner == "edge-team" and saved[0].ticket == "SEC-200"
        assert saved[0].expires_at == "2026-12-20T09:00:00Z"  # 30 days after the fixed now
        fids = {row["fid"] for row in table_rows(app.screen)}
        assert target["fid"] not in fids  # hidden by default
        await pilot.press("W")
        shown = {row["fid"]: row for row in table_rows(app.screen)}
        assert shown[target["fid"]]["waiver"] == 1


async def test_note_is_saved_and_shown(make_app):
    app = make_app(initial_view="secrets")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        target = app.screen.query_one("#table", VirtualTable).current_row
        await pilot.press("n")
        assert isinstance(app.screen, NoteForm)
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "a note needs some text" in screen_text(app)
        app.screen.query_one("#field-text").value = "rotation ticket opened with the payments team"
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        with Store(make_app.path) as store:
            notes = store.notes(target["fingerprint"])
        assert notes[-1]["text"] == "rotation ticket opened with the payments team"
        assert notes[-1]["author"] == "tester"
        await pilot.press("enter")
        await pilot.pause()
        body = app.screen.query_one("#detail-body").content
        assert "tester: rotation ticket opened with the payments team" in body.plain


async def test_copy_as_markdown(make_app):
    app = make_app(initial_view="identities")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        row = app.screen.query_one("#table", VirtualTable).current_row
        await pilot.press("c")
        await pilot.pause()
        assert isinstance(app.screen, MarkdownView)
        assert app.clipboard.startswith(f"### [{row['severity'].upper()}]")
        assert row["resource_uid"] in app.clipboard
        assert "**Remediation**" in app.clipboard
        assert "Copied to the clipboard" in screen_text(app)
        await pilot.press("escape")
        assert isinstance(app.screen, FindingsScreen)


async def test_attestation_validation_and_save(make_app):
    app = make_app(initial_view="governance")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        rows = table_rows(app.screen, "#controls")
        index = next(i for i, row in enumerate(rows) if row["id"] == "segmentation")
        app.screen.query_one("#controls", VirtualTable).cursor = index
        await pilot.press("a")
        form = app.screen
        assert isinstance(form, AttestationForm)
        form.query_one("#field-by").value = ""
        form.query_one("#field-at").value = "2027-01-01"
        form.query_one("#field-expires").value = "2026-01-01"
        await pilot.press("ctrl+s")
        await pilot.pause()
        text = screen_text(app)
        assert "who attests?" in text and "cannot be in the future" in text
        form.query_one("#field-by").value = "erin"
        form.query_one("#field-at").value = "2026-11-18"
        form.query_one("#field-expires").value = "90d"
        form.query_one("#field-note").value = "reviewed the mesh policy by hand"
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        with Store(make_app.path) as store:
            assert store.attestations()["segmentation"].by == "erin"
        assert "erin" in screen_text(app)


async def test_governance_checklist(make_app):
    app = make_app(initial_view="governance")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        rows = {row["id"]: row for row in table_rows(app.screen, "#controls")}
        assert rows["backup-restore-test"]["status"] == "pass"  # attested, not expired
        # a critical finding (a cluster-admin binding) among its evidence: fail, not partial
        assert rows["least-privilege"]["status"] == "fail"
        assert rows["audit-trail"]["coverage"] == 1.0
        text = screen_text(app)
        assert "ISO 27001:2022" in text and "Evidence" in text


# -- changes -------------------------------------------------------------------------


async def test_changes_feed_and_presets(make_app):
    app = make_app(initial_view="changes")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        screen = app.screen
        assert (screen.from_id, screen.to_id) == (2, 3)
        rows = table_rows(screen, "#changes")
        opened = [row for row in rows if row["change"] == "opened"]
        assert [row["resource_uid"] for row in opened] == ["k8s://prod-eu/payments/Pod/debug-shell"]
        assert any(row["status"] == "unknown" for row in rows)  # staging went blind
        await pilot.press("3")  # last 7 days
        await settle(app, pilot)
        assert screen.from_id == 1
        rows = table_rows(screen, "#changes")
        assert any(row["change"] == "resolved" for row in rows)  # the rotated stripe key
        assert any("payments-admin" in row["resource_uid"] for row in rows)
        await pilot.press("2")
        await settle(app, pilot)
        assert screen.from_id == 2 and "last 24 h" in screen_text(app)
        await pilot.press("1")
        await settle(app, pilot)
        assert screen.from_id == 2
        await pilot.press("enter")  # opened debug-shell: show it in its view
        await settle(app, pilot)
        assert app.current_mode == "identities"
        assert app.screen.query_one("#table", VirtualTable).current_row["name"] == "debug-shell"


async def test_changes_between_any_two_snapshots(make_app):
    app = make_app(initial_view="changes")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        screen = app.screen
        await pilot.press("b")
        await settle(app, pilot)
        for key in "1 9":
            await pilot.press("space" if key == " " else key)
        await pilot.press("enter")
        await settle(app, pilot)
        assert "no snapshot #9 retained" in screen_text(app)  # the prompt stays, says why
        await pilot.press("backspace", "2")
        await pilot.press("enter")
        await settle(app, pilot)
        assert (screen.from_id, screen.to_id) == (1, 2)
        assert "snapshot #1 to #2" in screen_text(app)
        rows = table_rows(screen, "#changes")
        assert any(row["change"] == "resolved" for row in rows)  # the rotated stripe key
        await pilot.press("1")  # back to the default
        await settle(app, pilot)
        assert (screen.from_id, screen.to_id) == (2, 3)


# -- keys, palette, help, theme ------------------------------------------------------


async def test_help_palette_and_theme(make_app):
    app = make_app(initial_view="identities")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("question_mark")
        await settle(app, pilot)
        assert isinstance(app.screen, HelpScreen)
        text = screen_text(app)
        assert "table: filter" in text and "findings: jump to related" in text
        app.screen.query_one("#help").scroll_end(animate=False)
        await settle(app, pilot)
        text = screen_text(app)
        assert "Posture score" in text
        assert "**" not in text and "::" not in text  # rendered, not Markdown source
        help_source = app.screen.query_one("#help-body").source
        assert "weighted share" in help_source and "sev:high" in help_source
        await pilot.press("escape")
        await pilot.press("ctrl+p")
        await pilot.pause()
        await type_text(pilot, "view: open governance")
        await pilot.pause()
        await pilot.press("enter")
        await settle(app, pilot)
        assert app.current_mode == "governance"
        assert app.theme == "posture-dark"
        await pilot.press("t")
        assert app.theme == "posture-light"


async def test_palette_lists_every_action_of_the_screen(make_app):
    from postureapp.tui.actions import for_scopes

    app = make_app(initial_view="identities")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        from postureapp.tui.commands import ActionCommands

        provider = ActionCommands(app.screen)
        titles = {hit.text async for hit in provider.discover()}
        expected = {a.title for a in for_scopes(app.screen.ACTION_SCOPES)} - {
            "app: command palette"
        }
        assert titles == expected
        assert {"poll: now", "findings: waive", "view: open secrets", "table: filter"} <= titles


# -- offline and polling -------------------------------------------------------------


async def test_offline_mode_reads_cache_and_never_polls(make_app):
    app = make_app()  # targets None: offline
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert app.offline
        assert "offline" in header_text(app)
        await pilot.press("r")
        await settle(app, pilot)
        assert make_app.fixture.kube.calls == 0
        assert app.queries.snapshot.id == 3


async def test_poll_writes_snapshot_and_refreshes(make_app):
    make_app.fixture.set_stage(2)
    app = make_app(polling=True)
    messages = []
    async with app.run_test(size=SIZE, message_hook=messages.append) as pilot:
        await settle(app, pilot)  # the first poll starts at mount
        assert any(isinstance(m, PollFinished) for m in messages)
        assert app.queries.snapshot.id == 4
        assert app.queries.snapshot.status is SnapshotStatus.COMPLETE
        assert "PARTIAL" not in header_text(app)
        assert "next poll in" in header_text(app)
        await pilot.press("p")
        assert "paused" in header_text(app)
        assert app._poll_timer is None
        await pilot.press("p")
        assert app._poll_timer is not None
        await pilot.press("r")
        await settle(app, pilot)
        assert app.queries.snapshot.id == 5


async def test_collector_failing_mid_session(make_app):
    fixture = make_app.fixture
    fixture.set_stage(2)
    app = make_app(polling=True)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert app.queries.snapshot.status is SnapshotStatus.COMPLETE
        fixture.aws.fail["prod"] = "AccessDenied: sts:GetCallerIdentity (expired token)"
        await pilot.press("r")
        await settle(app, pilot)
        assert app.queries.snapshot.status is SnapshotStatus.PARTIAL
        header = header_text(app)
        assert "PARTIAL" in header and "aws@prod" in header and "failed" in header
        text = screen_text(app)
        assert "AccessDenied: sts:GetCallerIdentity" in text  # collector health
        # the UI still answers
        app.switch_view("identities")
        await settle(app, pilot)
        await pilot.press("slash")
        await type_text(pilot, "provider:aws status:unknown")
        await pilot.press("enter")
        await pilot.pause()
        rows = table_rows(app.screen)
        assert rows and all(row["status"] == "unknown" for row in rows)


async def test_keys_work_while_a_slow_collector_runs(make_app):
    fixture = make_app.fixture
    fixture.set_stage(2)
    gate = threading.Event()
    fixture.aws.block["prod"] = gate
    app = make_app(polling=True)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            assert app.polling  # the first poll is stuck on the aws collector
            assert "polling" in header_text(app)
            await pilot.press("colon")
            await type_text(pilot, "identities")
            await pilot.press("enter")
            await pilot.pause()
            assert isinstance(app.screen, FindingsScreen) and app.screen.VIEW == "identities"
            await pilot.press("slash")
            await type_text(pilot, "kind:Pod")
            await pilot.press("enter")
            await pilot.pause()
            assert {row["kind"] for row in table_rows(app.screen)} == {"Pod"}
            assert app.polling and not gate.is_set()  # all that happened mid-poll
            await pilot.press("r")  # a second poll is refused, not queued
            assert fixture.aws.calls == 1
            gate.set()
            await settle(app, pilot)
            assert not app.polling
            assert app.queries.snapshot.id == 4
            assert {row["kind"] for row in table_rows(app.screen)} == {"Pod"}  # filter kept
    finally:
        gate.set()


async def test_poll_failure_is_reported(make_app):
    def broken(store, progress):
        raise RuntimeError("database is locked")

    app = make_app(polling=True, poller=broken)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert "poll failed" in header_text(app)
        assert not app.polling and app._poll_timer is not None  # will retry


async def test_empty_cache_offline(tmp_path):
    from postureapp.tui.app import PostureApp

    app = PostureApp(tmp_path / "new.db", targets=None, user="tester")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert "no snapshot in the cache yet" in header_text(app)
        assert "n/a" in screen_text(app)
        for view in ("identities", "governance", "changes"):
            app.switch_view(view)
            await settle(app, pilot)
        assert "no snapshot in the cache yet" in screen_text(app)


async def test_quit_does_not_wait_for_a_stuck_collector(make_app):
    fixture = make_app.fixture
    gate = threading.Event()
    fixture.kube.block["prod-eu"] = gate
    app = make_app(polling=True)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            assert app.polling
            await pilot.press("ctrl+q")
            await app.workers.wait_for_complete()  # the worker returns; the collector may not
        assert app.return_code == 0
    finally:
        gate.set()
