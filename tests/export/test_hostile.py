"""Hostile outside strings in every human-facing format, and attrs never leaking.

Each payload from fixtures.HOSTILE sits in resource names (hence uids), finding titles,
details and evidence, collector targets and errors, a waiver and an attestation."""

from __future__ import annotations

import csv
import io
import json
import re
from html.parser import HTMLParser
from urllib.parse import unquote

import pytest

from postureapp.export import FORMATS
from postureapp.export.common import ResourceIndex, one_line
from postureapp.export.csv_export import COLUMNS
from postureapp.export.html import CSP, SCRIPT
from postureapp.text import UNSAFE, escape_controls
from tests.export.conftest import render
from tests.export.fixtures import CANARY, HOSTILE

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

# -- HTML ----------------------------------------------------------------------------


def test_html_has_no_raw_markup_from_outside(hostile_document):
    html = render("html", hostile_document)
    assert "<img" not in html
    assert html.count("<script") == 2  # the JSON data block and our own script
    assert html.count("</script>") == 2
    assert "\x1b" not in html and "\u2028" not in html
    # Escaped, visible forms are there instead.
    assert "&lt;img src=x onerror=alert(1)&gt;" in html  # a first-page table cell
    assert "\\u003cimg src=x onerror=alert(1)\\u003e" in html  # the script's data
    assert "\\x1b[31mANSI-RED\\x1b[0m" in html


@pytest.mark.parametrize("fmt", ["html", "markdown"])
def test_no_control_or_bidi_character_is_left_raw(fmt, hostile_document):
    """The set the dashboard escapes (postureapp.text.UNSAFE): only our own line breaks
    remain; every outside one is spelled out, as are BEL, NUL, OSC 52 and bidi marks."""
    text = render(fmt, hostile_document)
    assert set(UNSAFE.findall(text)) <= {"\n"}
    if fmt == "markdown":  # read back through Markdown's own backslash escapes
        text = re.sub(r"\\([\\`*_\[\]|~$])", r"\1", text)
    assert "\\x07nul\\x00\\x1b]52;c;cHduZWQ=\\x07OSC52" in text
    assert "\\u202eRLO-gnp.exe\\u202c \\u2066isolate\\u2069 \\u200fmark\\u200e" in text


def test_html_data_block_is_inert_and_parses_back(hostile_document):
    html = render("html", hostile_document)
    start = html.index('<script type="application/json" id="posture-data">') + len(
        '<script type="application/json" id="posture-data">'
    )
    block = html[start : html.index("</script>", start)]
    assert not re.search(r"[<>&\u2028\u2029]", block)
    data = json.loads(block)  # \u003c escapes are plain JSON
    cells = {cell for table in data["tables"].values() for row in table["rows"] for cell in row}
    assert (
        "</script><script>document.title='PWNED';"
        + ("document.body.setAttribute('data-pwned','s')</script> (on scope)")
        in cells
    )


def test_html_script_builds_rows_with_text_only():
    assert "innerHTML" not in SCRIPT and "outerHTML" not in SCRIPT
    assert "insertAdjacentHTML" not in SCRIPT and "document.write" not in SCRIPT
    assert "eval(" not in SCRIPT and "Function(" not in SCRIPT
    assert "textContent" in SCRIPT


def test_html_csp_pins_our_script_and_forbids_the_network(golden_document):
    import base64
    import hashlib

    html = render("html", golden_document)
    assert f'<meta http-equiv="Content-Security-Policy" content="{CSP}">' in html
    assert CSP.startswith("default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-")
    digest = base64.b64encode(hashlib.sha256(SCRIPT.encode()).digest()).decode()
    assert f"'sha256-{digest}'" in CSP
    assert f"<script>{SCRIPT}</script>" in html  # emitted byte for byte, so the hash holds


def test_html_is_self_contained(golden_document, hostile_document):
    html = render("html", golden_document)
    assert "http:" not in html and "https:" not in html  # not even as text
    assert "@import" not in html and "url(" not in html
    for page in (html, render("html", hostile_document)):
        for tag in re.findall(r"<[a-zA-Z][^>]*>", page):
            assert not re.search(r"\s(src|srcset|action|formaction|data|poster)\s*=", tag), tag
            href = re.search(r'\shref="([^"]*)"', tag)
            assert href is None or href.group(1).startswith("#"), tag


# -- CSV -----------------------------------------------------------------------------


def _csv_rows(document):
    text = render("csv", document)
    return list(csv.reader(io.StringIO(text, newline="")))


def test_csv_neutralises_formulas_and_keeps_the_data(hostile_document):
    header, *rows = _csv_rows(hostile_document)
    assert tuple(header) == COLUMNS
    assert len(rows) == len(hostile_document["findings"])
    for row in rows:
        for cell in row:
            assert not cell.startswith(FORMULA_START), row
    by_fp = {row[0]: dict(zip(COLUMNS, row, strict=True)) for row in rows}
    for finding in hostile_document["findings"]:
        row = by_fp[finding["fingerprint"]]
        for column in ("resource_uid", "title", "detail"):
            value = finding[column]
            # Only controls spelled out (tab and line feed kept) and the quote added.
            value = escape_controls(value.replace("\r\n", "\n"), keep="\t\n")
            expected = "'" + value if value.startswith(FORMULA_START) else value
            assert row[column] == expected  # nothing else lost
    cells = {cell for row in rows for cell in row}
    for payload in (
        '=HYPERLINK("http://evil.example/x","click")',
        "+1",
        "-2",
        "@SUM(A1)",
        "\tTAB-LEADING",
    ):
        assert "'" + payload in cells, payload
    assert "\\x0dCR-LEADING" in cells  # a lone CR would overwrite the line shown
    waived = [row for row in rows if row[COLUMNS.index("waived")] == "true"]
    assert [row[COLUMNS.index("waiver_reason")] for row in waived] == [HOSTILE[1]]


def test_csv_cannot_drive_a_terminal(hostile_document):
    """`cat posture.csv` shows text: no ESC, BEL, NUL, lone CR or bidi override is left
    raw; tabs and line feeds inside a quoted cell are data and stay."""
    text = render("csv", hostile_document)
    raw = set(UNSAFE.findall(text.replace("\r\n", "")))
    assert raw <= {"\t", "\n"}, raw
    assert "\\x1b]52;c;cHduZWQ=\\x07OSC52" in text
    assert "\\u202eRLO-gnp.exe\\u202c \\u2066isolate\\u2069 \\u200fmark\\u200e \\u061calm" in text
    assert "line one\nline two\n| --- |" in text


# Whatever write_csv checks a whole row for before writing it as it is (issue 14).
_CELL_PAYLOADS = (
    "=1+1",
    "+1",
    "-1",
    "@A1",
    "\tlead",
    "\rlead",
    "a\r\nb",
    "mid\x1bdle",
    "line\u2028sep",
    "\u202eRLO",
    "\u061calm",
    "\u241e=after the row separator",
    "x\u241e=inside",
    "nbsp\u00a0space",
    "tab\tinside",
    "plain",
    "",
    "a, comma",
    'a "quote"',
)
_DIRECT = (
    "fingerprint",
    "check_id",
    "severity",
    "status",
    "view",
    "title",
    "detail",
    "first_seen",
    "remediation",
)


def test_csv_rows_are_escaped_cell_by_cell_wherever_the_payload_sits(golden_document):
    """write_csv skips per-cell escaping for rows it proves clean; each payload in each
    column (first and last included) must come out as cell() makes it."""
    from postureapp.export.csv_export import cell

    findings = []
    for number, (column, payload) in enumerate(
        (column, payload) for column in _DIRECT for payload in _CELL_PAYLOADS
    ):
        finding = dict(golden_document["findings"][number % len(golden_document["findings"])])
        finding[column] = payload
        findings.append(finding)
    document = dict(golden_document, findings=findings)
    assert render("csv", document) == _csv_cell_by_cell(document)
    _, *rows = _csv_rows(document)
    assert len(rows) == len(findings)
    for row, finding in zip(rows, findings, strict=True):
        named = dict(zip(COLUMNS, row, strict=True))
        for column in _DIRECT:
            assert named[column] == cell(finding[column]).replace("\r\n", "\n"), column


def _csv_cell_by_cell(document) -> str:
    """The CSV as write_csv wrote it before its fast paths: every cell through cell(),
    every row through the csv module."""
    from postureapp.export.csv_export import cell
    from postureapp.export.snapshot_json import document_score

    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    resources = ResourceIndex(document)
    value = document_score(document)["value"]
    score = "" if value is None else f"{value:.1f}"
    for finding in document["findings"]:
        waiver = finding.get("waiver") or {}
        row = (
            finding["fingerprint"],
            finding["check_id"],
            finding["severity"],
            finding["status"],
            finding["view"],
            finding["resource_uid"],
            finding["title"],
            finding["detail"],
            "true" if finding["waived"] else "false",
            waiver.get("reason", "") if finding["waived"] else "",
            finding["first_seen"],
            finding.get("remediation", ""),
            resources.label(finding["resource_uid"]),
            score,
            (resources.get(finding["resource_uid"]) or {}).get("scope", ""),
        )
        writer.writerow([cell(value) for value in row])
    return out.getvalue()


@pytest.mark.parametrize("which", ["golden_document", "hostile_document"])
def test_csv_is_byte_for_byte_the_cell_by_cell_csv(which, request):
    document = request.getfixturevalue(which)
    assert render("csv", document) == _csv_cell_by_cell(document)


def test_csv_one_row_per_finding_in_document_order(golden_document):
    _, *rows = _csv_rows(golden_document)
    assert [row[0] for row in rows] == [f["fingerprint"] for f in golden_document["findings"]]
    assert render("csv", golden_document).count("\r\n") == len(rows) + 1


# -- Markdown ------------------------------------------------------------------------


class _Tables(HTMLParser):
    """Cells of every rendered table, and every link, from Markdown rendered to HTML."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[list[list[str]]] = []
        self.links: list[tuple[str, str]] = []
        self.tags: list[str] = []
        self._cell: list[str] | None = None
        self._href: str | None = None
        self._link_text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = []
        elif tag == "a":
            self._href, self._link_text = dict(attrs).get("href", ""), []

    def handle_endtag(self, tag):
        if tag in ("td", "th"):
            self.tables[-1][-1].append("".join(self._cell))
            self._cell = None
        elif tag == "a":
            self.links.append((self._href, "".join(self._link_text)))
            self._href = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)
        if self._href is not None:
            self._link_text.append(data)


def _rendered(markdown: str) -> _Tables:
    from markdown_it import MarkdownIt

    # GFM-like: tables, strikethrough, bare-URL linkify, and raw HTML allowed (as GitHub
    # allows a safe subset), so any HTML we failed to escape would come through.
    html = MarkdownIt("gfm-like", {"html": True}).render(markdown)
    parser = _Tables()
    parser.feed(html)
    return parser


def test_markdown_escapes_outside_text(hostile_document):
    markdown = render("markdown", hostile_document)
    assert "<img" not in markdown and "<script" not in markdown
    assert "\x1b" not in markdown and "\r" not in markdown and "\u2028" not in markdown
    parsed = _rendered(markdown)
    assert "img" not in parsed.tags and "script" not in parsed.tags
    assert "code" not in parsed.tags and "del" not in parsed.tags and "em" not in parsed.tags
    for href, text in parsed.links:
        # A bare URL may be auto-linked, but only as itself: no disguised or script links.
        assert not href.lower().startswith("javascript:")
        assert unquote(href) == text, (href, text)


def test_markdown_tables_hold_together(hostile_document):
    parsed = _rendered(render("markdown", hostile_document))
    health, findings = parsed.tables[0], parsed.tables[1]
    for table in (health, findings):
        widths = {len(row) for row in table}
        assert len(widths) == 1, widths
    assert findings[0] == ["Severity", "Check", "Resource", "Finding"]
    open_failing = [
        f for f in hostile_document["findings"] if f["status"] == "fail" and not f["waived"]
    ]
    assert len(findings) - 1 == len(open_failing)
    for finding, row in zip(open_failing, findings[1:], strict=True):
        # The whole name (kind namespace/name) and title land in their own cell, as text.
        label = ResourceIndex(hostile_document).label(finding["resource_uid"])
        assert row[2].strip() == one_line(label).strip()
        assert row[3].strip().startswith(one_line(finding["title"]).strip()[:150])
    assert "\\x1b[31mANSI-RED\\x1b[0m" in findings[1][2] + "".join(r[2] for r in findings)


def test_markdown_caps_the_top_findings(golden_document):
    import copy

    from postureapp.export.markdown import TOP_FINDINGS

    document = copy.deepcopy(golden_document)
    template = next(f for f in document["findings"] if f["status"] == "fail" and not f["waived"])
    document["findings"] = [
        dict(template, fingerprint=f"{n:032x}", resource_uid=f"k8s://prod/x/Pod/p{n}")
        for n in range(TOP_FINDINGS + 7)
    ]
    document.pop("summary")
    markdown = render("markdown", document)
    assert "…and 7 more open failing findings" in markdown
    assert markdown.count("Pod x/p") == TOP_FINDINGS  # named from the uid: no such resource


def test_markdown_puts_critical_first(golden_document):
    markdown = render("markdown", golden_document)
    table = markdown.split("### Top open findings")[1].split("###")[0]
    severities = re.findall(r"^\| \**(critical|high|medium|low|info)\**", table, re.M)
    ranks = ["critical", "high", "medium", "low", "info"]
    assert severities == sorted(severities, key=ranks.index) and severities[0] == "critical"


# -- attrs never leak ----------------------------------------------------------------


@pytest.mark.parametrize("fmt", [f for f in FORMATS if f != "json"])
def test_attrs_do_not_leak_into_other_formats(fmt, hostile_document):
    """Formats emit document fields only; of a resource, only uid, name, kind (and for
    OCSF namespace/region). A value in attrs therefore cannot reach them."""
    assert CANARY in json.dumps([r["attrs"] for r in hostile_document["resources"]])
    assert CANARY not in render(fmt, hostile_document)


def test_json_carries_attrs_by_contract(hostile_document):
    assert CANARY in render("json", hostile_document)


def test_every_unsafe_character_is_unprintable():
    """CSV rows and one_line() skip escaping for text that str.isprintable() accepts
    (issue 14): that is only sound while every character the exports escape, and every
    line break one_line() joins, is one it rejects."""
    unsafe = UNSAFE.findall("".join(map(chr, range(0x110000))))
    assert len(unsafe) > 60
    assert not [c for c in unsafe if c.isprintable()]
    assert not [c for c in "\r\n\u2028\u2029\x85\t" if c.isprintable()]
