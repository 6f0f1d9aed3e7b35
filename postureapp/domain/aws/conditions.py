"""What can be said of a statement's ``Condition`` without a request: whether it can
never hold now, always holds, or may hold (most conditions: they depend on the caller).

Only time conditions are decided: ``aws:CurrentTime`` and ``aws:TokenIssueTime`` compared
with ``Date*`` operators. A token is issued before it is used, so ``DateLessThan
aws:TokenIssueTime <past date>`` can only hold for a credential issued before that date,
which no longer exists (session tokens last 36 hours at most; IAM users' long-term keys
have no TokenIssueTime at all, and a condition on a missing key does not hold);
``DateLessThan aws:CurrentTime <past date>`` is over. Anything else is *maybe*, and the
findings keep calling it conditional.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

# The longest an STS session lives (role chaining is capped at one hour; federation 36h).
_MAX_SESSION = timedelta(hours=36)
_TIME_KEYS = ("aws:currenttime", "aws:tokenissuetime")


class Holds(StrEnum):
    NEVER = "never"
    ALWAYS = "always"
    MAYBE = "maybe"


def _date(value: Any) -> datetime | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, UTC)
    if not isinstance(value, str):
        return None
    text = value.strip()
    if text.isdigit():
        return datetime.fromtimestamp(int(text), UTC)
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _compare(operator: str, key: str, values: list[Any], now: datetime) -> Holds:
    """One ``Date*`` test of a time key against its values (any value may match)."""
    base = operator.removesuffix("IfExists")
    dates = [_date(value) for value in values]
    if not dates or any(date is None for date in dates):
        return Holds.MAYBE
    known = [date for date in dates if date is not None]
    # The key's possible values now: CurrentTime is exactly now; TokenIssueTime lies in
    # the last session lifetime (and cannot be in the future).
    if key == "aws:currenttime":
        low = high = now
    else:
        low, high = now - _MAX_SESSION, now
    outcomes = []
    for date in known:
        if base in ("DateLessThan", "DateLessThanEquals"):
            outcomes.append(
                Holds.ALWAYS if high < date else Holds.NEVER if low >= date else Holds.MAYBE
            )
        elif base in ("DateGreaterThan", "DateGreaterThanEquals"):
            outcomes.append(
                Holds.ALWAYS if low > date else Holds.NEVER if high <= date else Holds.MAYBE
            )
        else:
            return Holds.MAYBE
    if Holds.ALWAYS in outcomes:
        return Holds.ALWAYS
    if all(outcome is Holds.NEVER for outcome in outcomes):
        # A TokenIssueTime test on a user's long-term key has no key to test: IfExists
        # makes it hold, plain operators make it fail.
        if key == "aws:tokenissuetime" and operator.endswith("IfExists"):
            return Holds.MAYBE
        return Holds.NEVER
    return Holds.MAYBE


def evaluate(condition: Any, now: datetime) -> Holds:
    """Whether a ``Condition`` block can hold at ``now`` (all its tests must hold)."""
    if not condition:
        return Holds.ALWAYS
    if not isinstance(condition, dict):
        return Holds.MAYBE
    results = []
    for operator, block in condition.items():
        if not isinstance(block, dict):
            results.append(Holds.MAYBE)
            continue
        for key, values in block.items():
            name = str(key).lower()
            if name in _TIME_KEYS and str(operator).startswith("Date"):
                listed = values if isinstance(values, list) else [values]
                results.append(_compare(str(operator), name, listed, now))
            else:
                results.append(Holds.MAYBE)
    if Holds.NEVER in results:
        return Holds.NEVER
    if all(result is Holds.ALWAYS for result in results):
        return Holds.ALWAYS
    return Holds.MAYBE
