"""``check``: stream the tracker's tickets through the convention rules, and apply safe fixes.

A report exists only for a complete scan: when the tracker fails part-way, ``run`` raises
``IncompleteScan`` (a ``TrackerError``, exit 3) saying how many tickets had been read, so a partial
result can never be written or shown as if it were clean.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from tracker_bridge.domain.conventions import Conventions, parse_title
from tracker_bridge.domain.matching import DEFAULT_THRESHOLD
from tracker_bridge.domain.rules import CATALOGUE, RULES, Checker, Finding, Fix, Rule, Severity
from tracker_bridge.domain.tickets import utcnow
from tracker_bridge.errors import ConfigError, IncompleteScan, TrackerError, UsageError
from tracker_bridge.trackers.base import Tracker
from tracker_bridge.workflows.decide import matcher_for

PROGRESS_EVERY = 100
"""Tickets between two progress updates (a terminal redraw per ticket would cost more than the
rules themselves)."""


@dataclass(frozen=True, slots=True)
class Applied:
    """One fix: what it was, and whether it was made (``error`` says why not)."""

    key: str
    rule: str
    fix: Fix
    done: bool
    error: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "rule": self.rule,
            "action": self.fix.action,
            "value": self.fix.value,
            "fix": self.fix.describe(),
            "done": self.done,
            "error": self.error or None,
        }


@dataclass(frozen=True, slots=True)
class Report:
    """Every finding of one complete run, how many tickets were read, and the rules in force."""

    findings: tuple[Finding, ...]
    checked: int
    levels: tuple[tuple[str, Severity | None], ...] = tuple((r.id, r.severity) for r in RULES)
    """Every rule's severity in this run, in catalogue order; ``None`` when it was off."""
    fixes: tuple[Applied, ...] = ()
    dry_run: bool = False
    """True when ``fixes`` were only shown (``--fix --dry-run``)."""
    source: str = ""
    """The tracker that was checked (its ``name``)."""

    @property
    def outstanding(self) -> tuple[Finding, ...]:
        """Findings not repaired by a fix applied in this run."""
        fixed = {(a.rule, a.key) for a in self.fixes if a.done}
        return tuple(f for f in self.findings if (f.rule, f.key) not in fixed)

    @property
    def failed(self) -> bool:
        """True when an error-level finding remains (exit status 1)."""
        return any(f.severity is Severity.ERROR for f in self.outstanding)

    def counts(self) -> dict[str, int]:
        """Findings per severity."""
        out = {s.value: 0 for s in Severity}
        for f in self.findings:
            out[f.severity.value] += 1
        return out

    def rules(self) -> list[tuple[Rule, Severity | None]]:
        """The catalogue with each rule's severity in this run (``None``: off)."""
        return [(CATALOGUE[rule_id], level) for rule_id, level in self.levels]

    def to_json(self) -> dict[str, Any]:
        return {
            "checked": self.checked,
            "failed": self.failed,
            "counts": self.counts(),
            "rules": {rule_id: level.value if level else "off" for rule_id, level in self.levels},
            "findings": [f.to_json() for f in self.findings],
            "fixes": [a.to_json() for a in self.fixes],
            "dry_run": self.dry_run,
            "source": self.source,
        }


def severities(overrides: dict[str, str], only: tuple[str, ...] = ()) -> dict[str, Severity | None]:
    """Per-rule severities from config (``off`` disables) and ``--rule`` (only those rules)."""
    unknown = sorted((set(overrides) | set(only)) - set(CATALOGUE))
    if unknown:
        raise ConfigError(
            f"unknown rule id(s): {', '.join(unknown)}.",
            hint=f"Known rules: {', '.join(CATALOGUE)} (`bridge check --list-rules`).",
        )
    out: dict[str, Severity | None] = {
        rule: None if level == "off" else Severity(level) for rule, level in overrides.items()
    }
    if only:
        out.update({rule: None for rule in CATALOGUE if rule not in only})
    return out


def run(
    tracker: Tracker,
    conventions: Conventions,
    *,
    levels: dict[str, Severity | None] | None = None,
    stale_days: int = 14,
    now: datetime | None = None,
    progress: Callable[[int], None] | None = None,
) -> Report:
    """Check every ticket in scope; ``progress`` is told how many tickets have been read.

    Raises ``IncompleteScan`` when the tracker fails mid-scan.
    """
    levels = levels or {}
    checker = Checker(
        now=now or utcnow(), conventions=conventions, severities=levels, stale_days=stale_days
    )
    findings: list[Finding] = []
    try:
        for ticket in tracker.scan(conventions.observation_prefix):
            findings += checker.feed(ticket)
            if progress is not None and checker.checked % PROGRESS_EVERY == 0:
                progress(checker.checked)
    except TrackerError as exc:
        raise IncompleteScan(
            f"the check stopped after reading {checker.checked} ticket(s): {exc.message}",
            hint=(exc.hint + " " if exc.hint else "")
            + "No report was written: a partial check must not pass for a clean one.",
            status=exc.status,
            url=exc.url,
        ) from exc
    if progress is not None:
        progress(checker.checked)
    findings += checker.finish()
    return Report(
        findings=tuple(findings),
        checked=checker.checked,
        levels=tuple((r.id, levels.get(r.id, r.severity)) for r in RULES),
        source=tracker.name,
    )


def fix(
    tracker: Tracker,
    report: Report,
    conventions: Conventions,
    *,
    dry_run: bool = False,
    threshold: float | None = None,
) -> Report:
    """Apply (or with ``dry_run`` only list) the safe fixes of ``report``; nothing is deleted.

    Orphan observations whose fingerprint no defect carries get one more chance: the defects are
    read once and matched by similarity, as ``observe`` would; a parent is set only when exactly
    one defect matches and the decision is not a close call.
    """
    if not dry_run and not (hasattr(tracker, "retitle") and hasattr(tracker, "set_parent")):
        raise UsageError(
            f"{tracker.name} cannot apply fixes yet (no retitle/set_parent).",
            hint="Run with --fix --dry-run to see the fixes, and apply them by hand.",
        )
    findings = _with_similar_parents(tracker, conventions, report.findings, threshold)
    applied: list[Applied] = []
    for finding in findings:
        if finding.fix is None:
            continue
        if dry_run:
            applied.append(Applied(finding.key, finding.rule, finding.fix, done=False))
            continue
        try:
            if finding.fix.action == "retitle":
                tracker.retitle(finding.key, finding.fix.value)
            else:
                tracker.set_parent(finding.key, finding.fix.value)
        except TrackerError as exc:
            made = sum(a.done for a in applied)
            raise type(exc)(
                f"{exc.message} (while fixing {finding.key}; {made} fix(es) applied before).",
                hint=exc.hint,
            ) from exc
        applied.append(Applied(finding.key, finding.rule, finding.fix, done=True))
    return replace(report, findings=tuple(findings), fixes=tuple(applied), dry_run=dry_run)


def _with_similar_parents(
    tracker: Tracker,
    conventions: Conventions,
    findings: Iterable[Finding],
    threshold: float | None,
) -> list[Finding]:
    findings = list(findings)
    unmatched = [
        f
        for f in findings
        if f.rule == "observation-without-defect" and f.fix is None and "no defect" in f.unfixable
    ]
    if not unmatched:
        return findings
    matcher = matcher_for(tracker.defects(), threshold or DEFAULT_THRESHOLD)
    resolved: dict[str, Finding] = {}
    for finding in unmatched:
        ticket = tracker.get(finding.key)
        parsed = parse_title(ticket.title, conventions.observation_prefix)
        message = ticket.message or (parsed.message if parsed else "")
        match = matcher.match(message)
        passing = [c for c in match.candidates if c.score >= match.threshold]
        if match.key is not None and len(passing) <= 1 and not match.close:
            resolved[finding.key] = replace(finding, fix=Fix("set-parent", match.key), unfixable="")
        elif passing:
            names = ", ".join(f"{c.key} {c.score:.0%}" for c in passing)
            resolved[finding.key] = replace(
                finding, unfixable=f"several defects match its message: {names}"
            )
    return [resolved.get(f.key, f) if f in unmatched else f for f in findings]
