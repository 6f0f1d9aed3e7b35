"""Small helpers every export format shares: joining findings to their resources,
ordering by severity, and making outside text safe to show."""

from __future__ import annotations

import functools
import gc
import json
import json.encoder
import re
from collections.abc import Callable, Iterator
from typing import IO, Any, ParamSpec, TypeVar

from postureapp.model import Severity, split_k8s_uid
from postureapp.text import escape_controls

P = ParamSpec("P")
R = TypeVar("R")


def bulk(function: Callable[P, R]) -> Callable[P, R]:
    """Run ``function`` with the cyclic garbage collector paused.

    Building or writing a 100,000-finding document allocates millions of small dicts
    and strings; every few thousand allocations the collector would walk the whole heap
    (the document included) looking for cycles that JSON-like data cannot have. That
    made a writer two to ten times slower (``json.loads`` of a large baseline: 6 s
    against 0.6 s). Memory is still freed by reference counting; the collector resumes
    afterwards and catches anything cyclic then.
    """

    @functools.wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            return function(*args, **kwargs)
        finally:
            if was_enabled:
                gc.enable()

    return wrapper


SEVERITY_ORDER = [severity.value for severity in Severity]  # worst first


class ResourceIndex:
    """uid -> (name, kind, namespace, provider, scope) for the document's resources.

    Only those fields: a format that joins a finding to its resource can never reach
    ``attrs`` through here (attrs stay in the JSON export, by contract)."""

    __slots__ = ("_rows",)

    def __init__(self, document: dict[str, Any]) -> None:
        self._rows = {
            r["uid"]: (r["name"], r["kind"], r["namespace"], r["provider"], r["scope"])
            for r in document["resources"]
        }

    def name(self, uid: str) -> str:
        row = self._rows.get(uid)
        return row[0] if row else uid

    def kind(self, uid: str) -> str:
        row = self._rows.get(uid)
        return row[1] if row else ""

    def label(self, uid: str) -> str:
        """What a person calls the resource: ``Deployment shop/web`` or ``IAMRole ci``
        (outside text, not yet escaped); the uid itself when it names nothing better."""
        row = self._rows.get(uid)
        if row is None:
            return uid_label(uid)
        name, kind, namespace = row[0], row[1], row[2]
        named = f"{namespace}/{name}" if namespace else name
        return f"{kind} {named}" if kind and named else named or uid

    def get(self, uid: str) -> dict[str, str] | None:
        row = self._rows.get(uid)
        if row is None:
            return None
        return dict(zip(("name", "kind", "namespace", "provider", "scope"), row, strict=True))


def uid_label(uid: str) -> str:
    """A readable name from a uid alone (a resource gone from the snapshot):
    ``k8s://c/ns/Kind/name`` -> ``Kind ns/name``, ``k8s://c/ns`` -> ``Namespace ns``;
    an ARN -> its resource name (``role/ci`` -> ``ci``, ``secret:team/key`` -> ``team/key``)."""
    if uid.startswith("k8s://"):
        split = split_k8s_uid(uid)
        if split is not None:
            _, namespace, kind, name = split
            return f"{kind} {namespace}/{name}" if namespace else f"{kind} {name}"
        parts = uid[len("k8s://") :].split("/")
        if len(parts) == 2 and all(parts) and parts[1] != "_":
            return f"Namespace {parts[1]}"
    elif uid.startswith("arn:"):
        fields = uid.split(":", 5)
        if len(fields) == 6 and fields[5]:
            resource = fields[5]
            cut = min((i for i in (resource.find(":"), resource.find("/")) if i > 0), default=-1)
            name = resource[cut + 1 :] if cut > 0 else resource
            if resource[:cut] in ("role", "user", "policy", "instance-profile", "group"):
                name = name.rsplit("/", 1)[-1]  # an IAM path is not part of the name
            return name or uid
    return uid


def failing(document: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The document's failing findings, in its order (worst first)."""
    return (f for f in document["findings"] if f["status"] == "fail")


def one_line(text: str) -> str:
    """Line breaks become spaces (a table cell or a summary stays on its line); other
    control characters and bidi overrides are spelled out (``\\x1b``, ``\\u202e``; the
    set is :data:`postureapp.text.UNSAFE`, the one the dashboard escapes)."""
    if text.isprintable():
        # Nothing to do (the usual case, and exports call this per cell): every line
        # break and every character of UNSAFE is one str.isprintable() rejects.
        return text
    return escape_controls(re.sub(r"\r\n|[\r\n\u2028\u2029]", " ", text))


def runs_in_trouble(document: dict[str, Any]) -> list[dict[str, Any]]:
    """Collector runs that did not finish cleanly (failed, or partial with unread kinds)."""
    return [run for run in document["collector_runs"] if run["status"] != "ok"]


def _unread(run: dict[str, Any]) -> list[str]:
    """``Kind (why)`` of each kind the run could not read that its error does not
    already name: a partial run's ``error`` is usually the ``Kind: why`` list itself."""
    error = run["error"] or ""
    return [
        f"{kind} ({why})"
        for kind, why in sorted((run["unknown"] or {}).items())
        if f"{kind}: {why}" not in error
    ]


def run_problem(run: dict[str, Any]) -> str:
    """What went wrong in a collector run, each reason once."""
    error = run["error"] or ""
    unread = _unread(run)
    if not unread:
        return error
    listed = "not read: " + "; ".join(unread)
    return f"{error}; {listed}" if error else listed


def describe_run(run: dict[str, Any]) -> str:
    """One line naming a collector run and what went wrong, each reason once (outside
    text made visible)."""
    text = f"{run['collector']} on {run['target']}: {run['status']}"
    if run["error"]:
        text += f": {run['error']}"
    unread = _unread(run)
    if unread:
        text += f"; not read: {'; '.join(unread)}"
    return one_line(text)


def compact_encoder(separators: tuple[str, str] = (", ", ": ")) -> Callable[[Any], str]:
    """``json.JSONEncoder(ensure_ascii=False, separators=separators).encode``, the same
    text, without the set-up that method repeats on every call (it builds a new C
    encoder each time: most of the cost of encoding one small record, and exports
    encode one per finding)."""
    reference = json.JSONEncoder(ensure_ascii=False, separators=separators)
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:  # an interpreter without the C accelerator
        return reference.encode
    try:
        # The arguments JSONEncoder.iterencode gives it; markers=None: JSON-like data
        # has no cycles (one would end in RecursionError rather than ValueError).
        encoder = make(
            None,
            reference.default,
            json.encoder.encode_basestring,
            None,
            separators[1],
            separators[0],
            False,
            False,
            True,
        )
    except TypeError:  # another signature in some future release: the plain way
        return reference.encode
    join = "".join

    def encode(value: Any) -> str:
        return join(encoder(value, 0))

    return encode


_encode = compact_encoder()  # the C encoder (no indent)

# JSON leaves these raw inside strings, yet many line readers (Python's str.splitlines,
# JavaScript) break lines at them: one record would read as two broken lines.
LINE_BREAKERS = str.maketrans({"\x85": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"})


def no_line_breakers(text: str) -> str:
    """``text`` (JSON) with U+0085, U+2028 and U+2029 written as escapes."""
    if "\u2028" in text or "\u2029" in text or "\x85" in text:
        return text.translate(LINE_BREAKERS)
    return text


def _compact(value: Any) -> str:
    return no_line_breakers(_encode(value))


def write_records_json(value: Any, out: IO[str], records: frozenset[str]) -> None:
    """JSON laid out for people and line tools, at the C encoder's speed.

    Objects are indented (one space per level); a list under one of the ``records``
    keys gets one element per line, each element compact (``{"a": 1, "b": 2}``). So a
    100,000-finding export is 100,000 greppable lines, and a changed finding is a
    one-line diff. (``json.dump(indent=...)`` runs the pure-Python encoder: about five
    times slower on a large snapshot.)
    """
    _emit(value, out, 0, records, None)
    out.write("\n")


def _emit(value: Any, out: IO[str], depth: int, records: frozenset[str], key: str | None):
    pad = " " * (depth + 1)
    if isinstance(value, dict) and value:
        out.write("{\n")
        last = len(value) - 1
        for index, (name, item) in enumerate(value.items()):
            out.write(pad + _compact(name) + ": ")
            _emit(item, out, depth + 1, records, name)
            out.write(",\n" if index < last else "\n")
        out.write(" " * depth + "}")
    elif (
        isinstance(value, list)
        and value
        and (key in records or any(isinstance(item, dict | list) for item in value))
    ):
        out.write("[\n")
        if key in records:
            # A thousand records a write, each encoded by one call to the C encoder.
            between = ",\n" + pad
            for start in range(0, len(value), 1000):
                chunk = between.join(map(_encode, value[start : start + 1000]))
                out.write(pad + no_line_breakers(chunk))
                out.write(",\n" if start + 1000 < len(value) else "\n")
        else:
            last = len(value) - 1
            for index, item in enumerate(value):
                out.write(pad)
                _emit(item, out, depth + 1, records, None)
                out.write(",\n" if index < last else "\n")
        out.write(" " * depth + "]")
    else:
        out.write(_compact(value))
