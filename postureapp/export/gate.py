"""The CI gate: should this snapshot fail the build?

Pure functions over a ``postureapp/snapshot/v1`` document, so the CLI (``posture
snapshot --fail-on``, ``posture export --fail-on``) and tests share one rule. Exit codes
are those of :mod:`postureapp.errors`.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from postureapp.errors import EXIT_COLLECTION, EXIT_FINDINGS, EXIT_OK, InputError
from postureapp.export.common import (
    SEVERITY_ORDER,
    ResourceIndex,
    bulk,
    describe_run,
    one_line,
    runs_in_trouble,
)
from postureapp.model import Severity

if TYPE_CHECKING:
    from postureapp.store import Store


# Findings and resources of a baseline file checked in full by the schema; past this,
# only what the gate reads (fingerprint, status...) is checked on every finding.
BASELINE_SAMPLE = 1000


class GateResult(NamedTuple):
    exit_code: int
    message: str


def evaluate_gate(
    document: dict[str, Any],
    fail_on: Severity | None,
    baseline: set[str] | None = None,
    allow_partial: bool = False,
) -> GateResult:
    """Decide the exit code of a CI run from one snapshot document.

    * **1** (EXIT_FINDINGS) when a failing, unwaived finding has a severity at or above
      ``fail_on``. With a ``baseline`` (fingerprints failing in an earlier snapshot, see
      :func:`load_baseline`) only findings *not* in it count: ``--new-only``. Unknown
      and error findings never count here; they make the snapshot partial instead.
    * **3** (EXIT_COLLECTION) when the snapshot is partial or failed, unless
      ``allow_partial``.
    * **0** otherwise. ``fail_on=None`` gates on collection health alone.

    Precedence: **1 wins over 3.** A partial poll can only hide failures, never invent
    them, so a failing finding it did see is certain and is the actionable news; the
    message still says the snapshot was partial. This is also the order ``posture
    collect --fail-on`` has always used.

    Returns:
        (exit_code, message): the message is one line for the CI log.
    """
    snapshot = document["snapshot"]
    incomplete = snapshot["status"] != "complete"
    troubled = runs_in_trouble(document)
    collection_note = f"snapshot {snapshot['id']} is {snapshot['status']}"
    if troubled:
        more = " …" if len(troubled) > 1 else ""
        collection_note += (
            f" ({len(troubled)} collector runs in trouble: {describe_run(troubled[0])}{more})"
        )
    counted: list[dict[str, Any]] = []
    waived = before = 0
    if fail_on is not None:
        for finding in document["findings"]:
            if finding["status"] != "fail":
                continue
            if Severity(finding["severity"]).rank < fail_on.rank:
                continue
            if finding["waived"]:
                waived += 1
            elif baseline is not None and finding["fingerprint"] in baseline:
                before += 1
            else:
                counted.append(finding)
    scope = f"at or above {fail_on.value}" if fail_on is not None else ""
    new = " new since the baseline" if baseline is not None else ""
    skipped = []
    if waived:
        skipped.append(f"{waived} waived")
    if baseline is not None and before:
        skipped.append(f"{before} already in the baseline")
    not_counted = f"; not counted: {', '.join(skipped)}" if skipped else ""

    if counted:
        by_severity = Counter(f["severity"] for f in counted)
        breakdown = ", ".join(f"{by_severity[s]} {s}" for s in SEVERITY_ORDER if by_severity[s])
        first = counted[0]
        message = (
            f"{len(counted)} failing finding{'s' if len(counted) != 1 else ''}{new} {scope}"
            f" ({breakdown}); worst: {first['check_id']} on {_where(document, first)}"
            f"{not_counted}"
        )
        if incomplete:
            message += f"; also, {collection_note}"
        return GateResult(EXIT_FINDINGS, message)
    if incomplete and not allow_partial:
        return GateResult(EXIT_COLLECTION, f"{collection_note}; pass --allow-partial to accept it")
    if fail_on is None:
        message = f"ok: snapshot {snapshot['id']} is {snapshot['status']}"
    else:
        message = f"ok: no unwaived failing finding{new} {scope}{not_counted}"
    if incomplete:
        message += f"; {collection_note}, allowed by --allow-partial"
    return GateResult(EXIT_OK, message)


def _where(document: dict[str, Any], finding: dict[str, Any]) -> str:
    """The resource's name, then its uid (to paste into ``posture waive --resource``)."""
    uid = finding["resource_uid"]
    name = ResourceIndex(document).label(uid)
    return one_line(uid if name == uid else f"{name} ({uid})")


def load_baseline(spec: str | Path, store: Store | None) -> set[str]:
    """Fingerprints of the findings failing in a baseline, for ``--new-only``.

    Args:
        spec: a snapshot id in ``store`` (all digits, e.g. ``"12"``; write ``./12`` for
            a file named 12), or the path of an earlier ``posture export --format json``.
        store: the cache holding the snapshot (may be None when ``spec`` is a file).

    Raises:
        InputError: no such snapshot, or a file that is missing, unreadable, not JSON or
            not a valid ``postureapp/snapshot/v1`` export; the message is one line.
    """
    text = str(spec)
    if isinstance(spec, str) and text.strip().isdigit():
        snapshot_id = int(text)
        if store is None or store.snapshot(snapshot_id) is None:
            raise InputError(
                f"baseline: no snapshot {snapshot_id} in the cache"
                " (give a snapshot id from 'posture diff' or a JSON export file)"
            )
        return {fp for fp, state in store.finding_states(snapshot_id).items() if state[0] == "fail"}
    document = _read_baseline_file(Path(spec))
    return {f["fingerprint"] for f in document["findings"] if f["status"] == "fail"}


@bulk
def _read_baseline_file(path: Path) -> dict[str, Any]:
    from postureapp.export.snapshot_json import SCHEMA_ID
    from postureapp.export.validation import InvalidDocument, validate_document

    where = f"baseline {path}"
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise InputError(
            f"{where}: no such file (give a snapshot id or a 'posture export' JSON file)"
        ) from None
    except IsADirectoryError:
        raise InputError(f"{where} is a directory, not a JSON export") from None
    except OSError as error:
        raise InputError(f"{where} cannot be read: {error.strerror}") from None
    try:
        document = json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise InputError(f"{where} is not UTF-8 text; expected a JSON export") from None
    except json.JSONDecodeError as error:
        raise InputError(
            f"{where} is not valid JSON ({error.msg} at line {error.lineno},"
            f" column {error.colno}); was it truncated?"
        ) from None
    except RecursionError:
        raise InputError(f"{where} is nested too deeply to be a JSON export") from None
    found = document.get("schema") if isinstance(document, dict) else None
    if found != SCHEMA_ID:
        shown = "no schema field" if found is None else f"schema {one_line(str(found))[:60]!r}"
        raise InputError(f"{where} is not a {SCHEMA_ID} export ({shown})")
    try:
        validate_document(document, sample=BASELINE_SAMPLE)
    except RecursionError:
        raise InputError(f"{where} is nested too deeply to be a JSON export") from None
    except InvalidDocument as error:
        raise InputError(f"{where} is not a valid {SCHEMA_ID} export: {error}") from None
    return document
