"""Tickets as the bridge sees them, whatever tracker holds them."""

from __future__ import annotations

import dataclasses
import enum
import gzip
import hashlib
import io
import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO, cast


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


CHUNK_BYTES = 1024 * 1024
"""How much of a piece of evidence is read at a time when it is streamed."""


@dataclass(frozen=True, slots=True)
class Blob:
    """The bytes of one piece of evidence: held in memory, or in a file read in chunks.

    A file-backed blob is made by the intake from a private copy it wrote itself, so its ``size``
    and ``sha256`` are known without reading it again; the file must not change afterwards.
    """

    size: int
    sha256: str
    path: Path | None = None
    inline: bytes | None = field(default=None, repr=False)
    on_read: Callable[[int], None] | None = field(default=None, repr=False, compare=False)
    """Told how many bytes each read returned (a progress bar); not part of the value."""

    @classmethod
    def of_bytes(cls, data: bytes) -> Blob:
        return cls(size=len(data), sha256=hashlib.sha256(data).hexdigest(), inline=data)

    @classmethod
    def of_file(cls, path: Path, *, size: int, sha256: str) -> Blob:
        return cls(size=size, sha256=sha256, path=path)

    def open(self) -> BinaryIO:
        """A fresh binary reader from the start (close it; each call starts again)."""
        raw: BinaryIO = (
            self.path.open("rb") if self.path is not None else io.BytesIO(self.inline or b"")
        )
        return raw if self.on_read is None else cast(BinaryIO, _Counting(raw, self.on_read))

    def chunks(self, size: int = CHUNK_BYTES) -> Iterator[bytes]:
        """The bytes in pieces of at most ``size``, read as they are asked for."""
        with self.open() as fh:
            while chunk := fh.read(size):
                yield chunk

    def head(self, size: int) -> bytes:
        """The first ``size`` bytes (or all, when there are fewer)."""
        if self.path is None:
            return (self.inline or b"")[:size]
        with self.path.open("rb") as fh:
            return fh.read(size)

    def read(self) -> bytes:
        """All the bytes in memory: only for small evidence or callers that need them whole."""
        if self.path is None:
            return self.inline or b""
        return self.path.read_bytes()


class _Counting(io.RawIOBase):
    """A reader that reports each read's size (the upload's progress)."""

    def __init__(self, raw: BinaryIO, on_read: Callable[[int], None]) -> None:
        super().__init__()
        self._raw = raw
        self._on_read = on_read

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._raw.read(len(buffer))
        buffer[: len(data)] = data
        if data:
            self._on_read(len(data))
        return len(data)

    def read(self, size: int = -1) -> bytes:
        data = self._raw.read(size)
        if data:
            self._on_read(len(data))
        return data

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return self._raw.seek(offset, whence)

    def tell(self) -> int:
        return self._raw.tell()

    def seekable(self) -> bool:
        return True

    def close(self) -> None:
        self._raw.close()
        super().close()


class _Hashing(io.RawIOBase):
    """A writer that hashes and counts what passes through it to ``out``."""

    def __init__(self, out: BinaryIO, digest: Any) -> None:
        super().__init__()
        self._out = out
        self._digest = digest
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        view = bytes(data)
        self._out.write(view)
        self._digest.update(view)
        self.size += len(view)
        return len(view)


@dataclass(frozen=True, slots=True, init=False)
class EvidenceFile:
    """Evidence ready to upload: the (already scrubbed) content and where it came from.

    Built either from bytes (``EvidenceFile(name=..., data=b"...", ...)``, as before) or from a
    file-backed ``Blob`` (``blob=``), which the intake uses so large evidence is never held in
    memory: ``size``, ``sha256``, ``open()`` and ``chunks()`` work on both; ``data`` reads the
    whole content and is kept for small evidence and older callers.
    """

    name: str
    source: str
    captured_at: datetime
    redactions: tuple[tuple[str, int], ...]
    scanned: bool
    sensitive: bool
    blob: Blob

    def __init__(
        self,
        name: str,
        data: bytes | None = None,
        source: str = "",
        captured_at: datetime | None = None,
        redactions: tuple[tuple[str, int], ...] = (),
        scanned: bool = True,
        sensitive: bool = False,
        *,
        blob: Blob | None = None,
    ) -> None:
        # ``data`` wins over ``blob`` so that ``dataclasses.replace(f, data=...)`` (which passes
        # the old blob along) gives the new content.
        if data is not None:
            blob = Blob.of_bytes(data)
        elif blob is None:
            raise TypeError("EvidenceFile needs data= or blob=")
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "source", source)
        object.__setattr__(self, "captured_at", captured_at or utcnow())
        object.__setattr__(self, "redactions", redactions)
        object.__setattr__(self, "scanned", scanned)
        object.__setattr__(self, "sensitive", sensitive)
        object.__setattr__(self, "blob", blob)

    @property
    def data(self) -> bytes:
        """The whole content in memory (prefer ``chunks()`` or ``open()`` for large evidence)."""
        return self.blob.read()

    @property
    def size(self) -> int:
        return self.blob.size

    @property
    def sha256(self) -> str:
        return self.blob.sha256

    @property
    def path(self) -> Path | None:
        """The file holding the content, when it is file-backed."""
        return self.blob.path

    def open(self) -> BinaryIO:
        """A fresh binary reader of the content (close it)."""
        return self.blob.open()

    def chunks(self, size: int = CHUNK_BYTES) -> Iterator[bytes]:
        """The content in pieces of at most ``size`` bytes."""
        return self.blob.chunks(size)

    def gzipped(self) -> EvidenceFile:
        """The same evidence gzip-compressed, named ``<name>.gz`` (itself when it already is).

        A file-backed file is compressed in chunks into a private file beside it (in the same
        staging directory, removed with it); bytes are compressed in memory.
        """
        if self.name.endswith(".gz"):
            return self
        if self.path is None:
            packed = Blob.of_bytes(gzip.compress(self.data, mtime=0))
        else:
            fd, name = tempfile.mkstemp(dir=self.path.parent, suffix=".gz")
            digest = hashlib.sha256()
            with os.fdopen(fd, "wb") as out:
                sink = _Hashing(out, digest)
                with gzip.GzipFile(filename="", mode="wb", fileobj=sink, mtime=0) as packer:
                    for chunk in self.chunks():
                        packer.write(chunk)
                size = sink.size
            packed = Blob.of_file(Path(name), size=size, sha256=digest.hexdigest())
        return dataclasses.replace(self, name=self.name + ".gz", blob=packed)

    def ref(self, url: str = "") -> EvidenceRef:
        """The record of this file once stored."""
        return EvidenceRef(
            name=self.name,
            sha256=self.sha256,
            size=self.size,
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
    resolved_at: datetime | None = None
    """For observations from alerts: when the sighting ended (its alert resolved); ``duration``
    is then how long it lasted. Not the ticket's own done time, which is ``resolved``."""

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
