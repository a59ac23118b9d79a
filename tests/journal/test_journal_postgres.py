"""The shared journal on a real PostgreSQL: the Journal contract, and replicas racing on it.

The cluster is started by the session fixture ``postgres`` (``support/postgres.py``); each test
has a database of its own. "Replicas" are separate ``PostgresJournal`` connections (threads
here, processes in ``tests/serve/test_serve_replicas.py``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tracker_bridge.domain.conventions import Conventions
from tracker_bridge.domain.tickets import EvidenceFile, Kind, NewTicket, Ticket
from tracker_bridge.errors import JournalError, LeaseLost
from tracker_bridge.journal import open_journal
from tracker_bridge.journal.base import Binding, NewEntry, State
from tracker_bridge.journal.postgres import PostgresJournal
from tracker_bridge.settings import Settings
from tracker_bridge.trackers.local import LocalTracker
from tracker_bridge.workflows.deliver import Sighting, deliver

BINDING = Binding("local", "/srv/bridge.db", "OPS")


def evidence(name: str, data: bytes) -> EvidenceFile:
    return EvidenceFile(name, data, f"file:{name}", datetime(2026, 11, 30, tzinfo=UTC))


def sighting(
    event_id: str, message: str = "No space left on device", *files: EvidenceFile
) -> NewEntry:
    payload = Sighting(
        message=message,
        instance="replica-2",
        actions=(),
        observed_at=datetime(2026, 11, 30, 3, tzinfo=UTC),
        impact="",
        defect=None,
        new_defect=False,
    ).payload()
    return NewEntry(event_id=event_id, binding=BINDING, payload=payload, evidence=files)


@pytest.fixture
def journal(pg_url: str) -> Iterator[PostgresJournal]:
    j = PostgresJournal(pg_url, lease=30)
    yield j
    j.close()


def test_put_is_durable_idempotent_and_keeps_evidence(pg_url: str) -> None:
    first = PostgresJournal(pg_url)
    log = evidence("app.log", b"disk full at 03:00\n")
    entry, created = first.put(sighting("alert-1", "m", log))
    assert created and entry.state is State.PENDING and entry.binding == BINDING
    again, created_again = first.put(sighting("alert-1", "another message"))
    assert not created_again and again.payload["message"] == "m"  # the first sighting wins
    first.close()
    other = PostgresJournal(pg_url)  # another replica, another connection: it is there
    kept = other.get(entry.id)
    assert kept is not None
    assert other.read_evidence(kept, kept.evidence[0]) == b"disk full at 03:00\n"
    assert other.evidence_file(kept, kept.evidence[0]).data == b"disk full at 03:00\n"
    assert other.depth() == 1
    other.close()


def test_put_many_is_one_transaction_and_dedupes(journal: PostgresJournal) -> None:
    news = [sighting("a"), sighting("b"), sighting("a")]
    results = journal.put_many(news)
    assert [created for _, created in results] == [True, True, False]
    assert journal.depth() == 2


def test_claim_lease_record_finish_and_lease_lost(journal: PostgresJournal) -> None:
    entry, _ = journal.put(sighting("alert-2", "m", evidence("x.txt", b"x")))
    held = journal.claim(entry.id, "host/1/1/a")
    assert held is not None and held.lease_owner == "host/1/1/a" and held.attempts == 1
    assert journal.claim(entry.id, "host/2/2/b") is None  # a live holder keeps it
    assert journal.claim_next("host/2/2/b") is None
    journal.record(entry.id, "host/1/1/a", "defect", "{}")
    with pytest.raises(LeaseLost):
        journal.record(entry.id, "host/2/2/b", "defect", "{}")
    done = journal.finish(entry.id, "host/1/1/a")
    assert done.state is State.DONE and not done.evidence_kept and done.steps == {"defect": "{}"}
    assert journal.depth() == 0
    with pytest.raises(JournalError):
        journal.read_evidence(done, done.evidence[0])


def test_an_expired_lease_is_taken_over(pg_url: str) -> None:
    short = PostgresJournal(pg_url, lease=0.5)
    entry, _ = short.put(sighting("alert-3"))
    assert short.claim_next("other-host/1/1/a") is not None
    assert short.claim_next("other-host/2/2/b") is None
    time.sleep(0.7)
    taken = short.claim_next("other-host/2/2/b")
    assert taken is not None and taken.id == entry.id and taken.attempts == 2
    with pytest.raises(LeaseLost):
        short.record(entry.id, "other-host/1/1/a", "defect", "{}")
    short.close()


def test_fail_retry_drop_and_prefixes(journal: PostgresJournal) -> None:
    entry, _ = journal.put(sighting("alert-4"))
    journal.claim(entry.id, "w")
    waiting = journal.fail(entry.id, "w", "503 from Jira", refused=False, status=503, retry_in=60)
    assert waiting.state is State.PENDING and waiting.reason == "503 from Jira"
    assert journal.claim_next("w") is None  # not due for a minute
    journal.claim(entry.id, "w")
    refused = journal.fail(entry.id, "w", "403: no permission", refused=True, status=403)
    assert refused.state is State.FAILED and refused.why().startswith("refused (403)")
    assert journal.resolve_id(entry.id[:12]) == entry.id
    assert journal.retry(entry.short).state is State.PENDING
    assert journal.drop(entry.short).id == entry.id
    assert journal.get(entry.id) is None and journal.entries() == []


def test_replicas_polling_together_never_take_the_same_entry(pg_url: str) -> None:
    setup = PostgresJournal(pg_url)
    setup.put_many([sighting(f"e-{i}") for i in range(60)])
    setup.close()
    taken: dict[str, list[str]] = {}
    lock = threading.Lock()

    def replica(n: int) -> None:
        mine = PostgresJournal(pg_url)
        owner = f"replica-{n}/1/1"
        while (entry := mine.claim_next(owner)) is not None:
            with lock:
                taken.setdefault(entry.id, []).append(owner)
            mine.finish(entry.id, owner)
        mine.close()

    threads = [threading.Thread(target=replica, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(taken) == 60
    assert all(len(owners) == 1 for owners in taken.values())


class RacyTracker(LocalTracker):
    """A tracker that, like Jira and GitHub, cannot find-or-create a defect in one transaction
    (no ``find_or_create_defect``), with a pause between the lookup and the create that makes
    two unserialised workers both miss and both create."""

    find_or_create_defect = None  # type: ignore[assignment]

    def find_by_fingerprint(self, fingerprint: str) -> Ticket | None:
        found = super().find_by_fingerprint(fingerprint)
        time.sleep(0.3)
        return found

    def create(self, new: NewTicket) -> Ticket:
        return super().create(new)


def _race(tmp_path: Path, journals: list[Any]) -> int:
    """Two replicas deliver two sightings of one brand-new message at the same moment."""
    tracker_path = tmp_path / "tracker.db"
    LocalTracker(tracker_path).close()
    start = threading.Barrier(len(journals))
    errors: list[BaseException] = []

    def replica(n: int, journal: Any) -> None:
        tracker = RacyTracker(tracker_path)
        entry, _ = journal.put(sighting(f"race-{n}", "gazelle firmware wobble failed"))
        start.wait()
        try:
            deliver(tracker, journal, Conventions(), entry.id, owner=f"replica-{n}/1/1")
        except BaseException as exc:
            errors.append(exc)
        tracker.close()

    threads = [threading.Thread(target=replica, args=(n, j)) for n, j in enumerate(journals)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    check = LocalTracker(tracker_path)
    defects = [t for t in check.scan("") if t.kind is Kind.DEFECT]
    check.close()
    return len(defects)


def test_two_replicas_same_new_message_same_moment_make_one_defect(
    pg_url: str, tmp_path: Path
) -> None:
    replicas = [PostgresJournal(pg_url), PostgresJournal(pg_url)]
    assert _race(tmp_path, replicas) == 1
    for j in replicas:
        j.close()


def test_without_the_shared_lock_the_same_race_makes_two(pg_url: str, tmp_path: Path) -> None:
    """The control: the race above is real, so the advisory lock is what prevents it."""
    from contextlib import nullcontext

    class Unlocked(PostgresJournal):
        def defect_lock(self, fingerprint: str) -> Any:
            return nullcontext()

    replicas = [Unlocked(pg_url), Unlocked(pg_url)]
    assert _race(tmp_path, replicas) == 2
    for j in replicas:
        j.close()


def test_configured_by_url_from_the_environment(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BRIDGE_QUEUE__URL", pg_url)
    journal = open_journal(Settings.load())
    assert isinstance(journal, PostgresJournal)
    journal.close()


def test_an_unreachable_database_says_what_to_do(postgres: Any) -> None:
    with pytest.raises(JournalError, match="BRIDGE_QUEUE__URL") as caught:
        PostgresJournal("postgresql://bridge:s3cret@127.0.0.1:1/none", connect_timeout=2)
    assert "s3cret" not in str(caught.value)


def test_the_defect_made_for_a_fingerprint_is_shared_by_replicas(pg_url: str) -> None:
    one, two = PostgresJournal(pg_url), PostgresJournal(pg_url)
    assert two.defect_made("fp-1") is None
    with one.defect_lock("fp-1"):
        one.remember_defect("fp-1", "OPS-7")
    assert two.defect_made("fp-1") == "OPS-7"
    one.close()
    two.close()
