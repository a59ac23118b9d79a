"""What ticket templates see of a defect: plain values built once, shared by every template.

``delegate`` (the remediation template) and ``postmortem`` (the washup) render from the same
picture of a defect, so a variable means the same thing in every template.
"""

from __future__ import annotations

import statistics
from datetime import datetime
from typing import Any

from tracker_bridge.domain import durations, humanize
from tracker_bridge.domain.forecast import forecast
from tracker_bridge.domain.recurrence import summarise
from tracker_bridge.domain.tickets import Ticket, Tree, utcnow


def of_defect(tree: Tree, variables: dict[str, str], now: datetime | None = None) -> dict[str, Any]:
    """``defect``, ``stats``, ``forecast``, ``impact``, ``observations`` (oldest first),
    ``remediations``, ``evidence`` and ``vars``."""
    d = tree.ticket
    now = now or utcnow()
    stats = summarise(tree.observations)
    seen = sorted(tree.observations, key=lambda o: (o.observed_at or o.created, o.key))
    f = forecast([o.observed_at or o.created for o in seen], now)
    spans = [durations.minutes(o.duration) for o in seen if o.duration is not None]
    return {
        "defect": {
            "key": d.key,
            "title": d.title,
            "message": d.message or d.title,
            "url": d.url,
            "status": d.status.value,
            "created": when(d.created),
            "resolved": when(d.resolved),
        },
        "stats": {
            "count": stats.count,
            "first_seen": when(stats.first_seen),
            "last_seen": when(stats.last_seen),
            "instances": list(stats.instances),
            "per_week": round(f.per_week, 2) if f else None,
            "median_interval": humanize.duration(stats.median_interval)
            if stats.median_interval is not None
            else None,
            "next_expected": when(f.next_expected) if f else None,
            "impacts": list(stats.impacts),
            "actions": list(stats.actions),
        },
        "forecast": {
            "expected": round(f.expected, 1),
            "low": f.interval_80[0],
            "high": f.interval_80[1],
            "overdue": f.overdue,
            "overdue_since": when(f.overdue_since),
            "next_expected": when(f.next_expected),
            # from the unrounded figures, as `report --json` gives it
            "expected_impact_minutes": round(f.expected * statistics.median(spans))
            if spans
            else None,
        }
        if f
        else None,
        "impact": _impact(seen),
        "observations": [
            {
                "key": o.key,
                "title": o.title,
                "instance": o.instance,
                "observed_at": when(o.observed_at),
                "impact": o.impact,
                "duration": durations.format(o.duration) if o.duration is not None else None,
                "actions": list(o.actions),
                "evidence": len(o.evidence),
                "url": o.url,
            }
            for o in seen
        ],
        "remediations": [
            {"key": r.key, "title": r.title, "status": r.status.value, "team": r.team, "url": r.url}
            for r in tree.remediations
        ],
        "evidence": [
            {
                "name": e.name,
                "size": e.size,
                "sha256": e.sha256,
                "observation": o.key,
                "url": e.url,
                "sensitive": e.sensitive,
            }
            for o in tree.observations
            for e in o.evidence
        ],
        "vars": dict(variables),
    }


def _impact(observations: list[Ticket]) -> dict[str, Any]:
    minutes = [durations.minutes(o.duration) for o in observations if o.duration is not None]
    return {
        "minutes": round(sum(minutes), 1),
        "median_minutes": round(statistics.median(minutes), 1) if minutes else None,
        "recorded": len(minutes),
        "sightings": len(observations),
    }


def when(moment: datetime | None) -> str | None:
    """A time as templates show it: ``2026-11-21 09:30 UTC``."""
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else None
