"""An offline dump of an account normalises to exactly what a live poll of it gives."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from freezegun import freeze_time

from postureapp.collectors.aws.offline import load_path
from tests.integration.aws.test_aws_iam import seed_principals

LIVE_KINDS = {"IAMUser", "IAMGroup", "IAMRole", "IAMPolicy", "IAMAccessKey"}


def cli_json(value: Any) -> Any:
    """What `aws ... --output json` prints: ISO timestamps, no ResponseMetadata."""
    if isinstance(value, dict):
        return {k: cli_json(v) for k, v in value.items() if k != "ResponseMetadata"}
    if isinstance(value, list):
        return [cli_json(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def test_offline_dump_matches_live_collection(moto, tmp_path):
    seed_principals(moto, admin=False)
    iam = moto.client("iam")
    with freeze_time(datetime.now(UTC) - timedelta(days=400)):
        iam.create_access_key(UserName="alice")
    live = moto.collect(services=["iam"])

    details = iam.get_account_authorization_details()
    (tmp_path / "authorization-details.json").write_text(json.dumps(cli_json(details), indent=2))
    iam.generate_credential_report()
    report = iam.get_credential_report()["Content"].decode()
    (tmp_path / "credential-report.csv").write_text(report)

    offline = load_path(tmp_path)

    def by_uid(resources):
        return {r.uid: r.to_dict() for r in resources if r.kind in LIVE_KINDS}

    assert by_uid(offline) == by_uid(live.resources)
    assert len(by_uid(offline)) == 7  # 1 user, 1 group, 2 roles, 2 policies, 1 access key
    (summary,) = [r for r in offline if r.kind == "IAMCredentialReport"]
    assert summary.attrs["source"] == "file"
