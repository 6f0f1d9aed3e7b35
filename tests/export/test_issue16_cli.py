"""Issue 16, through the installed ``posture`` script on a real partial collection
(a kubectl dump that lacks some kinds): what a person reads in each export."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest

from tests.integration.test_cli import posture
from tests.kube.estate import fixtures_dir


@pytest.fixture(scope="module")
def partial_db(tmp_path_factory):
    """A cache whose only snapshot is partial: the offline dump lacks some kinds."""
    db = tmp_path_factory.mktemp("issue16") / "cache.db"
    posture(
        "collect", "--from", str(fixtures_dir()), "--allow-partial", "--db", str(db), check=True
    )
    return db


def export(db, fmt, *extra):
    return posture("export", "--db", str(db), "--format", fmt, *extra)


def test_the_partial_collection_error_is_printed_once(partial_db):
    result = export(partial_db, "csv", "--fail-on", "critical")
    assert result.returncode == 1, result.stderr
    unread = json.loads(export(partial_db, "json").stdout)["collector_runs"][0]["unknown"]
    assert unread  # the dump does lack kinds: the run is partial
    for kind, why in unread.items():
        assert result.stderr.count(f" {kind}") == 1, result.stderr  # " Policy", not ClusterPolicy
        reasons = [w for w in unread.values() if w == why]
        assert result.stderr.count(why) == len(reasons), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_snapshot_prints_the_partial_collection_error_once(tmp_path):
    db = tmp_path / "cache.db"
    result = posture("snapshot", "--from", str(fixtures_dir()), "--db", str(db), "--format", "csv")
    assert result.returncode == 3, result.stderr
    assert result.stderr.count("ClusterPolicy") == 1, result.stderr


def _collect(db):
    posture(
        "collect", "--from", str(fixtures_dir()), "--allow-partial", "--db", str(db), check=True
    )


def test_every_format_carries_the_dashboards_posture_score(tmp_path):
    from postureapp.export.validation import document_errors
    from postureapp.store import Store
    from postureapp.store.views import DashboardQueries

    db = tmp_path / "cache.db"
    _collect(db)
    document = json.loads(export(db, "json").stdout)
    critical = next(
        f for f in document["findings"] if f["status"] == "fail" and f["severity"] == "critical"
    )
    posture(
        "waive", critical["fingerprint"], "--reason", "test", "--owner", "me",
        "--expires", "2099-01-01", "--db", str(db), check=True,
    )  # fmt: skip
    with Store(db) as store:
        queries = DashboardQueries(store)
        queries.reload()
        shown = queries.score()  # the number the overview shows
    assert shown.value is not None and shown.waived == 1 and shown.unknown > 0
    document = json.loads(export(db, "json").stdout)
    assert document_errors(document) == []
    assert document["score"] == {
        "value": shown.value,
        "passing": shown.passing,
        "failing": shown.failing,
        "waived": shown.waived,
        "unknown": shown.unknown,
    }
    value = f"{shown.value:.1f}"
    markdown = export(db, "markdown").stdout
    assert f"**Posture score:** {value} / 100 ({shown.failing} failing" in markdown
    html = export(db, "html").stdout
    card = html.split('id="posture-score"', 1)[1].split("</div>", 1)[0]
    assert f"<b>{value}</b>posture score" in card
    rows = list(csv.DictReader(io.StringIO(export(db, "csv").stdout)))
    assert rows and {row["posture_score"] for row in rows} == {value}
    sarif = json.loads(export(db, "sarif").stdout)
    assert sarif["runs"][0]["properties"]["postureScore"]["value"] == shown.value


def _html_rows(html: str) -> list[list]:
    """Every finding row of the report's script data (all views), the remediation
    column (an index into the data's ``fixes``) resolved to its text."""
    data = html.split('id="posture-data">', 1)[1].split("</script>", 1)[0]
    data = json.loads(data)
    rows = [
        [*row[:9], None if row[9] is None else data["fixes"][row[9]]]
        for key, table in data["tables"].items()
        if key.startswith("view-")
        for row in table["rows"]
    ]
    return rows


def _path_finding(document):
    return next(
        f
        for f in document["findings"]
        if f["check_id"].startswith("path-") and f["status"] == "fail" and not f["waived"]
    )


def test_attack_path_findings_show_the_resource_name_and_keep_the_uid(partial_db):
    document = json.loads(export(partial_db, "json").stdout)
    finding = _path_finding(document)
    uid = finding["resource_uid"]  # the JSON keeps the uid, as before
    resource = next(r for r in document["resources"] if r["uid"] == uid)
    label = f"{resource['kind']} {resource['namespace']}/{resource['name']}"
    assert uid.startswith("k8s://") and label.startswith("Deployment ")

    markdown = export(partial_db, "markdown").stdout
    table = markdown.split("### Top open findings", 1)[1].split("###", 1)[0]
    assert f"| {finding['check_id']} | {label} |" in table
    assert "k8s://" not in table and "arn:aws:" not in table

    (row,) = [
        r
        for r in _html_rows(export(partial_db, "html").stdout)
        if r[4] == uid and r[2] == finding["check_id"]
    ]
    assert row[3] == label  # the name, with the uid below it

    rows = list(csv.DictReader(io.StringIO(export(partial_db, "csv").stdout)))
    (row,) = [r for r in rows if r["fingerprint"] == finding["fingerprint"]]
    assert row["resource_uid"] == uid and row["resource_name"] == label

    gate = export(partial_db, "csv", "--fail-on", "info").stderr
    assert re.search(r"worst: \S+ on \w+ \S+ \((k8s://|arn:)", gate), gate  # name, then uid


def test_html_and_markdown_carry_each_failing_findings_remediation(partial_db):
    document = json.loads(export(partial_db, "json").stdout)
    finding = _path_finding(document)
    remediation = finding["remediation"]
    assert "`" in remediation  # this check's fix names fields in code spans

    rows = _html_rows(export(partial_db, "html").stdout)
    by_fingerprint_check = {(r[2], r[4]): r for r in rows}
    row = by_fingerprint_check[(finding["check_id"], finding["resource_uid"])]
    assert row[9] == " ".join(remediation.split())  # the Remediation column
    assert all(r[9] is None for r in rows if r[1] == "pass")  # a pass needs no fix

    markdown = export(partial_db, "markdown").stdout
    fixes = markdown.split("### Remediation", 1)[1].split("###", 1)[0]
    line = next(line for line in fixes.splitlines() if finding["check_id"] in line)
    assert "`resourceNames`" in line and "\\`" not in line  # code spans read as code


def test_csv_rows_name_the_target_each_finding_comes_from(tmp_path):
    """One cache holds a fleet (issue 17): each CSV row carries its resource's scope, the
    kube context or AWS account/region, as the JSON export's resources say."""
    from tests.tui.estate import build_cache

    db = tmp_path / "fleet.db"
    build_cache(db)
    document = json.loads(export(db, "json").stdout)
    scopes = {r["uid"]: r["scope"] for r in document["resources"]}
    rows = list(csv.DictReader(io.StringIO(export(db, "csv").stdout)))
    assert rows
    for row in rows:
        assert row["scope"] == scopes.get(row["resource_uid"], ""), row
    assert len({row["scope"] for row in rows if row["scope"]}) >= 2
