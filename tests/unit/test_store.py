import os
import stat

import pytest

from postureapp.errors import InputError
from postureapp.model import (
    Attestation,
    Finding,
    Resource,
    Severity,
    SnapshotStatus,
    Status,
    View,
    Waiver,
)


def _resource(name, **attrs):
    return Resource(f"k8s://c/shop/Pod/{name}", "kubernetes", "c", "Pod", name, "shop", attrs)


def _finding(name, status=Status.FAIL, severity=Severity.HIGH, detail="d"):
    return Finding(
        "chk-a", f"k8s://c/shop/Pod/{name}", status, severity, View.IDENTITIES, "Title", detail
    )


def _write(store, resources, findings, waiver_ids=None, status=SnapshotStatus.COMPLETE):
    return store.write_snapshot(
        started_at="2026-11-01T00:00:00Z",
        finished_at="2026-11-01T00:00:01Z",
        status=status,
        runs=[],
        resources=resources,
        findings=findings,
        waiver_ids=waiver_ids or {},
    ).snapshot_id


def test_cache_is_private(tmp_path, store):
    folder = store.path.parent
    assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700
    _write(store, [_resource("a")], [])
    for name in os.listdir(folder):
        assert stat.S_IMODE(os.stat(folder / name).st_mode) == 0o600, name


def test_snapshots_read_back_whole_across_versions(store):
    first = _write(store, [_resource("a", v=1), _resource("b", v=1)], [_finding("a")])
    second = _write(store, [_resource("a", v=2), _resource("c", v=1)], [_finding("c")])
    assert [(r["name"], r["attrs"]["v"]) for r in store.resources(first)] == [("a", 1), ("b", 1)]
    assert [(r["name"], r["attrs"]["v"]) for r in store.resources(second)] == [("a", 2), ("c", 1)]
    assert [f["resource_uid"] for f in store.findings(first)] == ["k8s://c/shop/Pod/a"]
    # first_seen survives a change of content
    [a_then] = [r for r in store.resources(first) if r["name"] == "a"]
    [a_now] = [r for r in store.resources(second) if r["name"] == "a"]
    assert a_then["first_seen"] == a_now["first_seen"]


def test_unchanged_poll_writes_no_versions(store):
    _write(store, [_resource("a")], [_finding("a")])
    stats = store.write_snapshot(
        started_at="x",
        finished_at="y",
        status=SnapshotStatus.COMPLETE,
        runs=[],
        resources=[_resource("a")],
        findings=[_finding("a")],
    )
    assert (
        stats.resources_added,
        stats.resources_changed,
        stats.findings_added,
        stats.findings_changed,
    ) == (0, 0, 0, 0)
    assert store.db.execute("select count(*) from resources").fetchone()[0] == 1


def test_diff_opened_resolved_changed(store):
    one = _write(
        store, [], [_finding("a"), _finding("b"), _finding("c"), _finding("d", Status.PASS)]
    )
    two = _write(
        store,
        [],
        [
            _finding("a", severity=Severity.CRITICAL),  # changed severity
            _finding("b", Status.PASS),  # resolved
            _finding("c", Status.UNKNOWN),  # lost sight: changed, never resolved
            _finding("d"),  # opened (pass -> fail)
            _finding("e"),  # opened (new)
        ],
    )
    diff = store.diff(one, two)
    assert sorted(r["resource_uid"][-1] for r in diff.opened) == ["d", "e"]
    assert [r["resource_uid"][-1] for r in diff.resolved] == ["b"]
    changed = {r["resource_uid"][-1]: r["fields"] for r in diff.changed}
    assert changed == {"a": ["severity"], "c": ["status"]}


def test_diff_shows_a_waiver_added_between_polls(store):
    one = _write(store, [], [_finding("a"), _finding("b")])
    waiver = store.add_waiver(
        Waiver(reason="accepted", owner="alice", fingerprint=_finding("a").fingerprint)
    )
    matcher = store.waiver_matcher()
    waived = {
        f.fingerprint: matcher(f.fingerprint, f.check_id, f.resource_uid).id
        for f in [_finding("a")]
    }
    assert waived == {_finding("a").fingerprint: waiver.id}
    two = _write(store, [], [_finding("a"), _finding("b")], waiver_ids=waived)
    diff = store.diff(one, two)
    assert diff.opened == [] and diff.resolved == []
    [row] = diff.changed
    assert row["fields"] == ["waived"] and row["waived"] is True


def test_diff_of_gone_finding_is_resolved_and_unknown_snapshot_is_an_error(store):
    one = _write(store, [], [_finding("a")])
    two = _write(store, [], [])
    assert [r["status"] for r in store.diff(one, two).resolved] == ["absent"]
    with pytest.raises(LookupError):
        store.diff(one, 99)


def test_diff_of_a_finding_whose_provider_was_not_polled_is_unpolled_not_resolved(store):
    from postureapp.model import CollectorRun, RunStatus

    def poll(runs, findings):
        return store.write_snapshot(
            started_at="2026-11-01T00:00:00Z",
            finished_at="2026-11-01T00:00:01Z",
            status=SnapshotStatus.COMPLETE,
            runs=runs,
            resources=[],
            findings=findings,
            waiver_ids={},
            catalog=[
                {**catalog_row, "id": "chk-a", "provider": "kubernetes"},
                {**catalog_row, "id": "probe-x", "provider": "probe"},
            ],
        ).snapshot_id

    catalog_row = {
        "title": "t", "view": "endpoints", "severity": "high", "remediation": "r",
        "frameworks": {}, "references": [], "description": "",
    }  # fmt: skip
    kube = CollectorRun("kubernetes", "c", RunStatus.OK, provider="kubernetes")
    probe = CollectorRun("probe", "probe", RunStatus.OK, provider="probe")
    probed = Finding(
        "probe-x", "probe://http/10.0.0.1:80", Status.FAIL, Severity.HIGH, View.ENDPOINTS, "T"
    )
    one = poll([kube, probe], [_finding("a"), _finding("b"), probed])
    two = poll([kube], [_finding("a")])  # probes off; b fixed
    diff = store.diff(one, two)
    assert [(r["check_id"], r["status"]) for r in diff.resolved] == [("chk-a", "absent")]
    assert [(r["check_id"], r["status"]) for r in diff.changed] == [("probe-x", "unpolled")]
    three = poll([kube, probe], [_finding("a")])  # probed again, and now it passes
    assert [r["check_id"] for r in store.diff(two, three).resolved] == []
    assert [r["check_id"] for r in store.diff(one, three).resolved] == ["chk-a", "probe-x"]


def test_retention_keeps_the_newest_and_they_stay_whole(store):
    ids = [_write(store, [_resource("a", v=i)], [_finding("a", detail=str(i))]) for i in range(5)]
    assert store.prune(2) == 3
    assert [s.id for s in store.snapshots()] == ids[-1:-3:-1]
    assert [r["attrs"]["v"] for r in store.resources(ids[-2])] == [3]
    # versions only older snapshots could see are gone
    assert store.db.execute("select count(*) from resources").fetchone()[0] == 2


def test_glob_waiver_and_expiry(store):
    store.add_waiver(
        Waiver(reason="r", owner="o", check_id="chk-a", resource_glob="k8s://c/shop/*")
    )
    store.add_waiver(
        Waiver(reason="r", owner="o", fingerprint="f" * 32, expires_at="2020-01-01T00:00:00Z")
    )
    match = store.waiver_matcher()
    assert match("zz", "chk-a", "k8s://c/shop/Pod/x") is not None
    assert match("zz", "chk-a", "k8s://c/other/Pod/x") is None
    assert match("zz", "chk-b", "k8s://c/shop/Pod/x") is None
    assert match("f" * 32, "chk-z", "anything") is None  # expired: no longer applies
    assert [w.is_expired() for w in store.waivers()] == [False, True]


def test_waivers_round_trip_through_toml(store, tmp_path):
    store.add_waiver(
        Waiver(
            reason='legacy "quoted"',
            owner="alice",
            fingerprint="a" * 32,
            ticket="SEC-1",
            expires_at="2030-01-01T00:00:00Z",
        )
    )
    store.add_waiver(
        Waiver(
            reason="public by design",
            owner="platform",
            check_id="chk-a",
            resource_glob="k8s://*/ingress/*",
        )
    )
    path = tmp_path / "waivers.toml"
    store.export_waivers(path)
    before = [
        (w.fingerprint, w.check_id, w.resource_glob, w.reason, w.owner, w.ticket, w.expires_at)
        for w in store.waivers()
    ]
    assert store.import_waivers(path) == 0  # same entries are not duplicated
    assert store.import_waivers(path, replace=True) == 2
    after = [
        (w.fingerprint, w.check_id, w.resource_glob, w.reason, w.owner, w.ticket, w.expires_at)
        for w in store.waivers()
    ]
    assert after == before


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[[waiver]]\nreason = 'r'\nowner = 'o'\n", "fingerprint, or a check id"),
        ("[[waiver]]\nfingerprint = 'x'\nowner = 'o'\n", "needs a reason"),
        (
            "[[waiver]]\nfingerprint = 'x'\nreason = 'r'\nowner = 'o'\nexpires_at = 'soon'\n",
            "not a date",
        ),
        ("[[waiver]]\nfingerprint = 'x'\nreason = 'r'\nowner = 'o'\ncolour = 1\n", "unknown key"),
        ("[[waiver\n", "not valid TOML"),
    ],
)
def test_bad_waiver_file_changes_nothing(store, tmp_path, text, message):
    store.add_waiver(Waiver(reason="keep", owner="o", fingerprint="k" * 32))
    path = tmp_path / "w.toml"
    path.write_text("[[waiver]]\nfingerprint = 'ok'\nreason = 'r'\nowner = 'o'\n" + text)
    with pytest.raises(InputError, match=message):
        store.import_waivers(path, replace=True)
    assert [w.reason for w in store.waivers()] == ["keep"]


def test_notes_and_attestations(store):
    store.add_note("fp1", "bob", "paged owner")
    assert [n["text"] for n in store.notes("fp1")] == ["paged owner"]
    store.add_attestation(
        Attestation("backup-restore", "alice", "2026-10-01T00:00:00Z", "2026-10-02T00:00:00Z")
    )
    store.add_attestation(Attestation("backup-restore", "carol", "2026-11-01T00:00:00Z"))
    assert store.attestations()["backup-restore"].by == "carol"
    with pytest.raises(InputError):
        store.add_note("fp1", "bob", "  ")


# -- what the gate lets in -----------------------------------------------------------------


def _state(app_id=0, version=0, tables=(), rows=(), objects=None):
    from postureapp.store.database import CacheState

    return CacheState(
        application_id=app_id,
        user_version=version,
        objects=len(tables) if objects is None else objects,
        tables=frozenset(tables),
        migration_rows=tuple(("postureapp", name) for name in rows),
    )


def _kinds():
    from postureapp.store.database import MIGRATIONS_TABLE
    from postureapp.store.schema import APPLICATION_ID, SCHEMA_VERSION, migrations, tables_after

    # "both": every migration so far (the name predates the third one).
    both = tuple(migration.name for migration in migrations._migrations)
    ours, first, every = APPLICATION_ID, tables_after(1), tables_after(len(both))
    full = (*every, MIGRATIONS_TABLE)
    return [
        ("empty file", _state(), "empty"),
        ("stub of the first release", _state(tables=[MIGRATIONS_TABLE]), "stub"),
        ("first release", _state(0, 1, (*first, MIGRATIONS_TABLE), ["0001_initial"]), "outdated"),
        ("first release, version not bumped", _state(0, 0, (*first, MIGRATIONS_TABLE),
                                                     ["0001_initial"]), "outdated"),
        ("unstamped, every migration", _state(0, SCHEMA_VERSION, full, both), "outdated"),
        ("current", _state(ours, SCHEMA_VERSION, full, both), "current"),
        ("ours, a migration pending", _state(ours, 1, (*first, MIGRATIONS_TABLE),
                                             ["0001_initial"]), "outdated"),
        ("newer version", _state(ours, SCHEMA_VERSION + 1, full, both), "newer"),
        ("unknown migration", _state(ours, SCHEMA_VERSION, full, (*both, "0099_x")), "newer"),
        ("ours, tables gone", _state(ours, SCHEMA_VERSION, [MIGRATIONS_TABLE], both), "damaged"),
        ("another app", _state(0, 0, ["items"]), "foreign"),
        ("another app's id", _state(1234, 0, ()), "foreign"),
        ("a snapshots table", _state(0, 0, ["snapshots"]), "foreign"),
        ("our tables plus one", _state(0, 1, (*first, MIGRATIONS_TABLE, "extra"),
                                       ["0001_initial"]), "foreign"),
        ("unstamped, claims a newer schema", _state(0, 9, full, both), "foreign"),
        ("a view only", _state(0, 0, (), objects=1), "foreign"),
        ("migrations table and a view", _state(0, 0, [MIGRATIONS_TABLE], objects=3), "foreign"),
    ]  # fmt: skip


@pytest.mark.parametrize(("name", "state", "kind"), _kinds(), ids=[k[0] for k in _kinds()])
def test_the_gate_classifies_files(name, state, kind):
    assert state.kind().value == kind, name


def test_tables_after_follows_the_migrations():
    from sqlite_utils import Database

    from postureapp.store.schema import migrations, tables_after

    db = Database(memory=True)
    for count, migration in enumerate(migrations._migrations, start=1):
        migration.fn(db)
        assert tables_after(count) == set(db.table_names())
    db.close()
