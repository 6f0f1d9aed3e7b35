"""The ``posture`` console script, run as a user runs it."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from postureapp.model import Target
from postureapp.poll import Poller
from postureapp.store import Store
from tests.conftest import ScriptedCollector, privileged_pod_registry

# The installed console script, as users run it (beside the interpreter of the venv).
POSTURE = [str(Path(sys.executable).with_name("posture"))]


def posture(*args, env=None, check=False):
    result = subprocess.run(
        [*POSTURE, *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
    )
    if check and result.returncode != 0:
        raise AssertionError(f"posture {args} -> {result.returncode}: {result.stderr}")
    return result


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def populated(tmp_path) -> Path:
    """A cache with two snapshots: one pod got fixed, one went bad."""
    path = tmp_path / "cache.db"
    collector = ScriptedCollector()
    with Store(path) as store:
        engine = Poller(store, {"kubernetes": collector}, registry=privileged_pod_registry())
        collector.pods = {"prod": ["web", "debug", "api"]}
        collector.bad = {"debug"}
        engine.poll([Target("kubernetes", "prod")])
        collector.bad = {"api"}
        engine.poll([Target("kubernetes", "prod")])
    return path


def test_export_json_contract(populated):
    result = posture("export", "--format", "json", "--db", str(populated), check=True)
    document = json.loads(result.stdout)
    assert document["schema"] == "postureapp/snapshot/v1"
    assert document["snapshot"]["id"] == 2
    assert document["snapshot"]["status"] == "complete"
    failing = {f["resource_uid"] for f in document["findings"] if f["status"] == "fail"}
    assert failing == {"k8s://prod/shop/Pod/api"}
    finding = document["findings"][0]
    assert {"fingerprint", "waived", "remediation", "severity", "check_id"} <= set(finding)


def test_export_older_snapshot_to_a_file(populated, tmp_path):
    out = tmp_path / "one.json"
    posture("--db", str(populated), "export", "--snapshot", "1", "-o", str(out), check=True)
    document = json.loads(out.read_text())
    assert {f["resource_uid"] for f in document["findings"] if f["status"] == "fail"} == {
        "k8s://prod/shop/Pod/debug"
    }


def test_diff_text_and_json(populated):
    text = posture("diff", "--db", str(populated), check=True).stdout
    assert "opened: 1" in text and "resolved: 1" in text
    data = json.loads(
        posture("diff", "1", "2", "--format", "json", "--db", str(populated), check=True).stdout
    )
    assert [row["resource_uid"] for row in data["opened"]] == ["k8s://prod/shop/Pod/api"]
    assert [row["resource_uid"] for row in data["resolved"]] == ["k8s://prod/shop/Pod/debug"]


def test_waive_then_export_marks_the_finding_waived(populated, tmp_path):
    document = json.loads(posture("export", "--db", str(populated), check=True).stdout)
    [failing] = [f for f in document["findings"] if f["status"] == "fail"]
    posture(
        "waive",
        failing["fingerprint"],
        "--reason",
        "lab",
        "--owner",
        "ops",
        "--expires",
        "2099-01-01",
        "--db",
        str(populated),
        check=True,
    )
    document = json.loads(posture("export", "--db", str(populated), check=True).stdout)
    [again] = [f for f in document["findings"] if f["fingerprint"] == failing["fingerprint"]]
    assert again["waived"] is True and again["waiver"]["owner"] == "ops"
    exported = tmp_path / "w.toml"
    posture("waivers", "export", "-o", str(exported), "--db", str(populated), check=True)
    assert failing["fingerprint"] in exported.read_text()
    listing = posture("waivers", "list", "--db", str(populated), check=True).stdout
    assert "owner=ops" in listing


def _assert_one_line_error(result, fragment):
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("posture: error:") and fragment in lines[0]
    assert "Traceback" not in result.stderr


def test_corrupt_cache_is_refused_and_untouched(populated):
    data = bytearray(populated.read_bytes())
    data[4096:8192] = b"\xde\xad\xbe\xef" * 1024  # smash page 2
    populated.write_bytes(bytes(data))
    for name in ("cache.db-wal", "cache.db-shm"):
        (populated.parent / name).unlink(missing_ok=True)
    before = _digest(populated)
    _assert_one_line_error(posture("export", "--db", str(populated)), "corrupt")
    _assert_one_line_error(
        posture("waive", "x" * 32, "--reason", "r", "--owner", "o", "--db", str(populated)),
        "corrupt",
    )
    assert _digest(populated) == before


def test_non_sqlite_file_is_refused_and_untouched(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("my precious notes\n")
    before = _digest(path)
    _assert_one_line_error(posture("diff", "--db", str(path)), "not a SQLite database")
    _assert_one_line_error(
        posture("waive", "x", "--reason", "r", "--owner", "o", "--db", str(path)),
        "not a SQLite database",
    )
    assert _digest(path) == before


def test_cache_from_a_newer_version_is_refused_and_untouched(populated):
    conn = sqlite3.connect(populated)
    conn.execute("PRAGMA user_version = 99")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    before = _digest(populated)
    _assert_one_line_error(posture("export", "--db", str(populated)), "newer postureapp")
    assert _digest(populated) == before


def test_other_sqlite_database_is_refused(tmp_path):
    path = tmp_path / "app.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE users (id INTEGER)")
    conn.commit()
    conn.close()
    before = _digest(path)
    _assert_one_line_error(posture("export", "--db", str(path)), "not a postureapp cache")
    assert _digest(path) == before


def test_unwritable_path(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    _assert_one_line_error(
        posture(
            "waive",
            "--check",
            "k8s-pod-privileged",
            "--reason",
            "r",
            "--owner",
            "o",
            "--db",
            str(blocker / "c.db"),
        ),
        "cannot create cache",
    )


def test_invalid_config_value(tmp_path, populated):
    config = tmp_path / "config.toml"
    config.write_text("[thresholds]\nsecret_rotation_days = -4\n")
    before = _digest(populated)
    _assert_one_line_error(posture("config", "--config", str(config)), "at least 1")
    _assert_one_line_error(
        posture(
            "collect", "--from", str(tmp_path), "--config", str(config), "--db", str(populated)
        ),
        "secret_rotation_days",
    )
    assert _digest(populated) == before


def test_config_shows_sources(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text("[poll]\ninterval_seconds = 60\n")
    result = posture(
        "config",
        "--format",
        "json",
        "--config",
        str(config),
        env={"POSTURE_RETENTION": "7"},
        check=True,
    )
    rows = {row["key"]: row for row in json.loads(result.stdout)["settings"]}
    assert rows["poll.interval_seconds"]["source"] == str(config)
    assert rows["retention.snapshots"] == {
        **rows["retention.snapshots"],
        "value": 7,
        "source": "env POSTURE_RETENTION",
    }
    assert rows["thresholds.cert_warning_days"]["source"] == "default"


def test_usage_errors_exit_2(populated):
    assert posture("export", "--format", "yaml", "--db", str(populated)).returncode == 2
    _assert_one_line_error(posture("diff", "1", "9", "--db", str(populated)), "no snapshot 9")
    _assert_one_line_error(posture("diff", "--since", "soon", "--db", str(populated)), "--since")
    _assert_one_line_error(
        posture(
            "waive", "--resource", "x", "--reason", "r", "--owner", "o", "--db", str(populated)
        ),
        "--resource goes with --check",
    )


def test_missing_cache_is_not_created_by_readers(tmp_path):
    path = tmp_path / "nowhere" / "cache.db"
    _assert_one_line_error(posture("export", "--db", str(path)), "no cache")
    assert not path.exists() and not path.parent.exists()


def test_posture_db_environment_variable(populated):
    result = posture("diff", env={"POSTURE_DB": str(populated)}, check=True)
    assert "snapshot 1 -> 2" in result.stdout


def test_waiver_text_cannot_drive_the_terminal(tmp_path):
    db = str(tmp_path / "c.db")
    posture(
        *("waive", "--check", "k8s-pod-privileged", "--reason", "evil \x1b[31mred"),
        *("--owner", "o", "--db", db),
        check=True,
    )
    listing = posture("waivers", "list", "--db", db, check=True).stdout
    assert "\x1b" not in listing and "evil \\x1b[31mred" in listing
