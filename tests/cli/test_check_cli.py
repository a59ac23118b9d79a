"""`bridge check` as CI meets it: formats, --output, exit statuses, --fix, a tracker that fails."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest

from support.cli import run
from support.contract import evidence, new_defect, new_observation
from support.trackers import FailingTracker
from tracker_bridge import trackers
from tracker_bridge.domain.conventions import Conventions
from tracker_bridge.domain.tickets import Kind, Ticket
from tracker_bridge.trackers.local import LocalTracker

CONV = Conventions()
DB = ".bridge/bridge.db"


@pytest.fixture
def local() -> Iterator[LocalTracker]:
    tracker = LocalTracker(DB)
    yield tracker
    tracker.close()


def healthy(tracker: LocalTracker) -> str:
    defect = tracker.create(new_defect(CONV, "Disk full")).key
    obs = tracker.create(new_observation(CONV, defect, "Disk full", "db-1", actions=("rm",))).key
    tracker.attach(obs, [evidence("df.txt", "100%")])
    return defect


def test_clean_tracker_exits_0_in_every_format(
    capsys: pytest.CaptureFixture[str], local: LocalTracker
) -> None:
    healthy(local)
    for fmt in ("text", "json", "junit", "sarif", "github"):
        code, out, err = run(capsys, "check", "--format", fmt)
        assert code == 0, (fmt, out, err)
        assert out.strip()
    assert "OK: 2 ticket(s) checked" in run(capsys, "check")[1]


def test_warnings_exit_0_errors_exit_1(
    capsys: pytest.CaptureFixture[str], local: LocalTracker
) -> None:
    defect = healthy(local)
    local.create(new_observation(CONV, defect, "Disk full", "db-2"))  # no evidence, no action
    code, out, _ = run(capsys, "check", "--json")
    data = json.loads(out)
    assert code == 1 and data["failed"] is True
    assert {f["rule"] for f in data["findings"]} == {
        "observation-without-evidence",
        "observation-without-action",
    }
    code, _, _ = run(capsys, "check", "--rule", "observation-without-action")
    assert code == 0


@pytest.mark.parametrize(
    ("args", "config", "needle"),
    [
        (["--rule", "nope"], "", "unknown rule"),
        (["--dry-run"], "", "--dry-run only makes sense with --fix"),
        (["--format", "xml"], "", "Invalid value for '--format'"),
        ([], '[check.rules]\nno-such-rule = "off"\n', "unknown rule id(s): no-such-rule"),
        ([], '[check.rules]\nstale-observation = "fatal"\n', "[check.rules] stale-observation"),
        ([], "[check]\nstale_days = 0\n", "[check] stale_days"),
        (["--list-rules"], '[check.rules]\nnope = "off"\n', "unknown rule id(s): nope"),
    ],
)
def test_bad_usage_or_config_exits_2(
    capsys: pytest.CaptureFixture[str], args: list[str], config: str, needle: str
) -> None:
    if config:
        Path("bridge.toml").write_text(config)
    code, out, err = run(capsys, "check", *args, "--output", "report.txt")
    assert code == 2, err
    assert needle in err and "Traceback" not in err
    assert out == "" and not Path("report.txt").exists()


def test_unreadable_tracker_exits_3_and_writes_no_report(
    capsys: pytest.CaptureFixture[str], local: LocalTracker, monkeypatch: pytest.MonkeyPatch
) -> None:
    healthy(local)
    healthy(local)
    monkeypatch.setattr(trackers, "build", lambda settings, conventions: FailingTracker(DB))
    for fmt in ("junit", "text"):
        code, out, err = run(capsys, "check", "--format", fmt, "--output", "report.xml")
        assert code == 3
        assert "after reading 3 ticket(s)" in err and "No report was written" in err
        assert out == "" and not Path("report.xml").exists()
    code, out, err = run(capsys, "check", "--format", "junit")
    assert code == 3 and out == ""


def test_output_file_gets_the_report_and_the_terminal_a_summary(
    capsys: pytest.CaptureFixture[str], local: LocalTracker
) -> None:
    defect = healthy(local)
    local.create(new_observation(CONV, defect, "Disk full", "db-2"))
    code, out, err = run(capsys, "check", "--format", "junit", "--output", "out/report.xml")
    assert code == 2 and "cannot write the report to out/report.xml" in err  # no such dir
    Path("out").mkdir()
    code, out, err = run(capsys, "check", "--format", "junit", "--output", "out/report.xml")
    assert code == 1 and out == ""
    assert err.strip() == (
        "3 ticket(s) checked: 1 error(s), 1 warning(s), 0 info. FAILED "
        "Report written to out/report.xml."
    )
    root = ET.parse("out/report.xml").getroot()
    assert root.tag == "testsuites"
    assert [p.name for p in Path("out").iterdir()] == ["report.xml"]  # no temporary left


def test_github_format_writes_the_step_summary(
    capsys: pytest.CaptureFixture[str], local: LocalTracker, monkeypatch: pytest.MonkeyPatch
) -> None:
    defect = healthy(local)
    local.create(new_observation(CONV, defect, "Disk full", "db-2"))
    summary = Path("step-summary.md")
    summary.write_text("earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    code, out, _ = run(capsys, "check", "--format", "github")
    assert code == 1
    assert out.startswith("::error title=observation-without-evidence%3A OPS-3::")
    text = summary.read_text()
    assert text.startswith("earlier step\n## bridge check failed")  # appended, not replaced
    monkeypatch.delenv("GITHUB_STEP_SUMMARY")
    code, _, _ = run(capsys, "check", "--format", "github")
    assert code == 1 and summary.read_text() == text


def test_fix_dry_run_changes_nothing_then_fix_repairs(
    capsys: pytest.CaptureFixture[str], local: LocalTracker
) -> None:
    defect = healthy(local)
    bad = local.insert_raw('Handle: Disk full on db-2"', kind=Kind.OBSERVATION, parent=defect)
    local.attach(bad, [evidence("x.txt", "x")])

    code, out, _ = run(capsys, "check", "--fix", "--dry-run")
    assert code == 1
    assert f'{bad}: retitle to \'Handle: "Disk full" on "db-2"\'  [would]' in out
    assert local.get(bad).title == 'Handle: Disk full on db-2"'

    code, out, _ = run(capsys, "check", "--fix", "--json")
    data = json.loads(out)
    assert code == 0, out  # the only error was fixed; the missing action is a warning
    assert data["fixes"] == [
        {
            "key": bad,
            "rule": "observation-title",
            "action": "retitle",
            "value": 'Handle: "Disk full" on "db-2"',
            "fix": 'retitle to \'Handle: "Disk full" on "db-2"\'',
            "done": True,
            "error": None,
        }
    ]
    assert local.get(bad).title == 'Handle: "Disk full" on "db-2"'
    code, out, _ = run(capsys, "check", "--json")
    assert code == 0
    assert "observation-title" not in {f["rule"] for f in json.loads(out)["findings"]}


def test_list_rules(capsys: pytest.CaptureFixture[str]) -> None:
    Path("bridge.toml").write_text('[check.rules]\nobservation-without-action = "off"\n')
    code, out, _ = run(capsys, "check", "--list-rules")
    assert code == 0
    assert "observation-without-action           off (default warning)" in out
    assert "duplicate-defects" in out and "fix: retitle to the canonical form" in out
    code, out, _ = run(capsys, "check", "--list-rules", "--json")
    rules = {r["id"]: r for r in json.loads(out)}
    assert code == 0 and len(rules) == 13 and "unscanned-evidence" in rules
    assert rules["observation-without-action"]["severity"] == "off"
    assert rules["observation-title"]["fixable"] is True
    assert not Path(DB).exists()  # listing the rules reads no tracker


def test_machine_formats_print_nothing_but_the_report(
    capsys: pytest.CaptureFixture[str], local: LocalTracker
) -> None:
    healthy(local)
    for fmt in ("json", "sarif"):
        code, out, err = run(capsys, "check", "--format", fmt)
        assert code == 0 and err == ""
        json.loads(out)
    code, out, err = run(capsys, "check", "--format", "junit")
    assert err == "" and ET.fromstring(out).tag == "testsuites"


def test_one_scan_writes_several_formats(
    capsys: pytest.CaptureFixture[str], local: LocalTracker, monkeypatch: pytest.MonkeyPatch
) -> None:
    defect = healthy(local)
    local.create(new_observation(CONV, defect, "Disk full", "db-2"))
    scans = []
    real_scan = LocalTracker.scan

    def counting(self: LocalTracker, title_prefix: str) -> Iterator[Ticket]:
        scans.append(title_prefix)
        return real_scan(self, title_prefix)

    monkeypatch.setattr(LocalTracker, "scan", counting)
    code, out, _ = run(
        capsys,
        "check",
        "--format",
        "github",
        "--write",
        "junit=bridge-check.xml",
        "--write",
        "sarif=bridge-check.sarif",
    )
    assert code == 1 and len(scans) == 1
    assert out.startswith("::error ")
    assert ET.parse("bridge-check.xml").getroot().tag == "testsuites"
    assert json.loads(Path("bridge-check.sarif").read_text())["version"] == "2.1.0"


@pytest.mark.parametrize("value", ["junit", "xml=out.xml", "junit="])
def test_bad_write_exits_2(capsys: pytest.CaptureFixture[str], value: str) -> None:
    code, _, err = run(capsys, "check", "--write", value)
    assert code == 2 and "FORMAT=FILE" in err
    assert not Path(DB).exists()
