"""Outside text made inert: one definition of the characters that act instead of showing.

Names, labels, errors and banners come from clusters, accounts and servers we do not
control. Before they reach a terminal, a spreadsheet, a report or the dashboard, the
characters that would *do* something there are replaced by a visible form:

* C0 and C1 controls and DEL: ESC starts terminal sequences (colours, cursor moves,
  OSC 52 writes the clipboard), BEL, NUL and CR hide or overwrite text;
* U+2028 and U+2029, which many readers treat as line breaks;
* the bidi embeddings, overrides, isolates and marks (U+202A-202E, U+2066-2069,
  U+200E, U+200F, U+061C) that make text display in another order than it is stored
  ("Trojan Source").

The exports, the CLI and the dashboard all escape this one set; each picks a spelling
(``\\x1b`` in files and on stderr, control pictures such as ``␛`` on screen).
"""

from __future__ import annotations

import functools
import re

_UNSAFE_CHARS = "\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069"
UNSAFE = re.compile(f"[{_UNSAFE_CHARS}]")


@functools.lru_cache(maxsize=8)
def _unsafe_except(keep: str) -> re.Pattern[str]:
    return re.compile(f"(?![{re.escape(keep)}])[{_UNSAFE_CHARS}]")


def _spell(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 256 else f"\\u{code:04x}"


def escape_controls(text: str, keep: str = "") -> str:
    """Every unsafe character spelled as an escape (``\\x1b``, ``\\u202e``), except the
    characters in ``keep`` (say ``"\\t\\n"`` where a tab or a line break is legitimate)."""
    pattern = _unsafe_except(keep) if keep else UNSAFE
    if not pattern.search(text):
        return text
    return pattern.sub(_spell, text)


def _picture(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code < 0x20:
        return chr(0x2400 + code)  # U+2400.. "control pictures": ␛ ␊ ␀
    if code == 0x7F:
        return "\u2421"  # ␡
    return "\ufffd"


def control_pictures(text: str) -> str:
    """Every unsafe character shown as a one-cell stand-in (``␛``, ``␊``; U+FFFD for C1
    controls and bidi marks), for a screen where columns must keep their width."""
    if not UNSAFE.search(text):
        return text
    return UNSAFE.sub(_picture, text)


def shorten(text: str, limit: int) -> str:
    """``text`` cut to about ``limit`` characters for display, saying how much was left
    out; the full value stays in the JSON export."""
    if len(text) <= limit:
        return text
    dropped = len(text) - limit
    return f"{text[:limit]}… (+{dropped:,} characters)"
