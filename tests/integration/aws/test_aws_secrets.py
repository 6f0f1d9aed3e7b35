"""Stale secrets and keys against moto's server: Secrets Manager, KMS, ACM."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from freezegun import freeze_time

from postureapp.collectors.aws import AwsCollector
from postureapp.model import RunStatus, isoformat
from tests.integration.aws.conftest import ACCOUNT, by_kind, one
from tests.integration.aws.faults import Recorder, session_factory

SECRET_VALUE = "s3cr3t-value-that-must-never-leave-aws"


def test_secret_rotation_dates_without_reading_values(moto):
    client = moto.client("secretsmanager")
    now = datetime.now(UTC).replace(microsecond=0)
    with freeze_time(now - timedelta(days=300)):
        client.create_secret(Name="db/orders", SecretString=SECRET_VALUE)
    with freeze_time(now - timedelta(days=200)):
        client.rotate_secret(SecretId="db/orders", RotationRules={"AutomaticallyAfterDays": 30})
    client.create_secret(
        Name="api/token",
        SecretString=SECRET_VALUE,
        KmsKeyId="alias/app",
        Tags=[{"Key": "owner", "Value": "payments"}],
    )
    recorder = Recorder()

    result = moto.collect(
        collector=AwsCollector(session_factory(recorder=recorder)), services=["secretsmanager"]
    )

    assert result.run.status is RunStatus.OK, result.run.error
    rotated = one(result.resources, "SecretsManagerSecret", "db/orders")
    assert rotated.uid.startswith(f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:db/orders-")
    assert rotated.attrs["rotation_enabled"] is True
    assert rotated.attrs["last_rotated_date"] == isoformat(now - timedelta(days=200))
    assert rotated.attrs["created_date"] == isoformat(now - timedelta(days=300))
    assert rotated.attrs["rotation_rules"]["automatically_after_days"] == 30
    never = one(result.resources, "SecretsManagerSecret", "api/token")
    assert never.attrs["rotation_enabled"] is False
    assert never.attrs["last_rotated_date"] is None
    assert never.attrs["kms_key_id"] == "alias/app"
    assert never.attrs["tags"] == {"owner": "payments"}
    # Metadata only: no value was asked for, none was stored.
    operations = {operation for service, operation in recorder.calls if service == "secretsmanager"}
    assert operations == {"ListSecrets"}
    assert SECRET_VALUE not in json.dumps([r.to_dict() for r in result.resources])


def test_kms_customer_keys_and_rotation(moto):
    kms = moto.client("kms")
    rotated = kms.create_key(Description="orders data")["KeyMetadata"]["KeyId"]
    kms.enable_key_rotation(KeyId=rotated)
    kms.create_alias(AliasName="alias/orders", TargetKeyId=rotated)
    plain = kms.create_key(Description="no rotation")["KeyMetadata"]["KeyId"]
    signing = kms.create_key(KeyUsage="SIGN_VERIFY", KeySpec="ECC_NIST_P256")["KeyMetadata"]
    pending = kms.create_key(Description="going away")["KeyMetadata"]["KeyId"]
    kms.schedule_key_deletion(KeyId=pending, PendingWindowInDays=7)

    result = moto.collect(services=["kms"])

    assert result.run.status is RunStatus.OK, result.run.error
    keys = {r.attrs["key_id"]: r for r in by_kind(result.resources, "KMSKey")}
    assert set(keys) == {rotated, plain, signing["KeyId"], pending}  # moto's aws/* keys skipped
    assert keys[rotated].name == "alias/orders"
    assert keys[rotated].attrs["aliases"] == ["alias/orders"]
    assert keys[rotated].attrs["rotation_enabled"] is True
    assert keys[plain].attrs["rotation_enabled"] is False
    assert keys[signing["KeyId"]].attrs["rotation_supported"] is False
    assert keys[signing["KeyId"]].attrs["rotation_enabled"] is None
    assert keys[pending].attrs["key_state"] == "PendingDeletion"
    assert keys[pending].attrs["rotation_enabled"] is None
    assert keys[pending].attrs["deletion_date"]


def test_acm_certificates_expiry_and_use(moto):
    acm = moto.client("acm")
    arn = acm.request_certificate(
        DomainName="shop.example.com", SubjectAlternativeNames=["www.shop.example.com"]
    )["CertificateArn"]

    result = moto.collect(services=["acm"])

    assert result.run.status is RunStatus.OK, result.run.error
    cert = one(result.resources, "ACMCertificate", "shop.example.com")
    assert cert.uid == arn
    assert cert.attrs["not_after"].endswith("Z")
    assert cert.attrs["in_use_by"] == []
    assert cert.attrs["in_use"] is False
    assert "www.shop.example.com" in cert.attrs["subject_alternative_names"]
