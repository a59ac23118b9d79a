"""The GitHub tracker against a real repository: opt in with ``pytest -m live``.

Needs ``BRIDGE_LIVE_GITHUB_REPOSITORY`` (``owner/name`` of a scratch repository) and
``BRIDGE_LIVE_GITHUB_TOKEN`` (Issues read/write, Contents read/write), optionally
``BRIDGE_LIVE_GITHUB_URL`` for GitHub Enterprise Server (``https://HOST/api/v3``). Every issue it
makes is closed at the end; the evidence branch is left for inspection. Without the variables
the tests are skipped, and they never run in the default selection (``-m "not live"``).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

from support.contract import evidence, new_defect, new_observation
from tracker_bridge.domain.conventions import Conventions
from tracker_bridge.domain.tickets import EvidenceFile, Kind, Status
from tracker_bridge.trackers.github import DEFAULT_API, GitHubTracker

pytestmark = [
    pytest.mark.live,
    pytest.mark.skipif(
        not (
            os.environ.get("BRIDGE_LIVE_GITHUB_REPOSITORY")
            and os.environ.get("BRIDGE_LIVE_GITHUB_TOKEN")
        ),
        reason="set BRIDGE_LIVE_GITHUB_REPOSITORY and BRIDGE_LIVE_GITHUB_TOKEN to run",
    ),
]


@pytest.fixture
def live(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[GitHubTracker, list[str]]]:
    import socket

    import conftest

    monkeypatch.setattr(socket.socket, "connect", conftest._real_connect)  # the real network
    tracker = GitHubTracker(
        repository=os.environ["BRIDGE_LIVE_GITHUB_REPOSITORY"],
        token=os.environ["BRIDGE_LIVE_GITHUB_TOKEN"],
        base_url=os.environ.get("BRIDGE_LIVE_GITHUB_URL", DEFAULT_API),
        conventions=Conventions(),
    )
    made: list[str] = []
    yield tracker, made
    for key in made:
        tracker.resolve(key)
    tracker.close()


def test_observe_round_trip_on_a_real_repository(live: tuple[GitHubTracker, list[str]]) -> None:
    tracker, made = live
    conv = tracker.conventions
    run = uuid.uuid4().hex[:12]
    fp = run + "0000"
    defect = tracker.create(new_defect(conv, f"live test {run}: No space left", fp=fp))
    made.append(defect.key)
    obs = tracker.create(
        new_observation(
            conv, defect.key, f"live test {run}: No space left", "replica-2", event_id=f"live-{run}"
        )
    )
    made.append(obs.key)
    again = tracker.create(
        new_observation(
            conv, defect.key, f"live test {run}: No space left", "replica-2", event_id=f"live-{run}"
        )
    )
    assert again.key == obs.key
    png = EvidenceFile(
        name="pixel.png",
        data=b"\x89PNG\r\n\x1a\n" + run.encode(),
        source="file:pixel.png",
        captured_at=obs.created,
        scanned=False,
    )
    refs = tracker.attach(obs.key, [evidence("df.txt", "100%"), png])
    assert all(r.url for r in refs)
    got = tracker.get(obs.key)
    assert got.kind is Kind.OBSERVATION and got.parent == defect.key and len(got.evidence) == 2
    found = tracker.find_by_fingerprint(fp)
    assert found is not None and found.key == defect.key
    assert [t.key for t in tracker.tree(defect.key).observations] == [obs.key]
    tracker.resolve(defect.key)
    assert tracker.get(defect.key).status is Status.DONE
