"""The in-memory journal keeps the same contract as the embedded one (what survives aside)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tracker_bridge.domain.tickets import EvidenceFile
from tracker_bridge.errors import JournalError, LeaseLost
from tracker_bridge.journal import Binding, Journal, NewEntry, State, entry_id
from tracker_bridge.journal.memory import MemoryJournal

HERE = Binding("local", "/srv/bridge.db", "OPS")


class Clock:
    now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def new(event_id: str, data: bytes = b"") -> NewEntry:
    files = (EvidenceFile("df.txt", data, "file:df.txt", datetime.now(UTC)),) if data else ()
    return NewEntry(event_id, HERE, {"message": "Disk full", "instance": "h"}, files)


def test_it_is_a_journal_with_the_same_contract() -> None:
    clock = Clock()
    journal = MemoryJournal(lease=60, clock=clock)
    assert isinstance(journal, Journal)
    first, created = journal.put(new("pagerduty/Q1ABC", b"a"))
    assert created and first.id == entry_id("pagerduty/Q1ABC")
    assert not journal.put(new("pagerduty/Q1ABC", b"b"))[1]
    assert journal.put(new("pagerduty:Q1ABC"))[1] and journal.depth() == 2
    assert journal.read_evidence(first, first.evidence[0]) == b"a"
    assert journal.claim(first.id, "me") is not None and journal.claim(first.id, "x") is None
    journal.record(first.id, "me", "defect", "{}")
    clock.now += 61
    taken = journal.claim(first.id, "x")
    assert taken is not None and taken.steps == {"defect": "{}"} and taken.attempts == 2
    with pytest.raises(LeaseLost):
        journal.record(first.id, "me", "observation", "{}")
    refused = journal.fail(first.id, "x", "401", refused=True, status=401)
    assert refused.state is State.FAILED and journal.claim_next("x") is not None  # the other one
    assert journal.retry(first.id[:12]).state is State.PENDING
    journal.claim(first.id, "x")
    done = journal.finish(first.id, "x")
    assert done.state is State.DONE and not done.evidence_kept
    with pytest.raises(JournalError):
        journal.read_evidence(done, done.evidence[0])
    assert journal.drop(entry_id("pagerduty:Q1ABC")).event_id == "pagerduty:Q1ABC"
    assert journal.depth() == 0
