"""Every command that opens the cache goes through one gate: a file that is not a
postureapp cache is refused untouched (bytes, journal mode, -wal/-shm/-journal), our
own caches (old ones too) and half-made stubs are opened, and nothing the gate does
drops the locks another connection of the same process holds."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from sqlite_utils import Database

from postureapp.errors import StoreError
from postureapp.store import Store
from postureapp.store.schema import APPLICATION_ID, SCHEMA_VERSION, migrations
from tests.kube import write_kubeconfig
from tests.kube.estate import fixtures_dir

POSTURE = str(Path(sys.executable).with_name("posture"))
REPO = Path(__file__).resolve().parents[2]
SIDE = ("-wal", "-shm", "-journal")


def posture(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [POSTURE, *args], capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL
    )


def fingerprint(path: Path) -> dict[str, str | None]:
    """Bytes of the file and of each side file (None: absent). Read in a subprocess-free
    way only while this process holds no SQLite connection on the file."""
    result: dict[str, str | None] = {}
    for suffix in ("", *SIDE):
        side = Path(f"{path}{suffix}")
        result[suffix] = hashlib.sha256(side.read_bytes()).hexdigest() if side.exists() else None
    return result


def journal_mode_byte(path: Path) -> int:
    return path.read_bytes()[18]  # 1: rollback journal, 2: WAL


# -- files that are not ours -----------------------------------------------------------


def other_app_wal(path: Path) -> Path:
    """Another application's database in WAL mode, closed cleanly (no side files)."""
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.executescript(
        "CREATE TABLE items (id INTEGER PRIMARY KEY, v TEXT);"
        "INSERT INTO items (v) VALUES ('keep'), ('me');"
    )
    conn.commit()
    conn.close()
    return path


def other_app_with_snapshots(path: Path) -> Path:
    """A database with a table named like ours, in rollback-journal mode."""
    conn = sqlite3.connect(path)
    conn.executescript(
        "CREATE TABLE snapshots (id INTEGER PRIMARY KEY, taken TEXT);"
        "INSERT INTO snapshots (taken) VALUES ('yesterday');"
    )
    conn.commit()
    conn.close()
    return path


def other_app_with_its_own_id(path: Path) -> Path:
    conn = sqlite3.connect(path)
    conn.executescript(
        "PRAGMA application_id = 1234; CREATE TABLE t (x); INSERT INTO t VALUES (1);"
    )
    conn.commit()
    conn.close()
    return path


def not_sqlite(path: Path) -> Path:
    path.write_text("name,value\nnot,a database\n" * 300)
    return path


def newer_postureapp(path: Path) -> Path:
    with Store(path):
        pass
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.commit()
    conn.close()
    return path


def other_migrations_user(path: Path) -> Path:
    """Another sqlite-utils application: its own migration set, nothing else."""
    db = Database(path)
    other = type(migrations)("inventory")
    other(name="0001")(lambda db: db.execute("CREATE TABLE things (id INTEGER PRIMARY KEY)"))
    other.apply(db)
    db.close()
    return path


NOT_OURS = "is a SQLite database but not a postureapp cache; it was left untouched"
FOREIGN = {  # how it is made, what the one line says
    "wal-app": (other_app_wal, NOT_OURS),
    "snapshots-table": (other_app_with_snapshots, NOT_OURS),
    "application-id": (other_app_with_its_own_id, NOT_OURS),
    "text-file": (not_sqlite, "is not a SQLite database; it was left untouched"),
    "newer-postureapp": (newer_postureapp, "was written by a newer postureapp"),
    "other-migrations": (other_migrations_user, NOT_OURS),
}

COMMANDS = {
    "export": ["export", "--format", "json"],
    "note": ["note", "0" * 32, "paged the owner"],
    "attest": ["attest", "backup-restore-tested", "--by", "alice"],
    "waive": ["waive", "0" * 32, "--reason", "accepted", "--owner", "bob"],
    "waivers": ["waivers", "list"],
    "diff": ["diff"],
    "collect": ["collect", "--from", str(fixtures_dir()), "--allow-partial"],
    "snapshot": ["snapshot", "--from", str(fixtures_dir()), "--allow-partial"],
    # The dashboard polling a cluster (nothing listens there: the gate refuses first).
    "tui": ["tui", "--kubeconfig", "{kubeconfig}"],
}


@pytest.fixture(scope="module")
def nowhere_kubeconfig(tmp_path_factory) -> Path:
    """A cluster nobody serves: the commands that poll one are refused before polling."""
    folder = tmp_path_factory.mktemp("kube")
    return write_kubeconfig(folder / "kubeconfig", {"nowhere": ("http://127.0.0.1:9", "t")})


# Every command on two kinds of other files, every kind of other file on two commands.
CASES = sorted(
    {(kind, command) for kind in ("wal-app", "snapshots-table") for command in COMMANDS}
    | {(kind, command) for kind in FOREIGN for command in ("export", "collect")}
)


@pytest.mark.parametrize(("kind", "command"), CASES)
def test_a_file_that_is_not_ours_is_refused_untouched(tmp_path, nowhere_kubeconfig, kind, command):
    make, message = FOREIGN[kind]
    path = make(tmp_path / "other.db")
    before = fingerprint(path)
    args = [arg.format(kubeconfig=nowhere_kubeconfig) for arg in COMMANDS[command]]
    result = posture("--db", str(path), *args)
    assert result.returncode == 2, result.stderr
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(
        (f"posture: error: {path} {message}", f"posture: error: cache {path} {message}")
    ), line
    assert fingerprint(path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other.db"]


def test_another_app_using_its_database_right_now_is_left_alone(tmp_path):
    """Its -wal holds committed rows and its -shm is live: both stay as they are."""
    path = other_app_wal(tmp_path / "other.db")
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "READY"
        wal = Path(f"{path}-wal")
        assert wal.stat().st_size > 0
        main_bytes, wal_bytes = path.read_bytes(), wal.read_bytes()
        for command in ("export", "note", "collect"):
            result = posture("--db", str(path), *COMMANDS[command])
            assert result.returncode == 2, result.stderr
            assert "not a postureapp cache" in result.stderr
        assert path.read_bytes() == main_bytes and wal.read_bytes() == wal_bytes
        assert Path(f"{path}-shm").exists() and not Path(f"{path}-journal").exists()
    finally:
        holder.stdin.close()
        holder.wait(30)
    assert holder.returncode == 0


HOLDER = textwrap.dedent(
    """
    import sqlite3, sys
    conn = sqlite3.connect(sys.argv[1])
    conn.execute("PRAGMA wal_autocheckpoint = 0")
    conn.execute("INSERT INTO items (v) VALUES ('in the wal')")
    conn.commit()
    print("READY", flush=True)
    sys.stdin.read()
    conn.close()
    """
)


# -- files that are ours -------------------------------------------------------------------


def first_release_cache(path: Path, *, stop_before: str | None = "0002_derived_facts") -> Path:
    """A cache as the first release wrote it: WAL, migration 0001, user_version 1, no
    application_id (the order of its own ``connect``), holding one snapshot."""
    db = Database(path)
    db.enable_wal()
    migrations.apply(db, stop_before=stop_before)
    db.execute("PRAGMA user_version = 1")
    with db.conn:
        db.execute(
            "INSERT INTO snapshots (started_at, finished_at, status, resource_count)"
            " VALUES ('2026-01-01T00:00:00Z', '2026-01-01T00:00:05Z', 'complete', 1)"
        )
        db.execute(
            "INSERT INTO resources (uid, provider, scope, kind, name, attrs, hash,"
            " first_seen, valid_from) VALUES ('k8s://c/_/Namespace/shop', 'kubernetes', 'c',"
            " 'Namespace', 'shop', '{}', 'h', '2026-01-01T00:00:05Z', 1)"
        )
    db.close()
    return path


def test_a_first_release_cache_is_opened_and_stamped_with_its_data(tmp_path):
    path = first_release_cache(tmp_path / "cache.db")
    result = posture("--db", str(path), "export", "--format", "json")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["snapshot"]["id"] == 1
    assert [r["uid"] for r in document["resources"]] == ["k8s://c/_/Namespace/shop"]
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        conn.close()


def test_a_first_release_cache_that_died_before_its_version_bump_is_ours(tmp_path):
    path = first_release_cache(tmp_path / "cache.db")
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 0")
    conn.commit()
    conn.close()
    result = posture("--db", str(path), "diff")
    assert result.returncode == 2 and "only one snapshot" in result.stderr, result.stderr


def first_release_stub(path: Path) -> Path:
    """What the first release left when its creation failed (a full disk): WAL switched,
    the migrations table made, migration 0001 rolled back."""
    db = Database(path)
    db.enable_wal()
    migrations.ensure_migrations_table(db)
    db.close()
    return path


def empty_wal_database(path: Path) -> Path:
    """The first release's stub when it failed one step earlier: a WAL header, no schema."""
    db = Database(path)
    db.enable_wal()
    db.close()
    return path


@pytest.mark.parametrize("make", [first_release_stub, empty_wal_database, Path.touch])
def test_a_half_made_cache_is_finished_by_the_next_command(tmp_path, make):
    path = tmp_path / "cache.db"
    make(path)
    result = posture("--db", str(path), *COMMANDS["collect"])
    assert result.returncode == 0, result.stderr
    assert posture("--db", str(path), "export", "--format", "json").returncode == 0
    with Store(path) as store:
        assert store.db.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
        assert store.db.journal_mode == "wal"
        assert len(store.snapshots()) == 1


def test_a_new_cache_is_stamped_private_and_in_wal_mode(tmp_path):
    path = tmp_path / "new" / "cache.db"
    with Store(path) as store:
        assert store.db.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
        assert store.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert store.db.journal_mode == "wal"
        assert [m.name for m in migrations.applied(store.db)] == [
            m.name for m in migrations._migrations
        ]
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert journal_mode_byte(path) == 2


def test_a_read_only_open_of_a_foreign_file_leaves_no_side_files(tmp_path):
    path = other_app_wal(tmp_path / "other.db")
    before = fingerprint(path)
    with pytest.raises(StoreError, match="not a postureapp cache"):
        Store(path, readonly=True)
    assert fingerprint(path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other.db"]


# -- the locks of this process survive any open -----------------------------------------


def _locks_on(path: Path) -> list[str]:
    inode = f":{path.stat().st_ino} "
    pid = str(os.getpid())
    with open("/proc/locks") as locks:
        # Without the leading ordinal: it numbers every lock on the machine, so it moves
        # when other processes take or drop theirs.
        return [
            line.split(":", 1)[1].strip() for line in locks if inode in line and f" {pid} " in line
        ]


def test_opening_another_store_keeps_the_locks_an_open_store_holds(tmp_path):
    path = tmp_path / "cache.db"
    first = Store(path)
    try:
        first.latest()  # in WAL mode, an open connection holds a read lock on the file
        held = _locks_on(path)
        assert held
        for readonly in (False, True, False):
            Store(path, readonly=readonly).close()
            assert _locks_on(path) == held
        with pytest.raises(StoreError):
            Store(tmp_path / "missing.db", readonly=True)
        assert _locks_on(path) == held
    finally:
        first.close()
