"""``posture collect --from`` on IAM dumps people really have, through the installed
script: a PowerShell (UTF-16) SSO-only dump with its credential report, and a
``--filter Role`` export."""

from __future__ import annotations

import json

from tests.integration.test_cli import posture
from tests.regression.aws.cases import allow, report_csv, role, sso_only

ACCOUNT_ROOT = "arn:aws:iam::123456789012:root"


def _findings(db) -> dict[tuple[str, str], dict]:
    document = json.loads(posture("export", "--db", str(db), check=True).stdout)
    return {(f["check_id"], f["resource_uid"]): f for f in document["findings"]}, document


def test_a_utf16_sso_only_dump_is_judged_not_unknown(tmp_path):
    details, _ = sso_only("cli", "cli")
    dumps = tmp_path / "dumps"
    dumps.mkdir()
    (dumps / "details.json").write_bytes(json.dumps(details).encode("utf-16"))
    (dumps / "report.csv").write_text(report_csv(mfa=False, key=True))
    db = tmp_path / "cache.db"

    result = posture("collect", "--from", str(dumps), "--allow-partial", "--db", str(db))

    assert result.returncode == 0, result.stderr
    findings, document = _findings(db)
    admin = "arn:aws:iam::123456789012:role/cli-admin"
    assert findings[("aws-iam-admin-policy", admin)]["status"] == "fail"
    assert findings[("aws-iam-privilege-escalation", admin)]["status"] == "fail"
    assert findings[("aws-iam-root-mfa", ACCOUNT_ROOT)]["status"] == "fail"
    assert findings[("aws-iam-root-access-keys", ACCOUNT_ROOT)]["status"] == "fail"
    [run] = document["collector_runs"]
    assert {"IAMUser", "IAMGroup", "IAMRole", "IAMPolicy"} <= set(run["kinds"])
    assert run["kinds"]["IAMUser"] == "read"  # an empty list is an answer
    assert "CloudTrailTrail" in run["unknown"]  # what the dump does not hold is not


def test_a_roles_only_export_judges_roles_and_says_on_what(tmp_path):
    dumps = tmp_path / "dumps"
    dumps.mkdir()
    export = {"RoleDetailList": [role("ci-admin", allow("*")), role("reader", allow("s3:Get*"))]}
    (dumps / "roles.json").write_text(json.dumps(export))
    db = tmp_path / "cache.db"

    result = posture("collect", "--from", str(dumps), "--allow-partial", "--db", str(db))

    assert result.returncode == 0, result.stderr
    findings, document = _findings(db)
    admin = findings[("aws-iam-privilege-escalation", "arn:aws:iam::123456789012:role/ci-admin")]
    assert admin["status"] == "fail"
    assert "customer-managed" in admin["evidence"]["export"]
    reader = findings[("aws-iam-privilege-escalation", "arn:aws:iam::123456789012:role/reader")]
    assert reader["status"] == "pass"
    [run] = document["collector_runs"]
    assert run["kinds"].get("IAMRole") == "read" and "IAMUser" in run["unknown"]
