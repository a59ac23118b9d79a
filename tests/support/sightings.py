"""Real ``bridge`` processes observing, racing and being killed, and an audit of the result.

Shared by ``tests/journal/test_exactly_once.py`` (a few of each) and ``benchmarks/exactly_once.py``
(many). Everything runs on the embedded tracker in one working directory.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterable, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

from tracker_bridge.domain.tickets import Kind
from tracker_bridge.journal import State, entry_id
from tracker_bridge.journal.sqlite import SqliteJournal
from tracker_bridge.trackers.local import LocalTracker

RUNNER = Path(__file__).with_name("bridge_process.py")


def brand_new_messages(count: int, seed: int = 1) -> list[str]:
    """Messages that share no fingerprint and resemble neither each other nor real ones."""
    rng = random.Random(seed)

    def word() -> str:  # letters only, never hex: nothing for the fingerprint to mask
        return "".join(rng.choice("gjklmnprstvwz") + rng.choice("aeiou") for _ in range(3))

    return [" ".join(word() for _ in range(6)) + " failed" for _ in range(count)]


def environment(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRIDGE_")}
    env.update(extra)
    return env


def spawn(workdir: Path, args: Sequence[str], **extra: str) -> subprocess.Popen[str]:
    """Start ``bridge ARGS`` in ``workdir`` (see ``bridge_process`` for the hooks in ``extra``)."""
    return subprocess.Popen(
        [sys.executable, str(RUNNER), *args],
        cwd=workdir,
        env=environment(**extra),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def observe_args(message: str, instance: str, event_id: str, evidence: Path) -> list[str]:
    return [
        "observe",
        message,
        "--instance",
        instance,
        "--event-id",
        event_id,
        "--evidence",
        str(evidence),
        "--capture",
        "echo state before the action",
        "--json",
    ]


def finish(proc: subprocess.Popen[str], timeout: float = 120) -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, out, err


def kill9(proc: subprocess.Popen[str]) -> None:
    """``kill -9`` and reap (a process that already ended is left as it is)."""
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGKILL)
    proc.communicate()


def race(
    workdir: Path, commands: Sequence[Sequence[str]], gate: Path
) -> list[subprocess.Popen[str]]:
    """Start every command, let them all get ready, then open the gate so they act at once."""
    procs = [spawn(workdir, c, START_GATE=str(gate)) for c in commands]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        ready = len(list(gate.parent.glob(f"{gate.name}.*.ready")))
        if ready == len(procs) or any(p.poll() is not None for p in procs):
            break
        time.sleep(0.01)
    gate.touch()
    return procs


def wait_for_row(
    db: Path, sql: str, key: str, proc: subprocess.Popen[str] | None = None, timeout: float = 180
) -> bool:
    """Poll a database (read-only) until ``sql`` with ``key`` counts a row; False after
    ``timeout`` or once ``proc`` has ended without it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ended = proc is not None and proc.poll() is not None
        if db.exists():
            try:
                with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1)) as conn:
                    if conn.execute(sql, (key,)).fetchone()[0]:
                        return True
            except sqlite3.OperationalError:
                pass  # the writer is creating the schema
        if ended:
            return False
        time.sleep(0.003)
    return False


def wait_for_entry(workdir: Path, event_id: str, proc: subprocess.Popen[str]) -> bool:
    """Until the journal holds the event (its put committed)."""
    return wait_for_row(
        workdir / ".bridge" / "journal.db",
        "SELECT COUNT(*) FROM entries WHERE id = ?",
        entry_id(event_id),
        proc,
    )


def progress(workdir: Path, event_id: str) -> str:
    """How far an event got: not kept, kept, or the last step the journal recorded, or done."""
    with closing(SqliteJournal(workdir / ".bridge" / "journal.db")) as journal:
        entry = journal.get(entry_id(event_id))
    if entry is None:
        return "not kept yet"
    if entry.state is State.DONE:
        return "done"
    for step in ("index", "attach", "observation", "defect", "evidence"):
        if any(s == step or s.startswith(f"{step}:") for s in entry.steps):
            return f"after {step}"
    return "kept, nothing sent"


def wait_for_ticket(
    db: Path, event_id: str, proc: subprocess.Popen[str] | None = None, timeout: float = 180
) -> bool:
    """Until a ticket of the embedded tracker carries ``event_id``'s marker."""
    return wait_for_row(
        db, "SELECT COUNT(*) FROM tickets WHERE event_id = ?", event_id, proc, timeout
    )


@dataclass
class Audit:
    """What the tracker holds for a set of event ids, against what the journal kept."""

    observations: int = 0
    defects: int = 0
    duplicates: list[str] = field(default_factory=list)
    """Event ids with more than one observation."""
    missing: list[str] = field(default_factory=list)
    """Event ids with no observation at all."""
    without_evidence: list[str] = field(default_factory=list)
    """Event ids whose observation lacks some of the evidence the journal kept for it."""
    undelivered: list[str] = field(default_factory=list)
    """Event ids whose journal entry is not done."""

    @property
    def ok(self) -> bool:
        return not (self.duplicates or self.missing or self.without_evidence or self.undelivered)

    def to_json(self) -> dict[str, object]:
        return {
            "observations": self.observations,
            "defects": self.defects,
            "duplicates": len(self.duplicates),
            "missing": len(self.missing),
            "without_evidence": len(self.without_evidence),
            "undelivered": len(self.undelivered),
        }


def audit(workdir: Path, event_ids: Iterable[str]) -> Audit:
    """Check each event: one observation, holding every evidence hash its entry kept."""
    wanted = list(event_ids)
    tracker = LocalTracker(workdir / ".bridge" / "bridge.db")
    journal = SqliteJournal(workdir / ".bridge" / "journal.db")
    try:
        by_event: dict[str, list[set[str]]] = {}
        result = Audit()
        for ticket in tracker.scan("Handle"):
            if ticket.kind is Kind.OBSERVATION:
                result.observations += 1
                by_event.setdefault(ticket.event_id, []).append({r.sha256 for r in ticket.evidence})
        result.defects = sum(1 for _ in tracker.defects())
        for event in wanted:
            held = by_event.get(event, [])
            entry = journal.get(entry_id(event))
            if len(held) > 1:
                result.duplicates.append(event)
            if not held:
                result.missing.append(event)
            if entry is None or entry.state is not State.DONE:
                result.undelivered.append(event)
            elif held and not {i.sha256 for i in entry.evidence} <= held[0]:
                result.without_evidence.append(event)
        return result
    finally:
        tracker.close()
        journal.close()


def parse(out: str) -> dict[str, object]:
    data: dict[str, object] = json.loads(out)
    return data
