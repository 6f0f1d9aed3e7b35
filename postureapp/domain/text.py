"""Short, stable wording for details: lists that stay one line, counted nouns."""

from __future__ import annotations

from collections.abc import Iterable


def names_list(items: Iterable[str], limit: int = 10) -> str:
    """A short, stable, human list: ``a, b, c`` or ``a, b, ... (+3 more)``."""
    items = list(items)
    if len(items) <= limit:
        return ", ".join(items)
    return ", ".join(items[:limit]) + f", ... (+{len(items) - limit} more)"


def plural(count: int, word: str, words: str | None = None) -> str:
    return f"{count} {word if count == 1 else (words or word + 's')}"


def listing(items: Iterable[str], limit: int = 5) -> str:
    """``a, b, c`` or ``a, b, c and 4 more``: details stay one readable line."""
    items = list(items)
    if len(items) <= limit:
        return ", ".join(items)
    return f"{', '.join(items[:limit])} and {len(items) - limit} more"
