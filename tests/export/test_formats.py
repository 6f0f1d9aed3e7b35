"""The format registry and what the document gained for the formats (additively)."""

from __future__ import annotations

import io
import subprocess
import sys

import pytest

from postureapp.export import EXTENSIONS, FORMATS, build_document, write
from tests.export.fixtures import frozen_document

V1_FIELDS = {
    "schema",
    "generated_at",
    "tool",
    "snapshot",
    "collector_runs",
    "resources",
    "findings",
    "controls",
    "checks",
}


def test_registry_names_every_format():
    assert list(FORMATS) == ["json", "sarif", "html", "markdown", "csv", "ocsf"]
    assert set(EXTENSIONS) == set(FORMATS)


def test_write_dispatches_and_rejects_unknown_formats(golden_document):
    out = io.StringIO()
    write("markdown", golden_document, out)
    assert out.getvalue().startswith("## Posture snapshot 2")
    with pytest.raises(ValueError, match="unknown format 'yaml' \\(choose one of: json, sarif"):
        write("yaml", golden_document, io.StringIO())


def test_importing_the_registry_stays_light():
    """`posture export --format json` must not pay for Jinja2 or jsonschema."""
    code = (
        "import sys, postureapp.export\n"
        "print(','.join(m for m in ('jinja2', 'jsonschema', 'markupsafe') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""


def test_document_keeps_every_v1_field_and_adds_summary_and_changes(golden_document):
    assert set(golden_document) >= V1_FIELDS
    assert {"summary", "changes"} <= set(golden_document)
    finding = golden_document["findings"][0]
    assert {"fingerprint", "waived", "waiver", "remediation", "frameworks", "first_seen"} <= set(
        finding
    )


def test_summary_counts(golden_document):
    summary = golden_document["summary"]
    assert summary["findings"] == 10
    assert summary["by_status"] == {"fail": 6, "pass": 2, "unknown": 1, "error": 1}
    assert summary["open"] == 5 and summary["waived_failing"] == 1
    assert summary["open_by_severity"] == {
        "critical": 2,
        "high": 1,
        "medium": 0,
        "low": 1,
        "info": 1,
    }
    assert summary["open_by_view"]["endpoints"] == {
        "critical": 2,
        "high": 0,
        "medium": 0,
        "low": 0,
        "info": 1,
    }


def test_changes_since_the_previous_snapshot(golden_document, first_document):
    changes = golden_document["changes"]
    assert (changes["from"], changes["to"]) == (1, 2)
    assert [r["resource_uid"] for r in changes["opened"]] == [
        "k8s://prod/shop/Pod/api",
        "k8s://prod/shop/Secret/db-password",
    ]
    assert [r["resource_uid"] for r in changes["resolved"]] == ["k8s://prod/shop/Pod/debug"]
    assert [(r["check_id"], r["status"], r["fields"]) for r in changes["changed"]] == [
        ("aws-sg-open-ingress", "fail", ["severity", "content"]),
        ("aws-secret-not-rotated", "unknown", ["status", "content"]),
    ]
    assert first_document["changes"] is None


def test_changes_against_a_chosen_snapshot(golden_cache):
    store, registry = golden_cache
    document = build_document(store, store.snapshot(2), registry, compare_to=2)
    assert document["changes"] == {"from": 2, "to": 2, "opened": [], "resolved": [], "changed": []}


def test_waivers_are_evaluated_as_of_generation(golden_cache):
    store, registry = golden_cache
    document = frozen_document(store, registry)
    [binding] = [f for f in document["findings"] if f["check_id"] == "k8s-cluster-admin-binding"]
    assert binding["waived"] and binding["waiver"]["ticket"] == "SEC-142"


def test_every_writer_accepts_a_stream_and_ends_with_a_newline(golden_document):
    for fmt, writer in FORMATS.items():
        out = io.StringIO()
        assert writer(golden_document, out) is None
        assert out.getvalue().endswith("\n"), fmt


@pytest.mark.parametrize("which", ["golden_document", "hostile_document"])
def test_json_layout_round_trips(which, request):
    """One record a line, and still exactly the document (hostile strings included)."""
    import json

    from tests.export.conftest import render

    document = request.getfixturevalue(which)
    text = render("json", document)
    assert json.loads(text) == document
    findings = text.split('\n "findings": [\n')[1].split("\n ],\n")[0].splitlines()
    assert len(findings) == len(document["findings"])  # even U+2028 does not split one


def test_writers_leave_the_garbage_collector_as_they_found_it(golden_document):
    import gc

    assert gc.isenabled()
    for writer in FORMATS.values():
        writer(golden_document, io.StringIO())
        assert gc.isenabled()
    gc.disable()
    try:
        FORMATS["csv"](golden_document, io.StringIO())
        assert not gc.isenabled()
    finally:
        gc.enable()


@pytest.mark.parametrize("which", ["golden_document", "hostile_document"])
def test_ocsf_lines_are_exactly_the_events(which, request):
    """write_ocsf splices shared members for speed; every line must still parse back to
    its event, and no line may contain a character readers split lines at."""
    import json

    from postureapp.export.ocsf import iter_events
    from tests.export.conftest import render

    document = request.getfixturevalue(which)
    text = render("ocsf", document)
    assert not {"\u2028", "\u2029", "\x85"} & set(text)
    lines = text.splitlines()
    assert [json.loads(line) for line in lines] == list(iter_events(document))
