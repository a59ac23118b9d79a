"""GitHub's side of the lifecycle: closed as duplicate, fingerprint labels removed, one parent."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from fakes.github import TOKEN, FakeGitHub
from support.contract import new_defect, new_observation
from tracker_bridge.domain.conventions import Conventions
from tracker_bridge.trackers.github import GitHubTracker
from tracker_bridge.workflows import merge, resolve


@pytest.fixture
def conventions() -> Conventions:
    return Conventions()


@pytest.fixture
def fake() -> Iterator[FakeGitHub]:
    with FakeGitHub() as server:
        yield server
        assert server.violations == [], "\n".join(server.violations)


@pytest.fixture
def tracker(fake: FakeGitHub, conventions: Conventions) -> Iterator[GitHubTracker]:
    made = GitHubTracker(
        repository=fake.full_name,
        token=TOKEN,
        base_url=fake.url,
        conventions=conventions,
        timeout=5,
        max_retry_wait=30,
        sleep=lambda _s: None,
    )
    yield made
    made.close()


def _number(key: str) -> str:
    return key.rsplit("#", 1)[1]


def test_merge_closes_as_duplicate(
    fake: FakeGitHub, tracker: GitHubTracker, conventions: Conventions
) -> None:
    survivor = tracker.create(new_defect(conventions, "Disk full", fp="aaaaaaaaaaaaaaaa"))
    dup = tracker.create(new_defect(conventions, "Disk is full", fp="bbbbbbbbbbbbbbbb"))
    obs = tracker.create(new_observation(conventions, dup.key, "Disk is full", "db-1"))
    merge.run(tracker, [dup.key], survivor.key)
    issue = fake.issues[int(_number(dup.key))]
    assert (issue.state, issue.state_reason) == ("closed", "duplicate")
    assert not any(name.startswith("bridge-fp-") for name in issue.labels)
    assert "bridge-fp-bbbbbbbbbbbbbbbb" in fake.issues[int(_number(survivor.key))].labels
    assert tracker.get(obs.key).parent == survivor.key
    assert [t.key for t in tracker.tree(survivor.key).observations] == [obs.key]
    assert tracker.tree(dup.key).observations == ()
    reopened = resolve.reopen(tracker, dup.key)
    assert reopened.changes and tracker.get(dup.key).duplicate_of is None


def test_resolve_without_remediation_is_one_patch(
    fake: FakeGitHub, tracker: GitHubTracker, conventions: Conventions
) -> None:
    defect = tracker.create(new_defect(conventions, "Disk full"))
    fake.requests.clear()
    tracker.resolve(defect.key, without_remediation="host retired")
    assert [m for m, _ in fake.requests if m != "GET"] == ["PATCH"]
    got = tracker.get(defect.key)
    assert got.is_done and got.without_remediation == "host retired"
    assert fake.issues[int(_number(defect.key))].state_reason == "completed"
