"""How often a defect happens, where, and when it is likely to strike again: pure statistics."""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from tracker_bridge.domain.tickets import Ticket


@dataclass(frozen=True, slots=True)
class Recurrence:
    """A defect's sightings summarised."""

    count: int
    first_seen: datetime | None
    last_seen: datetime | None
    instances: tuple[tuple[str, int], ...]
    """Instances with their sighting counts, most frequent first."""
    median_interval: timedelta | None
    """Median time between consecutive sightings (None with fewer than two)."""
    next_expected: datetime | None
    """Last sighting plus the median interval: a naive but honest forecast."""
    per_week: float | None
    """Sightings per week over the observed span (None with fewer than two)."""
    impacts: tuple[str, ...]
    actions: tuple[str, ...]
    """Every distinct action taken, in the order first taken."""


def summarise(observations: Sequence[Ticket]) -> Recurrence:
    """Summarise a defect's observations (ordered or not)."""
    times = sorted(t.observed_at or t.created for t in observations)
    gaps = [b - a for a, b in itertools.pairwise(times)]
    median = _median(gaps)
    span = (times[-1] - times[0]) if len(times) > 1 else None
    per_week = None
    if span is not None and span >= timedelta(days=1):
        # a rate over less than a day says more about the burst than about the defect
        per_week = round(len(times) / (span / timedelta(weeks=1)), 2)
    places = Counter(t.instance for t in observations if t.instance)
    seen: dict[str, None] = {}
    for t in sorted(observations, key=lambda t: t.observed_at or t.created):
        for action in t.actions:
            seen.setdefault(action, None)
    return Recurrence(
        count=len(observations),
        first_seen=times[0] if times else None,
        last_seen=times[-1] if times else None,
        instances=tuple(sorted(places.items(), key=lambda kv: (-kv[1], kv[0]))),
        median_interval=median,
        # a forecast from two sightings, or from one burst, would be noise presented as fact
        next_expected=(times[-1] + median)
        if median is not None and len(times) >= 3 and span is not None and span >= timedelta(days=1)
        else None,
        per_week=per_week,
        impacts=tuple(t.impact for t in observations if t.impact),
        actions=tuple(seen),
    )


def _median(values: Sequence[timedelta]) -> timedelta | None:
    if not values:
        return None
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def weekly(times: Sequence[datetime], now: datetime, weeks: int) -> tuple[int, ...]:
    """Sightings in each of the last ``weeks`` seven-day spans ending at ``now``, oldest first."""
    counts = [0] * weeks
    for t in times:
        back = int((now - t) / timedelta(weeks=1))
        if 0 <= back < weeks and t <= now:
            counts[weeks - 1 - back] += 1
    return tuple(counts)
