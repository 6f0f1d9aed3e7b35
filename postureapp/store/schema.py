"""Schema of the cache, as sqlite-utils migrations (one transaction each).

Resources and findings are stored as *versions*: a row is valid for the snapshots
``valid_from <= id < valid_to`` (``valid_to`` NULL while it is still current). A poll
that sees the same thing again writes nothing for it, so the file grows with change,
not with estate size, and any retained snapshot can still be read back whole.
"""

from __future__ import annotations

import functools

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

# Bumped with every migration; a cache whose user_version is higher was written by a
# newer postureapp and is refused rather than "upgraded" backwards.
SCHEMA_VERSION = 4

# Stamped in the file header at creation (``PRAGMA application_id``, "Post"): how a
# postureapp cache is told from any other SQLite file before anything is written to it.
APPLICATION_ID = 0x506F7374

migrations = Migrations("postureapp")


@functools.cache
def tables_after(count: int) -> frozenset[str]:
    """The tables a cache holds once its first ``count`` migrations have run (how a cache
    written before application_id existed is recognised: by exactly these tables)."""
    db = Database(memory=True)
    try:
        for migration in migrations._migrations[:count]:
            migration.fn(db)
        return frozenset(db.table_names())
    finally:
        db.close()


@migrations(name="0001_initial")
def _initial(db: Database) -> None:
    db.executescript(
        """
        CREATE TABLE snapshots (
            id INTEGER PRIMARY KEY,
            started_at TEXT NOT NULL,
            finished_at TEXT,
            status TEXT NOT NULL,
            resource_count INTEGER NOT NULL DEFAULT 0,
            finding_count INTEGER NOT NULL DEFAULT 0
        );
        CREATE TABLE collector_runs (
            id INTEGER PRIMARY KEY,
            snapshot_id INTEGER NOT NULL REFERENCES snapshots(id) ON DELETE CASCADE,
            collector TEXT NOT NULL,
            target TEXT NOT NULL,
            scope TEXT NOT NULL DEFAULT '',
            status TEXT NOT NULL,
            error TEXT NOT NULL DEFAULT '',
            items INTEGER NOT NULL DEFAULT 0,
            api_calls INTEGER NOT NULL DEFAULT 0,
            seconds REAL NOT NULL DEFAULT 0,
            unknown TEXT NOT NULL DEFAULT '{}',
            provider TEXT NOT NULL DEFAULT ''
        );
        CREATE INDEX collector_runs_snapshot ON collector_runs(snapshot_id);

        CREATE TABLE resources (
            id INTEGER PRIMARY KEY,
            uid TEXT NOT NULL,
            provider TEXT NOT NULL,
            scope TEXT NOT NULL,
            kind TEXT NOT NULL,
            name TEXT NOT NULL,
            namespace TEXT NOT NULL DEFAULT '',
            attrs TEXT NOT NULL,
            created_at TEXT,
            hash TEXT NOT NULL,
            first_seen TEXT NOT NULL,
            valid_from INTEGER NOT NULL,
            valid_to INTEGER
        );
        CREATE UNIQUE INDEX resources_current ON resources(uid) WHERE valid_to IS NULL;
        CREATE INDEX resources_uid ON resources(uid, valid_from);

        CREATE TABLE findings (
            id INTEGER PRIMARY KEY,
            fingerprint TEXT NOT NULL,
            check_id TEXT NOT NULL,
            resource_uid TEXT NOT NULL,
            status TEXT NOT NULL,
            severity TEXT NOT NULL,
            severity_rank INTEGER NOT NULL,
            view TEXT NOT NULL,
            title TEXT NOT NULL,
            detail TEXT NOT NULL DEFAULT '',
            evidence TEXT NOT NULL DEFAULT '{}',
            hash TEXT NOT NULL,
            waiver_id INTEGER,
            first_seen TEXT NOT NULL,
            valid_from INTEGER NOT NULL,
            valid_to INTEGER
        );
        CREATE UNIQUE INDEX findings_current ON findings(fingerprint) WHERE valid_to IS NULL;
        CREATE INDEX findings_fingerprint ON findings(fingerprint, valid_from);

        CREATE TABLE checks (
            id TEXT PRIMARY KEY,
            title TEXT NOT NULL,
            view TEXT NOT NULL,
            severity TEXT NOT NULL,
            provider TEXT NOT NULL,
            remediation TEXT NOT NULL,
            frameworks TEXT NOT NULL DEFAULT '{}',
            "references" TEXT NOT NULL DEFAULT '[]',
            description TEXT NOT NULL DEFAULT ''
        );

        CREATE TABLE waivers (
            id INTEGER PRIMARY KEY,
            fingerprint TEXT,
            check_id TEXT,
            resource_glob TEXT,
            reason TEXT NOT NULL,
            owner TEXT NOT NULL,
            ticket TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL,
            expires_at TEXT,
            CHECK (fingerprint IS NOT NULL OR check_id IS NOT NULL)
        );
        CREATE TABLE notes (
            id INTEGER PRIMARY KEY,
            fingerprint TEXT NOT NULL,
            author TEXT NOT NULL,
            text TEXT NOT NULL,
            created_at TEXT NOT NULL
        );
        CREATE INDEX notes_fingerprint ON notes(fingerprint);
        CREATE TABLE attestations (
            id INTEGER PRIMARY KEY,
            control_id TEXT NOT NULL,
            by TEXT NOT NULL,
            at TEXT NOT NULL,
            expires_at TEXT,
            note TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL
        );
        """
    )


@migrations(name="0002_derived_facts")
def _derived_facts(db: Database) -> None:
    """Facts derived from a snapshot at judge time (the identity graph, its attack paths,
    exposure) are kept beside it, so readers never rebuild them with other settings.
    Bodies are compressed JSON stored once per content hash: a poll whose graph did not
    change adds one small row per fact, not another copy."""
    db.executescript(
        """
        ALTER TABLE snapshots ADD COLUMN settings TEXT NOT NULL DEFAULT '{}';
        ALTER TABLE collector_runs ADD COLUMN kinds TEXT NOT NULL DEFAULT '{}';
        ALTER TABLE resources ADD COLUMN source_version TEXT;
        CREATE TABLE derived_bodies (
            hash TEXT PRIMARY KEY,
            body BLOB NOT NULL
        );
        CREATE TABLE snapshot_derived (
            snapshot_id INTEGER NOT NULL REFERENCES snapshots(id) ON DELETE CASCADE,
            name TEXT NOT NULL,
            hash TEXT NOT NULL REFERENCES derived_bodies(hash),
            PRIMARY KEY (snapshot_id, name)
        );
        CREATE INDEX snapshot_derived_hash ON snapshot_derived(hash);
        """
    )


@migrations(name="0003_fleet_merge")
def _fleet_merge(db: Database) -> None:
    """``posture merge`` folds parts (caches collected elsewhere, one target or a shard of
    an organisation each) into this cache. ``merged_parts`` remembers every part snapshot
    it has read, by content digest, so merging the same parts again writes nothing; it
    outlives pruning on purpose (an old part read again must not roll a target back).
    ``merged_targets`` says, for each target of a merged snapshot, which part it came
    from and when that part was collected, and whether it was carried from the previous
    merge as it was (no new part yet) or as unknown (no new part for too long)."""
    db.executescript(
        """
        CREATE TABLE merged_parts (
            digest TEXT PRIMARY KEY,
            location TEXT NOT NULL,
            etag TEXT NOT NULL DEFAULT '',
            part_snapshot INTEGER NOT NULL,
            started_at TEXT NOT NULL,
            finished_at TEXT,
            targets TEXT NOT NULL DEFAULT '[]',
            outcome TEXT NOT NULL,
            merged_into INTEGER,
            merged_at TEXT NOT NULL
        );
        CREATE INDEX merged_parts_location ON merged_parts(location, etag);
        CREATE TABLE merged_targets (
            snapshot_id INTEGER NOT NULL REFERENCES snapshots(id) ON DELETE CASCADE,
            collector TEXT NOT NULL,
            target TEXT NOT NULL,
            provider TEXT NOT NULL,
            scope TEXT NOT NULL DEFAULT '',
            status TEXT NOT NULL,
            part TEXT NOT NULL,
            collected_at TEXT NOT NULL,
            carried TEXT NOT NULL DEFAULT '',
            PRIMARY KEY (snapshot_id, collector, target)
        );
        """
    )


@migrations(name="0004_findings_digest")
def _findings_digest(db: Database) -> None:
    """One digest of every finding's state per snapshot (see ``writer.findings_digest``):
    a poll whose findings are all as the last snapshot recorded them compares one value
    instead of reading back and re-hashing a hundred thousand rows. NULL on snapshots
    written before it, which therefore never match."""
    db.executescript("ALTER TABLE snapshots ADD COLUMN findings_digest TEXT;")
