"""The observe workflow on the memory tracker: matching, idempotency, recurrence, nothing half-made."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from tracker_bridge.domain.conventions import Conventions
from tracker_bridge.domain.tickets import EvidenceFile, Kind, NewTicket, Status, Ticket
from tracker_bridge.errors import (
    DeliveryDeferred,
    DeliveryRefused,
    NotFoundError,
    TrackerUnavailable,
    UsageError,
)
from tracker_bridge.journal import State
from tracker_bridge.journal.sqlite import SqliteJournal
from tracker_bridge.trackers.base import Capabilities
from tracker_bridge.trackers.local import LocalTracker
from tracker_bridge.workflows import decide, observe
from tracker_bridge.workflows.observe import Request


@pytest.fixture
def tracker() -> LocalTracker:
    return LocalTracker(":memory:")


CONV = Conventions()


def rec(tracker: LocalTracker, message: str, instance: str = "replica-2", **kw: object):
    return run(tracker, CONV, Request(message=message, instance=instance, **kw))  # type: ignore[arg-type]


def run(tracker: LocalTracker, conventions: Conventions, request: Request) -> observe.Result:
    """observe with a journal of its own for this one call (as a fresh process would have)."""
    with closing(SqliteJournal(":memory:")) as journal:
        return observe.run(tracker, conventions, request, journal=journal)


def count(tracker: LocalTracker) -> int:
    return len(list(tracker.scan("Handle")))


def test_first_sighting_creates_defect_and_observation(tracker: LocalTracker) -> None:
    result = rec(tracker, "No space left on device", actions=("wiped /tmp",))
    assert result.defect_created and result.matched_by == "new"
    obs = tracker.get(result.observation or "")
    assert obs.title == 'Handle: "No space left on device" on "replica-2"'
    assert obs.kind is Kind.OBSERVATION and obs.parent == result.defect
    assert obs.actions == ("wiped /tmp",)
    defect = tracker.get(result.defect or "")
    assert defect.kind is Kind.DEFECT and result.fingerprint.key in defect.fingerprints


def test_second_sighting_finds_known_defect(tracker: LocalTracker) -> None:
    first = rec(tracker, "No space left on device")
    second = rec(tracker, "No space left on device", "replica-1")
    assert (second.defect, second.defect_created, second.matched_by) == (
        first.defect,
        False,
        "fingerprint",
    )
    assert len(tracker.tree(first.defect or "").observations) == 2


@pytest.mark.parametrize(
    ("one", "two"),
    [
        (
            "Connection to 10.0.0.7:5432 timed out after 30s",
            "Connection to 10.0.0.9:5432 timed out after 45s",
        ),
        ("Disk /dev/sda1 is 97% full", "Disk /dev/nvme0n1p2 is 99% full"),
        ("Failed to open /var/lib/app/data/1234.db", "Failed to open /var/lib/app/data/9876.db"),
        (
            "request 3f2a9c1e-0b7d-4c1a-9e3f-2d1c0b9a8f7e failed",
            "request 0b7d4c1a-3f2a-9c1e-9e3f-2d1c0b9a8f7e failed",
        ),
        ("Job 'nightly-backup' exceeded 512MB", "Job 'nightly-backup' exceeded 2GB"),
        ("segfault at 0x7f3a2b1c in worker", "segfault at 0xdeadbeef in worker"),
    ],
)
def test_variable_parts_reach_the_same_defect(tracker: LocalTracker, one: str, two: str) -> None:
    first = rec(tracker, one)
    second = rec(tracker, two)
    assert second.defect == first.defect
    assert not second.defect_created


@pytest.mark.parametrize(
    ("one", "two"),
    [
        ("No space left on device", "Permission denied"),
        ("Connection refused by database", "Connection reset by peer"),
        ("Out of memory: killed process 1234", "Disk quota exceeded for uid 1003"),
    ],
)
def test_different_messages_do_not_merge(tracker: LocalTracker, one: str, two: str) -> None:
    assert rec(tracker, one).defect != rec(tracker, two).defect


def test_explicit_defect_and_new_defect_override(tracker: LocalTracker) -> None:
    a = rec(tracker, "No space left on device")
    b = rec(tracker, "Permission denied", defect=a.defect)
    assert (b.defect, b.matched_by) == (a.defect, "explicit")
    c = rec(tracker, "No space left on device", new_defect=True)
    assert c.defect != a.defect and c.defect_created and c.matched_by == "new"


def test_explicit_defect_must_be_a_defect(tracker: LocalTracker) -> None:
    a = rec(tracker, "No space left on device")
    before = count(tracker)
    # the request cannot be delivered as given: refused (exit 2), with the reason, nothing made
    with pytest.raises(DeliveryRefused, match="not a defect") as err:
        rec(tracker, "x", defect=a.observation)
    assert isinstance(err.value.__cause__, UsageError)
    with pytest.raises(DeliveryRefused, match="OPS-999") as err:
        rec(tracker, "x", defect="OPS-999")
    assert isinstance(err.value.__cause__, NotFoundError)
    assert count(tracker) == before


def test_event_id_makes_observe_idempotent(tracker: LocalTracker) -> None:
    first = rec(tracker, "No space left on device", event_id="alert-42")
    again = rec(tracker, "No space left on device", event_id="alert-42")
    assert again.replayed and again.observation == first.observation
    assert again.defect == first.defect and not again.defect_created
    assert count(tracker) == 2


def test_at_is_stored_in_utc(tracker: LocalTracker) -> None:
    local = datetime(2026, 11, 20, 23, 30, tzinfo=timezone(timedelta(hours=-5)))
    result = rec(tracker, "Disk full", observed_at=local)
    assert tracker.get(result.observation or "").observed_at == datetime(
        2026, 11, 21, 4, 30, tzinfo=UTC
    )


@pytest.mark.parametrize(
    ("message", "instance"), [("", "h"), ("   \n", "h"), ("x", ""), ("x", "h" * 300)]
)
def test_bad_input_creates_nothing(tracker: LocalTracker, message: str, instance: str) -> None:
    with pytest.raises(UsageError):
        rec(tracker, message, instance)
    assert count(tracker) == 0


def test_dry_run_creates_nothing(tracker: LocalTracker) -> None:
    result = rec(tracker, "Disk full", dry_run=True)
    assert result.dry_run and result.observation is None and result.matched_by == "new"
    assert count(tracker) == 0


def test_similar_match_remembers_fingerprint(tracker: LocalTracker) -> None:
    first = rec(tracker, "User alice failed login from console")
    second = rec(tracker, "User bob failed login from console")
    assert second.matched_by == "similar" and second.defect == first.defect
    assert second.fingerprint.key != first.fingerprint.key
    defect = tracker.get(first.defect or "")
    assert second.fingerprint.key in defect.fingerprints
    third = rec(tracker, "User bob failed login from console")
    assert third.matched_by == "fingerprint" and third.defect == first.defect


@pytest.mark.parametrize("policy", ["reopen", "new-defect", "comment"])
def test_recurrence_policies(tracker: LocalTracker, policy: str) -> None:
    conv = Conventions(on_recurrence=policy)  # type: ignore[arg-type]
    first = run(tracker, conv, Request(message="Disk full", instance="a"))
    tracker.resolve(first.defect or "")
    again = run(tracker, conv, Request(message="Disk full", instance="b"))
    old = tracker.get(first.defect or "")
    if policy == "reopen":
        assert again.recurrence == "reopened" and old.status is Status.OPEN
        assert again.defect == old.key and any("Reopened" in c for c in tracker.comments(old.key))
    elif policy == "new-defect":
        assert again.recurrence == "new-defect" and again.defect != old.key and again.defect_created
        assert old.status is Status.DONE
        assert old.key in [t.key for t in tracker.tree(again.defect or "").related]
    else:
        assert again.recurrence == "commented" and old.status is Status.DONE
        assert any(again.observation or "?" in c for c in tracker.comments(old.key))


class _Limited(LocalTracker):
    def capabilities(self) -> Capabilities:
        return Capabilities(upload_limit=1000)


def _file(name: str, data: bytes) -> EvidenceFile:
    return EvidenceFile(name=name, data=data, source=f"file:{name}", captured_at=datetime.now(UTC))


def test_upload_limit_compresses_or_refuses() -> None:
    tracker = _Limited(":memory:")
    ok = rec(tracker, "Disk full", evidence=(_file("big.log", b"a" * 50_000),))  # type: ignore[arg-type]
    assert [r.name for r in ok.evidence] == ["big.log.gz"]
    import os

    before = count(tracker)
    with pytest.raises(DeliveryRefused, match="upload limit of 1000 B"):
        rec(tracker, "Disk full", evidence=(_file("rand.bin", os.urandom(5000)),))  # type: ignore[arg-type]
    assert count(tracker) == before
    with pytest.raises(DeliveryRefused, match="upload limit of 1000 B"):  # refused before any write
        rec(tracker, "Never seen before", evidence=(_file("rand.bin", os.urandom(5000)),))  # type: ignore[arg-type]
    assert count(tracker) == before


class _Down(LocalTracker):
    """Answers reads, fails every create (the defect's and the observation's)."""

    def _insert(self, new: NewTicket) -> str:
        raise TrackerUnavailable("create failed after 6 attempt(s): 503")


def test_tracker_down_keeps_observation_for_replay(tmp_path: Path) -> None:
    down = _Down(":memory:")
    journal = SqliteJournal(tmp_path / "journal.db")
    request = Request(
        message="Disk full",
        instance="db-1",
        event_id="alert-7",
        evidence=(_file("df.txt", b"100%"),),
        actions=("wiped /tmp",),
    )
    with pytest.raises(DeliveryDeferred) as err:
        observe.run(down, CONV, request, journal=journal)
    assert "kept in the journal" in str(err.value) and "bridge replay" in str(err.value)
    [kept] = journal.entries()
    assert kept.state is State.PENDING and kept.reason and kept.id == err.value.entry_id
    up = LocalTracker(":memory:")
    replayed = observe.resume(up, CONV, journal, kept.id)
    again = observe.resume(up, CONV, journal, kept.id)
    assert again.observation == replayed.observation and again.replayed
    obs = up.get(replayed.observation or "")
    assert obs.actions == ("wiped /tmp",) and [e.name for e in obs.evidence] == ["df.txt"]
    assert count(up) == 2 and journal.depth() == 0


class _Counting(LocalTracker):
    lookups = 0

    def find_by_fingerprint(self, fingerprint: str) -> Ticket | None:
        self.lookups += 1
        return super().find_by_fingerprint(fingerprint)


def test_beyond_one_page_of_defects() -> None:
    tracker = _Counting(":memory:")
    words = [
        "alpha",
        "bravo",
        "charlie",
        "delta",
        "echo",
        "foxtrot",
        "golf",
        "hotel",
        "india",
        "juliet",
        "kilo",
    ]
    messages = [f"{a} subsystem {b} failed hard" for a in words for b in words][: decide.PAGE + 20]
    keys = [rec(tracker, m, new_defect=True).defect for m in messages]
    assert tracker.lookups == 0
    late = rec(tracker, messages[-1])  # its defect is not on the first page
    assert (late.defect, late.matched_by) == (keys[-1], "fingerprint")
    assert tracker.lookups == 1
    early = rec(tracker, messages[3])  # on the first page: no indexed lookup needed
    assert (early.defect, early.matched_by, tracker.lookups) == (keys[3], "fingerprint", 1)
    fresh = rec(tracker, "Kernel panic not syncing")
    assert fresh.defect_created and tracker.lookups == 2


class _Unreachable(LocalTracker):
    def capabilities(self) -> Capabilities:
        raise TrackerUnavailable("connecting failed after 6 attempt(s): connection refused")

    def defects(self) -> Iterator[Ticket]:  # the first request when there is no evidence
        raise TrackerUnavailable("connecting failed after 6 attempt(s): connection refused")


def test_tracker_down_from_the_first_request_keeps_observation(tmp_path: Path) -> None:
    journal = SqliteJournal(tmp_path / "journal.db")
    request = Request(message="Disk full", instance="db-1", evidence=(_file("df.txt", b"100%"),))
    with pytest.raises(DeliveryDeferred, match="kept in the journal"):
        observe.run(_Unreachable(":memory:"), CONV, request, journal=journal)
    [kept] = journal.entries()
    up = LocalTracker(":memory:")
    result = observe.resume(up, CONV, journal, kept.id)
    assert [e.name for e in up.get(result.observation or "").evidence] == ["df.txt"]
    with pytest.raises(TrackerUnavailable):  # a dry run has nothing to keep
        observe.run(_Unreachable(":memory:"), CONV, Request("x", "h", dry_run=True), journal=None)
    assert journal.depth() == 0 and len(journal.entries([State.DONE])) == 1
