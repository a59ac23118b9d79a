"""``show``: a ticket with its observations and remediations, as data."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tracker_bridge.domain import durations
from tracker_bridge.domain.links import delegated
from tracker_bridge.domain.tickets import Ticket, Tree
from tracker_bridge.errors import BridgeError
from tracker_bridge.trackers.base import Tracker
from tracker_bridge.workflows.evidence import ref_json


@dataclass(frozen=True, slots=True)
class Elsewhere:
    """A remediation delegated to a team on another site or tracker."""

    team: str
    key: str
    title: str
    url: str
    status: str
    """The ticket's status there, or ``unknown: <why>`` when it could not be read."""

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "title": self.title,
            "status": self.status,
            "team": self.team,
            "url": self.url,
            "instance": "",
            "observed_at": None,
            "elsewhere": True,
        }


@dataclass(frozen=True, slots=True)
class Shown:
    """A ticket with its observations and remediations, including those delegated elsewhere."""

    tree: Tree
    elsewhere: tuple[Elsewhere, ...] = ()
    """Remediations delegated to teams on other sites, with their status read there."""

    @property
    def ticket(self) -> Ticket:
        return self.tree.ticket

    @property
    def observations(self) -> tuple[Ticket, ...]:
        return self.tree.observations

    @property
    def remediations(self) -> tuple[Ticket, ...]:
        """Remediation tickets on this tracker (see ``elsewhere`` for the others)."""
        return self.tree.remediations

    @property
    def related(self) -> tuple[Ticket, ...]:
        return self.tree.related

    def to_json(self) -> dict[str, Any]:
        """The shape ``bridge show --json`` prints (stable: scripts rely on it)."""
        data = tree_json(self.tree)
        data["remediations"] += [r.to_json() for r in self.elsewhere]
        return data


def run(tracker: Tracker, key: str) -> Tree:
    """The ticket ``key`` with its children and related tickets."""
    return tracker.tree(key)


def ticket_json(ticket: Ticket) -> dict[str, Any]:
    """The JSON shape of one ticket (stable: scripts rely on it)."""
    out: dict[str, Any] = {
        "key": ticket.key,
        "kind": ticket.kind.value if ticket.kind else None,
        "title": ticket.title,
        "status": ticket.status.value,
        "created": ticket.created.isoformat(),
        "url": ticket.url,
        "parent": ticket.parent,
    }
    if ticket.message:
        out["message"] = ticket.message
    if ticket.instance or ticket.observed_at:
        out["instance"] = ticket.instance
        out["observed_at"] = ticket.observed_at.isoformat() if ticket.observed_at else None
    if ticket.impact:
        out["impact"] = ticket.impact
    if ticket.duration is not None:
        out["duration"] = durations.format(ticket.duration)
        out["duration_minutes"] = round(durations.minutes(ticket.duration), 2)
    out.update(_ended(ticket))
    if ticket.actions:
        out["actions"] = list(ticket.actions)
    if ticket.fingerprints:
        out["fingerprints"] = list(ticket.fingerprints)
    if ticket.team:
        out["team"] = ticket.team
    out["evidence"] = [ref_json(e) for e in ticket.evidence]
    return out


def tree_json(tree: Tree) -> dict[str, Any]:
    """A ticket with its observations and remediations (for defects), as ``show --json`` prints."""
    out = ticket_json(tree.ticket)
    out["observations"] = [_child(t) for t in tree.observations]
    out["remediations"] = [_child(t) for t in tree.remediations]
    out["related"] = [
        {"key": t.key, "title": t.title, "status": t.status.value} for t in tree.related
    ]
    return out


def _ended(ticket: Ticket) -> dict[str, Any]:
    """When an alert's sighting ended (``duration`` says how long it lasted)."""
    if ticket.resolved_at is None:
        return {}
    return {"resolved_at": ticket.resolved_at.isoformat()}


def _child(ticket: Ticket) -> dict[str, Any]:
    return {
        "key": ticket.key,
        "title": ticket.title,
        "status": ticket.status.value,
        "instance": ticket.instance,
        "observed_at": ticket.observed_at.isoformat() if ticket.observed_at else None,
        **_ended(ticket),
        "created": ticket.created.isoformat(),
        "evidence": len(ticket.evidence),
        "team": ticket.team or None,
        "url": ticket.url,
        "duration": durations.format(ticket.duration) if ticket.duration is not None else None,
    }


def remote_remediations(
    ticket: Ticket, open_team_tracker: Callable[[str], Tracker]
) -> list[Elsewhere]:
    """Remediations delegated across sites, with their status read from each team's tracker.

    ``open_team_tracker(team)`` gives that team's tracker; it is closed here after one read.
    """
    out = []
    for found in delegated(ticket.links):
        title = found.link.title.partition(": ")[2] or found.link.title
        try:
            tracker = open_team_tracker(found.team)
            try:
                status = tracker.get(found.key).status.value
            finally:
                tracker.close()
        except BridgeError as exc:
            status = f"unknown: {exc.message}"
        out.append(
            Elsewhere(
                team=found.team, key=found.key, title=title, url=found.link.url, status=status
            )
        )
    return out
