"""The on-call paths of issue 16: contexts (:ctx), every resource (:res), collected
facts (y), governance that drives work (enter, frameworks), and a header that always
tells probe, pause and partial state without a popup on every poll."""

from __future__ import annotations

import pytest
from textual.notifications import Notify

from postureapp.tui.screens.findings import FindingsScreen
from postureapp.tui.screens.governance import GovernanceScreen
from postureapp.tui.screens.overlays import ContextPicker, FactsView
from postureapp.tui.screens.resources import ResourcesScreen
from tests.tui.estate import ACCOUNT
from tests.tui.test_app import SIZE, header_text, screen_text, settle, table_rows
from tests.tui.test_keys import burst

pytestmark = pytest.mark.anyio


async def test_ctx_shows_one_context_in_every_view(make_app):
    app = make_app(initial_view="identities")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        everything = table_rows(app.screen)
        assert {row["scope"].split("/")[0] for row in everything} >= {"prod-eu", ACCOUNT}
        burst(app, ":ctx prod", "<enter>")
        await settle(app, pilot)
        assert app.queries.scope == "prod-eu"
        rows = table_rows(app.screen)
        assert rows and {row["scope"] for row in rows} == {"prod-eu"}
        assert "ctx  prod-eu" in header_text(app)
        # every view follows: the overview's score, governance's evidence
        burst(app, ":overview", "<enter>")
        await settle(app, pilot)
        assert all(r["scope"] == "prod-eu" for r in table_rows(app.screen, "#risks"))
        burst(app, ":ctx ", ACCOUNT, "<enter>", ":identities", "<enter>")
        await settle(app, pilot)
        rows = table_rows(app.screen)
        assert rows and all(row["scope"].startswith(f"{ACCOUNT}/") for row in rows)
        burst(app, ":ctx all", "<enter>")
        await settle(app, pilot)
        assert app.queries.scope is None
        assert len(table_rows(app.screen)) == len(everything)
        burst(app, ":ctx nowhere", "<enter>")
        await settle(app, pilot)
        assert "no context 'nowhere'" in screen_text(app)


async def test_ctx_alone_lists_the_cached_contexts(make_app):
    app = make_app(initial_view="endpoints")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        burst(app, ":ctx", "<enter>")
        await settle(app, pilot)
        assert isinstance(app.screen, ContextPicker)
        text = screen_text(app)
        for name in ("all", "prod-eu", "staging", ACCOUNT, f"{ACCOUNT}/eu-west-1"):
            assert name in text
        burst(app, "<escape>")
        await settle(app, pilot)
        # typed ahead, in one burst: the list, two rows down (all, prod-eu, staging), pick
        burst(app, ":ctx", "<enter>", "jj", "<enter>", busy=0.2)
        await settle(app, pilot)
        assert app.queries.scope == "staging"
        assert isinstance(app.screen, FindingsScreen)


async def test_palette_switches_context(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("ctrl+p")
        await pilot.pause()
        burst(app, "context: show staging")
        await settle(app, pilot)
        await pilot.press("enter")
        await settle(app, pilot)
        assert app.queries.scope == "staging"


async def test_res_lists_every_resource_and_y_shows_its_facts(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        burst(app, ":res", "<enter>")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, ResourcesScreen)
        rows = table_rows(screen)
        assert len(rows) == app.queries.snapshot.resource_count
        # resources without a single finding are there too
        quiet = [row for row in rows if row["findings"] == 0]
        assert quiet, "the browser shows only resources with findings"
        burst(app, "/kind:Pod -web", "<enter>")
        await settle(app, pilot)
        pods = table_rows(screen)
        assert pods and {row["kind"] for row in pods} == {"Pod"}
        assert not any("web" in row["name"] for row in pods)
        burst(app, "/kind:Pod sev:high", "<enter>")
        await settle(app, pilot)
        assert "sev: does not apply here" in screen_text(app)
        burst(app, "<escape>", "/payments-api-6b7f", "<enter>", "y")
        await settle(app, pilot)
        assert isinstance(app.screen, FactsView)
        text = screen_text(app)
        assert "payments-api-6b7f" in text and '"privileged": true' in text
        burst(app, "<escape>", "<enter>")  # enter: that resource's findings
        await settle(app, pilot)
        assert isinstance(app.screen, FindingsScreen)
        assert {row["name"] for row in table_rows(app.screen)} == {"payments-api-6b7f"}


async def test_y_on_a_finding_shows_its_resource(make_app):
    app = make_app(initial_view="identities")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        row = app.screen.table.current_row
        burst(app, "y")
        await settle(app, pilot)
        assert isinstance(app.screen, FactsView)
        assert app.screen.resource["uid"] == row["resource_uid"]
        burst(app, "y")  # y again closes, as escape does
        await settle(app, pilot)
        assert isinstance(app.screen, FindingsScreen)


async def test_enter_on_a_control_lists_its_failing_findings(make_app):
    app = make_app(initial_view="governance")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        rows = table_rows(app.screen, "#controls")
        index = next(i for i, row in enumerate(rows) if row["id"] == "least-privilege")
        app.screen.table.cursor = index
        control = rows[index]["control"]
        burst(app, "<enter>")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, FindingsScreen) and screen.view is None
        found = table_rows(screen)
        assert found and all(row["status"] == "fail" for row in found)
        assert {row["check_id"] for row in found} <= set(control.checks)
        assert sum(control.evidence[c].get("fail", 0) for c in control.checks) == len(found)
        assert "CONTROL least-privilege" in screen_text(app)
        burst(app, "<escape>")
        await settle(app, pilot)
        assert isinstance(app.screen, GovernanceScreen)
        assert app.screen.table.cursor == index


async def test_framework_view_and_its_requirements(make_app):
    app = make_app(initial_view="governance")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        burst(app, "f")
        await settle(app, pilot)
        screen = app.screen
        assert screen.framework == "ISO 27001:2022"
        rows = {row["id"]: row for row in table_rows(screen, "#controls")}
        assert "A.8.2" in rows
        a82 = rows["A.8.2"]["requirement"]
        assert {c.id for c in a82.controls} == {"least-privilege"}
        assert a82.status == "partial" and 0 < a82.coverage < 1
        burst(app, ":cis", "<enter>")
        await settle(app, pilot)
        assert app.screen.framework == "CIS"
        labels = {row["id"] for row in table_rows(app.screen, "#controls")}
        assert {"Kubernetes 5.1.1", "AWS 1.16"} <= labels
        index = next(
            i
            for i, row in enumerate(table_rows(app.screen, "#controls"))
            if row["id"] == "Kubernetes 5.1.1"
        )
        app.screen.table.cursor = index
        burst(app, "<enter>")
        await settle(app, pilot)
        found = table_rows(app.screen)
        assert found and {row["check_id"] for row in found} == {"k8s-rbac-cluster-admin"}
        burst(app, "<escape>", "f")  # back, and on to the next framework
        await settle(app, pilot)
        assert app.screen.framework is None or app.screen.framework != "CIS"


async def test_header_tells_probe_pause_and_partial(make_app):
    fixture = make_app.fixture
    fixture.set_stage(2)
    fixture.aws.unknown["prod"] = {"BackupPlan": "backup:ListBackupPlans not supported"}
    notes: list[Notify] = []
    app = make_app(polling=True)
    async with app.run_test(size=SIZE, message_hook=notes.append) as pilot:
        await settle(app, pilot)
        header = header_text(app)
        assert "PARTIAL" in header and "probe off" in header and "probe:" not in header
        partial_notes = [
            n for n in notes if isinstance(n, Notify) and "partial" in str(n.notification.message)
        ]
        assert len(partial_notes) == 1  # a new failure notifies once...
        burst(app, "r")
        await settle(app, pilot)
        burst(app, "r")
        await settle(app, pilot)
        assert app.queries.snapshot.id == 6
        partial_notes = [
            n for n in notes if isinstance(n, Notify) and "partial" in str(n.notification.message)
        ]
        assert len(partial_notes) == 1  # ...not on every poll; the header keeps it
        assert "PARTIAL" in header_text(app)
        burst(app, "P")
        await settle(app, pilot)
        assert "probe on" in header_text(app)
        burst(app, "p")
        await settle(app, pilot)
        header = header_text(app)
        assert "paused" in header and "probe on" in header
        burst(app, "P")
        await settle(app, pilot)
        assert "probe off" in header_text(app)


async def test_an_expected_partial_is_said_in_the_header_not_notified(make_app):
    fixture = make_app.fixture
    fixture.set_stage(2)
    fixture.aws.unknown["prod"] = {"BackupPlan": "backup:ListBackupPlans not supported"}
    notes: list[Notify] = []
    app = make_app(polling=True, expected_unknown={"BackupPlan": "the test's AWS has no Backup"})
    async with app.run_test(size=SIZE, message_hook=notes.append) as pilot:
        await settle(app, pilot)
        header = header_text(app)
        assert "PARTIAL" in header and "expected" in header
        assert not [n for n in notes if isinstance(n, Notify)]
        # an unexpected failure still notifies
        fixture.kube.fail["prod-eu"] = "Unauthorized: token expired"
        burst(app, "r")
        await settle(app, pilot)
        assert [
            n
            for n in notes
            if isinstance(n, Notify) and "kubernetes@prod-eu" in str(n.notification.message)
        ]
