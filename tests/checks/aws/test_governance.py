"""Governance checks: CloudTrail, EKS audit logs, GuardDuty, Config, Security Hub,
backups, encryption at rest, MFA coverage."""

from __future__ import annotations

from postureapp.model import Severity, Status
from tests.checks.aws.estate import (
    ACCOUNT,
    REGION,
    account,
    aws_region,
    credentials,
    inventory,
    only,
    resource,
    results,
    user,
)
from tests.checks.aws.test_endpoints import bucket, eks_cluster, rds_cluster, rds_instance

OTHER_REGION = "us-east-1"


def trail(name: str, *, region=REGION, multi=True, logging=True, validation=True):
    return resource(
        "CloudTrailTrail",
        name,
        {
            "name": name,
            "home_region": region,
            "multi_region": multi,
            "is_logging": logging,
            "log_file_validation_enabled": validation,
        },
        uid=f"arn:aws:cloudtrail:{region}:{ACCOUNT}:trail/{name}",
        region=region,
    )


CLOUDTRAIL = "aws-cloudtrail-multi-region"
ROOT = f"arn:aws:iam::{ACCOUNT}:root"


def test_cloudtrail_passes_with_one_logging_validated_multi_region_trail():
    inv = inventory(
        account(),
        aws_region(),
        aws_region(OTHER_REGION),
        trail("regional", multi=False),
        trail("org", region=OTHER_REGION),
    )
    result = only(CLOUDTRAIL, inv)
    assert result.status is Status.PASS
    assert result.resource.uid == ROOT  # hangs on the IAMAccount
    assert result.evidence == {"trails": ["org"]}


def test_cloudtrail_fails_without_multi_region_trail_and_names_regions_read():
    result = only(CLOUDTRAIL, inventory(aws_region(), trail("regional", multi=False)))
    assert result.status is Status.FAIL
    assert result.resource == ROOT  # IAM not collected: the account's uid
    assert result.detail == (
        f"account {ACCOUNT}: no multi-region trail found (regions read: {REGION})"
    )


def test_cloudtrail_fails_when_not_logging_or_not_validating():
    result = only(
        CLOUDTRAIL, inventory(aws_region(), trail("main", logging=False, validation=False))
    )
    assert result.status is Status.FAIL
    assert "main is not logging and has log file validation off" in result.detail


def test_cloudtrail_unknown_when_logging_status_unreadable():
    result = only(CLOUDTRAIL, inventory(aws_region(), trail("main", logging=None)))
    assert result.status is Status.UNKNOWN


def test_eks_audit_logs_and_secrets_encryption():
    audited = eks_cluster("audited", logging_enabled_types=["api", "audit"], secrets_encrypted=True)
    silent = eks_cluster("silent", logging_enabled_types=["api"])
    audit = results("aws-eks-audit-logs", inventory(audited, silent))
    assert audit[audited.uid].status is Status.PASS
    assert audit[silent.uid].status is Status.FAIL
    assert "enabled log types: api" in audit[silent.uid].detail
    encryption = results("aws-eks-secrets-encryption", inventory(audited, silent))
    assert encryption[audited.uid].status is Status.PASS
    assert encryption[silent.uid].status is Status.FAIL


def regional(kind: str, name: str, region: str = REGION, **attrs):
    return resource(kind, name, attrs, region=region)


def test_guardduty_per_region():
    eu, us = aws_region(), aws_region(OTHER_REGION)
    inv = inventory(
        eu,
        us,
        regional("GuardDutyDetector", "d1", detector_id="d1", status="ENABLED"),
        regional(
            "GuardDutyDetector", "d2", region=OTHER_REGION, detector_id="d2", status="DISABLED"
        ),
    )
    found = results("aws-guardduty-enabled", inv)
    assert found[eu.uid].status is Status.PASS
    assert found[us.uid].status is Status.FAIL
    assert "is DISABLED" in found[us.uid].detail
    missing = results("aws-guardduty-enabled", inventory(eu))
    assert missing[eu.uid].status is Status.FAIL


def test_config_recording_per_region():
    eu, us, ap = aws_region(), aws_region(OTHER_REGION), aws_region("ap-south-1")
    inv = inventory(
        eu,
        us,
        ap,
        regional("ConfigRecorder", "default", recording=True, all_supported=True),
        regional(
            "ConfigRecorder",
            "partial",
            region=OTHER_REGION,
            recording=True,
            all_supported=False,
            resource_types=["AWS::EC2::Instance"],
        ),
        regional("ConfigRecorder", "unread", region="ap-south-1", recording=None),
    )
    found = results("aws-config-recorder-enabled", inv)
    assert found[eu.uid].status is Status.PASS
    assert found[us.uid].status is Status.FAIL
    assert found[us.uid].severity is Severity.LOW
    assert found[ap.uid].status is Status.UNKNOWN
    assert only("aws-config-recorder-enabled", inventory(eu)).status is Status.FAIL


def test_security_hub_per_region():
    eu, us, ap = aws_region(), aws_region(OTHER_REGION), aws_region("ap-south-1")
    inv = inventory(
        eu,
        us,
        ap,
        regional("SecurityHub", "hub", enabled=True),
        regional("SecurityHub", "hub", region=OTHER_REGION, enabled=False),
    )
    found = results("aws-securityhub-enabled", inv)
    assert (found[eu.uid].status, found[us.uid].status, found[ap.uid].status) == (
        Status.PASS,
        Status.FAIL,
        Status.UNKNOWN,
    )


def test_ebs_default_encryption_per_region():
    eu, us, ap = aws_region(), aws_region(OTHER_REGION), aws_region("ap-south-1")
    inv = inventory(
        eu,
        us,
        ap,
        regional("EBSEncryptionByDefault", "default", enabled=True),
        regional("EBSEncryptionByDefault", "default", region=OTHER_REGION, enabled=False),
    )
    found = results("aws-ebs-default-encryption", inv)
    assert (found[eu.uid].status, found[us.uid].status, found[ap.uid].status) == (
        Status.PASS,
        Status.FAIL,
        Status.UNKNOWN,
    )


# -- backups -------------------------------------------------------------------------------


def protected(arn: str):
    return regional("BackupProtectedResource", arn, resource_arn=arn, resource_type="RDS")


def test_backup_plan_where_databases_live():
    eu, us, ap = aws_region(), aws_region(OTHER_REGION), aws_region("ap-south-1")
    db = rds_instance("orders", False)
    inv = inventory(
        eu,
        us,
        ap,
        db,
        resource("RDSInstance", "billing", {"identifier": "billing"}, region=OTHER_REGION),
        resource("BackupPlan", "daily", {"name": "daily", "rules": []}),
    )
    found = results("aws-backup-plan", inv)
    assert found[eu.uid].status is Status.PASS
    assert found[us.uid].status is Status.FAIL
    assert "1 RDS database(s) (billing)" in found[us.uid].detail
    assert ap.uid not in found  # no database, no plan: nothing to judge


def test_rds_backup_protection_and_automated_backups_as_partial_mitigation():
    covered = rds_instance("covered", False, backup_retention_period=7)
    automated = rds_instance("automated", False, backup_retention_period=7)
    bare = rds_instance("bare", False, backup_retention_period=0)
    aurora = rds_cluster("aurora", None)
    member = rds_instance("aurora-1", False, cluster_identifier="aurora", backup_retention_period=1)
    inv = inventory(covered, automated, bare, aurora, member, protected(covered.uid))
    found = results("aws-rds-backup-protected", inv)
    assert found[covered.uid].status is Status.PASS
    assert found[automated.uid].status is Status.FAIL
    assert found[automated.uid].severity is Severity.LOW
    assert "only RDS automated backups (7 days" in found[automated.uid].detail
    assert found[bare.uid].status is Status.FAIL
    assert found[bare.uid].severity is Severity.HIGH
    assert found[aurora.uid].status is Status.FAIL  # judged at cluster level...
    assert member.uid not in found  # ...not per member instance


# -- encryption at rest --------------------------------------------------------------------


def test_rds_storage_encryption():
    plain = rds_instance("plain", False, storage_encrypted=False)
    sealed = rds_instance("sealed", False, storage_encrypted=True)
    found = results("aws-rds-storage-encrypted", inventory(plain, sealed))
    assert (found[plain.uid].status, found[sealed.uid].status) == (Status.FAIL, Status.PASS)


def test_s3_default_encryption():
    sealed = bucket("sealed", encryption={"algorithm": "aws:kms", "kms_key_id": None})
    plain = bucket("plain")
    unread = bucket("unread", unread={"encryption": "AccessDenied"})
    found = results("aws-s3-default-encryption", inventory(sealed, plain, unread))
    assert found[sealed.uid].status is Status.PASS
    assert found[plain.uid].status is Status.FAIL
    assert found[unread.uid].status is Status.UNKNOWN


# -- MFA coverage --------------------------------------------------------------------------


def test_mfa_coverage_is_one_account_result_with_the_ratio():
    inv = inventory(
        account(),
        user("a", creds=credentials(mfa=True)),
        user("b", creds=credentials(mfa=True)),
        user("c", creds=credentials(mfa=False)),
        user("d", creds=credentials(password=False)),
        user("e", creds=None),
    )
    result = only("aws-iam-mfa-coverage", inv)
    assert result.status is Status.FAIL
    assert result.resource.uid == ROOT
    assert result.detail == (
        f"account {ACCOUNT}: 2 of 3 console users have MFA (67%); without: c "
        "(1 user(s) not in the credential report)"
    )
    assert result.evidence == {"console_users": 3, "with_mfa": 2}


def test_mfa_coverage_pass_and_unknown():
    full = inventory(account(), user("a", creds=credentials(mfa=True)))
    assert only("aws-iam-mfa-coverage", full).status is Status.PASS
    blind = inventory(account(), user("a", creds=None))
    assert only("aws-iam-mfa-coverage", blind).status is Status.UNKNOWN
