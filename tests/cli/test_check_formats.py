"""Every report format, read back by a real parser or validated against its schema."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path

import jsonschema
import pytest
import xmlschema
from markdown_it import MarkdownIt

from tracker_bridge.cli import check_formats as formats
from tracker_bridge.domain.conventions import normalize
from tracker_bridge.domain.rules import RULES, Finding, Fix, Severity
from tracker_bridge.workflows.check import Applied, Report

SCHEMAS = Path(__file__).parents[1] / "schemas"
NASTY = 'disk "full" | 100% <b>&amp; ]]> a,b:c\nsecond line\x00\x1b[31m ünï'


def finding(rule: str, key: str, severity: Severity, **kw: object) -> Finding:
    return Finding(rule=rule, severity=severity, key=key, message=f"{key} breaks {rule}.", **kw)  # type: ignore[arg-type]


@pytest.fixture
def report() -> Report:
    found = (
        finding(
            "observation-title",
            "OPS-3",
            Severity.ERROR,
            defect="OPS-1",
            fix=Fix("retitle", 'Handle: "Disk full" on "db-2"'),
            url="https://jira.example/browse/OPS-3",
        ),
        finding("observation-without-action", "OPS-3", Severity.WARNING, defect="OPS-1"),
        Finding(
            rule="observation-without-evidence",
            severity=Severity.ERROR,
            key="OPS-10",
            message=NASTY,
            defect="OPS-1",
        ),
        finding(
            "observation-without-defect",
            "OPS-7",
            Severity.ERROR,
            unfixable="no defect carries its message's fingerprint",
        ),
        finding(
            "duplicate-defects", "OPS-12", Severity.WARNING, defect="OPS-12", related=("OPS-1",)
        ),
        finding("stale-observation", "OPS-2", Severity.INFO, defect="OPS-1"),
    )
    levels = tuple(
        (r.id, None if r.id == "remediation-missing-context" else r.severity) for r in RULES
    )
    levels = tuple((i, Severity.INFO if i == "stale-observation" else s) for i, s in levels)
    return Report(findings=found, checked=42, levels=levels, source="jira:OPS@example")


@pytest.fixture
def clean() -> Report:
    return Report(findings=(), checked=7, source="memory")


# -- text -------------------------------------------------------------------------------------


def test_text_groups_by_defect_errors_first(report: Report) -> None:
    out = formats.text(report)
    lines = out.splitlines()
    heads = [line for line in lines if line and not line.startswith(" ")]
    assert heads[:3] == [
        "OPS-1  (2 error, 1 warning, 1 info)",
        "OPS-12  (1 warning)",
        "(no defect)  (1 error)",
    ]
    block = out.split("OPS-12  (")[0]
    assert block.index("observation-title") < block.index("observation-without-action")
    assert block.index("OPS-3 breaks observation-without-action") < block.index(
        "OPS-2 breaks stale-observation"
    )
    assert 'fix: retitle to \'Handle: "Disk full" on "db-2"\'' in out
    assert "not fixable: no defect carries" in out
    assert "second line" in out and "\nsecond line" not in out  # one line per finding
    assert lines[-1] == "42 ticket(s) checked: 3 error(s), 2 warning(s), 1 info. FAILED"


def test_text_clean(clean: Report) -> None:
    assert formats.text(clean) == "OK: 7 ticket(s) checked, no findings."
    assert formats.summary(clean).endswith(" OK")


def test_text_lists_fixes(report: Report) -> None:
    fix = Fix("retitle", "T")
    dry = Report(
        findings=report.findings,
        checked=1,
        fixes=(Applied("OPS-3", "observation-title", fix, done=False),),
        dry_run=True,
    )
    assert "Fixes (dry run, nothing changed):\n  OPS-3: retitle to 'T'  [would]" in formats.text(
        dry
    )
    assert "1 fix(es) would be applied (dry run)" in formats.summary(dry)


# -- json -------------------------------------------------------------------------------------


def test_json_matches_its_schema(report: Report, clean: Report) -> None:
    schema = json.loads((SCHEMAS / "check-report.schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    for r in (report, clean):
        data = json.loads(formats.json_report(r))
        jsonschema.Draft202012Validator(schema).validate(data)
    data = json.loads(formats.json_report(report))
    assert data["rules"]["remediation-missing-context"] == "off"
    assert data["findings"][0]["fix_action"] == {
        "action": "retitle",
        "value": 'Handle: "Disk full" on "db-2"',
    }


def test_json_schema_rejects_a_broken_report(report: Report) -> None:
    schema = json.loads((SCHEMAS / "check-report.schema.json").read_text())
    data = json.loads(formats.json_report(report))
    data["findings"][0]["severity"] = "fatal"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, schema, cls=jsonschema.Draft202012Validator)


# -- junit ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def junit_schemas() -> list[xmlschema.XMLSchema]:
    return [
        xmlschema.XMLSchema(str(SCHEMAS / "junit-jenkins.xsd")),
        xmlschema.XMLSchema(str(SCHEMAS / "junit-ant.xsd")),
    ]


def test_junit_is_valid_for_jenkins_and_ant(
    report: Report, clean: Report, junit_schemas: list[xmlschema.XMLSchema]
) -> None:
    for r in (report, clean):
        xml = formats.junit(r, timestamp=datetime(2026, 11, 20, 3, 0, tzinfo=UTC))
        for schema in junit_schemas:
            schema.validate(xml)


def test_junit_schemas_reject_what_ci_would_not_read(
    report: Report, junit_schemas: list[xmlschema.XMLSchema]
) -> None:
    xml = formats.junit(report).replace("<testcase name=", "<testcase nom=", 1)
    for schema in junit_schemas:
        assert not schema.is_valid(xml)


def test_junit_one_case_per_rule_and_ticket(report: Report) -> None:
    root = ET.fromstring(formats.junit(report))
    suites = {s.get("name"): s for s in root.iter("testsuite")}
    assert "remediation-missing-context" not in suites  # off
    assert len(suites) == len(RULES) - 1
    title = suites["observation-title"]
    [case] = title.iter("testcase")
    assert (case.get("name"), case.get("classname")) == ("OPS-3", "bridge.check.observation-title")
    failure = case.find("failure")
    assert failure is not None and failure.get("type") == "error"
    assert "fix: retitle to" in (failure.text or "")
    assert title.get("failures") == "1" and title.get("tests") == "1"
    warning = suites["duplicate-defects"].find("testcase/failure")
    assert warning is not None and warning.get("type") == "warning"
    # info passes, but is not lost
    stale = suites["stale-observation"]
    assert stale.find("testcase/failure") is None
    assert "OPS-2 breaks stale-observation" in (stale.findtext("system-out") or "")
    # a rule that fired on nothing still shows as one passing case
    [passing] = suites["wrong-issue-type"].iter("testcase")
    assert passing.get("name") == "42 ticket(s)" and len(passing) == 0
    assert sum(int(s.get("failures") or 0) for s in suites.values()) == 5


def test_junit_keeps_nasty_messages_readable(report: Report) -> None:
    root = ET.fromstring(formats.junit(report))
    [case] = [c for c in root.iter("testcase") if c.get("name") == "OPS-10"]
    text = case.findtext("failure") or ""
    assert 'disk "full" | 100% <b>&amp; ]]> a,b:c\nsecond line' in text
    assert "\x00" not in text and "ünï" in text


# -- sarif ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sarif_validator() -> jsonschema.Draft4Validator:
    schema = json.loads((SCHEMAS / "sarif-schema-2.1.0.json").read_text())
    jsonschema.Draft4Validator.check_schema(schema)
    return jsonschema.Draft4Validator(schema, format_checker=jsonschema.FormatChecker())


def test_sarif_is_valid_2_1_0(
    report: Report, clean: Report, sarif_validator: jsonschema.Draft4Validator
) -> None:
    for r in (report, clean):
        sarif_validator.validate(json.loads(formats.sarif(r)))


def test_sarif_schema_rejects_a_broken_log(
    report: Report, sarif_validator: jsonschema.Draft4Validator
) -> None:
    log = json.loads(formats.sarif(report))
    log["runs"][0]["results"][0]["level"] = "fatal"
    assert not sarif_validator.is_valid(log)


def test_sarif_content(report: Report) -> None:
    run = json.loads(formats.sarif(report))["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == [r.id for r in RULES]
    off = rules[[r["id"] for r in rules].index("remediation-missing-context")]
    assert off["defaultConfiguration"]["enabled"] is False
    results = run["results"]
    assert [r["level"] for r in results] == ["error"] * 3 + ["warning"] * 2 + ["note"]
    for r in results:
        assert rules[r["ruleIndex"]]["id"] == r["ruleId"]
    titled = next(r for r in results if r["ruleId"] == "observation-title")
    location = titled["locations"][0]
    assert location["logicalLocations"][0]["fullyQualifiedName"] == "OPS-3"
    assert location["physicalLocation"]["artifactLocation"]["uri"].endswith("/browse/OPS-3")
    dup = next(r for r in results if r["ruleId"] == "duplicate-defects")
    assert dup["relatedLocations"][0]["logicalLocations"][0]["name"] == "OPS-1"


# -- github -----------------------------------------------------------------------------------

_COMMAND = re.compile(r"^::(?P<cmd>[a-z]+)(?: (?P<props>[^:]*))?::(?P<data>.*)$")


def parse_command(line: str) -> tuple[str, dict[str, str], str]:
    """Read one workflow command the way the Actions runner does (ActionCommand.TryParseV2)."""
    match = _COMMAND.match(line)
    assert match is not None, line
    props = {}
    for pair in filter(None, (match["props"] or "").split(",")):
        name, _, value = pair.partition("=")
        props[name] = _unescape(value, prop=True)
    return match["cmd"], props, _unescape(match["data"], prop=False)


def _unescape(text: str, *, prop: bool) -> str:
    pairs = [("%0D", "\r"), ("%0A", "\n")] + ([("%3A", ":"), ("%2C", ",")] if prop else [])
    for escaped, raw in [*pairs, ("%25", "%")]:
        text = text.replace(escaped, raw)
    return text


def test_github_annotations_round_trip(report: Report) -> None:
    lines = formats.github(report).splitlines()
    assert len(lines) == len(report.findings) + 1  # one per finding, no line broken by a message
    parsed = [parse_command(line) for line in lines]
    assert [cmd for cmd, _, _ in parsed] == ["error"] * 3 + ["warning"] * 2 + ["notice"] * 2
    nasty = next(p for p in parsed if p[1]["title"] == "observation-without-evidence: OPS-10")
    assert nasty[2] == NASTY
    titled = next(p for p in parsed if p[1]["title"] == "observation-title: OPS-3")
    assert titled[2].endswith("\nhttps://jira.example/browse/OPS-3")
    _cmd, props, data = parsed[-1]
    assert props == {"title": "bridge check"} and data == formats.summary(report)


def test_github_summary_is_markdown_tables(report: Report) -> None:
    md = MarkdownIt("commonmark").enable("table")
    tokens = md.parse(formats.github_summary(report))
    assert next(t.content for t in tokens if t.type == "inline") == "bridge check failed"
    tables = [i for i, t in enumerate(tokens) if t.type == "table_open"]
    assert len(tables) == 2
    rows = _rows(tokens[tables[1] :])
    assert rows[0] == ["Defect", "Ticket", "Severity", "Rule", "Finding", "Fix"]
    assert len(rows) == 1 + len(report.findings)
    nasty = next(r for r in rows if r[1] == "OPS-10")
    assert nasty[4] == normalize(NASTY)  # pipes, ampersands, tags survive as text
    assert next(r for r in rows if r[1] == "[OPS-3](https://jira.example/browse/OPS-3)")
    counts = _rows(tokens[tables[0] :])
    assert counts[1] == ["3", "2", "1"]


def test_github_summary_is_capped(report: Report) -> None:
    md = formats.github_summary(report, limit=2)
    assert "… and 4 more" in md
    clean = formats.github_summary(Report(findings=(), checked=3))
    assert "bridge check passed" in clean and "No findings." in clean


def _rows(tokens: list[object]) -> list[list[str]]:
    rows: list[list[str]] = []
    for t in tokens:
        kind = getattr(t, "type", "")
        if kind == "tr_open":
            rows.append([])
        elif kind == "inline" and rows:
            rows[-1].append(_plain(t))
        elif kind == "table_close":
            break
    return rows


def _plain(token: object) -> str:
    children = getattr(token, "children", None) or []
    if any(getattr(c, "type", "") == "link_open" for c in children):
        return str(getattr(token, "content", ""))
    return "".join(
        str(getattr(c, "content", "")) if getattr(c, "type", "") != "softbreak" else "\n"
        for c in children
    )


# -- catalogue --------------------------------------------------------------------------------


def test_catalogue_shows_severity_in_force_and_fix() -> None:
    levels = [(r, None if r.id == "stale-observation" else r.severity) for r in RULES]
    text = formats.catalogue(levels)
    assert "stale-observation                    off (default warning)" in text
    assert "fix: retitle to the canonical form" in text
    entry = formats.rule_json(RULES[0], Severity.WARNING)
    assert entry["severity"] == "warning" and entry["default_severity"] == "error"
