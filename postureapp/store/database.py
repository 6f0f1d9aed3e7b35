"""Opening the cache safely: where it lives, its permissions, and refusing bad files.

Nothing here writes to a file it has not first recognised as a postureapp cache (or
created itself): a corrupt file, a non-SQLite file or a cache from a newer version is
refused with one line, and the file is left exactly as it was.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import platformdirs
from sqlite_utils import Database

from postureapp.errors import StoreError
from postureapp.store.schema import SCHEMA_VERSION, migrations

APP_NAME = "posture"
SQLITE_HEADER = b"SQLite format 3\x00"
# Long enough to ride out a poll's write transaction while the dashboard reads.
BUSY_TIMEOUT_MS = 30_000


def default_db_path() -> Path:
    """The cache in the user's data directory, unless POSTURE_DB says otherwise."""
    env = os.environ.get("POSTURE_DB")
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)) / "cache.db"


def _prepare_file(path: Path, create: bool) -> None:
    """Create the directory 0700 and the file 0600, or check an existing file's header."""
    if path.exists():
        if path.is_dir():
            raise StoreError(f"cache path {path} is a directory; pass --db with a file path")
        try:
            with path.open("rb") as handle:
                header = handle.read(len(SQLITE_HEADER))
        except PermissionError:
            raise StoreError(f"cannot read cache {path}: permission denied") from None
        if header and header != SQLITE_HEADER:
            raise StoreError(
                f"{path} is not a SQLite database; move it aside or pass --db with another path"
            )
        return
    if not create:
        raise StoreError(f"no cache at {path}; run 'posture collect' first or pass --db")
    try:
        _make_private_dirs(path.parent)
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        os.close(fd)
    except PermissionError:
        raise StoreError(
            f"cannot create cache {path}: permission denied; pass --db with a writable path"
        ) from None
    except OSError as error:
        raise StoreError(f"cannot create cache {path}: {error.strerror}") from None


def _make_private_dirs(directory: Path) -> None:
    missing = []
    probe = directory
    while not probe.exists():
        missing.append(probe)
        probe = probe.parent
    for folder in reversed(missing):
        folder.mkdir(mode=0o700)
        os.chmod(folder, 0o700)  # mkdir's mode is filtered by the umask


def connect(path: Path | str, *, create: bool = True, readonly: bool = False) -> Database:
    """Open (and migrate) the cache at ``path`` as a sqlite-utils Database.

    Raises:
        StoreError: the file is not a usable cache; nothing was written to it.
    """
    if str(path) == ":memory:":
        db = Database(sqlite3.connect(":memory:", check_same_thread=False))
        _migrate(db, Path(":memory:"))
        return db
    path = Path(path)
    _prepare_file(path, create=create and not readonly)
    uri = f"file:{path}?mode=ro" if readonly else f"file:{path}?mode=rw"
    try:
        conn = sqlite3.connect(
            uri, uri=True, timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False
        )
    except sqlite3.Error as error:
        raise StoreError(f"cannot open cache {path}: {error}") from None
    db = Database(conn)
    try:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA foreign_keys = ON")
        _check_version(db, path)
        if not readonly:
            if db.journal_mode != "wal":
                db.enable_wal()
            # WAL with synchronous=NORMAL cannot corrupt on a crash; at worst the last
            # committed snapshot is lost on power failure, never half of one.
            conn.execute("PRAGMA synchronous = NORMAL")
            _migrate(db, path)
    except sqlite3.DatabaseError as error:
        conn.close()
        raise StoreError(describe_database_error(path, error)) from None
    except StoreError:
        conn.close()
        raise
    return db


def describe_database_error(path: Path | str, error: sqlite3.Error) -> str:
    text = str(error)
    if "locked" in text or "busy" in text:
        return f"cache {path} is busy ({text}); another posture process holds it, try again"
    if "readonly" in text or "read-only" in text:
        return f"cache {path} is read-only; pass --db with a writable path"
    if "malformed" in text or "not a database" in text or "corrupt" in text:
        return f"cache {path} is corrupt ({text}); move it aside or pass --db with another path"
    return f"cache {path} cannot be used: {text}"


def _check_version(db: Database, path: Path) -> None:
    version = db.execute("PRAGMA user_version").fetchone()[0]
    known = {migration.name for migration in migrations._migrations}
    applied = {m.name for m in migrations.applied(db)}
    if version > SCHEMA_VERSION or applied - known:
        raise StoreError(
            f"cache {path} was written by a newer postureapp (schema {version}, this one "
            f"understands {SCHEMA_VERSION}); upgrade postureapp or pass --db with another path"
        )
    if version == 0 and db.table_names() and "snapshots" not in db.table_names():
        raise StoreError(
            f"{path} is a SQLite database but not a postureapp cache; pass --db with another path"
        )


def _migrate(db: Database, path: Path) -> None:
    if migrations.pending(db):
        migrations.apply(db)
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")


@contextlib.contextmanager
def write_transaction(db: Database) -> Iterator[sqlite3.Connection]:
    """One IMMEDIATE transaction: the write lock is taken up front, so two writers (a
    poll and a waiver typed in the dashboard) queue on busy_timeout instead of failing
    with "database is locked" when a read transaction tries to upgrade."""
    conn = db.conn
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    else:
        conn.execute("COMMIT")
