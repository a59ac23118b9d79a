"""The ``Tracker`` protocol: the narrow interface every workflow talks to."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol, runtime_checkable

from tracker_bridge.domain.markup import Markup
from tracker_bridge.domain.tickets import (
    EvidenceFile,
    EvidenceRef,
    NewTicket,
    RemoteLink,
    Ticket,
    Tree,
)


@dataclass(frozen=True, slots=True)
class Capabilities:
    """Limits a workflow must respect before it sends anything."""

    upload_limit: int | None = None
    """Largest evidence file in bytes, or None when the tracker sets no limit."""
    title_limit: int = 255
    label_limit: int = 255
    search_lag: float = 0.0
    """Seconds a write may take to show in the marker searches (0: at once)."""
    write_timeout: float = 0.0
    """Seconds a request may run before the client gives up (a write may land until then)."""


UNVERIFIED = "unverified: "
"""Prefix of a ``validate`` finding that is not a refusal: something the tracker could not check
(e.g. a site that does not publish its create screens). ``--dry-run`` reports it without
claiming the ticket would be accepted."""


Health = Literal["ok", "degraded", "failed"]


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing ``bridge doctor`` checked on a tracker, and how it went."""

    check: str
    """What was checked: ``reachable``, ``authenticated``, ``project``, ``issue types``, ..."""
    health: Health
    """``ok``; ``degraded``: works with a cost (``cost``); ``failed``: the bridge cannot work."""
    detail: str
    cost: str = ""
    """What a degradation costs (requests, a feature that stops)."""
    fix: str = ""
    """What to change, usually a bridge.toml line (``[conventions] link_type = "Relates"``)."""


@runtime_checkable
class Diagnosable(Protocol):
    """A tracker that can tell what works on its site (``bridge doctor``); reads only."""

    def diagnose(self, *, issue_type: str = "") -> list[Finding]:
        """Every check, in order; stops early only when the site cannot be reached at all.

        ``issue_type``: check for a team's delegated work of that type (filed and linked there,
        never transitioned by the bridge) instead of the bridge's own tickets. A ``fix`` naming
        ``[team]`` means that team's section of bridge.toml."""
        ...


def markup_of(tracker: object) -> Markup:
    """The markup ``tracker`` renders descriptions and comments in (``plain`` unless it says):
    data the bridge writes into them is escaped for it (``domain.markup``)."""
    found = getattr(tracker, "markup", "plain")
    if found == "jira-wiki":
        return "jira-wiki"
    if found == "github-markdown":
        return "github-markdown"
    return "plain"


@runtime_checkable
class Tracker(Protocol):
    """What the bridge needs from an issue tracker, in domain terms.

    Implementations translate to their backend in as few round trips as the API allows and raise
    only ``tracker_bridge.errors`` exceptions.
    """

    name: str
    """Human-readable identity, e.g. ``local:.bridge/bridge.db`` or ``jira:OPS@example``."""

    def capabilities(self) -> Capabilities:
        """Limits of this tracker (may ask the tracker once, then cached)."""
        ...

    def get(self, key: str) -> Ticket:
        """One ticket; ``NotFoundError`` when the key is unknown."""
        ...

    def tree(self, key: str) -> Tree:
        """A ticket with its children (observations, remediations) and related tickets."""
        ...

    def find_by_fingerprint(self, fingerprint: str) -> Ticket | None:
        """The open-or-closed defect that carries this fingerprint, newest first if several."""
        ...

    def defects(self) -> Iterator[Ticket]:
        """Every defect (with message and fingerprints) for similarity matching, paged."""
        ...

    def find_by_event(self, event_id: str) -> Ticket | None:
        """The ticket created with this idempotency marker, if any."""
        ...

    def create(self, new: NewTicket) -> Ticket:
        """Create a ticket already linked to ``new.parent`` (one request where the API allows).

        Idempotent on ``new.event_id``: a retry after a lost response returns the first ticket.
        """
        ...

    def attach(self, key: str, files: Sequence[EvidenceFile]) -> list[EvidenceRef]:
        """Store evidence on a ticket, all files in one request where the API allows.

        Files whose content hash the ticket already holds are skipped and returned as stored.
        """
        ...

    def validate(self, new: NewTicket) -> tuple[str, ...]:
        """What the tracker would refuse about ``new`` (required fields, unknown types), sending
        nothing that creates; empty when it would be accepted. Used by ``--dry-run``.

        Findings starting with ``UNVERIFIED`` name what could not be checked, not a refusal."""
        ...

    def link_remote(self, key: str, link: RemoteLink) -> None:
        """Link a ticket to one on another tracker or site; the same ``global_id`` again updates
        the link instead of adding another."""
        ...

    def fetch_evidence(self, key: str, ref: EvidenceRef) -> bytes:
        """The stored bytes of one piece of evidence on ticket ``key`` (to copy it elsewhere)."""
        ...

    def add_fingerprint(self, key: str, fingerprint: str) -> None:
        """Remember that a defect was also matched under this fingerprint."""
        ...

    def remove_fingerprint(self, key: str, fingerprint: str) -> None:
        """Forget that a defect carries this fingerprint (``move``, ``merge``); idempotent.

        Afterwards ``find_by_fingerprint(fingerprint)`` no longer answers ``key``.
        """
        ...

    def reopen(self, key: str) -> None:
        """Move a done ticket back to open."""
        ...

    def resolve(self, key: str, *, without_remediation: str = "") -> None:
        """Move a ticket to done (its tracker's resolved state); a no-op when done.

        ``without_remediation`` (defects) records on the ticket why it was finalised with no
        remediation, so that ``get(key).without_remediation`` reads it back and ``check`` accepts
        the closure.
        """
        ...

    def mark_duplicate(self, key: str, of: str) -> None:
        """Close defect ``key`` as a duplicate of defect ``of``, linked to it the tracker's way
        (Jira: the site's duplicate link type when it has one; GitHub: closed as duplicate).

        Afterwards ``get(key).duplicate_of == of`` and ``get(key).is_done``. Idempotent.
        """
        ...

    def comment(self, key: str, text: str) -> None:
        """Add a comment (a note on the ticket's history)."""
        ...

    def retitle(self, key: str, title: str) -> None:
        """Give a ticket a new title (``check --fix``); nothing else about it changes.

        Idempotent: retitling to the current title is a no-op. ``NotFoundError`` for an unknown
        key. The title is at most ``capabilities().title_limit`` characters (the caller clips).
        """
        ...

    def set_parent(self, key: str, parent: str) -> None:
        """Make ``parent`` (a defect) the parent of ``key``, the way ``create`` links a new ticket
        to ``NewTicket.parent`` under the configured link style (``check --fix``).

        Afterwards ``get(key).parent == parent`` and ``tree(parent)`` lists ``key``. Idempotent.
        A ticket has one parent, so an earlier parent relation is replaced (``move``): the old
        parent's ``tree`` no longer lists ``key``; other links (remote, related) are never removed.
        ``NotFoundError`` when either key is unknown.
        """
        ...

    def scan(self, title_prefix: str) -> Iterator[Ticket]:
        """Every ticket in scope for ``check``: marked defects, observations and remediations,
        plus unmarked tickets whose title starts with ``title_prefix``. Streams page by page."""
        ...

    def close(self) -> None:
        """Release connections and files."""
        ...


@runtime_checkable
class ReplacesAttachments(Protocol):
    """A tracker that can swap an attachment for a newer one of the same name.

    ``attach`` is idempotent by content hash, which suits evidence; a report that changed has a
    new hash but must not pile up beside its older copies. Every shipped tracker has it: local
    and memory swap the row, Jira uploads the new file and then deletes the older ones, GitHub
    commits over the file at a fixed path of the evidence branch and links it from the body.
    """

    def replace_attachment(self, key: str, file: EvidenceFile) -> EvidenceRef:
        """Store ``file`` on ``key``, removing every earlier attachment named ``file.name``;
        the same content again changes nothing. ``NotFoundError`` for an unknown key."""
        ...


@runtime_checkable
class AtomicDefects(Protocol):
    """A tracker that finds or creates the defect of a fingerprint in one transaction.

    The embedded tracker does (SQLite ``BEGIN IMMEDIATE``). Trackers without it get a lock around
    find-then-create from the journal (``Journal.defect_lock``): enough among the processes of one
    machine, while Jira and GitHub (fingerprint markers searched past their write-to-search delay,
    and duplicates from two machines converged) are the place to implement this protocol next.
    """

    def find_or_create_defect(self, fingerprint: str, new: NewTicket) -> tuple[Ticket, bool]:
        """The defect carrying ``fingerprint`` (or ``new.event_id``'s marker), else ``new`` made
        now; and whether it was made by this event (now or by an earlier attempt)."""
        ...


@runtime_checkable
class MarkedDefects(Protocol):
    """A tracker that lists every defect carrying a fingerprint marker in one request.

    Jira and GitHub, where two machines racing for a brand-new fingerprint can still make two
    defects: whoever sees several next folds them into the oldest (``workflows.converge``).
    """

    def marked_defects(self, fingerprint: str) -> list[Ticket]:
        """Every defect (open or done) labelled with ``fingerprint``, as the search sees them."""
        ...


@runtime_checkable
class EndsSightings(Protocol):
    """A tracker that stores when an observation's sighting ended (``Ticket.resolved_at``).

    Trackers without it get the end as a comment on the observation (``workflows.ended``).
    """

    def set_resolved_at(self, key: str, when: datetime) -> None:
        """Record that the sighting of observation ``key`` ended at ``when``; idempotent."""
        ...
