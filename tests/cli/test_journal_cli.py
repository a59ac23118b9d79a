"""observe, replay and queue through the CLI: nothing lost when the tracker is down or refuses."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from fakes.jira import EMAIL, TOKEN, FakeJira
from support.cli import run


@pytest.fixture
def jira(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeJira]:
    with FakeJira("cloud") as site:
        Path("jira.toml").write_text(
            f'[tracker]\nkind = "jira"\nurl = "{site.url}"\nproject = "OPS"\n'
            f'deployment = "cloud"\nemail = "{EMAIL}"\nmax_retry_wait = 0\n'
        )
        monkeypatch.setenv("BRIDGE_TRACKER__TOKEN", TOKEN)
        yield site


def test_a_refusal_after_capture_keeps_the_capture(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, jira: FakeJira
) -> None:
    monkeypatch.setenv("BRIDGE_TRACKER__TOKEN", "revoked-token")
    Path("state.txt").write_text("before the wipe\n")
    code, out, err = run(
        capsys,
        "observe",
        "Disk full",
        "-i",
        "db-1",
        "--capture",
        "echo captured-state-42",
        "--event-id",
        "alert-7",
        "--config",
        "jira.toml",
    )
    assert code == 2 and out == ""
    assert "kept in the journal" in err and "bridge replay" in err and "revoked-token" not in err
    code, out, _ = run(capsys, "replay", "--list", "--config", "jira.toml", "--json")
    [kept] = json.loads(out)
    assert kept["state"] == "failed" and kept["why"].startswith("refused")
    assert kept["evidence"][0]["name"].startswith("capture-1-echo")
    # the captured state is on disk, private, until delivered
    stored = Path(".bridge/journal", kept["id"], kept["evidence"][0]["sha256"])
    assert b"captured-state-42" in stored.read_bytes() and stored.stat().st_mode & 0o777 == 0o600
    monkeypatch.setenv("BRIDGE_TRACKER__TOKEN", TOKEN)  # the cause fixed
    code, out, err = run(capsys, "replay", "--config", "jira.toml", "--json")
    assert code == 0, err
    [sent] = json.loads(out)
    assert (
        sent["event_id"] == "alert-7" and sent["evidence"][0]["name"] == kept["evidence"][0]["name"]
    )
    attached = jira.attachment_bytes(sent["observation"])
    assert any(b"captured-state-42" in data for data in attached.values())
    assert not stored.exists()  # delivered: the journal keeps no copy
    code, out, _ = run(capsys, "queue", "--config", "jira.toml")
    assert code == 0 and "holds nothing waiting" in out


def test_tracker_down_then_replay_sends_each_once(
    capsys: pytest.CaptureFixture[str], jira: FakeJira
) -> None:
    jira.fail(503, times=10**6)
    for i in range(3):
        Path(f"log-{i}.txt").write_text(f"line {i}\n")
        code, _, err = run(
            capsys,
            "observe",
            "Connection refused by db",
            "-i",
            f"app-{i}",
            "-e",
            f"log-{i}.txt",
            "--config",
            "jira.toml",
        )
        assert code == 3 and "NOT recorded" in err and "bridge replay" in err
    code, out, _ = run(capsys, "queue", "--config", "jira.toml")
    assert out.count("tracker unavailable") == 3
    code, _, err = run(capsys, "replay", "--config", "jira.toml")  # still down
    assert code == 3 and "3 entries still kept" in err
    jira.faults.clear()
    code, out, err = run(capsys, "replay", "--config", "jira.toml", "--json")
    assert code == 0, err
    sent = json.loads(out)
    assert len(sent) == 3 and len({s["observation"] for s in sent}) == 3
    assert len({s["defect"] for s in sent}) == 1
    assert all(len(jira.attachment_bytes(s["observation"])) == 1 for s in sent)
    code, out, _ = run(capsys, "replay", "--config", "jira.toml")
    assert code == 0 and "Nothing to replay" in out


def test_queue_retry_and_drop(capsys: pytest.CaptureFixture[str], jira: FakeJira) -> None:
    jira.fail(503, times=10**6)
    run(capsys, "observe", "Disk full", "-i", "a", "--event-id", "e-1", "--config", "jira.toml")
    code, out, _ = run(capsys, "queue", "--json", "--config", "jira.toml")
    [entry] = json.loads(out)
    code, out, _ = run(capsys, "queue", "retry", entry["id"][:12], "--config", "jira.toml")
    assert code == 0 and "pending" in out
    code, out, _ = run(capsys, "queue", "drop", entry["id"][:12], "--config", "jira.toml")
    assert code == 0 and "Dropped entry" in out
    code, _, err = run(capsys, "queue", "drop", entry["id"][:12], "--config", "jira.toml")
    assert code == 2 and "no journal entry" in err


@pytest.mark.parametrize("umask", [0o022, 0o000])
def test_everything_under_bridge_is_private(capsys: pytest.CaptureFixture[str], umask: int) -> None:
    Path("app.log").write_text("token=abc\n")
    old = os.umask(umask)
    try:
        code, _, err = run(
            capsys, "observe", "Disk full", "-i", "h", "-e", "app.log", "--no-redact"
        )
    finally:
        os.umask(old)
    assert code == 0, err
    root = Path(".bridge")
    for path in [root, *root.rglob("*")]:
        expected = 0o700 if path.is_dir() else 0o600
        assert path.stat().st_mode & 0o777 == expected, path
    assert (root / "bridge.log").exists() and (root / "journal.db").exists()


def test_event_ids_that_look_alike_are_kept_and_sent_apart(
    capsys: pytest.CaptureFixture[str], jira: FakeJira
) -> None:
    jira.fail(503, times=10**6)
    for event in ("pagerduty/Q1ABC", "pagerduty:Q1ABC"):
        code, _, err = run(
            capsys, "observe", "Disk full", "-i", "a", "--event-id", event, "--config", "jira.toml"
        )
        assert code == 3 and "kept in the journal" in err
    code, out, _ = run(capsys, "queue", "--json", "--config", "jira.toml")
    assert sorted(e["event_id"] for e in json.loads(out)) == ["pagerduty/Q1ABC", "pagerduty:Q1ABC"]
    jira.faults.clear()
    code, out, err = run(capsys, "replay", "--json", "--config", "jira.toml")
    assert code == 0, err
    assert len({s["observation"] for s in json.loads(out)}) == 2
