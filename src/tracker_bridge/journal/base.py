"""The journal: the durable record of sightings on their way to a tracker.

A sighting is written here, evidence included and synced to disk, before anything is sent. A
worker (``observe`` itself, ``bridge replay``, ``bridge serve``) then *claims* an entry with a
lease, records the result of each delivery step as it goes, and *finishes* it only once the
tracker holds everything. A worker that dies leaves a lease that expires (or, on the same machine,
is taken over at once because its process is gone), so another picks the entry up where it
stopped. The interface is what a shared database can offer too (several processes or machines on
one journal): every method is one short transaction, and claims are compare-and-set on the lease.

States::

    pending --claim--> (leased) --finish--> done        evidence files deleted, row kept
                           |  \\--fail(unavailable)--> pending, next_attempt_at later
                           |   \\-fail(refused)------> failed, with the tracker's answer
                           \\--release-------------> pending (shutdown, nothing learnt)
    failed  --retry--> pending;   any --drop--> gone
"""

from __future__ import annotations

import enum
import hashlib
import json
import os
import socket
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from tracker_bridge.domain.tickets import Blob, EvidenceFile

OPS = ("observe", "resolve")
"""What an entry asks of the tracker: ``observe`` a sighting; ``resolve`` is for ``bridge serve``
(a resolved alert recorded on its observation)."""

LEASE_SECONDS = 300.0
"""How long a claim holds an entry without news from its worker (each recorded step renews it)."""


class State(enum.StrEnum):
    PENDING = "pending"
    """Waiting to be delivered (never tried, tracker unavailable, or released)."""
    FAILED = "failed"
    """The tracker refused it; kept with its answer until retried or dropped."""
    DONE = "done"
    """The tracker holds everything; the row stays so a re-run of the event changes nothing."""


def entry_id(event_id: str, op: str = "observe") -> str:
    """The entry's name: the SHA-256 of the event id, so any two distinct ids are two entries.

    ``observe`` entries hash the bare event id; other operations on the same event (a resolve)
    hash ``op`` and the id, so they are separate entries.
    """
    text = event_id if op == "observe" else f"{op}\0{event_id}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class Binding:
    """The tracker an entry is bound for: replaying it anywhere else is refused."""

    kind: str
    """``local``, ``memory``, ``jira``, ``github``."""
    url: str
    """The site (Jira, GitHub API base) or, for the local tracker, the database's absolute path."""
    scope: str
    """The project key (Jira, local) or ``owner/name`` repository (GitHub)."""

    def describe(self) -> str:
        where = f"{self.url} " if self.url else ""
        return f"{self.kind} {where}({self.scope})"

    def to_json(self) -> dict[str, str]:
        return {"kind": self.kind, "url": self.url, "scope": self.scope}


@dataclass(frozen=True, slots=True)
class Item:
    """One piece of evidence held by an entry: its metadata here, its bytes in a private file."""

    name: str
    sha256: str
    size: int
    source: str
    captured_at: datetime
    redactions: tuple[tuple[str, int], ...] = ()
    scanned: bool = True
    sensitive: bool = False

    @classmethod
    def of(cls, file: EvidenceFile) -> Item:
        return cls(
            name=file.name,
            sha256=file.sha256,
            size=file.size,
            source=file.source,
            captured_at=file.captured_at,
            redactions=file.redactions,
            scanned=file.scanned,
            sensitive=file.sensitive,
        )

    def to_json(self) -> dict[str, Any]:
        """The metadata as a backend stores it (JSON beside the entry)."""
        return {
            "name": self.name,
            "sha256": self.sha256,
            "size": self.size,
            "source": self.source,
            "captured_at": self.captured_at.isoformat(),
            "redactions": [list(r) for r in self.redactions],
            "scanned": self.scanned,
            "sensitive": self.sensitive,
        }

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> Item:
        return cls(
            name=raw["name"],
            sha256=raw["sha256"],
            size=int(raw["size"]),
            source=raw["source"],
            captured_at=datetime.fromisoformat(raw["captured_at"]),
            redactions=tuple((str(k), int(n)) for k, n in raw["redactions"]),
            scanned=bool(raw["scanned"]),
            sensitive=bool(raw["sensitive"]),
        )

    def file(self, data: bytes | None = None, *, path: Path | None = None) -> EvidenceFile:
        """The evidence ready to upload again: its bytes, or the journal's file read in chunks."""
        return EvidenceFile(
            name=self.name,
            data=data,
            blob=None if path is None else Blob.of_file(path, size=self.size, sha256=self.sha256),
            source=self.source,
            captured_at=self.captured_at,
            redactions=self.redactions,
            scanned=self.scanned,
            sensitive=self.sensitive,
        )


@dataclass(frozen=True, slots=True)
class NewEntry:
    """A sighting to keep: what to do, for which tracker, with which evidence."""

    event_id: str
    binding: Binding
    payload: Mapping[str, Any]
    """The operation's arguments as JSON values (for ``observe``: the request without evidence)."""
    evidence: tuple[EvidenceFile, ...] = ()
    op: str = "observe"
    unredacted: bool = False
    """True when the evidence was kept unscrubbed (``--no-redact``)."""

    @property
    def id(self) -> str:
        return entry_id(self.event_id, self.op)


class Row(Protocol):
    """A database row read by column name (``sqlite3.Row``, a psycopg dict row)."""

    def __getitem__(self, key: str, /) -> Any: ...


def _when(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


@dataclass(frozen=True, slots=True)
class Entry:
    """A journal entry as last written."""

    id: str
    op: str
    event_id: str
    binding: Binding
    payload: Mapping[str, Any]
    evidence: tuple[Item, ...]
    unredacted: bool
    state: State
    created: datetime
    updated: datetime
    attempts: int = 0
    reason: str = ""
    """Why the last attempt did not finish (the tracker's answer for a refusal)."""
    status: int | None = None
    """The tracker's HTTP status for the last failure, when it answered."""
    next_attempt_at: datetime | None = None
    steps: Mapping[str, str] = field(default_factory=dict)
    """Delivery steps already done, with their results (``defect`` -> JSON, ``attach:<sha>``...)."""
    lease_owner: str | None = None
    lease_until: datetime | None = None
    evidence_kept: bool = True
    """False once delivered: the evidence files are deleted, the metadata stays."""

    @classmethod
    def from_row(cls, row: Row, steps: Mapping[str, str]) -> Entry:
        """An entry from a backend's row (the same columns in SQLite and PostgreSQL; times as
        seconds since the epoch)."""
        lease_until = row["lease_until"]
        return cls(
            id=row["id"],
            op=row["op"],
            event_id=row["event_id"],
            binding=Binding(row["tracker_kind"], row["tracker_url"], row["tracker_scope"]),
            payload=json.loads(row["payload"]),
            evidence=tuple(Item.from_json(raw) for raw in json.loads(row["evidence"])),
            unredacted=bool(row["unredacted"]),
            state=State(row["state"]),
            created=_when(row["created"]),
            updated=_when(row["updated"]),
            attempts=row["attempts"],
            reason=row["reason"],
            status=row["status"],
            next_attempt_at=_when(row["next_attempt_at"]),
            steps=dict(steps),
            lease_owner=row["lease_owner"],
            lease_until=_when(lease_until) if lease_until is not None else None,
            evidence_kept=bool(row["evidence_kept"]),
        )

    @property
    def short(self) -> str:
        """The first 12 hex digits: enough to name it in ``bridge queue`` commands."""
        return self.id[:12]

    def why(self) -> str:
        """Why it is waiting, in a few words."""
        if self.state is State.FAILED:
            code = f" ({self.status})" if self.status else ""
            return f"refused{code}: {self.reason}"
        if self.reason:
            return f"tracker unavailable: {self.reason}"
        if self.lease_owner:
            return f"being delivered by {self.lease_owner}"
        return "not sent yet"

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "op": self.op,
            "event_id": self.event_id,
            "state": self.state.value,
            "tracker": self.binding.to_json(),
            "why": self.why(),
            "reason": self.reason,
            "status": self.status,
            "attempts": self.attempts,
            "next_attempt_at": self.next_attempt_at.isoformat() if self.next_attempt_at else None,
            "created": self.created.isoformat(),
            "steps": sorted(self.steps),
            "evidence": [
                {"name": i.name, "sha256": i.sha256, "size": i.size} for i in self.evidence
            ],
            "unredacted": self.unredacted,
            "lease_owner": self.lease_owner,
        }


class JournalProtocolError(Exception):
    """Internal misuse of the journal (a programming error, never shown to users as such)."""


@runtime_checkable
class Journal(Protocol):
    """The durable record of sightings; see the module docstring for the life of an entry."""

    location: str
    """Where it lives, for messages (a path, or a database URL without credentials)."""

    def put(self, new: NewEntry) -> tuple[Entry, bool]:
        """Keep a sighting, synced to disk before returning; idempotent on ``new.id``.

        Returns the entry and whether this call created it (False: the same event was already
        kept, and the existing entry, its evidence and binding, wins).
        """
        ...

    def put_many(self, news: Sequence[NewEntry]) -> list[tuple[Entry, bool]]:
        """``put`` for several sightings at once, with one sync to disk (an alert payload)."""
        ...

    def get(self, entry_id: str) -> Entry | None:
        """The entry, or None when there is none with this id."""
        ...

    def claim(self, entry_id: str, owner: str, lease: float | None = None) -> Entry | None:
        """Lease a pending entry to ``owner``; None when another live worker holds it.

        Done and failed entries are returned as they are, without a lease: the caller looks at
        ``state``. A lease whose holder died (expired, or a process gone on this machine) is
        taken over. Claiming an entry one already holds renews the lease.
        """
        ...

    def claim_next(
        self, owner: str, *, binding: Binding | None = None, lease: float | None = None
    ) -> Entry | None:
        """Lease the oldest pending entry that is due (and bound for ``binding``, if given)."""
        ...

    def record(self, entry_id: str, owner: str, step: str, value: str) -> None:
        """Record that a delivery step is done, with its result; renews the lease.

        Raises ``LeaseLost`` when ``owner`` no longer holds the entry (another worker took it
        over after the lease expired): the caller must stop.
        """
        ...

    def finish(self, entry_id: str, owner: str) -> Entry:
        """Mark delivered (the tracker holds everything) and delete the evidence files."""
        ...

    def fail(
        self,
        entry_id: str,
        owner: str,
        reason: str,
        *,
        refused: bool,
        status: int | None = None,
        retry_in: float = 0.0,
    ) -> Entry:
        """End an attempt that did not finish and release the lease.

        Unavailable (``refused=False``): stays pending, due again in ``retry_in`` seconds.
        Refused: becomes failed, keeping ``reason`` (the tracker's answer) and ``status``.
        """
        ...

    def release(self, entry_id: str, owner: str) -> None:
        """Give the lease back without a verdict (a worker shutting down)."""
        ...

    def read_evidence(self, entry: Entry, item: Item) -> bytes:
        """The bytes of one piece of evidence of a pending or failed entry."""
        ...

    def evidence_file(self, entry: Entry, item: Item) -> EvidenceFile:
        """One piece of evidence ready to upload, read in chunks where the journal keeps files
        (never whole in memory)."""
        ...

    def entries(self, states: Sequence[State] = (State.PENDING, State.FAILED)) -> list[Entry]:
        """Entries in these states, oldest first (the backlog, by default)."""
        ...

    def retry(self, entry_id: str) -> Entry:
        """Make a failed (or waiting) entry pending and due now."""
        ...

    def drop(self, entry_id: str) -> Entry:
        """Forget an entry and delete its evidence; returns what was dropped."""
        ...

    def depth(self) -> int:
        """How many entries wait: pending plus failed."""
        ...

    def resolve_id(self, prefix: str) -> str:
        """The full id of the one entry whose id starts with ``prefix``; ``JournalError`` else."""
        ...

    def defect_lock(self, fingerprint: str) -> AbstractContextManager[None]:
        """Serialise finding-or-creating the defect of one fingerprint among workers.

        The embedded journal serialises the processes of one machine; a shared journal would
        serialise its replicas (e.g. a PostgreSQL advisory lock).
        """
        ...

    def defect_made(self, fingerprint: str) -> str | None:
        """The defect a worker of this journal created for ``fingerprint`` (read it under
        ``defect_lock``): a tracker whose search lags its writes may not show it yet."""
        ...

    def remember_defect(self, fingerprint: str, key: str) -> None:
        """Record that ``key`` was created for ``fingerprint`` (under ``defect_lock``)."""
        ...

    def close(self) -> None:
        """Release the database and files."""
        ...


def current_owner(worker: str = "") -> str:
    """A lease owner naming this process: ``host/pid/start`` (plus ``/worker`` for threads).

    The start time tells a live process from a later one that reuses the pid.
    """
    base = f"{socket.gethostname()}/{os.getpid()}/{_start_time(os.getpid())}"
    return f"{base}/{worker}" if worker else base


def owner_alive(owner: str) -> bool:
    """False only when ``owner`` is a process of this machine that is gone; else True."""
    parts = owner.split("/")
    if len(parts) < 3 or parts[0] != socket.gethostname():
        return True
    try:
        pid = int(parts[1])
    except ValueError:
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    started, state = _stat(pid)
    if state in ("Z", "X"):  # killed, not yet reaped by its parent
        return False
    return not started or started == parts[2]


def _start_time(pid: int) -> str:
    return _stat(pid)[0]


def _stat(pid: int) -> tuple[str, str]:
    """The process's start time in clock ticks since boot and its state letter (Linux), or ''."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            stat = fh.read()
    except OSError:
        return "", ""
    # the command name may hold spaces and parentheses: fields resume after the last ')'
    fields = stat.rsplit(")", 1)[-1].split()
    if len(fields) <= 19:
        return "", ""
    return fields[19], fields[0]
