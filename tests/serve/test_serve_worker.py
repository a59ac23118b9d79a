"""The worker of `bridge serve`: alerts kept in the journal reach the tracker as observations.

Fire, repeat, resolve and re-fire through the HTTP app, then let the worker drain the journal
into a real local tracker; the request budget, Retry-After and a stop while waiting.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import pytest
from pydantic import SecretStr
from starlette.testclient import TestClient

from tracker_bridge.domain.tickets import Kind, NewTicket
from tracker_bridge.errors import TrackerUnavailable
from tracker_bridge.journal.base import Binding, State
from tracker_bridge.journal.sqlite import SqliteJournal
from tracker_bridge.serve.metrics import ServeMetrics
from tracker_bridge.serve.server import build_app
from tracker_bridge.serve.worker import Stopping, TokenBucket, Worker
from tracker_bridge.settings import ServeSettings, Settings
from tracker_bridge.trackers.base import Tracker
from tracker_bridge.trackers.local import LocalTracker
from tracker_bridge.workflows.show import tree_json

TOKEN = "t0ken-for-worker-tests"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
BINDING = Binding("local", "test", "OPS")


class Service:
    """The app and a worker on one journal and one local tracker (no threads: ``drain``)."""

    def __init__(self, tmp_path: Path, **serve: Any) -> None:
        self.settings = Settings(serve=ServeSettings(token=SecretStr(TOKEN), **serve))
        self.journal = SqliteJournal(tmp_path / "journal.db", inline_evidence=True)
        self.tracker = LocalTracker(tmp_path / "tracker.db")
        self.metrics = ServeMetrics()
        self.client = TestClient(
            build_app(self.settings, self.journal, BINDING, metrics=self.metrics)
        )
        self.worker = Worker(
            self.tracker,
            self.journal,
            self.settings.conventions_value(),
            BINDING,
            rate=1000.0,
            metrics=self.metrics,
        )

    def alert(self, status: str, start: str, *, instance: str = "replica-2", end: str = "") -> None:
        payload = {
            "version": "4",
            "status": status,
            "alerts": [
                {
                    "status": status,
                    "labels": {"alertname": "DiskFull", "instance": instance},
                    "annotations": {"summary": "No space left on device"},
                    "startsAt": start,
                    "endsAt": end or "0001-01-01T00:00:00Z",
                    "fingerprint": f"fp-{instance}",
                }
            ],
        }
        r = self.client.post("/alerts/alertmanager", json=payload, headers=AUTH)
        assert r.status_code == 202, r.text

    def drain(self, limit: int = 100) -> int:
        """Deliver what is due; how many entries were handled."""
        n = 0
        while n < limit and self.worker.step():
            n += 1
        return n

    def observations(self) -> list[Any]:
        return [t for t in self.tracker.scan("") if t.kind is Kind.OBSERVATION]

    def defects(self) -> list[Any]:
        return list(self.tracker.defects())

    def close(self) -> None:
        self.tracker.close()
        self.journal.close()


@pytest.fixture
def svc(tmp_path: Path) -> Iterator[Service]:
    s = Service(tmp_path)
    yield s
    s.close()


T0 = "2026-11-30T03:00:00Z"
T1 = "2026-11-30T03:20:00Z"
T2 = "2026-11-30T04:00:00Z"


def test_fire_repeat_resolve_refire_one_observation_per_firing_period(svc: Service) -> None:
    svc.alert("firing", T0)
    svc.alert("firing", T0)  # repeat interval / HA twin
    assert svc.drain() == 1
    [defect] = svc.defects()
    [first] = svc.observations()
    assert first.parent == defect.key and first.instance == "replica-2"
    assert [e.name for e in first.evidence] == ["alert.json"]
    assert first.observed_at == datetime(2026, 11, 30, 3, 0, tzinfo=UTC)

    svc.alert("resolved", T0, end=T1)
    svc.alert("resolved", T0, end=T1)  # the resolved notification repeated
    svc.alert("firing", T0)  # a late HA twin of the same firing: still the same sighting
    assert svc.drain() == 1
    ended = svc.tracker.get(first.key)
    assert ended.resolved_at == datetime(2026, 11, 30, 3, 20, tzinfo=UTC)
    assert ended.duration == timedelta(minutes=20)
    assert not ended.is_done  # close_on_resolve is off by default
    shown = tree_json(svc.tracker.tree(defect.key))
    assert shown["observations"][0]["resolved_at"] == "2026-11-30T03:20:00+00:00"
    assert shown["observations"][0]["duration"] is not None
    assert tree_json(svc.tracker.tree(first.key))["duration_minutes"] == 20

    svc.alert("firing", T2)  # fires again after it resolved: a new sighting
    assert svc.drain() == 1
    assert len(svc.observations()) == 2 and len(svc.defects()) == 1
    assert svc.journal.depth() == 0
    metrics = svc.client.get("/metrics").text
    assert 'bridge_tracker_requests_total{tracker="local:' in metrics


def test_close_on_resolve_closes_the_observation(tmp_path: Path) -> None:
    svc = Service(tmp_path, close_on_resolve=True)
    svc.alert("firing", T0)
    svc.alert("resolved", T0, end=T1)
    assert svc.drain() == 2
    [obs] = svc.observations()
    assert obs.is_done and obs.resolved_at is not None
    svc.close()


def test_resolve_arriving_alone_makes_the_sighting_and_ends_it(svc: Service) -> None:
    svc.alert("resolved", T0, end=T1)  # the service was down while it fired
    assert svc.drain() == 2
    [obs] = svc.observations()
    assert obs.resolved_at == datetime(2026, 11, 30, 3, 20, tzinfo=UTC)


def test_resolve_waits_for_its_firing(svc: Service) -> None:
    svc.alert("firing", T0)
    svc.alert("resolved", T0, end=T1)
    [firing, resolve] = svc.journal.entries()
    svc.worker.handle(resolve)  # taken first: it must not touch the tracker yet
    waiting = svc.journal.get(resolve.id)
    assert waiting is not None and waiting.state is State.PENDING and "firing" in waiting.reason
    assert svc.observations() == []
    svc.worker.handle(firing)
    svc.journal.retry(resolve.id)
    assert svc.drain() == 1
    [obs] = svc.observations()
    assert obs.resolved_at is not None


def test_a_done_defect_is_reopened_by_a_new_firing(svc: Service) -> None:
    svc.alert("firing", T0)
    svc.drain()
    [defect] = svc.defects()
    svc.tracker.resolve(defect.key)
    svc.alert("firing", T2)
    svc.drain()
    assert not svc.tracker.get(defect.key).is_done
    assert len(svc.observations()) == 2


def test_pagerduty_dedup_key_after_resolve_is_a_new_sighting(svc: Service) -> None:
    def event(action: str) -> None:
        body = {
            "dedup_key": "srv01/disk",
            "event_action": action,
            "payload": {"summary": "Disk full on srv01", "source": "srv01"},
        }
        r = svc.client.post("/alerts/generic", json=body, headers=AUTH)
        assert r.status_code == 202, r.text

    event("trigger")
    event("trigger")  # a repeat while it fires: nothing new
    event("resolve")
    event("resolve")
    svc.drain()
    event("trigger")  # the same key again after the resolve: a new sighting
    event("trigger")
    svc.drain()
    observations = svc.observations()
    assert len(observations) == 2
    assert sorted(o.event_id for o in observations) == ["pd-srv01/disk", "pd-srv01/disk~2"]
    assert [o.resolved_at is not None for o in observations].count(True) == 1


class FlakyTracker(LocalTracker):
    """A local tracker whose creates answer 429 with Retry-After a given number of times."""

    def __init__(self, path: Path, failures: int, retry_after: float) -> None:
        super().__init__(path)
        self.failures = failures
        self.retry_after = retry_after

    def create(self, new: NewTicket) -> Any:
        if self.failures > 0:
            self.failures -= 1
            raise TrackerUnavailable(
                "429 Too Many Requests", status=429, retry_after=self.retry_after
            )
        return super().create(new)


def test_retry_after_is_honoured_for_the_entry_and_the_whole_tracker(tmp_path: Path) -> None:
    svc = Service(tmp_path)
    svc.tracker = FlakyTracker(tmp_path / "flaky.db", failures=1, retry_after=30.0)
    svc.worker = Worker(
        svc.tracker, svc.journal, svc.settings.conventions_value(), BINDING, rate=1000.0
    )
    svc.alert("firing", T0)
    before = datetime.now(UTC)
    assert svc.drain() == 1
    [entry] = svc.journal.entries()
    assert entry.state is State.PENDING and entry.status == 429
    assert entry.next_attempt_at is not None
    assert entry.next_attempt_at >= before + timedelta(seconds=29)
    assert svc.worker.bucket.wait_time() > 25  # nothing else is sent meanwhile either
    assert svc.drain() == 0  # not due yet
    svc.journal.retry(entry.id)
    svc.worker.bucket = TokenBucket(1000.0)
    svc.worker.tracker._bucket = svc.worker.bucket  # type: ignore[attr-defined]
    assert svc.drain() == 1
    assert len(svc.observations()) == 1
    svc.close()


def test_token_bucket_paces_requests() -> None:
    now = [0.0]
    bucket = TokenBucket(20.0, clock=lambda: now[0])
    sent = 0
    while now[0] < 10.0:
        wait = bucket.wait_time()
        if wait == 0.0:
            sent += 1
        else:
            now[0] += wait
    assert 200 <= sent <= 221  # 20 a second for 10 s, plus the first second's burst


def test_stop_while_waiting_for_the_budget_releases_the_entry(tmp_path: Path) -> None:
    svc = Service(tmp_path)
    svc.worker = Worker(
        svc.tracker, svc.journal, svc.settings.conventions_value(), BINDING, rate=0.01
    )
    svc.worker.bucket.pause(3600)
    svc.alert("firing", T0)
    threading.Timer(0.3, svc.worker.stop_event.set).start()
    with pytest.raises(Stopping):
        svc.worker.step()
    [entry] = svc.journal.entries()
    assert entry.state is State.PENDING and entry.lease_owner is None
    assert svc.observations() == []
    svc.close()


class Counting:
    """A tracker seen from outside: counts the marker lookups the workflow asks for."""

    def __init__(self, tracker: LocalTracker) -> None:
        self.tracker = tracker
        self.name = tracker.name
        self.lookups = 0

    def find_by_event(self, event_id: str) -> Any:
        self.lookups += 1
        return self.tracker.find_by_event(event_id)

    def __getattr__(self, attr: str) -> Any:
        return getattr(self.tracker, attr)


def test_a_first_attempt_costs_no_marker_lookup_a_retry_after_a_crash_does(
    tmp_path: Path,
) -> None:
    svc = Service(tmp_path)
    counting = Counting(svc.tracker)
    svc.worker = Worker(
        cast(Tracker, counting),
        svc.journal,
        svc.settings.conventions_value(),
        BINDING,
        rate=1000.0,
    )
    svc.alert("firing", T0)
    assert svc.drain() == 1
    assert counting.lookups == 0  # alerts reach the tracker only through the journal
    svc.alert("firing", T2)
    [entry] = svc.journal.entries()
    svc.journal.claim(entry.id, "elsewhere/1/1")  # a worker that died holding it
    svc.journal.release(entry.id, "elsewhere/1/1")
    assert svc.drain() == 1
    assert counting.lookups >= 1  # tried before: what it may have made is looked up first
    assert len(svc.observations()) == 2
    svc.close()
