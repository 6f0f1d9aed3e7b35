"""A full disk: the command says so (exit 4), the cache keeps its last whole state, and
once space is freed the same command works, whatever moment the disk filled up at
(while creating the cache, while writing a snapshot; with this release's creation and
with the first release's, whose half-made stubs used to be refused forever).

The disk is a real small tmpfs where this process may mount one (SQLite then meets a
real ENOSPC); elsewhere, and in a second variant everywhere, the posture process runs
under RLIMIT_FSIZE, where a write past the limit fails with EFBIG.
"""

from __future__ import annotations

import json
import os
import resource
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from postureapp.store.schema import APPLICATION_ID, SCHEMA_VERSION
from tests.kube.estate import fixtures_dir

POSTURE = str(Path(sys.executable).with_name("posture"))
REPO = Path(__file__).resolve().parents[2]
COLLECT = ["collect", "--from", str(fixtures_dir()), "--allow-partial"]


class Disk:
    """A folder whose free space the test controls."""

    def __init__(self, folder: Path, mechanism: str) -> None:
        self.folder = folder
        self.mechanism = mechanism
        self.limit: int | None = None  # rlimit: the largest file a process may write

    def fill(self, leave: int) -> None:
        """Leave about ``leave`` bytes that can still be written (under RLIMIT_FSIZE: no
        byte may be written past offset ``leave`` of any file)."""
        if self.mechanism == "rlimit":
            self.limit = leave
            return
        filler = self.folder / "filler"
        with filler.open("ab") as handle:
            chunk = b"\0" * 65536
            while True:
                stats = os.statvfs(self.folder)
                room = stats.f_bavail * stats.f_frsize - leave
                if room <= 0:
                    break
                try:
                    handle.write(chunk[: min(len(chunk), room)])
                    handle.flush()
                except OSError:
                    break

    def free(self) -> None:
        self.limit = None
        (self.folder / "filler").unlink(missing_ok=True)

    def run(self, *args: str, script: str | None = None) -> subprocess.CompletedProcess:
        """``posture ARGS`` (or ``python -c SCRIPT ARGS``) writing to this disk."""
        limit = self.limit

        def preexec() -> None:
            if limit is not None:
                resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

        command = [sys.executable, "-c", script, *args] if script else [POSTURE, *args]
        return subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=120,
            preexec_fn=preexec,
            cwd=REPO,
            stdin=subprocess.DEVNULL,
        )


def _mount_tmpfs(folder: Path, size: str) -> bool:
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(folder)],
        capture_output=True,
    )
    return result.returncode == 0


@pytest.fixture(params=["tmpfs", "rlimit"])
def disk(request, tmp_path) -> Iterator[Disk]:
    folder = tmp_path / "disk"
    folder.mkdir()
    mounted = request.param == "tmpfs" and _mount_tmpfs(folder, "4m")
    try:
        yield Disk(folder, "tmpfs" if mounted else "rlimit")
    finally:
        if mounted:
            subprocess.run(["umount", "-l", str(folder)], check=True)


def _check_cache(path: Path, snapshots: int) -> None:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert conn.execute("SELECT count(*) FROM snapshots").fetchone()[0] == snapshots
    finally:
        conn.close()


def _assert_io_failure(result: subprocess.CompletedProcess, path: Path) -> None:
    assert result.returncode == 4, result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("posture: error: cannot ") and str(path) in last, last
    assert "Free some space and run the command again" in last
    assert "Traceback" not in result.stderr


def test_creation_on_a_full_disk_fails_cleanly_and_works_once_space_is_freed(disk):
    path = disk.folder / "cache.db"
    disk.fill(leave=8 * 1024)
    _assert_io_failure(disk.run("--db", str(path), *COLLECT), path)
    assert not path.exists() or path.stat().st_size == 0  # nothing half-made
    disk.free()
    result = disk.run("--db", str(path), *COLLECT)
    assert result.returncode == 0, result.stderr
    _check_cache(path, snapshots=1)


def test_a_snapshot_on_a_full_disk_leaves_the_last_one_whole(disk):
    path = disk.folder / "cache.db"
    assert disk.run("--db", str(path), *COLLECT).returncode == 0
    before = json.loads(disk.run("--db", str(path), "export", "--format", "json").stdout)
    disk.fill(leave=0)
    _assert_io_failure(disk.run("--db", str(path), *COLLECT), path)
    disk.free()
    _check_cache(path, snapshots=1)
    after = json.loads(disk.run("--db", str(path), "export", "--format", "json").stdout)
    assert after["resources"] == before["resources"]
    assert disk.run("--db", str(path), *COLLECT).returncode == 0
    _check_cache(path, snapshots=2)


# The first release's creation, step by step as its ``connect`` ran them: switch to
# WAL, make sqlite-utils' migrations table, then each migration in its transaction,
# then the version. A full disk at any step left a stub it then refused forever.
FIRST_RELEASE_CREATE = textwrap.dedent(
    """
    import sys
    from sqlite_utils import Database
    from postureapp.store.schema import migrations
    db = Database(sys.argv[1])
    db.enable_wal()
    migrations.apply(db, stop_before="0002_derived_facts")
    db.execute("PRAGMA user_version = 1")
    """
)


# On a tmpfs the first release left: 0 KiB an empty file, 12 KiB a WAL header and no
# schema, 48 and 96 KiB the stub with only _sqlite_migrations that the issue reports.
@pytest.mark.slow
@pytest.mark.parametrize("leave_kib", [0, 12, 48, 96])
def test_whatever_a_full_disk_left_of_a_creation_is_finished_later(disk, leave_kib):
    for creator in ("first release", "this release"):
        path = disk.folder / f"{creator.split()[0]}.db"
        disk.fill(leave=leave_kib * 1024)
        if creator == "this release":
            _assert_io_failure(disk.run("--db", str(path), *COLLECT), path)
        else:
            old = disk.run(str(path), script=FIRST_RELEASE_CREATE)
            assert old.returncode == 1 and ("full" in old.stderr or "I/O" in old.stderr)
        disk.free()
        assert path.exists()  # each creation made the file before the disk filled up
        result = disk.run("--db", str(path), *COLLECT)
        assert result.returncode == 0, f"{creator}, {leave_kib} KiB: {result.stderr}"
        _check_cache(path, snapshots=1)
