"""``delegate``: hand remediation of a defect to a team, with the context they need.

The ticket is rendered from a template (relevance, business value, expectations, how often and
where, impact, evidence index, what was tried, links back, the finalisation question) and filed
in the team's project respecting their workflow: only the fields their configuration names are
set (no sprint, assignee, priority or due date otherwise). It is created first and linked after,
so a failure never leaves a link without a ticket; delegating again finds the ticket by its
idempotency marker and only repairs missing links.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tracker_bridge import templating
from tracker_bridge.domain.conventions import Conventions, clip
from tracker_bridge.domain.links import defect_link_id, delegate_link_id
from tracker_bridge.domain.markup import escaper
from tracker_bridge.domain.teams import Team
from tracker_bridge.domain.tickets import Kind, NewTicket, RemoteLink, Ticket, Tree
from tracker_bridge.errors import UsageError
from tracker_bridge.trackers.base import UNVERIFIED, Tracker, markup_of
from tracker_bridge.workflows import context


@dataclass(frozen=True, slots=True)
class Request:
    """Delegate ``defect`` to ``team``."""

    defect: str
    team: str
    template: str | None = None
    variables: dict[str, str] = field(default_factory=dict)
    dry_run: bool = False
    again: bool = False


@dataclass(frozen=True, slots=True)
class Result:
    """The delegated ticket (or, with ``dry_run``, the ticket as it would be filed)."""

    team: str
    title: str
    body: str
    ticket: str | None = None
    url: str = ""
    existing: bool = False
    """True when this defect was already delegated to this team: nothing new was filed."""
    linked: str = ""
    """``parent`` on the same site, ``remote`` across sites or trackers."""
    problems: tuple[str, ...] = ()
    unverified: tuple[str, ...] = ()
    """What ``--dry-run`` could not check on the target (never claimed as accepted)."""
    """With ``dry_run``: what the target project would refuse (required fields, types)."""
    dry_run: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "ticket": self.ticket,
            "url": self.url,
            "team": self.team,
            "title": self.title,
            "body": self.body,
            "existing": self.existing,
            "linked": self.linked,
            "problems": list(self.problems),
            "unverified": list(self.unverified),
            "dry_run": self.dry_run,
        }


def run(
    source: Tracker,
    target: Tracker,
    *,
    team: Team,
    conventions: Conventions,
    request: Request,
    same_site: bool,
    templates_dir: Path | None = None,
) -> Result:
    """Render, validate and (unless ``dry_run``) file the remediation ticket, linked both ways."""
    tree = source.tree(request.defect)
    defect = tree.ticket
    if defect.kind is not Kind.DEFECT:
        hint = (
            f"Delegate its defect: bridge delegate {defect.parent} --to {request.team}"
            if defect.parent
            else "`bridge list` shows the defects."
        )
        raise UsageError(
            f"{defect.key} is not a defect; delegate the defect the work is for.", hint=hint
        )
    marker = f"delegate/{defect.key}/{request.team}"
    if not request.again:
        found = target.find_by_event(marker)
        if found is not None:
            if not request.dry_run:
                # repair whatever an interrupted first run left unlinked (links are upserts)
                if not same_site:
                    target.link_remote(found.key, _defect_link(defect))
                _link_back(source, defect, found, request.team, same_site, note=False)
            return Result(
                team=request.team,
                title=found.title,
                body=found.description,
                ticket=found.key,
                url=found.url,
                existing=True,
                linked="parent" if same_site else "remote",
                dry_run=request.dry_run,
            )
    else:
        marker = f"{marker}/{uuid.uuid4().hex[:12]}"
    title, body = templating.render(
        request.template or team.template,
        _context(tree, request, team),
        templates_dir,
        escape=escaper(markup_of(target)),
    )
    new = NewTicket(
        kind=Kind.REMEDIATION,
        title=clip(" ".join(title.split()), 255),
        description=body,
        parent=defect.key if same_site else None,
        labels=(conventions.remediation_label, *team.labels),
        issue_type=team.issue_type,
        components=team.components,
        fields=team.fields,
        team=request.team,
        event_id=marker,
        links=() if same_site else (_defect_link(defect),),
    )
    if request.dry_run:
        checked = target.validate(new)
        return Result(
            team=request.team,
            title=new.title,
            body=body,
            problems=tuple(p for p in checked if not p.startswith(UNVERIFIED)),
            unverified=tuple(
                p.removeprefix(UNVERIFIED) for p in checked if p.startswith(UNVERIFIED)
            ),
            linked="parent" if same_site else "remote",
            dry_run=True,
        )
    made = target.create(new)
    _link_back(source, defect, made, request.team, same_site, note=True)
    return Result(
        team=request.team,
        title=made.title,
        body=body,
        ticket=made.key,
        url=made.url,
        linked="parent" if same_site else "remote",
    )


def _defect_link(defect: Ticket) -> RemoteLink:
    return RemoteLink(
        url=defect.url,
        title=f"{defect.key}: {defect.title}",
        global_id=defect_link_id(defect.key),
        relationship="remediates",
    )


def _link_back(
    source: Tracker, defect: Ticket, made: Ticket, team: str, same_site: bool, *, note: bool
) -> None:
    if not same_site:
        source.link_remote(
            defect.key,
            RemoteLink(
                url=made.url,
                title=f"{made.key}: {made.title}",
                global_id=delegate_link_id(team, made.key),
                relationship="remediated by",
            ),
        )
    if note:
        esc = escaper(markup_of(source))
        source.comment(
            defect.key,
            f"Remediation delegated to team {esc(team)}: {made.key} {made.url}",
        )


def _context(tree: Tree, request: Request, team: Team) -> dict[str, Any]:
    out = context.of_defect(tree, request.variables)
    out["team"] = {"name": request.team, "project": team.project or request.team}
    return out
