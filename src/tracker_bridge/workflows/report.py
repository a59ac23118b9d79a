"""``report``: the case for fixing each defect, from its observations.

How often a defect strikes (in all, per week, in the last 30 days, week by week), where, with
what impact (minutes from ``observe --duration``), how many sightings the next 30 days are likely
to bring and whether it is overdue (``domain.forecast``), and what remediation exists. Across all
defects the tracker is read in one streaming scan, keeping only the few facts each observation
contributes.
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from tracker_bridge.domain import durations
from tracker_bridge.domain.conventions import Conventions
from tracker_bridge.domain.forecast import Forecast, forecast
from tracker_bridge.domain.links import is_delegate_link
from tracker_bridge.domain.recurrence import Recurrence, summarise, weekly
from tracker_bridge.domain.tickets import EvidenceFile, EvidenceRef, Kind, Ticket, utcnow
from tracker_bridge.errors import UsageError
from tracker_bridge.trackers.base import ReplacesAttachments, Tracker

RECENT = timedelta(days=30)
WEEKS = 12
"""Weeks of history in the sparkline and the weekly chart."""


@dataclass(frozen=True, slots=True)
class Sighting:
    """One observation as the report draws it."""

    key: str
    at: datetime
    instance: str
    minutes: float | None
    url: str = ""


@dataclass(frozen=True, slots=True)
class Impact:
    """Impact as data: the minutes recorded with ``observe --duration``."""

    minutes: float
    """Total over every sighting with a duration."""
    median_minutes: float | None
    """Median per sighting, over those with a duration."""
    recorded: int
    """Sightings with a duration (the others have none, not zero)."""


@dataclass(frozen=True, slots=True)
class DefectReport:
    """One defect's figures."""

    key: str
    title: str
    status: str
    url: str
    stats: Recurrence
    recent: int
    """Sightings in the last 30 days."""
    remediations: int
    remediations_done: int
    generated: datetime
    forecast: Forecast | None
    impact: Impact
    weekly: tuple[int, ...]
    """Sightings per week over the last ``WEEKS`` weeks, oldest first."""
    sightings: tuple[Sighting, ...] = ()
    """Every sighting, oldest first."""

    @property
    def expected_impact_minutes(self) -> float | None:
        """Expected minutes of impact in the next 30 days (expected count x median minutes)."""
        f, m = self.forecast, self.impact.median_minutes
        return None if f is None or m is None else f.expected * m

    def to_json(self) -> dict[str, Any]:
        s, f, i = self.stats, self.forecast, self.impact
        return {
            "key": self.key,
            "title": self.title,
            "status": self.status,
            "url": self.url,
            "sightings": s.count,
            "last_30_days": self.recent,
            "episodes": f.episodes if f else 0,
            "per_week": round(f.per_week, 3) if f else None,
            "window_days": round(f.window / timedelta(days=1), 2) if f else None,
            "quiet_days": round(f.quiet / timedelta(days=1), 2) if f else None,
            "first_seen": _iso(s.first_seen),
            "last_seen": _iso(s.last_seen),
            "median_interval_hours": round(s.median_interval / timedelta(hours=1), 2)
            if s.median_interval is not None
            else None,
            "next_expected": _iso(f.next_expected) if f else None,
            "expected_next_30_days": round(f.expected, 2) if f else None,
            "expected_next_30_days_interval": list(f.interval_80) if f else None,
            "expected_next_30_days_interval_90": list(f.interval_90) if f else None,
            "overdue": f.overdue if f else False,
            "overdue_since": _iso(f.overdue_since) if f else None,
            "impact_minutes": round(i.minutes, 2),
            "impact_median_minutes": _round(i.median_minutes),
            "impact_recorded": i.recorded,
            "expected_impact_minutes_next_30_days": _round(self.expected_impact_minutes),
            "weekly": list(self.weekly),
            "instances": [{"instance": name, "sightings": n} for name, n in s.instances],
            "impacts": list(s.impacts),
            "actions": list(s.actions),
            "remediations": self.remediations,
            "remediations_done": self.remediations_done,
        }


def run(
    tracker: Tracker,
    conventions: Conventions,
    *,
    defect: str | None = None,
    now: datetime | None = None,
    progress: Callable[[int], None] | None = None,
) -> list[DefectReport]:
    """Figures for one defect, or for every defect, most pressing first."""
    now = now or utcnow()
    if defect is not None:
        tree = tracker.tree(defect)
        if tree.ticket.kind is not Kind.DEFECT:
            raise UsageError(f"{defect} is not a defect; report takes a defect key or none.")
        elsewhere = sum(1 for x in tree.ticket.links if is_delegate_link(x))
        done = sum(1 for t in tree.remediations if t.is_done)
        return [
            _report(
                tree.ticket,
                [_slim(o) for o in tree.observations],
                len(tree.remediations) + elsewhere,
                done,
                now,
            )
        ]
    defects: dict[str, Ticket] = {}
    sightings: dict[str, list[Ticket]] = {}
    remediations: dict[str, list[bool]] = {}
    for read, ticket in enumerate(tracker.scan(conventions.observation_prefix), start=1):
        if progress is not None:
            progress(read)
        if ticket.kind is Kind.DEFECT:
            # keep what the report shows, not the description or evidence
            defects[ticket.key] = replace(ticket, description="", evidence=(), message="")
            for link in ticket.links:
                if is_delegate_link(link):
                    remediations.setdefault(ticket.key, []).append(False)
        elif ticket.parent and ticket.kind is Kind.OBSERVATION:
            sightings.setdefault(ticket.parent, []).append(_slim(ticket))
        elif ticket.parent and ticket.kind is Kind.REMEDIATION:
            remediations.setdefault(ticket.parent, []).append(ticket.is_done)
    reports = [
        _report(
            d,
            sightings.get(key, []),
            len(remediations.get(key, [])),
            sum(remediations.get(key, [])),
            now,
        )
        for key, d in defects.items()
    ]
    reports.sort(key=_pressing)
    return reports


def _pressing(r: DefectReport) -> tuple[float, ...]:
    """Recent sightings first, then all; ties go to the likelier next month, then more impact."""
    expected = r.forecast.expected if r.forecast else 0.0
    return (-r.recent, -r.stats.count, -expected, -r.impact.minutes)


def _slim(ticket: Ticket) -> Ticket:
    return Ticket(
        key=ticket.key,
        title="",
        kind=ticket.kind,
        status=ticket.status,
        created=ticket.created,
        instance=ticket.instance,
        observed_at=ticket.observed_at,
        impact=ticket.impact,
        duration=ticket.duration,
        actions=ticket.actions,
        url=ticket.url,
    )


def _report(
    defect: Ticket, observations: list[Ticket], remediations: int, done: int, now: datetime
) -> DefectReport:
    stats = summarise(observations)
    times = [o.observed_at or o.created for o in observations]
    recent = sum(1 for t in times if now - t <= RECENT)
    minutes = [durations.minutes(o.duration) for o in observations if o.duration is not None]
    sightings = sorted(
        (
            Sighting(
                key=o.key,
                at=o.observed_at or o.created,
                instance=o.instance,
                minutes=durations.minutes(o.duration) if o.duration is not None else None,
                url=o.url,
            )
            for o in observations
        ),
        key=lambda x: (x.at, x.key),
    )
    return DefectReport(
        key=defect.key,
        title=defect.title,
        status=defect.status.value,
        url=defect.url,
        stats=stats,
        recent=recent,
        remediations=remediations,
        remediations_done=done,
        generated=now,
        forecast=forecast(times, now),
        impact=Impact(
            minutes=sum(minutes),
            median_minutes=statistics.median(minutes) if minutes else None,
            recorded=len(minutes),
        ),
        weekly=weekly(times, now, WEEKS),
        sightings=tuple(sightings),
    )


def _round(value: float | None) -> float | None:
    return round(value, 2) if value is not None else None


def _iso(when: datetime | None) -> str | None:
    return when.isoformat() if when else None


@dataclass(frozen=True, slots=True)
class Attached:
    """The report as stored on its defect."""

    defect: str
    ref: EvidenceRef
    replaced: bool
    """True when an earlier report of the same name was swapped out."""
    unchanged: bool
    """True when the same report was already there: nothing was written."""

    def to_json(self) -> dict[str, Any]:
        return {
            "defect": self.defect,
            "name": self.ref.name,
            "sha256": self.ref.sha256,
            "size": self.ref.size,
            "url": self.ref.url,
            "replaced": self.replaced,
            "unchanged": self.unchanged,
        }


def attachment_name(defect: str, suffix: str) -> str:
    """The report's file name on ``defect``: ``report-OPS-12.html``, ``report-acme-ops-12.png``
    (a GitHub key's ``/`` and ``#`` have no place in a file name)."""
    return f"report-{re.sub(r'[^A-Za-z0-9._-]+', '-', defect).strip('-.')}.{suffix}"


def attach(
    tracker: Tracker, defect: str, name: str, data: bytes, *, now: datetime | None = None
) -> Attached:
    """Attach a rendered report to its defect, replacing the report attached before (by name).

    The report is made from what the tracker already holds, so attaching it discloses nothing
    new and it is not scrubbed again.
    """
    if not isinstance(tracker, ReplacesAttachments):
        raise UsageError(
            f"{tracker.name} cannot replace an attachment yet, so attaching would pile up copies.",
            hint="Write the report with --output and attach it by hand.",
        )
    before = {r.name: r.sha256 for r in tracker.get(defect).evidence}
    file = EvidenceFile(name=name, data=data, source="report", captured_at=now or utcnow())
    ref = tracker.replace_attachment(defect, file)
    return Attached(
        defect=defect,
        ref=ref,
        replaced=name in before and before[name] != ref.sha256,
        unchanged=before.get(name) == ref.sha256,
    )
