"""The invariants every shipped check and control keeps, whatever its plane.

The mappings themselves live once, on the checks (``frameworks=``, ``controls=``); this
file does not copy them. It asserts what must hold for all of them, and spot-checks a
few references against the published benchmarks so a wholesale mistake (a shifted
numbering, a swapped framework) cannot pass.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

import postureapp.checks  # noqa: F401  (registers the shipped catalog)
from postureapp.checks.registry import REGISTRY

POSTURE = str(Path(sys.executable).with_name("posture"))
CHECKS = sorted(REGISTRY.checks)
CONTROLS = sorted(REGISTRY.controls)

# Written out here, not read from checks/frameworks.py, so a loosened table fails.
ISO_ANNEX_A = re.compile(r"A\.[5-8]\.\d{1,2}")
SOC2 = re.compile(r"CC[1-9]\.\d|A1\.\d|C1\.\d|PI1\.\d|P\d\.\d")
SECTION = re.compile(r"\d+(\.\d+){1,2}")
FSBP = re.compile(r"[A-Za-z0-9]+\.\d+")
FORMATS = {
    "ISO 27001:2022": ISO_ANNEX_A,
    "SOC 2": SOC2,
    "CIS Kubernetes": SECTION,
    "CIS AWS": SECTION,
    "AWS FSBP": FSBP,
}
PLANE_BENCHMARKS = {"kubernetes": {"CIS Kubernetes"}, "aws": {"CIS AWS", "AWS FSBP"}}
PREFIX = {"kubernetes": "k8s-", "aws": "aws-", "paths": "path-", "probe": "probe-"}


def test_the_catalog_is_there_and_consistent():
    assert len(CHECKS) >= 90 and len(CONTROLS) >= 25
    assert len(CHECKS) == len(set(CHECKS))
    assert {meta.provider for meta in REGISTRY.checks.values()} == set(PREFIX)
    assert REGISTRY.validate() == []


@pytest.mark.parametrize("check_id", CHECKS)
def test_every_check_maps_to_iso_27001_and_soc_2_in_known_formats(check_id):
    frameworks = REGISTRY.checks[check_id].frameworks
    assert frameworks.get("ISO 27001:2022"), check_id
    assert frameworks.get("SOC 2"), check_id
    assert set(frameworks) <= set(FORMATS), check_id
    for name, refs in frameworks.items():
        assert refs and all(FORMATS[name].fullmatch(ref) for ref in refs), (name, refs)
        assert len(set(refs)) == len(refs), (name, refs)


@pytest.mark.parametrize("check_id", CHECKS)
def test_every_plane_check_cites_its_benchmark_or_says_why_not(check_id):
    meta = REGISTRY.checks[check_id]
    assert check_id.startswith(PREFIX[meta.provider])
    benchmarks = PLANE_BENCHMARKS.get(meta.provider, set())
    # Each plane cites only its own benchmarks (no CIS AWS on a Kubernetes check).
    others = set().union(*PLANE_BENCHMARKS.values()) - benchmarks
    assert not others & set(meta.frameworks), check_id
    if not benchmarks:
        assert meta.no_benchmark is None
    elif benchmarks & set(meta.frameworks):
        assert meta.no_benchmark is None, f"{check_id} cites a benchmark and says none applies"
    else:
        assert meta.no_benchmark and len(meta.no_benchmark.strip()) > 10, check_id


@pytest.mark.parametrize("control_id", CONTROLS)
def test_every_control_has_evidence_or_an_attestation_and_maps_to_iso_and_soc2(control_id):
    control = REGISTRY.controls[control_id]
    assert control.checks or control.needs_attestation
    assert all(check_id in REGISTRY.checks for check_id in control.checks)
    assert len(set(control.checks)) == len(control.checks)
    assert control.frameworks.get("ISO 27001:2022") and control.frameworks.get("SOC 2")
    for name, refs in control.frameworks.items():
        assert all(FORMATS[name].fullmatch(ref) for ref in refs), (control_id, name, refs)


def test_a_control_lists_exactly_the_checks_that_name_it():
    for control_id, control in REGISTRY.controls.items():
        naming = [c for c, meta in REGISTRY.checks.items() if control_id in meta.controls]
        assert list(control.checks) == naming, control_id


def test_plane_controls_rest_on_their_own_plane():
    """``aws-*`` and ``k8s-*`` controls cite only their plane's checks; the cross-plane
    controls of checks/governance.py are where both meet."""
    for control_id, control in REGISTRY.controls.items():
        for plane in ("aws", "kubernetes"):
            if control_id.startswith(PREFIX[plane]):
                assert all(REGISTRY.checks[c].provider == plane for c in control.checks)


# A handful of references checked by hand against the published documents. If one of
# these fails, the catalog disagrees with the benchmark, not with a copy of itself.
# CIS Kubernetes Benchmark v1.9.0, section 5 (Policies).
CIS_KUBERNETES_V1_9 = {
    "k8s-rbac-cluster-admin": "5.1.1",  # cluster-admin role only used where required
    "k8s-rbac-secrets-read": "5.1.2",  # Minimize access to secrets
    "k8s-rbac-wildcard": "5.1.3",  # minimize wildcard use in Roles and ClusterRoles
    "k8s-rbac-create-workloads": "5.1.4",  # Minimize access to create pods
    "k8s-sa-default-used": "5.1.5",  # default service accounts not actively used
    "k8s-pod-automount-token": "5.1.6",  # SA tokens only mounted where necessary
    "k8s-rbac-escalation-verbs": "5.1.8",  # limit bind, impersonate and escalate
    "k8s-pod-privileged": "5.2.2",  # minimize admission of privileged containers
    "k8s-netpol-missing": "5.3.2",  # all Namespaces have Network Policies
    "k8s-env-literal-secret": "5.4.1",  # secrets as files, not environment variables
}
# CIS Amazon Web Services Foundations Benchmark v3.0.0.
CIS_AWS_V3_0 = {
    "aws-iam-root-access-keys": "1.4",  # Ensure no 'root' user account access key exists
    "aws-iam-root-mfa": "1.5",  # Ensure MFA is enabled for the 'root' user account
    "aws-iam-user-console-mfa": "1.10",  # MFA for all IAM users with a console password
    "aws-iam-access-key-age": "1.14",  # Ensure access keys are rotated every 90 days or less
    "aws-cloudtrail-multi-region": "3.1",  # Ensure CloudTrail is enabled in all regions
    "aws-config-recorder-enabled": "3.3",  # Ensure AWS Config is enabled in all regions
}
# Checks no recommendation of their plane's benchmarks is about.
NO_BENCHMARK = ["k8s-rbac-pod-exec", "k8s-mesh-mtls", "aws-iam-privilege-escalation"]


@pytest.mark.parametrize(("check_id", "ref"), sorted(CIS_KUBERNETES_V1_9.items()))
def test_cis_kubernetes_spot_checks(check_id, ref):
    assert ref in REGISTRY.checks[check_id].frameworks["CIS Kubernetes"]


@pytest.mark.parametrize(("check_id", "ref"), sorted(CIS_AWS_V3_0.items()))
def test_cis_aws_spot_checks(check_id, ref):
    assert ref in REGISTRY.checks[check_id].frameworks["CIS AWS"]


@pytest.mark.parametrize("check_id", NO_BENCHMARK)
def test_checks_without_a_benchmark_say_so(check_id):
    meta = REGISTRY.checks[check_id]
    assert meta.no_benchmark
    assert not {"CIS Kubernetes", "CIS AWS", "AWS FSBP"} & set(meta.frameworks)


def test_posture_checks_lists_every_check_with_its_frameworks():
    """What users see: ``posture checks --format json`` carries each check's mapping,
    and the table lists every check."""
    listed = subprocess.run(
        [POSTURE, "checks", "--format", "json"], capture_output=True, text=True, timeout=120
    )
    assert listed.returncode == 0, listed.stderr
    by_id = {item["id"]: item for item in json.loads(listed.stdout)}
    assert sorted(by_id) == CHECKS
    for check_id, meta in REGISTRY.checks.items():
        assert by_id[check_id]["frameworks"] == meta.frameworks
        assert by_id[check_id]["frameworks"]["ISO 27001:2022"]
    table = subprocess.run([POSTURE, "checks"], capture_output=True, text=True, timeout=120)
    assert table.returncode == 0
    assert [line.split()[0] for line in table.stdout.splitlines()] == sorted(
        CHECKS, key=lambda c: (REGISTRY.checks[c].view, c)
    )
