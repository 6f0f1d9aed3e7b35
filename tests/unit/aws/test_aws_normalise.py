"""The pure normalisers: policy documents, security group rules, the credential report,
timestamps and error classification."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from urllib.parse import quote

import pytest
from botocore.exceptions import ClientError, NoCredentialsError, ReadTimeoutError

from postureapp.collectors.aws._common import (
    MalformedAnswer,
    allowed_principals,
    describe_error,
    iso,
    normalise_policy,
)
from postureapp.collectors.aws.ec2 import normalise_rule
from postureapp.collectors.aws.iam import credential_resources, parse_credential_report

DOC = {
    "Version": "2012-10-17",
    "Statement": {
        "Effect": "Allow",
        "Principal": "*",
        "Action": "s3:GetObject",
        "Resource": "arn:aws:s3:::b/*",
        "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-123"}},
    },
}
NORMAL = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"AWS": ["*"]},
            "Action": ["s3:GetObject"],
            "Resource": ["arn:aws:s3:::b/*"],
            "Condition": {"StringEquals": {"aws:PrincipalOrgID": ["o-123"]}},
        }
    ],
}


@pytest.mark.parametrize(
    "given",
    [
        DOC,
        json.dumps(DOC),
        quote(json.dumps(DOC)),  # IAM's URL-encoded form
        json.dumps(DOC).replace('"', '\\"'),  # API Gateway's escaped form
    ],
)
def test_policy_documents_have_one_shape(given):
    assert normalise_policy(given) == NORMAL


def test_principals_by_type_from_allow_statements_only():
    policy = normalise_policy(
        {
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "ec2.amazonaws.com", "AWS": ["arn:b", "arn:a"]},
                },
                {"Effect": "Deny", "Principal": {"AWS": "arn:evil"}},
            ]
        }
    )
    assert allowed_principals(policy) == {
        "AWS": ["arn:a", "arn:b"],
        "Service": ["ec2.amazonaws.com"],
    }


@pytest.mark.parametrize("bad", ["{not json", "[1]", json.dumps({"Statement": ["x"]})])
def test_unusable_policy_documents_are_malformed(bad):
    with pytest.raises(MalformedAnswer):
        normalise_policy(bad)


@pytest.mark.parametrize(
    ("permission", "expected"),
    [
        ({"IpProtocol": "-1"}, ("all", 0, 65535)),
        ({"IpProtocol": "6", "FromPort": 443, "ToPort": 443}, ("tcp", 443, 443)),
        ({"IpProtocol": "udp"}, ("udp", 0, 65535)),
        ({"IpProtocol": "icmp", "FromPort": 8, "ToPort": -1}, ("icmp", 8, -1)),
        ({"IpProtocol": "58", "FromPort": -1, "ToPort": -1}, ("icmpv6", -1, -1)),
        ({"IpProtocol": "50"}, ("50", None, None)),
    ],
)
def test_rule_protocols_and_ports(permission, expected):
    rule = normalise_rule(permission)
    assert (rule["protocol"], rule["from_port"], rule["to_port"]) == expected


def test_rule_sources():
    rule = normalise_rule(
        {
            "IpProtocol": "tcp",
            "FromPort": 5432,
            "ToPort": 5432,
            "IpRanges": [{"CidrIp": "10.0.0.0/8"}, {"CidrIp": "10.0.0.0/8", "Description": "b"}],
            "Ipv6Ranges": [{"CidrIpv6": "::/0", "Description": "a"}],
            "PrefixListIds": [{"PrefixListId": "pl-1"}],
            "UserIdGroupPairs": [{"GroupId": "sg-2", "UserId": "1"}, {"GroupId": "sg-1"}],
        }
    )
    assert rule["cidrs_v4"] == ["10.0.0.0/8"]
    assert rule["open_to_internet"] is True
    assert rule["prefix_lists"] == ["pl-1"]
    assert [g["group_id"] for g in rule["source_groups"]] == ["sg-1", "sg-2"]
    assert rule["descriptions"] == ["a", "b"]


def test_credential_report_rows_and_empty_key_slots():
    header = "user,arn,user_creation_time,access_key_1_active,access_key_1_last_rotated"
    rows = parse_credential_report(
        f"{header}\nalice,arn:aws:iam::1:user/alice,2020-01-01T00:00:00+00:00,false,N/A\n"
    )
    resources = credential_resources(rows, "111122223333", None, "api")
    assert [r.kind for r in resources] == ["IAMCredentialReport"]  # no key in slot 1


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("user,arn\n", "header does not start"),
        ("user,arn,user_creation_time\na,b\n", "line 2 has 2 fields, expected 3"),
    ],
)
def test_credential_report_shape_errors(text, message):
    with pytest.raises(MalformedAnswer, match=message):
        parse_credential_report(text)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (datetime(2024, 1, 2, 3, 4, 5, 600, tzinfo=UTC), "2024-01-02T03:04:05Z"),
        (
            datetime(2024, 1, 2, 5, 4, 5, tzinfo=timezone(timedelta(hours=2))),
            "2024-01-02T03:04:05Z",
        ),
        ("2024-01-02T03:04:05+00:00", "2024-01-02T03:04:05Z"),
        ("2024-01-02 03:04:05.123456+00:00", "2024-01-02T03:04:05Z"),
        ("2024-01-02T03:04:05Z", "2024-01-02T03:04:05Z"),
        (1704164645, "2024-01-02T03:04:05Z"),
        (1704164645000, "2024-01-02T03:04:05Z"),
        ("N/A", None),
        ("no_information", None),
        (None, None),
        ("", None),
    ],
)
def test_timestamps(value, expected):
    assert iso(value) == expected


def client_error(code, status=400, message="nope"):
    return ClientError(
        {
            "Error": {"Code": code, "Message": message},
            "ResponseMetadata": {"HTTPStatusCode": status},
        },
        "Operation",
    )


@pytest.mark.parametrize(
    ("error", "reason", "credentials"),
    [
        (
            client_error("AccessDenied", 403),
            "iam:ListUsers denied in eu-west-1 (AccessDenied)",
            False,
        ),
        (client_error("UnauthorizedOperation", 403), "iam:ListUsers denied in eu-west-1", False),
        (
            client_error("ExpiredToken", 403),
            "iam:ListUsers: credentials rejected (ExpiredToken)",
            True,
        ),
        (client_error("OptInRequired", 403), "service not enabled in eu-west-1", False),
        (client_error("404", 404, "<!doctype html>"), "not supported by the endpoint", False),
        (
            client_error("500", 500, "The x action has not been implemented"),
            "not supported by the endpoint",
            False,
        ),
        (client_error("Throttling"), "throttled in eu-west-1, retries exhausted", False),
        (
            client_error("ValidationError", 400, "bad\nthing"),
            "failed in eu-west-1 (ValidationError: bad thing)",
            False,
        ),
        (ReadTimeoutError(endpoint_url="https://x"), "iam:ListUsers timed out in eu-west-1", False),
        (NoCredentialsError(), "Unable to locate credentials", True),
    ],
)
def test_errors_become_one_line_reasons(error, reason, credentials):
    described = describe_error(error, "iam:ListUsers", "in eu-west-1")
    assert reason in described.reason
    assert "\n" not in described.reason
    assert described.credentials is credentials


def test_two_keys_created_in_the_same_second_stay_two():
    header = (
        "user,arn,user_creation_time,access_key_1_active,access_key_1_last_rotated,"
        "access_key_2_active,access_key_2_last_rotated"
    )
    row = "ci,arn:aws:iam::1:user/ci,2020-01-01T00:00:00+00:00,true,{t},true,{t}".format(
        t="2024-01-01T00:00:00+00:00"
    )
    resources = credential_resources(
        parse_credential_report(f"{header}\n{row}\n"), "1", None, "api"
    )
    keys = [r for r in resources if r.kind == "IAMAccessKey"]
    assert [k.uid for k in keys] == [
        "aws://1/global/IAMAccessKey/ci/2024-01-01T00:00:00Z/1",
        "aws://1/global/IAMAccessKey/ci/2024-01-01T00:00:00Z/2",
    ]
