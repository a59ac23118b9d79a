"""The decision ``observe`` takes, read from the tracker once, shown by ``fingerprint --explain``."""

from __future__ import annotations

from pathlib import Path

import pytest

from tracker_bridge.bridge import Bridge
from tracker_bridge.domain.conventions import Conventions
from tracker_bridge.settings import Settings
from tracker_bridge.trackers.local import LocalTracker
from tracker_bridge.workflows import decide, observe

CONV = Conventions()

KNOWN = (
    "backup job failed for user alice while writing archive 17",
    "write /var/lib/postgresql/base/1/2: No space left on device",
    "dial tcp 10.0.0.5:6379: connect: connection refused",
    "FATAL:  sorry, too many clients already",
)
PROBES = (
    # values and a name after a naming noun: similar
    "backup job failed for user bob while writing archive 18",
    # another word in place: new, listed as a close candidate
    "backup job failed for user bob while reading archive 18",
    # the same resource state reached by another operation
    "No space left on device (errno 28)",
    # behind a client library's wrapper
    "org.postgresql.util.PSQLException: FATAL: sorry, too many clients already",
    # another dependency: new
    "dial tcp 10.0.0.5:5432: connect: connection refused",
    # seen before: fingerprint
    "dial tcp 10.0.0.9:6379: connect: connection refused",
    "something else entirely",
)


@pytest.fixture
def tracker() -> LocalTracker:
    made = LocalTracker(":memory:")
    for message in KNOWN:
        observe.run(made, CONV, observe.Request(message=message, instance="db-1"))
    return made


def snapshot(tracker: LocalTracker) -> list[tuple[str, str | None, tuple[str, ...], bool]]:
    return [
        (t.key, t.parent, t.fingerprints, t.is_done) for t in tracker.scan(CONV.observation_prefix)
    ]


@pytest.mark.parametrize("message", PROBES)
def test_explain_takes_observes_decision(tracker: LocalTracker, message: str) -> None:
    before = snapshot(tracker)
    shown = decide.explain(tracker, message)
    assert snapshot(tracker) == before, "explain wrote to the tracker"
    dry = observe.run(
        tracker, CONV, observe.Request(message=message, instance="db-2", dry_run=True)
    )
    data = shown.data
    assert (data["matched_by"], data["defect"]) == (dry.matched_by, dry.defect)
    assert [c["key"] for c in data["candidates"]] == [c.key for c in dry.candidates]
    assert f"decision: {dry.matched_by}" in "\n".join(shown.lines)
    assert data["tracker"] == tracker.name and data["defects_read"] >= 1
    recorded = observe.run(tracker, CONV, observe.Request(message=message, instance="db-3"))
    assert recorded.matched_by == dry.matched_by
    assert recorded.defect_created or recorded.defect == dry.defect


def test_explain_names_the_slots_that_differ(tracker: LocalTracker) -> None:
    shown = decide.explain(tracker, "backup job failed for user bob while reading archive 18")
    data = shown.data
    assert data["matched_by"] == "new" and data["close_call"] is True
    best = data["candidates"][0]
    assert best["shape"] == "in place"
    assert best["title"] == KNOWN[0]
    slots = {d["position"]: (d["known"], d["seen"], d["hard"]) for d in best["differences"]}
    assert slots == {5: ("alice", "bob", False), 7: ("writing", "reading", True)}
    text = "\n".join(shown.lines)
    assert "#7: 'writing' vs 'reading' 0.0: different constant text" in text
    assert "another name after 'user'" in text

    wrapped = decide.explain(
        tracker, "org.postgresql.util.PSQLException: FATAL: sorry, too many clients already"
    )
    assert wrapped.data["matched_by"] == "similar"
    assert wrapped.data["candidates"][0]["shape"] == "wrapper"
    disk = decide.explain(tracker, "No space left on device (errno 28)")
    assert disk.data["candidates"][0]["shape"] == "resource state"


def test_explain_lists_missing_words_for_a_phrase_inside(tracker: LocalTracker) -> None:
    shown = decide.explain(
        tracker, "backup job failed for user alice while writing archive 17 after three retries"
    )
    best = shown.data["candidates"][0]
    assert best["shape"] == "inside" and best["missing"] == []
    assert shown.data["matched_by"] == "new"
    other = decide.explain(
        tracker, "backup job failed for user alice while copying archive 17 after three retries"
    )
    assert other.data["candidates"][0]["missing"] == ["writing"]
    assert "words missing: 'writing'" in "\n".join(other.lines)


def test_bridge_explains_against_the_configured_tracker(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    message = "No space left on device (errno 28)"
    with Bridge(Settings.load()) as bridge:
        alone = bridge.explain(message)
        assert alone.data["tracker"] is None
        assert "no tracker here" in alone.data["absent"]
        assert any("the message alone" in line for line in alone.lines)
        assert not (tmp_path / ".bridge").exists(), "explain created a tracker"
        first = bridge.observe(KNOWN[1], instance="db-1")
        shown = bridge.explain(message)
    assert shown.data["matched_by"] == "similar"
    assert shown.data["defect"] == first.defect
    assert alone.data["matched_by"] == "new"
