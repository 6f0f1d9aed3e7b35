"""A hostile Server header, probed for real and written to a real cache, displays
literally in the dashboard's detail pane and is escaped in the HTML report."""

from __future__ import annotations

import io

import pytest

import postureapp.checks  # noqa: F401  (registers the probe checks)
from postureapp.collectors.probe import ProbeCollector
from postureapp.export import build_document, write
from postureapp.model import Target
from postureapp.poll import Poller
from postureapp.store import Store
from tests.integration.probe.conftest import HOSTILE_POWERED, HOSTILE_SERVER


@pytest.fixture
def hostile_cache(estate, tmp_path):
    target = Target(
        "probe",
        "probe",
        {"urls": [estate.url("hostile")], "allow_private": True, "timeout": 2},
    )
    with Store(tmp_path / "cache.db") as store:
        Poller(store, {"probe": ProbeCollector()}).poll([target])
        yield store


def test_the_detail_pane_shows_the_banner_as_typed(hostile_cache):
    from postureapp.store.views import DashboardQueries
    from postureapp.tui.widgets.detail import finding_text

    queries = DashboardQueries(hostile_cache)
    queries.reload()
    (fid,) = [
        row[0]
        for row in hostile_cache.db.conn.execute(
            "SELECT id FROM findings WHERE check_id = 'probe-banner-disclosure'"
        )
    ]
    finding = queries.finding(fid)
    assert finding["status"] == "fail"
    body = finding_text(finding, queries.clock())
    assert HOSTILE_SERVER in body.plain  # markup shown, not applied
    assert "[link=https://evil.example]x[/link]" in body.plain
    styles = " ".join(str(span.style) for span in body.spans)
    assert "link" not in styles and "red" not in styles.replace("bold red", "")
    start = body.plain.index("pwned")
    assert not any(
        span.start <= start < span.end and "red" in str(span.style) for span in body.spans
    )


def test_the_html_report_escapes_the_banner(hostile_cache):
    out = io.StringIO()
    write("html", build_document(hostile_cache, hostile_cache.latest()), out)
    html = out.getvalue()
    assert "alert(1)" in html and "onerror=alert(2)" in html  # the data is there...
    assert "<script>alert(1)</script>" not in html  # ...but never as markup
    assert "<img src=x" not in html
    assert HOSTILE_POWERED not in html


@pytest.mark.anyio
async def test_the_dashboard_shows_the_banner_literally(hostile_cache):
    from rich.text import Text

    from postureapp.tui.app import PostureApp
    from tests.tui.test_app import SIZE, screen_text, settle

    app = PostureApp(hostile_cache.path, offline=True, initial_view="endpoints")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.screen.query_one("#filter").value = "check:probe-banner-disclosure"
        await settle(app, pilot)
        await pilot.press("enter")
        await pilot.pause()
        body = app.screen.query_one("#detail-body").content
        assert isinstance(body, Text)
        assert HOSTILE_SERVER in body.plain
        assert not any("link" in str(span.style) for span in body.spans)
        assert "pwned/1.0" in screen_text(app)
