"""The CI gate: thresholds, waivers, --new-only baselines, partial snapshots."""

from __future__ import annotations

import copy
import json

import pytest

from postureapp.errors import EXIT_COLLECTION, EXIT_FINDINGS, EXIT_OK, InputError
from postureapp.export.gate import evaluate_gate, load_baseline
from postureapp.model import Severity
from tests.export.conftest import render


def _complete(document: dict) -> dict:
    done = copy.deepcopy(document)
    done["snapshot"]["status"] = "complete"
    for run in done["collector_runs"]:
        run.update(status="ok", error="", unknown={})
    return done


def _only(document: dict, *check_ids: str) -> dict:
    """The document with the findings of these checks only (as a complete snapshot)."""
    narrowed = _complete(document)
    narrowed["findings"] = [f for f in narrowed["findings"] if f["check_id"] in check_ids]
    return narrowed


@pytest.mark.parametrize(
    ("fail_on", "expected"),
    [
        (Severity.CRITICAL, EXIT_OK),  # the open finding is low
        (Severity.HIGH, EXIT_OK),
        (Severity.MEDIUM, EXIT_OK),
        (Severity.LOW, EXIT_FINDINGS),  # at or above: low counts
        (Severity.INFO, EXIT_FINDINGS),
        (None, EXIT_OK),
    ],
)
def test_threshold_is_at_or_above(golden_document, fail_on, expected):
    document = _only(golden_document, "k8s-secret-stale")
    code, message = evaluate_gate(document, fail_on)
    assert code == expected, message
    if expected == EXIT_FINDINGS:
        assert message.startswith("1 failing finding at or above")
        assert (
            "(1 low); worst: k8s-secret-stale on Secret shop/db-password (k8s://prod/shop/Secret/db-password)"
            in message
        )


def test_counts_every_open_finding_by_severity(golden_document):
    code, message = evaluate_gate(_complete(golden_document), Severity.INFO)
    assert code == EXIT_FINDINGS
    # 5 open; the critical cluster-admin binding is waived; unknown and error never count.
    assert message.startswith("5 failing findings at or above info (2 critical, 1 high,")
    assert "not counted: 1 waived" in message


def test_waived_findings_are_ignored(golden_document):
    document = _only(golden_document, "k8s-cluster-admin-binding")
    [finding] = document["findings"]
    assert finding["severity"] == "critical" and finding["waived"]
    code, message = evaluate_gate(document, Severity.CRITICAL)
    assert code == EXIT_OK
    assert message == "ok: no unwaived failing finding at or above critical; not counted: 1 waived"
    finding["waived"] = False
    assert evaluate_gate(document, Severity.CRITICAL).exit_code == EXIT_FINDINGS


def test_unknown_and_error_findings_do_not_count_as_failing(golden_document):
    document = _only(golden_document, "aws-secret-not-rotated", "aws-cloudtrail-disabled")
    assert {f["status"] for f in document["findings"]} == {"unknown", "error"}
    assert evaluate_gate(document, Severity.INFO).exit_code == EXIT_OK


def test_partial_snapshot_exits_3_unless_allowed(golden_document):
    document = copy.deepcopy(golden_document)
    document["findings"] = []
    code, message = evaluate_gate(document, Severity.HIGH)
    assert code == EXIT_COLLECTION
    assert message.startswith("snapshot 2 is partial (2 collector runs in trouble: aws on")
    assert message.endswith("pass --allow-partial to accept it")
    code, message = evaluate_gate(document, Severity.HIGH, allow_partial=True)
    assert code == EXIT_OK and "allowed by --allow-partial" in message
    assert evaluate_gate(document, None).exit_code == EXIT_COLLECTION
    document["snapshot"]["status"] = "failed"
    assert evaluate_gate(document, None).exit_code == EXIT_COLLECTION


def test_findings_take_precedence_over_a_partial_snapshot(golden_document):
    code, message = evaluate_gate(golden_document, Severity.HIGH)
    assert code == EXIT_FINDINGS
    assert "also, snapshot 2 is partial" in message
    # allow_partial does not hide findings either.
    assert evaluate_gate(golden_document, Severity.HIGH, allow_partial=True)[0] == EXIT_FINDINGS


def test_message_is_one_line_even_with_hostile_text(hostile_document):
    for fail_on in (Severity.INFO, None):
        _, message = evaluate_gate(hostile_document, fail_on)
        assert "\n" not in message and "\r" not in message and "\x1b" not in message


# -- baselines (--new-only) ----------------------------------------------------------


def test_new_only_with_a_snapshot_baseline(golden_cache, golden_document):
    store, _ = golden_cache
    baseline = load_baseline("1", store)
    first_failing = {fp for fp, state in store.finding_states(1).items() if state[0] == "fail"}
    assert baseline == first_failing and len(baseline) == 6
    document = _complete(golden_document)
    code, message = evaluate_gate(document, Severity.HIGH, baseline=baseline)
    # Of the open findings at or above high only the api pod is new; the SG (now
    # critical) and the admin service were already failing in snapshot 1.
    assert code == EXIT_FINDINGS
    assert message.startswith("1 failing finding new since the baseline at or above high (1 high)")
    assert "worst: k8s-privileged-pod on Pod shop/api (k8s://prod/shop/Pod/api)" in message
    assert "2 already in the baseline" in message
    code, message = evaluate_gate(document, Severity.CRITICAL, baseline=baseline)
    assert code == EXIT_OK, message


def test_new_only_with_a_json_file_baseline(
    tmp_path, golden_cache, first_document, golden_document
):
    store, _ = golden_cache
    path = tmp_path / "baseline.json"
    path.write_text(render("json", first_document), encoding="utf-8")
    from_file = load_baseline(str(path), None)
    assert from_file == load_baseline("1", store)
    code, _ = evaluate_gate(_complete(golden_document), Severity.HIGH, baseline=from_file)
    assert code == EXIT_FINDINGS
    assert (
        evaluate_gate(
            _complete(golden_document),
            Severity.HIGH,
            baseline=from_file | {f["fingerprint"] for f in golden_document["findings"]},
        ).exit_code
        == EXIT_OK
    )


def test_an_empty_baseline_counts_everything(golden_document):
    document = _complete(golden_document)
    with_empty = evaluate_gate(document, Severity.HIGH, baseline=set())
    without = evaluate_gate(document, Severity.HIGH)
    assert with_empty.exit_code == without.exit_code == EXIT_FINDINGS
    assert with_empty.message.split()[0] == without.message.split()[0] == "3"


def _bad_files(tmp_path, golden_document):
    valid = render("json", golden_document)
    broken = json.loads(valid)
    broken["findings"][2]["severity"] = "urgent"
    no_fingerprint = json.loads(valid)
    del no_fingerprint["findings"][0]["fingerprint"]
    files = {
        "truncated.json": (valid[: len(valid) // 2], "is not valid JSON"),
        "empty.json": ("", "is not valid JSON"),
        "list.json": ("[]", "is not a postureapp/snapshot/v1 export (no schema field)"),
        "sarif.json": ('{"version": "2.1.0", "runs": []}', "(no schema field)"),
        "v2.json": ('{"schema": "postureapp/snapshot/v2"}', "(schema 'postureapp/snapshot/v2')"),
        "severity.json": (json.dumps(broken), "$.findings[2].severity: 'urgent' is not one of"),
        "nofp.json": (json.dumps(no_fingerprint), "$.findings[0]: 'fingerprint' is a required"),
    }
    for name, (text, _) in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    (tmp_path / "latin1.json").write_bytes(b'{"schema": "caf\xe9"}')
    files["latin1.json"] = (None, "is not UTF-8 text")
    return files


def test_bad_baseline_files_raise_one_clear_line(tmp_path, golden_document):
    for name, (_, fragment) in _bad_files(tmp_path, golden_document).items():
        with pytest.raises(InputError) as raised:
            load_baseline(str(tmp_path / name), None)
        message = str(raised.value)
        assert "\n" not in message and len(message) < 400, message
        assert message.startswith(f"baseline {tmp_path / name}"), message
        assert fragment in message, (name, message)


@pytest.mark.parametrize(
    ("spec", "fragment"),
    [
        ("missing.json", "no such file"),
        (".", "is a directory"),
        ("99", "no snapshot 99 in the cache"),
    ],
)
def test_bad_baseline_specs(golden_cache, tmp_path, monkeypatch, spec, fragment):
    store, _ = golden_cache
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InputError, match=fragment):
        load_baseline(spec, store)


def test_snapshot_baseline_needs_a_store():
    with pytest.raises(InputError, match="no snapshot 1"):
        load_baseline("1", None)


def test_a_large_baseline_is_checked_past_the_schema_sample(tmp_path, monkeypatch, golden_document):
    """Beyond BASELINE_SAMPLE findings the schema is not run, but what the gate reads
    (fingerprint, status) is still checked on every finding."""
    import postureapp.export.gate as gate

    monkeypatch.setattr(gate, "BASELINE_SAMPLE", 2)
    document = json.loads(render("json", golden_document))
    document["findings"][5]["fingerprint"] = "not-a-fingerprint"
    path = tmp_path / "big.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(InputError, match=r"\$\.findings\[5\]\.fingerprint: 'not-a-finger"):
        load_baseline(str(path), None)
    document["findings"][5]["fingerprint"] = "0" * 32
    document["findings"][7]["status"] = "failing"
    path.write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(InputError, match=r"\$\.findings\[7\]\.status: 'failing' is not one"):
        load_baseline(str(path), None)
