"""The fleet matrix (``postureapp.store.fleet``) on a cache written by ``posture merge``:
parts collected per target at their own times, one target failing, one carried as it
was. Every count is checked against the dashboard's own queries scoped to that target
(another implementation: TEMP tables, live waivers applied row by row)."""

from __future__ import annotations

from pathlib import Path

import pytest
from freezegun import freeze_time

from postureapp.fleet.merge import Merger
from postureapp.fleet.parts import publish
from postureapp.model import Waiver
from postureapp.poll import Poller
from postureapp.store import Store
from postureapp.store.fleet import NOT_APPLICABLE, fleet
from postureapp.store.views import DashboardQueries
from postureapp.tui.app import default_config
from tests.tui.estate import ACCOUNT, AWS_TARGETS, KUBE_TARGETS, NOW, Fixture

ROUND_1 = "2026-11-20T06:00:00Z"
ROUND_2 = "2026-11-20T08:45:00Z"
TIMEOUT = "Get https://staging.k8s.example:6443/api: dial tcp 10.4.0.9:6443: i/o timeout"


def _part(fixture: Fixture, folder: Path, parts: Path, target) -> None:
    """What ``posture collect --target X --part DIR`` does: poll one target into its own
    cache, publish it."""
    cache = folder / f"{target.name}-{len(list(folder.glob('*.db')))}.db"
    with Store(cache) as store:
        fixture.engine(store).poll([target])
    publish(cache, str(parts), target.name)


def _merge(db: Path, parts: Path, fixture: Fixture) -> None:
    with Store(db) as store:
        merger = Merger(store, default_config())
        merger.poller = Poller(store, {}, registry=fixture.registry)  # the fixture's catalog
        result = merger.merge([str(parts)])
        assert result.snapshot_id is not None


@pytest.fixture
def merged(tmp_path) -> tuple[Path, Fixture]:
    fixture = Fixture()
    folder, parts, db = tmp_path / "caches", tmp_path / "parts", tmp_path / "fleet.db"
    folder.mkdir()
    with freeze_time(ROUND_1):
        fixture.set_stage(1)
        for target in [*KUBE_TARGETS, *AWS_TARGETS]:
            _part(fixture, folder, parts, target)
        _merge(db, parts, fixture)
    with Store(db) as store:  # a live waiver by glob, and one by fingerprint
        store.add_waiver(
            Waiver(
                check_id="k8s-ingress-no-tls",
                resource_glob="k8s://prod-eu/*",
                reason="internal only",
                owner="platform",
                expires_at="2027-06-01T00:00:00Z",
            )
        )
        stripe = next(
            row
            for row in store.findings(store.latest().id)
            if row["status"] == "fail" and row["resource_uid"].endswith("prod/stripe")
        )
        store.add_waiver(
            Waiver(fingerprint=stripe["fingerprint"], reason="rotating", owner="secops")
        )
    with freeze_time(ROUND_2):  # no new AWS part: carried as it was (younger than 24 h)
        fixture.set_stage(2)
        fixture.kube.fail["staging"] = TIMEOUT
        for target in KUBE_TARGETS:
            _part(fixture, folder, parts, target)
        _merge(db, parts, fixture)
    return db, fixture


def test_fleet_rows_health_and_age_of_a_merged_cache(merged):
    db, fixture = merged
    with Store(db) as store:
        result = fleet(store, store.latest(), fixture.registry.controls.values(), NOW)
    assert [(row.name, row.kind) for row in result.rows] == [
        ("prod-eu", "kubernetes cluster"),
        ("staging", "kubernetes cluster"),
        (ACCOUNT, "aws account"),
    ]
    prod, staging, account = result.rows
    assert (prod.health, prod.last_ok, prod.carried) == ("ok", ROUND_2, "")
    # The failed target says so, and its data is as old as its last good collection.
    assert staging.health == "failed"
    assert staging.last_ok == ROUND_1
    assert any("i/o timeout" in error for error in staging.errors)
    assert staging.unknown and not any(staging.failing.values())
    # Carried by the second merge as it was: still dated by its own collection.
    assert (account.health, account.carried, account.last_ok) == ("ok", "as-is", ROUND_1)
    assert account.collected_at == ROUND_1
    assert prod.failing["identities"]["critical"] >= 1
    assert prod.worst("identities") == "critical"  # cluster-admin bound to a workload


def test_fleet_counts_and_controls_match_the_scoped_dashboard(merged):
    db, fixture = merged
    metas = list(fixture.registry.controls.values())
    with Store(db) as store:
        result = fleet(store, store.latest(), metas, NOW)
        queries = DashboardQueries(store, clock=lambda: NOW)
        waived = 0
        for row in result.rows:
            queries.set_scope(row.name)
            overview = queries.overview()
            assert row.failing == overview.failing, row.name
            assert row.unknown == overview.unknown, row.name
            waived += queries.score().waived
            controls = {c.id: c.status.value for c in queries.controls(metas)}
            for control_id, status in row.controls.items():
                if status == NOT_APPLICABLE:
                    assert controls[control_id] == "unknown", (row.name, control_id)
                else:
                    assert status == controls[control_id], (row.name, control_id)
        assert waived >= 2  # both waivers took findings out of the failing counts
    by_name = {row.name: row for row in result.rows}
    assert by_name["staging"].controls["no-admin-exposure"] == "unknown"
    assert by_name["prod-eu"].controls["mfa"] == NOT_APPLICABLE  # an AWS-only control
    assert by_name[ACCOUNT].controls["segmentation"] == NOT_APPLICABLE


def test_empty_cache_has_no_fleet(tmp_path):
    with Store(tmp_path / "empty.db") as store:
        assert fleet(store, store.latest()).rows == []
