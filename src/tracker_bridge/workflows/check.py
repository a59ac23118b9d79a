"""``check``: stream the tracker's tickets through the convention rules."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tracker_bridge.domain.conventions import Conventions
from tracker_bridge.domain.rules import CATALOGUE, Checker, Finding, Severity
from tracker_bridge.errors import ConfigError
from tracker_bridge.trackers.base import Tracker


@dataclass(frozen=True, slots=True)
class Report:
    """Every finding of one run, and how many tickets were read."""

    findings: tuple[Finding, ...]
    checked: int

    @property
    def failed(self) -> bool:
        """True when any finding is an error (exit status 1)."""
        return any(f.severity is Severity.ERROR for f in self.findings)

    def counts(self) -> dict[str, int]:
        out = {s.value: 0 for s in Severity}
        for f in self.findings:
            out[f.severity.value] += 1
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "checked": self.checked,
            "counts": self.counts(),
            "findings": [f.to_json() for f in self.findings],
        }


def severities(overrides: dict[str, str], only: tuple[str, ...] = ()) -> dict[str, Severity | None]:
    """Per-rule severities from config (``off`` disables) and ``--rule`` (only those rules)."""
    unknown = sorted((set(overrides) | set(only)) - set(CATALOGUE))
    if unknown:
        raise ConfigError(
            f"unknown rule id(s): {', '.join(unknown)}.",
            hint=f"Known rules: {', '.join(CATALOGUE)}.",
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
    progress: Callable[[int], None] | None = None,
) -> Report:
    """Check every ticket in scope; ``progress`` is told how many tickets have been read."""
    checker = Checker(conventions=conventions, severities=levels or {})
    findings: list[Finding] = []
    for ticket in tracker.scan(conventions.observation_prefix):
        findings += checker.feed(ticket)
        if progress is not None:
            progress(checker.checked)
    findings += checker.finish()
    return Report(findings=tuple(findings), checked=checker.checked)
