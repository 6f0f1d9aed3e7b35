"""CSV: one row per finding, for spreadsheets and ad-hoc filtering.

Cells hold outside text (resource uids, titles, details), so a cell a spreadsheet would
read as a formula — starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return — gets a leading ``'``, which spreadsheets show as text (OWASP "CSV injection").
A legitimate value such as ``-1`` therefore reads ``'-1``; that is the accepted price.

``cat posture.csv`` must not run terminal escapes either: control characters and bidi
overrides are spelled out (``\\x1b``, ``\\u202e``) as in every other format, except tabs
and line breaks inside a quoted cell, which are data a spreadsheet shows as such (a CR
is kept only as part of CRLF, written as LF: alone it would overwrite the line shown).

The last column, ``posture_score``, is the snapshot's posture score (the dashboard's
number, empty when nothing was judged), the same on every row: CSV has no place for a
header line that every reader skips, and a column keeps the file one table (files of
several snapshots concatenated still say which score each row belongs to). Columns are
only ever appended, so readers by position keep working.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from types import SimpleNamespace
from typing import IO, Any

from postureapp.export.common import ResourceIndex, bulk
from postureapp.export.snapshot_json import document_score
from postureapp.text import escape_controls

COLUMNS = (
    "fingerprint",
    "check_id",
    "severity",
    "status",
    "view",
    "resource_uid",
    "title",
    "detail",
    "waived",
    "waiver_reason",
    "first_seen",
    "remediation",
    "resource_name",
    "posture_score",
    # The target (kube context, AWS account/region) the resource was collected from:
    # one cache holds a fleet, and an auditor pivots by it.
    "scope",
)

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: str) -> str:
    """``'`` before a cell a spreadsheet would evaluate; anything else unchanged."""
    return "'" + value if value.startswith(_FORMULA_START) else value


def cell(value: str) -> str:
    """A cell safe for a spreadsheet and for a terminal showing the file."""
    return neutralise(escape_controls(value.replace("\r\n", "\n"), keep="\t\n"))


# A row's cells, each after a separator (a printable character rare in data, U+241E):
# this finds every cell a spreadsheet could evaluate, and some cells that merely hold
# the separator followed by such a character (those take the careful path too, which
# is only slower). Tab and CR starts are not printable, so the other test catches them.
_SEPARATOR = "\u241e"
_FORMULA_IN_ROW = re.compile(_SEPARATOR + "[=+\\-@]")


@bulk
def write_csv(document: dict[str, Any], out: IO[str]) -> None:
    """Every finding of the document (all statuses), worst first, RFC 4180 (CRLF).

    The caller opens files with ``newline=""`` so the csv module controls line ends.
    """
    lines: list[str] = []
    writer = csv.writer(SimpleNamespace(write=lines.append), lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in _rows(document):
        if type(row) is str:
            lines.append(row)
        else:
            writer.writerow(row)
        if len(lines) >= 1000:
            out.write("".join(lines))
            lines.clear()
    out.write("".join(lines))


def _rows(document: dict[str, Any]) -> Iterator[str | list[str] | tuple[str, ...]]:
    """Each finding's cells for the csv writer, or, for a row that needs neither
    escaping nor quoting, its line as the csv writer would write it."""
    resources = ResourceIndex(document)
    value = document_score(document)["value"]
    score = "" if value is None else f"{value:.1f}"
    places: dict[str, tuple[str, str]] = {}  # uid -> (label, scope): findings share them
    formula = _FORMULA_IN_ROW.search
    for finding in document["findings"]:
        uid = finding["resource_uid"]
        place = places.get(uid)
        if place is None:
            place = places[uid] = (
                resources.label(uid),
                (resources.get(uid) or {}).get("scope", ""),
            )
        waived = finding["waived"]
        row = (
            finding["fingerprint"],
            finding["check_id"],
            finding["severity"],
            finding["status"],
            finding["view"],
            uid,
            finding["title"],
            finding["detail"],
            "true" if waived else "false",
            (finding.get("waiver") or {}).get("reason", "") if waived else "",
            finding["first_seen"],
            finding.get("remediation", ""),
            place[0],
            score,
            place[1],
        )
        # Nearly every row holds nothing to escape, and two checks over the whole row
        # say so, sparing fifteen per-cell calls. Every character cell() would escape
        # (controls, U+2028/9, bidi marks) is one str.isprintable() rejects; so are
        # tabs and line breaks, which cell() keeps: a row with those, or with anything
        # else unprintable, is simply done cell by cell.
        joined = _SEPARATOR + _SEPARATOR.join(row)
        if not joined.isprintable() or formula(joined):
            yield [cell(value) for value in row]
        elif "," in joined or '"' in joined:
            yield row  # the csv writer quotes it
        else:
            # What the csv writer makes of cells with no delimiter, quote or line break
            # (minimal quoting; a row of one empty cell is the one other case quoted).
            yield ",".join(row) + "\r\n"
