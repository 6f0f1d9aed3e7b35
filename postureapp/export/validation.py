"""Validating a ``postureapp/snapshot/v1`` document against its JSON Schema.

The schema ships as package data (``schema/snapshot-v1.schema.json``, JSON Schema draft
2020-12) so other tools can validate our exports without running postureapp.
"""

from __future__ import annotations

import functools
import json
import re
from importlib.resources import files
from typing import Any

SCHEMA_RESOURCE = "schema/snapshot-v1.schema.json"


class InvalidDocument(ValueError):
    """A document that is not a valid ``postureapp/snapshot/v1`` export.

    ``errors`` lists every problem as ``"<json path>: <message>"``; ``str()`` is one line.
    """

    def __init__(self, errors: list[str]) -> None:
        self.errors = errors
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        super().__init__(f"{errors[0]}{more}")


def load_schema() -> dict[str, Any]:
    """The JSON Schema of ``postureapp/snapshot/v1`` as a dict."""
    return json.loads(files("postureapp.export").joinpath(SCHEMA_RESOURCE).read_text("utf-8"))


@functools.cache
def _validator() -> Any:
    from jsonschema import Draft202012Validator  # imported late: only validation needs it

    return Draft202012Validator(load_schema())


def document_errors(document: Any, limit: int = 20) -> list[str]:
    """Up to ``limit`` schema violations of ``document``, in document order; [] if valid."""
    problems = []
    for error in _validator().iter_errors(document):
        problems.append((list(error.absolute_path), error.message))
        if len(problems) >= limit:
            break
    problems.sort(key=lambda item: [str(part) for part in item[0]])
    return [f"{_json_path(path)}: {_shorten(message)}" for path, message in problems]


def validate_document(document: Any, *, sample: int | None = None) -> None:
    """Raise :class:`InvalidDocument` unless ``document`` is a valid v1 export.

    Args:
        sample: validate only the first ``sample`` elements of each large list with the
            schema (jsonschema takes ~0.1 ms per finding: 20 s for a 100,000-finding
            export), then check the fields a reader of every finding relies on
            (fingerprint, status, check_id, resource_uid) on all of them. For a CI gate
            reading a baseline; None validates everything.
    """
    if sample is None or not isinstance(document, dict):
        errors = document_errors(document)
    else:
        trimmed = dict(document)
        for key in _LARGE_LISTS:
            if isinstance(trimmed.get(key), list):
                trimmed[key] = trimmed[key][:sample]
        errors = document_errors(trimmed) or _finding_essentials(document["findings"])
    if errors:
        raise InvalidDocument(errors)


_LARGE_LISTS = ("resources", "findings")
_FINGERPRINT = re.compile(r"[0-9a-f]{32}")
_STATUSES = frozenset({"fail", "pass", "unknown", "error"})


def _finding_essentials(findings: list[Any], limit: int = 20) -> list[str]:
    errors = []
    for index, finding in enumerate(findings):
        where = f"$.findings[{index}]"
        if not isinstance(finding, dict):
            errors.append(f"{where}: {_shorten(repr(finding), 60)} is not an object")
            continue
        fp, status = finding.get("fingerprint"), finding.get("status")
        if not isinstance(fp, str) or not _FINGERPRINT.fullmatch(fp):
            shown = _shorten(repr(fp), 60)
            errors.append(f"{where}.fingerprint: {shown} is not a 32-character hex fingerprint")
        elif status not in _STATUSES:
            shown = _shorten(repr(status), 60)
            errors.append(f"{where}.status: {shown} is not one of {sorted(_STATUSES)}")
        elif not isinstance(finding.get("check_id"), str) or not isinstance(
            finding.get("resource_uid"), str
        ):
            errors.append(f"{where}: check_id and resource_uid must be strings")
        if len(errors) >= limit:
            break
    return errors


def _json_path(parts: list[Any]) -> str:
    path = "$"
    for part in parts:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def _shorten(message: str, width: int = 160) -> str:
    """jsonschema quotes the offending value whole; a 10 kB blob is not one clear line."""
    message = " ".join(message.split())
    return message if len(message) <= width else message[: width - 1] + "…"
