"""The defect lifecycle from the terminal (issue 16): list, move, merge, resolve, reopen, read.

An eight-week story on the embedded tracker, told through the real entry point, plus the
defects the issue lists one by one: stdin, no tracker here, output directories, captures.
"""

from __future__ import annotations

import io
import json
import os
import signal
import sys
import threading
import time
from pathlib import Path

import pytest

from support.cli import run
from tracker_bridge.cli import cli


def observe(capsys: pytest.CaptureFixture[str], message: str, instance: str, *extra: str) -> dict:
    Path("df.txt").write_text(f"/dev/sda1 100% {instance}\n")
    code, out, err = run(
        capsys,
        "observe",
        message,
        "-i",
        instance,
        "--evidence",
        "df.txt",
        "--action",
        "wiped /tmp",
        "--json",
        *extra,
    )
    assert code == 0, err
    return json.loads(out)


def as_json(capsys: pytest.CaptureFixture[str], *args: str, code: int = 0) -> object:
    got, out, err = run(capsys, *args, "--json")
    assert got == code, err
    return json.loads(out)


def check_findings(capsys: pytest.CaptureFixture[str]) -> list[tuple[str, str]]:
    _code, out, _ = run(capsys, "check", "--json")
    return [(f["rule"], f["key"]) for f in json.loads(out)["findings"]]


def test_the_lifecycle_story(capsys: pytest.CaptureFixture[str]) -> None:
    disk = observe(capsys, "Disk full on /var", "db-1", "--at", "2026-10-01T10:00:00Z")
    observe(capsys, "Disk full on /var", "db-2", "--at", "2026-11-20T10:00:00Z")
    # the matcher files an inode sighting under the disk defect (explicitly, here)
    wrong = observe(capsys, "Inode table full on /var", "db-3", "--defect", disk["defect"])
    other = observe(capsys, "No space left on /var", "db-4", "--new-defect")
    rows = as_json(capsys, "list")
    assert isinstance(rows, list)
    assert [r["key"] for r in rows] == [disk["defect"], other["defect"]]
    first = rows[0]
    assert {"key", "title", "kind", "status", "sightings", "last_seen"} <= set(first)
    assert first["sightings"] == 3 and first["kind"] == "defect" and first["status"] == "open"
    assert {i["instance"] for i in first["instances"]} == {"db-1", "db-2", "db-3"}

    # move: a new defect for the inode sighting; the next inode sighting lands there
    inode = observe(capsys, "Inode table full on /var", "db-5", "--new-defect")
    moved = as_json(capsys, "move", wrong["observation"], "--to", inode["defect"])
    assert moved["changed"]
    again = as_json(capsys, "move", wrong["observation"], "--to", inode["defect"])
    assert again["changes"] == [] and again["unchanged"] == [wrong["observation"]]
    next_inode = observe(capsys, "Inode table full on /var", "db-6")
    assert next_inode["defect"] == inode["defect"]
    next_disk = observe(capsys, "Disk full on /var", "db-7")
    assert next_disk["defect"] == disk["defect"]

    # merge: "No space left" is the disk defect; its next sighting lands on the survivor
    dry = as_json(capsys, "merge", other["defect"], "--into", disk["defect"], "--dry-run")
    assert dry["dry_run"] and dry["changes"]
    merged = as_json(capsys, "merge", other["defect"], "--into", disk["defect"])
    assert merged["changes"] == dry["changes"]
    assert as_json(capsys, "merge", other["defect"], "--into", disk["defect"])["changes"] == []
    landed = observe(capsys, "No space left on /var", "db-8")
    assert landed["defect"] == disk["defect"]
    shown = as_json(capsys, "show", other["defect"])
    assert shown["status"] == "done"

    # resolve: the finalisation rule
    code, out, err = run(capsys, "resolve", inode["defect"])
    assert code == 1 and out == ""
    assert "defect-closed-without-remediation" in err
    assert f"bridge delegate {inode['defect']} --to TEAM" in err
    assert "--without-remediation" in err
    assert as_json(capsys, "show", inode["defect"])["status"] == "open"
    done = as_json(
        capsys, "resolve", inode["defect"], "--without-remediation", "inode limit raised"
    )
    assert done["changed"]
    assert as_json(capsys, "show", inode["defect"])["status"] == "done"
    assert as_json(capsys, "resolve", inode["defect"])["changes"] == []
    code, out, _ = run(capsys, "show", inode["defect"])
    assert "resolved without remediation: inode limit raised" in out

    # observations close one by one; reopen undoes a resolve
    as_json(capsys, "resolve", landed["observation"], "--note", "rotated logs")
    assert as_json(capsys, "show", landed["observation"])["status"] == "done"
    as_json(capsys, "reopen", landed["observation"])
    assert as_json(capsys, "show", landed["observation"])["status"] == "open"
    assert as_json(capsys, "reopen", landed["observation"])["changes"] == []

    # lists by status, kind, instance and time
    open_keys = [r["key"] for r in as_json(capsys, "list")]
    assert open_keys == [disk["defect"]]
    done_keys = {r["key"] for r in as_json(capsys, "list", "--status", "done")}
    assert done_keys == {inode["defect"], other["defect"]}
    on_db2 = as_json(capsys, "list", "--instance", "db-2")
    assert [(r["key"], r["sightings"]) for r in on_db2] == [(disk["defect"], 1)]
    since = as_json(capsys, "list", "--since", "2026-11-01", "--status", "all")
    assert disk["defect"] in [r["key"] for r in since]
    every = next(r for r in as_json(capsys, "list") if r["key"] == disk["defect"])
    recent = next(r for r in since if r["key"] == disk["defect"])
    assert (every["sightings"], recent["sightings"]) == (5, 4)  # db-1 was seen in October
    observations = as_json(capsys, "list", "--kind", "observation", "--status", "all")
    assert {r["kind"] for r in observations} == {"observation"}

    # nothing the story did is something check flags
    assert check_findings(capsys) == []


def test_show_tells_each_sighting(capsys: pytest.CaptureFixture[str]) -> None:
    made = observe(capsys, "Disk full", "replica-2", "--impact", "writes failed for 5 min")
    code, out, _ = run(capsys, "show", made["defect"])
    assert code == 0
    for needle in (
        "on replica-2 at",
        "impact: writes failed for 5 min",
        "action: wiped /tmp",
        "evidence: df.txt",
        "fingerprints:",
        f"remediations: none yet (bridge delegate {made['defect']} --to TEAM files one)",
    ):
        assert needle in out, needle


def test_evidence_cat_prints_what_was_stored(capsys: pytest.CaptureFixture[str]) -> None:
    Path("env.txt").write_text("db password=hunter2hunter2 ok\n")
    code, out, err = run(
        capsys, "observe", "Disk full", "-i", "h", "--evidence", "env.txt", "--json"
    )
    key = json.loads(out)["observation"]
    code, out, err = run(capsys, "evidence", "cat", key, "env.txt")
    assert code == 0, err
    assert "hunter2hunter2" not in out and "REDACTED" in out
    record = as_json(capsys, "evidence", "cat", key, "env.txt")
    assert isinstance(record, dict) and record["text"] == out
    code, _, err = run(capsys, "evidence", "cat", key, "nope.txt")
    assert code == 2 and "holds: env.txt" in err


def test_read_only_commands_create_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    for args in (
        ["list"],
        ["report"],
        ["check"],
        ["show", "OPS-1"],
        ["resolve", "OPS-1"],
        ["move", "OPS-2", "--to", "OPS-1"],
        ["evidence", "cat", "OPS-1", "x"],
    ):
        code, out, err = run(capsys, *args)
        assert code == 2, args
        assert "no tracker here" in err and 'bridge observe "MESSAGE"' in err, args
        assert "No defects" not in out
    assert not Path(".bridge").exists()


@pytest.mark.parametrize("command", ["report", "postmortem"])
def test_output_into_a_missing_directory_exits_2(
    capsys: pytest.CaptureFixture[str], command: str
) -> None:
    made = observe(capsys, "Disk full", "h")
    args = [command] + ([made["defect"]] if command == "postmortem" else [])
    code, _, err = run(capsys, *args, "--output", "no/such/dir/out.md")
    assert code == 2, err
    assert "mkdir -p no/such/dir" in err and "Traceback" not in err


def test_observe_reads_the_message_from_stdin(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    stdin = io.TextIOWrapper(io.BytesIO(b"Connection refused to db:5432\n"))
    monkeypatch.setattr(sys, "stdin", stdin)
    code, out, err = run(capsys, "observe", "-", "-i", "web-1", "--json")
    assert code == 0, err
    got = json.loads(out)
    assert got["title"] == 'Handle: "Connection refused to db:5432" on "web-1"'


def test_observe_reads_evidence_from_stdin(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    stdin = io.TextIOWrapper(
        io.BytesIO(b"line 1\ntoken=ghp_0123456789abcdefghijklmnopqrstuvwxyzAB\n")
    )
    monkeypatch.setattr(sys, "stdin", stdin)
    code, out, err = run(
        capsys, "observe", "app crashed", "-i", "web-1", "--evidence", "-", "--json"
    )
    assert code == 0, err
    got = json.loads(out)
    assert [e["name"] for e in got["evidence"]] == ["stdin.txt"]
    assert got["evidence"][0]["source"] == "stdin"
    assert not Path("-").exists()
    code, text, _ = run(capsys, "evidence", "cat", got["observation"], "stdin.txt")
    assert text.startswith("line 1\n") and "ghp_0123" not in text


def test_stdin_cannot_be_both(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "observe", "-", "-i", "h", "--evidence", "-")
    assert code == 2 and "not both" in err
    assert not Path(".bridge").exists()


def test_observe_warns_without_evidence(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "observe", "Disk full", "-i", "h", "--json")
    assert code == 0
    key = json.loads(out)["observation"]
    assert "without evidence" in err and "observation-without-evidence" in err
    assert f"bridge evidence add {key} FILE" in err
    Path("df.txt").write_text("100%\n")
    code, _, err = run(capsys, "observe", "Disk full", "-i", "h", "--evidence", "df.txt")
    assert code == 0 and "without evidence" not in err


def test_capture_timeout_is_shown_and_stops_the_process_group(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, help_text, _ = run(capsys, "observe", "--help")
    assert "--capture-timeout" in help_text and "120" in help_text
    marker = tmp_path / "survived"
    command = f"sh -c 'sleep 3 && touch {marker}' & echo started; sleep 3"
    started = time.monotonic()
    code, out, err = run(
        capsys, "observe", "backup hung", "-i", "db-1", "--capture", command,
        "--capture-timeout", "0.5", "--json",
    )  # fmt: skip
    assert code == 0, err
    assert time.monotonic() - started < 3
    got = json.loads(out)
    assert got["captures"][0]["exit_status"] is None
    key = got["observation"]
    _, text, _ = run(capsys, "evidence", "cat", key, got["evidence"][0]["name"])
    assert "started" in text and "stopped after 0.5s" in text
    time.sleep(3.5)
    assert not marker.exists(), "a child of the capture outlived the timeout"


def test_ctrl_c_during_capture_says_nothing_was_recorded(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    marker = tmp_path / "survived"
    started = tmp_path / "started"

    def interrupt_once_the_capture_runs() -> None:
        # a fixed delay raced the command's start on a loaded machine: wait for the capture itself
        deadline = time.monotonic() + 30
        while not started.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        os.kill(os.getpid(), signal.SIGINT)

    # an earlier test in the same process may have left another SIGINT handler installed
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    timer = threading.Thread(target=interrupt_once_the_capture_runs, daemon=True)
    timer.start()
    try:
        code, _out, err = run(
            capsys, "observe", "backup hung", "-i", "db-1",
            "--capture", "echo quick",
            "--capture", f"touch {started} && sleep 2 && touch {marker}",
        )  # fmt: skip
    finally:
        timer.join(timeout=35)
        signal.signal(signal.SIGINT, previous)
    assert code == 130
    assert "interrupted during --capture `touch" in err
    assert "Nothing was recorded" in err and "`echo quick`" in err
    assert not Path(".bridge/bridge.db").exists()
    time.sleep(2.5)
    assert not marker.exists(), "the interrupted capture kept running"


@pytest.mark.parametrize(
    "command",
    ["list", "move", "merge", "resolve", "reopen", "evidence cat", "observe"],
)
def test_help_teaches_by_example(command: str) -> None:
    from click.testing import CliRunner

    result = CliRunner().invoke(cli, [*command.split(), "--help"])
    assert result.exit_code == 0
    assert "Example" in result.output
    assert f"bridge {command}" in result.output


def test_writing_commands_have_dry_run_and_json() -> None:
    for name in ("move", "merge", "resolve", "reopen"):
        params = {p.name for p in cli.commands[name].params}
        assert {"dry_run", "as_json"} <= params, name


def test_evidence_add_dry_run_adds_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    made = observe(capsys, "Disk full", "h")
    Path("more.txt").write_text("more\n")
    preview = as_json(capsys, "evidence", "add", made["observation"], "more.txt", "--dry-run")
    assert isinstance(preview, dict) and preview["dry_run"]
    assert [r["name"] for r in preview["added"]] == ["more.txt"]
    shown = as_json(capsys, "show", made["observation"])
    assert [e["name"] for e in shown["evidence"]] == ["df.txt"]


def test_ctrl_c_while_recording_says_what_to_do(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from tracker_bridge.workflows import observe as flow

    def interrupted(*_args: object, **_kw: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(flow, "run", interrupted)
    code, out, err = run(capsys, "observe", "Disk full", "-i", "h", "--event-id", "alert-7")
    assert code == 130 and out == ""
    assert "kept in the journal if it got that far" in err and "bridge replay" in err


def test_ctrl_c_in_a_writing_command_says_what_stays_and_how_to_finish(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from tracker_bridge.bridge import Bridge

    made = observe(capsys, "Disk full", "h")

    def interrupted(*_args: object, **_kw: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(Bridge, "resolve", interrupted)
    code, out, err = run(capsys, "resolve", made["observation"])
    assert code == 130 and out == ""
    line = err.strip()
    assert line.startswith("bridge: error: interrupted (Ctrl-C)") and "\n" not in line
    assert "Run it again to finish" in line and "bridge check" in line
