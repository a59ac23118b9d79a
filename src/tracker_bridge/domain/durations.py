"""How long an effect lasted, as people type it: ``20m``, ``1h30m``, ``45s``, ``2d``."""

from __future__ import annotations

import re
from datetime import timedelta

from tracker_bridge.errors import UsageError

_UNITS = (("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1))
_PATTERN = re.compile(r"(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?")
LONGEST = timedelta(days=366)
"""Longer than a year is a typo, not an outage."""


def parse(text: str) -> timedelta:
    """``1h30m`` -> 90 minutes. Units d, h, m, s in that order, each at most once.

    ``UsageError`` (exit 2) for anything else, naming what is accepted.
    """
    cleaned = text.strip().lower().replace(" ", "")
    match = _PATTERN.fullmatch(cleaned)
    if not cleaned or match is None:
        raise UsageError(
            f"{text!r} is not a duration.",
            hint="Give whole numbers with units d, h, m, s in that order: 20m, 1h30m, 45s.",
        )
    # a number past a year's worth of seconds is refused before timedelta (which overflows)
    # or int() (which refuses past 4300 digits) sees it
    cap = int(LONGEST.total_seconds()) + 1
    seconds = sum(
        min(int(value) if len(value.lstrip("0")) <= 12 else cap, cap) * size
        for value, (_, size) in zip(match.groups(), _UNITS, strict=True)
        if value is not None
    )
    if seconds <= 0:
        raise UsageError(
            f"{text!r} is no time at all.", hint="Give how long the effect lasted, e.g. 20m."
        )
    span = timedelta(seconds=min(seconds, cap))
    if span > LONGEST:
        raise UsageError(
            f"{text!r} is longer than a year.",
            hint="Give how long this one sighting's effect lasted, e.g. 1h30m.",
        )
    return span


def format(span: timedelta) -> str:
    """The inverse of ``parse`` for whole seconds: 90 minutes -> ``1h30m``."""
    seconds = int(span.total_seconds())
    if seconds <= 0:
        return "0s"
    parts = []
    for unit, size in _UNITS:
        value, seconds = divmod(seconds, size)
        if value:
            parts.append(f"{value}{unit}")
    return "".join(parts)


def minutes(span: timedelta) -> float:
    """A duration in minutes, as reports count impact."""
    return span.total_seconds() / 60


def from_seconds(value: object) -> timedelta | None:
    """A duration kept in a tracker's data block as whole seconds; None for anything else
    (absent, or edited by hand into something that is not a positive whole number)."""
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return timedelta(seconds=value)
    return None
