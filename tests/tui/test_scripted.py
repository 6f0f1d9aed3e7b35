"""The dashboard over the shared ScriptedCollector (tests/conftest.py): a collector that
starts failing mid-session, and one that blocks while keys are pressed."""

from __future__ import annotations

import threading

import pytest

from postureapp.model import SnapshotStatus, Target
from postureapp.poll import Poller
from tests.conftest import privileged_pod_registry
from tests.tui.test_app import SIZE, header_text, screen_text, settle, table_rows, type_text

pytestmark = pytest.mark.anyio

TARGET = Target("kubernetes", "prod")


@pytest.fixture
def scripted_app(tmp_path, collector):
    from postureapp.tui.app import PostureApp

    registry = privileged_pod_registry()
    collector.pods["prod"] = ["web", "db", "cache"]
    collector.bad = {"db"}

    def poller(store, progress):
        return Poller(store, {"kubernetes": collector}, registry=registry).poll([TARGET], progress)

    def build(**kwargs):
        return PostureApp(
            tmp_path / "scripted.db",
            targets=[TARGET],
            poller=poller,
            registry=registry,
            interval=3600,
            user="tester",
            **kwargs,
        )

    return build


async def test_scripted_collector_fails_mid_session(scripted_app, collector):
    app = scripted_app(initial_view="identities")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert app.queries.snapshot.status is SnapshotStatus.COMPLETE
        assert [row["name"] for row in table_rows(app.screen)] == ["db"]
        collector.fail["prod"] = "Unauthorized: token expired"
        await pilot.press("r")
        await settle(app, pilot)
        assert app.queries.snapshot.status is SnapshotStatus.FAILED
        header = header_text(app)
        assert "FAILED" in header and "kubernetes@prod" in header
        assert "Unauthorized: token expired" in header
        rows = table_rows(app.screen)  # lost sight of: unknown, never resolved
        assert rows and {row["status"] for row in rows} == {"unknown"}
        await pilot.press("colon")
        await type_text(pilot, "overview")
        await pilot.press("enter")
        await settle(app, pilot)
        text = screen_text(app)
        assert "failed" in text and "Unauthorized: token expired" in text


async def test_keys_answer_while_scripted_collector_blocks(scripted_app, collector):
    gate = threading.Event()
    collector.block["prod"] = gate
    app = scripted_app()
    try:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            assert app.polling and not gate.is_set()
            await pilot.press("colon")
            await type_text(pilot, "governance")
            await pilot.press("enter")
            await pilot.pause()
            assert app.current_mode == "governance"
            await pilot.press("colon")
            await type_text(pilot, "identities")
            await pilot.press("enter")
            await pilot.press("slash")
            await type_text(pilot, "web")
            await pilot.pause()
            assert app.screen.filter_text == "web" and app.polling  # before release
            gate.set()
            await settle(app, pilot)
            assert not app.polling and app.queries.snapshot is not None
            await pilot.press("enter")
            await pilot.pause()
            assert app.screen.filter_text == "web"
    finally:
        gate.set()
