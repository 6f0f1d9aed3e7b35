"""Exports read the store and write one snapshot in a format other tools consume.

Every format is a writer ``(document, text stream) -> None`` over the
``postureapp/snapshot/v1`` document that :func:`build_document` builds, so all formats
say the same thing about a snapshot, and none reads the store itself::

    document = build_document(store, snapshot)
    FORMATS["sarif"](document, out)

Writers import their heavier dependencies (Jinja2) only when called.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import IO, Any

from postureapp.export.snapshot_json import SCHEMA_ID, build_document, write_json

Writer = Callable[[dict[str, Any], IO[str]], None]


def _write_sarif(document: dict[str, Any], out: IO[str]) -> None:
    from postureapp.export.sarif import write_sarif

    write_sarif(document, out)


def _write_html(document: dict[str, Any], out: IO[str]) -> None:
    from postureapp.export.html import write_html

    write_html(document, out)


def _write_markdown(document: dict[str, Any], out: IO[str]) -> None:
    from postureapp.export.markdown import write_markdown

    write_markdown(document, out)


def _write_csv(document: dict[str, Any], out: IO[str]) -> None:
    from postureapp.export.csv_export import write_csv

    write_csv(document, out)


def _write_ocsf(document: dict[str, Any], out: IO[str]) -> None:
    from postureapp.export.ocsf import write_ocsf

    write_ocsf(document, out)


FORMATS: dict[str, Writer] = {
    "json": write_json,
    "sarif": _write_sarif,
    "html": _write_html,
    "markdown": _write_markdown,
    "csv": _write_csv,
    "ocsf": _write_ocsf,
}

# The usual file name ending of each format (OCSF is JSON Lines: one event per line).
EXTENSIONS: dict[str, str] = {
    "json": ".json",
    "sarif": ".sarif",
    "html": ".html",
    "markdown": ".md",
    "csv": ".csv",
    "ocsf": ".ocsf.jsonl",
}


def write(fmt: str, document: dict[str, Any], out: IO[str]) -> None:
    """Write ``document`` to ``out`` in format ``fmt`` (a key of :data:`FORMATS`).

    Raises:
        ValueError: ``fmt`` is not a known format (the message lists the choices).
    """
    try:
        writer = FORMATS[fmt]
    except KeyError:
        raise ValueError(f"unknown format {fmt!r} (choose one of: {', '.join(FORMATS)})") from None
    writer(document, out)


__all__ = ["EXTENSIONS", "FORMATS", "SCHEMA_ID", "Writer", "build_document", "write", "write_json"]
