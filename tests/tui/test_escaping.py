"""Names from outside are data: markup, ANSI escapes and control characters in a
resource name, a namespace, an attribute or a collector error render literally."""

from __future__ import annotations

import pytest
from rich.text import Text

from postureapp.model import Resource, Target, k8s_uid
from postureapp.tui.markdown import code, finding_markdown
from postureapp.tui.text import clean, safe
from postureapp.tui.widgets.vtable import VirtualTable
from tests.tui.test_app import SIZE, screen_text, settle, settle_until

pytestmark = pytest.mark.anyio

MARKUP_NAME = "[bold red]x[/]"
ANSI_NAME = "evil\x1b[2J\x1b[31mred"
HOSTILE_NS = "ns[/]\u202emoc.evil"
HOSTILE_SA = "[link=https://evil.example]click[/link]\r\nline2"
HOSTILE_ERROR = "[blink]denied[/blink] \x1b]8;;https://evil.example\x07here\x1b]8;;\x07"


def test_clean_makes_controls_visible():
    assert clean("a\x1b[31mb") == "a\u241b[31mb"
    assert clean("x\ny\tz\x00") == "x\u240ay\u2409z\u2400"
    assert clean("\u202eabc") == "\ufffdabc"
    assert clean("\x9b") == "\ufffd"
    assert safe(MARKUP_NAME).plain == MARKUP_NAME  # a Text: markup is not parsed
    assert isinstance(safe("x"), Text)


def test_markdown_code_spans_hold_backticks():
    assert code("a`b") == "``a`b``"
    assert code("`x`") == "`` `x` ``"
    assert "\x1b" not in code(ANSI_NAME)


async def test_hostile_names_render_literally(make_app):
    fixture = make_app.fixture
    fixture.set_stage(2)
    fixture.kube.extra["prod-eu"] = [
        Resource(
            uid=k8s_uid("prod-eu", "Pod", name, HOSTILE_NS),
            provider="kubernetes",
            scope="prod-eu",
            kind="Pod",
            name=name,
            namespace=HOSTILE_NS,
            attrs={"serviceAccountName": HOSTILE_SA, "privileged": True},
        )
        for name in (MARKUP_NAME, ANSI_NAME)
    ]
    fixture.kube.fail["staging"] = HOSTILE_ERROR
    app = make_app(polling=True, initial_view="identities")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.screen.query_one("#filter").value = "kind:Pod ns:ns*"
        await settle(app, pilot)
        table = app.screen.query_one("#table", VirtualTable)
        names = {table.source.row(i)["name"] for i in range(table.row_count)}
        assert names == {MARKUP_NAME, ANSI_NAME}
        text = screen_text(app)
        assert MARKUP_NAME in text  # shown as typed, not turned into bold red
        assert "evil\u241b[2J\u241b[31mred" in text  # the escape is visible, not obeyed
        assert "\u202e" not in text and "\x1b" not in text
        # the detail pane, with the hostile attribute in the detail and the evidence
        await pilot.press("enter")
        await pilot.pause()
        body = app.screen.query_one("#detail-body").content
        assert isinstance(body, Text)
        assert "[link=https://evil.example]click[/link]\u240d\nline2" in body.plain
        assert not any(span.style and "link" in str(span.style) for span in body.spans)
        # copy as Markdown: no raw control characters reach the ticket
        await pilot.press("c")
        await pilot.pause()
        assert "\x1b" not in app.clipboard and "\u202e" not in app.clipboard
        finding = app.screen.app.queries.finding(table.current_row["fid"])
        assert "\x1b" not in finding_markdown(finding, app.clock())
        await pilot.press("escape")
        # y: the collected facts, hostile attribute included, as literal text
        await pilot.press("escape")  # close the detail pane
        await pilot.press("y")
        await settle(app, pilot)
        facts = app.screen.query_one("#facts-body").content
        assert isinstance(facts, Text)
        assert '"[link=https://evil.example]click[/link]\\r\\nline2"' in facts.plain  # JSON
        assert not any(span.style and "link" in str(span.style) for span in facts.spans)
        text = screen_text(app)
        assert "" not in text and "‮" not in text
        await pilot.press("escape")
        # the collector error in the header and the overview
        app.switch_view("overview")
        await settle(app, pilot)
        text = screen_text(app)
        assert "[blink]denied[/blink]" in text
        assert "\x1b" not in text and "\x07" not in text


async def test_hostile_target_names_in_the_fleet(make_app):
    """A kube context and an organisation's account name are the outside world's too."""
    from textual.widgets import DataTable

    from tests.tui.estate import ACCOUNT, TARGETS

    fixture = make_app.fixture
    fixture.set_stage(2)
    fixture.aws.extra["prod"] = [
        Resource(
            uid=f"arn:aws:organizations::{ACCOUNT}:account/o-x/{ACCOUNT}",
            provider="aws",
            scope=f"{ACCOUNT}/global",
            kind="AWSAccount",
            name=ANSI_NAME,
            attrs={"account_id": ACCOUNT, "name": ANSI_NAME},
        )
    ]
    hostile = Target("kubernetes", MARKUP_NAME)
    fixture.kube.fail[MARKUP_NAME] = HOSTILE_ERROR
    targets = [*TARGETS, hostile]
    app = make_app(
        polling=True,
        targets=targets,
        poller=lambda store, progress: fixture.engine(store).poll(targets, progress),
        initial_view="fleet",
    )
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        shown = "evil\u241b[2J\u241b[31mred"  # the account's name, escape visible
        # the poll's snapshot, the fleet read of it, then the table's repaint
        await settle_until(app, pilot, lambda: shown in screen_text(app), "the account's name")
        assert MARKUP_NAME in [row.name for row in screen.fleet.rows]
        # the "/" in the context's name does not split it into a second, made-up target
        kube_rows = {row.name for row in screen.fleet.rows if row.provider == "kubernetes"}
        assert kube_rows == {t.name for t in targets if t.provider == "kubernetes"}
        text = screen_text(app)
        table_text = text.split("\n", 3)[-1]  # below the header, which names targets too
        assert MARKUP_NAME in table_text  # as typed, not bold red
        assert "\x1b" not in text
        table = screen.query_one("#fleet", DataTable)
        index = [row.name for row in screen.fleet.rows].index(MARKUP_NAME)
        table.cursor_coordinate = (index, 0)
        await pilot.pause()
        assert "[blink]denied[/blink]" in screen_text(app)  # its collector error, literal
        for row in range(table.row_count):
            for cell in table.get_row_at(row):
                assert isinstance(cell, Text)
