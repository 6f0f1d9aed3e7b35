"""Turning outside data into safe, styled text.

Anything that came from a cluster or a cloud account (names, labels, error messages)
is data. It is rendered through :func:`safe` into a ``rich.text.Text``, which is never
parsed as markup, after control characters (ANSI escapes, newlines, bidi overrides)
are replaced by visible stand-ins, so a resource named ``[bold red]x[/]`` or
``\\x1b[2J`` shows exactly those characters and cannot restyle or clear the screen.
"""

from __future__ import annotations

from datetime import datetime

from rich.text import Text

from postureapp.model import parse_time
from postureapp.text import control_pictures


def clean(value: object) -> str:
    """A one-line string with every control character and bidi mark made visible (the
    set the exports escape too: :data:`postureapp.text.UNSAFE`)."""
    return control_pictures("" if value is None else str(value))


def safe(value: object, style: str = "") -> Text:
    """Outside data as a Text: never markup, no control characters."""
    return Text(clean(value), style=style, no_wrap=False)


def multiline(value: object, style: str = "") -> Text:
    """Like :func:`safe` but keeps newlines (for evidence and notes)."""
    lines = ("" if value is None else str(value)).split("\n")
    return Text("\n").join(Text(clean(line), style=style) for line in lines)


SEVERITY_STYLES = {
    "critical": "bold white on red",
    "high": "bold red",
    "medium": "yellow",
    "low": "cyan",
    "info": "dim",
}
STATUS_STYLES = {
    "fail": "bold red",
    "pass": "green",
    "unknown": "magenta",
    "error": "bold magenta",
    "partial": "yellow",
    "ok": "green",
    "failed": "bold red",
    "complete": "green",
}


def severity(value: str | None) -> Text:
    name = value or ""
    return Text(name, style=SEVERITY_STYLES.get(name, ""))


def status(value: str | None) -> Text:
    name = value or ""
    return Text(name, style=STATUS_STYLES.get(name, ""))


def age(moment: str | None, now: datetime) -> str:
    """Compact age of an ISO timestamp: 45s, 12m, 5h, 3d."""
    when = parse_time(moment) if moment else None
    if when is None:
        return ""
    seconds = max(0, int((now - when).total_seconds()))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m"
    if seconds < 48 * 3600:
        return f"{seconds // 3600}h"
    return f"{seconds // 86400}d"


def duration(seconds: float) -> str:
    seconds = max(0, int(seconds))
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m{seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def short_time(moment: str | None) -> str:
    """2026-11-20 09:00 (UTC) from an ISO timestamp."""
    when = parse_time(moment) if moment else None
    return when.strftime("%Y-%m-%d %H:%M") if when else "never"


STATUS_MARKS = {"fail": "✗", "partial": "◐", "unknown": "?", "error": "!", "pass": "✓"}


def status_badge(value: str | None) -> Text:
    """A status with its mark (``◐ partial``), readable without colour."""
    name = value or ""
    mark = STATUS_MARKS.get(name, "")
    return Text(f"{mark} {name}" if mark else name, style=STATUS_STYLES.get(name, ""))


def coverage_bar(share: float | None, cells: int = 8) -> Text:
    """``██████░░  75%``: the passing share of judged findings, at a glance."""
    if share is None:
        return Text("not judged".rjust(cells + 5), "dim")
    filled = round(share * cells)
    if 0 < share < 1:  # never show a gap as full, nor some passing as none
        filled = min(max(filled, 1), cells - 1)
    style = "green" if share >= 0.9 else "yellow" if share >= 0.5 else "red"
    out = Text("█" * filled, style)
    out.append("░" * (cells - filled), "dim")
    out.append(f" {share:>4.0%}")
    return out


def evidence_counts(counts: dict[str, int]) -> Text:
    """``✗ 12  ✓ 30  ? 2``: failing, passing and unknown findings."""
    out = Text()
    for status in ("fail", "pass", "unknown"):
        number = counts.get(status, 0) + (counts.get("error", 0) if status == "unknown" else 0)
        if out:
            out.append("  ")
        out.append(f"{STATUS_MARKS[status]} {number:,}", STATUS_STYLES[status] if number else "dim")
    return out
