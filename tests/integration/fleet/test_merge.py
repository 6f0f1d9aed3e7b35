"""Parts collected by separate processes at once (kube contexts and shards of an
organisation), published to a folder or to S3 (moto's, over HTTP), and folded by
``posture merge`` into one cache: once, idempotently, with history per target."""

from __future__ import annotations

import re
import sqlite3
import subprocess
from pathlib import Path

import pytest

from postureapp.store import Store
from tests.integration.fleet.conftest import BIN, environment, posture
from tests.integration.fleet.estate import MANAGEMENT, reset, seed_organization
from tests.kube import KubeAPIServer, generate_cluster, write_kubeconfig

# One xdist worker runs the fleet modules: the session's moto server
# is built once, not once per worker.
pytestmark = pytest.mark.xdist_group("fleet")


CONTEXTS = ("eu-prod", "us-prod")
PRIVILEGED = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"name": "debug", "namespace": "team-000", "uid": "debug-uid"},
    "spec": {
        "serviceAccountName": "default",
        "containers": [{"name": "sh", "image": "busybox", "securityContext": {"privileged": True}}],
    },
}


@pytest.fixture(scope="module")
def org(moto_server):
    reset(moto_server)
    return seed_organization(moto_server, members=5, suspended=0)


@pytest.fixture
def fleet(org, tmp_path):
    servers = []
    for index, _ in enumerate(CONTEXTS):
        objects = generate_cluster(
            namespaces=3,
            pods=20,
            service_accounts=5,
            bindings=5,
            secrets=5,
            services=4,
            seed=index,
        )
        servers.append(KubeAPIServer(objects, token=f"t{index}").start())
    kubeconfig = write_kubeconfig(
        tmp_path / "kubeconfig",
        {name: (s.url, s.token) for name, s in zip(CONTEXTS, servers, strict=True)},
        CONTEXTS[0],
    )
    env = environment(
        tmp_path / "home", KUBECONFIG=str(kubeconfig), AWS_ENDPOINT_URL_S3=org.endpoint
    )
    yield servers, env
    for server in servers:
        server.stop()


def _collect_args(org, part: str, which: str) -> list[str]:
    if which in CONTEXTS:
        return ["collect", "--all-contexts", "--target", which, "--part", part]
    aws = ["--organization", "--region", "us-east-1", "--endpoint-url", org.endpoint]
    return ["collect", *aws, "--shard", which, "--part", part]


def _collect_at_once(org, env, part: str, which: list[str]) -> None:
    """Every part collected by its own process, all started together."""
    processes = [
        subprocess.Popen(
            [str(BIN / "posture"), *_collect_args(org, part, name)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in which
    ]
    for name, process in zip(which, processes, strict=True):
        _, err = process.communicate(timeout=600)
        assert process.returncode in (0, 3), (name, err[-2000:])
        assert "part published: " in err and "Traceback" not in err, err[-2000:]


def _snapshots(db: Path) -> list[int]:
    with Store(db, readonly=True) as store:
        return [s.id for s in store.snapshots()]


def _targets(db: Path, snapshot_id: int) -> dict[tuple[str, str], dict]:
    from postureapp.store.merge import merged_targets

    with Store(db, readonly=True) as store:
        return merged_targets(store.db, snapshot_id)


def test_parts_written_at_once_merge_into_one_snapshot(org, fleet, tmp_path):
    _, env = fleet
    parts, db = tmp_path / "parts", tmp_path / "fleet.db"
    _collect_at_once(org, env, str(parts), [*CONTEXTS, "0/2", "1/2"])
    names = sorted(p.name for p in parts.iterdir())
    assert names == ["eu-prod", "shard-0-of-2", "shard-1-of-2", "us-prod"]
    for folder in parts.iterdir():
        (part,) = folder.iterdir()
        assert part.stat().st_mode & 0o777 == 0o600
        assert sqlite3.connect(part).execute("PRAGMA application_id").fetchone()[0] != 0

    ran = posture(["merge", str(parts), "--db", str(db)], env)
    assert ran.code in (0, 3), ran.stderr
    accounts = {MANAGEMENT, *org.accounts.values()}
    # moto draws account ids at random, so a shard (id modulo 2) may own no account: its
    # part holds only the organisation's run, which the other shard's part supersedes
    # when it is the newer one.
    empty_shards = sum(not any(int(a) % 2 == shard for a in accounts) for shard in (0, 1))
    said = re.search(r"snapshot 1 .*merged (\d) part\(s\) \((\d) superseded", ran.stderr)
    assert said, ran.stderr
    merged, superseded = int(said[1]), int(said[2])
    assert merged + superseded == 4 and superseded <= empty_shards, ran.stderr
    targets = _targets(db, 1)
    assert {t for c, t in targets if c == "aws"} == accounts
    assert {t for c, t in targets if c == "kubernetes"} == set(CONTEXTS)
    assert ("aws-organizations", "default") in targets
    assert all(row["carried"] == "" for row in targets.values())
    with Store(db, readonly=True) as store:
        resources = list(store.resources(1))
        findings = list(store.findings(1))
    listed = [r for r in resources if r["kind"] == "AWSAccount"]
    assert {r["attrs"]["account_id"] for r in listed} == accounts
    assert {r["scope"] for r in resources if r["kind"] == "Pod"} == set(CONTEXTS)
    # Judged as one estate: the management account's trust into every member is seen.
    assert {f["check_id"] for f in findings} >= {"aws-iam-role-external-trust"}

    # The same parts again: nothing written, and it says so.
    before = db.stat().st_size, _snapshots(db)
    again = posture(["merge", str(parts), "--db", str(db)], env)
    assert again.code == 0, again.stderr
    assert "nothing new to merge: 4 part(s) already merged" in again.stderr
    assert _snapshots(db) == before[1] == [1]


def test_two_merges_at_once_write_one_snapshot(org, fleet, tmp_path):
    _, env = fleet
    parts, db = tmp_path / "parts", tmp_path / "fleet.db"
    _collect_at_once(org, env, str(parts), list(CONTEXTS))
    merges = [
        subprocess.Popen(
            [str(BIN / "posture"), "merge", str(parts), "--db", str(db)],
            env=env,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    outputs = [m.communicate(timeout=600)[1] for m in merges]
    assert all(m.returncode in (0, 3) for m in merges), outputs
    assert sum("merged 2 part(s)" in out for out in outputs) == 1, outputs
    assert sum("nothing new to merge" in out for out in outputs) == 2, outputs
    assert _snapshots(db) == [1]


def test_targets_without_a_new_part_are_carried_then_stale(org, fleet, tmp_path):
    servers, env = fleet
    parts, db = tmp_path / "parts", tmp_path / "fleet.db"
    _collect_at_once(org, env, str(parts), list(CONTEXTS))
    # The us-prod part was collected two days ago (its CronJob stopped since).
    (old,) = (parts / "us-prod").iterdir()
    with sqlite3.connect(old) as conn:
        conn.execute("UPDATE snapshots SET started_at = '2000-01-01T00:00:00Z'")
    conn.close()
    assert posture(["merge", str(parts), "--db", str(db)], env).code in (0, 3)

    # A new part for eu-prod only, with a privileged pod added: us-prod is carried.
    servers[0].add(PRIVILEGED)
    _collect_at_once(org, env, str(parts), ["eu-prod"])
    ran = posture(["merge", str(parts), "--db", str(db)], env)
    assert ran.code == 3, ran.stderr  # us-prod's last part is older than 24 h: unknown
    assert "1 new, 0 carried as-is, 1 stale (unknown)" in ran.stderr
    assert "kubernetes us-prod: failed: no new part since 2000-01-01T00:00:00Z" in ran.stderr
    targets = _targets(db, 2)
    assert targets[("kubernetes", "eu-prod")]["carried"] == ""
    assert targets[("kubernetes", "us-prod")]["carried"] == "stale"
    with Store(db, readonly=True) as store:
        diff = store.diff(1, 2)
        stale_findings = [
            f for f in store.findings(2) if f["resource_uid"].startswith("k8s://us-prod/")
        ]
    opened = {(row["check_id"], row["resource_uid"]) for row in diff.opened}
    assert ("k8s-pod-privileged", "k8s://eu-prod/team-000/Pod/debug") in opened
    assert not [row for row in diff.resolved if "us-prod" in row["resource_uid"]]
    assert stale_findings and {f["status"] for f in stale_findings} == {"unknown"}

    # Fresh again: a new part brings us-prod back; eu-prod is carried as it was.
    _collect_at_once(org, env, str(parts), ["us-prod"])
    ran = posture(["merge", str(parts), "--db", str(db)], env)
    assert "1 new, 1 carried as-is, 0 stale" in ran.stderr, ran.stderr
    targets = _targets(db, 3)
    assert targets[("kubernetes", "eu-prod")]["carried"] == "as-is"
    with Store(db, readonly=True) as store:
        pods = {r["uid"] for r in store.resources(3) if r["kind"] == "Pod"}
    assert "k8s://eu-prod/team-000/Pod/debug" in pods  # carried as it was

    # A cluster that is gone: forgotten on request.
    ran = posture(["merge", str(parts), "--db", str(db), "--forget", "us-prod"], env)
    assert "1 dropped" in ran.stderr, ran.stderr
    assert ("kubernetes", "us-prod") not in _targets(db, 4)


def test_parts_through_s3(org, fleet, tmp_path):
    _, env = fleet
    org.client("s3").create_bucket(Bucket="posture-parts")
    db = tmp_path / "fleet.db"
    _collect_at_once(org, env, "s3://posture-parts/prod", [*CONTEXTS, "0/1"])
    keys = [o["Key"] for o in org.client("s3").list_objects_v2(Bucket="posture-parts")["Contents"]]
    assert sorted(k.split("/")[1] for k in keys) == ["eu-prod", "shard-0-of-1", "us-prod"]
    assert all(k.startswith("prod/") and k.endswith(".db") for k in keys)

    ran = posture(["merge", "s3://posture-parts/prod", "--db", str(db)], env)
    assert ran.code in (0, 3) and "merged 3 part(s)" in ran.stderr, ran.stderr
    again = posture(["merge", "s3://posture-parts/prod", "--db", str(db)], env)
    assert "nothing new to merge: 3 part(s) already merged" in again.stderr, again.stderr
    assert _snapshots(db) == [1]


def test_an_unreadable_part_is_named_and_skipped(org, fleet, tmp_path):
    _, env = fleet
    parts, db = tmp_path / "parts", tmp_path / "fleet.db"
    _collect_at_once(org, env, str(parts), ["eu-prod"])
    (parts / "broken").mkdir()
    (parts / "broken" / "20250101T000000000000Z.db").write_bytes(b"not sqlite at all" * 100)
    ran = posture(["merge", str(parts), "--db", str(db)], env)
    assert ran.code == 3
    assert "skipped " in ran.stderr and "broken" in ran.stderr
    assert "not a SQLite database" in ran.stderr
    assert _snapshots(db) == [1]
    missing = posture(["merge", str(tmp_path / "nothing-here"), "--db", str(db)], env)
    assert missing.code == 2 and "no such file or folder" in missing.stderr
