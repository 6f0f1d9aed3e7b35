"""Every date the project reads or writes goes through here.

The cache and the exports hold one format only: ISO 8601 in UTC with a ``Z``, to the
second (:func:`isoformat`). What comes in is less tidy, so there are three readers, by
how much they must forgive:

* :func:`parse_time` -- our own timestamps and documented API fields; raises on garbage.
* :func:`when` -- a timestamp (or a bare ``YYYY-MM-DD``) found in collected facts; None
  when absent or unreadable, because a check must then say it cannot tell.
* :func:`from_any` -- whatever AWS or the AWS CLI hands over: datetimes, epoch seconds or
  milliseconds, ISO strings, the credential report's ``N/A``; None when it is no date.

and one for people: :func:`parse_user_time` reads what a user types (a date, ISO 8601, or
a relative ``30d``/``12w``/``6h``) and :func:`parse_age` a duration (``24h``, ``7d``).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Any, overload

__all__ = [
    "day",
    "from_any",
    "isoformat",
    "parse_age",
    "parse_time",
    "parse_user_time",
    "utcnow",
    "when",
]

_NO_DATE = frozenset({"n/a", "not_supported", "no_information", "none", "null"})
_AGE = re.compile(r"^\+?(\d+)\s*([mhdw])$")
_UNIT_HOURS = {"h": 1, "d": 24, "w": 24 * 7}


def utcnow() -> datetime:
    return datetime.now(UTC)


# A datetime always formats, so callers that pass one get a str, not an Optional.
@overload
def isoformat(moment: datetime) -> str: ...
@overload
def isoformat(moment: None) -> None: ...
@overload
def isoformat(moment: datetime | None) -> str | None: ...
def isoformat(moment: datetime | None) -> str | None:
    """ISO 8601 in UTC with a ``Z``, the one timestamp format the cache and exports use."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def parse_time(value: str | None) -> datetime | None:
    """An ISO 8601 timestamp or date as an aware datetime (naive means UTC).

    Raises:
        ValueError: the text is not ISO 8601.
    """
    if not value:
        return None
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def when(value: Any) -> datetime | None:
    """A timestamp or ``YYYY-MM-DD`` date from collected facts; None when absent or
    unreadable (the caller reports *unknown*, never a guess)."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return parse_time(value)
    except ValueError:
        return None


def from_any(value: Any) -> str | None:
    """Any timestamp AWS or the AWS CLI gives (datetime, date, ISO or RFC 2822 string,
    epoch seconds or milliseconds) as ISO 8601 Z; None for "no date" markers."""
    if value is None or value == "" or isinstance(value, bool):
        return None
    if isinstance(value, datetime):
        return isoformat(value)
    if isinstance(value, date):
        return isoformat(datetime(value.year, value.month, value.day, tzinfo=UTC))
    if isinstance(value, int | float):
        if value != value or value in (float("inf"), float("-inf")):  # NaN, infinities
            return None
        seconds = value / 1000 if value > 10**11 else value  # epoch millis or seconds
        try:
            return isoformat(datetime.fromtimestamp(seconds, UTC))
        except (OverflowError, OSError, ValueError):
            return None
    if isinstance(value, str):
        text = value.strip()
        if text.lower() in _NO_DATE:
            return None
        try:
            return isoformat(parse_time(text))
        except ValueError:
            pass
        # The CLI's text output and some older APIs use other layouts (RFC 2822...).
        from dateutil import parser as date_parser

        try:
            return isoformat(date_parser.parse(text))
        except (ValueError, OverflowError):
            return None
    return None


def day(moment: datetime) -> str:
    """The date part in UTC: stable across polls on the same day, unlike "N days ago"."""
    return moment.astimezone(UTC).date().isoformat() if moment.tzinfo else moment.date().isoformat()


def parse_age(text: str) -> timedelta:
    """A duration typed by a person: ``30m``, ``24h``, ``7d``, ``2w``.

    Raises:
        ValueError: with a message fit to show to the user.
    """
    match = _AGE.match(text.strip().lower())
    if not match or int(match.group(1)) == 0:
        raise ValueError(f"{text!r} is not a duration: use e.g. 30m, 24h, 7d or 2w")
    number, unit = int(match.group(1)), match.group(2)
    if unit == "m":
        return timedelta(minutes=number)
    return timedelta(hours=_UNIT_HOURS[unit] * number)


def parse_user_time(text: str, now: datetime) -> datetime:
    """A moment typed by a person: ``2026-12-31``, ISO 8601, or ``30d``/``12w``/``6h``
    from ``now``.

    Raises:
        ValueError: with a message fit to show to the user.
    """
    value = text.strip()
    if _AGE.match(value.lower()):
        return now + parse_age(value)
    try:
        moment = parse_time(value)
    except ValueError:
        raise ValueError(
            f"{text!r} is not a date: use YYYY-MM-DD, ISO 8601, or 30d / 12w"
        ) from None
    if moment is None:
        raise ValueError("a date is needed: use YYYY-MM-DD, ISO 8601, or 30d / 12w")
    return moment
