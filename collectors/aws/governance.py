"""Governance evidence, per region: CloudTrail trails, AWS Config recorders, GuardDuty
detectors, AWS Backup plans and protected resources, Security Hub.
(EBS encryption by default is read with EC2, see ``postureapp.collectors.aws.ec2``.)

A region where a service is simply not set up yields no resource of that kind (no
trail, no detector...) and no unknown: absence is the answer. Checks that need "one per
region" iterate the ``AWSRegion`` resources the collector emits for every region read.

Kinds and attrs (scope ``"{account}/{region}"``)
------------------------------------------------

``CloudTrailTrail`` (uid: trail ARN; listed in its home region only)
    name, arn, home_region, multi_region: bool, organization_trail: bool,
    include_global_service_events: bool, log_file_validation_enabled: bool,
    s3_bucket, s3_key_prefix, sns_topic_arn, kms_key_id: str|null,
    cloudwatch_logs_log_group_arn: str|null, has_custom_event_selectors: bool,
    is_logging: bool|null (``GetTrailStatus``; null when not readable),
    latest_delivery_error: str|null, start_logging_time, stop_logging_time: iso|null

``ConfigRecorder`` (uid: ``aws://{account}/{region}/ConfigRecorder/{name}``)
    name, role_arn, all_supported: bool, include_global_resource_types: bool,
    resource_types: [..], recording_strategy: str|null,
    recording: bool|null, last_status: str|null, last_error_code: str|null

``GuardDutyDetector`` (uid: ``arn:{partition}:guardduty:{region}:{account}:detector/{id}``)
    detector_id, status: "ENABLED"|"DISABLED", finding_publishing_frequency, created_at,
    data_sources: {"CloudTrail"|"DNSLogs"|"FlowLogs"|"S3Logs"|"Kubernetes.AuditLogs"|...:
        status}, features: {name: status}

``BackupPlan`` (uid: backup plan ARN)
    plan_id, name, version_id, created_at, last_execution_date: iso|null,
    rules: [{"name", "target_vault", "schedule", "schedule_timezone",
             "start_window_minutes", "completion_window_minutes",
             "delete_after_days": int|null, "move_to_cold_storage_after_days": int|null,
             "copy_to": [vault ARN]}]

``BackupProtectedResource`` (uid: ``aws://{account}/{region}/BackupProtectedResource/
{resource ARN}``)
    resource_arn, resource_type, resource_name: str|null, last_backup_time: iso|null

``SecurityHub`` (uid: ``arn:{partition}:securityhub:{region}:{account}:hub/default``)
    region, enabled: bool (false when the account is not subscribed in the region),
    hub_arn: str|null, subscribed_at: iso|null, auto_enable_controls: bool|null
"""

from __future__ import annotations

from functools import partial
from typing import Any

from postureapp.collectors.aws._common import AwsCallError, fallback_uid, iso, scope
from postureapp.collectors.aws._context import Context, Unit
from postureapp.model import Resource

KINDS = (
    "CloudTrailTrail",
    "ConfigRecorder",
    "GuardDutyDetector",
    "BackupPlan",
    "BackupProtectedResource",
    "SecurityHub",
)


def units(ctx: Context, regions: list[str], services: set[str]) -> list[Unit]:
    plan = [
        ("cloudtrail", ("CloudTrailTrail",), _trails),
        ("config", ("ConfigRecorder",), _recorders),
        ("guardduty", ("GuardDutyDetector",), _detectors),
        ("backup", ("BackupPlan", "BackupProtectedResource"), _backup),
        ("securityhub", ("SecurityHub",), _security_hub),
    ]
    return [
        Unit(f"{service} {region}", kinds, partial(function, ctx, region))
        for region in regions
        for service, kinds, function in plan
        if service in services
    ]


def _resource(
    ctx: Context,
    region: str,
    kind: str,
    uid: str,
    name: str,
    attrs: dict[str, Any],
    created: str | None = None,
) -> Resource:
    return Resource(
        uid=uid,
        provider="aws",
        scope=scope(ctx.account, region),
        kind=kind,
        name=name,
        attrs=attrs,
        created_at=created,
    )


def _trails(ctx: Context, region: str) -> list[Resource]:
    client = ctx.client("cloudtrail", region)
    found = []
    with ctx.reading("CloudTrailTrail"):
        trails = (ctx.call(client, "describe_trails", includeShadowTrails=False) or {}).get(
            "trailList", []
        )
        for trail in trails:
            status: dict[str, Any] | None = None
            with ctx.reading("CloudTrailTrail"):
                status = ctx.call(client, "get_trail_status", Name=trail["TrailARN"]) or {}
            attrs = {
                "name": trail.get("Name"),
                "arn": trail["TrailARN"],
                "home_region": trail.get("HomeRegion", region),
                "multi_region": bool(trail.get("IsMultiRegionTrail", False)),
                "organization_trail": bool(trail.get("IsOrganizationTrail", False)),
                "include_global_service_events": bool(
                    trail.get("IncludeGlobalServiceEvents", False)
                ),
                "log_file_validation_enabled": bool(trail.get("LogFileValidationEnabled", False)),
                "s3_bucket": trail.get("S3BucketName"),
                "s3_key_prefix": trail.get("S3KeyPrefix"),
                "sns_topic_arn": trail.get("SnsTopicARN"),
                "kms_key_id": trail.get("KmsKeyId"),
                "cloudwatch_logs_log_group_arn": trail.get("CloudWatchLogsLogGroupArn"),
                "has_custom_event_selectors": bool(trail.get("HasCustomEventSelectors", False)),
                "is_logging": None if status is None else bool(status.get("IsLogging", False)),
                "latest_delivery_error": (status or {}).get("LatestDeliveryError") or None,
                "start_logging_time": iso((status or {}).get("StartLoggingTime")),
                "stop_logging_time": iso((status or {}).get("StopLoggingTime")),
            }
            found.append(
                _resource(ctx, region, "CloudTrailTrail", trail["TrailARN"], attrs["name"], attrs)
            )
    return found


def _recorders(ctx: Context, region: str) -> list[Resource]:
    client = ctx.client("config", region)
    found = []
    with ctx.reading("ConfigRecorder"):
        recorders = (ctx.call(client, "describe_configuration_recorders") or {}).get(
            "ConfigurationRecorders", []
        )
        statuses: dict[str, dict[str, Any]] | None = None
        if recorders:
            with ctx.reading("ConfigRecorder"):
                answer = ctx.call(client, "describe_configuration_recorder_status") or {}
                statuses = {s["name"]: s for s in answer.get("ConfigurationRecordersStatus", [])}
        for recorder in recorders:
            group = recorder.get("recordingGroup") or {}
            status = (statuses or {}).get(recorder["name"], {})
            attrs = {
                "name": recorder["name"],
                "role_arn": recorder.get("roleARN"),
                "all_supported": bool(group.get("allSupported", False)),
                "include_global_resource_types": bool(
                    group.get("includeGlobalResourceTypes", False)
                ),
                "resource_types": sorted(group.get("resourceTypes", [])),
                "recording_strategy": (group.get("recordingStrategy") or {}).get("useOnly"),
                "recording": None if statuses is None else bool(status.get("recording", False)),
                "last_status": status.get("lastStatus"),
                "last_error_code": status.get("lastErrorCode"),
            }
            found.append(
                _resource(
                    ctx,
                    region,
                    "ConfigRecorder",
                    fallback_uid(ctx.account, region, "ConfigRecorder", recorder["name"]),
                    recorder["name"],
                    attrs,
                )
            )
    return found


def _detectors(ctx: Context, region: str) -> list[Resource]:
    client = ctx.client("guardduty", region)
    found = []
    with ctx.reading("GuardDutyDetector"):
        ids = []
        for page in ctx.pages(client, "list_detectors", marker_in="NextToken", MaxResults=50):
            ids.extend(page.get("DetectorIds", []))
        for detector_id in ids:
            detector = ctx.call(client, "get_detector", DetectorId=detector_id) or {}
            attrs = {
                "detector_id": detector_id,
                "status": detector.get("Status"),
                "finding_publishing_frequency": detector.get("FindingPublishingFrequency"),
                "created_at": iso(detector.get("CreatedAt")),
                "data_sources": _flatten_status(detector.get("DataSources") or {}),
                "features": {
                    f["Name"]: f.get("Status")
                    for f in detector.get("Features", [])
                    if f.get("Name")
                },
            }
            found.append(
                _resource(
                    ctx,
                    region,
                    "GuardDutyDetector",
                    f"arn:{ctx.partition}:guardduty:{region}:{ctx.account}:detector/{detector_id}",
                    detector_id,
                    attrs,
                    attrs["created_at"],
                )
            )
    return found


def _flatten_status(sources: dict[str, Any], prefix: str = "") -> dict[str, str]:
    """``{"Kubernetes": {"AuditLogs": {"Status": "ENABLED"}}}`` -> ``{"Kubernetes.AuditLogs":
    "ENABLED"}``."""
    flat: dict[str, str] = {}
    for name, value in sources.items():
        if not isinstance(value, dict):
            continue
        key = f"{prefix}{name}"
        if "Status" in value:
            flat[key] = str(value["Status"])
        else:
            flat.update(_flatten_status(value, f"{key}."))
    return flat


def _backup(ctx: Context, region: str) -> list[Resource]:
    client = ctx.client("backup", region)
    found = []
    with ctx.reading("BackupPlan"):
        plans = []
        for page in ctx.pages(client, "list_backup_plans", marker_in="NextToken", MaxResults=100):
            plans.extend(page.get("BackupPlansList", []))
        for summary in plans:
            detail = ctx.call(client, "get_backup_plan", BackupPlanId=summary["BackupPlanId"]) or {}
            plan = detail.get("BackupPlan") or {}
            rules = [
                {
                    "name": rule.get("RuleName"),
                    "target_vault": rule.get("TargetBackupVaultName"),
                    "schedule": rule.get("ScheduleExpression"),
                    "schedule_timezone": rule.get("ScheduleExpressionTimezone"),
                    "start_window_minutes": rule.get("StartWindowMinutes"),
                    "completion_window_minutes": rule.get("CompletionWindowMinutes"),
                    "delete_after_days": (rule.get("Lifecycle") or {}).get("DeleteAfterDays"),
                    "move_to_cold_storage_after_days": (rule.get("Lifecycle") or {}).get(
                        "MoveToColdStorageAfterDays"
                    ),
                    "copy_to": sorted(
                        a.get("DestinationBackupVaultArn", "") for a in rule.get("CopyActions", [])
                    ),
                }
                for rule in plan.get("Rules", [])
            ]
            attrs = {
                "plan_id": summary["BackupPlanId"],
                "name": plan.get("BackupPlanName", summary.get("BackupPlanName")),
                "version_id": summary.get("VersionId"),
                "created_at": iso(summary.get("CreationDate")),
                "last_execution_date": iso(summary.get("LastExecutionDate")),
                "rules": sorted(rules, key=lambda r: r["name"] or ""),
            }
            found.append(
                _resource(
                    ctx,
                    region,
                    "BackupPlan",
                    summary["BackupPlanArn"],
                    attrs["name"] or "",
                    attrs,
                    attrs["created_at"],
                )
            )
    with ctx.reading("BackupProtectedResource"):
        protected = []
        for page in ctx.pages(
            client, "list_protected_resources", marker_in="NextToken", MaxResults=1000
        ):
            for item in page.get("Results", []):
                arn = item["ResourceArn"]
                attrs = {
                    "resource_arn": arn,
                    "resource_type": item.get("ResourceType"),
                    "resource_name": item.get("ResourceName"),
                    "last_backup_time": iso(item.get("LastBackupTime")),
                }
                protected.append(
                    _resource(
                        ctx,
                        region,
                        "BackupProtectedResource",
                        fallback_uid(ctx.account, region, "BackupProtectedResource", arn),
                        item.get("ResourceName") or arn,
                        attrs,
                    )
                )
        found.extend(protected)
    return found


def _security_hub(ctx: Context, region: str) -> list[Resource]:
    client = ctx.client("securityhub", region)
    with ctx.reading("SecurityHub"):
        try:
            hub = ctx.call(client, "describe_hub")
        except AwsCallError as exc:
            # "Account is not subscribed to AWS Security Hub" is the answer, not a gap.
            if exc.code not in ("InvalidAccessException", "ResourceNotFoundException"):
                raise
            hub = None
        attrs = {
            "region": region,
            "enabled": hub is not None,
            "hub_arn": (hub or {}).get("HubArn"),
            "subscribed_at": iso((hub or {}).get("SubscribedAt")),
            "auto_enable_controls": None
            if hub is None
            else bool(hub.get("AutoEnableControls", False)),
        }
        return [
            _resource(
                ctx,
                region,
                "SecurityHub",
                f"arn:{ctx.partition}:securityhub:{region}:{ctx.account}:hub/default",
                f"Security Hub ({region})",
                attrs,
            )
        ]
    return []
