"""``posture collect|snapshot --probe-url``, run as a user runs it, against the local
servers of ``conftest.py``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

POSTURE = [sys.executable, "-m", "postureapp"]


@pytest.fixture
def run(tmp_path):
    """``posture`` in an environment with no kubeconfig, no AWS and no config file."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("AWS_", "KUBE", "POSTURE_"))
    }
    env.update(
        HOME=str(tmp_path),
        XDG_CONFIG_HOME=str(tmp_path / "config"),
        XDG_DATA_HOME=str(tmp_path / "data"),
        KUBECONFIG=str(tmp_path / "no-kubeconfig"),
    )

    def posture(*args, timeout=120):
        return subprocess.run(
            [*POSTURE, *args], capture_output=True, text=True, timeout=timeout, env=env
        )

    return posture


def _findings(run, db):
    result = run("export", "--format", "json", "--db", str(db))
    assert result.returncode == 0, result.stderr
    return {(f["check_id"], f["resource_uid"]): f for f in json.loads(result.stdout)["findings"]}


def test_collect_with_a_probe_url_writes_probe_findings(run, estate, tmp_path):
    db = tmp_path / "cache.db"
    url = estate.url("open_admin")
    result = run("collect", "--probe-url", url, "--probe-allow-private", "--db", str(db))
    assert result.returncode == 0, result.stderr
    assert "failing:" in result.stderr and "critical" in result.stderr
    uid = f"probe://http/127.0.0.1:{estate.ports['open_admin']}"
    findings = _findings(run, db)
    admin = findings[("probe-admin-path-open", uid)]
    assert admin["status"] == "fail" and admin["severity"] == "critical"
    assert admin["evidence"]["published_by"] == ["--probe-url"]


def test_without_allow_private_a_loopback_url_is_skipped_and_reported(run, estate, tmp_path):
    db = tmp_path / "cache.db"
    before = len(estate.site("denied").requests)
    result = run("collect", "--probe-url", estate.url("denied"), "--db", str(db))
    assert result.returncode == 0, result.stderr
    assert "not probed" in result.stderr and "--probe-allow-private" in result.stderr
    assert len(estate.site("denied").requests) == before
    uid = f"probe://http/127.0.0.1:{estate.ports['denied']}"
    statuses = {f["status"] for (_, u), f in _findings(run, db).items() if u == uid}
    assert statuses == {"unknown"}  # never a pass for an endpoint not looked at


def test_snapshot_fails_the_gate_on_an_open_admin_path(run, estate, tmp_path):
    db = tmp_path / "cache.db"
    args = ["snapshot", "--probe-url", estate.url("open_admin"), "--probe-allow-private"]
    result = run(*args, "--fail-on", "critical", "--format", "json", "--db", str(db))
    assert result.returncode == 1, result.stderr
    assert "probe-admin-path-open" in result.stdout
    clean = run(
        "snapshot",
        "--probe-url",
        estate.url("denied"),
        "--probe-allow-private",
        "--fail-on",
        "critical",
        "--format",
        "json",
        "--db",
        str(tmp_path / "clean.db"),
    )
    assert clean.returncode == 0, clean.stderr


def test_snapshot_exits_by_the_budget_when_a_server_trickles(run, estate, tmp_path):
    # The server never finishes its headers; before the fix the process outlived the
    # budget (the executor's worker was joined at interpreter exit) and hit the timeout.
    config = tmp_path / "config.toml"
    config.write_text("[probe]\nbudget_seconds = 2\ntimeout_seconds = 5\n")
    url = estate.url("trickle")
    began = time.monotonic()
    result = run(
        "--config",
        str(config),
        "snapshot",
        "--probe-url",
        url,
        "--probe-allow-private",
        "--format",
        "json",
        "--db",
        str(tmp_path / "cache.db"),
        timeout=30,
    )
    elapsed = time.monotonic() - began
    assert result.returncode == 0, result.stderr
    assert elapsed < 15, f"posture snapshot took {elapsed:.1f}s on a 2s probe budget"
    document = json.loads(result.stdout)
    (probe_run,) = [r for r in document["collector_runs"] if r["collector"] == "probe"]
    assert "1 of 1 endpoints abandoned mid-probe" in probe_run["error"]
    (probed,) = [r for r in document["resources"] if r["kind"] == "EndpointProbe"]
    assert probed["attrs"]["incomplete"].endswith("while probing this endpoint")
    assert probed["attrs"]["skipped"] is None
    statuses = {f["status"] for f in document["findings"] if f["resource_uid"] == probed["uid"]}
    assert statuses == {"unknown"}


@pytest.mark.parametrize(
    "url", ["ftp://example.com/", "https://", "not a url", "http://user:pw@example.com/"]
)
def test_a_malformed_probe_url_is_one_line_and_exit_2(run, tmp_path, url):
    db = tmp_path / "cache.db"
    result = run("collect", "--probe-url", url, "--db", str(db))
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "--probe-url" in result.stderr
    assert "Traceback" not in result.stderr
    assert not db.exists()  # bad input never touches the cache
