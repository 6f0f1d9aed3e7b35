"""The local SQLite cache: the single source of truth for views and exports.

Only the engine writes snapshots; views and exports read. See ``schema.py`` for the
versioned layout and ``writer.py`` for how a snapshot is written.
"""

from __future__ import annotations

import json
import sqlite3
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from postureapp.model import (
    SEVERITY_RANK,
    Attestation,
    CollectorRun,
    Finding,
    Resource,
    RunStatus,
    Snapshot,
    SnapshotStatus,
    Waiver,
)
from postureapp.store.database import (
    connect,
    default_db_path,
    describe_database_error,
    write_transaction,
)
from postureapp.store.diffing import changed_states
from postureapp.store.triage import TriageMixin
from postureapp.store.writer import WriteStats, write_snapshot

__all__ = ["Diff", "Store", "default_db_path", "describe_database_error"]

# Rows of one snapshot: versions that started at or before it and had not ended.
_AT = "valid_from <= :s AND (valid_to IS NULL OR valid_to > :s)"

FINDING_COLUMNS = (
    "fingerprint, check_id, resource_uid, status, severity, view, title, detail, evidence,"
    " waiver_id, first_seen"
)


@dataclass
class Diff:
    """What changed between two snapshots, by finding fingerprint.

    opened: failing in ``to`` and not failing (or absent) in ``from``.
    resolved: failing in ``from`` and passing (or gone) in ``to``; a finding gone because
    its provider was not polled at all in ``to`` is *changed* to ``unpolled`` instead.
    changed: failing in one, present in both, with another status (e.g. unknown),
    severity, waiver or content; ``fields`` names what moved.
    """

    from_id: int
    to_id: int
    opened: list[dict[str, Any]] = field(default_factory=list)
    resolved: list[dict[str, Any]] = field(default_factory=list)
    changed: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "from": self.from_id,
            "to": self.to_id,
            "opened": self.opened,
            "resolved": self.resolved,
            "changed": self.changed,
        }


class Store(TriageMixin):
    """A handle on one cache file. Cheap to open; close it when done."""

    def __init__(self, path: Path | str | None = None, *, readonly: bool = False) -> None:
        self.path = Path(path) if path is not None else default_db_path()
        self.db = connect(self.path, readonly=readonly)

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writing -------------------------------------------------------------------

    def write_snapshot(
        self,
        *,
        started_at: str,
        finished_at: str,
        status: SnapshotStatus,
        runs: Iterable[CollectorRun],
        resources: Iterable[Resource],
        findings: Iterable[Finding],
        waiver_ids: Mapping[str, int] | None = None,
        catalog: Iterable[dict] = (),
        derived: Mapping[str, Any] | None = None,
        settings: Mapping[str, Any] | None = None,
        within: Callable[[sqlite3.Connection, int], None] | None = None,
    ) -> WriteStats:
        """Write a whole snapshot in one transaction: a crash leaves the last one whole.
        ``within(conn, snapshot_id)`` runs inside that transaction, before it commits
        (what a merge records of its parts); if it raises, nothing is written."""
        with write_transaction(self.db) as conn:
            stats = write_snapshot(
                conn,
                started_at=started_at,
                finished_at=finished_at,
                status=status,
                runs=runs,
                resources=resources,
                findings=findings,
                waiver_ids=waiver_ids or {},
                catalog=catalog,
                derived=derived,
                settings=settings,
            )
            if within is not None:
                within(conn, stats.snapshot_id)
            return stats

    def prune(self, keep: int) -> int:
        """Keep the newest ``keep`` snapshots; return how many were dropped."""
        if keep < 1:
            raise ValueError("retention must keep at least one snapshot")
        with write_transaction(self.db) as conn:
            row = conn.execute(
                "SELECT id FROM snapshots ORDER BY id DESC LIMIT 1 OFFSET ?", (keep - 1,)
            ).fetchone()
            if row is None:
                return 0
            oldest_kept = row[0]
            dropped = conn.execute("DELETE FROM snapshots WHERE id < ?", (oldest_kept,)).rowcount
            conn.execute("DELETE FROM collector_runs WHERE snapshot_id < ?", (oldest_kept,))
            conn.execute("DELETE FROM snapshot_derived WHERE snapshot_id < ?", (oldest_kept,))
            conn.execute(
                "DELETE FROM derived_bodies WHERE hash NOT IN (SELECT hash FROM snapshot_derived)"
            )
            # A version that ended at or before the oldest kept snapshot is unreachable.
            for table in ("resources", "findings"):
                conn.execute(
                    f"DELETE FROM {table} WHERE valid_to IS NOT NULL AND valid_to <= ?",  # noqa: S608
                    (oldest_kept,),
                )
            return dropped

    # -- snapshots -----------------------------------------------------------------

    def snapshots(self, limit: int | None = None) -> list[Snapshot]:
        sql = "SELECT * FROM snapshots ORDER BY id DESC"
        rows = list(self.db.query(sql + (f" LIMIT {int(limit)}" if limit else "")))
        return [self._snapshot(row) for row in rows]

    def snapshot(self, snapshot_id: int) -> Snapshot | None:
        rows = list(self.db.query("SELECT * FROM snapshots WHERE id = ?", [snapshot_id]))
        return self._snapshot(rows[0]) if rows else None

    def latest(self) -> Snapshot | None:
        rows = list(self.db.query("SELECT * FROM snapshots ORDER BY id DESC LIMIT 1"))
        return self._snapshot(rows[0]) if rows else None

    def previous(self, snapshot_id: int) -> Snapshot | None:
        rows = list(
            self.db.query(
                "SELECT * FROM snapshots WHERE id < ? ORDER BY id DESC LIMIT 1", [snapshot_id]
            )
        )
        return self._snapshot(rows[0]) if rows else None

    def snapshot_before(self, moment: str) -> Snapshot | None:
        """The newest snapshot finished at or before ``moment`` (for "last 24 h")."""
        rows = list(
            self.db.query(
                "SELECT * FROM snapshots WHERE finished_at <= ? ORDER BY id DESC LIMIT 1",
                [moment],
            )
        )
        return self._snapshot(rows[0]) if rows else None

    def _snapshot(self, row: dict[str, Any]) -> Snapshot:
        runs = [
            CollectorRun(
                collector=r["collector"],
                target=r["target"],
                status=RunStatus(r["status"]),
                scope=r["scope"],
                error=r["error"],
                items=r["items"],
                api_calls=r["api_calls"],
                seconds=r["seconds"],
                unknown=json.loads(r["unknown"]),
                provider=r["provider"],
                kinds=json.loads(r["kinds"]),
            )
            for r in self.db.query(
                "SELECT * FROM collector_runs WHERE snapshot_id = ? ORDER BY id", [row["id"]]
            )
        ]
        return Snapshot(
            id=row["id"],
            started_at=row["started_at"],
            finished_at=row["finished_at"],
            status=SnapshotStatus(row["status"]),
            runs=runs,
            resource_count=row["resource_count"],
            finding_count=row["finding_count"],
        )

    # -- contents of a snapshot ------------------------------------------------------

    def resources(self, snapshot_id: int) -> Iterator[dict[str, Any]]:
        for row in self.db.query(
            f"SELECT uid, provider, scope, kind, name, namespace, attrs, created_at, first_seen"  # noqa: S608
            f" FROM resources WHERE {_AT} ORDER BY uid",
            {"s": snapshot_id},
        ):
            row["attrs"] = json.loads(row["attrs"])
            yield row

    def findings(self, snapshot_id: int) -> Iterator[dict[str, Any]]:
        """Every finding of a snapshot, worst first, with its evidence decoded."""
        for row in self.db.query(
            f"SELECT {FINDING_COLUMNS} FROM findings WHERE {_AT}"  # noqa: S608
            " ORDER BY severity_rank DESC, check_id, resource_uid",
            {"s": snapshot_id},
        ):
            row["evidence"] = json.loads(row["evidence"])
            yield row

    def derived(self, snapshot_id: int, name: str) -> Any:
        """A fact derived from one snapshot at judge time (``graph``, ``attack_paths``,
        ``exposure``), or None when that snapshot has none: it was written by a release
        that did not keep them, and readers say so rather than rebuild it."""
        row = self.db.conn.execute(
            "SELECT b.body FROM snapshot_derived d JOIN derived_bodies b ON b.hash = d.hash"
            " WHERE d.snapshot_id = ? AND d.name = ?",
            (snapshot_id, name),
        ).fetchone()
        return None if row is None else json.loads(zlib.decompress(row[0]))

    def catalog(self) -> dict[str, dict[str, Any]]:
        """The check metadata recorded with the snapshots (remediation, frameworks...)."""
        result = {}
        for row in self.db.query("SELECT * FROM checks"):
            row["frameworks"] = json.loads(row["frameworks"])
            row["references"] = json.loads(row["references"])
            result[row["id"]] = row
        return result

    def finding_history(self, fingerprint: str) -> list[dict[str, Any]]:
        """Every version of one finding, oldest first, with the snapshots it spanned."""
        return list(
            self.db.query(
                "SELECT f.status, f.severity, f.title, f.detail, f.waiver_id, f.valid_from,"
                " f.valid_to, s.finished_at AS seen_at FROM findings f"
                " LEFT JOIN snapshots s ON s.id = f.valid_from"
                " WHERE f.fingerprint = ? ORDER BY f.valid_from",
                [fingerprint],
            )
        )

    def finding_states(self, snapshot_id: int) -> dict[str, tuple]:
        """fingerprint -> (status, severity, waiver_id, hash, check_id, resource_uid, title)."""
        cursor = self.db.conn.execute(
            "SELECT fingerprint, status, severity, waiver_id, hash, check_id, resource_uid,"  # noqa: S608
            f" title FROM findings WHERE {_AT}",
            {"s": snapshot_id},
        )
        return {row[0]: row[1:] for row in cursor}

    def failing_with_scope(self, snapshot_id: int) -> Iterator[dict[str, Any]]:
        """Failing findings of a snapshot with the provider and scope of their resource
        (None for findings on a whole scope, whose resource is not in the inventory)."""
        for row in self.db.query(
            "SELECT f.fingerprint, f.check_id, f.resource_uid, f.severity, f.view, f.title,"
            " f.detail, f.evidence, r.provider, r.scope FROM findings f"
            " LEFT JOIN resources r ON r.uid = f.resource_uid"
            " AND r.valid_from <= :s AND (r.valid_to IS NULL OR r.valid_to > :s)"
            " WHERE f.status = 'fail' AND f.valid_from <= :s"
            " AND (f.valid_to IS NULL OR f.valid_to > :s)",
            {"s": snapshot_id},
        ):
            row["evidence"] = json.loads(row["evidence"])
            yield row

    def critical_failures(self, snapshot_id: int) -> dict[str, int]:
        """check_id -> number of failing critical findings in one snapshot (a control
        with one of them among its evidence fails, see postureapp.governance)."""
        return dict(
            self.db.conn.execute(
                f"SELECT check_id, count(*) FROM findings WHERE {_AT}"  # noqa: S608
                " AND status = 'fail' AND severity = 'critical' GROUP BY check_id",
                {"s": snapshot_id},
            ).fetchall()
        )

    def status_counts(self, snapshot_id: int) -> dict[str, dict[str, int]]:
        """check_id -> {status: count} for one snapshot (governance evidence)."""
        counts: dict[str, dict[str, int]] = {}
        for check_id, status, number in self.db.conn.execute(
            f"SELECT check_id, status, count(*) FROM findings WHERE {_AT}"  # noqa: S608
            " GROUP BY check_id, status",
            {"s": snapshot_id},
        ):
            counts.setdefault(check_id, {})[status] = number
        return counts

    # -- diff ------------------------------------------------------------------------

    def diff(self, from_id: int, to_id: int) -> Diff:
        for snapshot_id in (from_id, to_id):
            if self.snapshot(snapshot_id) is None:
                raise LookupError(f"no snapshot {snapshot_id} in the cache")
        # Only rows in one snapshot and not the other can differ (store/diffing.py).
        before, after = changed_states(self.db.conn, from_id, to_id)
        result = Diff(from_id=from_id, to_id=to_id)
        for fp, now in after.items():
            then = before.get(fp)
            failing_now = now[0] == "fail"
            failing_then = then is not None and then[0] == "fail"
            if failing_now and not failing_then:
                if then is None or then[0] == "pass":
                    result.opened.append(_diff_row(fp, now, then))
                else:  # unknown -> fail is a change of knowledge, not a new problem
                    result.changed.append(_diff_row(fp, now, then, _moved(then, now)))
            elif then is not None and failing_then and not failing_now:
                if now[0] == "pass":
                    result.resolved.append(_diff_row(fp, now, then))
                else:  # fail -> unknown: we lost sight of it, it is not fixed
                    result.changed.append(_diff_row(fp, now, then, _moved(then, now)))
            elif then is not None and failing_now and failing_then:
                moved = _moved(then, now)
                if moved:
                    result.changed.append(_diff_row(fp, now, then, moved))
        unpolled = self._polled_providers(from_id) - self._polled_providers(to_id)
        provider_of = (
            {row[0]: row[1] for row in self.db.conn.execute("SELECT id, provider FROM checks")}
            if unpolled
            else {}
        )
        for fp, then in before.items():
            if fp not in after and then[0] == "fail":
                if provider_of.get(then[4]) in unpolled:
                    # Its source was not polled at all (probes turned off, a target
                    # dropped): nobody looked, so it is not resolved.
                    row = _diff_row(fp, None, then, ["status"])
                    row["status"] = "unpolled"
                    result.changed.append(row)
                else:
                    result.resolved.append(_diff_row(fp, None, then))
        for bucket in (result.opened, result.resolved, result.changed):
            bucket.sort(key=lambda row: (-SEVERITY_RANK.get(row["severity"], 0), row["check_id"]))
        return result

    def _polled_providers(self, snapshot_id: int) -> set[str]:
        return {
            provider or collector
            for provider, collector in self.db.conn.execute(
                "SELECT DISTINCT provider, collector FROM collector_runs WHERE snapshot_id = ?",
                [snapshot_id],
            )
        }

    # -- export helpers --------------------------------------------------------------

    def waived_fingerprints(self, findings: Iterable[Mapping[str, Any]]) -> dict[str, Waiver]:
        """Which of these findings are waived *now* (live waivers, not the recorded ones)."""
        matcher = self.waiver_matcher()
        result = {}
        for finding in findings:
            waiver = matcher(finding["fingerprint"], finding["check_id"], finding["resource_uid"])
            if waiver is not None:
                result[finding["fingerprint"]] = waiver
        return result


_STATE_FIELDS = ("status", "severity", "waived", "content")


def _moved(then: tuple, now: tuple) -> list[str]:
    pairs = (
        (then[0], now[0]),
        (then[1], now[1]),
        (then[2] is not None, now[2] is not None),
        (then[3], now[3]),
    )
    return [name for name, (a, b) in zip(_STATE_FIELDS, pairs, strict=True) if a != b]


def _diff_row(fp: str, now: tuple | None, then: tuple | None, fields=None) -> dict[str, Any]:
    base = now if now is not None else then
    assert base is not None  # every row has a side: a finding before, after or both
    row = {
        "fingerprint": fp,
        "check_id": base[4],
        "resource_uid": base[5],
        "title": base[6],
        "severity": base[1],
        "status": now[0] if now is not None else "absent",
        "previous_status": then[0] if then is not None else "absent",
        "waived": now is not None and now[2] is not None,
    }
    if fields is not None:
        row["fields"] = fields
    return row


__all__ += ["Attestation", "WriteStats"]
