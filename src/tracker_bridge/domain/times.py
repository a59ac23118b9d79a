"""Reading a moment given by a user (``--at``, ``Bridge.observe(at=...)``)."""

from __future__ import annotations

from datetime import UTC, datetime

from tracker_bridge.errors import UsageError


def parse_moment(text: str) -> datetime:
    """An ISO 8601 time as an aware UTC ``datetime``; a time without zone is read as UTC.

    ``UsageError`` for anything that is not a time, or that falls outside what can be stored
    (``9999-12-31T23:59:59-05:00`` is past year 9999 in UTC).
    """
    try:
        when = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(
            f"{text!r} is not an ISO 8601 time.", hint="Example: 2026-11-21T09:30:00Z"
        ) from None
    return as_utc(when)


def as_utc(when: datetime) -> datetime:
    """``when`` in UTC (naive means UTC already); ``UsageError`` when UTC cannot hold it."""
    if when.tzinfo is None:
        return when.replace(tzinfo=UTC)
    try:
        return when.astimezone(UTC)
    except OverflowError:
        raise UsageError(
            f"{when.isoformat()} is outside the range of times that can be recorded.",
            hint="Give a time between year 1 and 9999 in UTC.",
        ) from None
