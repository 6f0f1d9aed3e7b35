"""A snapshot's resources and findings read for an export, at bulk speed.

``Store.resources`` and ``Store.findings`` yield one sqlite-utils dict a row and decode
each row's JSON with its own ``json.loads`` call; for a 100,000-finding document that
per-row Python work was most of ``build_document``. Here rows come from the cursor as
tuples, every JSON column of a query is decoded by one ``json.loads`` over the joined
texts, and each record is built once, in the document's key order.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from typing import Any

# Rows of one snapshot: versions that started at or before it and had not ended (the
# store's own condition, postureapp.store._AT).
_AT = "valid_from <= :s AND (valid_to IS NULL OR valid_to > :s)"


def decode_all(texts: list[str]) -> list[Any]:
    """``[json.loads(t) for t in texts]``, in one call to the C decoder.

    The store wrote every text with ``json.dumps``, so each is one JSON value and the
    joined array has exactly one element per text. Should a text not be (a cache edited
    by hand), the result is checked and the texts are decoded one by one, which raises
    on the bad one as ``Store.findings`` would.
    """
    if not texts:
        return []
    try:
        values = json.loads("[" + ",".join(texts) + "]")
    except ValueError:
        values = None
    if not isinstance(values, list) or len(values) != len(texts):
        values = [json.loads(text) for text in texts]
    return values


# Rows are read and decoded this many at a time: the tuples and JSON texts of a whole
# snapshot, held beside the records built from them, would raise the peak memory.
CHUNK = 5000


def chunks(cursor: sqlite3.Cursor, column: int) -> Iterator[tuple[list[tuple], list[Any]]]:
    """The cursor's rows, a chunk at a time, with the JSON in ``column`` decoded."""
    while rows := cursor.fetchmany(CHUNK):
        yield rows, decode_all([row[column] for row in rows])


def resource_rows(conn: sqlite3.Connection, snapshot_id: int) -> list[dict[str, Any]]:
    """The snapshot's resources as ``Store.resources`` gives them (ordered by uid)."""
    cursor = conn.execute(
        "SELECT uid, provider, scope, kind, name, namespace, attrs, created_at, first_seen"  # noqa: S608
        # "+uid": sorting the snapshot's rows is cheaper than walking the uid index and
        # looking each row up in the table (0.15 s against 0.21 s at 50,000 rows).
        f" FROM resources WHERE {_AT} ORDER BY +uid",
        {"s": snapshot_id},
    )
    resources: list[dict[str, Any]] = []
    for rows, attrs in chunks(cursor, 6):
        resources.extend(_resources(rows, attrs))
    return resources


def _resources(rows: list[tuple], attrs: list[Any]) -> list[dict[str, Any]]:
    return [
        {
            "uid": uid,
            "provider": provider,
            "scope": scope,
            "kind": kind,
            "name": name,
            "namespace": namespace,
            "attrs": decoded,
            "created_at": created_at,
            "first_seen": first_seen,
        }
        for (
            uid,
            provider,
            scope,
            kind,
            name,
            namespace,
            _,
            created_at,
            first_seen,
        ), decoded in zip(rows, attrs, strict=True)
    ]


# Store.findings' columns and order (worst first), waiver_id aside: an export says
# whether a finding is waived *now*, from the live waivers.
FINDINGS_SQL = (
    "SELECT fingerprint, check_id, resource_uid, status, severity, view, title, detail,"  # noqa: S608
    f" evidence, first_seen FROM findings WHERE {_AT}"
    " ORDER BY severity_rank DESC, check_id, resource_uid"
)


def finding_chunks(
    conn: sqlite3.Connection, snapshot_id: int
) -> Iterator[tuple[list[tuple], list[Any]]]:
    """The snapshot's findings, worst first, a chunk at a time: tuples in
    ``FINDINGS_SQL``'s column order, and their evidence decoded."""
    return chunks(conn.execute(FINDINGS_SQL, {"s": snapshot_id}), 8)
