"""Real ``bridge`` processes against the fake Jira and the fake GitHub, and an audit of the result.

Each "machine" is a working directory with its own ``bridge.toml`` and ``.bridge/`` (journal,
locks); several machines pointed at one fake server are several machines feeding one tracker.
Shared by ``tests/journal/test_exactly_once_remote.py`` and ``benchmarks/exactly_once.py``.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fakes import github as fake_github
from fakes import jira as fake_jira
from fakes.github import FakeGitHub
from fakes.jira import FakeJira
from fakes.server import FakeServer
from support.sightings import RUNNER, environment
from tracker_bridge.domain.conventions import Conventions
from tracker_bridge.domain.tickets import Kind, Ticket
from tracker_bridge.journal import State, entry_id
from tracker_bridge.journal.sqlite import SqliteJournal
from tracker_bridge.trackers.base import Tracker
from tracker_bridge.trackers.github import GitHubTracker
from tracker_bridge.trackers.jira import JiraTracker

CONV = Conventions()


def start(kind: str) -> FakeServer:
    """A running fake tracker of ``kind`` (``jira`` or ``github``); stop it when done."""
    fake: FakeServer = FakeJira("cloud") if kind == "jira" else FakeGitHub()
    return fake.start()


def machine(
    fake: FakeServer, workdir: Path, *, timeout: float = 5.0, search_lag: float = 1.0
) -> Path:
    """A working directory configured for ``fake``: a machine of its own."""
    workdir.mkdir(parents=True, exist_ok=True)
    if isinstance(fake, FakeJira):
        site = (
            f'kind = "jira"\nurl = "{fake.url}"\nproject = "OPS"\ndeployment = "cloud"\n'
            f'email = "{fake_jira.EMAIL}"\n'
        )
    else:
        assert isinstance(fake, FakeGitHub)
        site = f'kind = "github"\nurl = "{fake.url}"\nrepository = "{fake.full_name}"\n'
    (workdir / "bridge.toml").write_text(
        f"[tracker]\n{site}timeout = {timeout}\nmax_retry_wait = 20\nsearch_lag = {search_lag}\n"
    )
    return workdir


def token(fake: FakeServer) -> str:
    return fake_jira.TOKEN if isinstance(fake, FakeJira) else fake_github.TOKEN


def spawn(
    fake: FakeServer, workdir: Path, args: Sequence[str], **extra: str
) -> subprocess.Popen[str]:
    """``bridge ARGS`` on machine ``workdir`` (``START_GATE`` in ``extra`` as in ``sightings``)."""
    return subprocess.Popen(
        [sys.executable, str(RUNNER), *args],
        cwd=workdir,
        env=environment(BRIDGE_TRACKER__TOKEN=token(fake), **extra),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def client(fake: FakeServer) -> Tracker:
    """A tracker on ``fake`` for reading back what the processes made."""
    if isinstance(fake, FakeJira):
        return JiraTracker(
            url=fake.url,
            project="OPS",
            conventions=CONV,
            deployment="cloud",
            email=fake_jira.EMAIL,
            token=fake_jira.TOKEN,
        )
    assert isinstance(fake, FakeGitHub)
    return GitHubTracker(
        repository=fake.full_name, token=fake_github.TOKEN, base_url=fake.url, conventions=CONV
    )


def issues(fake: FakeServer) -> list[tuple[str, list[str]]]:
    """Every issue on the fake as (key, labels), straight from its state."""
    if isinstance(fake, FakeJira):
        return [(k, list(i.labels)) for k, i in fake.issues.items()]
    assert isinstance(fake, FakeGitHub)
    return [(f"{fake.full_name}#{n}", list(i.labels)) for n, i in fake.issues.items()]


@dataclass
class Audit:
    """What the tracker holds for some event ids, against what each machine's journal kept."""

    observations: int = 0
    duplicates: int = 0
    """Event ids with more than one observation."""
    missing: int = 0
    without_evidence: int = 0
    """Observations lacking some evidence their journal entry kept."""
    undelivered: int = 0
    """Event ids whose journal entry (on any machine) is not done."""
    defects: int = 0
    """Open defects that are not closed duplicates."""
    folded: int = 0
    """Defects closed as duplicates of another (convergence)."""
    orphans: int = 0
    """Observations under a defect that was closed as a duplicate."""

    @property
    def ok(self) -> bool:
        return not (
            self.duplicates or self.missing or self.without_evidence or self.undelivered
        ) and (self.orphans == 0)

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


def audit(fake: FakeServer, machines: Iterable[Path], events: Iterable[str]) -> Audit:
    """One observation per event, holding every hash its entry kept; entries done."""
    tracker = client(fake)
    journals = [SqliteJournal(m / ".bridge" / "journal.db") for m in machines]
    out = Audit()
    try:
        held = issues(fake)
        # read by key: the fakes' searches may be lagging on purpose
        defects: list[Ticket] = [
            tracker.get(k) for k, labels in held if CONV.defect_label in labels
        ]
        closed = {d.key: d.duplicate_of for d in defects if d.duplicate_of}
        out.defects = sum(1 for d in defects if not d.duplicate_of)
        out.folded = len(closed)
        for event in events:
            label = CONV.event_label(event)
            made = [k for k, labels in held if label in labels]
            out.observations += len(made)
            out.duplicates += len(made) > 1
            out.missing += not made
            entries = [e for j in journals if (e := j.get(entry_id(event))) is not None]
            if not entries or any(e.state is not State.DONE for e in entries):
                out.undelivered += 1
                continue
            if made:
                ticket = tracker.get(made[0])
                if ticket.kind is Kind.OBSERVATION and ticket.parent in closed:
                    out.orphans += 1
                have = {r.sha256 for r in ticket.evidence}
                out.without_evidence += any(
                    not {i.sha256 for i in e.evidence} <= have for e in entries
                )
    finally:
        tracker.close()
        for journal in journals:
            journal.close()
    return out
