"""Governance evidence against moto's server: CloudTrail, Config, GuardDuty, Backup,
Security Hub."""

from __future__ import annotations

from postureapp.model import RunStatus
from tests.integration.aws.conftest import ACCOUNT, by_kind

REGIONS = ["us-east-1", "eu-west-1"]


def test_governance_evidence_per_region(moto):
    moto.client("s3").create_bucket(Bucket="audit-trail")
    trail = moto.client("cloudtrail")
    trail.create_trail(
        Name="org-audit",
        S3BucketName="audit-trail",
        IsMultiRegionTrail=True,
        EnableLogFileValidation=True,
    )
    trail.start_logging(Name="org-audit")
    trail.create_trail(Name="local-only", S3BucketName="audit-trail")
    moto.client("config").put_configuration_recorder(
        ConfigurationRecorder={
            "name": "default",
            "roleARN": f"arn:aws:iam::{ACCOUNT}:role/config",
            "recordingGroup": {"allSupported": True, "includeGlobalResourceTypes": True},
        }
    )
    moto.client("guardduty").create_detector(Enable=True)
    moto.client("backup").create_backup_plan(
        BackupPlan={
            "BackupPlanName": "daily",
            "Rules": [
                {
                    "RuleName": "nightly",
                    "TargetBackupVaultName": "Default",
                    "ScheduleExpression": "cron(0 5 * * ? *)",
                    "Lifecycle": {"DeleteAfterDays": 35},
                }
            ],
        }
    )
    moto.client("securityhub").enable_security_hub()

    result = moto.collect(
        regions=REGIONS, services=["cloudtrail", "config", "guardduty", "backup", "securityhub"]
    )

    trails = {r.name: r for r in by_kind(result.resources, "CloudTrailTrail")}
    audit = trails["org-audit"]
    assert audit.uid == f"arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/org-audit"
    assert audit.scope == f"{ACCOUNT}/us-east-1"
    assert audit.attrs["multi_region"] is True
    assert audit.attrs["is_logging"] is True
    assert audit.attrs["log_file_validation_enabled"] is True
    assert trails["local-only"].attrs["is_logging"] is False
    assert trails["local-only"].attrs["multi_region"] is False
    assert len(trails) == 2  # the multi-region trail is not repeated in eu-west-1

    (recorder,) = by_kind(result.resources, "ConfigRecorder")
    assert recorder.uid == f"aws://{ACCOUNT}/us-east-1/ConfigRecorder/default"
    assert recorder.attrs["all_supported"] is True
    assert recorder.attrs["recording"] is False  # never started

    (detector,) = by_kind(result.resources, "GuardDutyDetector")
    assert detector.attrs["status"] == "ENABLED"
    assert detector.attrs["data_sources"]["CloudTrail"] in ("ENABLED", "DISABLED")

    (plan,) = by_kind(result.resources, "BackupPlan")
    assert plan.attrs["rules"][0]["delete_after_days"] == 35
    assert plan.attrs["rules"][0]["schedule"] == "cron(0 5 * * ? *)"

    hubs = {r.scope: r.attrs["enabled"] for r in by_kind(result.resources, "SecurityHub")}
    # Not subscribed in eu-west-1 is evidence (disabled), not a gap.
    assert hubs == {f"{ACCOUNT}/us-east-1": True, f"{ACCOUNT}/eu-west-1": False}

    # moto 5.2.5 lacks backup:ListProtectedResources: the one honest gap.
    assert result.run.status is RunStatus.PARTIAL
    assert set(result.run.unknown) == {"BackupProtectedResource"}
    assert (
        "not supported by the endpoint in us-east-1"
        in result.run.unknown["BackupProtectedResource"]
    )
