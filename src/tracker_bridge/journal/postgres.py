"""A journal shared by several ``bridge serve`` replicas: PostgreSQL (``[queue] url``).

The same ``Journal`` as the embedded one, for processes on many machines:

- **Durable**: a put is one transaction holding the entries and their evidence bytes (replicas
  share no disk), committed before the 202 (``synchronous_commit`` as the server has it; on by
  default).
- **At-least-once, one worker at a time**: a claim is a compare-and-set on the entry's lease in
  one ``UPDATE``; ``claim_next`` picks a due entry with ``FOR UPDATE SKIP LOCKED``, so replicas
  polling together never take the same one and never wait on each other. Every step a worker
  records renews its lease and fails with ``LeaseLost`` once another took the entry over.
- **Stalled work recovered**: a replica that dies leaves leases that expire after
  ``[queue] lease_seconds`` (at once when the dead holder was a process of this machine); then
  any replica carries the entry on from its last recorded step.
- **One defect per fingerprint across replicas**: ``defect_lock`` is a PostgreSQL advisory lock
  held on a connection of its own; the server releases it if its holder's connection dies. The
  defect made under it is remembered in ``bridge_defects`` (``defect_made``), so a replica whose
  tracker search lags finds the defect another replica created a moment ago.

Times (due, leases) are the database server's clock, so replicas with skewed clocks agree.
psycopg is imported only here (import-linter contract).
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg.rows import dict_row

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

_NOW = "extract(epoch from clock_timestamp())"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS bridge_entries (
    id TEXT PRIMARY KEY,
    op TEXT NOT NULL,
    event_id TEXT NOT NULL,
    tracker_kind TEXT NOT NULL,
    tracker_url TEXT NOT NULL,
    tracker_scope TEXT NOT NULL,
    payload TEXT NOT NULL,
    evidence TEXT NOT NULL,
    unredacted BOOLEAN NOT NULL DEFAULT FALSE,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    reason TEXT NOT NULL DEFAULT '',
    status INTEGER,
    next_attempt_at DOUBLE PRECISION NOT NULL,
    lease_owner TEXT,
    lease_until DOUBLE PRECISION,
    evidence_kept BOOLEAN NOT NULL DEFAULT TRUE,
    created DOUBLE PRECISION NOT NULL,
    updated DOUBLE PRECISION NOT NULL
);
CREATE INDEX IF NOT EXISTS bridge_entries_due ON bridge_entries (state, next_attempt_at);
CREATE TABLE IF NOT EXISTS bridge_steps (
    entry_id TEXT NOT NULL,
    step TEXT NOT NULL,
    value TEXT NOT NULL,
    at DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (entry_id, step)
);
CREATE TABLE IF NOT EXISTS bridge_defects (
    fingerprint TEXT PRIMARY KEY,
    key TEXT NOT NULL,
    at DOUBLE PRECISION NOT NULL
);
CREATE TABLE IF NOT EXISTS bridge_evidence (
    entry_id TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    data BYTEA NOT NULL,
    PRIMARY KEY (entry_id, sha256)
);
"""

_SCHEMA_LOCK = 0x6272696467650001
"""Advisory lock taken while creating the schema: replicas starting together do it once."""

_CLAIM_SCAN = 50


class PostgresJournal:
    """A ``Journal`` in three PostgreSQL tables; see the module docstring."""

    def __init__(self, url: str, *, lease: float = LEASE_SECONDS, connect_timeout: int = 10):
        self._url = url
        self._lease = lease
        self._timeout = connect_timeout
        self.location = _public(url)
        self._lock = threading.RLock()
        self._db = self._connect()
        with self._tx() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
            cur.execute(_SCHEMA)

    def _connect(self) -> psycopg.Connection[dict[str, Any]]:
        try:
            return psycopg.connect(
                self._url, row_factory=dict_row, connect_timeout=self._timeout, autocommit=False
            )
        except psycopg.Error as exc:
            raise JournalError(
                f"cannot reach the journal database at {self.location}: {_first_line(exc)}.",
                hint="Check [queue] url (BRIDGE_QUEUE__URL), that PostgreSQL is up and that "
                "the user may connect; nothing was sent.",
            ) from exc

    # -- keeping ---------------------------------------------------------------------------

    def put(self, new: NewEntry) -> tuple[Entry, bool]:
        [result] = self.put_many([new])
        return result

    def put_many(self, news: Sequence[NewEntry]) -> list[tuple[Entry, bool]]:
        unique = list({new.id: new for new in reversed(news)}.values())[::-1]  # first wins
        inserted: set[str] = set()
        with self._tx() as cur:
            # pipelined: one round trip for the batch, however many alerts it holds
            cur.executemany(
                "INSERT INTO bridge_entries (id, op, event_id, tracker_kind, tracker_url,"
                " tracker_scope, payload, evidence, unredacted, state, next_attempt_at,"
                f" evidence_kept, created, updated) VALUES (%s, %s, %s, %s, %s, %s, %s, %s,"
                f" %s, %s, {_NOW}, %s, {_NOW}, {_NOW}) ON CONFLICT (id) DO NOTHING RETURNING id",
                [
                    (
                        new.id,
                        new.op,
                        new.event_id,
                        new.binding.kind,
                        new.binding.url,
                        new.binding.scope,
                        json.dumps(dict(new.payload), sort_keys=True),
                        json.dumps([Item.of(f).to_json() for f in new.evidence]),
                        new.unredacted,
                        State.PENDING.value,
                        bool(new.evidence),
                    )
                    for new in unique
                ],
                returning=True,
            )
            while True:  # kept before (or by another replica meanwhile): no row returned
                inserted.update(row["id"] for row in cur.fetchall())
                if not cur.nextset():
                    break
            blobs = [
                (new.id, item.sha256, item.data)
                for new in unique
                if new.id in inserted
                for item in new.evidence
            ]
            if blobs:
                cur.executemany(
                    "INSERT INTO bridge_evidence VALUES (%s, %s, %s) ON CONFLICT DO NOTHING", blobs
                )
            kept = self._many(cur, [new.id for new in unique])
        out = []
        for new in news:
            out.append((kept[new.id], new.id in inserted))
            inserted.discard(new.id)  # the same event twice in one call: kept once
        return out

    def _many(self, cur: psycopg.Cursor[dict[str, Any]], ids: list[str]) -> dict[str, Entry]:
        """Entries by id, with two queries whatever their number."""
        cur.execute("SELECT * FROM bridge_entries WHERE id = ANY(%s)", (ids,))
        rows = cur.fetchall()
        cur.execute("SELECT * FROM bridge_steps WHERE entry_id = ANY(%s)", (ids,))
        steps: dict[str, dict[str, str]] = {}
        for r in cur.fetchall():
            steps.setdefault(r["entry_id"], {})[r["step"]] = r["value"]
        return {r["id"]: Entry.from_row(r, steps.get(r["id"], {})) for r in rows}

    # -- reading ---------------------------------------------------------------------------

    def get(self, entry_id: str) -> Entry | None:
        with self._tx() as cur:
            return self._get(cur, entry_id)

    def entries(self, states: Sequence[State] = (State.PENDING, State.FAILED)) -> list[Entry]:
        with self._tx() as cur:
            cur.execute(
                "SELECT * FROM bridge_entries WHERE state = ANY(%s) ORDER BY created, id",
                ([s.value for s in states],),
            )
            return [self._entry(cur, r) for r in cur.fetchall()]

    def depth(self) -> int:
        with self._tx() as cur:
            cur.execute("SELECT count(*) AS n FROM bridge_entries WHERE state != 'done'")
            row = cur.fetchone()
            return int(row["n"]) if row else 0

    def read_evidence(self, entry: Entry, item: Item) -> bytes:
        with self._tx() as cur:
            cur.execute(
                "SELECT data FROM bridge_evidence WHERE entry_id = %s AND sha256 = %s",
                (entry.id, item.sha256),
            )
            row = cur.fetchone()
        if row is None:
            raise JournalError(
                f"the evidence {item.name} of journal entry {entry.id[:12]} is missing.",
                hint=f"Drop the entry with `bridge queue drop {entry.id[:12]}` and observe again.",
            )
        return bytes(row["data"])

    def evidence_file(self, entry: Entry, item: Item) -> EvidenceFile:
        return item.file(self.read_evidence(entry, item))

    # -- delivering ------------------------------------------------------------------------

    def claim(self, entry_id: str, owner: str, lease: float | None = None) -> Entry | None:
        with self._tx() as cur:
            row = self._row(cur, entry_id, lock=True)
            if row is None:
                raise JournalError(
                    f"there is no journal entry {entry_id[:12]}.",
                    hint="`bridge queue` lists the entries waiting.",
                )
            if row["state"] != State.PENDING.value:
                return self._entry(cur, row)
            if not self._free(cur, row, owner):
                return None
            self._lease_to(cur, entry_id, owner, row, lease)
            return self._get(cur, entry_id)

    def claim_next(
        self, owner: str, *, binding: Binding | None = None, lease: float | None = None
    ) -> Entry | None:
        where = f"state = 'pending' AND next_attempt_at <= {_NOW}"
        params: list[Any] = []
        if binding is not None:
            where += " AND tracker_kind = %s AND tracker_url = %s AND tracker_scope = %s"
            params += [binding.kind, binding.url, binding.scope]
        with self._tx() as cur:
            # rows another replica is looking at right now are skipped, not waited for
            cur.execute(
                f"SELECT * FROM bridge_entries WHERE {where} ORDER BY next_attempt_at, created"
                f" LIMIT {_CLAIM_SCAN} FOR UPDATE SKIP LOCKED",
                params,
            )
            rows = cur.fetchall()
            chosen = next((r for r in rows if self._free(cur, r, owner)), None)
            if chosen is None:
                return None
            self._lease_to(cur, chosen["id"], owner, chosen, lease)
            return self._get(cur, chosen["id"])

    def record(self, entry_id: str, owner: str, step: str, value: str) -> None:
        with self._tx() as cur:
            self._hold(cur, entry_id, owner)
            cur.execute(
                f"INSERT INTO bridge_steps VALUES (%s, %s, %s, {_NOW}) ON CONFLICT (entry_id,"
                " step) DO UPDATE SET value = excluded.value, at = excluded.at",
                (entry_id, step, value),
            )
            cur.execute(
                f"UPDATE bridge_entries SET lease_until = {_NOW} + %s, updated = {_NOW}"
                " WHERE id = %s",
                (self._lease, entry_id),
            )

    def finish(self, entry_id: str, owner: str) -> Entry:
        with self._tx() as cur:
            self._hold(cur, entry_id, owner)
            cur.execute(
                "UPDATE bridge_entries SET state = 'done', lease_owner = NULL, lease_until = NULL,"
                f" reason = '', status = NULL, evidence_kept = FALSE, updated = {_NOW}"
                " WHERE id = %s",
                (entry_id,),
            )
            # delivered: the tracker holds the evidence now, and the journal must not keep a copy
            cur.execute("DELETE FROM bridge_evidence WHERE entry_id = %s", (entry_id,))
            entry = self._get(cur, entry_id)
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
        with self._tx() as cur:
            self._hold(cur, entry_id, owner)
            cur.execute(
                "UPDATE bridge_entries SET state = %s, reason = %s, status = %s,"
                f" next_attempt_at = {_NOW} + %s, lease_owner = NULL, lease_until = NULL,"
                f" updated = {_NOW} WHERE id = %s",
                (
                    State.FAILED.value if refused else State.PENDING.value,
                    reason,
                    status,
                    max(retry_in, 0.0),
                    entry_id,
                ),
            )
            entry = self._get(cur, entry_id)
        assert entry is not None
        return entry

    def release(self, entry_id: str, owner: str) -> None:
        with self._tx() as cur:
            cur.execute(
                "UPDATE bridge_entries SET lease_owner = NULL, lease_until = NULL"
                " WHERE id = %s AND lease_owner = %s",
                (entry_id, owner),
            )

    # -- handling the backlog ----------------------------------------------------------------

    def retry(self, entry_id: str) -> Entry:
        with self._tx() as cur:
            row = self._require(cur, entry_id)
            if row["state"] != State.DONE.value:
                cur.execute(
                    f"UPDATE bridge_entries SET state = 'pending', next_attempt_at = {_NOW},"
                    f" updated = {_NOW} WHERE id = %s",
                    (row["id"],),
                )
            entry = self._get(cur, row["id"])
        assert entry is not None
        return entry

    def drop(self, entry_id: str) -> Entry:
        with self._tx() as cur:
            row = self._require(cur, entry_id)
            dropped = self._entry(cur, row)
            for table in ("bridge_steps", "bridge_evidence"):
                cur.execute(f"DELETE FROM {table} WHERE entry_id = %s", (row["id"],))
            cur.execute("DELETE FROM bridge_entries WHERE id = %s", (row["id"],))
        return dropped

    def resolve_id(self, prefix: str) -> str:
        with self._tx() as cur:
            return str(self._require(cur, prefix)["id"])

    @contextmanager
    def defect_lock(self, fingerprint: str) -> Iterator[None]:
        key = int.from_bytes(hashlib.sha256(fingerprint.encode("utf-8")).digest()[:8], "big")
        key -= 2**63  # a signed bigint, as pg_advisory_lock takes
        conn = self._connect()
        try:
            conn.autocommit = True
            conn.execute("SELECT pg_advisory_lock(%s)", (key,))
            yield
        finally:
            conn.close()  # closing the session drops its advisory locks

    def defect_made(self, fingerprint: str) -> str | None:
        """The defect any replica created for ``fingerprint``: shared, so a replica whose
        tracker search lags still finds the one another replica made a moment ago."""
        with self._tx() as cur:
            cur.execute("SELECT key FROM bridge_defects WHERE fingerprint = %s", (fingerprint,))
            row = cur.fetchone()
        return str(row["key"]) if row else None

    def remember_defect(self, fingerprint: str, key: str) -> None:
        with self._tx() as cur:
            cur.execute(
                f"INSERT INTO bridge_defects VALUES (%s, %s, {_NOW}) ON CONFLICT (fingerprint)"
                " DO UPDATE SET key = excluded.key, at = excluded.at",
                (fingerprint, key),
            )

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # -- internals ---------------------------------------------------------------------------

    @contextmanager
    def _tx(self) -> Iterator[psycopg.Cursor[dict[str, Any]]]:
        """One transaction on the shared connection; reconnects once after a lost connection."""
        with self._lock:
            if self._db.closed or self._db.broken:
                self._db = self._connect()
            try:
                with self._db.transaction(), self._db.cursor() as cur:
                    yield cur
            except psycopg.Error as exc:
                raise JournalError(
                    f"the journal database at {self.location} failed: {_first_line(exc)}.",
                    hint="Check that PostgreSQL is up and the disk is not full; the sender or "
                    "the worker retries.",
                ) from exc

    def _row(
        self, cur: psycopg.Cursor[dict[str, Any]], entry_id: str, *, lock: bool = False
    ) -> dict[str, Any] | None:
        cur.execute(
            "SELECT * FROM bridge_entries WHERE id = %s" + (" FOR UPDATE" if lock else ""),
            (entry_id,),
        )
        return cur.fetchone()

    def _require(self, cur: psycopg.Cursor[dict[str, Any]], prefix: str) -> dict[str, Any]:
        row = self._row(cur, prefix, lock=True)
        if row is not None:
            return row
        clean = "".join(c for c in prefix.lower() if c in "0123456789abcdef")
        rows: list[dict[str, Any]] = []
        if clean and clean == prefix.lower():
            cur.execute(
                "SELECT * FROM bridge_entries WHERE id LIKE %s LIMIT 2 FOR UPDATE",
                (clean + "%",),
            )
            rows = cur.fetchall()
        if len(rows) == 1:
            return rows[0]
        if not rows:
            raise JournalError(
                f"there is no journal entry {prefix!r}.",
                hint="`bridge queue` lists the entries waiting, with their ids.",
            )
        raise JournalError(
            f"{prefix!r} names more than one journal entry.", hint="Give more of the id."
        )

    def _get(self, cur: psycopg.Cursor[dict[str, Any]], entry_id: str) -> Entry | None:
        row = self._row(cur, entry_id)
        return self._entry(cur, row) if row is not None else None

    def _free(self, cur: psycopg.Cursor[dict[str, Any]], row: dict[str, Any], owner: str) -> bool:
        holder = row["lease_owner"]
        if holder is None or holder == owner:
            return True
        cur.execute(f"SELECT {_NOW} AS now")
        now = cur.fetchone()
        if row["lease_until"] is not None and now is not None and row["lease_until"] <= now["now"]:
            return True
        return not owner_alive(holder)

    def _lease_to(
        self,
        cur: psycopg.Cursor[dict[str, Any]],
        entry_id: str,
        owner: str,
        row: dict[str, Any],
        lease: float | None,
    ) -> None:
        again = row["lease_owner"] == owner
        cur.execute(
            f"UPDATE bridge_entries SET lease_owner = %s, lease_until = {_NOW} + %s,"
            f" attempts = attempts + %s, updated = {_NOW} WHERE id = %s",
            (owner, lease or self._lease, 0 if again else 1, entry_id),
        )

    def _hold(self, cur: psycopg.Cursor[dict[str, Any]], entry_id: str, owner: str) -> None:
        row = self._row(cur, entry_id, lock=True)
        if row is None or row["lease_owner"] != owner:
            holder = "nobody (it was dropped)" if row is None else row["lease_owner"] or "nobody"
            raise LeaseLost(
                f"journal entry {entry_id[:12]} is no longer held by this worker (now: {holder}).",
                hint="Another worker took it over; it carries on from the last recorded step.",
            )

    def _entry(self, cur: psycopg.Cursor[dict[str, Any]], row: dict[str, Any]) -> Entry:
        cur.execute("SELECT step, value FROM bridge_steps WHERE entry_id = %s", (row["id"],))
        return Entry.from_row(row, {r["step"]: r["value"] for r in cur.fetchall()})


def _public(url: str) -> str:
    """The URL without its password, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username}@{host}" if parts.username else host
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def _first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
