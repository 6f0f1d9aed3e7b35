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


def test_a_failing_critical_finding_fails_the_control_however_much_else_passes():
    counts = {"a": {"fail": 1}, "b": {"pass": 40}}
    [partial] = evaluate_controls([EVIDENCED], counts, {}, NOW)
    assert partial.status.value == "partial" and partial.coverage == round(40 / 41, 4)
    [failed] = evaluate_controls([EVIDENCED], counts, {}, NOW, critical={"a": 1})
    assert failed.status.value == "fail" and failed.coverage == round(40 / 41, 4)


def test_root_without_mfa_fails_the_mfa_control_end_to_end(tmp_path):
    """Through the engine and the store: a console user with MFA does not make the
    control "partial" while the root user has none."""
    import postureapp.checks  # noqa: F401  (the shipped catalog)
    from postureapp.checks.registry import REGISTRY
    from postureapp.collectors.base import CollectResult, RunRecorder
    from postureapp.governance import controls_of_snapshot
    from postureapp.model import Target
    from postureapp.poll import Poller
    from postureapp.store import Store
    from tests.checks.aws.estate import ACCOUNT, account, aws_region, credentials, user

    class Account:
        name = provider = "aws"

        def collect(self, target: Target) -> CollectResult:
            recorder = RunRecorder(self.name, target.name, scope=ACCOUNT)
            root = account(root_mfa_active=False)
            alice = user("alice", creds=credentials(password=True, mfa=True))
            resources = [aws_region(), root, alice]
            return CollectResult(resources, recorder.finish(len(resources)))

    with Store(tmp_path / "cache.db") as store:
        result = Poller(store, {"aws": Account()}).poll([Target("aws", "prod")])
        (mfa,) = controls_of_snapshot(
            store, result.snapshot_id, [REGISTRY.controls["aws-mfa"]], NOW
        )
    assert mfa.evidence["aws-iam-root-mfa"] == {"fail": 1}
    assert mfa.evidence["aws-iam-user-console-mfa"].get("pass")
    assert mfa.status.value == "fail"
