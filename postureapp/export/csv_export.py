"""CSV: one row per finding, for spreadsheets and ad-hoc filtering.

Cells hold outside text (resource uids, titles, details), so a cell a spreadsheet would
read as a formula — starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return — gets a leading ``'``, which spreadsheets show as text (OWASP "CSV injection").
A legitimate value such as ``-1`` therefore reads ``'-1``; that is the accepted price.
"""

from __future__ import annotations

import csv
from typing import IO, Any

from postureapp.export.common import bulk

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
)

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: str) -> str:
    """``'`` before a cell a spreadsheet would evaluate; anything else unchanged."""
    return "'" + value if value.startswith(_FORMULA_START) else value


@bulk
def write_csv(document: dict[str, Any], out: IO[str]) -> None:
    """Every finding of the document (all statuses), worst first, RFC 4180 (CRLF).

    The caller opens files with ``newline=""`` so the csv module controls line ends.
    """
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for finding in document["findings"]:
        waiver = finding.get("waiver") or {}
        row = (
            finding["fingerprint"],
            finding["check_id"],
            finding["severity"],
            finding["status"],
            finding["view"],
            finding["resource_uid"],
            finding["title"],
            finding["detail"],
            "true" if finding["waived"] else "false",
            waiver.get("reason", "") if finding["waived"] else "",
            finding["first_seen"],
            finding.get("remediation", ""),
        )
        writer.writerow([neutralise(cell) for cell in row])
