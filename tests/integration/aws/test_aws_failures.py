"""What the AWS collector does when AWS does not simply answer: throttling, timeouts, bad
credentials, unreachable endpoints, a deadline, a bug in a unit. It never raises."""

from __future__ import annotations

import json
import time

import pytest

from postureapp.collectors.aws import AwsCollector, ec2, permissions
from postureapp.collectors.aws._common import action_name
from postureapp.model import RunStatus, Target
from tests.integration.aws.conftest import (
    ACCOUNT,
    NO_CREDENTIALS_PROFILE,
    PROFILE,
    TEST_OPTIONS,
    by_kind,
    one,
)
from tests.integration.aws.faults import Fault, Recorder, session_factory
from tests.integration.aws.test_aws_ec2 import seed_network


def seed_secret_and_key(moto) -> None:
    moto.client("secretsmanager").create_secret(Name="db/orders", SecretString="x")
    moto.client("kms").create_key(Description="orders")


def test_throttling_is_retried_then_succeeds(moto):
    seed_secret_and_key(moto)
    throttle = Fault(
        "secretsmanager",
        "ListSecrets",
        status=400,
        code="ThrottlingException",
        message="Rate exceeded",
        times=1,
    )
    recorder = Recorder()

    result = moto.collect(
        collector=AwsCollector(session_factory(throttle, recorder=recorder)),
        services=["secretsmanager"],
    )

    assert throttle.fired == 1
    assert result.run.status is RunStatus.OK, result.run.error
    assert one(result.resources, "SecretsManagerSecret", "db/orders")
    # One logical call (counted once), sent twice by botocore's retry handler.
    assert recorder.calls.count(("secretsmanager", "ListSecrets")) == 1


def test_throttling_that_never_stops_makes_the_kind_unknown(moto):
    seed_secret_and_key(moto)
    throttle = Fault("secretsmanager", "ListSecrets", status=400, code="ThrottlingException")

    result = moto.collect(
        collector=AwsCollector(session_factory(throttle)),
        services=["secretsmanager", "kms"],
        max_attempts=2,
    )

    assert throttle.fired == 2
    assert result.run.status is RunStatus.PARTIAL
    assert result.run.unknown == {
        "SecretsManagerSecret": (
            "secretsmanager:ListSecrets throttled in us-east-1, retries exhausted"
        )
    }
    assert by_kind(result.resources, "KMSKey")


def test_a_silent_endpoint_times_out_for_its_kind_only(moto, monkeypatch, black_hole):
    seed_secret_and_key(moto)
    # boto3's own variables: everything to moto, Secrets Manager to a socket that never
    # answers. No endpoint_url option, so this also proves AWS_ENDPOINT_URL is honoured.
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto.endpoint)
    monkeypatch.setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", black_hole)
    target = Target(
        provider="aws",
        name=PROFILE,
        options={
            **TEST_OPTIONS,
            "services": ["secretsmanager", "kms"],
            "read_timeout": 0.5,
            "max_attempts": 2,
        },
    )
    started = time.monotonic()

    result = AwsCollector().collect(target)

    assert time.monotonic() - started < 10
    assert result.run.status is RunStatus.PARTIAL
    assert result.run.scope == ACCOUNT
    assert result.run.unknown == {
        "SecretsManagerSecret": "secretsmanager:ListSecrets timed out in us-east-1"
    }
    assert len(by_kind(result.resources, "KMSKey")) == 1


def test_the_deadline_bounds_the_whole_target(moto, monkeypatch, black_hole):
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto.endpoint)
    monkeypatch.setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", black_hole)
    started = time.monotonic()

    result = moto.collect(
        endpoint_url=None,
        services=["secretsmanager", "kms"],
        read_timeout=30,
        max_attempts=1,
        deadline=3,
    )

    assert time.monotonic() - started < 8  # not the 30 s read timeout
    assert result.run.status is RunStatus.PARTIAL
    assert result.run.unknown == {
        "SecretsManagerSecret": "secretsmanager us-east-1: not finished within 3s"
    }


def test_missing_credentials_fail_the_target_with_a_clear_message(moto):
    result = moto.collect(NO_CREDENTIALS_PROFILE)

    assert result.run.status is RunStatus.FAILED
    assert result.resources == []
    assert result.run.scope == ""
    assert f"AWS credentials for profile '{NO_CREDENTIALS_PROFILE}' are missing" in (
        result.run.error
    )
    assert "Unable to locate credentials" in result.run.error


def test_expired_credentials_fail_the_target(moto):
    expired = Fault(
        "sts",
        "GetCallerIdentity",
        status=403,
        code="ExpiredToken",
        message="The security token included in the request is expired",
    )

    result = moto.collect(collector=AwsCollector(session_factory(expired)))

    assert result.run.status is RunStatus.FAILED
    assert "missing, expired or invalid" in result.run.error
    assert "credentials rejected (ExpiredToken)" in result.run.error
    assert result.run.api_calls == 1


def test_unknown_profile_fails_the_target(moto):
    result = moto.collect("no-such-profile")

    assert result.run.status is RunStatus.FAILED
    assert "AWS profile 'no-such-profile' not found" in result.run.error


def test_unreachable_endpoint_fails_the_target(moto):
    result = moto.collect(endpoint_url="http://127.0.0.1:9", max_attempts=1, connect_timeout=1)

    assert result.run.status is RunStatus.FAILED
    assert "cannot identify the AWS account" in result.run.error
    assert "cannot reach http://127.0.0.1:9" in result.run.error


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"regions": ["mars-north-1x"]}, "not an AWS region name: mars-north-1x"),
        ({"services": ["ec3"]}, "unknown AWS service(s): ec3"),
        ({"read_timeout": "soon"}, "option 'read_timeout' must be a number"),
        ({"colour": "blue"}, "unknown AWS target option(s): colour"),
    ],
)
def test_bad_options_fail_the_target(moto, options, message):
    result = moto.collect(**options)

    assert result.run.status is RunStatus.FAILED
    assert message in result.run.error


def test_default_credential_chain_and_environment_endpoint(moto, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAPOSTUREENV000001")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "env-secret")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto.endpoint)

    result = AwsCollector().collect(
        Target(provider="aws", name="default", options={"services": ["ec2"], **TEST_OPTIONS})
    )

    assert result.run.status is RunStatus.OK, result.run.error
    assert result.run.target == "default"
    assert [r.scope for r in by_kind(result.resources, "AWSRegion")] == [f"{ACCOUNT}/eu-west-1"]


def test_a_bug_in_one_unit_blinds_only_its_kinds(moto, monkeypatch):
    seed_network(moto)

    def broken(*args, **kwargs):
        raise KeyError("InstanceId")

    monkeypatch.setattr(ec2, "_instance", broken)
    result = moto.collect(services=["ec2", "kms"])

    assert result.run.status is RunStatus.PARTIAL
    assert set(result.run.unknown) == set(ec2.KINDS)
    assert "ec2 us-east-1: KeyError" in result.run.unknown["EC2Instance"]


def test_api_calls_are_counted_and_covered_by_the_documented_policy(moto):
    seed_network(moto)
    seed_secret_and_key(moto)
    moto.client("s3").create_bucket(Bucket="posture-bucket")
    moto.client("iam").create_user(UserName="alice")
    recorder = Recorder()
    collector = AwsCollector(session_factory(recorder=recorder))

    result = moto.collect(collector=collector)

    json.dumps([r.to_dict() for r in result.resources])  # plain JSON, no default= needed
    assert result.run.api_calls == len(recorder.calls)
    assert result.run.api_calls == sum(collector.calls_by_service[PROFILE].values())
    import botocore.session

    loader = botocore.session.get_session()
    actions = {
        action_name(loader.get_service_model(service), operation)
        for service, operation in recorder.calls
    }
    assert actions <= set(permissions.ACTIONS), actions - set(permissions.ACTIONS)
    assert "secretsmanager:GetSecretValue" not in actions


def test_a_denial_in_one_region_leaves_the_others_judged(moto):
    """A region-deny SCP answers AccessDenied in the denied regions only: the kind is
    unknown there, and the regions that answered are still judged."""
    from postureapp.engine import Engine, scope_uid

    seed_network(moto, "us-east-1")
    seed_network(moto, "us-west-2")
    denied = Fault(
        "ec2",
        "DescribeSecurityGroups",
        status=403,
        code="UnauthorizedOperation",
        message="explicit deny in a service control policy",
        region="us-west-2",
    )

    result = moto.collect(
        collector=AwsCollector(session_factory(denied)),
        services=["ec2"],
        regions=["us-east-1", "us-west-2"],
    )

    assert denied.fired >= 1
    assert result.run.status is RunStatus.PARTIAL
    assert set(result.run.unknown) == {"SecurityGroup@us-west-2"}
    assert "in us-west-2" in result.run.unknown["SecurityGroup@us-west-2"]
    groups = {r.scope for r in by_kind(result.resources, "SecurityGroup")}
    assert groups == {f"{ACCOUNT}/us-east-1"}

    import postureapp.checks  # noqa: F401  (the shipped catalog)

    findings = [
        f
        for f in Engine({}).judge(result.resources, [result.run])
        if f.check_id == "aws-ec2-sg-admin-ports-open"
    ]
    east = [
        f
        for f in findings
        if f"{ACCOUNT}/us-east-1" in f.resource_uid or ":us-east-1:" in f.resource_uid
    ]
    assert any(f.status.value == "fail" for f in east), [
        (f.resource_uid, f.status) for f in findings
    ]
    west = [f for f in findings if f.resource_uid == scope_uid("aws", f"{ACCOUNT}/us-west-2")]
    assert [f.status.value for f in west] == ["unknown"]
    assert "SecurityGroup" in west[0].detail


def test_a_denial_in_every_region_is_reported_once_for_the_account(moto):
    denied = Fault("ec2", "DescribeSecurityGroups", status=403, code="UnauthorizedOperation")
    result = moto.collect(
        collector=AwsCollector(session_factory(denied)),
        services=["ec2"],
        regions=["us-east-1", "us-west-2"],
    )
    assert set(result.run.unknown) == {"SecurityGroup"}
    assert "us-east-1" in result.run.unknown["SecurityGroup"]
    assert "us-west-2" in result.run.unknown["SecurityGroup"]
