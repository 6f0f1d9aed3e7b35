import json
import subprocess
import sys

import pytest

import postureapp.checks as checks
from postureapp.checks.registry import DuplicateCheckError, Registry, Result
from postureapp.model import Severity, Status, View


def _register(registry, check_id="demo-check"):
    @registry.check(
        id=check_id,
        title="Demo",
        view=View.ENDPOINTS,
        severity=Severity.MEDIUM,
        provider="kubernetes",
        remediation="Do the thing.",
    )
    def demo(inv):
        yield Result("k8s://c/_/Pod/p", Status.FAIL, severity=Severity.CRITICAL)

    return demo


def test_duplicate_id_fails_at_registration():
    registry = Registry()
    _register(registry)
    with pytest.raises(DuplicateCheckError, match="demo-check"):
        _register(registry)


def test_ids_must_be_stable_slugs_and_remediation_required():
    registry = Registry()
    with pytest.raises(ValueError, match="lower-case"):
        _register(registry, "Demo Check")
    with pytest.raises(ValueError, match="remediation"):
        registry.check(
            id="x-y",
            title="t",
            view=View.SECRETS,
            severity=Severity.LOW,
            provider="aws",
            remediation=" ",
        )


def test_result_becomes_finding_with_metadata_and_override():
    registry = Registry()
    _register(registry)
    meta = registry.checks["demo-check"]
    [result] = list(meta.function(None))
    finding = meta.finding(result)
    assert finding.severity is Severity.CRITICAL  # the result's override wins
    assert finding.view is View.ENDPOINTS
    assert finding.remediation == "Do the thing."


def test_control_citing_unknown_check_is_reported():
    registry = Registry()
    registry.control(id="ctl", title="t", frameworks={}, checks=["nope"])
    assert registry.validate() == ["control ctl cites unknown check nope"]


def test_shipped_catalog_is_consistent():

    assert checks.REGISTRY.validate() == []


def test_posture_checks_json_lists_the_catalog(tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "postureapp", "checks", "--format", "json"],
        capture_output=True,
        text=True,
        check=True,
    )
    listed = json.loads(out.stdout)

    assert {item["id"] for item in listed} == set(checks.REGISTRY.checks)
