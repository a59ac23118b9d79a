"""The embedded journal: durable puts, leases, failures, the backlog, private files."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tracker_bridge.domain.tickets import EvidenceFile
from tracker_bridge.errors import JournalError, LeaseLost
from tracker_bridge.journal import Binding, NewEntry, State, current_owner, entry_id, owner_alive
from tracker_bridge.journal.sqlite import SqliteJournal

HERE = Binding("local", "/srv/bridge.db", "OPS")
WHEN = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def evidence(name: str, data: bytes, *, sensitive: bool = False) -> EvidenceFile:
    return EvidenceFile(name, data, f"file:{name}", WHEN, sensitive=sensitive)


def new(event_id: str = "alert-1", *files: EvidenceFile, **kw: object) -> NewEntry:
    payload = {"message": "Disk full", "instance": "db-1"}
    return NewEntry(event_id=event_id, binding=HERE, payload=payload, evidence=files, **kw)  # type: ignore[arg-type]


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def journal(tmp_path: Path, clock: Clock) -> SqliteJournal:
    j = SqliteJournal(tmp_path / ".bridge" / "journal.db", lease=60, clock=clock)
    yield j  # type: ignore[misc]
    j.close()


def test_put_keeps_the_sighting_and_its_evidence(journal: SqliteJournal, tmp_path: Path) -> None:
    entry, created = journal.put(new("alert-1", evidence("df.txt", b"100%"), evidence("a/b", b"x")))
    assert created and entry.state is State.PENDING and entry.id == entry_id("alert-1")
    assert entry.binding == HERE and entry.payload["message"] == "Disk full"
    assert [i.name for i in entry.evidence] == ["df.txt", "a/b"]
    assert journal.read_evidence(entry, entry.evidence[0]) == b"100%"
    files = sorted(p.name for p in (tmp_path / ".bridge" / "journal" / entry.id).iterdir())
    assert files == sorted(i.sha256 for i in entry.evidence)  # named by content, never by path
    assert journal.depth() == 1


def test_put_is_idempotent_and_the_first_sighting_wins(journal: SqliteJournal) -> None:
    first, _ = journal.put(new("alert-1", evidence("df.txt", b"first")))
    again, created = journal.put(new("alert-1", evidence("df.txt", b"second")))
    assert not created and again.id == first.id
    assert journal.read_evidence(again, again.evidence[0]) == b"first"
    assert journal.depth() == 1


def test_event_ids_that_look_alike_are_two_entries(journal: SqliteJournal) -> None:
    a, _ = journal.put(new("pagerduty/Q1ABC", evidence("a.txt", b"a")))
    b, created = journal.put(new("pagerduty:Q1ABC", evidence("b.txt", b"b")))
    assert created and a.id != b.id and journal.depth() == 2
    assert journal.read_evidence(a, a.evidence[0]) == b"a"
    assert journal.read_evidence(b, b.evidence[0]) == b"b"
    assert entry_id("x", "resolve") != entry_id("x")


def test_claim_leases_once_and_a_step_renews(journal: SqliteJournal, clock: Clock) -> None:
    entry, _ = journal.put(new())
    mine = journal.claim(entry.id, "me")
    assert mine is not None and mine.lease_owner == "me" and mine.attempts == 1
    assert journal.claim(entry.id, "other") is None  # "other" is not a local pid: alive
    assert journal.claim(entry.id, "me") is not None  # re-entrant, not another attempt
    clock.now += 50
    journal.record(entry.id, "me", "defect", '{"key": "OPS-1"}')
    clock.now += 50  # 100 s after the claim, 50 after the step: still held
    assert journal.claim(entry.id, "other") is None
    clock.now += 11
    taken = journal.claim(entry.id, "other")  # expired: taken over, steps kept
    assert taken is not None and taken.steps == {"defect": '{"key": "OPS-1"}'}
    assert taken.attempts == 2
    with pytest.raises(LeaseLost, match="no longer held"):
        journal.record(entry.id, "me", "observation", "OPS-2")


def test_a_dead_process_s_lease_is_taken_over_at_once(journal: SqliteJournal) -> None:
    entry, _ = journal.put(new())
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from tracker_bridge.journal import current_owner; print(current_owner(), flush=True);"
            "import time; time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    owner = child.stdout.readline().strip()
    assert journal.claim(entry.id, owner) is not None
    assert owner_alive(owner) and journal.claim(entry.id, current_owner()) is None
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    child.stdout.close()
    assert not owner_alive(owner)
    taken = journal.claim(entry.id, current_owner())
    assert taken is not None and taken.lease_owner == current_owner()


def test_fail_unavailable_waits_refused_keeps_the_answer(
    journal: SqliteJournal, clock: Clock
) -> None:
    entry, _ = journal.put(new("a"))
    journal.claim(entry.id, "me")
    down = journal.fail(entry.id, "me", "503 from the tracker", refused=False, retry_in=30)
    assert down.state is State.PENDING and down.lease_owner is None and "503" in down.why()
    assert journal.claim_next("w") is None  # not due yet
    clock.now += 31
    again = journal.claim_next("w")
    assert again is not None and again.id == entry.id
    refused = journal.fail(entry.id, "w", "401: the token was rejected", refused=True, status=401)
    assert refused.state is State.FAILED and refused.why() == (
        "refused (401): 401: the token was rejected"
    )
    assert journal.claim_next("w") is None and journal.depth() == 1
    claimed = journal.claim(entry.id, "w")  # failed entries are returned, not leased
    assert claimed is not None and claimed.state is State.FAILED and claimed.lease_owner is None
    assert journal.retry(entry.id[:12]).state is State.PENDING
    assert journal.claim_next("w") is not None


def test_claim_next_only_for_the_given_tracker(journal: SqliteJournal) -> None:
    elsewhere = Binding("jira", "https://example.atlassian.net", "OPS")
    journal.put(NewEntry("j-1", elsewhere, {"message": "x", "instance": "h"}))
    assert journal.claim_next("w", binding=HERE) is None
    journal.put(new("l-1"))
    got = journal.claim_next("w", binding=HERE)
    assert got is not None and got.event_id == "l-1"


def test_finish_deletes_the_evidence_and_keeps_the_row(
    journal: SqliteJournal, tmp_path: Path
) -> None:
    entry, _ = journal.put(new("a", evidence("secret.txt", b"password=hunter2"), unredacted=True))
    assert entry.unredacted and journal.entries()[0].to_json()["unredacted"] is True
    journal.claim(entry.id, "me")
    done = journal.finish(entry.id, "me")
    assert done.state is State.DONE and not done.evidence_kept and journal.depth() == 0
    assert not (tmp_path / ".bridge" / "journal" / entry.id).exists()
    again, created = journal.put(new("a", evidence("secret.txt", b"password=hunter2")))
    assert not created and again.state is State.DONE  # a re-run finds it delivered
    assert not (tmp_path / ".bridge" / "journal" / entry.id).exists()
    with pytest.raises(LeaseLost):
        journal.finish(entry.id, "me")


def test_drop_forgets_the_entry_and_its_evidence(journal: SqliteJournal, tmp_path: Path) -> None:
    entry, _ = journal.put(new("a", evidence("df.txt", b"1")))
    journal.put(new("b"))
    dropped = journal.drop(entry.id[:10])
    assert dropped.id == entry.id and journal.get(entry.id) is None and journal.depth() == 1
    assert not (tmp_path / ".bridge" / "journal" / entry.id).exists()
    with pytest.raises(JournalError, match="no journal entry"):
        journal.drop(entry.id)
    with pytest.raises(JournalError, match="no journal entry"):
        journal.retry("not-hex")


def test_entries_lists_the_backlog_oldest_first(journal: SqliteJournal, clock: Clock) -> None:
    for i in range(3):
        journal.put(new(f"e-{i}"))
        clock.now += 1
    assert [e.event_id for e in journal.entries()] == ["e-0", "e-1", "e-2"]
    assert [e.why() for e in journal.entries()] == ["not sent yet"] * 3


@pytest.mark.parametrize("umask", [0o022, 0o000])
def test_files_are_private_whatever_the_umask(tmp_path: Path, umask: int) -> None:
    old = os.umask(umask)
    try:
        root = tmp_path / "work" / ".bridge"
        journal = SqliteJournal(root / "journal.db")
        entry, _ = journal.put(new("a", evidence("df.txt", b"100%")))
        with journal.defect_lock("0123456789abcdef"):
            pass
        modes = {  # while open, so the -wal and -shm files are there too
            p.relative_to(tmp_path).as_posix(): p.stat().st_mode & 0o777
            for p in [root, *root.rglob("*")]
        }
        journal.close()
    finally:
        os.umask(old)
    for path, mode in modes.items():
        expected = 0o700 if (tmp_path / path).is_dir() else 0o600
        assert mode == expected, (path, oct(mode))
    assert f"work/.bridge/journal/{entry.id}/{entry.evidence[0].sha256}" in modes
    assert {"work/.bridge/journal.db-wal", "work/.bridge/journal.db-shm"} <= set(modes)
    assert (tmp_path / "work").stat().st_mode & 0o777 == 0o700  # made by us: private too


def test_an_unwritable_journal_says_what_to_do(tmp_path: Path) -> None:
    blocked = tmp_path / "ro"
    blocked.mkdir()
    (blocked / ".bridge").write_text("a file where the directory should be")
    with pytest.raises(JournalError, match="cannot open the journal") as err:
        SqliteJournal(blocked / ".bridge" / "journal.db")
    assert "nothing was sent" in str(err.value)


def test_defect_lock_serialises_processes(tmp_path: Path) -> None:
    journal = SqliteJournal(tmp_path / "journal.db")
    script = (
        "import sys, time; from tracker_bridge.journal.sqlite import SqliteJournal\n"
        "j = SqliteJournal(sys.argv[1])\n"
        "with j.defect_lock('fp'):\n"
        "    print('in', flush=True); time.sleep(0.5)\n"
    )
    with journal.defect_lock("fp"):
        child = subprocess.Popen(
            [sys.executable, "-c", script, str(tmp_path / "journal.db")],
            stdout=subprocess.PIPE,
            text=True,
        )
        time.sleep(0.8)
        assert child.poll() is None  # still waiting for the lock we hold
    assert child.stdout is not None and child.stdout.readline().strip() == "in"
    assert child.wait(timeout=10) == 0
    child.stdout.close()
    journal.close()


def test_put_many_keeps_a_batch_with_one_commit(journal: SqliteJournal) -> None:
    journal.put(new("b"))
    results = journal.put_many(
        [new("a", evidence("x", b"1")), new("b"), new("c", evidence("y", b"2")), new("a")]
    )
    assert [(e.event_id, created) for e, created in results] == [
        ("a", True),
        ("b", False),
        ("c", True),
        ("a", False),
    ]
    assert journal.depth() == 3
    [a, _, c, _] = [e for e, _ in results]
    assert journal.read_evidence(c, c.evidence[0]) == b"2" and a.evidence[0].name == "x"
