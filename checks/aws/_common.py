"""Helpers shared by the AWS checks: dates and thresholds, accounts and regions, and where
an account-level finding hangs.

Details and evidence must stay the same from one poll to the next while nothing changes
(the diff reports "content changed" otherwise), so ages are never written as a number of
days counted from ``inv.now``: a detail names the date and the threshold instead
("last rotated 2026-05-01 (more than 90 days ago)").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from postureapp.checks.registry import Result
from postureapp.model import Resource, Status


def day(moment: datetime) -> str:
    """The date part only: stable across polls on the same day and readable in a detail."""
    return moment.astimezone(UTC).date().isoformat()


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
