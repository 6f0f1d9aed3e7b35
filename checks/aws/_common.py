"""Helpers shared by the AWS checks: dates and thresholds, accounts and regions, and where
an account-level finding hangs.

Details and evidence must stay the same from one poll to the next while nothing changes
(the diff reports "content changed" otherwise), so ages are never written as a number of
days counted from ``inv.now``: a detail names the date and the threshold instead
("last rotated 2026-05-01 (more than 90 days ago)").
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from postureapp.checks.registry import Result
from postureapp.inventory import Inventory
from postureapp.model import Resource, Status, parse_time

PROVIDER = "aws"

# Defaults when the inventory carries no thresholds (tests, the offline loader); the
# configuration (postureapp.config) always passes its own.
ROTATION_DAYS = 90
UNUSED_DAYS = 90
CERT_WARNING_DAYS = 30


def now(inv: Inventory) -> datetime:
    moment = inv.now
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def when(value: Any) -> datetime | None:
    """An ISO timestamp from attrs as an aware datetime; None when absent or unreadable."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return parse_time(value)
    except ValueError:
        return None


def day(moment: datetime) -> str:
    """The date part only: stable across polls on the same day and readable in a detail."""
    return moment.astimezone(UTC).date().isoformat()


def threshold(inv: Inventory, name: str, default: int) -> int:
    value = inv.setting(name, default)
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def cutoff(inv: Inventory, days: int) -> datetime:
    """The moment ``days`` before ``inv.now``: anything earlier is "more than N days ago"."""
    return now(inv) - timedelta(days=days)


def account_of(resource: Resource) -> str:
    return resource.scope.split("/", 1)[0]


def region_of(resource: Resource) -> str:
    parts = resource.scope.split("/")
    return parts[1] if len(parts) > 1 else ""


def by_account(resources: Iterable[Resource]) -> dict[str, list[Resource]]:
    grouped: dict[str, list[Resource]] = defaultdict(list)
    for resource in resources:
        grouped[account_of(resource)].append(resource)
    return grouped


def by_region(resources: Iterable[Resource]) -> dict[tuple[str, str], list[Resource]]:
    """Resources keyed by (account, region), the key of an ``AWSRegion`` marker."""
    grouped: dict[tuple[str, str], list[Resource]] = defaultdict(list)
    for resource in resources:
        grouped[(account_of(resource), region_of(resource))].append(resource)
    return grouped


def regions(inv: Inventory) -> list[Resource]:
    """The ``AWSRegion`` markers: one per region the collector read."""
    return sorted(inv.of(PROVIDER, "AWSRegion"), key=lambda r: r.scope)


def account_anchor(inv: Inventory, account: str) -> Resource | str:
    """What an account-level finding hangs on: the ``IAMAccount`` resource, or (IAM not
    collected) its uid, ``arn:{partition}:iam::{account}:root``, so the fingerprint is
    the same either way."""
    for resource in inv.of(PROVIDER, "IAMAccount"):
        if account_of(resource) == account:
            return resource
    partition = "aws"
    for resource in inv:
        mine = resource.provider == PROVIDER and account_of(resource) == account
        if mine and resource.uid.startswith("arn:"):
            partition = resource.uid.split(":", 2)[1] or "aws"
            break
    return f"arn:{partition}:iam::{account}:root"


def plural(count: int, word: str, words: str | None = None) -> str:
    return f"{count} {word if count == 1 else (words or word + 's')}"


def listing(items: Iterable[str], limit: int = 5) -> str:
    """``a, b, c`` or ``a, b, c and 4 more``: details stay one readable line."""
    items = list(items)
    if len(items) <= limit:
        return ", ".join(items)
    return f"{', '.join(items[:limit])} and {len(items) - limit} more"


@dataclass(frozen=True)
class DormancyWording:
    """How one check words the "unused since" decision. Templates take ``{name}``,
    ``{when}`` (a date) and ``{days}``."""

    recent: str  # pass: used within the window
    stale: str  # fail: last used before the window
    no_date: str  # unknown: never used, creation date unknown
    never_old: str  # fail: never used, created before the window
    never_new: str  # pass: never used, created within the window
    evidence_key: str = "last_used"


def dormancy(
    resource: Resource | str,
    name: str,
    last: datetime | None,
    created: datetime | None,
    limit: datetime,
    days: int,
    wording: DormancyWording,
) -> Result:
    """The verdict on something that should have been used within ``days`` (``limit``
    is now minus ``days``): judged on its last use, else on its creation date."""
    if last is not None:
        if last >= limit:
            return Result(resource, Status.PASS, wording.recent.format(name=name, days=days))
        return Result(
            resource,
            Status.FAIL,
            wording.stale.format(name=name, when=day(last), days=days),
            {wording.evidence_key: day(last), "unused_days": days},
        )
    if created is None:
        return Result(resource, Status.UNKNOWN, wording.no_date.format(name=name))
    if created >= limit:
        return Result(resource, Status.PASS, wording.never_new.format(name=name, when=day(created)))
    return Result(
        resource,
        Status.FAIL,
        wording.never_old.format(name=name, when=day(created), days=days),
        {wording.evidence_key: None, "created": day(created), "unused_days": days},
    )
