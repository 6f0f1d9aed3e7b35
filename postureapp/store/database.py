"""Opening the cache safely: where it lives, its permissions, and what we may write to.

Every open goes through one gate, in this order, before anything is written:

1. The file is probed through SQLite itself, opened ``immutable`` (no lock, no side
   file). Never with ``open()``: POSIX locks belong to a process and an inode, so closing
   any other descriptor of the cache drops every lock this process's SQLite connections
   hold on it, and two writers then corrupt the file.
2. Only a postureapp cache (our ``application_id``; or a cache written by the first
   release: user_version 1, its ``0001_initial`` migration and exactly its tables), our
   own half-made stub, or a file holding nothing is opened for writing. Anything else is
   refused with one line, untouched: bytes, journal mode and side files.
3. Creation is one transaction (application_id, schema, migration record,
   user_version) in rollback-journal mode, then the switch to WAL: a failure at any
   point leaves an empty file or a whole cache, and either is usable the next time.
"""

from __future__ import annotations

import contextlib
import enum
import errno
import logging
import os
import sqlite3
import stat
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import platformdirs
from sqlite_utils import Database

from postureapp.errors import EXIT_IO, StoreError
from postureapp.store.schema import APPLICATION_ID, SCHEMA_VERSION, migrations, tables_after

APP_NAME = "posture"
# Readers in WAL mode do not wait on writers; this only covers short exclusive moments
# (WAL recovery, a journal-mode switch).
BUSY_TIMEOUT_MS = 30_000
# A writer queues behind others this long (ten polls of a large estate fit easily),
# saying so on stderr after the first second, then gives up with a clear "busy".
WRITE_WAIT_SECONDS = 600
_ANNOUNCE_AFTER_MS = 1_000
MIGRATIONS_TABLE = migrations.migrations_table

log = logging.getLogger("postureapp.store")
# Creating a file is the one moment a descriptor of the cache is opened outside SQLite;
# no connection of this process may open the file meanwhile (see the module docstring).
_CREATE_LOCK = threading.Lock()


class StoreIOError(StoreError):
    """The cache could not be written (disk full, I/O error); it keeps its last state."""

    exit_code = EXIT_IO


def default_db_path() -> Path:
    """The cache in the user's data directory, unless POSTURE_DB says otherwise."""
    env = os.environ.get("POSTURE_DB")
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)) / "cache.db"


# -- what a file is ------------------------------------------------------------------


class Kind(enum.Enum):
    EMPTY = "empty"  # no schema at all: a new file, or a creation that never committed
    STUB = "stub"  # the first release's creation, interrupted: only _sqlite_migrations
    OUTDATED = "outdated"  # ours, but not stamped yet or with migrations pending
    CURRENT = "current"
    NEWER = "newer"  # written by a newer postureapp
    DAMAGED = "damaged"  # stamped as ours but tables are missing
    FOREIGN = "foreign"


_REFUSED = frozenset({Kind.NEWER, Kind.DAMAGED, Kind.FOREIGN})


@dataclass(frozen=True)
class CacheState:
    application_id: int
    user_version: int
    objects: int  # every schema object: tables, indexes, views, triggers
    tables: frozenset[str]
    migration_rows: tuple[tuple[str, str], ...]  # (migration_set, name)

    def kind(self) -> Kind:
        """Classify the file; only EMPTY, STUB, OUTDATED and CURRENT may be opened."""
        ours = self.application_id == APPLICATION_ID
        if not ours and self.application_id != 0:
            return Kind.FOREIGN
        if any(migration_set != migrations.name for migration_set, _ in self.migration_rows):
            return Kind.FOREIGN
        applied = [name for _, name in self.migration_rows]
        known = [migration.name for migration in migrations._migrations]
        if self.objects == 0 and self.user_version == 0:
            return Kind.EMPTY
        if (
            self.tables == {MIGRATIONS_TABLE}
            and self.objects <= 2  # the table and its unique index
            and self.user_version == 0
            and not applied
        ):
            return Kind.STUB
        # Migrations run in order, one transaction each: a cache of ours has applied a
        # prefix of them, and holds exactly the tables that prefix creates.
        count = len(applied)
        in_order = count > 0 and applied == known[:count]
        if not ours:  # written before application_id existed, or not ours at all
            legacy = (
                in_order
                and self.user_version <= count  # lower: it died before the version bump
                and self.tables == tables_after(count) | {MIGRATIONS_TABLE}
            )
            return Kind.OUTDATED if legacy else Kind.FOREIGN
        if self.user_version > SCHEMA_VERSION or set(applied) - set(known):
            return Kind.NEWER
        if not in_order or not tables_after(count) <= self.tables:
            return Kind.DAMAGED
        if count == len(known) and self.user_version == SCHEMA_VERSION:
            return Kind.CURRENT
        return Kind.OUTDATED


def _refusal(path: Path, kind: Kind, state: CacheState | None = None) -> str:
    if kind is Kind.NEWER:
        return (
            f"cache {path} was written by a newer postureapp (schema "
            f"{state.user_version if state else '?'}, this one understands {SCHEMA_VERSION});"
            " upgrade postureapp or pass --db with another path"
        )
    if kind is Kind.DAMAGED:
        return f"cache {path} is damaged (tables are missing); move it aside or pass --db"
    if kind in (Kind.EMPTY, Kind.STUB):
        return f"{path} holds no cache yet; run 'posture collect' first or pass --db"
    return (
        f"{path} is a SQLite database but not a postureapp cache; it was left untouched. "
        "Pass --db with another path"
    )


def _uri(path: Path, **params: str) -> str:
    query = "&".join(f"{key}={value}" for key, value in params.items())
    return f"file:{quote(str(path.absolute()))}?{query}"


def _read_state(conn: sqlite3.Connection) -> CacheState:
    objects, tables = 0, set()
    for kind, name in conn.execute("SELECT type, name FROM sqlite_master"):
        if name.startswith("sqlite_"):  # sqlite_sequence, sqlite_stat1...
            continue
        objects += 1
        if kind == "table":
            tables.add(name)
    rows: tuple[tuple[str, str], ...] = ()
    if MIGRATIONS_TABLE in tables:
        try:
            rows = tuple(
                (str(s), str(n))
                for s, n in conn.execute(
                    f"SELECT migration_set, name FROM {MIGRATIONS_TABLE} ORDER BY rowid"  # noqa: S608
                )
            )
        except sqlite3.OperationalError:  # a table of that name, but not sqlite-utils'
            rows = (("", ""),)
    return CacheState(
        application_id=conn.execute("PRAGMA application_id").fetchone()[0],
        user_version=conn.execute("PRAGMA user_version").fetchone()[0],
        objects=objects,
        tables=frozenset(tables),
        migration_rows=rows,
    )


def _read_state_consistently(conn: sqlite3.Connection) -> CacheState:
    conn.execute("BEGIN")  # one read transaction: every answer from the same moment
    try:
        return _read_state(conn)
    finally:
        conn.execute("ROLLBACK")


def _probe(path: Path) -> Kind | None:
    """What the file is, found without a lock, a side file or a write: None when it
    does not exist. Refuses (StoreError) what is certainly not ours."""
    try:
        info = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):  # created below, or an error there
        return None
    except PermissionError:
        raise StoreError(f"cannot read cache {path}: permission denied") from None
    if stat.S_ISDIR(info.st_mode):
        raise StoreError(f"cache path {path} is a directory; pass --db with a file path")
    if not stat.S_ISREG(info.st_mode):
        raise StoreError(f"{path} is not a regular file; pass --db with a file path")
    if info.st_size == 0:
        return Kind.EMPTY
    wal = Path(f"{path}-wal")
    state = None
    try:
        application_id, state = _read_immutable(path)
    except sqlite3.DatabaseError as error:
        if "not a database" in str(error):
            raise StoreError(
                f"{path} is not a SQLite database; it was left untouched. Move it"
                " aside or pass --db with another path"
            ) from None
        # The file alone can be inconsistent while its -wal is in use (a checkpoint
        # halfway, or a crash in one): only a read through the WAL can tell.
        if not wal.exists():
            raise StoreError(describe_database_error(path, error)) from None
        application_id = None
    if application_id == APPLICATION_ID:
        return Kind.CURRENT  # the connection that opens it checks the rest, locked
    if application_id not in (0, None):
        raise StoreError(_refusal(path, Kind.FOREIGN))
    if state is None or (wal.exists() and wal.stat().st_size > 0):
        state = _read_through_wal(path)
    kind = state.kind()
    if kind in _REFUSED:
        raise StoreError(_refusal(path, kind, state))
    return kind


def _read_immutable(path: Path) -> tuple[int, CacheState | None]:
    """The application_id from the file alone, and its schema when it has no id."""
    try:
        probe = sqlite3.connect(_uri(path, mode="ro", immutable="1"), uri=True)
    except sqlite3.OperationalError as error:
        raise StoreError(f"cannot read cache {path}: {error}") from None
    try:
        application_id = probe.execute("PRAGMA application_id").fetchone()[0]
        return application_id, _read_state(probe) if application_id == 0 else None
    finally:
        probe.close()


def _read_through_wal(path: Path) -> CacheState:
    """Committed data may sit in a ``-wal``: a plain read-only connection sees it, under
    locks. It creates no file when -wal and -shm are there (SQLite itself needs an -shm
    to read a -wal, and makes one if a crash or a copy lost it)."""
    try:
        reader = sqlite3.connect(_uri(path, mode="ro"), uri=True, timeout=BUSY_TIMEOUT_MS / 1000)
    except sqlite3.Error as error:
        raise StoreError(f"cannot read cache {path}: {error}") from None
    try:
        return _read_state_consistently(reader)
    except sqlite3.DatabaseError as error:
        raise StoreError(describe_database_error(path, error)) from None
    finally:
        reader.close()


# -- creating the file -----------------------------------------------------------------


def _create_file(path: Path) -> None:
    """An empty file 0600 in a 0700 directory; another process's creation is fine."""
    try:
        _make_private_dirs(path.parent)
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        os.close(fd)
    except FileExistsError:
        return  # created meanwhile by another process: the gate looks at it as usual
    except PermissionError:
        raise StoreError(
            f"cannot create cache {path}: permission denied; pass --db with a writable path"
        ) from None
    except OSError as error:
        if error.errno in (errno.ENOSPC, errno.EDQUOT, errno.EIO, errno.EFBIG):
            raise StoreIOError(f"cannot create cache {path}: {error.strerror}") from None
        raise StoreError(
            f"cannot create cache {path}: {error.strerror}; pass --db with a writable path"
        ) from None


def _make_private_dirs(directory: Path) -> None:
    missing = []
    probe = directory
    while not probe.exists():
        missing.append(probe)
        probe = probe.parent
    for folder in reversed(missing):
        folder.mkdir(mode=0o700)
        os.chmod(folder, 0o700)  # mkdir's mode is filtered by the umask


# -- connecting -----------------------------------------------------------------------


def connect(path: Path | str, *, create: bool = True, readonly: bool = False) -> Database:
    """Open (create, finish or migrate) the cache at ``path`` as a sqlite-utils Database.

    Raises:
        StoreError: the file is not a usable cache; nothing was written to it.
        StoreIOError: the cache could not be created or migrated (disk full, I/O error).
    """
    if str(path) == ":memory:":
        db = Database(sqlite3.connect(":memory:", check_same_thread=False), execute_plugins=False)
        _upgrade(db, Path(":memory:"))
        return db
    path = Path(path)
    with _CREATE_LOCK:
        kind = _probe(path)
        if kind is None:
            if readonly or not create:
                raise StoreError(f"no cache at {path}; run 'posture collect' first or pass --db")
            _create_file(path)
            kind = _probe(path)
    if kind is None:  # removed again between its creation and the probe
        raise StoreError(f"cache {path} vanished while it was being created; try again")
    if readonly:
        return _connect_readonly(path, kind)
    _check_writable(path)
    conn = _open(path, "rw")
    # No sqlite-utils plugins: posture's SQL uses none, and finding them reads the
    # metadata of every installed package (~50 ms of each start-up; issue 14).
    db = Database(conn, execute_plugins=False)
    try:
        state = _read_state_consistently(conn)
        kind = state.kind()
        if kind in _REFUSED:
            raise StoreError(_refusal(path, kind, state))
        if kind is not Kind.CURRENT:
            _upgrade(db, path)
        if db.journal_mode != "wal":
            _switch_to_wal(conn)
        # WAL with synchronous=NORMAL cannot corrupt on a crash; at worst the last
        # committed snapshot is lost on power failure, never half of one.
        conn.execute("PRAGMA synchronous = NORMAL")
    except sqlite3.DatabaseError as error:
        conn.close()
        raise _store_error(path, error) from None
    except BaseException:
        conn.close()
        raise
    return db


def _open(path: Path, mode: str, **params: str) -> sqlite3.Connection:
    try:
        conn = sqlite3.connect(
            _uri(path, mode=mode, **params),
            uri=True,
            timeout=BUSY_TIMEOUT_MS / 1000,
            check_same_thread=False,
        )
    except sqlite3.Error as error:
        raise StoreError(f"cannot open cache {path}: {error}") from None
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA foreign_keys = ON")
    return conn


def _check_writable(path: Path) -> None:
    # Before the first SQLite connection: one that cannot write would still leave
    # -wal and -shm files behind when it reads a WAL database.
    if not os.access(path, os.W_OK):
        raise StoreError(f"cache {path} is read-only; pass --db with a writable path")
    if not os.access(path.parent, os.W_OK | os.X_OK):
        raise StoreError(
            f"cache {path} is in a read-only folder (SQLite writes its -wal and -shm files"
            " beside it); pass --db with a writable path"
        )


def _connect_readonly(path: Path, kind: Kind) -> Database:
    if kind in (Kind.EMPTY, Kind.STUB):
        raise StoreError(_refusal(path, kind))
    wal = Path(f"{path}-wal")
    if not os.access(path.parent, os.W_OK) and not wal.exists():
        # Nothing can be writing it (no -wal), and SQLite could not create -shm here.
        conn = _open(path, "ro", immutable="1")
    else:
        conn = _open(path, "ro")
    try:
        state = _read_state_consistently(conn)
    except sqlite3.DatabaseError as error:
        conn.close()
        raise _store_error(path, error) from None
    kind = state.kind()
    legacy_current = (
        kind is Kind.OUTDATED
        and state.user_version == SCHEMA_VERSION
        and len(state.migration_rows) == len(migrations._migrations)
    )
    if kind is not Kind.CURRENT and not legacy_current:
        conn.close()
        if kind is Kind.OUTDATED:
            raise StoreError(
                f"cache {path} needs an upgrade that a read-only open cannot do; open it"
                " once with a writable posture command"
            )
        raise StoreError(_refusal(path, kind, state))
    return Database(conn, execute_plugins=False)


def _upgrade(db: Database, path: Path) -> None:
    """Create, finish or migrate the cache in one write transaction, re-checking what
    the file is under the write lock (another process may have done it meanwhile)."""
    conn = db.conn
    try:
        _begin_immediate(conn, path)
        state = _read_state(conn)
        kind = state.kind()
        if kind in _REFUSED:
            raise StoreError(_refusal(path, kind, state))
        if kind is not Kind.CURRENT:
            conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            migrations.apply(db)  # nested in our transaction: savepoints, not commits
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        conn.execute("COMMIT")
    except BaseException as error:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        if isinstance(error, sqlite3.DatabaseError) and _is_io_error(error):
            raise StoreIOError(
                f"cannot create or upgrade cache {path} ({error}); nothing was changed."
                " Free some space and run the command again"
            ) from None
        if isinstance(error, sqlite3.DatabaseError):
            raise _store_error(path, error) from None
        raise


def _switch_to_wal(conn: sqlite3.Connection) -> None:
    """WAL lets the dashboard read while a poll writes. A cache left in rollback mode
    (the switch hit a full disk, or a reader held it) is whole, and switched next time."""
    with contextlib.suppress(sqlite3.OperationalError):
        conn.execute("PRAGMA journal_mode = WAL")


# -- errors ---------------------------------------------------------------------------


def _is_io_error(error: sqlite3.Error) -> bool:
    text = str(error)
    return "disk is full" in text or "disk I/O error" in text


def _store_error(path: Path | str, error: sqlite3.Error) -> StoreError:
    if _is_io_error(error):
        return StoreIOError(
            f"cannot write cache {path} ({error}); it keeps its last whole state."
            " Free some space and run the command again"
        )
    return StoreError(describe_database_error(path, error))


def describe_database_error(path: Path | str, error: sqlite3.Error) -> str:
    text = str(error)
    if "locked" in text or "busy" in text:
        return f"cache {path} is busy ({text}); another posture process holds it, try again"
    if "readonly" in text or "read-only" in text:
        return f"cache {path} is read-only; pass --db with a writable path"
    if "disk is full" in text:
        return f"cache {path}: the disk is full; free some space and try again"
    if "malformed" in text or "not a database" in text or "corrupt" in text:
        return f"cache {path} is corrupt ({text}); move it aside or pass --db with another path"
    return f"cache {path} cannot be used: {text}"


# -- writing --------------------------------------------------------------------------


def _is_busy(error: sqlite3.OperationalError) -> bool:
    return "locked" in str(error) or "busy" in str(error)


def _path_of(conn: sqlite3.Connection) -> str:
    for _, name, file in conn.execute("PRAGMA database_list"):
        if name == "main":
            return file or ":memory:"
    return "the cache"


def _begin_immediate(conn: sqlite3.Connection, path: Path | str | None = None) -> None:
    """Take the write lock, queueing behind other writers (one at a time across
    processes) for up to WRITE_WAIT_SECONDS; say so once if it takes a while."""
    deadline = time.monotonic() + WRITE_WAIT_SECONDS
    conn.execute(f"PRAGMA busy_timeout = {_ANNOUNCE_AFTER_MS}")
    try:
        try:
            conn.execute("BEGIN IMMEDIATE")
            return
        except sqlite3.OperationalError as error:
            if not _is_busy(error):
                raise
        path = path or _path_of(conn)
        log.warning(
            "posture: another posture process is writing %s; waiting for it (up to %d min)",
            path,
            WRITE_WAIT_SECONDS // 60,
        )
        remaining_ms = max(1, int((deadline - time.monotonic()) * 1000))
        conn.execute(f"PRAGMA busy_timeout = {remaining_ms}")
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as error:
            if not _is_busy(error):
                raise
            raise StoreError(
                f"cache {path} is busy: another posture process kept writing it for"
                f" {WRITE_WAIT_SECONDS // 60} minutes; try again later"
            ) from None
    finally:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")


@contextlib.contextmanager
def write_transaction(db: Database) -> Iterator[sqlite3.Connection]:
    """One IMMEDIATE transaction: the write lock is taken up front, so writers (polls,
    a waiver typed in the dashboard, other posture processes) queue one at a time
    instead of failing with "database is locked" when a read tries to upgrade.

    Raises:
        StoreIOError: the disk filled up (or failed); the transaction was rolled back.
    """
    conn = db.conn
    _begin_immediate(conn)
    try:
        yield conn
        conn.execute("COMMIT")
    except BaseException as error:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        if isinstance(error, sqlite3.OperationalError) and _is_io_error(error):
            raise _store_error(_path_of(conn), error) from None
        raise
