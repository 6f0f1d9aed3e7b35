"""The dashboard's probe toggle (P): the real engine, the real probe collector and a real
local HTTP server that answers 200 on /admin."""

from __future__ import annotations

import pytest

from postureapp.collectors.probe import ProbeCollector, probe_target
from postureapp.demo.servers import LocalServers, Route, Site
from postureapp.model import Target
from postureapp.poll import Poller
from postureapp.tui.app import default_config
from tests.conftest import privileged_pod_registry
from tests.tui.test_app import SIZE, settle

pytestmark = pytest.mark.anyio

CLUSTER = Target("kubernetes", "prod")


@pytest.fixture
def admin_site():
    site = Site(routes={"/admin": Route(200)})
    with LocalServers() as servers:
        port = servers.add(site)
        yield site, f"http://127.0.0.1:{port}/"


async def test_probe_toggle_drops_and_restores_the_probe(tmp_path, collector, admin_site):
    from postureapp.checks.registry import REGISTRY
    from postureapp.tui.app import PostureApp

    site, url = admin_site
    collector.pods["prod"] = ["web"]
    registry = privileged_pod_registry()
    for meta in REGISTRY.checks.values():
        if meta.provider == "probe":
            registry.checks[meta.id] = meta
    polled: list[list[str]] = []
    probe = probe_target(default_config(), [url], allow_private=True)

    def poller(store, progress):
        polled.append(sorted(target.provider for target in app.targets))
        engine = Poller(
            store, {"kubernetes": collector, "probe": ProbeCollector()}, registry=registry
        )
        return engine.poll(app.targets, progress)

    app = PostureApp(
        tmp_path / "toggle.db",
        targets=[CLUSTER, probe],
        poller=poller,
        registry=registry,
        interval=3600,
        user="tester",
    )
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert polled == [["kubernetes", "probe"]]
        assert any(path == "/admin" for _, path, _ in site.requests)
        probe_rows = app.store.db.execute(
            "select count(*) from collector_runs where collector like 'probe%'"
        ).fetchone()[0]
        assert probe_rows == 1

        site.requests.clear()
        await pilot.press("P")
        await pilot.press("r")
        await settle(app, pilot)
        assert polled[-1] == ["kubernetes"]
        assert site.requests == []  # nothing was sent with probes off

        await pilot.press("P")
        await pilot.press("r")
        await settle(app, pilot)
        assert polled[-1] == ["kubernetes", "probe"]
        # the same target came back: its URL and allow-private, not plain defaults
        assert [t for t in app.targets if t.provider == "probe"] == [probe]
        assert any(path == "/admin" for _, path, _ in site.requests)


async def test_probe_toggle_is_refused_offline(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("P")
        await pilot.pause()
        assert not any(t.provider == "probe" for t in app.targets)
