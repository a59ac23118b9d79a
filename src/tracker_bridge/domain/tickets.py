"""Tickets as the bridge sees them, whatever tracker holds them."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta


class Kind(enum.StrEnum):
    """The role a ticket plays in the defect workflow."""

    DEFECT = "defect"
    OBSERVATION = "observation"
    REMEDIATION = "remediation"


class Status(enum.StrEnum):
    """The coarse status every tracker maps onto (Jira status categories, GitHub state)."""

    OPEN = "open"
    IN_PROGRESS = "in-progress"
    DONE = "done"


@dataclass(frozen=True, slots=True)
class EvidenceRef:
    """One piece of evidence already stored on a ticket."""

    name: str
    sha256: str
    size: int
    source: str = ""
    """Where it came from: ``file:PATH`` or ``capture:COMMAND``."""
    captured_at: datetime | None = None
    redactions: tuple[tuple[str, int], ...] = ()
    """Kinds of secrets replaced before upload, with counts (never the values)."""
    scanned: bool = True
    """False for binary evidence that the redactor could not read."""
    sensitive: bool = False
    url: str = ""


@dataclass(frozen=True, slots=True)
class EvidenceFile:
    """Evidence ready to upload: the (already scrubbed) bytes and where they came from."""

    name: str
    data: bytes
    source: str
    captured_at: datetime
    redactions: tuple[tuple[str, int], ...] = ()
    scanned: bool = True
    sensitive: bool = False

    @property
    def sha256(self) -> str:
        import hashlib

        return hashlib.sha256(self.data).hexdigest()

    def ref(self, url: str = "") -> EvidenceRef:
        """The record of this file once stored."""
        return EvidenceRef(
            name=self.name,
            sha256=self.sha256,
            size=len(self.data),
            source=self.source,
            captured_at=self.captured_at,
            redactions=self.redactions,
            scanned=self.scanned,
            sensitive=self.sensitive,
            url=url,
        )


@dataclass(frozen=True, slots=True)
class RemoteLink:
    """A link to a ticket on another tracker or site; ``global_id`` makes re-linking an update."""

    url: str
    title: str
    global_id: str
    relationship: str = "relates to"


@dataclass(frozen=True, slots=True)
class Ticket:
    """A ticket read from a tracker, in domain terms.

    ``kind`` is ``None`` for tickets the bridge did not mark (they can still be checked, e.g. a
    hand-made ticket titled like an observation). ``parent`` is the defect of an observation or
    remediation, however the tracker expresses it (link, sub-task, sub-issue, label).
    """

    key: str
    title: str
    kind: Kind | None
    status: Status
    created: datetime
    url: str = ""
    parent: str | None = None
    issue_type: str = ""
    labels: tuple[str, ...] = ()
    description: str = ""
    message: str = ""
    """The full error message (defects and observations), unclipped."""
    instance: str = ""
    observed_at: datetime | None = None
    impact: str = ""
    duration: timedelta | None = None
    """How long the sighting's effect lasted (observations), the impact as data."""
    actions: tuple[str, ...] = ()
    fingerprints: tuple[str, ...] = ()
    """Every fingerprint a defect was matched under (defects only)."""
    evidence: tuple[EvidenceRef, ...] = ()
    event_id: str = ""
    team: str = ""
    """For remediations: the team it was delegated to, if any."""
    related: str | None = None
    """A ticket this one was opened in relation to (a recurrence's earlier defect)."""
    links: tuple[RemoteLink, ...] = ()
    """Links to tickets elsewhere (delegated remediations, or the defect they came from)."""
    updated: datetime | None = None
    resolved: datetime | None = None
    duplicate_of: str | None = None
    """For a defect closed by ``merge``: the defect that survived it."""
    without_remediation: str = ""
    """For a defect resolved with ``--without-remediation``: the reason recorded."""

    @property
    def is_done(self) -> bool:
        return self.status is Status.DONE


@dataclass(frozen=True, slots=True)
class NewTicket:
    """Everything needed to create a ticket in one request, already linked to its parent."""

    kind: Kind
    title: str
    message: str = ""
    description: str = ""
    parent: str | None = None
    instance: str = ""
    observed_at: datetime | None = None
    impact: str = ""
    duration: timedelta | None = None
    actions: tuple[str, ...] = ()
    fingerprints: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()
    event_id: str = ""
    """Idempotency marker: a tracker looks it up before retrying a create that may have landed."""
    related: str | None = None
    """A ticket to link as 'relates' (e.g. a new defect opened for a recurrence of an old one)."""
    team: str = ""
    issue_type: str = ""
    """Overrides the conventional issue type (a team's own type for delegated work)."""
    components: tuple[str, ...] = ()
    fields: tuple[tuple[str, object], ...] = ()
    """Extra tracker fields a team's configuration asks for, passed through as given."""
    links: tuple[RemoteLink, ...] = ()
    """Remote links to create with the ticket."""
    evidence: tuple[EvidenceRef, ...] = ()
    """Evidence about to be attached: trackers that index provenance in the ticket itself
    write the index with the create, so the upload needs no second write."""


@dataclass(frozen=True, slots=True)
class Tree:
    """A defect with its observations and remediations."""

    ticket: Ticket
    observations: tuple[Ticket, ...] = ()
    remediations: tuple[Ticket, ...] = ()
    related: tuple[Ticket, ...] = field(default=())


def utcnow() -> datetime:
    """Now, in UTC, to the second (trackers keep no finer resolution)."""
    return datetime.now(UTC).replace(microsecond=0)
