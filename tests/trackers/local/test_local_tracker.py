"""The embedded local tracker: the contract, plus what only SQLite on disk can show."""

from __future__ import annotations

import multiprocessing
import os
from pathlib import Path

import pytest

from support.contract import TrackerContract, new_defect, new_observation
from tracker_bridge.domain.conventions import Conventions
from tracker_bridge.domain.tickets import Kind
from tracker_bridge.trackers.local import LocalTracker


@pytest.fixture
def conventions() -> Conventions:
    return Conventions()


class TestMemoryContract(TrackerContract):
    @pytest.fixture
    def tracker(self):
        t = LocalTracker(":memory:")
        yield t
        t.close()


class TestLocalFileContract(TrackerContract):
    @pytest.fixture
    def tracker(self, tmp_path: Path):
        t = LocalTracker(tmp_path / ".bridge" / "bridge.db")
        yield t
        t.close()


def test_scan_includes_hand_made_observation_titles(tmp_path: Path) -> None:
    t = LocalTracker(tmp_path / "b.db")
    key = t.insert_raw('handle: "Disk full" on replica-9')
    t.insert_raw("Upgrade the kernel")
    assert [x.key for x in t.scan("Handle")] == [key]


def test_persists_across_opens(tmp_path: Path) -> None:
    path = tmp_path / "b.db"
    first = LocalTracker(path)
    key = first.create(new_defect(Conventions(), "Disk full")).key
    first.close()
    second = LocalTracker(path)
    assert second.get(key).kind is Kind.DEFECT


def _observe_many(path: str, worker: int, count: int) -> None:
    tracker = LocalTracker(path)
    conv = Conventions()
    defect = next(tracker.defects())
    for i in range(count):
        tracker.create(
            new_observation(
                conv, defect.key, "Disk full", f"w{worker}-{i}", event_id=f"{worker}-{i}"
            )
        )
        # every worker also replays one event id another worker uses: no duplicates allowed
        tracker.create(new_observation(conv, defect.key, "Disk full", "shared", event_id=f"s-{i}"))
    tracker.close()


def test_two_processes_writing_at_once(tmp_path: Path) -> None:
    path = str(tmp_path / "b.db")
    setup = LocalTracker(path)
    defect = setup.create(new_defect(Conventions(), "Disk full"))
    setup.close()
    ctx = multiprocessing.get_context("spawn")
    workers = [ctx.Process(target=_observe_many, args=(path, w, 25)) for w in range(2)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(60)
        assert w.exitcode == 0
    tracker = LocalTracker(path)
    obs = tracker.tree(defect.key).observations
    keys = [o.key for o in obs]
    assert len(keys) == len(set(keys)) == 2 * 25 + 25
    assert sorted(o.instance for o in obs if o.instance != "shared") == sorted(
        f"w{w}-{i}" for w in range(2) for i in range(25)
    )


def test_file_backed_evidence_is_stored_in_chunks_once_per_content(tmp_path: Path) -> None:
    import hashlib

    from tracker_bridge.domain.tickets import Blob, EvidenceFile

    data = os.urandom(3 * 1024 * 1024 + 5)
    path = tmp_path / "core.bin"
    path.write_bytes(data)
    blob = Blob.of_file(path, size=len(data), sha256=hashlib.sha256(data).hexdigest())
    tracker = LocalTracker(tmp_path / "bridge.db")
    defect = tracker.create(new_defect(Conventions(), "Disk full")).key
    obs = tracker.create(new_observation(Conventions(), defect, "Disk full", "h")).key
    item = EvidenceFile("core.bin", None, "file:core.bin", blob=blob)
    [ref] = tracker.attach(obs, [item])
    [again] = tracker.attach(defect, [item])
    assert ref.size == len(data) and tracker.fetch_evidence(obs, ref) == data
    assert tracker.fetch_evidence(defect, again) == data
    count = tracker._db.execute("SELECT COUNT(*) FROM blobs").fetchone()[0]
    assert count == 1
