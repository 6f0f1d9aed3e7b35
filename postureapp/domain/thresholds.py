"""The user's thresholds (config ``[thresholds]``) as checks and the graph read them.

The engine puts ``Config.thresholds()`` into every :class:`Inventory` it judges, and every
reader of a threshold goes through :func:`threshold`, so the checks, the identity graph
and whatever is derived from them agree on what "stale" means.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from postureapp.inventory import Inventory

# Defaults when the inventory carries no thresholds (tests, the offline loader); the
# configuration (postureapp.config) always passes its own.
ROTATION_DAYS = 90
UNUSED_DAYS = 90
CERT_WARNING_DAYS = 30


def now(inv: Inventory) -> datetime:
    """The moment the inventory is judged at, always aware."""
    moment = inv.now
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def threshold(inv: Inventory, name: str, default: int) -> int:
    """A whole-number threshold from the user's settings, or ``default``."""
    value = inv.setting(name, default)
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def cutoff(inv: Inventory, days: int) -> datetime:
    """The moment ``days`` before ``inv.now``: anything earlier is "more than N days ago"."""
    return now(inv) - timedelta(days=days)
