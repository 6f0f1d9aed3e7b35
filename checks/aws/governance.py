"""AWS governance checks and controls: audit trails, threat detection, configuration
recording, backups, encryption at rest, MFA coverage.

Findings that are about a region hang on its ``AWSRegion`` marker (the collector emits
one per region it read, so "in every region" means every region read); findings about
the account hang on its ``IAMAccount`` (or that resource's uid when IAM was not read).
"""

from __future__ import annotations

from typing import cast

from postureapp.checks.registry import Result, check, control
from postureapp.domain.aws.scopes import (
    PROVIDER,
    account_anchor,
    account_of,
    by_account,
    by_region,
    region_of,
    regions,
)
from postureapp.domain.text import listing
from postureapp.facts import facts_of
from postureapp.facts.aws import (
    BackupPlanFacts,
    BackupProtectedResourceFacts,
    CloudTrailTrailFacts,
    ConfigRecorderFacts,
    EBSEncryptionByDefaultFacts,
    EKSClusterFacts,
    GuardDutyDetectorFacts,
    IAMUserFacts,
    RDSClusterFacts,
    RDSInstanceFacts,
    S3BucketFacts,
    SecurityHubFacts,
    UserCredentials,
)
from postureapp.facts.aws_services import RDSDatabaseFacts
from postureapp.inventory import Inventory
from postureapp.model import Resource, Severity, Status, View

# -- audit trails --------------------------------------------------------------------------


@check(
    id="aws-cloudtrail-multi-region",
    title="No logging multi-region CloudTrail trail with log file validation",
    view=View.GOVERNANCE,
    severity=Severity.HIGH,
    provider=PROVIDER,
    requires=("CloudTrailTrail",),
    remediation=(
        "Create (or fix) one multi-region trail: `aws cloudtrail create-trail --name "
        "org-audit --s3-bucket-name BUCKET --is-multi-region-trail "
        "--enable-log-file-validation --kms-key-id KEY` then `aws cloudtrail start-logging "
        "--name org-audit` (CloudTrail console > Trails > Create trail, 'Enable for all "
        "regions' and 'Log file validation'). In an Organization, an organization trail "
        "from the management account covers every member."
    ),
    frameworks={
        "CIS AWS": ["3.1", "3.2"],
        "AWS FSBP": ["CloudTrail.1", "CloudTrail.4"],
        "ISO 27001:2022": ["A.8.15"],
        "SOC 2": ["CC7.2"],
    },
    references=(
        "https://docs.aws.amazon.com/awscloudtrail/latest/userguide/receive-cloudtrail-log-files-from-multiple-regions.html",
        "https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-log-file-validation-intro.html",
    ),
    controls=("aws-audit-logging", "audit-logging"),
)
def cloudtrail_multi_region(inv: Inventory):
    """Per account: at least one multi-region trail that is logging and validates its log
    files. Trails are listed in their home region only, so a trail whose home region was
    not read (or an organization trail owned by another account) is not seen: the detail
    names the regions read. Unknown when the only candidate's logging status is unreadable.
    """
    trails = by_account(inv.of(PROVIDER, "CloudTrailTrail"))
    read = by_account(regions(inv))
    for account in sorted(set(read) | set(trails)):
        anchor = account_anchor(inv, account)
        candidates = sorted(
            (
                t
                for t in trails.get(account, [])
                if facts_of(t, CloudTrailTrailFacts).get("multi_region")
            ),
            key=lambda t: t.uid,
        )
        good = [
            t
            for t in candidates
            if facts_of(t, CloudTrailTrailFacts).get("is_logging")
            and facts_of(t, CloudTrailTrailFacts).get("log_file_validation_enabled")
        ]
        if good:
            names = [str(facts_of(t, CloudTrailTrailFacts).get("name") or t.name) for t in good]
            yield Result(
                anchor,
                Status.PASS,
                f"account {account}: multi-region trail {listing(names)} is logging with log "
                "file validation",
                {"trails": names},
            )
            continue
        unreadable = [
            t
            for t in candidates
            if facts_of(t, CloudTrailTrailFacts).get("is_logging") is None
            and facts_of(t, CloudTrailTrailFacts).get("log_file_validation_enabled")
        ]
        if unreadable:
            yield Result(
                anchor,
                Status.UNKNOWN,
                f"account {account}: whether trail {unreadable[0].name} is logging could not "
                "be read",
            )
            continue
        if candidates:
            problems = []
            for trail in candidates:
                trail_facts = facts_of(trail, CloudTrailTrailFacts)
                wrong = []
                if not trail_facts.get("is_logging"):
                    wrong.append("is not logging")
                if not trail_facts.get("log_file_validation_enabled"):
                    wrong.append("has log file validation off")
                problems.append(f"{trail.name} {' and '.join(wrong)}")
            detail = f"account {account}: multi-region trail {'; '.join(problems)}"
        else:
            read_here = sorted(region_of(r) for r in read.get(account, []))
            detail = (
                f"account {account}: no multi-region trail found (regions read: "
                f"{listing(read_here, 8) or 'none'})"
            )
        yield Result(
            anchor,
            Status.FAIL,
            detail,
            {
                "multi_region_trails": [
                    str(facts_of(t, CloudTrailTrailFacts).get("name") or t.name) for t in candidates
                ]
            },
        )


@check(
    id="aws-eks-audit-logs",
    title="EKS cluster without audit logging",
    view=View.GOVERNANCE,
    severity=Severity.MEDIUM,
    provider=PROVIDER,
    requires=("EKSCluster",),
    remediation=(
        "Send the control plane's audit log to CloudWatch Logs: `aws eks "
        "update-cluster-config --name CLUSTER --logging "
        '\'{"clusterLogging":[{"types":["audit","authenticator"],"enabled":true}]}\'` '
        "(EKS console > CLUSTER > Observability > Control plane logging)."
    ),
    frameworks={
        "AWS FSBP": ["EKS.8"],
        "ISO 27001:2022": ["A.8.15"],
        "SOC 2": ["CC7.2"],
    },
    references=(
        "https://docs.aws.amazon.com/eks/latest/userguide/control-plane-logs.html",
        "https://docs.aws.amazon.com/securityhub/latest/userguide/eks-controls.html#eks-8",
    ),
    controls=("aws-audit-logging", "audit-logging"),
)
def eks_audit_logs(inv: Inventory):
    """Clusters whose control-plane logging does not include ``audit``: without it, who
    did what through the Kubernetes API is lost."""
    for cluster in sorted(inv.of(PROVIDER, "EKSCluster"), key=lambda r: r.uid):
        enabled = sorted(facts_of(cluster, EKSClusterFacts).get("logging_enabled_types") or [])
        name = f'EKS cluster "{cluster.name}"'
        if "audit" in enabled:
            yield Result(cluster, Status.PASS, f"{name} sends audit logs to CloudWatch")
        else:
            yield Result(
                cluster,
                Status.FAIL,
                f"{name} has no audit logging (enabled log types: {', '.join(enabled) or 'none'})",
                {"logging_enabled_types": enabled},
            )


# -- detection -----------------------------------------------------------------------------


def _per_region(inv: Inventory, kind: str) -> tuple[list[Resource], dict[tuple[str, str], list]]:
    return regions(inv), by_region(inv.of(PROVIDER, kind))


def _key(region: Resource) -> tuple[str, str]:
    return (account_of(region), region_of(region))


@check(
    id="aws-guardduty-enabled",
    title="GuardDuty not enabled in a region",
    view=View.GOVERNANCE,
    severity=Severity.MEDIUM,
    provider=PROVIDER,
    requires=("GuardDutyDetector",),
    remediation=(
        "Enable GuardDuty in every region: `aws guardduty create-detector --enable "
        "--region REGION` (or, in an Organization, a delegated administrator with "
        "auto-enable for all members), including EKS audit-log and runtime monitoring."
    ),
    frameworks={
        "AWS FSBP": ["GuardDuty.1"],
        "ISO 27001:2022": ["A.8.16", "A.5.7"],
        "SOC 2": ["CC7.2"],
    },
    references=(
        "https://docs.aws.amazon.com/guardduty/latest/ug/guardduty_settingup.html",
        "https://docs.aws.amazon.com/securityhub/latest/userguide/guardduty-controls.html#guardduty-1",
    ),
    controls=("aws-threat-detection",),
)
def guardduty_enabled(inv: Inventory):
    """Each region read needs a GuardDuty detector with status ENABLED."""
    markers, detectors = _per_region(inv, "GuardDutyDetector")
    for region in markers:
        found = sorted(detectors.get(_key(region), []), key=lambda r: r.uid)
        enabled = [
            d for d in found if facts_of(d, GuardDutyDetectorFacts).get("status") == "ENABLED"
        ]
        if enabled:
            yield Result(region, Status.PASS, f"{region.name}: GuardDuty detector enabled")
        elif found:
            detector_facts = facts_of(found[0], GuardDutyDetectorFacts)
            yield Result(
                region,
                Status.FAIL,
                f"{region.name}: GuardDuty detector {detector_facts.get('detector_id')} is "
                f"{detector_facts.get('status') or 'not enabled'}",
                {
                    "detectors": [
                        facts_of(d, GuardDutyDetectorFacts).get("detector_id") for d in found
                    ]
                },
            )
        else:
            yield Result(
                region, Status.FAIL, f"{region.name}: no GuardDuty detector", {"detectors": []}
            )


@check(
    id="aws-securityhub-enabled",
    title="Security Hub not enabled in a region",
    view=View.GOVERNANCE,
    severity=Severity.LOW,
    provider=PROVIDER,
    requires=("SecurityHub",),
    remediation=(
        "Enable Security Hub with the AWS Foundational Security Best Practices and CIS "
        "standards: `aws securityhub enable-security-hub --enable-default-standards "
        "--region REGION` (or central configuration from a delegated administrator)."
    ),
    frameworks={
        "CIS AWS": ["4.16"],
        "ISO 27001:2022": ["A.8.16"],
        "SOC 2": ["CC7.1", "CC7.2"],
    },
    references=(
        "https://docs.aws.amazon.com/securityhub/latest/userguide/securityhub-settingup.html",
    ),
    controls=("aws-threat-detection",),
)
def securityhub_enabled(inv: Inventory):
    """Each region read should be subscribed to Security Hub; unknown where the hub's
    state was not read."""
    markers, hubs = _per_region(inv, "SecurityHub")
    for region in markers:
        found = hubs.get(_key(region), [])
        if not found:
            yield Result(region, Status.UNKNOWN, f"{region.name}: Security Hub state not read")
        elif any(facts_of(hub, SecurityHubFacts).get("enabled") for hub in found):
            yield Result(region, Status.PASS, f"{region.name}: Security Hub enabled")
        else:
            yield Result(
                region, Status.FAIL, f"{region.name}: Security Hub not enabled", {"enabled": False}
            )


@check(
    id="aws-config-recorder-enabled",
    title="AWS Config not recording in a region",
    view=View.GOVERNANCE,
    severity=Severity.MEDIUM,
    provider=PROVIDER,
    requires=("ConfigRecorder",),
    remediation=(
        "Set up AWS Config in every region with a recorder for all supported resource "
        "types and a delivery channel (AWS Config console > Get started, or `aws "
        "configservice put-configuration-recorder --configuration-recorder "
        "name=default,roleARN=ARN --recording-group allSupported=true` then `aws "
        "configservice start-configuration-recorder --configuration-recorder-name "
        "default`)."
    ),
    frameworks={
        "CIS AWS": ["3.3"],
        "AWS FSBP": ["Config.1"],
        "ISO 27001:2022": ["A.8.9"],
        "SOC 2": ["CC7.1"],
    },
    references=(
        "https://docs.aws.amazon.com/config/latest/developerguide/gs-console.html",
        "https://docs.aws.amazon.com/securityhub/latest/userguide/config-controls.html#config-1",
    ),
    controls=("aws-config-recording",),
)
def config_recording(inv: Inventory):
    """Each region read needs a recorder that is recording all supported resource types;
    recording only a list of types fails at low severity. Unknown when the recorder's
    status could not be read."""
    markers, recorders = _per_region(inv, "ConfigRecorder")
    for region in markers:
        found = sorted(recorders.get(_key(region), []), key=lambda r: r.uid)
        recording = [r for r in found if facts_of(r, ConfigRecorderFacts).get("recording")]
        complete = [r for r in recording if facts_of(r, ConfigRecorderFacts).get("all_supported")]
        if complete:
            yield Result(region, Status.PASS, f"{region.name}: AWS Config records everything")
        elif recording:
            types = facts_of(recording[0], ConfigRecorderFacts).get("resource_types") or []
            yield Result(
                region,
                Status.FAIL,
                f"{region.name}: recorder {recording[0].name} records only "
                f"{len(types)} resource types",
                {"all_supported": False},
                severity=Severity.LOW,
            )
        elif any(facts_of(r, ConfigRecorderFacts).get("recording") is None for r in found):
            yield Result(region, Status.UNKNOWN, f"{region.name}: recorder status not read")
        elif found:
            yield Result(
                region,
                Status.FAIL,
                f"{region.name}: recorder {found[0].name} is stopped",
                {"recorders": [r.name for r in found], "recording": False},
            )
        else:
            yield Result(
                region, Status.FAIL, f"{region.name}: no AWS Config recorder", {"recorders": []}
            )


# -- backups -------------------------------------------------------------------------------


def databases(inv: Inventory) -> list[Resource]:
    """RDS databases judged on their own: DB clusters, and DB instances outside a
    cluster (an Aurora instance's storage and backups belong to its cluster)."""
    clusters = sorted(inv.of(PROVIDER, "RDSCluster"), key=lambda r: r.uid)
    names = {(c.scope, facts_of(c, RDSClusterFacts).get("identifier") or c.name) for c in clusters}
    instances = [
        db
        for db in sorted(inv.of(PROVIDER, "RDSInstance"), key=lambda r: r.uid)
        if not facts_of(db, RDSInstanceFacts).get("cluster_identifier")
        or (db.scope, facts_of(db, RDSInstanceFacts).get("cluster_identifier")) not in names
    ]
    return clusters + instances


def _db_name(db: Resource) -> str:
    word = "DB cluster" if db.kind == "RDSCluster" else "DB instance"
    return f'{word} "{db.name}"'


@check(
    id="aws-backup-plan",
    title="No AWS Backup plan in a region with databases",
    view=View.GOVERNANCE,
    severity=Severity.MEDIUM,
    provider=PROVIDER,
    requires=("BackupPlan", "RDSInstance", "RDSCluster"),
    remediation=(
        "Create a backup plan and assign resources to it (AWS Backup console > Backup "
        "plans > Create, e.g. daily with 35-day retention and a copy to a vault in another "
        "account or region; `aws backup create-backup-plan` then `aws backup "
        "create-backup-selection`), and test a restore."
    ),
    frameworks={
        "ISO 27001:2022": ["A.8.13"],
        "SOC 2": ["A1.2"],
    },
    references=(
        "https://docs.aws.amazon.com/aws-backup/latest/devguide/about-backup-plans.html",
        "https://docs.aws.amazon.com/aws-backup/latest/devguide/assigning-resources.html",
    ),
    controls=("aws-backups", "backup-restore-tested"),
    no_benchmark="no CIS or FSBP control for AWS Backup plans",
)
def backup_plan(inv: Inventory):
    """Each region read that holds RDS databases needs at least one AWS Backup plan. A
    region with a plan passes; a region with neither databases nor a plan is not judged
    (nothing to back up that this tool can see)."""
    markers, plans = _per_region(inv, "BackupPlan")
    dbs = by_region(databases(inv))
    for region in markers:
        found = sorted(plans.get(_key(region), []), key=lambda r: r.uid)
        held = dbs.get(_key(region), [])
        if found:
            names = [
                str(facts_of(plan, BackupPlanFacts).get("name") or plan.name) for plan in found
            ]
            yield Result(region, Status.PASS, f"{region.name}: backup plan {listing(names)}")
        elif held:
            yield Result(
                region,
                Status.FAIL,
                f"{region.name}: no AWS Backup plan, and {len(held)} RDS database(s) "
                f"({listing(sorted(db.name for db in held))})",
                {"backup_plans": 0, "databases": len(held)},
            )


@check(
    id="aws-rds-backup-protected",
    title="RDS database not protected by AWS Backup",
    view=View.GOVERNANCE,
    severity=Severity.MEDIUM,
    provider=PROVIDER,
    requires=("BackupProtectedResource", "RDSInstance", "RDSCluster"),
    remediation=(
        "Add the database to a backup plan (AWS Backup console > Backup plans > PLAN > "
        "Assign resources, by ARN or tag; `aws backup create-backup-selection`) whose "
        "rule copies to a vault in another account, and test a restore. Until then, at "
        "least turn on automated backups: `aws rds modify-db-instance "
        "--db-instance-identifier ID --backup-retention-period 7 --apply-immediately`."
    ),
    frameworks={
        "AWS FSBP": ["RDS.26", "RDS.11"],
        "ISO 27001:2022": ["A.8.13"],
        "SOC 2": ["A1.2"],
    },
    references=(
        "https://docs.aws.amazon.com/aws-backup/latest/devguide/assigning-resources.html",
        "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_WorkingWithAutomatedBackups.html",
        "https://docs.aws.amazon.com/securityhub/latest/userguide/rds-controls.html#rds-26",
    ),
    controls=("aws-backups", "backup-restore-tested"),
)
def rds_backup_protected(inv: Inventory):
    """RDS clusters and stand-alone instances must be AWS Backup protected resources.
    RDS automated backups (``backup_retention_period > 0``) are only a partial mitigation:
    they live in the same account, last at most 35 days and go with the database when it
    is deleted -- exactly what ransomware or a compromised admin does. So a database with
    automated backups only still fails, at low severity; one with none fails at high."""
    protected = {
        facts_of(p, BackupProtectedResourceFacts).get("resource_arn")
        for p in inv.of(PROVIDER, "BackupProtectedResource")
    }
    for db in databases(inv):
        name = _db_name(db)
        retention = int(facts_of(db, RDSDatabaseFacts).get("backup_retention_period") or 0)
        if db.uid in protected:
            yield Result(db, Status.PASS, f"{name} is protected by AWS Backup")
        elif retention > 0:
            yield Result(
                db,
                Status.FAIL,
                f"{name} is not in an AWS Backup plan; only RDS automated backups "
                f"({retention} days, same account, deleted with the database) protect it",
                {"aws_backup": False, "backup_retention_period": retention},
                severity=Severity.LOW,
            )
        else:
            yield Result(
                db,
                Status.FAIL,
                f"{name} has no backup at all: not in an AWS Backup plan and automated "
                "backups are off",
                {"aws_backup": False, "backup_retention_period": 0},
                severity=Severity.HIGH,
            )


# -- encryption at rest --------------------------------------------------------------------


@check(
    id="aws-ebs-default-encryption",
    title="EBS encryption by default is off in a region",
    view=View.GOVERNANCE,
    severity=Severity.MEDIUM,
    provider=PROVIDER,
    requires=("EBSEncryptionByDefault",),
    remediation=(
        "Turn it on in every region: `aws ec2 enable-ebs-encryption-by-default --region "
        "REGION` (EC2 console > Settings > Data protection and security > EBS encryption). "
        "Existing unencrypted volumes need a snapshot copy with encryption."
    ),
    frameworks={
        "CIS AWS": ["2.2.1"],
        "AWS FSBP": ["EC2.7"],
        "ISO 27001:2022": ["A.8.24"],
        "SOC 2": ["CC6.1"],
    },
    references=(
        "https://docs.aws.amazon.com/ebs/latest/userguide/encryption-by-default.html",
        "https://docs.aws.amazon.com/securityhub/latest/userguide/ec2-controls.html#ec2-7",
    ),
    controls=("aws-encryption-at-rest",),
)
def ebs_default_encryption(inv: Inventory):
    """Each region read must encrypt new EBS volumes by default; unknown where the
    setting was not read."""
    markers, settings = _per_region(inv, "EBSEncryptionByDefault")
    for region in markers:
        found = settings.get(_key(region), [])
        if not found:
            yield Result(region, Status.UNKNOWN, f"{region.name}: EBS default encryption not read")
        elif facts_of(found[0], EBSEncryptionByDefaultFacts).get("enabled"):
            yield Result(region, Status.PASS, f"{region.name}: new EBS volumes are encrypted")
        else:
            yield Result(
                region,
                Status.FAIL,
                f"{region.name}: EBS encryption by default is off",
                {"enabled": False},
            )


@check(
    id="aws-rds-storage-encrypted",
    title="RDS storage not encrypted",
    view=View.GOVERNANCE,
    severity=Severity.MEDIUM,
    provider=PROVIDER,
    requires=("RDSInstance", "RDSCluster"),
    remediation=(
        "Encryption cannot be switched on in place: snapshot the database, copy the "
        "snapshot with encryption (`aws rds copy-db-snapshot --kms-key-id KEY ...`), "
        "restore from the encrypted copy and cut over; create new databases with "
        "`--storage-encrypted`."
    ),
    frameworks={
        "CIS AWS": ["2.3.1"],
        "AWS FSBP": ["RDS.3", "RDS.27"],
        "ISO 27001:2022": ["A.8.24"],
        "SOC 2": ["CC6.1"],
    },
    references=(
        "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/Overview.Encryption.html",
        "https://docs.aws.amazon.com/securityhub/latest/userguide/rds-controls.html#rds-3",
    ),
    controls=("aws-encryption-at-rest",),
)
def rds_storage_encrypted(inv: Inventory):
    """RDS clusters and stand-alone instances must have encrypted storage (Aurora
    instances inherit their cluster's)."""
    for db in databases(inv):
        name = _db_name(db)
        if facts_of(db, RDSDatabaseFacts).get("storage_encrypted"):
            yield Result(db, Status.PASS, f"{name} storage is encrypted")
        else:
            yield Result(
                db, Status.FAIL, f"{name} storage is not encrypted", {"storage_encrypted": False}
            )


@check(
    id="aws-s3-default-encryption",
    title="S3 bucket without default encryption",
    view=View.GOVERNANCE,
    severity=Severity.LOW,
    provider=PROVIDER,
    requires=("S3Bucket",),
    remediation=(
        "Set default encryption (S3 console > BUCKET > Properties > Default encryption, or "
        "`aws s3api put-bucket-encryption --bucket NAME --server-side-encryption-"
        'configuration \'{"Rules":[{"ApplyServerSideEncryptionByDefault":'
        '{"SSEAlgorithm":"aws:kms"},"BucketKeyEnabled":true}]}\'`).'
    ),
    frameworks={
        "ISO 27001:2022": ["A.8.24"],
        "SOC 2": ["CC6.1"],
    },
    references=(
        "https://docs.aws.amazon.com/AmazonS3/latest/userguide/default-bucket-encryption.html",
    ),
    controls=("aws-encryption-at-rest",),
    no_benchmark="no CIS or FSBP control for S3 default encryption (SSE-S3 is on by default)",
)
def s3_default_encryption(inv: Inventory):
    """Buckets with no default encryption configuration. (AWS applies SSE-S3 to every
    bucket since January 2023, so on AWS itself this fails only for configurations it
    cannot read back; emulators and older partitions differ.) Unknown when the setting
    could not be read."""
    for bucket in sorted(inv.of(PROVIDER, "S3Bucket"), key=lambda r: r.uid):
        bucket_facts = facts_of(bucket, S3BucketFacts)
        name = f'bucket "{bucket.name}"'
        encryption = bucket_facts.get("encryption")
        if encryption:
            yield Result(
                bucket, Status.PASS, f"{name} encrypts by default ({encryption.get('algorithm')})"
            )
        elif "encryption" in (bucket_facts.get("unread") or {}):
            yield Result(bucket, Status.UNKNOWN, f"{name}: default encryption could not be read")
        else:
            yield Result(
                bucket, Status.FAIL, f"{name} has no default encryption", {"encryption": None}
            )


@check(
    id="aws-eks-secrets-encryption",
    title="EKS secrets not envelope-encrypted with KMS",
    view=View.GOVERNANCE,
    severity=Severity.MEDIUM,
    provider=PROVIDER,
    requires=("EKSCluster",),
    remediation=(
        "Enable envelope encryption of Kubernetes Secrets with a KMS key: `aws eks "
        "associate-encryption-config --cluster-name CLUSTER --encryption-config "
        '\'[{"resources":["secrets"],"provider":{"keyArn":"KEY_ARN"}}]\'` (it '
        "cannot be turned off afterwards)."
    ),
    frameworks={
        "AWS FSBP": ["EKS.3"],
        "ISO 27001:2022": ["A.8.24"],
        "SOC 2": ["CC6.1"],
    },
    references=(
        "https://docs.aws.amazon.com/eks/latest/userguide/enable-kms.html",
        "https://docs.aws.amazon.com/securityhub/latest/userguide/eks-controls.html#eks-3",
    ),
    controls=("aws-encryption-at-rest", "secrets-encryption"),
)
def eks_secrets_encryption(inv: Inventory):
    """Clusters without an encryption config covering ``secrets``."""
    for cluster in sorted(inv.of(PROVIDER, "EKSCluster"), key=lambda r: r.uid):
        name = f'EKS cluster "{cluster.name}"'
        if facts_of(cluster, EKSClusterFacts).get("secrets_encrypted"):
            yield Result(cluster, Status.PASS, f"{name} encrypts Secrets with KMS")
        else:
            yield Result(
                cluster,
                Status.FAIL,
                f"{name} does not envelope-encrypt Kubernetes Secrets with a KMS key",
                {"secrets_encrypted": False},
            )


# -- MFA coverage --------------------------------------------------------------------------


def _report_row(user: Resource) -> UserCredentials:
    # Only called on users filtered to have a row: the cast drops the None mypy cannot
    # see is gone, at no run-time cost (the key is still checked).
    return cast(UserCredentials, facts_of(user, IAMUserFacts)["credentials"])


@check(
    id="aws-iam-mfa-coverage",
    title="Not every console user has MFA",
    view=View.GOVERNANCE,
    severity=Severity.MEDIUM,
    provider=PROVIDER,
    requires=("IAMUser",),
    remediation=(
        "Require MFA for every IAM user with a console password (see "
        "aws-iam-user-console-mfa for who lacks it), and enforce it with a policy that "
        "denies everything but MFA setup when aws:MultiFactorAuthPresent is false."
    ),
    frameworks={
        "CIS AWS": ["1.10"],
        "AWS FSBP": ["IAM.5"],
        "ISO 27001:2022": ["A.8.5"],
        "SOC 2": ["CC6.1"],
    },
    references=(
        "https://docs.aws.amazon.com/IAM/latest/UserGuide/tutorial_users-self-manage-mfa-and-creds.html",
    ),
    controls=("aws-mfa",),
)
def mfa_coverage(inv: Inventory):
    """One result per account: the share of console users (password enabled) with MFA,
    over the users in the credential report. Users missing from the report are named in
    the detail; when none is in the report, unknown."""
    users = by_account(inv.of(PROVIDER, "IAMUser"))
    for account in sorted(users):
        anchor = account_anchor(inv, account)
        known = [
            u for u in users[account] if facts_of(u, IAMUserFacts).get("credentials") is not None
        ]
        missing = len(users[account]) - len(known)
        if not known:
            yield Result(
                anchor,
                Status.UNKNOWN,
                f"account {account}: no user is in the credential report",
            )
            continue
        console = [u for u in known if _report_row(u).get("password_enabled")]
        with_mfa = [u for u in console if _report_row(u).get("mfa_active")]
        note = f" ({missing} user(s) not in the credential report)" if missing else ""
        evidence = {"console_users": len(console), "with_mfa": len(with_mfa)}
        if not console:
            detail = f"account {account}: no console users{note}"
            yield Result(anchor, Status.PASS, detail, evidence)
        elif len(with_mfa) == len(console):
            yield Result(
                anchor,
                Status.PASS,
                f"account {account}: all {len(console)} console users have MFA (100%){note}",
                evidence,
            )
        else:
            share = round(100 * len(with_mfa) / len(console))
            protected = {u.uid for u in with_mfa}
            without = sorted(u.name for u in console if u.uid not in protected)
            yield Result(
                anchor,
                Status.FAIL,
                f"account {account}: {len(with_mfa)} of {len(console)} console users have MFA "
                f"({share}%); without: {listing(without)}{note}",
                evidence,
            )


# -- controls ------------------------------------------------------------------------------

control(
    id="aws-audit-logging",
    title="AWS API and Kubernetes control-plane activity is recorded",
    frameworks={"ISO 27001:2022": ["A.8.15"], "SOC 2": ["CC7.2"], "CIS AWS": ["3.1", "3.2"]},
    description="A multi-region CloudTrail trail with log file validation, and EKS audit logs.",
)

control(
    id="aws-threat-detection",
    title="Threats are detected in every AWS region",
    frameworks={"ISO 27001:2022": ["A.8.16", "A.5.7"], "SOC 2": ["CC7.2", "CC7.3"]},
    description="GuardDuty and Security Hub are on in every region read.",
)

control(
    id="aws-config-recording",
    title="AWS resource configuration changes are recorded",
    frameworks={"ISO 27001:2022": ["A.8.9"], "SOC 2": ["CC7.1", "CC8.1"], "CIS AWS": ["3.3"]},
    description="AWS Config records every supported resource type in every region read.",
)

control(
    id="aws-backups",
    title="AWS databases are backed up outside their own lifecycle",
    frameworks={"ISO 27001:2022": ["A.8.13"], "SOC 2": ["A1.2"]},
    description=(
        "AWS Backup plans exist where databases live and cover every RDS database. A "
        "restore test is a separate, attested control."
    ),
)

control(
    id="aws-encryption-at-rest",
    title="AWS data is encrypted at rest",
    frameworks={"ISO 27001:2022": ["A.8.24"], "SOC 2": ["CC6.1"], "CIS AWS": ["2.2.1", "2.3.1"]},
    description="EBS by default, RDS storage, S3 buckets, EKS Secrets; KMS keys rotate.",
)

control(
    id="aws-mfa",
    title="AWS sign-ins require MFA",
    frameworks={
        "ISO 27001:2022": ["A.8.5", "A.5.17"],
        "SOC 2": ["CC6.1"],
        "CIS AWS": ["1.5", "1.10"],
    },
    description="The root user and every IAM user with a console password have MFA.",
)

control(
    id="aws-credential-rotation",
    title="AWS long-lived credentials are rotated and removed when unused",
    frameworks={"ISO 27001:2022": ["A.5.17", "A.5.18"], "SOC 2": ["CC6.1", "CC6.2"]},
    description="Access keys, Secrets Manager secrets and certificates do not go stale.",
)

control(
    id="aws-network-exposure",
    title="Nothing in AWS is exposed to the internet by accident",
    frameworks={"ISO 27001:2022": ["A.8.20", "A.8.22"], "SOC 2": ["CC6.6"]},
    description=(
        "No admin or data port open to the world, no public database, bucket or "
        "Kubernetes API, no unauthenticated API method. Internet-facing load balancers "
        "are an inventory, not a control failure, so they are not cited."
    ),
)
