"""The embedded local tracker: tickets in one SQLite file under ``./.bridge/``.

It needs no server, so ``bridge observe`` works on a fresh machine. Writers serialise through
``BEGIN IMMEDIATE`` on a WAL database, so two processes observing at once neither lose nor
duplicate tickets. The ``memory`` kind is the same tracker on ``:memory:`` (tests, dry runs).
Evidence bytes are stored once per content hash (``blobs``) however many tickets hold them.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tracker_bridge.domain.tickets import (
    EvidenceFile,
    EvidenceRef,
    Kind,
    NewTicket,
    RemoteLink,
    Status,
    Ticket,
    Tree,
    utcnow,
)
from tracker_bridge.errors import (
    BridgeError,
    LocalStoreError,
    NotFoundError,
    TrackerUnavailable,
    UsageError,
)
from tracker_bridge.private_files import private_file
from tracker_bridge.trackers.base import Capabilities

if TYPE_CHECKING:
    from tracker_bridge.domain.conventions import Conventions
    from tracker_bridge.settings import TrackerSettings

_SCHEMA = """
CREATE TABLE IF NOT EXISTS tickets (
    seq INTEGER PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,
    kind TEXT,
    title TEXT NOT NULL,
    status TEXT NOT NULL,
    created TEXT NOT NULL,
    updated TEXT,
    resolved TEXT,
    parent TEXT,
    related TEXT,
    message TEXT NOT NULL DEFAULT '',
    description TEXT NOT NULL DEFAULT '',
    instance TEXT NOT NULL DEFAULT '',
    observed_at TEXT,
    impact TEXT NOT NULL DEFAULT '',
    duration_seconds INTEGER,
    event_id TEXT UNIQUE,
    team TEXT NOT NULL DEFAULT '',
    issue_type TEXT NOT NULL DEFAULT '',
    extra TEXT NOT NULL DEFAULT '{}',
    duplicate_of TEXT,
    without_remediation TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS tickets_parent ON tickets(parent);
CREATE TABLE IF NOT EXISTS labels (key TEXT NOT NULL, label TEXT NOT NULL, PRIMARY KEY (key, label));
CREATE TABLE IF NOT EXISTS fingerprints (
    key TEXT NOT NULL, fingerprint TEXT NOT NULL, PRIMARY KEY (key, fingerprint)
);
CREATE INDEX IF NOT EXISTS fingerprints_fp ON fingerprints(fingerprint);
CREATE TABLE IF NOT EXISTS actions (key TEXT NOT NULL, position INTEGER NOT NULL, text TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS comments (key TEXT NOT NULL, created TEXT NOT NULL, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS evidence (
    key TEXT NOT NULL, position INTEGER NOT NULL, name TEXT NOT NULL, sha256 TEXT NOT NULL,
    size INTEGER NOT NULL, source TEXT NOT NULL, captured_at TEXT, redactions TEXT NOT NULL,
    scanned INTEGER NOT NULL, sensitive INTEGER NOT NULL, PRIMARY KEY (key, sha256)
);
CREATE TABLE IF NOT EXISTS links (
    key TEXT NOT NULL, global_id TEXT NOT NULL, url TEXT NOT NULL, title TEXT NOT NULL,
    relationship TEXT NOT NULL, PRIMARY KEY (key, global_id)
);
CREATE TABLE IF NOT EXISTS blobs (sha256 TEXT PRIMARY KEY, data BLOB NOT NULL);
"""

_PAGE = 500


def build(settings: TrackerSettings, conventions: Conventions) -> LocalTracker:
    """The local tracker at ``[tracker] path`` (or in memory for ``kind = "memory"``).

    The local tracker keeps kinds as data, so it needs no conventions.
    """
    del conventions
    if settings.kind == "memory":
        return LocalTracker(":memory:", project=settings.project)
    return LocalTracker(settings.path, project=settings.project)


class LocalTracker:
    """A ``Tracker`` backed by SQLite; keys look like ``OPS-12``."""

    def __init__(self, path: Path | str, *, project: str = "OPS") -> None:
        self.project = project
        self.path = str(path)
        self.name = "memory" if self.path == ":memory:" else f"local:{self.path}"
        try:
            if self.path != ":memory:":
                # captured production state lives here: 0600 whatever the umask (SQLite gives
                # its -wal and -shm files the database file's mode)
                private_file(Path(self.path))
            self._db = sqlite3.connect(
                self.path, timeout=30, isolation_level=None, check_same_thread=False
            )
            self._db.row_factory = sqlite3.Row
            _while_locked(lambda: self._db.execute("PRAGMA journal_mode=WAL"))
            self._db.execute("PRAGMA foreign_keys=ON")
            _while_locked(lambda: self._db.executescript(_SCHEMA))
            self._migrate()
        except sqlite3.Error as exc:
            raise _store_error(self.name, exc, "cannot open") from exc
        except OSError as exc:
            raise LocalStoreError(
                f"cannot open the local tracker at {self.path}: {exc.strerror}.",
                hint="Check that the directory is writable, or set [tracker] path.",
            ) from exc

    def _migrate(self) -> None:
        """Bring a database made by an earlier version up to this schema, in place."""
        columns = {row["name"] for row in self._db.execute("PRAGMA table_info(tickets)")}
        if "extra" not in columns:
            self._db.execute("ALTER TABLE tickets ADD COLUMN extra TEXT NOT NULL DEFAULT '{}'")
        if "duplicate_of" not in columns:
            self._db.execute("ALTER TABLE tickets ADD COLUMN duplicate_of TEXT")
        if "without_remediation" not in columns:
            self._db.execute(
                "ALTER TABLE tickets ADD COLUMN without_remediation TEXT NOT NULL DEFAULT ''"
            )
        if "duration_seconds" not in columns:
            self._db.execute("ALTER TABLE tickets ADD COLUMN duration_seconds INTEGER")

    # -- reading ---------------------------------------------------------------------------

    def capabilities(self) -> Capabilities:
        return Capabilities(upload_limit=None)

    def get(self, key: str) -> Ticket:
        row = self._db.execute("SELECT * FROM tickets WHERE key = ?", (key,)).fetchone()
        if row is None:
            raise NotFoundError(
                f"{key} is not a ticket on {self.name}.",
                hint="Check the key; `bridge list --kind all --status all` lists the tickets "
                "the bridge knows.",
            )
        return self._tickets([row])[0]

    def tree(self, key: str) -> Tree:
        ticket = self.get(key)
        children = self._select("parent = ?", (key,))
        related = self._select(
            "related = ? OR key IN (SELECT related FROM tickets WHERE key = ?)", (key, key)
        )
        return Tree(
            ticket=ticket,
            observations=tuple(t for t in children if t.kind is Kind.OBSERVATION),
            remediations=tuple(t for t in children if t.kind is Kind.REMEDIATION),
            related=tuple(related),
        )

    def find_by_fingerprint(self, fingerprint: str) -> Ticket | None:
        return self._by_fingerprint(fingerprint)

    def _by_fingerprint(self, fingerprint: str) -> Ticket | None:
        found = self._select(
            "kind = 'defect' AND key IN (SELECT key FROM fingerprints WHERE fingerprint = ?)"
            " ORDER BY seq DESC LIMIT 1",
            (fingerprint,),
        )
        return found[0] if found else None

    def defects(self) -> Iterator[Ticket]:
        return self._stream("kind = 'defect'", ())

    def find_by_event(self, event_id: str) -> Ticket | None:
        found = self._select("event_id = ?", (event_id,))
        return found[0] if found else None

    def scan(self, title_prefix: str) -> Iterator[Ticket]:
        pattern = title_prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        return self._stream(
            "(kind IS NOT NULL OR ltrim(title) LIKE ? ESCAPE '\\')", (pattern + "%",)
        )

    def comments(self, key: str) -> list[str]:
        """The comments on a ticket, oldest first (for tests and ``show``)."""
        rows = self._db.execute("SELECT body FROM comments WHERE key = ? ORDER BY rowid", (key,))
        return [r["body"] for r in rows]

    def fetch_evidence(self, key: str, ref: EvidenceRef) -> bytes:
        self._require(key)
        return self.blob(ref.sha256)

    def blob(self, sha256: str) -> bytes:
        """The stored bytes of one piece of evidence."""
        row = self._db.execute("SELECT data FROM blobs WHERE sha256 = ?", (sha256,)).fetchone()
        if row is None:
            raise NotFoundError(f"no evidence with hash {sha256} on {self.name}.")
        data: bytes = row["data"]
        return data

    # -- writing ---------------------------------------------------------------------------

    def create(self, new: NewTicket) -> Ticket:
        with self._write():
            if new.event_id:
                existing = self.find_by_event(new.event_id)
                if existing is not None:
                    return existing
            key = self._insert(new)
        return self.get(key)

    def find_or_create_defect(self, fingerprint: str, new: NewTicket) -> tuple[Ticket, bool]:
        """The defect with ``fingerprint``, or ``new`` created, in one write transaction: however
        many processes ask at once for a brand-new message, one defect is made."""
        with self._write():
            mine = self.find_by_event(new.event_id) if new.event_id else None
            if mine is not None:
                return mine, True
            found = self._by_fingerprint(fingerprint)
            if found is not None:
                return found, False
            key = self._insert(new)
        return self.get(key), True

    def _insert(self, new: NewTicket) -> str:
        """Insert a ticket inside the caller's write transaction; return its key."""
        for ref in (new.parent, new.related):
            if ref is not None and self._exists(ref) is False:
                raise NotFoundError(f"{ref} is not a ticket on {self.name}.")
        seq = self._db.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM tickets").fetchone()[0]
        key = f"{self.project}-{seq}"
        now = utcnow().isoformat()
        self._db.execute(
            "INSERT INTO tickets (seq, key, kind, title, status, created, updated, parent,"
            " related, message, description, instance, observed_at, impact, duration_seconds,"
            " event_id, team, issue_type, extra)"
            " VALUES (?, ?, ?, ?, 'open', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                seq,
                key,
                new.kind.value,
                new.title,
                now,
                now,
                new.parent,
                new.related,
                new.message,
                new.description,
                new.instance,
                new.observed_at.isoformat() if new.observed_at else None,
                new.impact,
                round(new.duration.total_seconds()) if new.duration is not None else None,
                new.event_id or None,
                new.team,
                new.issue_type,
                json.dumps(
                    {"components": list(new.components), "fields": dict(new.fields)},
                    default=str,
                ),
            ),
        )
        for link in new.links:
            self._upsert_link(key, link)
        self._db.executemany(
            "INSERT OR IGNORE INTO labels VALUES (?, ?)", [(key, lab) for lab in new.labels]
        )
        self._db.executemany(
            "INSERT OR IGNORE INTO fingerprints VALUES (?, ?)",
            [(key, fp) for fp in new.fingerprints],
        )
        self._db.executemany(
            "INSERT INTO actions VALUES (?, ?, ?)",
            [(key, i, text) for i, text in enumerate(new.actions)],
        )
        return key

    def attach(self, key: str, files: Sequence[EvidenceFile]) -> list[EvidenceRef]:
        with self._write():
            return self._store(key, files)

    def _store(self, key: str, files: Sequence[EvidenceFile]) -> list[EvidenceRef]:
        """``attach`` inside a transaction the caller holds."""
        refs: list[EvidenceRef] = []
        self._require(key)
        held = {r.sha256: r for r in self._evidence([key]).get(key, [])}
        position = len(held)
        for item in files:
            if item.sha256 in held:
                refs.append(held[item.sha256])
                continue
            self._store_blob(item)
            self._db.execute(
                "INSERT INTO evidence VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    key,
                    position,
                    item.name,
                    item.sha256,
                    item.size,
                    item.source,
                    item.captured_at.isoformat(),
                    json.dumps(list(item.redactions)),
                    int(item.scanned),
                    int(item.sensitive),
                ),
            )
            position += 1
            ref = item.ref(url=self._url(key, item.name))
            held[item.sha256] = ref
            refs.append(ref)
        self._touch(key)
        return refs

    def replace_attachment(self, key: str, file: EvidenceFile) -> EvidenceRef:
        """Store ``file`` under its name on ``key``, dropping older attachments of that name."""
        with self._write():
            self._require(key)
            held = self._evidence([key]).get(key, [])
            same = next((r for r in held if r.sha256 == file.sha256), None)
            if same is not None and same.name == file.name:
                return same
            old = [r.sha256 for r in held if r.name == file.name or r.sha256 == file.sha256]
            self._db.executemany(
                "DELETE FROM evidence WHERE key = ? AND sha256 = ?", [(key, sha) for sha in old]
            )
            self._db.executemany(
                "DELETE FROM blobs WHERE sha256 = ?"
                " AND NOT EXISTS (SELECT 1 FROM evidence WHERE evidence.sha256 = blobs.sha256)",
                [(sha,) for sha in old if sha != file.sha256],
            )
            return self._store(key, [file])[0]

    def _store_blob(self, item: EvidenceFile) -> None:
        """Store the bytes once per hash, in chunks (SQLite incremental blob I/O), so a large
        file never sits in memory whole."""
        cursor = self._db.execute(
            "INSERT OR IGNORE INTO blobs VALUES (?, zeroblob(?))", (item.sha256, item.size)
        )
        if cursor.rowcount == 0:
            return  # the same bytes are stored already
        rowid = cursor.lastrowid
        assert rowid is not None
        with self._db.blobopen("blobs", "data", rowid) as blob:
            for chunk in item.chunks():
                blob.write(chunk)

    def link_remote(self, key: str, link: RemoteLink) -> None:
        """Link a ticket to one elsewhere; the same ``global_id`` again updates, never duplicates."""
        with self._write():
            self._require(key)
            self._upsert_link(key, link)

    def validate(self, new: NewTicket) -> tuple[str, ...]:
        """Problems that would make ``create`` refuse ``new`` (the local tracker takes anything)."""
        problems = []
        if not new.title.strip():
            problems.append("the title is empty")
        if new.parent is not None and not self._exists(new.parent):
            problems.append(f"parent {new.parent} does not exist")
        return tuple(problems)

    def _upsert_link(self, key: str, link: RemoteLink) -> None:
        self._db.execute(
            "INSERT INTO links VALUES (?, ?, ?, ?, ?) ON CONFLICT (key, global_id)"
            " DO UPDATE SET url = excluded.url, title = excluded.title,"
            " relationship = excluded.relationship",
            (key, link.global_id, link.url, link.title, link.relationship),
        )

    def add_fingerprint(self, key: str, fingerprint: str) -> None:
        with self._write():
            self._require(key)
            self._db.execute("INSERT OR IGNORE INTO fingerprints VALUES (?, ?)", (key, fingerprint))

    def remove_fingerprint(self, key: str, fingerprint: str) -> None:
        with self._write():
            self._require(key)
            self._db.execute(
                "DELETE FROM fingerprints WHERE key = ? AND fingerprint = ?", (key, fingerprint)
            )

    def reopen(self, key: str) -> None:
        """Open again; a reopened defect is no longer a duplicate nor finalised without fix."""
        with self._write():
            self._require(key)
            self._db.execute(
                "UPDATE tickets SET status = 'open', resolved = NULL, duplicate_of = NULL,"
                " without_remediation = '', updated = ? WHERE key = ? AND status = 'done'",
                (utcnow().isoformat(), key),
            )

    def resolve(self, key: str, *, without_remediation: str = "") -> None:
        with self._write():
            self._require(key)
            now = utcnow().isoformat()
            self._db.execute(
                "UPDATE tickets SET status = 'done', resolved = ?, updated = ?"
                " WHERE key = ? AND status != 'done'",
                (now, now, key),
            )
            if without_remediation:
                self._db.execute(
                    "UPDATE tickets SET without_remediation = ? WHERE key = ?",
                    (without_remediation, key),
                )

    def mark_duplicate(self, key: str, of: str) -> None:
        with self._write():
            self._require(key)
            self._require(of)
            now = utcnow().isoformat()
            self._db.execute(
                "UPDATE tickets SET status = 'done', resolved = COALESCE(resolved, ?),"
                " duplicate_of = ?, updated = ? WHERE key = ? AND duplicate_of IS NOT ?",
                (now, of, now, key, of),
            )

    def set_resolved_at(self, key: str, when: datetime) -> None:
        """Record when the sighting of an observation ended (kept in the ticket's ``extra``),
        and so how long it lasted (``duration``, from ``observed_at``)."""
        with self._write():
            self._require(key)
            row = self._db.execute("SELECT observed_at FROM tickets WHERE key = ?", (key,))
            seen = _when(row.fetchone()["observed_at"])
            lasted = max(round((when - seen).total_seconds()), 0) if seen is not None else None
            self._db.execute(
                "UPDATE tickets SET extra = json_set(extra, '$.resolved_at', ?),"
                " duration_seconds = COALESCE(?, duration_seconds), updated = ? WHERE key = ?",
                (when.astimezone(UTC).isoformat(), lasted, utcnow().isoformat(), key),
            )

    def comment(self, key: str, text: str) -> None:
        with self._write():
            self._require(key)
            self._db.execute(
                "INSERT INTO comments VALUES (?, ?, ?)", (key, utcnow().isoformat(), text)
            )
            self._touch(key)

    def close(self) -> None:
        self._db.close()

    # -- internals -------------------------------------------------------------------------

    def _write(self) -> _Transaction:
        return _Transaction(self._db, self.name)

    def _exists(self, key: str) -> bool:
        return (
            self._db.execute("SELECT 1 FROM tickets WHERE key = ?", (key,)).fetchone() is not None
        )

    def _require(self, key: str) -> None:
        if not self._exists(key):
            raise NotFoundError(f"{key} is not a ticket on {self.name}.")

    def _touch(self, key: str) -> None:
        self._db.execute(
            "UPDATE tickets SET updated = ? WHERE key = ?", (utcnow().isoformat(), key)
        )

    def _url(self, key: str, name: str = "") -> str:
        base = "memory:" if self.path == ":memory:" else Path(self.path).resolve().as_uri()
        return f"{base}#{key}" + (f"/{name}" if name else "")

    def _select(self, where: str, params: tuple[Any, ...]) -> list[Ticket]:
        rows = self._db.execute(f"SELECT * FROM tickets WHERE {where}", params).fetchall()
        return self._tickets(rows)

    def _stream(self, where: str, params: tuple[Any, ...]) -> Iterator[Ticket]:
        last = 0
        while True:
            rows = self._db.execute(
                f"SELECT * FROM tickets WHERE seq > ? AND {where} ORDER BY seq LIMIT {_PAGE}",
                (last, *params),
            ).fetchall()
            if not rows:
                return
            yield from self._tickets(rows)
            last = rows[-1]["seq"]

    def _side(self, sql: str, keys: list[str]) -> dict[str, list[sqlite3.Row]]:
        out: dict[str, list[sqlite3.Row]] = {}
        marks = ",".join("?" * len(keys))
        for row in self._db.execute(sql.format(marks=marks), keys):
            out.setdefault(row["key"], []).append(row)
        return out

    def _evidence(self, keys: list[str]) -> dict[str, list[EvidenceRef]]:
        rows = self._side(
            "SELECT * FROM evidence WHERE key IN ({marks}) ORDER BY key, position", keys
        )
        return {
            key: [
                EvidenceRef(
                    name=r["name"],
                    sha256=r["sha256"],
                    size=r["size"],
                    source=r["source"],
                    captured_at=_when(r["captured_at"]),
                    redactions=tuple((k, int(n)) for k, n in json.loads(r["redactions"])),
                    scanned=bool(r["scanned"]),
                    sensitive=bool(r["sensitive"]),
                    url=self._url(key, r["name"]),
                )
                for r in group
            ]
            for key, group in rows.items()
        }

    def _tickets(self, rows: Iterable[sqlite3.Row]) -> list[Ticket]:
        rows = list(rows)
        keys = [r["key"] for r in rows]
        if not keys:
            return []
        labels = self._side("SELECT * FROM labels WHERE key IN ({marks})", keys)
        fps = self._side("SELECT * FROM fingerprints WHERE key IN ({marks})", keys)
        actions = self._side(
            "SELECT * FROM actions WHERE key IN ({marks}) ORDER BY key, position", keys
        )
        evidence = self._evidence(keys)
        links = self._side("SELECT * FROM links WHERE key IN ({marks}) ORDER BY rowid", keys)
        return [
            Ticket(
                key=r["key"],
                title=r["title"],
                kind=Kind(r["kind"]) if r["kind"] else None,
                status=Status(r["status"]),
                created=_when(r["created"]) or utcnow(),
                url=self._url(r["key"]),
                parent=r["parent"],
                issue_type=r["issue_type"],
                labels=tuple(sorted(x["label"] for x in labels.get(r["key"], []))),
                description=r["description"],
                message=r["message"],
                instance=r["instance"],
                observed_at=_when(r["observed_at"]),
                impact=r["impact"],
                duration=timedelta(seconds=r["duration_seconds"])
                if r["duration_seconds"] is not None
                else None,
                actions=tuple(x["text"] for x in actions.get(r["key"], [])),
                fingerprints=tuple(sorted(x["fingerprint"] for x in fps.get(r["key"], []))),
                evidence=tuple(evidence.get(r["key"], [])),
                event_id=r["event_id"] or "",
                team=r["team"],
                updated=_when(r["updated"]),
                resolved=_when(r["resolved"]),
                resolved_at=_when(json.loads(r["extra"] or "{}").get("resolved_at")),
                related=r["related"],
                duplicate_of=r["duplicate_of"],
                without_remediation=r["without_remediation"],
                links=tuple(
                    RemoteLink(
                        url=x["url"],
                        title=x["title"],
                        global_id=x["global_id"],
                        relationship=x["relationship"],
                    )
                    for x in links.get(r["key"], [])
                ),
            )
            for r in rows
        ]

    def insert_raw(self, title: str, *, kind: Kind | None = None, parent: str | None = None) -> str:
        """Create a ticket the way a person would by hand, bypassing conventions (tests, demos)."""
        if not title.strip():
            raise UsageError("a ticket needs a title.")
        with self._write():
            seq = self._db.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM tickets").fetchone()[0]
            key = f"{self.project}-{seq}"
            now = utcnow().isoformat()
            self._db.execute(
                "INSERT INTO tickets (seq, key, kind, title, status, created, updated, parent)"
                " VALUES (?, ?, ?, ?, 'open', ?, ?, ?)",
                (seq, key, kind.value if kind else None, title, now, now, parent),
            )
        return key

    def retitle(self, key: str, title: str) -> None:
        """Give a ticket a new title (``check --fix``); nothing else about it changes."""
        if not title.strip():
            raise UsageError("a ticket needs a title.")
        with self._write():
            self._require(key)
            self._db.execute(
                "UPDATE tickets SET title = ?, updated = ? WHERE key = ? AND title != ?",
                (title, utcnow().isoformat(), key, title),
            )

    def set_parent(self, key: str, parent: str) -> None:
        """Make ``parent`` the parent of ``key`` (``check --fix``); idempotent."""
        with self._write():
            self._require(key)
            self._require(parent)
            self._db.execute(
                "UPDATE tickets SET parent = ?, updated = ? WHERE key = ? AND parent IS NOT ?",
                (parent, utcnow().isoformat(), key, parent),
            )


class _Transaction:
    """``BEGIN IMMEDIATE`` ... ``COMMIT``: one writer at a time across processes."""

    def __init__(self, db: sqlite3.Connection, name: str) -> None:
        self._db = db
        self._name = name

    def __enter__(self) -> None:
        try:
            self._db.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise _store_error(self._name, exc) from exc

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is not None:
            # the original error says more than a failed rollback would
            with contextlib.suppress(sqlite3.Error):
                self._db.execute("ROLLBACK")
            if isinstance(exc, sqlite3.Error):
                raise _store_error(self._name, exc) from exc
            return
        try:
            self._db.execute("COMMIT")
        except sqlite3.Error as failed:
            with contextlib.suppress(sqlite3.Error):
                self._db.execute("ROLLBACK")
            raise _store_error(self._name, failed) from failed


def _store_error(name: str, exc: sqlite3.Error, doing: str = "failed to write") -> BridgeError:
    """A failed SQLite operation as an error that says what to do; nothing of it was kept."""
    text = str(exc)
    if "locked" in text or "busy" in text:
        return TrackerUnavailable(
            f"the local tracker {name} is locked by another process: {text}.",
            hint="Wait for the other bridge command to finish and try again.",
        )
    if "readonly" in text or "read-only" in text:
        return LocalStoreError(
            f"the local tracker {name} cannot be written: {text}. Nothing was recorded.",
            hint="Make the file and its directory writable, or point [tracker] path elsewhere.",
        )
    return LocalStoreError(
        f"the local tracker {name} {doing}: {text}. Nothing was recorded.",
        hint="The database file may be damaged or the disk full: check it with "
        "`sqlite3 FILE 'PRAGMA integrity_check'`, or point [tracker] path at a new file.",
    )


def _when(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _while_locked(step: Callable[[], object], patience: float = 60.0) -> None:
    """Run ``step``, again while SQLite says "database is locked". Processes opening a brand-new
    database at once can get that at once from the switch to WAL or the first schema write,
    whatever the busy timeout (the journal's ``_wal`` does the same for its own file)."""
    deadline = time.monotonic() + patience
    while True:
        try:
            step()
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)
