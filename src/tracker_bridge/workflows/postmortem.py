"""``postmortem``: a washup draft for a defect, written from its tickets.

Summary, impact, a timeline of sightings, actions and remediations, the evidence, and the two
questions a washup must answer: what would have told us earlier, and how do we stop similar
defects elsewhere. Rendered from the ``postmortem`` template, which users can override.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from tracker_bridge import templating
from tracker_bridge.domain import durations, humanize
from tracker_bridge.domain.tickets import Kind, Ticket, Tree
from tracker_bridge.errors import UsageError
from tracker_bridge.trackers.base import Tracker
from tracker_bridge.workflows import context

OPENED_BY_SIGHTING = timedelta(minutes=10)
"""A defect created this soon after its first sighting was opened by it."""


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
    title, body = templating.render(template, context_for(tree, variables or {}), templates_dir)
    return Draft(defect=defect, title=title, body=body)


def context_for(tree: Tree, variables: dict[str, str]) -> dict[str, Any]:
    """The template variables: the shared defect context plus a ``timeline``, oldest first."""
    d = tree.ticket
    events: list[tuple[datetime, str, str]] = [_opened(tree)]
    for o in tree.observations:
        seen = o.observed_at or o.created
        events.append((seen, f"seen on {o.instance or '?'}" + _impact(o), o.key))
        events += [(seen, f"action: {a}", o.key) for a in o.actions]
    for r in tree.remediations:
        events.append((r.created, f"remediation filed: {r.title}", r.key))
        if r.resolved is not None:
            events.append((r.resolved, f"remediation done: {r.title}", r.key))
    if d.resolved is not None:
        events.append((d.resolved, "defect done", d.key))
    # stable: at equal times the defect's opening stays ahead of the sighting that opened it
    events.sort(key=lambda e: e[0])
    out = context.of_defect(tree, variables)
    out["timeline"] = [
        {"when": context.when(at), "what": _cell(what), "key": key} for at, what, key in events
    ]
    return out


def _opened(tree: Tree) -> tuple[datetime, str, str]:
    """The defect's creation, where it belongs in time.

    Opened by its first sighting (the usual ``observe``), it heads the timeline at that sighting
    even when the ticket was written a moment later; filed later than that (sightings recorded
    after the fact), it stands at its own time and says how late it came, a fact the washup's
    "what would have told us earlier" question needs.
    """
    d = tree.ticket
    times = [o.observed_at or o.created for o in tree.observations]
    first = min(times, default=d.created)
    if d.created - first <= OPENED_BY_SIGHTING:
        return (min(first, d.created), "defect opened", d.key)
    late = humanize.duration(d.created - first)
    return (d.created, f"defect ticket opened, {late} after the first sighting", d.key)


def _impact(o: Ticket) -> str:
    parts = [durations.format(o.duration)] if o.duration is not None else []
    parts += [o.impact] if o.impact else []
    return f" ({'; '.join(parts)})" if parts else ""


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")
