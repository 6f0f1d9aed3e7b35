from datetime import UTC, datetime

import pytest

from postureapp.checks.registry import ControlMeta
from postureapp.governance import evaluate_controls
from postureapp.model import Attestation

NOW = datetime(2026, 11, 22, tzinfo=UTC)
EVIDENCED = ControlMeta(id="c", title="t", frameworks={}, checks=("a", "b"))
MANUAL = ControlMeta(id="m", title="t", frameworks={}, checks=(), needs_attestation=True)


@pytest.mark.parametrize(
    ("counts", "status"),
    [
        ({}, "unknown"),
        ({"a": {"pass": 3}, "b": {"pass": 1}}, "pass"),
        ({"a": {"pass": 3}, "b": {"unknown": 1}}, "unknown"),
        ({"a": {"pass": 3}, "b": {"error": 1}}, "unknown"),
        ({"a": {"fail": 1}, "b": {"unknown": 1}}, "fail"),
        ({"a": {"fail": 1, "pass": 1}}, "partial"),
    ],
)
def test_status_from_evidence(counts, status):
    [control] = evaluate_controls([EVIDENCED], counts, {}, NOW)
    assert control.status.value == status


def test_manual_control_needs_a_current_attestation():
    assert evaluate_controls([MANUAL], {}, {}, NOW)[0].status.value == "unknown"
    current = Attestation("m", "alice", "2026-11-01T00:00:00Z", "2027-01-01T00:00:00Z")
    assert evaluate_controls([MANUAL], {}, {"m": current}, NOW)[0].status.value == "pass"
    expired = Attestation("m", "alice", "2025-11-01T00:00:00Z", "2026-01-01T00:00:00Z")
    assert evaluate_controls([MANUAL], {}, {"m": expired}, NOW)[0].status.value == "fail"
