"""IAM against moto's server: one authorization-details pass, the credential report, and
what happens when either is denied."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from freezegun import freeze_time

from postureapp.collectors.aws import AwsCollector
from postureapp.model import RunStatus, isoformat
from tests.integration.aws.conftest import ACCOUNT, by_kind, one
from tests.integration.aws.faults import Fault, session_factory

TRUST_OIDC = {
    "Version": "2012-10-17",
    "Statement": {
        "Effect": "Allow",
        "Principal": {"Federated": f"arn:aws:iam::{ACCOUNT}:oidc-provider/oidc.eks.example/id/X"},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {
            "StringEquals": {"oidc.eks.example/id/X:sub": "system:serviceaccount:shop:api"}
        },
    },
}
TRUST_EC2 = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "ec2.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}
READ_BUCKET = {
    "Version": "2012-10-17",
    "Statement": {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"},
}
IAM_ONLY = {"services": ["iam"]}


def seed_principals(moto, *, admin: bool = True) -> None:
    iam = moto.client("iam")
    iam.create_group(GroupName="devs")
    policy = iam.create_policy(PolicyName="read-bucket", PolicyDocument=json.dumps(READ_BUCKET))
    iam.attach_group_policy(GroupName="devs", PolicyArn=policy["Policy"]["Arn"])
    iam.create_policy(PolicyName="unused", PolicyDocument=json.dumps(READ_BUCKET))
    iam.create_user(UserName="alice", Tags=[{"Key": "team", "Value": "shop"}])
    iam.add_user_to_group(GroupName="devs", UserName="alice")
    iam.put_user_policy(
        UserName="alice", PolicyName="inline", PolicyDocument=json.dumps(READ_BUCKET)
    )
    iam.create_role(RoleName="api", AssumeRolePolicyDocument=json.dumps(TRUST_OIDC))
    iam.create_role(RoleName="admin-box", AssumeRolePolicyDocument=json.dumps(TRUST_EC2))
    if admin:  # needs moto_managed
        iam.attach_role_policy(
            RoleName="admin-box", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess"
        )


def test_principals_and_policies_come_from_one_pass(moto_managed):
    moto = moto_managed
    seed_principals(moto)
    iam = moto.client("iam")
    for n in range(25):  # more principals must not mean more calls
        iam.create_user(UserName=f"user-{n}")
        iam.create_role(RoleName=f"role-{n}", AssumeRolePolicyDocument=json.dumps(TRUST_EC2))
    collector = AwsCollector()

    result = moto.collect(collector=collector, **IAM_ONLY)

    assert result.run.status is RunStatus.OK, result.run.error
    assert result.run.scope == ACCOUNT
    resources = result.resources
    assert {r.scope for r in resources if r.kind != "AWSRegion"} == {f"{ACCOUNT}/global"}
    alice = one(resources, "IAMUser", "alice")
    assert alice.uid == f"arn:aws:iam::{ACCOUNT}:user/alice"
    assert alice.attrs["groups"] == ["devs"]
    assert alice.attrs["tags"] == {"team": "shop"}
    inline = alice.attrs["inline_policies"][0]
    assert inline["name"] == "inline"
    assert inline["document"]["Statement"] == [
        {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": ["arn:aws:s3:::b/*"]}
    ]
    devs = one(resources, "IAMGroup", "devs")
    assert devs.attrs["members"] == ["alice"]
    assert devs.attrs["attached_policies"] == [
        {"name": "read-bucket", "arn": f"arn:aws:iam::{ACCOUNT}:policy/read-bucket"}
    ]

    api = one(resources, "IAMRole", "api")
    trust = api.attrs["trust_policy"]
    assert isinstance(trust["Statement"], list)  # was a single object
    assert trust["Statement"][0]["Action"] == ["sts:AssumeRoleWithWebIdentity"]
    assert trust["Statement"][0]["Condition"] == {
        "StringEquals": {"oidc.eks.example/id/X:sub": ["system:serviceaccount:shop:api"]}
    }
    assert api.attrs["trusted_principals"] == {
        "Federated": [f"arn:aws:iam::{ACCOUNT}:oidc-provider/oidc.eks.example/id/X"]
    }
    assert api.attrs["last_used_date"] is None
    admin = one(resources, "IAMRole", "admin-box")
    assert admin.attrs["attached_policies"] == [
        {"name": "AdministratorAccess", "arn": "arn:aws:iam::aws:policy/AdministratorAccess"}
    ]

    policies = {p.name: p for p in by_kind(resources, "IAMPolicy")}
    # Customer-managed (used or not) and the AWS-managed ones in use; not the other ~1,300.
    assert set(policies) == {"read-bucket", "unused", "AdministratorAccess"}
    administrator = policies["AdministratorAccess"]
    assert administrator.attrs["aws_managed"] is True
    assert administrator.attrs["attachment_count"] == 1
    assert administrator.attrs["document"]["Statement"] == [
        {"Effect": "Allow", "Action": ["*"], "Resource": ["*"]}
    ]
    assert policies["unused"].attrs["attachment_count"] == 0

    assert len(by_kind(resources, "IAMUser")) == 26
    assert len(by_kind(resources, "IAMRole")) == 27
    calls = collector.calls_by_service[moto.target().name]
    # sts, then: authorization details, report generate (x2 at most) + get, summary,
    # password policy, server certificates, OIDC providers (one list; one get per
    # provider, of which there are none here). Independent of the number of principals.
    assert calls["iam"] <= 8, calls
    assert calls["iam"] + calls["sts"] == result.run.api_calls


def test_access_key_age_comes_from_the_credential_report(moto):
    iam = moto.client("iam")
    iam.create_user(UserName="old-keys")
    created = datetime.now(UTC).replace(microsecond=0) - timedelta(days=400)
    with freeze_time(created):
        key = iam.create_access_key(UserName="old-keys")["AccessKey"]
    iam.create_user(UserName="no-keys")
    # freezegun reached the server thread: the server itself recorded the old date.
    listed = iam.list_access_keys(UserName="old-keys")["AccessKeyMetadata"][0]
    assert listed["CreateDate"] == created

    result = moto.collect(**IAM_ONLY)

    assert result.run.status is RunStatus.OK, result.run.error
    keys = by_kind(result.resources, "IAMAccessKey")
    assert len(keys) == 1
    attrs = keys[0].attrs
    assert attrs["source"] == "credential_report"
    assert attrs["created"] == isoformat(created)
    assert attrs["active"] is True
    assert attrs["user_name"] == "old-keys"
    assert attrs["slot"] == 1
    assert attrs["access_key_id"] is None  # the report does not carry it
    assert key["AccessKeyId"] not in json.dumps([r.to_dict() for r in result.resources])
    user = one(result.resources, "IAMUser", "old-keys")
    assert user.attrs["credentials"]["access_keys_active"] == 1
    assert user.attrs["credentials"]["mfa_active"] is False
    assert (
        one(result.resources, "IAMUser", "no-keys").attrs["credentials"]["access_keys_active"] == 0
    )
    report = by_kind(result.resources, "IAMCredentialReport")[0]
    assert report.attrs["source"] == "api"
    assert report.attrs["generated_at"].endswith("Z")
    assert report.attrs["users"] == 2


def test_denied_credential_report_falls_back_to_listing_keys(moto):
    iam = moto.client("iam")
    iam.create_user(UserName="old-keys")
    created = datetime.now(UTC).replace(microsecond=0) - timedelta(days=400)
    with freeze_time(created):
        key = iam.create_access_key(UserName="old-keys")["AccessKey"]
    normal = moto.collect(**IAM_ONLY)
    fault = Fault("iam", "GenerateCredentialReport", status=403, code="AccessDenied")

    result = moto.collect(collector=AwsCollector(session_factory(fault)), **IAM_ONLY)

    assert fault.fired == 1  # AccessDenied is not retried
    assert result.run.status is RunStatus.PARTIAL
    assert set(result.run.unknown) == {"IAMCredentialReport"}
    assert (
        "iam:GenerateCredentialReport denied (AccessDenied)"
        in result.run.unknown["IAMCredentialReport"]
    )
    keys = by_kind(result.resources, "IAMAccessKey")
    assert [k.attrs["source"] for k in keys] == ["list_access_keys"]
    assert keys[0].attrs["access_key_id"] == key["AccessKeyId"]
    assert keys[0].attrs["created"] == isoformat(created)
    # The same key has the same uid whichever way it was read.
    assert keys[0].uid == by_kind(normal.resources, "IAMAccessKey")[0].uid
    assert one(result.resources, "IAMUser", "old-keys").attrs["credentials"] is None
    assert not by_kind(result.resources, "IAMCredentialReport")


def test_denied_authorization_details_leave_the_rest(moto):
    seed_principals(moto, admin=False)
    fault = Fault("iam", "GetAccountAuthorizationDetails", status=403, code="AccessDenied")

    result = moto.collect(collector=AwsCollector(session_factory(fault)), **IAM_ONLY)

    assert result.run.status is RunStatus.PARTIAL
    assert set(result.run.unknown) == {"IAMUser", "IAMGroup", "IAMRole", "IAMPolicy"}
    assert all(
        "iam:GetAccountAuthorizationDetails denied" in why for why in result.run.unknown.values()
    )
    kinds = {r.kind for r in result.resources}
    assert not kinds & {"IAMUser", "IAMGroup", "IAMRole", "IAMPolicy"}
    assert {"IAMCredentialReport", "IAMAccount"} <= kinds


def test_account_settings_and_server_certificates(moto):
    iam = moto.client("iam")
    iam.update_account_password_policy(MinimumPasswordLength=14, RequireSymbols=True)
    iam.upload_server_certificate(
        ServerCertificateName="legacy-tls",
        CertificateBody="-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----",
        PrivateKey="-----BEGIN RSA PRIVATE KEY-----\nnot-a-key\n-----END RSA PRIVATE KEY-----",
    )

    result = moto.collect(**IAM_ONLY)

    account = by_kind(result.resources, "IAMAccount")[0]
    assert account.uid == f"arn:aws:iam::{ACCOUNT}:root"
    assert account.attrs["password_policy_set"] is True
    assert account.attrs["password_policy"]["MinimumPasswordLength"] == 14
    assert account.attrs["root_mfa_active"] is False
    assert account.attrs["root_access_keys_present"] is False
    cert = one(result.resources, "IAMServerCertificate", "legacy-tls")
    assert cert.uid == f"arn:aws:iam::{ACCOUNT}:server-certificate/legacy-tls"
    assert cert.attrs["expiration"].endswith("Z")
    assert "not-a-key" not in json.dumps([r.to_dict() for r in result.resources])


def test_no_password_policy_is_an_answer_not_a_gap(moto):
    result = moto.collect(**IAM_ONLY)

    assert result.run.status is RunStatus.OK
    account = by_kind(result.resources, "IAMAccount")[0]
    assert account.attrs["password_policy_set"] is False
    assert account.attrs["password_policy"] is None


def test_users_newer_than_the_report_get_their_keys_listed(moto):
    iam = moto.client("iam")
    iam.create_user(UserName="early")
    iam.create_access_key(UserName="early")
    iam.create_user(UserName="late")
    late_key = iam.create_access_key(UserName="late")["AccessKey"]["AccessKeyId"]

    def stale_report(parsed=None, **_):
        # AWS serves a report up to four hours old; moto builds it live. Drop "late".
        if parsed and "Content" in parsed:
            lines = parsed["Content"].decode().splitlines(keepends=True)
            parsed["Content"] = "".join(
                line for line in lines if not line.startswith("late,")
            ).encode()

    def factory(profile):
        session = session_factory()(profile)
        session.events.register("after-call.iam.GetCredentialReport", stale_report)
        return session

    result = moto.collect(collector=AwsCollector(factory), **IAM_ONLY)

    assert result.run.status is RunStatus.OK, result.run.error
    keys = {k.attrs["user_name"]: k.attrs for k in by_kind(result.resources, "IAMAccessKey")}
    assert keys["early"]["source"] == "credential_report"
    assert keys["late"]["source"] == "list_access_keys"
    assert keys["late"]["access_key_id"] == late_key
    assert one(result.resources, "IAMUser", "late").attrs["credentials"] is None
