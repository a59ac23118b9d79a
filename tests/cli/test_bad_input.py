"""Bad input never gives a traceback: exit status 2 and one line that says what to do."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fakes.github import FakeGitHub
from fakes.jira import EMAIL, FakeJira
from support.cli import run

BLOCKS = "{% block title %}Washup{% endblock %}\n{% block body %}\n"


def refused(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    """Run ``bridge ARGS``, expect exit 2 and a one-line error, and return that line."""
    code, out, err = run(capsys, *args)
    assert code == 2, (code, out, err)
    assert "Traceback" not in err and "internal error" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("bridge: error: ")
    assert not Path(".bridge/last-error.log").exists()
    return lines[0]


def observed(capsys: pytest.CaptureFixture[str]) -> dict[str, object]:
    code, out, err = run(capsys, "observe", "No space left on device", "-i", "db-1", "--json")
    assert code == 0, err
    data: dict[str, object] = json.loads(out)
    return data


# -- the embedded tracker's file -----------------------------------------------------------


def test_a_read_only_database_refuses_the_insert_with_exit_2(
    capsys: pytest.CaptureFixture[str],
) -> None:
    observed(capsys)
    db = Path(".bridge/bridge.db")
    data = bytearray(db.read_bytes())
    # SQLite treats a file whose "write version" header byte is above 2 as read-only; unlike
    # chmod, that also holds for root, so the INSERT itself is what fails
    data[18] = 3
    db.write_bytes(bytes(data))
    line = refused(capsys, "observe", "Disk full", "-i", "db-2")
    assert "cannot be written" in line and "Nothing was recorded" in line
    assert "writable" in line


def test_a_damaged_database_file_is_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    Path(".bridge").mkdir()
    Path(".bridge/bridge.db").write_bytes(b"this is not a database at all " * 200)
    line = refused(capsys, "observe", "Disk full", "-i", "db-2")
    assert "integrity_check" in line


# -- times ----------------------------------------------------------------------------------


def test_a_time_past_year_9999_in_utc_is_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    line = refused(capsys, "observe", "x", "-i", "h", "--at", "9999-12-31T23:59:59-05:00")
    assert "--at" in line and "outside the range" in line
    assert not Path(".bridge/bridge.db").exists()


def test_a_time_in_the_future_is_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    line = refused(capsys, "observe", "x", "-i", "h", "--at", "2999-01-01T00:00:00Z")
    assert "--at 2999-01-01T00:00:00+00:00 is in the future" in line
    assert not Path(".bridge/bridge.db").exists()


# -- configuration --------------------------------------------------------------------------


def test_a_non_utf8_configuration_is_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    Path("bridge.toml").write_bytes(b'[tracker]\nproject = "\xff\xfeOPS"\n')
    line = refused(capsys, "show", "OPS-1")
    assert "bridge.toml is not UTF-8" in line and "Save the configuration as UTF-8" in line


def test_a_5000_deep_configuration_is_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    Path("bridge.toml").write_text("x = " + "[" * 5000 + "]" * 5000 + "\n")
    line = refused(capsys, "show", "OPS-1")
    assert "nests tables or arrays too deeply" in line


def test_5000_deep_inline_tables_are_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    Path("bridge.toml").write_text("x = " + "{a = " * 5000 + "1" + "}" * 5000 + "\n")
    refused(capsys, "check")


# -- templates ------------------------------------------------------------------------------


@pytest.fixture
def templates(capsys: pytest.CaptureFixture[str]) -> tuple[Path, str]:
    Path("tpl").mkdir()
    Path("bridge.toml").write_text('templates_dir = "tpl"\n')
    return Path("tpl"), str(observed(capsys)["defect"])


def test_a_template_dividing_by_zero_is_exit_2(
    capsys: pytest.CaptureFixture[str], templates: tuple[Path, str]
) -> None:
    folder, defect = templates
    (folder / "postmortem.md.j2").write_text(BLOCKS + "line two\n{{ 1/0 }}\n{% endblock %}\n")
    line = refused(capsys, "postmortem", defect)
    assert "template postmortem.md.j2 line 4: ZeroDivisionError" in line


def test_a_template_including_itself_is_exit_2(
    capsys: pytest.CaptureFixture[str], templates: tuple[Path, str]
) -> None:
    folder, defect = templates
    (folder / "postmortem.md.j2").write_text(
        BLOCKS + '{% include "postmortem.md.j2" %}\n{% endblock %}\n'
    )
    line = refused(capsys, "postmortem", defect)
    assert "includes, imports or extends itself" in line


def test_a_delegation_template_error_is_exit_2_and_files_nothing(
    capsys: pytest.CaptureFixture[str], templates: tuple[Path, str]
) -> None:
    folder, defect = templates
    Path("bridge.toml").write_text('templates_dir = "tpl"\n[teams.platform]\nproject = "PLAT"\n')
    (folder / "remediation.md.j2").write_text(BLOCKS + "{{ '%d' % 'x' }}\n{% endblock %}\n")
    line = refused(capsys, "delegate", defect, "--to", "platform")
    assert "template remediation.md.j2 line 3: TypeError" in line
    code, out, _ = run(capsys, "show", defect, "--json")
    assert code == 0 and json.loads(out)["remediations"] == []


# -- a rejected token: one error, one exit status, on every backend -------------------------


def test_a_rejected_jira_token_is_exit_2(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with FakeJira("cloud") as site:
        monkeypatch.setenv("BRIDGE_TRACKER__TOKEN", "not-the-token")
        Path("bridge.toml").write_text(
            f'[tracker]\nkind = "jira"\nurl = "{site.url}"\nproject = "OPS"\n'
            f'deployment = "cloud"\nemail = "{EMAIL}"\n'
        )
        line = refused(capsys, "show", "OPS-1")
    assert "did not accept the credentials" in line and "BRIDGE_TRACKER__TOKEN" in line
    assert "not-the-token" not in line


def test_a_rejected_github_token_is_exit_2(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with FakeGitHub() as server:
        monkeypatch.setenv("BRIDGE_TRACKER__TOKEN", "not-the-token")
        Path("bridge.toml").write_text(
            f'[tracker]\nkind = "github"\nurl = "{server.url}"\nrepository = "{server.full_name}"\n'
        )
        line = refused(capsys, "show", "#1")
    assert "rejected the token" in line and "BRIDGE_TRACKER__TOKEN" in line
    assert "not-the-token" not in line


# -- usage ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["observe", "x", "-i", "h", "--frobnicate"], "No such option '--frobnicate'"),
        (["move", "--to", "OPS-1"], "Missing argument 'OBSERVATION...'"),
        (["list", "--since", "yesterday"], "'yesterday' is not a date"),
        (["report", "--output", "."], "'.' is a directory"),
        (["observe", "x", "-i", "h", "--capture-timeout", "-1"], "--capture-timeout"),
        (["nonsense"], "No such command 'nonsense'"),
    ],
)
def test_a_usage_error_is_one_line_naming_the_help(
    capsys: pytest.CaptureFixture[str], args: list[str], needle: str
) -> None:
    line = refused(capsys, *args)
    assert needle in line
    assert line.endswith("--help` for examples.")
    assert not Path(".bridge").exists()


def test_an_argument_that_is_not_utf8_is_exit_2_and_records_nothing(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # how Python hands over argv bytes that are not UTF-8 (surrogateescape)
    latin1 = b"caf\xe9 full".decode("utf-8", "surrogateescape")
    line = refused(capsys, "observe", "Brand new defect", "-i", latin1, "-a", "wiped")
    assert "argument 4" in line and "byte 0xe9 at position 3" in line and "iconv" in line
    assert not Path(".bridge").exists()
    observed(capsys)
    for args in (["resolve", "OPS-2", "--note", latin1], ["reopen", "OPS-1", "--note", latin1]):
        assert "is not UTF-8 text" in refused(capsys, *args)
    code, out, _ = run(capsys, "show", "OPS-2", "--json")
    assert code == 0 and json.loads(out)["status"] == "open"


def test_a_duration_too_big_for_a_timedelta_is_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    line = refused(capsys, "observe", "x", "-i", "h", "--duration", "99999999999999999999d")
    assert "--duration" in line and "longer than a year" in line
    assert not Path(".bridge").exists()


# -- evidence paths -------------------------------------------------------------------------


def test_an_empty_evidence_path_is_exit_2_not_the_whole_directory(
    capsys: pytest.CaptureFixture[str],
) -> None:
    observed(capsys)
    line = refused(capsys, "observe", "x", "-i", "h", "--evidence", "")
    assert "empty path is not evidence" in line
    assert "empty path is not evidence" in refused(capsys, "evidence", "add", "OPS-2", "")
    code, out, _ = run(capsys, "show", "OPS-2", "--json")
    assert code == 0 and json.loads(out)["evidence"] == []


def test_a_directory_holding_the_bridge_state_is_exit_2(
    capsys: pytest.CaptureFixture[str],
) -> None:
    observed(capsys)
    for where in (".", str(Path.cwd())):
        line = refused(capsys, "evidence", "add", "OPS-2", where)
        assert "holds the bridge's own state" in line
    Path("logs").mkdir()
    Path("logs/app.log").write_text("boom\n")
    code, out, err = run(capsys, "evidence", "add", "OPS-2", "logs")
    assert code == 0 and "logs/app.log" in out, err


def test_a_fifo_as_evidence_is_exit_2_instead_of_blocking(
    capsys: pytest.CaptureFixture[str],
) -> None:
    import os

    os.mkfifo("pipe")
    line = refused(capsys, "observe", "x", "-i", "h", "--evidence", "pipe")
    assert "only regular files" in line
    assert not Path(".bridge").exists()
    assert "only regular files" in refused(capsys, "observe", "x", "-i", "h", "-e", "/dev/zero")


@pytest.mark.parametrize("seconds", ["nan", "inf", "-inf"])
def test_a_capture_timeout_that_is_not_a_number_of_seconds_is_exit_2(
    capsys: pytest.CaptureFixture[str], seconds: str
) -> None:
    line = refused(capsys, "observe", "x", "-i", "h", "-c", "true", "--capture-timeout", seconds)
    assert "--capture-timeout" in line
    assert not Path(".bridge").exists()


@pytest.mark.parametrize(
    "args",
    [
        ["report", "--output", ""],
        ["report", "--format", "html", "--output", "missing/.."],
        ["postmortem", "OPS-1", "--output", ""],
        ["check", "--output", ""],
    ],
)
def test_an_output_that_names_no_file_is_exit_2(
    capsys: pytest.CaptureFixture[str], args: list[str]
) -> None:
    observed(capsys)
    assert "names no file" in refused(capsys, *args)


def test_evidence_from_dot_is_named_after_the_directory(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "app.log").write_text("boom\n")
    monkeypatch.chdir(logs)
    code, out, err = run(capsys, "observe", "x", "-i", "h", "-e", ".", "--dry-run", "--json")
    assert code == 0, err
    assert [e["name"] for e in json.loads(out)["evidence"]] == ["logs/app.log"]


def test_an_error_shows_what_the_user_gave_without_obeying_or_flooding(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert run(capsys, "observe", "x", "-i", "h")[0] == 0  # a tracker here: `show` looks it up
    line = refused(capsys, "show", "OPS-\u202e1\x1b[31m")
    assert "\u202e" not in line and "\x1b" not in line and "\\x202e" in line
    line = refused(capsys, "show", "K" * 100_000)
    assert len(line) < 2000 and "characters cut" in line
