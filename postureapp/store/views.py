"""Read-only queries behind the dashboard: paged finding tables, overview, header.

Nothing here imports Textual; the dashboard (``postureapp.tui``) renders what these
functions return, and an export could reuse them.

How the finding tables stay fast on 100,000 findings: when the shown snapshot changes,
:class:`DashboardQueries` copies that snapshot's findings, joined with their resources,
into one TEMP table on its own connection (``temp.tui_findings``, in memory), with rows
grouped by view so that a view is one contiguous range of row ids. Every filter and
sort is then one SQL statement over that range, returning the ordered row ids of the
matching rows (8 bytes a row); rows themselves are fetched a page at a time by id
(``WHERE rid IN (...)``) and kept in a small LRU. Fetching a page costs the same at row
40,000 as at row 0, which ``LIMIT ... OFFSET`` with a sort does not (a deep OFFSET sorts
and skips everything before it: 117 ms at row 30,000 of 50,000, against 0.2 ms).

The copy takes most of a second on 100,000 findings, so the dashboard's first frame
does not wait for it: :meth:`DashboardQueries.preview` reads the shown snapshot and its
counts (score, open findings by view and severity) straight from the cache in one
scan, the overview paints them, and :meth:`DashboardQueries.reload` builds the table
right after (``ready`` says when it is there). The console script starts both in a
thread (:class:`postureapp.store.loading.Loading`) before it imports Textual, so they
go on while it starts.
"""

from __future__ import annotations

import bisect
import fnmatch
import json
import sqlite3
from array import array
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from postureapp.model import (
    CollectorRun,
    Control,
    Severity,
    Snapshot,
    View,
    isoformat,
    split_k8s_uid,
    utcnow,
)
from postureapp.store.browse import Context, ResourceQueries, contexts
from postureapp.store.filters import (
    FILTER_HELP,
    FilterSpec,
    Term,
    filter_sql,
    like,
    parse_filter,
)
from postureapp.store.rootcauses import folded_sql, stage_causes, top_causes

__all__ = [
    "FILTER_HELP",
    "SEVERITY_WEIGHTS",
    "SORT_COLUMNS",
    "DashboardQueries",
    "FilterSpec",
    "FindingRows",
    "Overview",
    "Score",
    "Sort",
    "Term",
    "filter_sql",
    "parse_filter",
    "posture_score",
    "score_trend",
]

# -- the posture score -------------------------------------------------------------------

SEVERITY_WEIGHTS: dict[str, int] = {"critical": 10, "high": 5, "medium": 3, "low": 1, "info": 0}


@dataclass(frozen=True, slots=True)
class Score:
    """A posture score and the figures it was computed from."""

    value: float | None  # None when nothing was judged: "no data" is not "100"
    passing: int  # passing findings (weighted ones count in ``value``)
    failing: int  # unwaived failing findings
    waived: int  # failing findings under a live waiver (left out of ``value``)
    unknown: int  # unknown or error: never counted as pass, shown beside the score
    pass_weight: int = 0
    fail_weight: int = 0

    @property
    def judged(self) -> int:
        return self.passing + self.failing

    @property
    def unknown_share(self) -> float | None:
        """Share of the evaluated findings the score could not judge (0..1)."""
        total = self.judged + self.unknown
        return self.unknown / total if total else None


def posture_score(counts: Iterable[tuple[str, str, bool, int]]) -> Score:
    """The posture score of one snapshot, from 0 (everything that matters fails) to 100.

    Definition (README, "Posture score")::

        score = 100 x P / (P + F)

    where F is the sum of the severity weights of the *unwaived failing* findings and P
    the sum of the weights of the *passing* findings, with weights critical 10, high 5,
    medium 3, low 1, info 0. So the score is the weighted share of judged checks that
    pass: one open critical costs as much as ten passing lows earn.

    * Findings whose status is **unknown** or **error** (the data was not collected, or
      the check broke) are in neither P nor F: they are never counted as pass. Their
      number is shown beside the score, so "92 (1,200 unknown)" cannot pass for "92".
    * A failing finding under a **live waiver** (an accepted risk with an owner and an
      expiry) is left out of both P and F; an expired waiver no longer counts.
    * When nothing was judged (P + F = 0) there is no score ("n/a"), never 100.

    The dashboard computes the latest snapshot's score with the waivers live now, and
    each older snapshot's (the trend) with the waivers recorded when it was collected.

    Args:
        counts: ``(status, severity, waived, number)`` rows.
    """
    passing = failing = waived = unknown = pass_weight = fail_weight = 0
    for status, severity, is_waived, number in counts:
        weight = SEVERITY_WEIGHTS.get(severity, 0)
        if status == "pass":
            passing += number
            pass_weight += weight * number
        elif status == "fail" and is_waived:
            waived += number
        elif status == "fail":
            failing += number
            fail_weight += weight * number
        else:
            unknown += number
    total = pass_weight + fail_weight
    value = round(100 * pass_weight / total, 1) if total else None
    return Score(value, passing, failing, waived, unknown, pass_weight, fail_weight)


# -- sorting -----------------------------------------------------------------------------

# column key -> SQL expression, ascending meaning "natural" order
SORT_COLUMNS: dict[str, str] = {
    "severity": "severity_rank",
    "status": "CASE status WHEN 'pass' THEN 0 WHEN 'unknown' THEN 1 WHEN 'error' THEN 2 ELSE 3 END",
    "title": "title COLLATE NOCASE",
    "check": "check_id",
    "kind": "kind COLLATE NOCASE",
    "name": "name COLLATE NOCASE",
    "namespace": "namespace",
    "scope": "scope",
    "where": "scope || '/' || namespace",
    "provider": "provider",
    "age": "first_seen",  # descending age = oldest first = first_seen ascending
    "waiver": "waiver",
    "exposed": "exposed",
    "reach": "reach_rank",
    "view": "view",
}


@dataclass(frozen=True, slots=True)
class Sort:
    column: str = "severity"
    descending: bool = True

    def sql(self) -> str:
        expression = SORT_COLUMNS[self.column]
        descending = self.descending
        if self.column == "age":
            descending = not descending
        direction = "DESC" if descending else "ASC"
        return f"{expression} {direction}, severity_rank DESC, check_id, name, rid"


# -- paged rows --------------------------------------------------------------------------

ROW_COLUMNS = (
    "rid, fid, fingerprint, check_id, resource_uid, status, severity, severity_rank, view,"
    " title, first_seen, name, kind, namespace, scope, provider, waiver, exposed, reach,"
    " cause, cause_label"
)
WAIVER_NONE, WAIVER_LIVE, WAIVER_EXPIRED = 0, 1, 2
_SEVERITY_BY_RANK = {severity.rank: severity.value for severity in Severity}


class FindingRows:
    """The result of one filter/sort: ordered finding ids, rows fetched by page (LRU).

    Rows are plain dicts with the :data:`ROW_COLUMNS` keys. A ``FindingRows`` stays
    valid until the queries reload another snapshot (``generation`` changes).
    """

    PAGE = 100
    MAX_PAGES = 64

    def __init__(
        self,
        queries: DashboardQueries,
        ids: array,
        total: int,
        view: str | None = None,
        show_waived: bool = False,
        affects: dict[int, int] | None = None,
    ) -> None:
        self._queries = queries
        self._conn = queries.conn
        self._rebuilds = queries.rebuilds
        self.ids = ids
        self.generation = queries.generation
        self.total = total  # rows of the view before the filter
        self.view = view
        self.show_waived = show_waived
        # Folded by root cause: row id -> how many rows its cause stands for (over 1).
        self.affects = affects
        self._widths: dict[str, int] | None = None
        self._pages: OrderedDict[int, list[dict[str, Any]]] = OrderedDict()

    def widths(self) -> dict[str, int]:
        """The widest value of each column over the whole view (not this filter's
        rows, so that the layout holds still while a filter is typed); a list across
        views (a control's evidence) is measured on its own rows."""
        if self.view is None and len(self.ids) <= 5000:
            if self._widths is None:
                self._widths = self._queries.rows_widths(self.ids, self.show_waived)
            return self._widths
        return self._queries.view_widths(self.view, self.show_waived)

    def __len__(self) -> int:
        return len(self.ids)

    def row(self, index: int) -> dict[str, Any] | None:
        if not 0 <= index < len(self.ids):
            return None
        number, offset = divmod(index, self.PAGE)
        page = self._pages.get(number)
        if page is None:
            page = self._fetch(number)
        else:
            self._pages.move_to_end(number)
        return page[offset] if offset < len(page) else None

    def index_of(self, fid: int) -> int | None:
        """Position of a finding (by its id in main.findings) in this result."""
        if self._rebuilds != self._queries.rebuilds:
            return None
        found = self._conn.execute(
            "SELECT rid FROM temp.tui_findings WHERE fid = ?", (fid,)
        ).fetchone()
        if found is None:
            return None
        try:
            return self.ids.index(found[0])
        except ValueError:
            return None

    def _fetch(self, number: int) -> list[dict[str, Any]]:
        wanted = self.ids[number * self.PAGE : (number + 1) * self.PAGE].tolist()
        if self._rebuilds != self._queries.rebuilds:
            # The table was rebuilt for another snapshot: these row ids mean other rows
            # now. The screen re-queries; until then show nothing rather than wrong rows.
            return [_missing_row(rid) for rid in wanted]
        placeholders = ",".join("?" * len(wanted))
        cursor = self._conn.execute(
            f"SELECT {ROW_COLUMNS} FROM temp.tui_findings WHERE rid IN ({placeholders})",  # noqa: S608
            wanted,
        )
        names = [d[0] for d in cursor.description]
        by_id = {row[0]: dict(zip(names, row, strict=True)) for row in cursor}
        if self.affects is not None:
            for rid, row in by_id.items():
                row["affects"] = self.affects.get(rid, 1)
        # A row may be gone only if the table was rebuilt under us; keep positions.
        page = [by_id.get(rid) or _missing_row(rid) for rid in wanted]
        self._pages[number] = page
        while len(self._pages) > self.MAX_PAGES:
            self._pages.popitem(last=False)
        return page


def _missing_row(rid: int) -> dict[str, Any]:
    return dict.fromkeys(c.strip() for c in ROW_COLUMNS.split(",")) | {"rid": rid}


class ListRows:
    """The same interface as :class:`FindingRows` over rows already in memory (the
    governance checklist, a diff)."""

    def __init__(self, rows: list[dict[str, Any]], generation: int = 0) -> None:
        self.rows = rows
        self.generation = generation
        self.total = len(rows)

    def __len__(self) -> int:
        return len(self.rows)

    def row(self, index: int) -> dict[str, Any] | None:
        return self.rows[index] if 0 <= index < len(self.rows) else None


# -- overview ----------------------------------------------------------------------------


@dataclass
class Overview:
    snapshot: Snapshot | None
    previous: Snapshot | None
    score: Score
    failing: dict[str, dict[str, int]]  # view -> severity -> unwaived failing findings
    unknown: dict[str, int]  # view -> unknown/error findings
    opened: int | None  # since the previous snapshot (None without one)
    resolved: int | None
    top_risks: list[dict[str, Any]] | None  # None: not read yet (``DashboardQueries.ready``)


@dataclass
class HeaderInfo:
    snapshot: Snapshot | None
    kube_contexts: list[str]
    aws_scopes: list[str]
    other_targets: list[str]
    # (collector, target) -> finished_at of the newest snapshot where that run was ok
    last_ok: dict[tuple[str, str], str]


_AT = "valid_from <= :s AND (valid_to IS NULL OR valid_to > :s)"
# A row is in the context ``:scope`` when its scope is that name or starts with it and
# a "/" (an account holds its account/region scopes).
IN_SCOPE = "(scope = :scope OR substr(scope, 1, length(:scope) + 1) = :scope || '/')"


class DashboardQueries:
    """Read-only queries over one Store for the dashboard. Main-thread only: it owns
    TEMP tables on the store's connection.

    Args:
        store: an open :class:`~postureapp.store.Store` (its connection is used as is).
        clock: "now", injectable so ages and waiver expiry are deterministic in tests.
    """

    def __init__(self, store: Any, clock: Callable[[], datetime] = utcnow) -> None:
        self.store = store
        self.conn: sqlite3.Connection = store.db.conn
        self.clock = clock
        self.snapshot: Snapshot | None = None
        self.previous: Snapshot | None = None
        self.generation = 0  # bumped when the rows or their waiver flags change
        self.rebuilds = 0  # bumped when the table is rebuilt (row ids change meaning)
        self._counts: list[tuple[str, str, int, int, int]] = []
        self._aws_scopes: list[str] = []
        self._ranges: dict[str, tuple[int, int]] = {}
        self._widths: tuple[int, dict[str | None, dict[str, int]]] = (-1, {})
        # The context shown (a cluster, an account, an account/region; None: all). The
        # TEMP tables hold only its rows, so every view, count and score follows it.
        self.scope: str | None = None
        self.ready = False  # the rows table is built (False after a preview, until reload)
        # (snapshot id, previous id) -> (opened, resolved): two scans, once per pair
        self._changes: dict[tuple[int, int], tuple[int | None, int | None]] = {}
        self.browse = ResourceQueries(self)
        self.conn.execute("PRAGMA temp_store = MEMORY")
        self._create_table()

    # -- loading -------------------------------------------------------------------------

    def _create_table(self) -> None:
        # ``rid`` orders rows by view, so a view is a contiguous rid range and a query
        # scans only its own view's rows; ``fid`` is the finding's id in main.findings.
        self.conn.executescript(
            """
            DROP TABLE IF EXISTS temp.tui_findings;
            CREATE TEMP TABLE tui_findings (
                rid INTEGER PRIMARY KEY, fid INTEGER NOT NULL, fingerprint TEXT,
                check_id TEXT, resource_uid TEXT, status TEXT, severity TEXT,
                severity_rank INTEGER, view TEXT, title TEXT, first_seen TEXT,
                waiver_id INTEGER, name TEXT, kind TEXT, namespace TEXT, scope TEXT,
                provider TEXT, waiver INTEGER NOT NULL DEFAULT 0,
                exposed INTEGER NOT NULL DEFAULT 0, reach TEXT NOT NULL DEFAULT '',
                reach_rank INTEGER NOT NULL DEFAULT 0, cause TEXT, cause_label TEXT
            );
            """
        )

    def preview(self) -> None:
        """Before the first frame: the newest snapshot and the counts behind the score
        and the overview, read from the cache in one scan of its findings, without
        building the rows table (:meth:`reload` must follow; until then ``ready`` is
        False, the rows are empty and :meth:`overview` has no top risks)."""
        latest = self.store.latest()
        self.snapshot = latest
        self.previous = self.store.previous(latest.id) if latest else None
        self.generation += 1
        self.ready = False
        self._aws_scopes = []
        self._counts = []
        if latest is None:
            return
        flag, params = _waiver_flag_sql(self.conn, self.store.waivers(), self.clock())
        self._counts = self.conn.execute(
            f"SELECT view, status, severity_rank, {flag}, count(*) FROM main.findings"  # noqa: S608
            f" WHERE {_AT} GROUP BY 1, 2, 3, 4",
            params | {"s": latest.id},
        ).fetchall()
        # The header's account/region scopes (the rows table takes those of its rows).
        self._aws_scopes = [
            row[0]
            for row in self.conn.execute(
                f"SELECT DISTINCT scope FROM main.resources WHERE {_AT}"  # noqa: S608
                " AND provider = 'aws' AND scope != '' ORDER BY scope",
                {"s": latest.id},
            )
        ]
        self.changes_since_previous()  # the overview shows it too; the thread reads it

    def take_preview(
        self,
        snapshot: Any,
        previous: Any,
        counts: list[Any],
        changes: dict[Any, Any],
        aws_scopes: list[str],
    ) -> None:
        """A preview made elsewhere (:class:`Loading`), as if by :meth:`preview`."""
        self.snapshot, self.previous = snapshot, previous
        self.generation += 1
        self.ready = False
        self._aws_scopes = aws_scopes
        self._counts = counts
        self._changes.update(changes)

    def reload(self, force: bool = False) -> bool:
        """Show the newest snapshot; return True when it changed (views must refresh)."""
        latest = self.store.latest()
        shown = self.snapshot.id if self.snapshot else None
        if not force and self.ready and shown == (latest.id if latest else None):
            return False
        self.snapshot = latest
        self.previous = self.store.previous(latest.id) if latest else None
        # Counts of changes stay valid for the same pair of snapshots only.
        pair = (latest.id, self.previous.id) if latest and self.previous else None
        counted = self._changes.get(pair) if pair is not None else None
        self._changes = {pair: counted} if pair is not None and counted is not None else {}
        self.generation += 1
        self.rebuilds += 1
        self._ranges = {}
        with self.conn:
            self.conn.execute("DROP INDEX IF EXISTS temp.tui_findings_fid")
            self.conn.execute("DROP INDEX IF EXISTS temp.tui_findings_uid")
            self.conn.execute("DELETE FROM temp.tui_findings")
            if latest is not None:
                stage_causes(self.conn, latest.id)
                known = [view.value for view in View]
                for view in [*known, None]:  # None: any view this version does not know
                    self._insert_view(latest.id, view, known)
            # Lookups by finding id (detail pane) and by resource (related, jumps).
            self.conn.execute("CREATE INDEX temp.tui_findings_fid ON tui_findings(fid)")
            self.conn.execute("CREATE INDEX temp.tui_findings_uid ON tui_findings(resource_uid)")
        self._fill_missing_resources()
        self._aws_scopes = [
            row[0]
            for row in self.conn.execute(
                "SELECT DISTINCT scope FROM temp.tui_findings WHERE provider = 'aws'"
                " AND scope != '' ORDER BY scope"
            )
        ]
        if self.scope is not None:
            with self.conn:
                self.conn.execute(
                    f"DELETE FROM temp.tui_findings WHERE NOT {IN_SCOPE}",  # noqa: S608
                    {"scope": self.scope},
                )
        self.apply_waivers()
        self.ready = True
        return True

    def contexts(self) -> list[Context]:
        """The contexts (clusters, accounts, regions) of the shown snapshot, whatever
        context is shown."""
        return contexts(self.conn, self.snapshot)

    def set_scope(self, scope: str | None) -> None:
        """Show one context (``None``: all of them) in every view; rebuilds the rows."""
        self.scope = scope or None
        self.reload(force=True)

    _WIDTHS_SQL = (
        "max(length(title)), max(length(kind)), max(length(name)),"
        " max(length(scope) + length(namespace) + (namespace != '')),"
        " max(length(reach)), max(exposed), max(waiver = 1), max(waiver = 2)"
    )
    _WIDTH_KEYS = ("title", "kind", "name", "where", "reach", "exposed", "live", "expired")

    def rows_widths(self, ids: Iterable[int], show_waived: bool = False) -> dict[str, int]:
        """Like :meth:`view_widths`, over some rows (by row id)."""
        wanted = list(ids)
        stats = dict.fromkeys(self._WIDTH_KEYS, 0)
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            row = self.conn.execute(
                f"SELECT {self._WIDTHS_SQL} FROM temp.tui_findings"  # noqa: S608
                f" WHERE rid IN ({','.join('?' * len(chunk))})",
                chunk,
            ).fetchone()
            for key, value in zip(self._WIDTH_KEYS, row, strict=True):
                stats[key] = max(stats[key], value or 0)
        return self._shown_widths(stats, show_waived)

    def view_widths(self, view: str | None, show_waived: bool = False) -> dict[str, int]:
        """Widest title, kind, name, scope/namespace and reach of a view's findings as
        shown by default (passes hidden), and whether any has a waiver flag or an
        exposure to show (one scan per generation)."""
        generation, by_view = self._widths
        if generation != self.generation:
            by_view = {}
            for row in self.conn.execute(
                f"SELECT view, {self._WIDTHS_SQL} FROM temp.tui_findings"  # noqa: S608
                " WHERE status != 'pass' GROUP BY view"
            ):
                by_view[row[0]] = dict(
                    zip(self._WIDTH_KEYS, (value or 0 for value in row[1:]), strict=True)
                )
            self._widths = (self.generation, by_view)
        if view is None:
            stats: dict[str, int] = {}
            for values in by_view.values():
                for key, value in values.items():
                    stats[key] = max(stats.get(key, 0), value)
        else:
            stats = dict(by_view.get(view, {}))
        return self._shown_widths(stats, show_waived)

    @staticmethod
    def _shown_widths(stats: dict[str, int], show_waived: bool) -> dict[str, int]:
        waived = stats.pop("expired", 0) or (show_waived and stats.get("live", 0))
        stats.pop("live", None)
        stats["waiver"] = 7 if waived else 0
        stats["exposed"] = 3 if stats.get("exposed") else 0
        return stats

    def _insert_view(self, snapshot_id: int, view: str | None, known: list[str]) -> None:
        before = self.conn.execute("SELECT coalesce(max(rid), 0) FROM temp.tui_findings")
        first = before.fetchone()[0] + 1
        if view is not None:
            where, params = "f.view = :v", {"s": snapshot_id, "v": view}
        else:
            marks = ",".join(f":k{index}" for index in range(len(known)))
            where = f"f.view NOT IN ({marks})"
            params = {"s": snapshot_id} | {f"k{i}": name for i, name in enumerate(known)}
        self.conn.execute(
            "INSERT INTO temp.tui_findings (fid, fingerprint, check_id, resource_uid,"  # noqa: S608
            " status, severity, severity_rank, view, title, first_seen, waiver_id, name,"
            " kind, namespace, scope, provider, cause, cause_label)"
            " SELECT f.id, f.fingerprint, f.check_id, f.resource_uid, f.status,"
            " f.severity, f.severity_rank, f.view, f.title, f.first_seen, f.waiver_id,"
            " coalesce(r.name, f.resource_uid), coalesce(r.kind, ''),"
            " coalesce(r.namespace, ''), coalesce(r.scope, ''),"
            " coalesce(r.provider, c.provider, ''), rc.id, rc.label"
            " FROM main.findings f"
            " LEFT JOIN main.resources r ON r.uid = f.resource_uid"
            " AND r.valid_from <= :s AND (r.valid_to IS NULL OR r.valid_to > :s)"
            " LEFT JOIN main.checks c ON c.id = f.check_id"
            " LEFT JOIN temp.tui_causes rc ON rc.fp = f.fingerprint"
            f" WHERE f.valid_from <= :s AND (f.valid_to IS NULL OR f.valid_to > :s) AND {where}",
            params,
        )
        last = self.conn.execute("SELECT coalesce(max(rid), 0) FROM temp.tui_findings")
        last = last.fetchone()[0]
        if view is not None and last >= first:
            self._ranges[view] = (first, last)

    def _fill_missing_resources(self) -> None:
        """Findings whose resource is not in this snapshot: a whole scope (a cluster, an
        account) or a resource carried forward as unknown from a scope gone blind. Take
        the resource's last known version, else what the uid itself says."""
        missing = self.conn.execute(
            "SELECT rid, resource_uid FROM temp.tui_findings WHERE kind = ''"
        ).fetchall()
        updates = []
        for rid, uid in missing:
            row = self.conn.execute(
                "SELECT kind, name, namespace, scope, provider FROM main.resources"
                " WHERE uid = ? ORDER BY valid_from DESC LIMIT 1",
                (uid,),
            ).fetchone()
            updates.append((*(row or parse_uid(uid)), rid))
        if updates:
            with self.conn:
                self.conn.executemany(
                    "UPDATE temp.tui_findings SET kind = ?, name = ?, namespace = ?, scope = ?,"
                    " provider = CASE WHEN provider = '' THEN ? ELSE provider END WHERE rid = ?",
                    updates,
                )

    def apply_waivers(self) -> None:
        """Mark rows covered by a live waiver (hidden by default) or by an expired one
        (shown, flagged), with the same matching rules as ``Store.waiver_matcher``."""
        now = self.clock()
        waivers = self.store.waivers()
        with self.conn:
            self.conn.execute("UPDATE temp.tui_findings SET waiver = 0 WHERE waiver != 0")
            # expired first, so that a live waiver on the same finding wins
            for flag, group in (
                (WAIVER_EXPIRED, [w for w in waivers if w.is_expired(now)]),
                (WAIVER_LIVE, [w for w in waivers if not w.is_expired(now)]),
            ):
                fingerprints = [(w.fingerprint,) for w in group if w.fingerprint]
                if fingerprints:
                    self.conn.execute("CREATE TEMP TABLE IF NOT EXISTS tui_fps (fp TEXT)")
                    self.conn.execute("DELETE FROM temp.tui_fps")
                    self.conn.executemany("INSERT INTO temp.tui_fps VALUES (?)", fingerprints)
                    self.conn.execute(
                        "UPDATE temp.tui_findings SET waiver = ? WHERE fingerprint IN"
                        " (SELECT fp FROM temp.tui_fps)",
                        (flag,),
                    )
                globs = [w for w in group if not w.fingerprint and w.check_id]
                for waiver in globs:
                    pattern = waiver.resource_glob or "*"
                    matched = [
                        (flag, rid)
                        for rid, uid in self.conn.execute(
                            "SELECT rid, resource_uid FROM temp.tui_findings WHERE check_id = ?",
                            (waiver.check_id,),
                        )
                        if fnmatch.fnmatchcase(uid, pattern)
                    ]
                    self.conn.executemany(
                        "UPDATE temp.tui_findings SET waiver = ? WHERE rid = ?", matched
                    )
        # One scan gives the score, the overview counts and the per-view totals.
        self._counts = self.conn.execute(
            "SELECT view, status, severity_rank, waiver, count(*) FROM temp.tui_findings"
            " GROUP BY 1, 2, 3, 4"
        ).fetchall()
        self.generation += 1

    def apply_exposure(self, snapshot_id: int, table: Mapping[str, Any]) -> bool:
        """Fill the ``exposed`` and ``reach`` columns from the identity graph of
        ``snapshot_id`` (uid -> object with ``exposed``, ``reach``, ``rank``), computed in a
        worker; ignored (False) when another snapshot is shown by now."""
        if self.snapshot is None or self.snapshot.id != snapshot_id:
            return False
        uids = [
            row[0]
            for row in self.conn.execute("SELECT DISTINCT resource_uid FROM temp.tui_findings")
        ]
        updates = [
            (int(item.exposed), item.reach, item.rank, uid)
            for uid in uids
            if (item := table.get(uid)) is not None
        ]
        with self.conn:
            self.conn.execute(
                "UPDATE temp.tui_findings SET exposed = 0, reach = '', reach_rank = 0"
            )
            self.conn.executemany(
                "UPDATE temp.tui_findings SET exposed = ?, reach = ?, reach_rank = ?"
                " WHERE resource_uid = ?",
                updates,
            )
        self.generation += 1
        return True

    # -- tables --------------------------------------------------------------------------

    def query(
        self,
        view: str | None,
        spec: FilterSpec,
        sort: Sort,
        *,
        show_waived: bool = False,
        checks: Iterable[str] | None = None,
        fold: bool = False,
    ) -> FindingRows:
        """Rows of ``view`` (``None``: every view) matching ``spec``, ordered by
        ``sort``, all in SQL; ``checks`` keeps only those checks' findings; ``fold``
        shows one row per root cause (rows get ``affects``)."""
        params: list[Any] = []
        clauses: list[str] = []
        if view is not None:
            first, last = self._ranges.get(view, (1, 0))
            params += [first, last]
            clauses.append("rid BETWEEN ? AND ?")
        wanted = sorted(set(checks)) if checks is not None else []
        in_checks = f"check_id IN ({','.join('?' * len(wanted)) or 'NULL'})"
        if checks is not None:
            params += wanted
            clauses.append(in_checks)
        clauses += filter_sql(spec, params)
        if not show_waived:
            clauses.append(f"waiver != {WAIVER_LIVE}")
        sql = (
            "SELECT rid FROM temp.tui_findings WHERE "  # noqa: S608
            + " AND ".join(clauses)
            + " ORDER BY "
            + sort.sql()
        )
        affects: dict[int, int] | None = None
        if fold:
            ids, affects = array("q"), {}
            for rid, count in self.conn.execute(
                folded_sql(" AND ".join(clauses) or "1", sort.sql()), params
            ):
                ids.append(rid)
                if count > 1:
                    affects[rid] = count
        else:
            ids = array("q", (row[0] for row in self.conn.execute(sql, params)))
        if checks is not None:
            total = self.conn.execute(
                f"SELECT count(*) FROM temp.tui_findings WHERE {in_checks}",  # noqa: S608
                wanted,
            ).fetchone()[0]
        else:
            total = sum(row[4] for row in self._counts if view is None or row[0] == view)
        return FindingRows(self, ids, total, view, show_waived, affects)

    def row(self, fid: int) -> dict[str, Any] | None:
        """The table row of one finding of the shown snapshot, by finding id."""
        cursor = self.conn.execute(
            f"SELECT {ROW_COLUMNS} FROM temp.tui_findings WHERE fid = ?",  # noqa: S608
            (fid,),
        )
        names = [d[0] for d in cursor.description]
        found = cursor.fetchone()
        return dict(zip(names, found, strict=True)) if found else None

    def views_of_resource(self, uid: str) -> list[str]:
        """Views holding findings on ``uid``, those with failing findings first."""
        return [
            row[0]
            for row in self.conn.execute(
                "SELECT view FROM temp.tui_findings WHERE resource_uid = ?"
                " GROUP BY view ORDER BY max(status = 'fail') DESC, count(*) DESC, view",
                (uid,),
            )
        ]

    def hidden_waived(self, view: str) -> int:
        """Findings of ``view`` hidden because a live waiver covers them."""
        return sum(
            row[4]
            for row in self._counts
            if row[0] == view and row[3] == WAIVER_LIVE and row[1] == "fail"
        )

    def view_of(self, fingerprint: str) -> tuple[str, int] | None:
        """(view, fid) of a finding of the shown snapshot, by fingerprint."""
        row = self.conn.execute(
            "SELECT view, fid FROM temp.tui_findings WHERE fingerprint = ?", (fingerprint,)
        ).fetchone()
        return (row[0], row[1]) if row else None

    def describe_resources(self, uids: Iterable[str]) -> dict[str, tuple[str, str, str, str]]:
        """uid -> (kind, name, namespace, scope) from each resource's newest version,
        else from the uid itself (a whole cluster or account)."""
        wanted = sorted(set(uids))
        found: dict[str, tuple[str, str, str, str]] = {}
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for uid, kind, name, namespace, scope in self.conn.execute(
                "SELECT uid, kind, name, namespace, scope FROM main.resources"  # noqa: S608
                f" WHERE uid IN ({marks}) ORDER BY valid_from",
                chunk,
            ):
                found[uid] = (kind, name, namespace, scope)  # the newest version wins
        for uid in wanted:
            if uid not in found:
                kind, name, namespace, scope, _ = parse_uid(uid)
                found[uid] = (kind, name, namespace, scope)
        return found

    # -- one finding ---------------------------------------------------------------------

    def finding(self, fid: int) -> dict[str, Any] | None:
        """Everything the detail pane shows about one finding."""
        cursor = self.conn.execute(
            "SELECT f.id AS fid, f.fingerprint, f.check_id, f.resource_uid, f.status,"
            " f.severity, f.view, f.title, f.detail, f.evidence, f.waiver_id, f.first_seen,"
            " t.waiver AS waiver_state FROM main.findings f"
            " LEFT JOIN temp.tui_findings t ON t.fid = f.id WHERE f.id = ?",
            (fid,),
        )
        names = [d[0] for d in cursor.description]
        row = cursor.fetchone()
        if row is None:
            return None
        finding = dict(zip(names, row, strict=True))
        finding["evidence"] = _loads(finding["evidence"], {})
        snapshot_id = self.snapshot.id if self.snapshot else 0
        finding["resource"] = self.resource(finding["resource_uid"], snapshot_id)
        finding["check"] = self._catalog_entry(finding["check_id"])
        finding["history"] = self.store.finding_history(finding["fingerprint"])
        finding["notes"] = self.store.notes(finding["fingerprint"])
        finding["waiver"] = self._waiver_for(finding)
        finding["siblings"] = self._siblings(finding, snapshot_id)
        finding["related"] = self.related(finding["resource"], snapshot_id)
        return finding

    def resource(self, uid: str, snapshot_id: int) -> dict[str, Any] | None:
        cursor = self.conn.execute(
            "SELECT uid, provider, scope, kind, name, namespace, attrs, created_at, first_seen"  # noqa: S608
            f" FROM main.resources WHERE uid = :uid AND {_AT}",
            {"uid": uid, "s": snapshot_id},
        )
        names = [d[0] for d in cursor.description]
        row = cursor.fetchone()
        stale = False
        if row is None:  # not in this snapshot: its last known version, flagged
            cursor = self.conn.execute(
                "SELECT uid, provider, scope, kind, name, namespace, attrs, created_at,"
                " first_seen, valid_from FROM main.resources WHERE uid = ?"
                " ORDER BY valid_from DESC LIMIT 1",
                (uid,),
            )
            names = [d[0] for d in cursor.description]
            row = cursor.fetchone()
            stale = True
        if row is None:
            return None
        resource = dict(zip(names, row, strict=True))
        resource["attrs"] = _loads(resource["attrs"], {})
        resource["stale"] = stale
        return resource

    def _catalog_entry(self, check_id: str) -> dict[str, Any] | None:
        cursor = self.conn.execute("SELECT * FROM main.checks WHERE id = ?", (check_id,))
        names = [d[0] for d in cursor.description]
        row = cursor.fetchone()
        if row is None:
            return None
        entry = dict(zip(names, row, strict=True))
        entry["frameworks"] = _loads(entry["frameworks"], {})
        entry["references"] = _loads(entry["references"], [])
        return entry

    def _waiver_for(self, finding: Mapping[str, Any]) -> dict[str, Any] | None:
        """The waiver covering this finding: a live one first, else an expired one."""
        now = self.clock()
        best = None
        for waiver in self.store.waivers():
            if waiver.fingerprint:
                hit = waiver.fingerprint == finding["fingerprint"]
            else:
                hit = waiver.check_id == finding["check_id"] and fnmatch.fnmatchcase(
                    finding["resource_uid"], waiver.resource_glob or "*"
                )
            if not hit:
                continue
            expired = waiver.is_expired(now)
            if not expired:
                return {"waiver": waiver, "expired": False}
            best = best or {"waiver": waiver, "expired": True}
        return best

    def _siblings(self, finding: Mapping[str, Any], snapshot_id: int) -> list[dict[str, Any]]:
        """Other findings of the shown snapshot on the same resource."""
        cursor = self.conn.execute(
            "SELECT fid, check_id, title, status, severity, view, waiver FROM temp.tui_findings"
            " WHERE resource_uid = ? AND fid != ? ORDER BY severity_rank DESC, check_id",
            (finding["resource_uid"], finding["fid"]),
        )
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor]

    def related(
        self, resource: Mapping[str, Any] | None, snapshot_id: int, limit: int = 50
    ) -> list[dict[str, Any]]:
        """Resources linked to this one by name, in the same scope and namespace.

        Generic on purpose: a resource is related when its attrs JSON holds this one's
        name as a string value (a Pod whose ``serviceAccountName`` is this
        ServiceAccount), or when this resource's attrs hold its name (the reverse).
        """
        if resource is None:
            return []
        params = {
            "s": snapshot_id,
            "scope": resource["scope"],
            "ns": resource["namespace"],
            "uid": resource["uid"],
            "needle": like(json.dumps(resource["name"])),
            "limit": limit,
        }
        names = sorted(_string_values(resource["attrs"]))[:200]
        name_params = {f"n{index}": value for index, value in enumerate(names)}
        in_names = ",".join(f":{key}" for key in name_params) or "NULL"
        sql = (
            "SELECT r.uid, r.kind, r.name, r.namespace, r.scope,"  # noqa: S608
            " (SELECT count(*) FROM temp.tui_findings t WHERE t.resource_uid = r.uid"
            "  AND t.status = 'fail' AND t.waiver != 1) AS failing"
            " FROM main.resources r"
            " WHERE r.valid_from <= :s AND (r.valid_to IS NULL OR r.valid_to > :s)"
            " AND r.scope = :scope AND r.namespace = :ns AND r.uid != :uid"
            f" AND (r.attrs LIKE :needle ESCAPE '\\' OR r.name IN ({in_names}))"
            " ORDER BY r.kind, r.name LIMIT :limit"
        )
        cursor = self.conn.execute(sql, params | name_params)
        columns = [d[0] for d in cursor.description]
        return [dict(zip(columns, row, strict=True)) for row in cursor]

    # -- overview and header -------------------------------------------------------------

    def score(self) -> Score:
        """The shown snapshot's score with the waivers live now."""
        return posture_score(
            (status, _SEVERITY_BY_RANK[rank], waiver == WAIVER_LIVE, number)
            for _, status, rank, waiver, number in self._counts
        )

    def changes_since_previous(self) -> tuple[int | None, int | None]:
        """(opened, resolved) between the previous and the shown snapshot, with the
        rules of ``Store.diff``, reading only the versions that changed in between."""
        if self.snapshot is None or self.previous is None:
            return None, None
        key = (self.snapshot.id, self.previous.id)
        if key not in self._changes:
            self._changes[key] = self._count_changes()
        return self._changes[key]

    def _count_changes(self) -> tuple[int, int]:
        assert self.snapshot is not None and self.previous is not None
        params = {"s": self.snapshot.id, "p": self.previous.id}
        opened = self.conn.execute(
            "SELECT count(*) FROM main.findings a"
            " WHERE a.valid_from > :p AND a.valid_from <= :s"
            " AND (a.valid_to IS NULL OR a.valid_to > :s) AND a.status = 'fail'"
            " AND NOT EXISTS (SELECT 1 FROM main.findings b WHERE b.fingerprint = a.fingerprint"
            "  AND b.valid_from <= :p AND (b.valid_to IS NULL OR b.valid_to > :p)"
            "  AND b.status != 'pass')",
            params,
        ).fetchone()[0]
        resolved = self.conn.execute(
            "SELECT count(*) FROM main.findings b"
            " WHERE b.valid_from <= :p AND b.valid_to > :p AND b.valid_to <= :s"
            " AND b.status = 'fail'"
            " AND NOT EXISTS (SELECT 1 FROM main.findings a WHERE a.fingerprint = b.fingerprint"
            "  AND a.valid_from <= :s AND (a.valid_to IS NULL OR a.valid_to > :s)"
            "  AND a.status != 'pass')",
            params,
        ).fetchone()[0]
        return opened, resolved

    def overview(self, top: int = 8) -> Overview:
        """Score, counts, changes since the previous snapshot and the worst risks, one
        per root cause (the trend is :func:`score_trend`, slower, run off the UI thread)."""
        failing: dict[str, dict[str, int]] = {}
        unknown: dict[str, int] = {}
        for view, status, rank, waiver, number in self._counts:
            if status == "fail" and waiver != WAIVER_LIVE:
                by_severity = failing.setdefault(view, {})
                severity = _SEVERITY_BY_RANK[rank]
                by_severity[severity] = by_severity.get(severity, 0) + number
            elif status in ("unknown", "error"):
                unknown[view] = unknown.get(view, 0) + number
        risks = top_causes(self.conn, ROW_COLUMNS, top) if self.ready else None
        opened, resolved = self.changes_since_previous()
        return Overview(
            snapshot=self.snapshot,
            previous=self.previous,
            score=self.score(),
            failing=failing,
            unknown=unknown,
            opened=opened,
            resolved=resolved,
            top_risks=risks,
        )

    def header(self, targets: Iterable[Any] = ()) -> HeaderInfo:
        """Targets (configured, plus those the shown snapshot's runs name) and the last
        successful run of each collector on each target."""
        kube: list[str] = []
        aws: list[str] = []
        other: list[str] = []

        def add(bucket: list[str], value: str) -> None:
            if value and value not in bucket:
                bucket.append(value)

        # The probe is not a place but a way of looking: the header says "probe on/off".
        for target in targets:
            if target.provider == "kubernetes":
                add(kube, target.name)
            elif target.provider not in ("aws", "probe"):  # AWS: account/region below
                add(other, target.label)
        runs: list[CollectorRun] = self.snapshot.runs if self.snapshot else []
        for run in runs:
            provider = run.provider or run.collector
            if provider == "kubernetes":
                add(kube, run.target)
            elif provider == "aws":
                add(aws, run.scope or run.target)
            elif provider != "probe":
                add(other, f"{provider}:{run.target}")
        for scope in self._aws_scopes:  # account/region scopes the resources live in
            add(aws, scope)
        aws = [s for s in aws if not any(o != s and o.startswith(s + "/") for o in aws)]
        for target in targets:
            if target.provider == "aws" and not aws:
                add(aws, target.name)
        last_ok = {
            (collector, target): finished
            for collector, target, finished in self.conn.execute(
                "SELECT c.collector, c.target, max(s.finished_at) FROM main.collector_runs c"
                " JOIN main.snapshots s ON s.id = c.snapshot_id WHERE c.status = 'ok'"
                " GROUP BY 1, 2"
            )
        }
        return HeaderInfo(self.snapshot, kube, aws, other, last_ok)

    # -- governance ----------------------------------------------------------------------

    def check_counts(self) -> dict[str, dict[str, int]]:
        """check_id -> {status: findings} of the shown rows: the evidence of controls,
        following the context shown (``Store.status_counts`` for the whole snapshot)."""
        counts: dict[str, dict[str, int]] = {}
        for check_id, status, number in self.conn.execute(
            "SELECT check_id, status, count(*) FROM temp.tui_findings GROUP BY 1, 2"
        ):
            counts.setdefault(check_id, {})[status] = number
        return counts

    def critical_counts(self) -> dict[str, int]:
        """check_id -> failing critical findings of the shown rows (a control with one
        among its evidence fails, see ``postureapp.governance``)."""
        return dict(
            self.conn.execute(
                "SELECT check_id, count(*) FROM temp.tui_findings"
                " WHERE status = 'fail' AND severity = 'critical' GROUP BY check_id"
            ).fetchall()
        )

    def controls(self, metas: Iterable[Any]) -> list[Control]:
        """Governance controls evaluated on the shown snapshot."""
        from postureapp.governance import controls_of_snapshot, evaluate_controls

        snapshot_id = self.snapshot.id if self.snapshot else None
        if self.scope is None or snapshot_id is None:
            return controls_of_snapshot(self.store, snapshot_id, metas, self.clock())
        # One context shown: the same rule over that context's findings only.
        return evaluate_controls(
            metas,
            self.check_counts(),
            self.store.attestations(),
            self.clock(),
            self.critical_counts(),
        )

    def snapshot_near(self, hours: float) -> Snapshot | None:
        """The snapshot to compare with for "last N hours": the newest one finished at
        or before now - N h, else the oldest retained one."""
        moment = isoformat(self.clock() - timedelta(hours=hours))
        found = self.store.snapshot_before(moment)
        if found is not None:
            return found
        oldest = self.conn.execute("SELECT id FROM main.snapshots ORDER BY id LIMIT 1").fetchone()
        return self.store.snapshot(oldest[0]) if oldest else None


def _waiver_flag_sql(
    conn: sqlite3.Connection, waivers: list[Any], now: datetime
) -> tuple[str, dict[str, Any]]:
    """An SQL expression over ``main.findings`` giving each finding the waiver flag that
    :meth:`DashboardQueries.apply_waivers` gives its row (live wins over expired), and
    its parameters; resource globs are matched by ``fnmatchcase``, as there."""
    if not waivers:
        return "0", {}
    live = [w for w in waivers if not w.is_expired(now)]
    expired = [w for w in waivers if w.is_expired(now)]
    globs = [w for w in waivers if not w.fingerprint and w.check_id]

    def flag(fingerprint: str, check_id: str, uid: str) -> int:
        for value, group in ((WAIVER_LIVE, live), (WAIVER_EXPIRED, expired)):
            for waiver in group:
                if waiver.fingerprint:
                    if waiver.fingerprint == fingerprint:
                        return value
                elif waiver.check_id == check_id and fnmatch.fnmatchcase(
                    uid, waiver.resource_glob or "*"
                ):
                    return value
        return WAIVER_NONE

    conn.create_function("tui_waiver_flag", 3, flag, deterministic=True)
    # The function is called only for rows a waiver may cover.
    params = {
        "wfps": json.dumps(sorted({w.fingerprint for w in waivers if w.fingerprint})),
        "wchecks": json.dumps(sorted({w.check_id for w in globs})),
    }
    sql = (
        "CASE WHEN fingerprint IN (SELECT value FROM json_each(:wfps))"
        " OR check_id IN (SELECT value FROM json_each(:wchecks))"
        " THEN tui_waiver_flag(fingerprint, check_id, resource_uid) ELSE 0 END"
    )
    return sql, params


def score_trend(store: Any) -> list[tuple[int, float | None]]:
    """The score of every retained snapshot, oldest first, with the waivers recorded
    when each was collected. Reads only main tables, so it can run in a worker thread
    on that thread's own Store.

    One pass over the findings table: a version counts in every snapshot of
    ``[valid_from, valid_to)``, so counts are added where a range starts and taken off
    where it ends, then summed snapshot by snapshot.
    """
    conn = store.db.conn
    ids = [row[0] for row in conn.execute("SELECT id FROM snapshots ORDER BY id")]
    if not ids:
        return []
    delta: list[dict[tuple[str, str, bool], int]] = [{} for _ in range(len(ids) + 1)]
    for start, end, status, severity, waived, number in conn.execute(
        "SELECT valid_from, valid_to, status, severity, waiver_id IS NOT NULL, count(*)"
        " FROM findings GROUP BY 1, 2, 3, 4, 5"
    ):
        key = (status, severity, bool(waived))
        first = bisect.bisect_left(ids, start)
        last = len(ids) if end is None else bisect.bisect_left(ids, end)
        if first >= last:
            continue
        delta[first][key] = delta[first].get(key, 0) + number
        delta[last][key] = delta[last].get(key, 0) - number
    running: dict[tuple[str, str, bool], int] = {}
    result = []
    for index, snapshot_id in enumerate(ids):
        for key, change in delta[index].items():
            running[key] = running.get(key, 0) + change
        counts = [(*key, number) for key, number in running.items() if number]
        result.append((snapshot_id, posture_score(counts).value))
    return result


def parse_uid(uid: str) -> tuple[str, str, str, str, str]:
    """(kind, name, namespace, scope, provider) from a uid alone."""
    if uid.startswith("k8s://"):
        split = split_k8s_uid(uid)
        if split is not None:
            cluster, namespace, kind, name = split
            return kind, name, namespace, cluster, "kubernetes"
        cluster = uid[len("k8s://") :]
        return "Cluster", cluster, "", cluster, "kubernetes"
    if uid.startswith("aws://"):
        scope = uid[len("aws://") :]
        return "Account", scope, "", scope, "aws"
    if uid.startswith("check://"):
        return "Check", uid[len("check://") :], "", "", ""
    if uid.startswith("arn:"):
        parts = uid.split(":", 5)
        account = parts[4] if len(parts) > 4 else ""
        region = parts[3] if len(parts) > 3 and parts[3] else "global"
        tail = parts[5] if len(parts) > 5 else uid
        kind, _, name = tail.partition("/")
        return kind or "arn", name or tail, "", f"{account}/{region}", "aws"
    return "", uid, "", "", ""


def _loads(text: str | None, default: Any) -> Any:
    if not text:
        return default
    try:
        return json.loads(text)
    except ValueError:
        return default


def _string_values(value: Any, found: set[str] | None = None, depth: int = 0) -> set[str]:
    """String leaves of a JSON value (bounded), for name-based relations."""
    found = set() if found is None else found
    if depth > 6 or len(found) > 500:
        return found
    if isinstance(value, str):
        if 0 < len(value) <= 253:
            found.add(value)
    elif isinstance(value, Mapping):
        for item in value.values():
            _string_values(item, found, depth + 1)
    elif isinstance(value, list | tuple):
        for item in value:
            _string_values(item, found, depth + 1)
    return found
