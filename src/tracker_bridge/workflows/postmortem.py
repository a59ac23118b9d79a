"""``postmortem``: a washup draft for a defect, written from its tickets.

Summary, impact, a timeline of sightings, actions and remediations, the evidence, and the two
questions a washup must answer: what would have told us earlier, and how do we stop similar
defects elsewhere. Rendered from the ``postmortem`` template, which users can override.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from tracker_bridge import templating
from tracker_bridge.domain import humanize
from tracker_bridge.domain.recurrence import summarise
from tracker_bridge.domain.tickets import Kind, Tree
from tracker_bridge.errors import UsageError
from tracker_bridge.trackers.base import Tracker


@dataclass(frozen=True, slots=True)
class Draft:
    """The rendered washup."""

    defect: str
    title: str
    body: str


def run(
    tracker: Tracker,
    defect: str,
    *,
    variables: dict[str, str] | None = None,
    templates_dir: Path | None = None,
    template: str = "postmortem",
) -> Draft:
    """Draft the washup of ``defect``."""
    tree = tracker.tree(defect)
    if tree.ticket.kind is not Kind.DEFECT:
        raise UsageError(f"{defect} is not a defect; a washup is written for a defect.")
    title, body = templating.render(template, context(tree, variables or {}), templates_dir)
    return Draft(defect=defect, title=title, body=body)


def context(tree: Tree, variables: dict[str, str]) -> dict[str, Any]:
    """The template variables for one defect (see ``templates/postmortem.md.j2``)."""
    d = tree.ticket
    stats = summarise(tree.observations)
    events: list[tuple[datetime, str, str]] = [(d.created, "defect opened", d.key)]
    for o in tree.observations:
        when = o.observed_at or o.created
        events.append((when, f"seen on {o.instance or '?'}" + _impact(o.impact), o.key))
        events += [(when, f"action: {a}", o.key) for a in o.actions]
    for r in tree.remediations:
        events.append((r.created, f"remediation filed: {r.title}", r.key))
        if r.resolved is not None:
            events.append((r.resolved, f"remediation done: {r.title}", r.key))
    if d.resolved is not None:
        events.append((d.resolved, "defect done", d.key))
    events.sort(key=lambda e: e[0])
    return {
        "defect": {
            "key": d.key,
            "title": d.title,
            "message": d.message or d.title,
            "url": d.url,
            "status": d.status.value,
            "created": _when(d.created),
            "resolved": _when(d.resolved),
        },
        "stats": {
            "count": stats.count,
            "first_seen": _when(stats.first_seen),
            "last_seen": _when(stats.last_seen),
            "instances": list(stats.instances),
            "per_week": stats.per_week,
            "median_interval": humanize.duration(stats.median_interval)
            if stats.median_interval is not None
            else None,
            "impacts": list(stats.impacts),
            "actions": list(stats.actions),
        },
        "timeline": [
            {"when": _when(when), "what": _cell(what), "key": key} for when, what, key in events
        ],
        "observations": [
            {
                "key": o.key,
                "title": o.title,
                "instance": o.instance,
                "observed_at": _when(o.observed_at),
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


def _impact(text: str) -> str:
    return f" ({text})" if text else ""


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _when(when: datetime | None) -> str | None:
    return when.strftime("%Y-%m-%d %H:%M") if when else None
