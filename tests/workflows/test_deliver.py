"""The delivery pipeline: resumable at every step, refusals kept, done only when read back."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tracker_bridge.domain.conventions import Conventions
from tracker_bridge.domain.tickets import EvidenceFile, EvidenceRef, Kind, NewTicket, Ticket
from tracker_bridge.errors import DeliveryDeferred, DeliveryRefused, TrackerRefused, UsageError
from tracker_bridge.journal import Binding, State
from tracker_bridge.journal.base import Journal
from tracker_bridge.journal.sqlite import SqliteJournal
from tracker_bridge.trackers.base import AtomicDefects
from tracker_bridge.trackers.local import LocalTracker
from tracker_bridge.workflows import observe, replay
from tracker_bridge.workflows.observe import Request

CONV = Conventions()
WHEN = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
FILES = tuple(
    EvidenceFile(f"f{i}.txt", f"content {i}\n".encode(), f"file:f{i}.txt", WHEN) for i in range(3)
)


class Crash(BaseException):
    """Stands for kill -9: nothing after it runs in this attempt (not an Exception)."""


class Crashing(LocalTracker):
    """A local tracker that dies after its ``crash_after``-th write."""

    crash_after = 10**9
    writes = 0

    def _tick(self) -> None:
        self.writes += 1
        if self.writes == self.crash_after:
            raise Crash

    def create(self, new: NewTicket) -> Ticket:
        made = super().create(new)
        self._tick()
        return made

    def find_or_create_defect(self, fingerprint: str, new: NewTicket) -> tuple[Ticket, bool]:
        made = super().find_or_create_defect(fingerprint, new)
        self._tick()
        return made

    def attach(self, key: str, files: Sequence[EvidenceFile]) -> list[EvidenceRef]:
        refs = super().attach(key, files)
        self._tick()
        return refs

    def reopen(self, key: str) -> None:
        super().reopen(key)
        self._tick()

    def comment(self, key: str, text: str) -> None:
        super().comment(key, text)
        self._tick()


@pytest.fixture
def journal(tmp_path: Path) -> Journal:
    with closing(SqliteJournal(tmp_path / ".bridge" / "journal.db")) as j:
        yield j  # type: ignore[misc]


def sighting(event_id: str = "alert-1", message: str = "Disk full", **kw: object) -> Request:
    return Request(message=message, instance="db-1", evidence=FILES, event_id=event_id, **kw)  # type: ignore[arg-type]


def observations(tracker: LocalTracker) -> list[Ticket]:
    return [t for t in tracker.scan("Handle") if t.kind is Kind.OBSERVATION]


def defects(tracker: LocalTracker) -> list[Ticket]:
    return list(tracker.defects())


@pytest.mark.parametrize("crash_after", [1, 2, 3])
@pytest.mark.parametrize("event_id", ["alert-1", ""])
def test_a_crash_after_any_write_is_resumed_to_completion(
    journal: Journal, crash_after: int, event_id: str
) -> None:
    tracker = Crashing(":memory:")
    tracker.crash_after = crash_after  # 1: the defect, 2: the observation, 3: the upload
    with pytest.raises(Crash):
        observe.run(tracker, CONV, sighting(event_id), journal=journal)
    [kept] = journal.entries()
    assert kept.state is State.PENDING and kept.lease_owner is None
    result = observe.resume(tracker, CONV, journal, kept.id)
    assert [len(defects(tracker)), len(observations(tracker))] == [1, 1]
    [obs] = observations(tracker)
    assert {r.sha256 for r in obs.evidence} == {f.sha256 for f in FILES}
    assert result.observation == obs.key and len(result.evidence) == 3
    assert journal.depth() == 0 and journal.get(kept.id).state is State.DONE  # type: ignore[union-attr]
    if event_id:  # the same command again: delivered, nothing sent
        again = observe.run(tracker, CONV, sighting(event_id), journal=journal)
        assert again.replayed and again.observation == obs.key
        assert len(observations(tracker)) == 1


def test_an_observation_made_but_not_recorded_is_found_by_its_marker(
    journal: Journal, monkeypatch: pytest.MonkeyPatch
) -> None:
    tracker = LocalTracker(":memory:")
    real = journal.record

    def record(entry_id: str, owner: str, step: str, value: str) -> None:
        if step == "observation":
            raise Crash  # the create reached the tracker; its record did not reach the disk
        real(entry_id, owner, step, value)

    monkeypatch.setattr(journal, "record", record)
    with pytest.raises(Crash):
        observe.run(tracker, CONV, sighting(""), journal=journal)
    monkeypatch.setattr(journal, "record", real)
    [kept] = journal.entries()
    result = observe.resume(tracker, CONV, journal, kept.id)
    assert len(observations(tracker)) == 1 and len(result.evidence) == 3
    assert result.resumed


def test_a_refusal_keeps_the_sighting_with_the_answer(journal: Journal) -> None:
    class Refusing(LocalTracker):
        def _insert(self, new: NewTicket) -> str:
            raise TrackerRefused("Jira refused: field 'priority' is required.", status=400)

    with pytest.raises(DeliveryRefused) as err:
        observe.run(Refusing(":memory:"), CONV, sighting(), journal=journal)
    assert err.value.exit_code == 2 and err.value.status == 400
    assert "kept in the journal" in str(err.value) and "bridge replay" in str(err.value)
    [kept] = journal.entries()
    assert kept.state is State.FAILED and "priority" in kept.reason and kept.status == 400
    assert journal.read_evidence(kept, kept.evidence[0]) == FILES[0].data  # the capture is kept
    fixed = LocalTracker(":memory:")
    done = replay.run(fixed, journal, CONV, Binding("library", "memory", ""), journal.entries())
    assert len(done.sent) == 1 and done.left == 0 and not done.refused
    done.raise_for_problems()
    assert len(observations(fixed)) == 1 and len(observations(fixed)[0].evidence) == 3


def test_a_bad_request_is_refused_before_any_write(journal: Journal) -> None:
    tracker = LocalTracker(":memory:")
    with pytest.raises(DeliveryRefused, match="OPS-404") as err:
        observe.run(tracker, CONV, sighting(defect="OPS-404"), journal=journal)
    assert err.value.exit_code == 2  # refused as given: nothing was made
    assert defects(tracker) == [] and journal.entries()[0].state is State.FAILED


def test_done_only_when_the_tracker_holds_every_file(journal: Journal) -> None:
    class Lossy(LocalTracker):
        """Accepts an upload and silently keeps only the first file (until fixed)."""

        lossy = True

        def attach(self, key: str, files: Sequence[EvidenceFile]) -> list[EvidenceRef]:
            return super().attach(key, files[:1] if self.lossy else files)

    tracker = Lossy(":memory:")
    with pytest.raises(DeliveryDeferred, match=r"does not hold f1\.txt, f2\.txt"):
        observe.run(tracker, CONV, sighting(), journal=journal)
    [kept] = journal.entries()
    assert kept.state is State.PENDING and "read back" in kept.reason
    tracker.lossy = False
    result = observe.resume(tracker, CONV, journal, kept.id)
    assert len(result.evidence) == 3 and len(observations(tracker)) == 1


def test_trackers_without_atomic_creation_use_the_fingerprint_lock(journal: Journal) -> None:
    class Remote:
        """The embedded tracker without its one-transaction find-or-create (as Jira today)."""

        def __init__(self) -> None:
            self.inner = LocalTracker(":memory:")
            self.lookups = 0

        def __getattr__(self, name: str) -> object:
            if name == "find_or_create_defect":
                raise AttributeError(name)
            return getattr(self.inner, name)

        def marked_defects(self, fingerprint: str) -> list[Ticket]:
            self.lookups += 1
            return [d for d in self.inner.defects() if fingerprint in d.fingerprints]

    tracker = Remote()
    assert not isinstance(tracker, AtomicDefects)
    first = observe.run(tracker, CONV, sighting("a"), journal=journal)  # type: ignore[arg-type]
    assert tracker.lookups == 1  # looked up again under the lock before creating
    second = observe.run(tracker, CONV, sighting("b"), journal=journal)  # type: ignore[arg-type]
    assert first.defect_created and second.defect == first.defect and not second.defect_created
    assert len(defects(tracker.inner)) == 1


def test_an_event_kept_for_another_tracker_is_not_sent_here(journal: Journal) -> None:
    jira = Binding("jira", "https://example.atlassian.net", "OPS")
    here = Binding("local", "/srv/bridge.db", "OPS")

    class Down(LocalTracker):
        def capabilities(self):  # type: ignore[no-untyped-def]
            from tracker_bridge.errors import TrackerUnavailable

            raise TrackerUnavailable("connection refused")

    with pytest.raises(DeliveryDeferred):
        observe.run(Down(":memory:"), CONV, sighting(), journal=journal, binding=jira)
    tracker = LocalTracker(":memory:")
    with pytest.raises(UsageError, match=r"kept for jira https://example\.atlassian\.net"):
        observe.run(tracker, CONV, sighting(), journal=journal, binding=here)
    done = replay.run(tracker, journal, CONV, here, journal.entries())
    assert not done.sent and [e.binding for e in done.elsewhere] == [jira]
    with pytest.raises(UsageError, match="never delivered to another tracker"):
        done.raise_for_problems()
    assert defects(tracker) == [] and journal.depth() == 1


def test_recurrence_steps_run_once_across_a_crash(journal: Journal) -> None:
    tracker = Crashing(":memory:")
    first = observe.run(tracker, CONV, sighting("a"), journal=journal)
    tracker.resolve(first.defect or "")
    tracker.crash_after = tracker.writes + 3  # observation 2 created, then dead before upload
    with pytest.raises(Crash):
        observe.run(tracker, CONV, sighting("b"), journal=journal)
    [kept] = journal.entries()
    assert {"defect", "reopen"} <= set(kept.steps)
    result = observe.resume(tracker, CONV, journal, kept.id)
    assert result.recurrence == "reopened" and not tracker.get(first.defect or "").is_done
    reopened = [c for c in tracker.comments(first.defect or "") if c.startswith("Reopened")]
    assert len(reopened) == 1 and len(observations(tracker)) == 2


def test_a_defect_with_an_evidence_index_gets_it_refreshed(journal: Journal) -> None:
    from tracker_bridge.workflows.sync import INDEX_NAME, roll_up

    tracker = LocalTracker(":memory:")
    first = observe.run(tracker, CONV, sighting("a"), journal=journal)
    roll_up(tracker, first.defect or "")
    before = [r for r in tracker.get(first.defect or "").evidence if r.name == INDEX_NAME]
    second = observe.run(tracker, CONV, sighting("b", message="Disk full"), journal=journal)
    after = [r for r in tracker.get(first.defect or "").evidence if r.name == INDEX_NAME]
    assert second.defect == first.defect and len(after) == len(before) + 1
    assert (second.observation or "?").encode() in tracker.blob(after[-1].sha256)
