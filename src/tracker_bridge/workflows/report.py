"""``report``: the case for fixing each defect, from its observations.

How often a defect strikes (in all, per week, in the last 30 days), where, with what impact, when
it is likely to strike again, and what remediation exists. Across all defects the tracker is read
in one streaming scan, keeping only the few facts each observation contributes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from tracker_bridge.domain.conventions import Conventions
from tracker_bridge.domain.links import is_delegate_link
from tracker_bridge.domain.recurrence import Recurrence, summarise
from tracker_bridge.domain.tickets import Kind, Ticket, utcnow
from tracker_bridge.errors import UsageError
from tracker_bridge.trackers.base import Tracker

RECENT = timedelta(days=30)


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

    def to_json(self) -> dict[str, Any]:
        s = self.stats
        return {
            "key": self.key,
            "title": self.title,
            "status": self.status,
            "url": self.url,
            "sightings": s.count,
            "last_30_days": self.recent,
            "per_week": s.per_week,
            "first_seen": _iso(s.first_seen),
            "last_seen": _iso(s.last_seen),
            "median_interval_hours": round(s.median_interval / timedelta(hours=1), 2)
            if s.median_interval is not None
            else None,
            "next_expected": _iso(s.next_expected),
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
                tree.ticket, list(tree.observations), len(tree.remediations) + elsewhere, done, now
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
    reports.sort(key=lambda r: (-r.recent, -r.stats.count, r.key))
    return reports


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
        actions=ticket.actions,
    )


def _report(
    defect: Ticket, observations: list[Ticket], remediations: int, done: int, now: datetime
) -> DefectReport:
    stats = summarise(observations)
    recent = sum(1 for o in observations if now - (o.observed_at or o.created) <= RECENT)
    return DefectReport(
        key=defect.key,
        title=defect.title,
        status=defect.status.value,
        url=defect.url,
        stats=stats,
        recent=recent,
        remediations=remediations,
        remediations_done=done,
    )


def _iso(when: datetime | None) -> str | None:
    return when.isoformat() if when else None
