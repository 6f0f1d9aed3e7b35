"""The HTML report in a real browser (Debian's headless Chromium): injected markup never
runs, hostile text shows literally, and the report's own script sorts, filters and pages.

Each safety layer is checked on its own: escaping with the CSP removed, and the CSP with
escaping bypassed on purpose; a control run proves the detector sees a real injection.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import pytest

from tests.export.chromium import browser, dump_dom
from tests.export.conftest import render
from tests.export.fixtures import HOSTILE

# The hostile payloads, if ever run, mark the page: document.title = 'PWNED' and a
# data-pwned attribute on <body> (see fixtures.HOSTILE[1] and [2]).
RAW_INJECTION = (
    "<img src=x onerror=\"document.body.setAttribute('data-pwned','raw-img')\">"
    "<script>document.body.setAttribute('data-pwned','raw-script')</script>"
)


def _write(tmp_path: Path, html: str, name: str = "report.html") -> Path:
    path = tmp_path / name
    path.write_text(html, encoding="utf-8")
    return path


def _body_attrs(dom: str) -> str:
    match = re.search(r"<body([^>]*)>", dom)
    assert match, dom[:500]
    return match.group(1)


def _title(dom: str) -> str:
    return re.search(r"<title>(.*?)</title>", dom, re.S).group(1)


def _without_csp(html: str) -> str:
    stripped = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>\n', "", html)
    assert stripped != html
    return stripped


def test_hostile_report_runs_no_injected_script_and_shows_text(tmp_path, hostile_document):
    dom = dump_dom(_write(tmp_path, render("html", hostile_document)))
    body = _body_attrs(dom)
    assert 'data-ready="1"' in body  # our script ran to the end
    assert "data-pwned" not in body
    assert _title(dom) == "Posture snapshot 1 (partial)"
    assert "<img" not in dom
    assert dom.count("<script") == 2
    # The rows the script built show the payloads as text (serialised escaped).
    assert "&lt;img src=x onerror=alert(1)&gt;-0" in dom
    assert "&lt;/script&gt;&lt;script&gt;document.title='PWNED'" in dom
    assert "[bold red]x[/]-3" in dom
    assert "| pipe | in | cell" in dom


def test_escaping_alone_holds_without_the_csp(tmp_path, hostile_document):
    html = _without_csp(render("html", hostile_document))
    dom = dump_dom(_write(tmp_path, html))
    assert 'data-ready="1"' in _body_attrs(dom)
    assert "data-pwned" not in _body_attrs(dom) and "PWNED" not in _title(dom)
    # Control: the same page with one payload left unescaped does get owned, so the
    # detector above would have seen an escaping failure.
    owned = html.replace("<main>", "<main>" + RAW_INJECTION, 1)
    dom = dump_dom(_write(tmp_path, owned, "owned.html"))
    assert "data-pwned" in _body_attrs(dom)


def test_csp_blocks_injected_scripts_but_runs_ours(tmp_path, hostile_document):
    html = render("html", hostile_document).replace("<main>", "<main>" + RAW_INJECTION, 1)
    dom = dump_dom(_write(tmp_path, html))
    body = _body_attrs(dom)
    assert "data-pwned" not in body
    assert 'data-ready="1"' in body  # the hash in the CSP matches our script


def test_hash_filter_applies_on_load(tmp_path, golden_document):
    path = _write(tmp_path, render("html", golden_document))
    dom = dump_dom(path, "#q=sg-0abc")
    endpoints = dom.split('data-table="view-endpoints"')[1].split("</table>")[0]
    assert "sg-0abc" in endpoints and "k8s://prod/shop/Service/admin" not in endpoints


def _many_findings(document: dict, count: int) -> dict:
    """The golden document with ``count`` identities findings (to page through)."""
    many = copy.deepcopy(document)
    template = next(f for f in many["findings"] if f["check_id"] == "k8s-privileged-pod")
    rows = []
    for n in range(count):
        rows.append(
            dict(
                template,
                fingerprint=f"{n:032x}",
                resource_uid=f"k8s://prod/shop/Pod/p{n:04d}",
                status="fail" if n % 3 else "pass",
                severity=["critical", "high", "medium", "low", "info"][n % 5],
                waived=False,
                waiver=None,
            )
        )
    many["findings"] = rows
    many.pop("summary")
    return many


TABLE = "document.querySelector('[data-table=\"view-identities\"]')"


def _column(page, index: int) -> list[str]:
    return page.evaluate(
        f"Array.from({TABLE}.querySelectorAll('tbody tr')).map(tr => tr.cells[{index}].textContent)"
    )


def test_report_script_sorts_filters_and_pages(tmp_path, golden_document):
    document = _many_findings(golden_document, 250)
    path = _write(tmp_path, render("html", document))
    failing = sum(1 for f in document["findings"] if f["status"] == "fail")
    with browser() as page:
        page.open(path.as_uri())
        page.wait_for("document.body.dataset.ready === '1'")
        info = f"{TABLE}.querySelector('[data-info]').textContent"
        assert page.evaluate(info) == f"Rows 1\u2013100 of {failing} (filtered from 250)"
        assert len(_column(page, 0)) == 100
        assert set(_column(page, 1)) == {"fail"}  # passes hidden by default

        page.evaluate(f"{TABLE}.querySelector('button[data-next]').click()")
        assert page.evaluate(info).startswith(f"Rows 101\u2013{min(200, failing)} of {failing}")

        page.evaluate(f"{TABLE}.querySelector('input[data-passing]').click()")
        assert page.evaluate(info) == "Rows 1\u2013100 of 250"
        page.evaluate(f"{TABLE}.querySelector('button[data-next]').click()")
        # Open failures first, then passes: page 2 (rows 101-200) reaches the passes.
        assert set(_column(page, 1)) == {"fail", "pass"}

        # Sort by severity (click): worst first; again: reversed.
        page.evaluate(f"{TABLE}.querySelectorAll('th')[0].click()")
        ranks = ["critical", "high", "medium", "low", "info"]
        first = _column(page, 0)
        assert first == sorted(first, key=ranks.index) and first[0] == "critical"
        page.evaluate(f"{TABLE}.querySelectorAll('th')[0].click()")
        assert _column(page, 0)[0] == "info"
        # Sort by resource (text), ascending.
        page.evaluate(f"{TABLE}.querySelectorAll('th')[3].click()")
        names = _column(page, 3)
        assert names == sorted(names) and names[0].startswith("Pod shop/p0000")

        # Remediation: each failing row shows its check's text (sent once, by index).
        fixes = set(zip(_column(page, 1), _column(page, 7), strict=True))
        assert fixes == {("fail", "Fix privileged pod."), ("pass", "")}
        # ... and the filter finds rows by it: the failing ones (n % 3 != 0).
        failing = sum(1 for n in range(250) if n % 3)
        page.evaluate(
            f"var s = {TABLE}.querySelector('input[type=search]'); s.value = 'fix privileged';"
            "s.dispatchEvent(new Event('input'))"
        )
        page.wait_for(f"{info} === 'Rows 1\u2013100 of {failing} (filtered from 250)'")

        # Filter: typing narrows every page to matching rows (debounced input event).
        page.evaluate(
            f"var s = {TABLE}.querySelector('input[type=search]'); s.value = 'p0042';"
            "s.dispatchEvent(new Event('input'))"
        )
        page.wait_for(f"{info} === 'Rows 1\u20131 of 1 (filtered from 250)'")
        assert _column(page, 3) == ["Pod shop/p0042k8s://prod/shop/Pod/p0042"]  # name, uid
        assert page.evaluate("document.body.hasAttribute('data-pwned')") is False


@pytest.mark.parametrize("index", [1, 2])
def test_filtering_for_a_payload_shows_it_as_text(tmp_path, hostile_document, index):
    """Re-rendering rows after a filter keeps them text (not just the first render)."""
    payload = f"{HOSTILE[index]}-{index}"  # the hostile resource's name
    path = _write(tmp_path, render("html", hostile_document))
    with browser() as page:
        page.open(path.as_uri())
        page.wait_for("document.body.dataset.ready === '1'")
        page.evaluate(
            f"var s = {TABLE}.querySelector('input[type=search]');"
            f"s.value = {json.dumps(payload)}; s.dispatchEvent(new Event('input'))"
        )
        page.wait_for(f"{TABLE}.querySelectorAll('tbody tr').length === 1")
        cell = _column(page, 3)[0]
        assert cell.startswith(f"Pod ns-{index}/{payload}")  # the name, then its uid below
        assert page.evaluate("document.querySelectorAll('main img, main script').length") == 0
        assert page.evaluate("document.title") == "Posture snapshot 1 (partial)"
        assert page.evaluate("document.body.hasAttribute('data-pwned')") is False


def test_very_long_names_are_cut_for_display_and_the_page_gets_ready(tmp_path, golden_document):
    """30,000-character names in scripts Chromium shapes slowly (emoji sequences, Arabic)
    kept the report from being ready for minutes; cut for display, it opens at once.
    The JSON export keeps every character."""
    emoji = "\U0001f468\u200d\U0001f469x" * 7_500  # 30,000 characters
    arabic = "\u0627\u0628\u062a \u05d0\u05d1" * 5_000
    document = _many_findings(golden_document, 20)
    for n, finding in enumerate(document["findings"]):
        finding["resource_uid"] = f"k8s://prod/shop/Pod/{n}{emoji}"
        finding["title"] = arabic
        finding["detail"] = emoji + arabic
    html = render("html", document)
    assert emoji not in html and arabic not in html
    assert "… (+29,700 characters)" in html  # says how much was left out
    assert emoji in render("json", document)
    path = _write(tmp_path, html)
    with browser() as page:
        page.send("Page.navigate", url=path.as_uri())
        page.wait_for("document.body && document.body.dataset.ready === '1'", timeout=90)
        cell = _column(page, 3)[0]
        # The name, then the uid below it: each cut, saying how much was left out.
        assert re.match(r"Pod shop/\d+\U0001f468", cell) and len(cell) < 800
        assert cell.endswith("characters)") and "characters)k8s://prod/shop/Pod/" in cell
