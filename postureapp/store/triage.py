"""What people add to the cache: waivers, notes on findings, governance attestations.

Waivers round-trip through a TOML file (``posture waivers export/import``) so a team
can review accepted risks in git like any other change.
"""

from __future__ import annotations

import fnmatch
import tomllib
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import tomli_w

from postureapp.errors import InputError
from postureapp.model import Attestation, Waiver, isoformat, parse_time, utcnow
from postureapp.store.database import write_transaction

WaiverMatcher = Callable[[str, str, str], Waiver | None]

WAIVER_FILE_HEADER = (
    "# postureapp waivers: accepted risks, reviewed like code.\n"
    "# Each [[waiver]] matches a finding by fingerprint, or by check_id plus resource_glob.\n"
)


class TriageMixin:
    db: Any

    # -- waivers ---------------------------------------------------------------------

    def add_waiver(self, waiver: Waiver) -> Waiver:
        _validate_waiver(waiver, where="waiver")
        created = waiver.created_at or isoformat(utcnow())
        with write_transaction(self.db) as conn:
            cursor = conn.execute(
                "INSERT INTO waivers (fingerprint, check_id, resource_glob, reason, owner, ticket,"
                " created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    waiver.fingerprint,
                    waiver.check_id,
                    waiver.resource_glob,
                    waiver.reason,
                    waiver.owner,
                    waiver.ticket,
                    created,
                    waiver.expires_at,
                ),
            )
        waiver.id = cursor.lastrowid
        waiver.created_at = created
        return waiver

    def remove_waiver(self, waiver_id: int) -> bool:
        with write_transaction(self.db) as conn:
            return conn.execute("DELETE FROM waivers WHERE id = ?", (waiver_id,)).rowcount > 0

    def waivers(self) -> list[Waiver]:
        return [
            Waiver(
                id=row["id"],
                fingerprint=row["fingerprint"],
                check_id=row["check_id"],
                resource_glob=row["resource_glob"],
                reason=row["reason"],
                owner=row["owner"],
                ticket=row["ticket"],
                created_at=row["created_at"],
                expires_at=row["expires_at"],
            )
            for row in self.db.query("SELECT * FROM waivers ORDER BY id")
        ]

    def waiver_matcher(self, now: datetime | None = None) -> WaiverMatcher:
        """A function telling which active waiver (if any) covers a finding.

        Fingerprint waivers are a dict lookup; glob waivers are few and tried in order.
        An expired waiver matches nothing (it stays listed, marked expired).
        """
        moment = now or utcnow()
        by_fingerprint: dict[str, Waiver] = {}
        by_glob: list[Waiver] = []
        for waiver in self.waivers():
            if waiver.is_expired(moment):
                continue
            if waiver.fingerprint:
                by_fingerprint.setdefault(waiver.fingerprint, waiver)
            else:
                by_glob.append(waiver)

        def match(fingerprint: str, check_id: str, resource_uid: str) -> Waiver | None:
            waiver = by_fingerprint.get(fingerprint)
            if waiver is not None:
                return waiver
            for candidate in by_glob:
                if candidate.check_id == check_id and fnmatch.fnmatchcase(
                    resource_uid, candidate.resource_glob or "*"
                ):
                    return candidate
            return None

        return match

    def export_waivers(self, path: Path | None = None) -> str:
        """The waivers as TOML (written to ``path`` when given)."""
        entries = []
        for waiver in self.waivers():
            entry = {
                key: value
                for key, value in (
                    ("fingerprint", waiver.fingerprint),
                    ("check_id", waiver.check_id),
                    ("resource_glob", waiver.resource_glob),
                    ("reason", waiver.reason),
                    ("owner", waiver.owner),
                    ("ticket", waiver.ticket),
                    ("created_at", waiver.created_at),
                    ("expires_at", waiver.expires_at),
                )
                if value not in (None, "")
            }
            entries.append(entry)
        text = WAIVER_FILE_HEADER + tomli_w.dumps({"waiver": entries})
        if path is not None:
            path.write_text(text)
        return text

    def import_waivers(self, path: Path, *, replace: bool = False) -> int:
        """Load waivers from a TOML file. All entries are validated before anything is
        written; with ``replace`` the file becomes the whole set."""
        waivers = parse_waiver_file(path)
        existing = {_waiver_key(w) for w in self.waivers()} if not replace else set()
        with write_transaction(self.db) as conn:
            if replace:
                conn.execute("DELETE FROM waivers")
            added = 0
            for waiver in waivers:
                if _waiver_key(waiver) in existing:
                    continue
                conn.execute(
                    "INSERT INTO waivers (fingerprint, check_id, resource_glob, reason, owner,"
                    " ticket, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        waiver.fingerprint,
                        waiver.check_id,
                        waiver.resource_glob,
                        waiver.reason,
                        waiver.owner,
                        waiver.ticket,
                        waiver.created_at or isoformat(utcnow()),
                        waiver.expires_at,
                    ),
                )
                added += 1
        return added

    # -- notes -----------------------------------------------------------------------

    def add_note(self, fingerprint: str, author: str, text: str) -> None:
        if not text.strip():
            raise InputError("a note needs some text")
        with write_transaction(self.db) as conn:
            conn.execute(
                "INSERT INTO notes (fingerprint, author, text, created_at) VALUES (?, ?, ?, ?)",
                (fingerprint, author, text, isoformat(utcnow())),
            )

    def notes(self, fingerprint: str) -> list[dict[str, Any]]:
        return list(
            self.db.query(
                "SELECT author, text, created_at FROM notes WHERE fingerprint = ? ORDER BY id",
                [fingerprint],
            )
        )

    # -- attestations ----------------------------------------------------------------

    def add_attestation(self, attestation: Attestation) -> Attestation:
        if not attestation.by.strip():
            raise InputError("an attestation needs who did it (--by)")
        if parse_time(attestation.at) is None:
            raise InputError("an attestation needs when it was done")
        with write_transaction(self.db) as conn:
            cursor = conn.execute(
                "INSERT INTO attestations (control_id, by, at, expires_at, note, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (
                    attestation.control_id,
                    attestation.by,
                    attestation.at,
                    attestation.expires_at,
                    attestation.note,
                    isoformat(utcnow()),
                ),
            )
        attestation.id = cursor.lastrowid
        return attestation

    def attestations(self) -> dict[str, Attestation]:
        """The latest attestation per control (expired ones included, for display)."""
        latest: dict[str, Attestation] = {}
        for row in self.db.query("SELECT * FROM attestations ORDER BY at, id"):
            latest[row["control_id"]] = Attestation(
                id=row["id"],
                control_id=row["control_id"],
                by=row["by"],
                at=row["at"],
                expires_at=row["expires_at"],
                note=row["note"],
            )
        return latest


def _waiver_key(waiver: Waiver) -> tuple:
    return (waiver.fingerprint, waiver.check_id, waiver.resource_glob, waiver.reason, waiver.owner)


def _validate_waiver(waiver: Waiver, where: str) -> None:
    if not waiver.fingerprint and not waiver.check_id:
        raise InputError(f"{where}: give a fingerprint, or a check id with a resource glob")
    if waiver.fingerprint and waiver.check_id:
        raise InputError(f"{where}: give a fingerprint or a check id, not both")
    if not waiver.reason.strip():
        raise InputError(f"{where}: a waiver needs a reason")
    if not waiver.owner.strip():
        raise InputError(f"{where}: a waiver needs an owner")
    for label, value in (("expires", waiver.expires_at), ("created", waiver.created_at)):
        if value:
            try:
                parse_time(value)
            except ValueError:
                raise InputError(
                    f"{where}: {label} {value!r} is not a date (use YYYY-MM-DD or ISO 8601)"
                ) from None


def parse_waiver_file(path: Path) -> list[Waiver]:
    try:
        data = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise InputError(f"{path}: not valid TOML ({error})") from None
    entries = data.get("waiver", [])
    if not isinstance(entries, list):
        raise InputError(f"{path}: expected [[waiver]] tables")
    allowed = {
        "fingerprint",
        "check_id",
        "resource_glob",
        "reason",
        "owner",
        "ticket",
        "created_at",
        "expires_at",
    }
    waivers = []
    for index, entry in enumerate(entries, start=1):
        where = f"{path}: waiver {index}"
        if not isinstance(entry, dict):
            raise InputError(f"{where}: expected a table")
        unknown = set(entry) - allowed
        if unknown:
            raise InputError(f"{where}: unknown key {sorted(unknown)[0]!r}")
        values = {key: _as_text(entry.get(key)) for key in allowed}
        waiver = Waiver(
            fingerprint=values["fingerprint"] or None,
            check_id=values["check_id"] or None,
            resource_glob=values["resource_glob"] or None,
            reason=values["reason"] or "",
            owner=values["owner"] or "",
            ticket=values["ticket"] or "",
            created_at=values["created_at"] or "",
            expires_at=values["expires_at"] or None,
        )
        _validate_waiver(waiver, where)
        waivers.append(waiver)
    return waivers


def _as_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return isoformat(value)
    if hasattr(value, "isoformat"):  # a TOML date
        return value.isoformat()
    return str(value)
