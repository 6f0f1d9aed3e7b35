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


def resource_rows(conn: sqlite3.Connection, snapshot_id: int) -> list[dict[str, Any]]:
    """The snapshot's resources as ``Store.resources`` gives them (ordered by uid)."""
    rows = conn.execute(
        "SELECT uid, provider, scope, kind, name, namespace, attrs, created_at, first_seen"  # noqa: S608
        f" FROM resources WHERE {_AT} ORDER BY uid",
        {"s": snapshot_id},
    ).fetchall()
    attrs = decode_all([row[6] for row in rows])
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


def finding_rows(conn: sqlite3.Connection, snapshot_id: int) -> list[tuple]:
    """The snapshot's findings, worst first, as tuples in ``FINDINGS_SQL``'s column
    order with the evidence (column 8) still JSON text."""
    return conn.execute(FINDINGS_SQL, {"s": snapshot_id}).fetchall()
