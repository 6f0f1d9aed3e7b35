"""The AWS part of the catalog: every check has complete metadata, frameworks, and the
controls cite only checks that exist."""

from __future__ import annotations

import re

import pytest

import postureapp.checks.aws  # noqa: F401
from postureapp.checks.registry import REGISTRY
from postureapp.model import View

AWS_CHECKS = sorted(meta.id for meta in REGISTRY.checks.values() if meta.provider == "aws")
AWS_CONTROLS = sorted(c for c in REGISTRY.controls if c.startswith("aws-"))

# Neither the CIS AWS Foundations Benchmark v3.0 nor AWS FSBP has a control for these.
NO_BENCHMARK = {
    "aws-iam-privilege-escalation",
    "aws-iam-unused-role",
    "aws-iam-role-external-trust",
    "aws-apigateway-rest-no-auth",
    "aws-backup-plan",
    "aws-s3-default-encryption",
    # No benchmark control covers throttling or re-encryption to targets.
    "aws-apigw-rest-rate-limit",
    "aws-apigw-http-rate-limit",
    "aws-elb-tls-termination",
    "aws-eks-oidc-provider",
}
ISO_ANNEX_A = re.compile(r"^A\.[5-8]\.\d{1,2}$")
SOC2 = re.compile(r"^(CC[1-9]\.\d|A1\.\d|C1\.\d|PI1\.\d|P\d\.\d)$")
FSBP = re.compile(r"^[A-Za-z0-9]+\.\d+$")
CIS = re.compile(r"^\d+(\.\d+){1,2}$")


def test_the_aws_catalog_is_there():
    assert len(AWS_CHECKS) >= 30
    assert {meta.view for id_ in AWS_CHECKS if (meta := REGISTRY.checks[id_])} == set(View)


@pytest.mark.parametrize("check_id", AWS_CHECKS)
def test_frameworks(check_id):
    frameworks = REGISTRY.checks[check_id].frameworks
    assert frameworks.get("ISO 27001:2022"), check_id
    assert frameworks.get("SOC 2"), check_id
    assert all(ISO_ANNEX_A.match(item) for item in frameworks["ISO 27001:2022"])
    assert all(SOC2.match(item) for item in frameworks["SOC 2"])
    assert all(CIS.match(item) for item in frameworks.get("CIS AWS", []))
    assert all(FSBP.match(item) for item in frameworks.get("AWS FSBP", []))
    has_benchmark = bool(frameworks.get("CIS AWS") or frameworks.get("AWS FSBP"))
    assert has_benchmark is (check_id not in NO_BENCHMARK), check_id
    assert set(frameworks) <= {"CIS AWS", "AWS FSBP", "ISO 27001:2022", "SOC 2"}


@pytest.mark.parametrize("check_id", AWS_CHECKS)
def test_metadata(check_id):
    meta = REGISTRY.checks[check_id]
    assert check_id.startswith("aws-")
    assert meta.requires, "requires names the kinds read, so gaps become unknown"
    assert meta.references and all(ref.startswith("https://") for ref in meta.references)
    assert len(meta.remediation) > 60
    assert meta.description, "the docstring explains what is judged"


def test_controls_cite_existing_checks_and_map_to_iso_and_soc2():
    assert set(AWS_CONTROLS) >= {
        "aws-audit-logging",
        "aws-threat-detection",
        "aws-config-recording",
        "aws-backups",
        "aws-encryption-at-rest",
        "aws-mfa",
    }
    assert REGISTRY.validate() == []
    for control_id in AWS_CONTROLS:
        meta = REGISTRY.controls[control_id]
        assert meta.checks and all(c in AWS_CHECKS for c in meta.checks), control_id
        assert meta.frameworks.get("ISO 27001:2022") and meta.frameworks.get("SOC 2")
