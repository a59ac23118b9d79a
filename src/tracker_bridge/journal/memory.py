"""A journal in this process's memory: nothing survives it.

For library calls that bring no journal (``observe.run(..., journal=None)``) and for tests: the
delivery is the same step-by-step pipeline, but a crash loses the sighting. ``bridge observe``
and ``bridge serve`` always use a durable journal (``journal.open_journal``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime

from tracker_bridge.domain.tickets import EvidenceFile
from tracker_bridge.errors import JournalError, LeaseLost
from tracker_bridge.journal.base import (
    LEASE_SECONDS,
    Binding,
    Entry,
    Item,
    NewEntry,
    State,
    owner_alive,
)


class MemoryJournal:
    """A ``Journal`` held in a dict; leases and steps behave as in the durable ones."""

    location = "memory"

    def __init__(
        self, *, lease: float = LEASE_SECONDS, clock: Callable[[], float] = time.time
    ) -> None:
        self._lease = lease
        self._clock = clock
        self._lock = threading.RLock()
        self._entries: dict[str, Entry] = {}
        self._bytes: dict[str, dict[str, bytes]] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._made: dict[str, str] = {}

    def put(self, new: NewEntry) -> tuple[Entry, bool]:
        [result] = self.put_many([new])
        return result

    def put_many(self, news: Sequence[NewEntry]) -> list[tuple[Entry, bool]]:
        out = []
        with self._lock:
            for new in news:
                if new.id in self._entries:
                    out.append((self._entries[new.id], False))
                    continue
                now = self._now()
                self._entries[new.id] = Entry(
                    id=new.id,
                    op=new.op,
                    event_id=new.event_id,
                    binding=new.binding,
                    payload=dict(new.payload),
                    evidence=tuple(Item.of(f) for f in new.evidence),
                    unredacted=new.unredacted,
                    state=State.PENDING,
                    created=now,
                    updated=now,
                    next_attempt_at=now,
                    steps={},
                    evidence_kept=bool(new.evidence),
                )
                self._bytes[new.id] = {f.sha256: f.data for f in new.evidence}
                out.append((self._entries[new.id], True))
        return out

    def get(self, entry_id: str) -> Entry | None:
        with self._lock:
            return self._entries.get(entry_id)

    def claim(self, entry_id: str, owner: str, lease: float | None = None) -> Entry | None:
        with self._lock:
            entry = self._require(entry_id)
            if entry.state is not State.PENDING:
                return entry
            if not self._free(entry, owner):
                return None
            return self._lease_to(entry, owner, lease)

    def claim_next(
        self, owner: str, *, binding: Binding | None = None, lease: float | None = None
    ) -> Entry | None:
        with self._lock:
            now = self._now()
            due = sorted(
                (
                    e
                    for e in self._entries.values()
                    if e.state is State.PENDING
                    and (e.next_attempt_at or now) <= now
                    and (binding is None or e.binding == binding)
                    and self._free(e, owner)
                ),
                key=lambda e: (e.next_attempt_at or now, e.created),
            )
            return self._lease_to(due[0], owner, lease) if due else None

    def record(self, entry_id: str, owner: str, step: str, value: str) -> None:
        with self._lock:
            entry = self._hold(entry_id, owner)
            now = self._now()
            self._entries[entry_id] = replace(
                entry,
                steps={**entry.steps, step: value},
                lease_until=datetime.fromtimestamp(self._clock() + self._lease, UTC),
                updated=now,
            )

    def finish(self, entry_id: str, owner: str) -> Entry:
        with self._lock:
            entry = self._hold(entry_id, owner)
            self._bytes.pop(entry_id, None)
            done = replace(
                entry,
                state=State.DONE,
                lease_owner=None,
                lease_until=None,
                reason="",
                status=None,
                evidence_kept=False,
                updated=self._now(),
            )
            self._entries[entry_id] = done
            return done

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
        with self._lock:
            entry = self._hold(entry_id, owner)
            failed = replace(
                entry,
                state=State.FAILED if refused else State.PENDING,
                reason=reason,
                status=status,
                next_attempt_at=datetime.fromtimestamp(self._clock() + max(retry_in, 0.0), UTC),
                lease_owner=None,
                lease_until=None,
                updated=self._now(),
            )
            self._entries[entry_id] = failed
            return failed

    def release(self, entry_id: str, owner: str) -> None:
        with self._lock:
            entry = self._entries.get(entry_id)
            if entry is not None and entry.lease_owner == owner:
                self._entries[entry_id] = replace(entry, lease_owner=None, lease_until=None)

    def read_evidence(self, entry: Entry, item: Item) -> bytes:
        with self._lock:
            try:
                return self._bytes[entry.id][item.sha256]
            except KeyError:
                raise JournalError(
                    f"the evidence {item.name} of journal entry {entry.short} is gone."
                ) from None

    def evidence_file(self, entry: Entry, item: Item) -> EvidenceFile:
        return item.file(self.read_evidence(entry, item))

    def entries(self, states: Sequence[State] = (State.PENDING, State.FAILED)) -> list[Entry]:
        with self._lock:
            found = [e for e in self._entries.values() if e.state in states]
        return sorted(found, key=lambda e: (e.created, e.id))

    def retry(self, entry_id: str) -> Entry:
        with self._lock:
            entry = self._require(self.resolve_id(entry_id))
            if entry.state is not State.DONE:
                entry = replace(
                    entry, state=State.PENDING, next_attempt_at=self._now(), updated=self._now()
                )
                self._entries[entry.id] = entry
            return entry

    def drop(self, entry_id: str) -> Entry:
        with self._lock:
            full = self.resolve_id(entry_id)
            self._bytes.pop(full, None)
            return self._entries.pop(full)

    def depth(self) -> int:
        with self._lock:
            return sum(1 for e in self._entries.values() if e.state is not State.DONE)

    def resolve_id(self, prefix: str) -> str:
        with self._lock:
            if prefix in self._entries:
                return prefix
            found = [k for k in self._entries if prefix and k.startswith(prefix.lower())]
        if len(found) == 1:
            return found[0]
        raise JournalError(
            f"there is no journal entry {prefix!r}."
            if not found
            else f"{prefix!r} names more than one journal entry.",
            hint="`bridge queue` lists the entries waiting, with their ids.",
        )

    @contextmanager
    def defect_lock(self, fingerprint: str) -> Iterator[None]:
        with self._lock:
            lock = self._locks.setdefault(fingerprint, threading.Lock())
        with lock:
            yield

    def defect_made(self, fingerprint: str) -> str | None:
        with self._lock:
            return self._made.get(fingerprint)

    def remember_defect(self, fingerprint: str, key: str) -> None:
        with self._lock:
            self._made[fingerprint] = key

    def close(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes.clear()

    # -- internals ---------------------------------------------------------------------------

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self._clock(), UTC)

    def _require(self, entry_id: str) -> Entry:
        entry = self._entries.get(entry_id)
        if entry is None:
            raise JournalError(
                f"there is no journal entry {entry_id[:12]}.",
                hint="`bridge queue` lists the entries waiting.",
            )
        return entry

    def _free(self, entry: Entry, owner: str) -> bool:
        holder = entry.lease_owner
        if holder is None or holder == owner:
            return True
        if entry.lease_until is not None and entry.lease_until.timestamp() <= self._clock():
            return True
        return not owner_alive(holder)

    def _lease_to(self, entry: Entry, owner: str, lease: float | None) -> Entry:
        leased = replace(
            entry,
            lease_owner=owner,
            lease_until=datetime.fromtimestamp(self._clock() + (lease or self._lease), UTC),
            attempts=entry.attempts + (0 if entry.lease_owner == owner else 1),
            updated=self._now(),
        )
        self._entries[entry.id] = leased
        return leased

    def _hold(self, entry_id: str, owner: str) -> Entry:
        entry = self._entries.get(entry_id)
        if entry is None or entry.lease_owner != owner:
            holder = "nobody (it was dropped)" if entry is None else entry.lease_owner or "nobody"
            raise LeaseLost(
                f"journal entry {entry_id[:12]} is no longer held by this worker (now: {holder}).",
                hint="Another worker took it over; it carries on from the last recorded step.",
            )
        return entry
