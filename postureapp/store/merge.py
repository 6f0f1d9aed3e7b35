"""What ``posture merge`` keeps beside the snapshots it writes (migration 0003): the part
snapshots it has read, and where each target of a merged snapshot came from."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from postureapp.model import canonical_json


class MergeConflict(Exception):
    """Another writer changed the cache while this merge was judging; start again."""


@dataclass(frozen=True)
class PartRecord:
    """One part snapshot read by a merge, and what became of it."""

    digest: str
    location: str
    etag: str
    part_snapshot: int
    started_at: str
    finished_at: str | None
    targets: list[str] = field(default_factory=list)
    outcome: str = "merged"  # "merged", or "superseded" by a newer part of its targets


@dataclass(frozen=True)
class TargetRecord:
    """Where one target of a merged snapshot came from."""

    collector: str
    target: str
    provider: str
    scope: str
    status: str
    part: str  # the digest of its part snapshot
    collected_at: str
    carried: str = ""  # "", "as-is" (no new part yet) or "stale" (judged unknown)


def merged_digests(db: Any) -> set[str]:
    return {row[0] for row in db.execute("SELECT digest FROM merged_parts")}


def merged_locations(db: Any) -> set[tuple[str, str]]:
    """(location, etag) of every part read, so an S3 object seen before is not fetched."""
    return {(row[0], row[1]) for row in db.execute("SELECT location, etag FROM merged_parts")}


def merged_targets(db: Any, snapshot_id: int) -> dict[tuple[str, str], dict[str, Any]]:
    """(collector, target) -> its row of ``merged_targets`` for one snapshot (empty when
    the snapshot was not written by a merge)."""
    cursor = db.execute(
        "SELECT collector, target, provider, scope, status, part, collected_at, carried"
        " FROM merged_targets WHERE snapshot_id = ?",
        [snapshot_id],
    )
    columns = [d[0] for d in cursor.description]
    return {(row[0], row[1]): dict(zip(columns, row, strict=True)) for row in cursor}


def record(
    conn: sqlite3.Connection,
    snapshot_id: int,
    base_id: int | None,
    parts: Iterable[PartRecord],
    targets: Iterable[TargetRecord],
    merged_at: str,
) -> None:
    """Record a merge inside the transaction that wrote ``snapshot_id``.

    Raises:
        MergeConflict: a snapshot was written since ``base_id`` (the one this merge
            carried targets from), or one of these parts was merged meanwhile; the
            caller rolls back and merges again from the new state.
    """
    newest = conn.execute("SELECT max(id) FROM snapshots WHERE id != ?", [snapshot_id]).fetchone()[
        0
    ]
    if newest != base_id:
        raise MergeConflict(f"snapshot {newest} was written meanwhile")
    parts = list(parts)
    placeholders = ",".join("?" * len(parts))
    if parts:
        taken = conn.execute(
            f"SELECT digest FROM merged_parts WHERE digest IN ({placeholders})",  # noqa: S608
            [part.digest for part in parts],
        ).fetchall()
        if taken:
            raise MergeConflict(f"{len(taken)} part(s) were merged meanwhile")
    conn.executemany(
        "INSERT INTO merged_parts (digest, location, etag, part_snapshot, started_at,"
        " finished_at, targets, outcome, merged_into, merged_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                part.digest,
                part.location,
                part.etag,
                part.part_snapshot,
                part.started_at,
                part.finished_at,
                canonical_json(sorted(part.targets)),
                part.outcome,
                snapshot_id,
                merged_at,
            )
            for part in parts
        ],
    )
    conn.executemany(
        "INSERT INTO merged_targets (snapshot_id, collector, target, provider, scope, status,"
        " part, collected_at, carried) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                snapshot_id,
                t.collector,
                t.target,
                t.provider,
                t.scope,
                t.status,
                t.part,
                t.collected_at,
                t.carried,
            )
            for t in targets
        ],
    )


def part_history(db: Any, limit: int = 50) -> list[dict[str, Any]]:
    """The parts most recently read, newest first (``posture merge --list``)."""
    cursor = db.execute(
        "SELECT location, outcome, merged_into, merged_at, started_at, targets"
        " FROM merged_parts ORDER BY merged_at DESC, location LIMIT ?",
        [limit],
    )
    columns = [d[0] for d in cursor.description]
    rows = [dict(zip(columns, row, strict=True)) for row in cursor]
    for row in rows:
        row["targets"] = json.loads(row["targets"])
    return rows
