"""The dashboard's "Copy as Markdown" (``c``): commands in code spans read as commands,
triage notes come along, and outside text outside code spans stays inert."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from postureapp.checks.registry import REGISTRY
from postureapp.store.views import DashboardQueries
from postureapp.tui.markdown import finding_markdown
from tests.export.fixtures import HOSTILE, build_golden_cache

NOW = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
COMMAND = "aws iam delete-login-profile --user-name USER"


@pytest.fixture
def finding(tmp_path):
    """A failing finding as the copy action reads it (``DashboardQueries.finding``),
    with two triage notes: one with a command, one hostile."""
    store, _ = build_golden_cache(tmp_path / "cache.db")
    try:
        queries = DashboardQueries(store)
        queries.reload()
        (fid,) = queries.conn.execute(
            "SELECT fid FROM temp.tui_findings WHERE status = 'fail' ORDER BY fid LIMIT 1"
        ).fetchone()
        store.add_note(queries.finding(fid)["fingerprint"], "alice", f"ran `{COMMAND}`\nfixed")
        store.add_note(queries.finding(fid)["fingerprint"], "[eve](https://x)", HOSTILE[0])
        found = queries.finding(fid)
    finally:
        store.close()
    # The real check's remediation, which names a command in a code span.
    found["check"]["remediation"] = REGISTRY.checks["aws-iam-user-console-mfa"].remediation
    return found


def test_commands_in_code_spans_are_not_escaped(finding):
    markdown = finding_markdown(finding, NOW)
    assert f"`{COMMAND}`" in markdown
    assert "\\`" not in markdown.split("**Remediation**", 1)[1].split("**", 1)[0]
    assert "delete\\-login" not in markdown


def test_notes_are_in_the_copied_markdown(finding):
    markdown = finding_markdown(finding, NOW)
    notes = markdown.split("**Notes**", 1)[1]
    assert f"ran `{COMMAND}` fixed" in notes  # one paragraph line, command intact
    assert "`[eve](https://x)`" in notes  # the author is data: in a code span


def test_hostile_text_outside_code_spans_stays_escaped(finding):
    finding["detail"] = "see [click](javascript:alert(1)) <img src=x onerror=1> `<b>ok</b>` `"
    markdown = finding_markdown(finding, NOW)
    detail = markdown.split("**Detail**", 1)[1].split("**", 1)[0]
    assert "\\[click\\]\\(javascript:alert\\(1\\)\\)" in detail
    assert "\\<img src=x onerror=1\\>" in detail
    assert "`<b>ok</b>`" in detail  # a code span: shown literally by Markdown
    assert detail.rstrip().endswith("\\`")  # a stray backtick cannot open a span
    notes = markdown.split("**Notes**", 1)[1]
    assert "<img" not in notes.replace("\\<img", "")
