"""Limits on what an offline dump may make the parsers do.

``posture collect --from`` reads files from anywhere (a ticket attachment, a colleague's
laptop). A JSON array nested 100,000 deep overflows the parser's recursion; a YAML
"billion laughs" expands a few aliases into more nodes than memory holds; a 20 GB file
is read whole before anything is checked. Each is refused up front, with one line
naming the file and the limit, before the cache is opened.

The limits are far above what the tools write: kubectl and the AWS CLI nest a few tens
deep (a CRD's schema, the deepest, some 60), never write YAML aliases, and a cluster of
100,000 pods dumps to well under the size limit.
"""

from __future__ import annotations

import codecs
import itertools
import re
from pathlib import Path
from typing import Any

from postureapp.errors import InputError

MAX_FILE_BYTES = 256 * 1024 * 1024
MAX_DEPTH = 100

# A JSON string, escapes included, in the unrolled form that runs at C speed.
_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


def check_size(file: Path) -> None:
    """Refuse a file larger than :data:`MAX_FILE_BYTES` before reading it."""
    try:
        size = file.stat().st_size
    except OSError as error:
        raise InputError(f"{file}: cannot read ({error.strerror or error})") from None
    if size > MAX_FILE_BYTES:
        raise InputError(
            f"{file}: {size / 2**20:,.0f} MiB is more than the {MAX_FILE_BYTES // 2**20} MiB "
            "an offline dump may hold; export fewer kinds or namespaces per file"
        )


def check_json_depth(text: str, file: Path) -> None:
    """Refuse JSON nested deeper than :data:`MAX_DEPTH` (measured on the brackets outside
    strings, so nothing is parsed yet)."""
    skeleton = _NOT_BRACKET.sub("", _JSON_STRING.sub("", text))
    if not skeleton:
        return
    deepest = max(itertools.accumulate(_STEP[char] for char in skeleton))
    if deepest > MAX_DEPTH:
        raise InputError(_too_deep(file, "JSON", deepest))


def check_yaml(text: str, file: Path, loader: Any) -> None:
    """Refuse YAML nested deeper than :data:`MAX_DEPTH` or using aliases (``*name``), from
    the parser's events alone: no node is built yet."""
    import yaml

    depth = 0
    try:
        for event in yaml.parse(text, Loader=loader):
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    raise InputError(_too_deep(file, "YAML", depth, at_least=True))
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
            elif isinstance(event, yaml.AliasEvent):
                mark = event.start_mark
                where = f" at line {mark.line + 1}" if mark is not None else ""
                raise InputError(
                    f"{file}: YAML alias{where} (kubectl never writes "
                    "aliases, and they can expand without bound); export the dump again"
                )
    except yaml.YAMLError as error:
        if "nesting depth" in str(getattr(error, "problem", "")):  # libyaml's own limit
            raise InputError(_too_deep(file, "YAML", MAX_DEPTH, at_least=True)) from None
        return  # malformed: the loader reports it, with its position


def _too_deep(file: Path, language: str, depth: int, at_least: bool = False) -> str:
    more = "more than " if at_least else ""
    return (
        f"{file}: {language} nested {more}{depth} levels deep (the limit is {MAX_DEPTH}); "
        "not a kubectl or AWS CLI dump"
    )


# -- text encodings ------------------------------------------------------------------

_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),  # before UTF-16 LE: its BOM starts the same way
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def encoding_of(data: bytes) -> str:
    """The encoding of a dump: its byte-order mark, else UTF-16 when every other byte of
    an ASCII-looking start is NUL (PowerShell without a BOM), else UTF-8."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return encoding
    head = data[:64]
    if len(head) >= 4 and head[1::2].count(0) == len(head[1::2]) and 0 not in head[0::2]:
        return "utf-16-le"
    if len(head) >= 4 and head[0::2].count(0) == len(head[0::2]) and 0 not in head[1::2]:
        return "utf-16-be"
    return "utf-8"


def decode(data: bytes) -> str:
    """A dump's text; raises UnicodeDecodeError when it is not text (compressed...)."""
    text = data.decode(encoding_of(data))
    if "\x00" in text:  # binary that happened to decode
        raise UnicodeDecodeError("utf-8", data[:1], 0, 1, "NUL in text")
    return text
