"""Check reports in the formats people and CI systems read: text, JSON, JUnit, SARIF, GitHub.

Every function is pure (report in, string out); the CLI decides where the string goes.

- ``text``: findings grouped by defect, errors first, one line each, then a one-line summary.
- ``json``: ``Report.to_json`` (schema: ``tests/schemas/check-report.schema.json``).
- ``junit``: one ``<testsuite>`` per rule in force, one ``<testcase>`` per ticket the rule fired
  on (``<failure type="error|warning">``); a rule that fired on nothing has one passing case, so
  every rule shows up. ``info`` findings pass and are listed in the suite's ``<system-out>``.
  Valid against both the Jenkins (dtkit junit-4) and the Apache Ant (Windy Road) JUnit schemas.
- ``sarif``: SARIF 2.1.0, one run, the catalogue as ``tool.driver.rules``, tickets as logical
  locations (and their URL as the artifact, when they have one).
- ``github``: workflow-command annotations (``::error title=...::...``); ``github_summary`` is
  the Markdown for ``$GITHUB_STEP_SUMMARY``.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from tracker_bridge.domain.conventions import normalize
from tracker_bridge.domain.rules import Finding, Rule, Severity, natural

if TYPE_CHECKING:
    from tracker_bridge.workflows.check import Report

FORMATS = ("text", "json", "junit", "sarif", "github")
MACHINE_FORMATS = frozenset(FORMATS) - {"text"}

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SUMMARY_ROWS = 500
"""Findings listed in the GitHub step summary (GitHub caps a summary at 1 MiB)."""

_ORDER = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}
_NO_DEFECT = "(no defect)"
# Characters XML 1.0 cannot carry at all, even escaped; error messages do contain them.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def render(report: Report, fmt: str) -> str:
    """The report in ``fmt`` (one of ``FORMATS``)."""
    if fmt == "text":
        return text(report)
    if fmt == "json":
        return json_report(report)
    if fmt == "junit":
        return junit(report)
    if fmt == "sarif":
        return sarif(report)
    if fmt == "github":
        return github(report)
    raise ValueError(f"unknown report format {fmt!r}")


def summary(report: Report) -> str:
    """One line: how many tickets, how many findings of each severity, and the verdict."""
    c = report.counts()
    line = (
        f"{report.checked} ticket(s) checked: {c['error']} error(s), {c['warning']} warning(s), "
        f"{c['info']} info."
    )
    done = sum(a.done for a in report.fixes)
    if report.fixes:
        line += (
            f" {len(report.fixes)} fix(es) would be applied (dry run)."
            if report.dry_run
            else f" {done} fix(es) applied."
        )
    return line + (" FAILED" if report.failed else " OK")


def text(report: Report) -> str:
    """Findings grouped by defect, errors first; fixes (applied or proposed); the summary."""
    if not report.findings:
        return f"OK: {report.checked} ticket(s) checked, no findings."
    lines: list[str] = []
    width = max(len(f.rule) for f in report.findings)
    for defect, group in _by_defect(report.findings):
        c = _counts(group)
        lines.append(f"{defect}  ({c})")
        for f in group:
            lines.append(f"  {f.severity.value:<7} {f.rule:<{width}}  {_oneline(f.message)}")
            if f.fix is not None:
                lines.append(f"  {'':<7} {'':<{width}}  fix: {f.fix.describe()}")
            elif f.unfixable:
                lines.append(f"  {'':<7} {'':<{width}}  not fixable: {f.unfixable}")
    if report.fixes:
        lines.append("")
        lines.append("Fixes (dry run, nothing changed):" if report.dry_run else "Fixes:")
        for a in report.fixes:
            state = "would" if report.dry_run else ("done" if a.done else f"failed: {a.error}")
            lines.append(f"  {a.key}: {a.fix.describe()}  [{state}]")
    lines.append("")
    lines.append(summary(report))
    return "\n".join(lines)


def json_report(report: Report) -> str:
    """``Report.to_json`` as indented JSON."""
    return json.dumps(report.to_json(), indent=2, ensure_ascii=False)


def junit(report: Report, *, timestamp: datetime | None = None, hostname: str = "") -> str:
    """JUnit XML: a suite per rule in force, a case per ticket it fired on (see module doc)."""
    when = (timestamp or datetime.now(UTC)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")
    host = hostname or report.source or "bridge"
    by_rule: dict[str, dict[str, list[Finding]]] = {}
    for f in report.findings:
        by_rule.setdefault(f.rule, {}).setdefault(f.key, []).append(f)
    # No attributes on <testsuites>: the Ant schema allows none, and readers sum the suites.
    root = ET.Element("testsuites")
    for index, (rule, level) in enumerate(r for r in report.rules() if r[1] is not None):
        tickets = by_rule.get(rule.id, {})
        suite = ET.SubElement(
            root,
            "testsuite",
            name=rule.id,
            package="bridge.check",
            id=str(index),
            timestamp=when,
            hostname=_xml(host),
        )
        props = ET.SubElement(suite, "properties")
        ET.SubElement(props, "property", name="severity", value=str(level))
        ET.SubElement(props, "property", name="rationale", value=rule.rationale)
        classname = f"bridge.check.{rule.id}"
        failures = 0
        notes: list[str] = []
        for key in sorted(tickets, key=natural):
            found = tickets[key]
            case = ET.SubElement(suite, "testcase", name=key, classname=classname, time="0")
            worst = min((f.severity for f in found), key=_ORDER.__getitem__)
            body = "\n".join(_detail(f) for f in found)
            if worst is Severity.INFO:
                notes.append(body)
                continue
            failures += 1
            fail = ET.SubElement(
                case, "failure", type=worst.value, message=_xml(_oneline(found[0].message))
            )
            fail.text = _xml(body)
        if not tickets:
            ET.SubElement(
                suite,
                "testcase",
                name=f"{report.checked} ticket(s)",
                classname=classname,
                time="0",
            )
        ET.SubElement(suite, "system-out").text = _xml("\n\n".join(notes))
        ET.SubElement(suite, "system-err").text = ""
        tests = max(len(tickets), 1)
        suite.set("tests", str(tests))
        suite.set("failures", str(failures))
        suite.set("errors", "0")
        suite.set("time", "0")
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode")


def sarif(report: Report) -> str:
    """SARIF 2.1.0 (one run; tickets are logical locations, their URL the artifact)."""
    in_force = report.rules()
    index = {rule.id: i for i, (rule, _) in enumerate(in_force)}
    rules = [_sarif_rule(rule, level) for rule, level in in_force]
    results = [_sarif_result(f, index[f.rule]) for f in _sorted(report.findings)]
    log: dict[str, Any] = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "tracker-bridge",
                        "version": _version(),
                        "informationUri": "https://pypi.org/project/tracker-bridge/",
                        "rules": rules,
                    }
                },
                "automationDetails": {"id": "bridge-check/"},
                "invocations": [
                    {
                        "executionSuccessful": True,
                        "properties": {"checked": report.checked, "source": report.source},
                    }
                ],
                "results": results,
            }
        ],
    }
    return json.dumps(log, indent=2, ensure_ascii=False)


def github(report: Report) -> str:
    """GitHub Actions workflow commands: one annotation per finding, then a notice summary."""
    level = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}
    lines = []
    for f in _sorted(report.findings):
        title = f"{f.rule}: {f.key}"
        message = f.message + (f" Fix: {f.fix.describe()}." if f.fix else "")
        if f.url:
            message += f"\n{f.url}"
        lines.append(f"::{level[f.severity]} title={_gh_property(title)}::{_gh_data(message)}")
    lines.append(f"::notice title=bridge check::{_gh_data(summary(report))}")
    return "\n".join(lines)


def github_summary(report: Report, *, limit: int = SUMMARY_ROWS) -> str:
    """Markdown for ``$GITHUB_STEP_SUMMARY``: counts, then findings grouped by defect."""
    c = report.counts()
    verdict = "failed" if report.failed else "passed"
    lines = [
        f"## bridge check {verdict}",
        "",
        f"{report.checked} ticket(s) checked.",
        "",
        "| Errors | Warnings | Info |",
        "| ---: | ---: | ---: |",
        f"| {c['error']} | {c['warning']} | {c['info']} |",
        "",
    ]
    if not report.findings:
        return "\n".join([*lines, "No findings."]) + "\n"
    lines += [
        "| Defect | Ticket | Severity | Rule | Finding | Fix |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    shown = 0
    for defect, group in _by_defect(report.findings):
        for f in group:
            if shown == limit:
                break
            ticket = f"[{_md(f.key)}]({f.url})" if f.url.startswith("http") else _md(f.key)
            fix = f.fix.describe() if f.fix else f.unfixable
            lines.append(
                f"| {_md(defect)} | {ticket} | {f.severity.value} | `{f.rule}` "
                f"| {_md(f.message)} | {_md(fix)} |"
            )
            shown += 1
    if shown < len(report.findings):
        lines += ["", f"… and {len(report.findings) - shown} more: see the full report."]
    return "\n".join(lines) + "\n"


def catalogue(rules: Iterable[tuple[Rule, Severity | None]]) -> str:
    """The rule catalogue for ``--list-rules``: id, severity in force, fix, rationale."""
    lines = []
    for rule, level in rules:
        grade = level.value if level else "off"
        if level is not rule.severity:
            grade += f" (default {rule.severity.value})"
        lines.append(f"{rule.id:<36} {grade}")
        lines.append(f"    {rule.rationale}")
        if rule.fix:
            lines.append(f"    fix: {rule.fix}")
    return "\n".join(lines)


def rule_json(rule: Rule, level: Severity | None) -> dict[str, Any]:
    """One catalogue entry as JSON."""
    return {
        "id": rule.id,
        "severity": level.value if level else "off",
        "default_severity": rule.severity.value,
        "rationale": rule.rationale,
        "fixable": rule.fixable,
        "fix": rule.fix or None,
    }


# -- helpers -------------------------------------------------------------------------------


def _sorted(findings: Iterable[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda f: (_ORDER[f.severity], natural(f.key), f.rule))


def _by_defect(findings: Sequence[Finding]) -> list[tuple[str, list[Finding]]]:
    groups: dict[str, list[Finding]] = {}
    for f in findings:
        groups.setdefault(f.defect or _NO_DEFECT, []).append(f)
    order = sorted(groups, key=lambda d: (d == _NO_DEFECT, natural(d)))
    return [(d, _sorted(groups[d])) for d in order]


def _counts(group: Sequence[Finding]) -> str:
    parts = []
    for severity in Severity:
        n = sum(f.severity is severity for f in group)
        if n:
            parts.append(f"{n} {severity.value}")
    return ", ".join(parts)


def _detail(f: Finding) -> str:
    lines = [f"{f.severity.value}: {f.message}"]
    if f.fix is not None:
        lines.append(f"fix: {f.fix.describe()}")
    elif f.unfixable:
        lines.append(f"not fixable: {f.unfixable}")
    if f.url:
        lines.append(f.url)
    return "\n".join(lines)


def _sarif_rule(rule: Rule, level: Severity | None) -> dict[str, Any]:
    return {
        "id": rule.id,
        "name": "".join(part.capitalize() for part in rule.id.split("-")),
        "shortDescription": {"text": rule.rationale},
        "help": {"text": rule.rationale + (f" Fix: {rule.fix}." if rule.fix else "")},
        "defaultConfiguration": {
            "enabled": level is not None,
            "level": _sarif_level(level or rule.severity),
        },
        "properties": {"fixable": rule.fixable},
    }


def _sarif_result(f: Finding, rule_index: int) -> dict[str, Any]:
    location: dict[str, Any] = {
        "logicalLocations": [{"name": f.key, "fullyQualifiedName": f.key, "kind": "object"}]
    }
    if f.url:
        location["physicalLocation"] = {"artifactLocation": {"uri": f.url}}
    result: dict[str, Any] = {
        "ruleId": f.rule,
        "ruleIndex": rule_index,
        "level": _sarif_level(f.severity),
        "message": {"text": f.message},
        "locations": [location],
        "partialFingerprints": {"ticket/v1": f"{f.rule}:{f.key}"},
        "properties": {"ticket": f.key, "defect": f.defect},
    }
    if f.related:
        result["relatedLocations"] = [
            {"id": i, "logicalLocations": [{"name": key, "fullyQualifiedName": key}]}
            for i, key in enumerate(f.related)
        ]
    if f.fix is not None:
        result["properties"]["fix"] = f.fix.describe()
    elif f.unfixable:
        result["properties"]["unfixable"] = f.unfixable
    return result


def _sarif_level(severity: Severity) -> str:
    return "note" if severity is Severity.INFO else severity.value


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("tracker-bridge")
    except PackageNotFoundError:
        return "0"


def _xml(value: str) -> str:
    return _NOT_XML.sub("\ufffd", value)


def _oneline(text: str) -> str:
    return " ".join(text.split())


def _gh_data(text: str) -> str:
    # The escaping of @actions/core's issueCommand: data escapes %, CR and LF.
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _gh_property(text: str) -> str:
    return _gh_data(text).replace(":", "%3A").replace(",", "%2C")


def _md(text: str) -> str:
    return (
        normalize(text)
        .replace("&", "&amp;")
        .replace("\\", "\\\\")
        .replace("|", "\\|")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
    )
