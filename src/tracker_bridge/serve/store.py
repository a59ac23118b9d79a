"""Where accepted alerts are made durable before the 202: the seam the journal replaces.

``IntakeStore`` is all the HTTP app needs: ``accept`` (durable, or raise ``JournalUnavailable``),
``ready`` and ``depth``. ``SqliteIntakeStore`` is a deliberately small stand-in: one table in a
SQLite file, WAL with ``synchronous=FULL`` so a commit survives power loss, and a unique key on
(event id, status) so that repeats of the same firing and HA pairs delivering the same alert add
nothing. When the journal lands (issue 12), ``bridge serve`` passes the journal's enqueue here
instead and this module goes away; nothing else in ``serve/`` changes.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from tracker_bridge.errors import JournalUnavailable
from tracker_bridge.serve.alerts import Alert

SCHEMA = """
CREATE TABLE IF NOT EXISTS intake (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id TEXT NOT NULL,
    status TEXT NOT NULL,
    source TEXT NOT NULL,
    received_at TEXT NOT NULL,
    record TEXT NOT NULL,
    delivered_at TEXT,
    UNIQUE (event_id, status)
);
"""


class IntakeStore(Protocol):
    """What ``bridge serve`` needs from the durable side."""

    def accept(self, alerts: Sequence[Alert]) -> None:
        """Make ``alerts`` durable, all or none; ``JournalUnavailable`` when that cannot be done."""
        ...

    def ready(self) -> bool:
        """Whether ``accept`` would work now."""
        ...

    def depth(self) -> int:
        """Entries accepted and not yet delivered."""
        ...


class _Pending:
    """One ``accept`` call waiting for a commit that includes its rows."""

    __slots__ = ("done", "error", "rows")

    def __init__(self, rows: list[tuple[str, str, str, str, str]]) -> None:
        self.rows = rows
        self.done = False
        self.error: sqlite3.Error | None = None


class SqliteIntakeStore:
    """Accepted alerts in one SQLite table; a repeat of (event id, status) is a no-op.

    Group commit: concurrent ``accept`` calls share one transaction and one fsync. Whoever holds
    the write lock commits everything pending; the others find their rows already durable. A
    failed commit fails every call in it, so each request is still all or none.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute("PRAGMA busy_timeout=5000")
            self._db.executescript(SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise JournalUnavailable(
                f"cannot open the intake store {path}: {exc}.",
                hint="Check that the directory is writable, or set [serve] intake_path.",
            ) from exc
        self._lock = threading.Lock()
        self._queue_lock = threading.Lock()
        self._pending: list[_Pending] = []

    def accept(self, alerts: Sequence[Alert]) -> None:
        now = datetime.now(UTC).isoformat(timespec="milliseconds")
        mine = _Pending(
            [
                (a.event_id, a.status, a.source, now, json.dumps(a.to_record(), ensure_ascii=False))
                for a in alerts
            ]
        )
        with self._queue_lock:
            self._pending.append(mine)
        with self._lock:
            if not mine.done:
                with self._queue_lock:
                    batch, self._pending = self._pending, []
                self._commit(batch)
        if mine.error is not None:
            raise JournalUnavailable(
                f"the intake store {self.path} cannot take alerts: {mine.error}.",
                hint="The sender will retry; check disk space and permissions.",
            ) from mine.error

    def _commit(self, batch: list[_Pending]) -> None:
        error: sqlite3.Error | None = None
        try:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.executemany(
                "INSERT OR IGNORE INTO intake (event_id, status, source, received_at, record) "
                "VALUES (?, ?, ?, ?, ?)",
                [row for pending in batch for row in pending.rows],
            )
            self._db.execute("COMMIT")
        except sqlite3.Error as exc:
            error = exc
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
        for pending in batch:
            pending.error = error
            pending.done = True

    def ready(self) -> bool:
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                self._db.execute("ROLLBACK")
            except sqlite3.Error:
                return False
        return True

    def depth(self) -> int:
        with self._lock:
            row = self._db.execute("SELECT count(*) FROM intake WHERE delivered_at IS NULL")
            return int(row.fetchone()[0])

    def records(self) -> list[dict[str, Any]]:
        """Every accepted alert, oldest first (for ``bridge queue`` and tests)."""
        with self._lock:
            rows = self._db.execute("SELECT record FROM intake ORDER BY seq").fetchall()
        return [json.loads(row[0]) for row in rows]

    def close(self) -> None:
        with self._lock:
            self._db.close()
