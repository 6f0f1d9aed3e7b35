"""Issue 16, through the installed ``posture`` script on a real partial collection
(a kubectl dump that lacks some kinds): what a person reads in each export."""

from __future__ import annotations

import json

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
