"""Evidence: provenance, redaction, dedupe, size limits, roll-up index and copies elsewhere."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from support.cli import run
from support.contract import evidence, new_defect, new_observation
from tracker_bridge.domain.conventions import Conventions
from tracker_bridge.domain.tickets import EvidenceFile, Kind, NewTicket
from tracker_bridge.errors import UsageError
from tracker_bridge.trackers.local import LocalTracker
from tracker_bridge.workflows import evidence as flow
from tracker_bridge.workflows import sync

CONV = Conventions()
AWS = "AKIA" + "Q3EGRZ7TXHD4MN2B"


def test_read_paths_files_and_directories(tmp_path: Path) -> None:
    (tmp_path / "logs" / "sub").mkdir(parents=True)
    (tmp_path / "logs" / "a.log").write_text("a")
    (tmp_path / "logs" / "sub" / "b.log").write_text("b")
    (tmp_path / "one.txt").write_text("1")
    files = flow.read_paths([tmp_path / "one.txt", tmp_path / "logs"], sensitive=True)
    assert [f.name for f in files] == ["one.txt", "logs/a.log", "logs/sub/b.log"]
    assert all(f.sensitive and f.source.startswith("file:") for f in files)
    (tmp_path / "empty").mkdir()
    with pytest.raises(UsageError, match="holds no files"):
        flow.read_paths([tmp_path / "empty"])
    with pytest.raises(UsageError, match="does not exist"):
        flow.read_paths([tmp_path / "nope.log"])


def test_scrub_reports_kinds_and_counts_never_values() -> None:
    item = EvidenceFile(
        name="env",
        data=f"AWS_ACCESS_KEY_ID={AWS}\nok line\n".encode(),
        source="file:env",
        captured_at=evidence("x", "").captured_at,
    )
    [clean] = flow.scrub([item])
    assert AWS.encode() not in clean.data and b"ok line" in clean.data
    assert dict(clean.redactions) == {"aws-access-key": 1}
    [raw] = flow.scrub([item], redact=False)
    assert raw.data == item.data and raw.scanned is False
    # binary content is scanned for its text runs; only what cannot be scanned (compressed) is not
    [binary] = flow.scrub(
        [EvidenceFile("core", b"\x00\x01" + AWS.encode(), "file:core", item.captured_at)]
    )
    assert binary.scanned is True and AWS.encode() not in binary.data
    packed = gzip.compress(AWS.encode())
    [unscanned] = flow.scrub([EvidenceFile("core.gz", packed, "file:core.gz", item.captured_at)])
    assert unscanned.scanned is False and unscanned.data == packed


def test_add_is_idempotent_and_adds_changed_content() -> None:
    tracker = LocalTracker(":memory:")
    defect = tracker.create(new_defect(CONV, "Disk full")).key
    obs = tracker.create(new_observation(CONV, defect, "Disk full", "h")).key
    first = flow.add(tracker, obs, [evidence("app.log", "v1")])
    assert [r.name for r in first.stored] == ["app.log"] and first.already == ()
    again = flow.add(tracker, obs, [evidence("app.log", "v1")])
    assert again.stored == () and [r.name for r in again.already] == ["app.log"]
    changed = flow.add(tracker, obs, [evidence("app.log", "v2")])
    assert [r.name for r in changed.stored] == ["app.log"]
    assert len(tracker.get(obs).evidence) == 2


def _defect_with_evidence(tracker: LocalTracker) -> tuple[str, list[str]]:
    defect = tracker.create(new_defect(CONV, "Disk full")).key
    keys = []
    for host, text, sensitive in [("a", "df a", False), ("b", "df b", True), ("c", "df a", False)]:
        obs = tracker.create(new_observation(CONV, defect, "Disk full", host)).key
        tracker.attach(
            obs,
            [
                EvidenceFile(
                    f"df-{host}.txt",
                    text.encode(),
                    "capture:df -h",
                    evidence("x", "").captured_at,
                    sensitive=sensitive,
                )
            ],
        )
        keys.append(obs)
    return defect, keys


def test_roll_up_index_names_every_item_without_copying() -> None:
    tracker = LocalTracker(":memory:")
    defect, keys = _defect_with_evidence(tracker)
    result = sync.roll_up(tracker, defect)
    assert result.entries == 3 and result.index is not None
    index = tracker.fetch_evidence(defect, result.index).decode()
    for key in keys:
        assert key in index
    assert "df-b.txt (sensitive)" in index and "capture:df -h" in index
    assert [r.name for r in tracker.get(defect).evidence] == ["evidence-index.md"]
    sync.roll_up(tracker, defect)  # unchanged: no second copy
    assert len(tracker.get(defect).evidence) == 1


def test_copy_to_other_team_skips_held_and_references_sensitive() -> None:
    ours, theirs = LocalTracker(":memory:"), LocalTracker(":memory:", project="PLAT")
    defect, _ = _defect_with_evidence(ours)
    target = theirs.create(
        NewTicket(
            kind=Kind.REMEDIATION,
            title="Fix disks",
            team="platform",
        )
    ).key
    first = sync.copy_to(ours, defect, theirs, target, other_team=True)
    assert [r.name for r in first.copied] == [f"{_first_obs(ours, defect)}-df-a.txt"]
    assert first.referenced == ("df-b.txt",)
    [link] = theirs.get(target).links
    assert link.global_id.startswith("bridge-evidence:") and "df-b.txt" in link.title
    assert all(theirs.fetch_evidence(target, r) != b"df b" for r in theirs.get(target).evidence)
    again = sync.copy_to(ours, defect, theirs, target, other_team=True)
    assert again.copied == () and again.already == ("df-a.txt",)
    same_team = sync.copy_to(ours, defect, ours, _first_obs(ours, defect), other_team=False)
    assert "df-b.txt" not in same_team.referenced


def _first_obs(tracker: LocalTracker, defect: str) -> str:
    return tracker.tree(defect).observations[0].key


def test_cli_evidence_add_and_sync(capsys: pytest.CaptureFixture[str]) -> None:
    Path("creds.env").write_text(f"AWS_ACCESS_KEY_ID={AWS}\n")
    obs = json.loads(run(capsys, "observe", "Disk full", "-i", "h", "--json")[1])
    code, out, _ = run(capsys, "evidence", "add", obs["observation"], "creds.env", "--json")
    added = json.loads(out)
    assert code == 0 and added["added"][0]["redactions"] == {"aws-access-key": 1}
    assert AWS not in out
    code, out, _ = run(capsys, "evidence", "add", obs["observation"], "creds.env")
    assert code == 0 and "Already on" in out
    code, out, _ = run(capsys, "evidence", "sync", obs["defect"])
    assert code == 0 and "1 item(s)" in out
    code, _, err = run(capsys, "evidence", "add", obs["observation"], "missing.log")
    assert code == 2 and "does not exist" in err
    code, _, err = run(capsys, "evidence", "sync", obs["observation"])
    assert code == 2 and "not a defect" in err


def test_no_redact_is_logged(capsys: pytest.CaptureFixture[str]) -> None:
    Path("creds.env").write_text(f"AWS_ACCESS_KEY_ID={AWS}\n")
    run(capsys, "observe", "Disk full", "-i", "h", "--evidence", "creds.env", "--no-redact")
    assert "--no-redact" in Path(".bridge/bridge.log").read_text()


def test_tracker_without_attachments_is_a_clear_error() -> None:
    with pytest.raises(UsageError, match="does not accept attachments"):
        flow.fit([evidence("a.txt", "a")], 0)
    assert flow.fit([], 0) == []
