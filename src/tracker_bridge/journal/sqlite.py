"""The embedded journal: SQLite in WAL mode at ``.bridge/journal.db``, evidence as private files.

Durability: a put's commit is synced (``synchronous=FULL``), evidence files and their directory
are fsynced before the row that names them is committed, and a put is only visible once both are
on disk. Leases and step records are committed without waiting for the disk: a killed process
loses none of them, and after a power cut a lost step is redone or found by its marker. Files are 0600 and directories 0700 whatever the umask (SQLite gives its ``-wal`` and
``-shm`` files the mode of the database file, which is created 0600 first).

Concurrency: writers serialise through ``BEGIN IMMEDIATE``; a lease is a compare-and-set inside
one such transaction, so two processes never both hold an entry. ``defect_lock`` is an exclusive
``flock`` on ``.bridge/locks/<hash>.lock``, which the kernel releases when its holder dies.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import sqlite3
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

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
from tracker_bridge.private_files import private_dir, private_file, sync_dir, write_synced

_SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (
    id TEXT PRIMARY KEY,
    op TEXT NOT NULL,
    event_id TEXT NOT NULL,
    tracker_kind TEXT NOT NULL,
    tracker_url TEXT NOT NULL,
    tracker_scope TEXT NOT NULL,
    payload TEXT NOT NULL,
    evidence TEXT NOT NULL,
    unredacted INTEGER NOT NULL DEFAULT 0,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    reason TEXT NOT NULL DEFAULT '',
    status INTEGER,
    next_attempt_at REAL NOT NULL,
    lease_owner TEXT,
    lease_until REAL,
    evidence_kept INTEGER NOT NULL DEFAULT 1,
    created REAL NOT NULL,
    updated REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS entries_due ON entries(state, next_attempt_at);
CREATE TABLE IF NOT EXISTS inline_evidence (
    entry_id TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (entry_id, sha256)
);
CREATE TABLE IF NOT EXISTS steps (
    entry_id TEXT NOT NULL,
    step TEXT NOT NULL,
    value TEXT NOT NULL,
    at REAL NOT NULL,
    PRIMARY KEY (entry_id, step)
);
"""

INLINE_EVIDENCE_BYTES = 64 * 1024
"""With ``inline_evidence`` (``bridge serve``), evidence of an entry up to this size in all is
kept in the database, in the put's transaction, rather than in files: one synced commit for a
whole alert payload instead of two fsyncs per alert (each alert's labels are a small evidence
document). Reading and deleting handle both places, whoever opened the journal."""

_CLAIM_SCAN = 50
"""Due entries looked at per ``claim_next`` (enough to skip those other workers hold)."""


class SqliteJournal:
    """A ``Journal`` in one SQLite file; evidence under ``<dir>/journal/<entry id>/<sha256>``."""

    def __init__(
        self,
        path: Path | str,
        *,
        lease: float = LEASE_SECONDS,
        clock: Callable[[], float] = time.time,
        inline_evidence: bool = False,
    ) -> None:
        self._lease = lease
        self._inline_limit = INLINE_EVIDENCE_BYTES if inline_evidence else -1
        self._clock = clock
        self._lock = threading.RLock()
        self._scratch: tempfile.TemporaryDirectory[str] | None = None
        if str(path) == ":memory:":
            # a journal for one process that keeps nothing: library calls without a journal
            self._scratch = tempfile.TemporaryDirectory(prefix="bridge-journal-")
            base = Path(self._scratch.name)
            self.location = ":memory:"
            target = ":memory:"
        else:
            db = Path(path)
            base = db.parent
            self.location = str(db)
            target = str(db)
        self._evidence_dir = base / "journal"
        self._locks_dir = base / "locks"
        try:
            private_dir(self._evidence_dir, tighten=True)
            private_dir(self._locks_dir, tighten=True)
            if target != ":memory:":
                private_file(Path(target))
            self._db = sqlite3.connect(
                target, timeout=60, isolation_level=None, check_same_thread=False
            )
            self._db.row_factory = sqlite3.Row
            _wal(self._db)
            self._db.executescript(f"BEGIN IMMEDIATE; {_SCHEMA} COMMIT;")
        except (sqlite3.Error, OSError) as exc:
            raise JournalError(
                f"cannot open the journal at {self.location}: {exc}.",
                hint="Check that .bridge/ is writable by you and the disk is not full; "
                "nothing was sent.",
            ) from exc

    # -- keeping ---------------------------------------------------------------------------

    def put(self, new: NewEntry) -> tuple[Entry, bool]:
        [result] = self.put_many([new])
        return result

    def put_many(self, news: Sequence[NewEntry]) -> list[tuple[Entry, bool]]:
        """Keep several sightings with one synced commit (an alert payload of many alerts)."""
        fresh: dict[str, NewEntry] = {}
        for new in news:  # the first of the same event in one call wins, as across calls
            if new.id not in fresh and self.get(new.id) is None:
                fresh[new.id] = new
        inline = {i for i, n in fresh.items() if _inline(n, self._inline_limit)}
        staged = {i: self._stage(n) for i, n in fresh.items() if n.evidence and i not in inline}
        try:
            with self._write(durable=True):
                now = self._clock()
                placed = False
                inserted: set[str] = set()
                for entry_id, new in fresh.items():
                    if self._row(entry_id) is not None:  # kept meanwhile by another process
                        continue
                    scratch = staged.pop(entry_id, None)
                    if scratch is not None:
                        final = self._evidence_dir / entry_id
                        if final.exists():  # left by a put that died before its commit
                            shutil.rmtree(final)
                        os.rename(scratch, final)
                        placed = True
                    self._insert(new, now)
                    if entry_id in inline:
                        self._db.executemany(
                            "INSERT OR IGNORE INTO inline_evidence VALUES (?, ?, ?)",
                            [(entry_id, f.sha256, f.data) for f in new.evidence],
                        )
                    inserted.add(entry_id)
                if placed:
                    sync_dir(self._evidence_dir)
        except OSError as exc:
            raise self._broken(exc) from exc
        finally:
            for scratch in staged.values():
                shutil.rmtree(scratch, ignore_errors=True)
        out = []
        for new in news:
            entry = self.get(new.id)
            assert entry is not None
            out.append((entry, new.id in inserted))
            inserted.discard(new.id)  # the same event twice in one call: kept once
        return out

    def _insert(self, new: NewEntry, now: float) -> None:
        self._db.execute(
            "INSERT INTO entries (id, op, event_id, tracker_kind, tracker_url,"
            " tracker_scope, payload, evidence, unredacted, state, next_attempt_at,"
            " evidence_kept, created, updated) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                new.id,
                new.op,
                new.event_id,
                new.binding.kind,
                new.binding.url,
                new.binding.scope,
                json.dumps(dict(new.payload), sort_keys=True),
                json.dumps([Item.of(f).to_json() for f in new.evidence]),
                int(new.unredacted),
                State.PENDING.value,
                now,
                int(bool(new.evidence)),
                now,
                now,
            ),
        )

    def _stage(self, new: NewEntry) -> Path:
        """Write the evidence into a private scratch directory, every file and name synced."""
        scratch = self._evidence_dir / f".put-{uuid.uuid4().hex}"
        try:
            private_dir(scratch)
            for item in new.evidence:
                target = scratch / item.sha256
                if not target.exists():
                    write_synced(target, item.chunks())
            sync_dir(scratch)
        except OSError as exc:
            shutil.rmtree(scratch, ignore_errors=True)
            raise self._broken(exc) from exc
        return scratch

    # -- reading ---------------------------------------------------------------------------

    def get(self, entry_id: str) -> Entry | None:
        with self._lock:
            return self._get(entry_id)

    def entries(self, states: Sequence[State] = (State.PENDING, State.FAILED)) -> list[Entry]:
        marks = ",".join("?" * len(states))
        with self._lock:
            rows = self._db.execute(
                f"SELECT * FROM entries WHERE state IN ({marks}) ORDER BY created, id",
                [s.value for s in states],
            ).fetchall()
            return [self._entry(r) for r in rows]

    def depth(self) -> int:
        with self._lock:
            row = self._db.execute(
                "SELECT COUNT(*) FROM entries WHERE state != ?", (State.DONE.value,)
            ).fetchone()
            return int(row[0])

    def evidence_file(self, entry: Entry, item: Item) -> EvidenceFile:
        path = self._evidence_dir / entry.id / item.sha256
        inline = self._inline_bytes(entry, item)
        if inline is not None:
            return item.file(inline)
        if not path.is_file():
            self.read_evidence(entry, item)  # raises, saying what to do
        return item.file(path=path)

    def _inline_bytes(self, entry: Entry, item: Item) -> bytes | None:
        """The evidence kept in the database (``inline_evidence``), or None: it is a file."""
        with self._lock:
            row = self._db.execute(
                "SELECT data FROM inline_evidence WHERE entry_id = ? AND sha256 = ?",
                (entry.id, item.sha256),
            ).fetchone()
        return bytes(row[0]) if row is not None else None

    def read_evidence(self, entry: Entry, item: Item) -> bytes:
        path = self._evidence_dir / entry.id / item.sha256
        inline = self._inline_bytes(entry, item)
        if inline is not None:
            return inline
        try:
            return path.read_bytes()
        except OSError as exc:
            raise JournalError(
                f"the evidence {item.name} of journal entry {entry.id[:12]} is missing ({exc}).",
                hint="Its files under .bridge/journal/ were removed; drop the entry with "
                f"`bridge queue drop {entry.id[:12]}` and observe again.",
            ) from exc

    # -- delivering ------------------------------------------------------------------------

    def claim(self, entry_id: str, owner: str, lease: float | None = None) -> Entry | None:
        with self._write():
            row = self._row(entry_id)
            if row is None:
                raise JournalError(
                    f"there is no journal entry {entry_id[:12]}.",
                    hint="`bridge queue` lists the entries waiting.",
                )
            if row["state"] != State.PENDING.value:
                return self._entry(row)
            if not self._free(row, owner):
                return None
            self._lease_to(entry_id, owner, row, lease)
        return self.get(entry_id)

    def claim_next(
        self, owner: str, *, binding: Binding | None = None, lease: float | None = None
    ) -> Entry | None:
        where, params = "state = ? AND next_attempt_at <= ?", [State.PENDING.value, self._clock()]
        if binding is not None:
            where += " AND tracker_kind = ? AND tracker_url = ? AND tracker_scope = ?"
            params += [binding.kind, binding.url, binding.scope]
        with self._write():
            rows = self._db.execute(
                f"SELECT * FROM entries WHERE {where} ORDER BY next_attempt_at, created"
                f" LIMIT {_CLAIM_SCAN}",
                params,
            ).fetchall()
            chosen = next((r for r in rows if self._free(r, owner)), None)
            if chosen is None:
                return None
            self._lease_to(chosen["id"], owner, chosen, lease)
        return self.get(chosen["id"])

    def record(self, entry_id: str, owner: str, step: str, value: str) -> None:
        with self._write():
            self._hold(entry_id, owner)
            now = self._clock()
            self._db.execute(
                "INSERT OR REPLACE INTO steps VALUES (?, ?, ?, ?)", (entry_id, step, value, now)
            )
            self._db.execute(
                "UPDATE entries SET lease_until = ?, updated = ? WHERE id = ?",
                (now + self._lease, now, entry_id),
            )

    def finish(self, entry_id: str, owner: str) -> Entry:
        with self._write():
            self._hold(entry_id, owner)
            self._db.execute(
                "UPDATE entries SET state = ?, lease_owner = NULL, lease_until = NULL,"
                " reason = '', status = NULL, evidence_kept = 0, updated = ? WHERE id = ?",
                (State.DONE.value, self._clock(), entry_id),
            )
            self._db.execute("DELETE FROM inline_evidence WHERE entry_id = ?", (entry_id,))
        # delivered: the tracker holds the evidence now, and the journal must not keep a copy
        shutil.rmtree(self._evidence_dir / entry_id, ignore_errors=True)
        entry = self.get(entry_id)
        assert entry is not None
        return entry

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
        with self._write():
            self._hold(entry_id, owner)
            now = self._clock()
            self._db.execute(
                "UPDATE entries SET state = ?, reason = ?, status = ?, next_attempt_at = ?,"
                " lease_owner = NULL, lease_until = NULL, updated = ? WHERE id = ?",
                (
                    State.FAILED.value if refused else State.PENDING.value,
                    reason,
                    status,
                    now + max(retry_in, 0.0),
                    now,
                    entry_id,
                ),
            )
        entry = self.get(entry_id)
        assert entry is not None
        return entry

    def release(self, entry_id: str, owner: str) -> None:
        with self._write():
            self._db.execute(
                "UPDATE entries SET lease_owner = NULL, lease_until = NULL"
                " WHERE id = ? AND lease_owner = ?",
                (entry_id, owner),
            )

    # -- handling the backlog ----------------------------------------------------------------

    def retry(self, entry_id: str) -> Entry:
        with self._write():
            row = self._require(entry_id)
            if row["state"] != State.DONE.value:
                self._db.execute(
                    "UPDATE entries SET state = ?, next_attempt_at = ?, updated = ? WHERE id = ?",
                    (State.PENDING.value, self._clock(), self._clock(), row["id"]),
                )
            full = row["id"]
        entry = self.get(full)
        assert entry is not None
        return entry

    def drop(self, entry_id: str) -> Entry:
        with self._write():
            row = self._require(entry_id)
            dropped = self._entry(row)
            self._db.execute("DELETE FROM steps WHERE entry_id = ?", (row["id"],))
            self._db.execute("DELETE FROM inline_evidence WHERE entry_id = ?", (row["id"],))
            self._db.execute("DELETE FROM entries WHERE id = ?", (row["id"],))
        shutil.rmtree(self._evidence_dir / dropped.id, ignore_errors=True)
        return dropped

    def resolve_id(self, prefix: str) -> str:
        """The full id of the one entry whose id starts with ``prefix`` (as ``queue`` shows)."""
        with self._lock:
            return str(self._require(prefix)["id"])

    def defect_made(self, fingerprint: str) -> str | None:
        path = self._lock_path(fingerprint).with_suffix(".defect")
        try:
            return path.read_text(encoding="utf-8").strip() or None
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise self._broken(exc) from exc

    def remember_defect(self, fingerprint: str, key: str) -> None:
        try:
            write_synced(self._lock_path(fingerprint).with_suffix(".defect"), key.encode("utf-8"))
        except OSError as exc:
            raise self._broken(exc) from exc

    def _lock_path(self, fingerprint: str) -> Path:
        name = hashlib.sha256(fingerprint.encode("utf-8")).hexdigest()[:32]
        return self._locks_dir / f"{name}.lock"

    @contextmanager
    def defect_lock(self, fingerprint: str) -> Iterator[None]:
        path = self._lock_path(fingerprint)
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        except OSError as exc:
            raise self._broken(exc) from exc
        try:
            os.fchmod(fd, 0o600)
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing drops the flock

    def close(self) -> None:
        with self._lock:
            self._db.close()
        if self._scratch is not None:
            self._scratch.cleanup()

    # -- internals ---------------------------------------------------------------------------

    @contextmanager
    def _write(self, *, durable: bool = False) -> Iterator[None]:
        """One write transaction. ``durable`` commits are synced to the disk before returning
        (a put: the sighting must survive a power cut); the others (leases, step records)
        survive a killed process and are redone or found by marker after a power cut."""
        with self._lock:
            try:
                self._db.execute(f"PRAGMA synchronous={'FULL' if durable else 'NORMAL'}")
                self._db.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise self._broken(exc) from exc
            try:
                yield
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            try:
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                self._db.execute("ROLLBACK")
                raise self._broken(exc) from exc

    def _broken(self, exc: Exception) -> JournalError:
        return JournalError(
            f"the journal at {self.location} cannot be written: {exc}.",
            hint="Check free disk space and that .bridge/ belongs to you; nothing was sent.",
        )

    def _row(self, entry_id: str) -> sqlite3.Row | None:
        row: sqlite3.Row | None = self._db.execute(
            "SELECT * FROM entries WHERE id = ?", (entry_id,)
        ).fetchone()
        return row

    def _require(self, prefix: str) -> sqlite3.Row:
        """The entry whose id is ``prefix`` or starts with it; ``JournalError`` if none or many."""
        row = self._row(prefix)
        if row is not None:
            return row
        clean = "".join(c for c in prefix.lower() if c in "0123456789abcdef")
        rows = (
            self._db.execute(
                "SELECT * FROM entries WHERE id LIKE ? LIMIT 2", (clean + "%",)
            ).fetchall()
            if clean and clean == prefix.lower()
            else []
        )
        if len(rows) == 1:
            found: sqlite3.Row = rows[0]
            return found
        if not rows:
            raise JournalError(
                f"there is no journal entry {prefix!r}.",
                hint="`bridge queue` lists the entries waiting, with their ids.",
            )
        raise JournalError(
            f"{prefix!r} names more than one journal entry.", hint="Give more of the id."
        )

    def _get(self, entry_id: str) -> Entry | None:
        row = self._row(entry_id)
        return self._entry(row) if row is not None else None

    def _free(self, row: sqlite3.Row, owner: str) -> bool:
        holder = row["lease_owner"]
        if holder is None or holder == owner:
            return True
        if row["lease_until"] is not None and row["lease_until"] <= self._clock():
            return True
        return not owner_alive(holder)

    def _lease_to(self, entry_id: str, owner: str, row: sqlite3.Row, lease: float | None) -> None:
        now = self._clock()
        again = row["lease_owner"] == owner
        self._db.execute(
            "UPDATE entries SET lease_owner = ?, lease_until = ?, attempts = attempts + ?,"
            " updated = ? WHERE id = ?",
            (owner, now + (lease or self._lease), 0 if again else 1, now, entry_id),
        )

    def _hold(self, entry_id: str, owner: str) -> None:
        row = self._row(entry_id)
        if row is None or row["lease_owner"] != owner:
            holder = "nobody (it was dropped)" if row is None else row["lease_owner"] or "nobody"
            raise LeaseLost(
                f"journal entry {entry_id[:12]} is no longer held by this worker (now: {holder}).",
                hint="Another worker took it over; it carries on from the last recorded step.",
            )

    def _entry(self, row: sqlite3.Row) -> Entry:
        steps = {
            r["step"]: r["value"]
            for r in self._db.execute(
                "SELECT step, value FROM steps WHERE entry_id = ?", (row["id"],)
            )
        }
        return Entry.from_row(row, steps)


def _inline(new: NewEntry, limit: int) -> bool:
    """Whether an entry's evidence is small enough to keep in the database (never
    ``--no-redact`` evidence, which stays in files of its own)."""
    size = sum(f.size for f in new.evidence)
    return bool(new.evidence) and not new.unredacted and size <= limit


def _wal(db: sqlite3.Connection, patience: float = 60.0) -> None:
    """Switch to WAL. Processes opening a brand-new journal at once can get "database is
    locked" here at once, whatever the busy timeout: try again until ``patience`` runs out."""
    deadline = time.monotonic() + patience
    while True:
        try:
            db.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)
