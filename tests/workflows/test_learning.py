"""``move`` and ``merge`` teach the matcher, and the lesson lives on the tracker alone: a fresh
process observing the corrected message lands on the defect the person chose."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tracker_bridge.domain.conventions import Conventions
from tracker_bridge.domain.matching import Matcher, event_keys
from tracker_bridge.trackers.local import LocalTracker
from tracker_bridge.workflows import decide, merge, move, observe

CONV = Conventions()

SYSTEMD = (
    "ledger.service: Main process exited, code=exited, status=1/FAILURE\n"
    "ledger.service: Failed with result 'exit-code'.\n"
    "Failed to start Ledger writer."
)
TYPED = "ledger writer will not start after the deploy"
BACKUP = "backup job failed for user alice while writing archive 17"
BACKUP_AGAIN = "backup job failed for user bob while writing archive 18"
NIGHTLY = "nightly backups are broken again"


def bridge(cwd: Path, *args: str) -> dict[str, object]:
    """``bridge ARGS --json`` in a new process: nothing of an earlier run is in memory."""
    env = {**os.environ, "BRIDGE_CONFIG": ""}
    done = subprocess.run(
        [sys.executable, "-c", "from tracker_bridge.cli import main; main()", *args, "--json"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    data: dict[str, object] = json.loads(done.stdout)
    return data


def test_a_moved_event_lands_on_its_target_in_a_fresh_process(tmp_path: Path) -> None:
    typed = bridge(tmp_path, "observe", TYPED, "-i", "ledger-1")
    event = bridge(tmp_path, "observe", SYSTEMD, "-i", "ledger-2")
    assert event["defect_created"] is True
    target, source = typed["defect"], event["defect"]
    bridge(tmp_path, "move", str(event["observation"]), "--to", str(target))
    # every line of the event alone, then the whole event, reach the target (lines first: the
    # whole event seen again would record its lines on the target by itself)
    for line in [*SYSTEMD.splitlines(), SYSTEMD]:
        again = bridge(tmp_path, "observe", line, "-i", "ledger-3")
        assert (again["defect"], again["matched_by"]) == (target, "fingerprint"), line
    shown = bridge(tmp_path, "fingerprint", "Failed to start Ledger writer.", "--explain")
    decision = shown["decision"]
    assert isinstance(decision, dict) and decision["defect"] == target
    assert source != target


def test_a_merged_duplicate_sends_its_kind_to_the_survivor_in_a_fresh_process(
    tmp_path: Path,
) -> None:
    survivor = bridge(tmp_path, "observe", NIGHTLY, "-i", "backup-1")
    dup = bridge(tmp_path, "observe", BACKUP, "-i", "backup-2")
    assert dup["defect_created"] is True
    bridge(tmp_path, "merge", str(dup["defect"]), "--into", str(survivor["defect"]))
    again = bridge(tmp_path, "observe", BACKUP, "-i", "backup-3")
    assert (again["defect"], again["matched_by"]) == (survivor["defect"], "fingerprint")
    # another user: a different fingerprint, similar to the duplicate's template
    variant = bridge(tmp_path, "observe", BACKUP_AGAIN, "-i", "backup-4")
    assert (variant["defect"], variant["matched_by"]) == (survivor["defect"], "similar")
    assert variant["recurrence"] is None, "the closed duplicate was reopened"


@pytest.fixture
def tracker() -> LocalTracker:
    return LocalTracker(":memory:")


def record(tracker: LocalTracker, message: str, instance: str = "db-1") -> observe.Result:
    return observe.run(tracker, CONV, observe.Request(message=message, instance=instance))


def test_a_source_opened_by_the_moved_message_speaks_for_the_target(
    tracker: LocalTracker,
) -> None:
    target = record(tracker, NIGHTLY).defect or ""
    wrong = record(tracker, BACKUP)
    source = wrong.defect or ""
    move.run(tracker, CONV, [wrong.observation or ""], target)
    assert set(event_keys(BACKUP)) <= set(tracker.get(target).fingerprints)
    assert not set(event_keys(BACKUP)) & set(tracker.get(source).fingerprints)
    variant = record(tracker, BACKUP_AGAIN)
    assert (variant.defect, variant.matched_by) == (target, "similar")


def test_move_keeps_what_another_observation_of_the_source_still_has(
    tracker: LocalTracker,
) -> None:
    one = record(tracker, SYSTEMD)
    two = record(tracker, SYSTEMD, instance="db-2")
    target = record(tracker, TYPED).defect or ""
    outcome = move.run(tracker, CONV, [one.observation or ""], target)
    removed = [c for c in outcome.changes if c.action == "remove-fingerprint"]
    assert removed == []
    added = {c.value for c in outcome.changes if c.action == "add-fingerprint"}
    assert added == set(event_keys(SYSTEMD))
    assert two.defect == one.defect


def test_rebuilt_matcher_decides_as_the_live_one_after_corrections(
    tracker: LocalTracker,
) -> None:
    """The live matcher corrected with ``Matcher.move`` / ``merge`` and the one rebuilt from the
    tracker after ``move`` / ``merge`` agree, whatever order the tracker lists defects in."""
    target = record(tracker, NIGHTLY).defect or ""
    wrong = record(tracker, SYSTEMD)
    dup = record(tracker, BACKUP).defect or ""
    live = Matcher()
    live.add(target, NIGHTLY)
    live.add(wrong.defect or "", SYSTEMD)
    live.add(dup, BACKUP)
    live.move(SYSTEMD, wrong.defect or "", target)
    live.merge(dup, target)
    move.run(tracker, CONV, [wrong.observation or ""], target)
    merge.run(tracker, [dup], target)
    defects = list(tracker.defects())
    probes = [*SYSTEMD.splitlines(), SYSTEMD, BACKUP, BACKUP_AGAIN, NIGHTLY, TYPED]
    for order in (defects, defects[::-1]):
        rebuilt = decide.matcher_for(order)
        for message in probes:
            assert rebuilt.match(message).key == live.match(message).key, message
    assert live.match(BACKUP_AGAIN).key == target
    assert live.match("Failed to start Ledger writer.").key == target


def test_a_defect_closed_as_duplicate_on_the_tracker_by_hand_reaches_its_survivor(
    tracker: LocalTracker,
) -> None:
    """Marked duplicate on the tracker, keys left on it: observe neither lands on nor reopens it."""
    survivor = record(tracker, NIGHTLY).defect or ""
    dup = record(tracker, BACKUP).defect or ""
    tracker.mark_duplicate(dup, survivor)
    for message in (BACKUP, BACKUP_AGAIN):
        again = record(tracker, message)
        assert again.defect == survivor, message
        assert again.recurrence is None
    assert tracker.get(dup).is_done
