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
from tracker_bridge.domain.tickets import Kind, Tree
from tracker_bridge.errors import UsageError
from tracker_bridge.trackers.base import Tracker
from tracker_bridge.workflows import context


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
    events: list[tuple[datetime, str, str]] = [(d.created, "defect opened", d.key)]
    for o in tree.observations:
        seen = o.observed_at or o.created
        events.append((seen, f"seen on {o.instance or '?'}" + _impact(o.impact), o.key))
        events += [(seen, f"action: {a}", o.key) for a in o.actions]
    for r in tree.remediations:
        events.append((r.created, f"remediation filed: {r.title}", r.key))
        if r.resolved is not None:
            events.append((r.resolved, f"remediation done: {r.title}", r.key))
    if d.resolved is not None:
        events.append((d.resolved, "defect done", d.key))
    events.sort(key=lambda e: e[0])
    out = context.of_defect(tree, variables)
    out["timeline"] = [
        {"when": context.when(at), "what": _cell(what), "key": key} for at, what, key in events
    ]
    return out


def _impact(text: str) -> str:
    return f" ({text})" if text else ""


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")
