"""The ``bridge`` command as users and scripts meet it: output, exit status, nothing half-made."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import click
import pytest

from support.cli import run
from tracker_bridge import cli


def tickets(capsys: pytest.CaptureFixture[str]) -> int:
    if not Path(".bridge/bridge.db").exists():
        return 0
    _code, out, _ = run(capsys, "check", "--json")
    return int(json.loads(out)["checked"])


def test_the_story(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    Path("df.txt").write_text("/dev/sda1 100G 100G 0 100% /\n")
    code, out, _ = run(
        capsys,
        "observe",
        "No space left on device",
        "--instance",
        "replica-2",
        "--evidence",
        "df.txt",
        "--action",
        "wiped /tmp",
        "--json",
    )
    assert code == 0
    first = json.loads(out)
    assert {"observation", "defect", "defect_created", "matched_by", "evidence", "url"} <= set(
        first
    )
    assert first["defect_created"] is True and first["matched_by"] == "new"
    assert first["title"] == 'Handle: "No space left on device" on "replica-2"'
    assert [e["name"] for e in first["evidence"]] == ["df.txt"]

    code, out, _ = run(
        capsys,
        "observe",
        "No space left on device",
        "--instance",
        "replica-1",
        "--capture",
        "ls -lah /tmp",
        "--json",
    )
    second = json.loads(out)
    assert code == 0
    assert (second["defect"], second["defect_created"], second["matched_by"]) == (
        first["defect"],
        False,
        "fingerprint",
    )
    assert second["captures"][0]["exit_status"] == 0

    code, out, _ = run(capsys, "show", first["defect"], "--json")
    shown = json.loads(out)
    assert code == 0
    assert {"key", "kind", "title", "status", "created"} <= set(shown)
    assert shown["kind"] == "defect"
    assert [o["instance"] for o in shown["observations"]] == ["replica-2", "replica-1"]
    assert all({"key", "title", "instance", "observed_at"} <= set(o) for o in shown["observations"])
    assert shown["remediations"] == []

    code, out, _ = run(capsys, "show", first["defect"])
    assert code == 0 and "observations (2)" in out and "wiped /tmp" in out

    code, out, _ = run(capsys, "check", "--json")
    assert code == 0
    # replica-1's observation records no action: a warning, which does not fail the run
    assert [f["severity"] for f in json.loads(out)["findings"]] in ([], ["warning"])


def test_json_output_is_only_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _err = run(
        capsys, "observe", "Disk full", "-i", "h", "--capture", "echo hi", "--json"
    )
    assert code == 0
    json.loads(out)


def test_capture_runs_before_anything_else(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys,
        "observe",
        "Disk full",
        "-i",
        "h",
        "--json",
        "--capture",
        "ls -a .bridge || echo NO-BRIDGE-YET",
    )
    assert code == 0
    [ref] = json.loads(out)["evidence"]
    code, out, _ = run(capsys, "show", json.loads(out)["observation"], "--json")
    from tracker_bridge.trackers.local import LocalTracker

    data = LocalTracker(".bridge/bridge.db").blob(ref["sha256"])
    assert b"NO-BRIDGE-YET" in data and b"$ ls -a .bridge" in data


def test_bad_input_is_refused_before_any_capture_runs(capsys: pytest.CaptureFixture[str]) -> None:
    for args in (
        ["", "-i", "h"],
        ["Disk full", "-i", "h" * 300],
        ["Disk full", "-i", "h", "-e", "nope"],
    ):
        code, _, _ = run(capsys, "observe", *args, "--capture", "touch captured.flag")
        assert code == 2
        assert not Path("captured.flag").exists()


def test_failing_capture_is_evidence_not_an_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys, "observe", "Disk full", "-i", "h", "--json", "--capture", "ls /nonexistent-dir"
    )
    assert code == 0
    assert json.loads(out)["captures"][0]["exit_status"] != 0


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["observe", "", "-i", "h"], "message is empty"),
        (
            ["observe", "Disk full", "-i", "h", "--evidence", "missing.txt"],
            "missing.txt does not exist",
        ),
        (["observe", "Disk full", "-i", "h", "--capture", "no-such-cmd-xyz --flag"], "not found"),
        (["observe", "Disk full", "-i", "h", "--at", "yesterday"], "not an ISO 8601"),
        (["observe", "Disk full", "-i", "h", "--defect", "OPS-1", "--new-defect"], "contradict"),
        (["observe", "Disk full", "-i", "h", "--config", "nope.toml"], "does not exist"),
        (["observe", "Disk full"], "Missing option '--instance'"),
        (["show", "OPS-404"], "no tracker here"),
        (["check", "--rule", "nope"], "unknown rule"),
    ],
)
def test_bad_input_exits_2_and_creates_nothing(
    capsys: pytest.CaptureFixture[str], args: list[str], needle: str
) -> None:
    code, _out, err = run(capsys, *args)
    assert code == 2
    assert needle in err
    assert "Traceback" not in err
    assert len([line for line in err.splitlines() if line.strip()]) <= 3
    assert tickets(capsys) == 0


def test_unknown_config_key_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    Path("bridge.toml").write_text("[tracker]\nkindd = 'local'\n")
    code, _, err = run(capsys, "observe", "Disk full", "-i", "h")
    assert code == 2 and "unknown key [tracker] kindd" in err
    assert not Path(".bridge/bridge.db").exists()


def test_check_exits_1_on_error_findings(capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "observe", "Disk full", "-i", "h")  # an observation without evidence
    code, out, _ = run(capsys, "check")
    assert code == 1 and "observation-without-evidence" in out
    code, out, _ = run(capsys, "check", "--format", "json")
    assert code == 1 and json.loads(out)["counts"]["error"] == 1
    Path("bridge.toml").write_text('[check.rules]\nobservation-without-evidence = "warning"\n')
    code, _, _ = run(capsys, "check")
    assert code == 0


def test_check_output_file_and_list_rules(capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "observe", "Disk full", "-i", "h")
    code, out, err = run(capsys, "check", "--format", "json", "--output", "report.json")
    assert code == 1 and out == ""
    assert "Report written to report.json" in err
    assert json.loads(Path("report.json").read_text())["checked"] == 2
    code, out, _ = run(capsys, "check", "--list-rules", "--json")
    assert code == 0 and "observation-title" in {r["id"] for r in json.loads(out)}


def test_event_id_idempotent_via_cli(capsys: pytest.CaptureFixture[str]) -> None:
    a = json.loads(run(capsys, "observe", "Disk full", "-i", "h", "--event-id", "A1", "--json")[1])
    b = json.loads(run(capsys, "observe", "Disk full", "-i", "h", "--event-id", "A1", "--json")[1])
    assert a["observation"] == b["observation"] and b["replayed"] is True
    assert tickets(capsys) == 2


def test_fingerprint_message_and_explain(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "fingerprint", "Connection to 10.0.0.7:5432 timed out after 30s")
    assert code == 0 and "fingerprint: " in out and "template: " in out and "10.0.0.7" not in out
    code, out, _ = run(capsys, "fingerprint", "Disk full on /dev/sda1", "--explain", "--json")
    data = json.loads(out)
    assert len(data["fingerprint"]) == 16 and data["explain"]


def test_fingerprint_stream_matches_observe(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    messages = [
        "No space left on device",
        "Connection to 10.0.0.7:5432 timed out after 30s",
        "User alice failed login from console",
        "Connection to 10.0.0.9:5432 timed out after 45s",
        "User bob failed login from console",
        "Permission denied",
        "No space left on device",
    ]
    code, out, _ = run(
        capsys, "fingerprint", "--stream", stdin="\n".join(messages) + "\n", monkeypatch=monkeypatch
    )
    assert code == 0
    keys = out.splitlines()
    assert len(keys) == len(messages)
    defects = [
        json.loads(run(capsys, "observe", m, "-i", f"h{i}", "--json")[1])["defect"]
        for i, m in enumerate(messages)
    ]
    # the same partition of messages into groups, whatever the group names
    assert [keys.index(k) for k in keys] == [defects.index(d) for d in defects]


def test_every_command_has_help() -> None:
    for name, command in cli.cli.commands.items():
        assert command.help and len(command.help) > 40, name
        ctx = click.Context(command, info_name=name)
        for param in command.get_params(ctx):
            if isinstance(param, click.Option) and not param.hidden:
                assert param.help, f"{name} {param.opts}"


def test_help_does_not_import_heavy_libraries(tmp_path: Path) -> None:
    code = (
        "import sys; from tracker_bridge import cli\n"
        "heavy = [m for m in ('jira', 'github', 'pydantic', 'requests', 'rich', 'sqlite3') if m in sys.modules]\n"
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_tracker_down_exits_3_keeps_the_observation_and_replays(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import socket

    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    Path("down.toml").write_text(
        f'[tracker]\nkind = "jira"\nurl = "http://127.0.0.1:{port}"\nproject = "OPS"\n'
        'deployment = "datacenter"\nmax_retry_wait = 0\n'
    )
    monkeypatch.setenv("BRIDGE_TRACKER__TOKEN", "not-a-real-token")
    Path("df.txt").write_text("100%\n")
    code, out, err = run(
        capsys,
        "observe",
        "Disk full",
        "-i",
        "db-1",
        "--evidence",
        "df.txt",
        "--event-id",
        "alert-9",
        "--config",
        "down.toml",
        "--json",
    )
    assert code == 3 and out == ""
    assert "NOT recorded" in err and "bridge replay" in err and "not-a-real-token" not in err
    code, out, _ = run(capsys, "replay", "--list", "--config", "down.toml", "--json")
    [kept] = json.loads(out)
    assert kept["event_id"] == "alert-9" and kept["state"] == "pending" and kept["bound_here"]
    assert kept["why"].startswith("tracker unavailable") and kept["evidence"][0]["name"] == "df.txt"
    # the default configuration is the embedded tracker: a Jira-bound sighting is not sent there
    code, out, err = run(capsys, "replay")
    assert code == 2 and "kept for jira http://127.0.0.1" in err and "--config" in err
    assert tickets(capsys) == 0
    code, out, _ = run(capsys, "queue", "--json")
    assert [e["id"] for e in json.loads(out)] == [kept["id"]]
    assert json.loads(out)[0]["bound_here"] is False
    code, out, _ = run(capsys, "queue", "drop", kept["id"][:12])
    assert code == 0 and "Dropped entry" in out
    code, out, _ = run(capsys, "replay")
    assert code == 0 and "Nothing to replay" in out
