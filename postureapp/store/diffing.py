"""The finding states a diff between two snapshots has to look at.

Findings are versioned rows (``valid_from``/``valid_to``): a finding that did not change
between two snapshots is one and the same row in both, so it cannot be opened, resolved
or changed. Only rows present in exactly one of the two snapshots can, and SQLite picks
those out in one scan; a 5 % change between two 100,000-finding snapshots is a few
thousand rows read into Python instead of 200,000.
"""

from __future__ import annotations

import sqlite3

_STATE = "fingerprint, status, severity, waiver_id, hash, check_id, resource_uid, title"


def _at(name: str) -> str:
    return f"(valid_from <= :{name} AND (valid_to IS NULL OR valid_to > :{name}))"


def changed_states(
    conn: sqlite3.Connection, from_id: int, to_id: int
) -> tuple[dict[str, tuple], dict[str, tuple]]:
    """``Store.finding_states`` of both snapshots, less the rows they share:
    fingerprint -> (status, severity, waiver_id, hash, check_id, resource_uid, title)
    of rows valid in ``from_id`` and not in ``to_id``, and the other way round."""
    before: dict[str, tuple] = {}
    after: dict[str, tuple] = {}
    for row in conn.execute(
        f"SELECT {_STATE}, {_at('a')} FROM findings WHERE {_at('a')} != {_at('b')}",  # noqa: S608
        {"a": from_id, "b": to_id},
    ):
        (before if row[8] else after)[row[0]] = row[1:8]
    return before, after
