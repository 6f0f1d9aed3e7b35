"""Writers across processes: one at a time, a visible wait behind another, a clear
"busy" when the wait runs out; a read-only cache is refused before SQLite leaves
-wal/-shm files beside it."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from postureapp.errors import StoreError
from postureapp.model import Waiver
from postureapp.store import Store, database

POSTURE = str(Path(sys.executable).with_name("posture"))
CHECK = "aws-alb-rate-limit"  # any check of the shipped catalog

HOLD_WRITE_LOCK = textwrap.dedent(
    """
    import sqlite3, sys
    conn = sqlite3.connect(sys.argv[1], isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("INSERT INTO notes (fingerprint, author, text, created_at)"
                 " VALUES ('f', 'holder', 'written while others wait', 'now')")
    print("HOLDING", flush=True)
    sys.stdin.readline()
    conn.execute("COMMIT")
    conn.close()
    """
)


def _hold(path: Path) -> subprocess.Popen:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_WRITE_LOCK, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline().strip() == "HOLDING"
    return holder


def _release(holder: subprocess.Popen) -> None:
    holder.stdin.write("go\n")
    holder.stdin.flush()
    assert holder.wait(60) == 0


def test_a_writer_waits_for_another_process_and_says_so(tmp_path):
    path = tmp_path / "cache.db"
    Store(path).close()
    holder = _hold(path)
    try:
        waiting = subprocess.Popen(
            [POSTURE, "--db", str(path), "waive", "--check", CHECK, "--reason", "r",
             "--owner", "o"],
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
        )  # fmt: skip
        line = waiting.stderr.readline()  # blocks until the wait is announced
        assert "another posture process is writing" in line and str(path) in line, line
        assert waiting.poll() is None  # still waiting: nothing was written meanwhile
    finally:
        _release(holder)
    rest = waiting.stderr.read()
    assert waiting.wait(60) == 0, rest
    assert "waiver 1 added" in rest
    with Store(path) as store:
        assert [w.check_id for w in store.waivers()] == [CHECK]
        assert [n["author"] for n in store.notes("f")] == ["holder"]


def test_a_writer_gives_up_with_a_clear_busy_after_the_wait(tmp_path, monkeypatch):
    path = tmp_path / "cache.db"
    store = Store(path)
    holder = _hold(path)
    try:
        monkeypatch.setattr(database, "WRITE_WAIT_SECONDS", 2)
        with pytest.raises(StoreError, match="is busy: another posture process kept writing"):
            store.add_waiver(Waiver(reason="r", owner="o", check_id=CHECK))
        assert not store.db.conn.in_transaction
    finally:
        _release(holder)
    store.add_waiver(Waiver(reason="r", owner="o", check_id=CHECK))  # usable again
    assert len(store.waivers()) == 1
    store.close()


# -- a cache this process may not write -------------------------------------------------


def _make_read_only(path: Path) -> None:
    if os.geteuid() != 0:
        path.chmod(0o444)
        return
    # root writes through permission bits; the immutable attribute stops even root.
    subprocess.run(["chattr", "+i", str(path)], check=True, capture_output=True)


def _undo_read_only(path: Path) -> None:
    if os.geteuid() == 0 and shutil.which("chattr"):
        subprocess.run(["chattr", "-i", str(path)], capture_output=True)
    path.chmod(0o600)


def _digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir()}


def test_a_read_only_cache_is_refused_without_side_files(tmp_path):
    folder = tmp_path / "cache"
    path = folder / "cache.db"
    with Store(path) as store:
        store.add_note("f", "alice", "kept")
    _make_read_only(path)
    try:
        assert not os.access(path, os.W_OK)
        before = _digests(folder)
        assert sorted(before) == ["cache.db"]
        for args in (["export", "--format", "json"], ["waivers", "list"], ["diff"]):
            result = subprocess.run(
                [POSTURE, "--db", str(path), *args], capture_output=True, text=True, timeout=60
            )
            assert result.returncode == 2, result.stderr
            assert result.stderr.strip() == (
                f"posture: error: cache {path} is read-only; pass --db with a writable path"
            )
            assert _digests(folder) == before
        with Store(path, readonly=True) as store:  # reading it is fine
            assert [n["text"] for n in store.notes("f")] == ["kept"]
    finally:
        _undo_read_only(path)
