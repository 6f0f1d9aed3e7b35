"""Root causes in the dashboard's row table: which cause each row shares, folded lists,
and the overview's worst causes. All in SQL: nothing here loops over findings in Python.

The causes were named when the snapshot was judged (:mod:`postureapp.rootcause`) and are
stored with it as the derived fact ``root_causes``; a snapshot written by a release that
did not name them simply folds nothing.
"""

from __future__ import annotations

import sqlite3
import zlib
from typing import Any

from postureapp.rootcause import DERIVED_NAME

# Rows that share no cause are each their own group.
GROUP = "coalesce(cause, 'row:' || rid)"


def stage_causes(conn: sqlite3.Connection, snapshot_id: int) -> None:
    """Fill ``temp.tui_causes`` (fingerprint -> cause id and label) from the snapshot's
    stored causes, for the row table's insert to join (SQLite's JSON functions expand the
    document: no per-row Python). Empty for a snapshot without causes."""
    # execute, not executescript: this runs inside the caller's transaction (a script
    # would commit it first).
    conn.execute("DROP TABLE IF EXISTS temp.tui_causes")
    conn.execute("CREATE TEMP TABLE tui_causes (fp TEXT PRIMARY KEY, id TEXT, label TEXT)")
    row = conn.execute(
        "SELECT b.body FROM main.snapshot_derived d JOIN main.derived_bodies b"
        " ON b.hash = d.hash WHERE d.snapshot_id = ? AND d.name = ?",
        (snapshot_id, DERIVED_NAME),
    ).fetchone()
    if row is None:
        return
    conn.execute(
        "INSERT OR IGNORE INTO temp.tui_causes (fp, id, label)"
        " SELECT f.value, json_extract(c.value, '$.id'), json_extract(c.value, '$.label')"
        " FROM json_each(?) c, json_each(c.value, '$.fingerprints') f",
        (zlib.decompress(row[0]).decode(),),
    )


def folded_sql(where: str, order: str) -> str:
    """Row ids and group sizes of a filtered list folded by cause: each cause's first row
    in ``order`` stands for it, and the list keeps ``order``."""
    return (
        "SELECT rid, affects FROM (SELECT *,"  # noqa: S608
        f" row_number() OVER (PARTITION BY {GROUP} ORDER BY {order}) AS n,"
        f" count(*) OVER (PARTITION BY {GROUP}) AS affects"
        f" FROM temp.tui_findings WHERE {where}) WHERE n = 1 ORDER BY {order}"
    )


def top_causes(conn: sqlite3.Connection, columns: str, top: int) -> list[dict[str, Any]]:
    """The worst open (failing, unwaived) risks, one row per root cause: a cause's row is
    its worst finding with ``affects`` (how many open findings it stands for) and the
    cause's id and label; a finding that shares no cause is a row of its own. Worst
    severity first, then the cause that affects most."""
    order = "severity_rank DESC, first_seen, check_id, name"
    queries = (
        # SQLite takes the bare columns from the row holding max(): the worst finding.
        f"SELECT {columns}, max(severity_rank) AS worst,"  # noqa: S608
        " count(*) AS affects FROM temp.tui_findings"
        " WHERE status = 'fail' AND waiver != 1 AND cause IS NOT NULL"
        " GROUP BY cause ORDER BY worst DESC, affects DESC LIMIT ?",
        f"SELECT {columns}, severity_rank AS worst,"  # noqa: S608
        " 1 AS affects FROM temp.tui_findings"
        f" WHERE status = 'fail' AND waiver != 1 AND cause IS NULL ORDER BY {order} LIMIT ?",
    )
    rows: list[dict[str, Any]] = []
    for sql in queries:
        cursor = conn.execute(sql, (top,))
        names = [d[0] for d in cursor.description]
        rows += [dict(zip(names, row, strict=True)) for row in cursor]
    rows.sort(
        key=lambda r: (-r["worst"], -r["affects"], r["first_seen"] or "", r["check_id"], r["name"])
    )
    for row in rows:
        del row["worst"]
    return rows[:top]
