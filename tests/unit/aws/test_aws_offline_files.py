"""The offline AWS loader: good files load, bad files fail with one line naming the file."""

from __future__ import annotations

import json

import pytest

from postureapp.collectors.aws.offline import load_dump, load_path
from postureapp.errors import InputError
from tests.facts import assert_conforms

ACCOUNT = "111122223333"
DETAILS = {
    "UserDetailList": [
        {
            "Path": "/",
            "UserName": "deploy",
            "UserId": "AIDAEXAMPLE",
            "Arn": f"arn:aws:iam::{ACCOUNT}:user/deploy",
            "CreateDate": "2020-01-02T03:04:05+00:00",
            "GroupList": [],
            "AttachedManagedPolicies": [
                {
                    "PolicyName": "AdministratorAccess",
                    "PolicyArn": "arn:aws:iam::aws:policy/AdministratorAccess",
                }
            ],
            "UserPolicyList": [],
            "Tags": [],
        }
    ],
    "GroupDetailList": [],
    "RoleDetailList": [
        {
            "Path": "/",
            "RoleName": "ci",
            "RoleId": "AROAEXAMPLE",
            "Arn": f"arn:aws:iam::{ACCOUNT}:role/ci",
            "CreateDate": "2021-01-01T00:00:00Z",
            # Some dumps keep IAM's URL-encoded form.
            "AssumeRolePolicyDocument": "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement"
            "%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Principal%22%3A%7B%22AWS%22%3A"
            "%22arn%3Aaws%3Aiam%3A%3A999988887777%3Aroot%22%7D%2C%22Action%22%3A%22sts%3A"
            "AssumeRole%22%7D%5D%7D",
            "InstanceProfileList": [],
            "RolePolicyList": [],
            "AttachedManagedPolicies": [],
            "RoleLastUsed": {"LastUsedDate": "2024-05-06T07:08:09+00:00", "Region": "eu-west-1"},
            "Tags": [],
        }
    ],
    "Policies": [
        {
            "PolicyName": "AdministratorAccess",
            "Arn": "arn:aws:iam::aws:policy/AdministratorAccess",
            "DefaultVersionId": "v1",
            "AttachmentCount": 1,
            "IsAttachable": True,
            "PolicyVersionList": [
                {
                    "VersionId": "v1",
                    "IsDefaultVersion": True,
                    "Document": {
                        "Version": "2012-10-17",
                        "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
                    },
                }
            ],
        }
    ],
}
HEADER = (
    "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,"
    "password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,"
    "access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,"
    "access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,"
    "access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,"
    "cert_1_last_rotated,cert_2_active,cert_2_last_rotated"
)
ROOT = (
    f"<root_account>,arn:aws:iam::{ACCOUNT}:root,2019-01-01T00:00:00+00:00,not_supported,"
    "2024-01-01T00:00:00+00:00,not_supported,not_supported,false,true,2019-06-01T00:00:00+00:00,"
    "2024-02-02T00:00:00+00:00,us-east-1,s3,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A"
)
DEPLOY = (
    f"deploy,arn:aws:iam::{ACCOUNT}:user/deploy,2020-01-02T03:04:05+00:00,true,"
    "2024-03-03T00:00:00+00:00,2020-01-02T03:04:05+00:00,N/A,false,true,"
    "2020-01-02T03:05:00+00:00,2024-04-04T00:00:00+00:00,eu-west-1,ecr,false,"
    "2021-01-01T00:00:00+00:00,N/A,N/A,N/A,false,N/A,false,N/A"
)
REPORT = "\n".join([HEADER, ROOT, DEPLOY]) + "\n"


def test_directory_with_details_and_report(tmp_path):
    (tmp_path / "details.json").write_text(json.dumps(DETAILS))
    (tmp_path / "report.csv").write_text(REPORT)
    (tmp_path / "notes.txt").write_text("ignored")

    resources = load_path(tmp_path)
    assert_conforms(resources)

    kinds = sorted(r.kind for r in resources)
    assert kinds == [
        "IAMAccessKey",
        "IAMAccessKey",
        "IAMAccount",
        "IAMCredentialReport",
        "IAMPolicy",
        "IAMRole",
        "IAMUser",
    ]
    assert {r.scope for r in resources} == {f"{ACCOUNT}/global"}
    role = next(r for r in resources if r.kind == "IAMRole")
    assert role.attrs["trusted_principals"] == {"AWS": ["arn:aws:iam::999988887777:root"]}
    assert role.attrs["last_used_date"] == "2024-05-06T00:00:00Z"  # a day, see iso_day
    user = next(r for r in resources if r.kind == "IAMUser")
    assert user.attrs["credentials"] == {
        "password_enabled": True,
        "password_last_used": "2024-03-03T00:00:00Z",
        "password_last_changed": "2020-01-02T03:04:05Z",
        "mfa_active": False,
        "access_keys_active": 1,
    }
    keys = sorted((r for r in resources if r.kind == "IAMAccessKey"), key=lambda r: r.attrs["slot"])
    assert keys[0].uid == f"aws://{ACCOUNT}/global/IAMAccessKey/deploy/2020-01-02T03:05:00Z"
    assert keys[0].attrs["last_used_service"] == "ecr"
    assert keys[1].attrs["active"] is False  # an inactive key still exists
    report = next(r for r in resources if r.kind == "IAMCredentialReport")
    assert report.attrs["users"] == 1
    assert report.attrs["generated_at"].endswith("Z")
    # The root row: no MFA, an active key; the password policy is in no dump.
    account = next(r for r in resources if r.kind == "IAMAccount")
    assert account.uid == f"arn:aws:iam::{ACCOUNT}:root"
    assert account.attrs["root_mfa_active"] is False
    assert account.attrs["root_access_keys_present"] is True
    assert account.attrs["root_access_key_last_used"] == "2024-02-02T00:00:00Z"
    assert account.attrs["password_policy_set"] is None


def test_a_single_report_file(tmp_path):
    path = tmp_path / "report.csv"
    path.write_text(REPORT)

    resources = load_path(path)

    assert {r.kind for r in resources} == {"IAMAccessKey", "IAMCredentialReport", "IAMAccount"}


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("details.json", '{"UserDetailList": [', "not valid JSON (line 1"),
        ("details.json", "", "empty file"),
        ("details.json", "[1, 2]", "not the output of `aws iam get-account-authorization-details`"),
        ("details.json", '{"Users": []}', "not the output of"),
        ("details.json", '{"UserDetailList": {"a": 1}}', "UserDetailList is not a list"),
        ("report.csv", HEADER + "\n" + DEPLOY[:60] + "\n", "line 2 has 3 fields, expected 22"),
        ("report.csv", "name,email\nx,y\n", "header does not start with user,arn"),
    ],
)
def test_bad_files_raise_one_line_naming_the_file(tmp_path, name, text, message):
    path = tmp_path / name
    path.write_text(text)

    with pytest.raises(InputError) as caught:
        load_path(path)

    line = str(caught.value)
    assert line.startswith(str(path))
    assert message in line
    assert "\n" not in line


def test_binary_file(tmp_path):
    path = tmp_path / "details.json"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe")

    with pytest.raises(InputError, match="not UTF-8 or UTF-16 text"):
        load_path(path)


def test_missing_and_empty_paths(tmp_path):
    with pytest.raises(InputError, match="no such file or directory"):
        load_path(tmp_path / "nope")
    with pytest.raises(InputError, match=r"no \.json or \.csv file"):
        load_path(tmp_path)


@pytest.mark.parametrize(
    "encode",
    [
        lambda text: b"\xef\xbb\xbf" + text.encode("utf-8"),  # Notepad's UTF-8
        lambda text: text.encode("utf-16"),  # PowerShell 5 `>`: UTF-16 LE with a BOM
        lambda text: text.encode("utf-16-le"),  # the same without its BOM
        lambda text: text.encode("utf-16-be"),
    ],
)
def test_byte_order_marks_and_utf16_load_like_utf8(tmp_path, encode):
    path = tmp_path / "details.json"
    path.write_bytes(encode(json.dumps(DETAILS, indent=2)))

    assert sorted(r.kind for r in load_path(path)) == ["IAMPolicy", "IAMRole", "IAMUser"]


def test_a_present_empty_list_is_read_an_absent_one_is_not(tmp_path):
    sso_only = {
        "UserDetailList": [],
        "GroupDetailList": [],
        "RoleDetailList": DETAILS["RoleDetailList"],
        "Policies": [],
    }
    path = tmp_path / "details.json"
    path.write_text(json.dumps(sso_only))
    dump = load_dump(path)
    assert dump.read == {"IAMUser", "IAMGroup", "IAMRole", "IAMPolicy"}
    assert dump.unknown == {}

    path.write_text(json.dumps({"RoleDetailList": DETAILS["RoleDetailList"]}))  # --filter Role
    dump = load_dump(path)
    assert dump.read == {"IAMRole"}
    assert [r.kind for r in dump.resources] == ["IAMRole"]


@pytest.mark.parametrize(
    ("entry", "field"),
    [
        ({"UserName": "x"}, "Arn is missing"),
        ({"UserName": "x", "Arn": "arn:aws:iam::1:user/x", "GroupList": [3]}, "GroupList"),
        ({"UserName": "x", "Arn": "arn:aws:iam::1:user/x", "CreateDate": float("nan")}, "NaN"),
        ({"UserName": "x", "Arn": "arn:aws:iam::1:user/x", "CreateDate": "soon"}, "not a date"),
        (
            {
                "UserName": "x",
                "Arn": "arn:aws:iam::1:user/x",
                "UserPolicyList": [{"PolicyName": "p", "PolicyDocument": 7}],
            },
            "inline policy p",
        ),
        (None, "not an object"),
    ],
)
def test_a_malformed_entry_is_dropped_and_makes_its_kind_unknown(tmp_path, entry, field):
    good = DETAILS["UserDetailList"][0]
    path = tmp_path / "details.json"
    path.write_text(json.dumps({**DETAILS, "UserDetailList": [good, entry]}))

    dump = load_dump(path)

    assert [r.name for r in dump.resources if r.kind == "IAMUser"] == ["deploy"]
    reason = dump.unknown["IAMUser"]
    assert field in reason and "UserDetailList entry" in reason and "\n" not in reason
    assert "IAMRole" not in dump.unknown
