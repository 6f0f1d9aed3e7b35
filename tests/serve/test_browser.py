"""`posture serve` in a real headless Chromium: the four views with the token, keys and
the filter, nothing without the token, two independent sessions, read-only by default,
and hostile names shown as text that never runs, styles or links.

Every wait is on a condition (what the terminal shows, what the server logged); a key
whose effect must be "nothing" is followed by a key whose effect is visible, so the
test knows the first one was handled before it looks.
"""

from __future__ import annotations

import itertools
import time
from pathlib import Path

import pytest

from postureapp.store import Store
from tests.export.fixtures import build_hostile_cache
from tests.serve.harness import Dashboard, dashboard, serve
from tests.tui.estate import build_cache

pytestmark = pytest.mark.slow

PROMPT = "view (identities, endpoints"  # the ":" prompt's placeholder
VIEW_MARKS = {
    "identities": ("IDENTITIES", "payments-api-irsa"),
    "endpoints": ("ENDPOINTS", "Admin port 22 exposed"),
    "secrets": ("SECRETS", "db-password"),
    "governance": ("GOVERNANCE", "controls"),
}


@pytest.fixture(scope="module")
def fixture_db(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("serve") / "posture.db"
    build_cache(path)
    return path


def _open(board: Dashboard, url: str) -> str:
    board.open(url)
    text = board.wait_text("Posture score", "offline · cache only")
    board.focus()
    return text


def _jump(board: Dashboard, view: str, marks: tuple[str, ...] | None = None) -> str:
    board.press(":")
    board.wait_text(PROMPT)
    board.type(view)
    board.press("enter")
    return board.wait_text(*(marks or VIEW_MARKS[view]), absent=(PROMPT,))


def _footer(text: str) -> str:
    """The key bar: the last line of the terminal that holds anything."""
    return [line for line in text.splitlines() if line.strip()][-1]


def _settled_footer(board: Dashboard, *needles: str, timeout: float = 90) -> str:
    """The key bar once it shows ``needles``: the bar redraws a frame after the focus
    moves, so a read right after a key can see the bar of the field just closed."""
    deadline = time.monotonic() + timeout
    while True:
        footer = _footer(board.text())
        if all(needle in footer for needle in needles):
            return footer
        assert time.monotonic() < deadline, f"the key bar never showed {needles}: {footer}"
        time.sleep(0.1)


def _waivers(db: Path) -> int:
    with Store(db) as store:
        return len(store.waivers())


def test_token_opens_the_four_views_keys_and_filter_work(fixture_db):
    waivers_before = _waivers(fixture_db)
    with serve(fixture_db) as served, dashboard() as board:
        _open(board, served.url)
        # The token left the address bar (and history) once traded for the cookie.
        assert "token" not in board.evaluate("location.href")
        for view in ("identities", "endpoints", "secrets", "governance"):
            _jump(board, view)

        # Read-only: no Attest in the governance footer, and `a` opens nothing.
        footer = _settled_footer(board, "Quit", "f Framework")
        assert "Attest" not in footer
        board.press("a", ":")
        board.wait_text(PROMPT)
        assert "Attestation" not in board.text()
        board.press("escape")
        board.wait_text(absent=(PROMPT,))  # closed before the next key (see below)

        # The filter applies: only critical findings remain.
        text = _jump(board, "identities")
        assert "high     fail" in text
        board.press("/")
        board.wait_text("filter: words")
        board.type("sev:=critical")
        board.press("enter")
        text = board.wait_text("payments-api-irsa", absent=("high     fail", "filter: words"))
        rows = [line for line in text.splitlines() if line.startswith(("critical", "high"))]
        assert rows and all(line.startswith("critical") for line in rows)

        # `w` and `n` are gone from the footer and do nothing; the cache is untouched.
        footer = _settled_footer(board, "Quit", "Filter")
        assert "w Waive" not in footer and "n Note" not in footer, footer
        board.press("w", "n", ":")
        board.wait_text(PROMPT)
        assert "Reason (why the risk is accepted)" not in board.text()
        assert "Add a note" not in board.text()
        board.press("escape")
    assert _waivers(fixture_db) == waivers_before
    assert served.process.returncode == 0
    assert any("session 1 closed" in line for line in served.log)


def test_allow_write_offers_waive(fixture_db):
    with serve(fixture_db, "--allow-write") as served, dashboard() as board:
        _open(board, served.url)
        _jump(board, "endpoints")
        _settled_footer(board, "w Waive")
        board.press("w")
        board.wait_text("Reason (why the risk is accepted)")


def test_without_the_token_nothing_loads(fixture_db):
    with serve(fixture_db) as served, dashboard() as board:
        board.open(served.base)
        board.wait_for("document.body && document.body.innerText.includes('401')")
        status = board.evaluate("performance.getEntriesByType('navigation')[0].responseStatus")
        assert status == 401
        assert board.evaluate("document.querySelector('.xterm, #terminal') === null")
        assert "payments" not in board.evaluate("document.documentElement.outerHTML")

        # A wrong token in the address is refused the same way.
        board.open(served.base + "#token=" + "x" * 43)
        board.wait_for("document.body && document.body.innerText.includes('refused')")
        assert board.evaluate("document.querySelector('.xterm') === null")
        assert served.session_pids() == []

        # The right token pasted into the form opens the dashboard.
        board.evaluate(f"document.getElementById('token').value = {served.token!r}")
        board.evaluate("document.querySelector('#login button').click()")
        board.wait_text("Posture score")
        assert len(served.session_pids()) == 1


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/status") as status:
            return "zombie" not in status.read()
    except FileNotFoundError:
        return False


def test_two_concurrent_sessions_are_independent(fixture_db):
    with serve(fixture_db) as served, dashboard() as first:
        _open(first, served.url)
        with dashboard() as second:
            _open(second, served.url)
            served.wait_log(r"session 2 opened")
            pids = served.session_pids()
            assert len(set(pids)) == 2 and all(_alive(pid) for pid in pids)

            _jump(first, "secrets")
            assert "Posture score" in second.text()  # the other session did not move
            _jump(second, "endpoints")
            assert "SECRETS" in first.text() and "ENDPOINTS" not in first.text()
        # Closing one browser ends its app process; the other keeps working.
        served.wait_log(r"session \d closed \(1 open\)")
        first_pid, second_pid = pids
        _until(lambda: not _alive(second_pid))
        assert _alive(first_pid)
        _jump(first, "governance")


def _until(condition, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition never held")
        time.sleep(0.05)


@pytest.fixture(scope="module")
def hostile_db(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("hostile") / "posture.db"
    store, _registry = build_hostile_cache(path)
    store.close()
    return path


LITERAL = [
    '<img src=x onerror="document.title=',
    "[bold red]x[/]-3",
    "</script><script>document.title='PW",
    '=HYPERLINK("http://evil.example/x",',
    "␛[31mANSI-RED␛[0m-12",
    "[link](javascript:alert(3))",
    "`backtick` ```fence```-11",
]


def test_hostile_names_render_literally_and_never_run(hostile_db):
    with serve(hostile_db) as served, dashboard() as board:
        text = _open(board, served.url)
        # The failed collector's hostile error in the header and collector health.
        assert "kubernetes <img src=x" in text
        text = _jump(board, "identities", ("IDENTITIES", *LITERAL))
        assert "\x1b" not in text
        # A name with line breaks and Markdown table syntax sits below the fold: filter.
        board.type("/ns:ns-14")
        board.press("enter")
        shown = board.wait_text(
            "line one␊line two␍␊| --- |", absent=("filter: words", '=HYPERLINK("http')
        )
        assert "\x1b" not in shown
        # Escape clears the filter. The next input waits for that: an ESC byte followed
        # at once by another sequence is read as one key (alt+...), as in any terminal.
        board.press("escape")
        board.wait_text(*LITERAL, absent=("filter ns:ns-14",))
        # Nothing ran: no title change, no marker, no element made from the text.
        assert board.evaluate("document.title") == "posture · posture.db"
        assert board.evaluate("document.body.getAttribute('data-pwned')") is None
        assert board.evaluate("document.querySelectorAll('img, a, iframe').length") == 0

        # xterm.js makes any http(s) URL in the text a link; clicking it opens nothing.
        # Control: xterm.js did take the text for a link (pointer cursor over it). The
        # rows can still move (a reload behind the filter) and a redraw ends xterm's
        # hover, so the pointer follows the URL until the pointer shows.
        deadline = time.monotonic() + 90
        for cell in itertools.cycle((3, 4)):  # a new cell: xterm looks for a link again
            row, col = _find(board, "http://evil.example/x")
            x, y = _cell_centre(board, row, col + cell)
            board.page.send("Input.dispatchMouseEvent", type="mouseMoved", x=x, y=y)
            if board.evaluate("document.querySelectorAll('.xterm-cursor-pointer').length"):
                break
            assert time.monotonic() < deadline, ("xterm.js never took the URL for a link", row)
            time.sleep(0.2)
        for kind in ("mousePressed", "mouseReleased"):
            board.page.send(
                "Input.dispatchMouseEvent", type=kind, x=x, y=y, button="left", clickCount=1
            )
        board.press(":")  # handled after the click
        board.wait_text(PROMPT)
        pages = [t for t in board.page.send("Target.getTargets")["targetInfos"]]
        assert len(pages) == 1, pages
        assert board.evaluate("location.href") == served.base
        assert board.evaluate("window.open('about:blank')") is None


def _find(board: Dashboard, needle: str) -> tuple[int, int]:
    text = board.text()
    for row, line in enumerate(text.splitlines()):
        if needle in line:
            return row, line.index(needle)
    raise AssertionError(f"{needle!r} not on screen:\n{text}")


def _cell_centre(board: Dashboard, row: int, col: int) -> tuple[float, float]:
    box = board.evaluate(
        "(() => { const r = document.querySelector('.xterm-screen').getBoundingClientRect();"
        " const t = window.__postureTerminal;"
        " return [r.left, r.top, r.width / t.cols, r.height / t.rows]; })()"
    )
    left, top, width, height = box
    return left + (col + 0.5) * width, top + (row + 0.5) * height
