"""Offline AWS input: what ``aws iam get-account-authorization-details`` printed (JSON) and
a credential report (the CSV from ``aws iam get-credential-report --query Content
--output text | base64 -d``), as files or a directory holding them.

They are normalised by the same functions as the live path (``postureapp.collectors.aws.iam``), so
a dump and a live poll of the same account give the same resources. Several JSON files
(pages saved one by one) are merged. Files may be UTF-8 (with or without a byte-order
mark) or UTF-16 (PowerShell's ``>``). A file that is not one of these, is truncated or
is not JSON raises :class:`postureapp.errors.InputError` with one line naming the file.

What was read is said precisely (:class:`AwsDump`): a list present in the dump is read,
even empty (an SSO-only account has no users); a list absent (``--filter Role`` exports
roles only) leaves its kind unread, so verdicts needing it are unknown. The credential
report gives the access keys and, from its ``<root_account>`` row, the root user's MFA
and access keys (``IAMAccount``; the password policy is not in any dump and stays
unknown). An entry of the wrong shape is dropped and makes its kind unknown, with one
line naming the entry and the field.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from postureapp.collectors import bounded
from postureapp.collectors.aws import iam
from postureapp.collectors.aws._common import (
    MalformedAnswer,
    account_of_arn,
    iso,
    partition_of_arn,
)
from postureapp.errors import InputError
from postureapp.model import Resource

SUFFIXES = (".json", ".csv")
_DETAIL_KEYS = ("UserDetailList", "GroupDetailList", "RoleDetailList", "Policies")


@dataclass(slots=True)
class AwsDump:
    """What a set of AWS files held: resources, the kinds read (maybe empty), and the
    kinds left unknown with why."""

    resources: list[Resource] = field(default_factory=list)
    read: set[str] = field(default_factory=set)
    unknown: dict[str, str] = field(default_factory=dict)


def load_path(path: str | Path) -> list[Resource]:
    """Resources from one file or every ``*.json`` / ``*.csv`` file of a directory."""
    return load_dump(path).resources


def load_dump(path: str | Path) -> AwsDump:
    """The resources of one file or every ``*.json`` / ``*.csv`` file of a directory,
    and which kinds they answer for."""
    path = Path(path)
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in SUFFIXES)
        if not files:
            raise InputError(f"{path}: no .json or .csv file to load")
    elif path.is_file():
        files = [path]
    else:
        raise InputError(f"{path}: no such file or directory")

    pages: list[dict[str, Any]] = []
    report: tuple[Path, list[dict[str, str]]] | None = None
    for file in files:
        text = _read(file)
        if file.suffix.lower() == ".csv" or text.lstrip().startswith("user,arn"):
            if report is not None:
                raise InputError(f"{file}: a second credential report (already read {report[0]})")
            report = (file, _report(file, text))
        else:
            pages.append(_details(file, text))

    account = _account(pages, report[1] if report else [])
    dump = AwsDump()
    if pages:
        try:
            details = iam.merge_authorization_pages(pages)
        except MalformedAnswer as exc:
            names = ", ".join(str(f) for f in files if f.suffix.lower() != ".csv")
            raise InputError(f"{names}: not usable authorization details ({exc})") from None
        resources, problems = iam.normalise_details_lenient(details, account)
        dump.resources.extend(resources)
        dump.read |= {iam.LIST_KINDS[key] for key in details}
        dump.unknown.update(problems)
    if report is not None:
        file, rows = report
        generated = iso(datetime.fromtimestamp(file.stat().st_mtime, UTC))
        dump.resources.extend(iam.credential_resources(rows, account, generated, "file"))
        dump.read |= {"IAMCredentialReport", "IAMAccessKey"}
        if any(row.get("user") == iam.ROOT_ROW for row in rows) and account != "unknown":
            partition = partition_of_arn(next((r.get("arn", "") for r in rows), ""))
            dump.resources.append(iam.account_resource(account, partition, None, None, False))
            dump.read.add("IAMAccount")
        iam.merge_credentials(dump.resources, rows)
    return dump


def _read(file: Path) -> str:
    bounded.check_size(file)
    try:
        return bounded.decode(file.read_bytes())
    except UnicodeDecodeError:
        raise InputError(
            f"{file}: not UTF-8 or UTF-16 text (save it as UTF-8 and try again)"
        ) from None
    except OSError as exc:
        raise InputError(f"{file}: cannot read ({exc.strerror or exc})") from None


def _details(file: Path, text: str) -> dict[str, Any]:
    if not text.strip():
        raise InputError(f"{file}: empty file")
    bounded.check_json_depth(text, file)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"{file}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}; truncated?)"
        ) from None
    if not isinstance(data, dict) or not any(key in data for key in _DETAIL_KEYS):
        raise InputError(
            f"{file}: not the output of `aws iam get-account-authorization-details` "
            "(no UserDetailList, GroupDetailList, RoleDetailList or Policies)"
        )
    for key in _DETAIL_KEYS:
        if key in data and not isinstance(data[key], list):
            raise InputError(f"{file}: {key} is not a list")
    return data


def _report(file: Path, text: str) -> list[dict[str, str]]:
    try:
        return iam.parse_credential_report(text)
    except MalformedAnswer as exc:
        raise InputError(f"{file}: not a usable IAM credential report ({exc})") from None


def _account(pages: list[dict[str, Any]], rows: list[dict[str, str]]) -> str:
    """The account id, from the first ARN that names one."""
    for page in pages:
        for key in _DETAIL_KEYS:
            for item in page.get(key, []):
                if not isinstance(item, dict):
                    continue
                account = account_of_arn(str(item.get("Arn", "")))
                if account:
                    return account
    for row in rows:
        account = account_of_arn(row.get("arn", ""))
        if account:
            return account
    return "unknown"
