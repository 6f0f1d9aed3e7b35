"""Through the engine: a kind the AWS collector could not read turns the checks that need
it into *unknown* for that account's scopes, never pass, and leaves the others alone."""

from __future__ import annotations

from postureapp.collectors.base import CollectResult, RunRecorder
from postureapp.engine import scope_uid
from postureapp.model import Target
from postureapp.poll import Poller
from tests.checks.aws.estate import ACCOUNT, REGION, REGION_SCOPE, aws_region
from tests.checks.aws.test_endpoints import rule, security_group

SG_CHECK = "aws-ec2-sg-admin-ports-open"
PROD = Target("aws", "prod")


class ScriptedAwsCollector:
    """One account, one region, one world-open SSH group; ``unknown`` kinds are
    reported unread (and their resources withheld), as the real collector does."""

    name = "aws"
    provider = "aws"

    def __init__(self, unknown: dict[str, str] | None = None) -> None:
        self.unknown = dict(unknown or {})

    def collect(self, target: Target) -> CollectResult:
        recorder = RunRecorder(self.name, target.name, scope=ACCOUNT)
        resources = [aws_region()]
        if "SecurityGroup" not in self.unknown:
            resources.append(security_group("sg-ssh", rule()))
        for kind, reason in self.unknown.items():
            recorder.mark_unknown(kind, reason)
        return CollectResult(resources, recorder.finish(len(resources)))


def _findings(store, snapshot_id, check_id):
    return {f["resource_uid"]: f for f in store.findings(snapshot_id) if f["check_id"] == check_id}


def test_security_groups_unread_make_the_check_unknown_for_the_scope(store):
    collector = ScriptedAwsCollector({"SecurityGroup": "ec2:DescribeSecurityGroups denied"})
    result = Poller(store, {"aws": collector}).poll([PROD])
    findings = _findings(store, result.snapshot_id, SG_CHECK)
    regional = findings[scope_uid("aws", REGION_SCOPE)]
    assert regional["status"] == "unknown"
    assert "ec2:DescribeSecurityGroups denied" in regional["detail"]
    assert {f["status"] for f in findings.values()} == {"unknown"}
    # a check that does not need security groups still judges the region
    guardduty = _findings(store, result.snapshot_id, "aws-guardduty-enabled")
    assert guardduty[f"aws://{ACCOUNT}/{REGION}/AWSRegion/{REGION}"]["status"] == "fail"


def test_security_groups_read_give_a_failure_on_the_group(store):
    result = Poller(store, {"aws": ScriptedAwsCollector()}).poll([PROD])
    findings = _findings(store, result.snapshot_id, SG_CHECK)
    group_uid = f"arn:aws:ec2:{REGION}:{ACCOUNT}:security-group/sg-ssh"
    assert findings[group_uid]["status"] == "fail"
    assert findings[group_uid]["severity"] == "high"
    # no AWS check raised on this estate
    assert not [f for f in store.findings(result.snapshot_id) if f["status"] == "error"]
