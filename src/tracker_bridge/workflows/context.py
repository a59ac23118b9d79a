"""What ticket templates see of a defect: plain values built once, shared by every template.

``delegate`` (the remediation template) and ``postmortem`` (the washup) render from the same
picture of a defect, so a variable means the same thing in every template.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tracker_bridge.domain import humanize
from tracker_bridge.domain.recurrence import summarise
from tracker_bridge.domain.tickets import Tree


def of_defect(tree: Tree, variables: dict[str, str]) -> dict[str, Any]:
    """``defect``, ``stats``, ``observations``, ``remediations``, ``evidence`` and ``vars``."""
    d = tree.ticket
    stats = summarise(tree.observations)
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
            "per_week": stats.per_week,
            "median_interval": humanize.duration(stats.median_interval)
            if stats.median_interval is not None
            else None,
            "next_expected": when(stats.next_expected),
            "impacts": list(stats.impacts),
            "actions": list(stats.actions),
        },
        "observations": [
            {
                "key": o.key,
                "title": o.title,
                "instance": o.instance,
                "observed_at": when(o.observed_at),
                "impact": o.impact,
                "actions": list(o.actions),
                "evidence": len(o.evidence),
                "url": o.url,
            }
            for o in tree.observations
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


def when(moment: datetime | None) -> str | None:
    """A time as templates show it: ``2026-11-21 09:30 UTC``."""
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else None
