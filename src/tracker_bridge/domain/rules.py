"""The convention check as pure rules: tickets in, findings out.

``Checker`` consumes tickets one at a time (so ``check`` can stream a large project) and keeps
only what cross-ticket rules need: the keys of defects, and which defects have observations.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from tracker_bridge.domain.conventions import (
    Conventions,
    format_title,
    is_observation_title,
    parse_title,
)
from tracker_bridge.domain.tickets import Kind, Ticket


class Severity(enum.StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True, slots=True)
class Rule:
    """One convention, with its default severity and why it matters."""

    id: str
    severity: Severity
    rationale: str
    fixable: bool = False


@dataclass(frozen=True, slots=True)
class Finding:
    """A ticket that breaks a rule."""

    rule: str
    severity: Severity
    key: str
    message: str
    defect: str | None = None
    """The defect the ticket belongs to, for grouping reports."""
    fix: str | None = None
    """What ``--fix`` would do, when the fix is safe."""

    def to_json(self) -> dict[str, str | None]:
        return {
            "rule": self.rule,
            "severity": self.severity.value,
            "key": self.key,
            "message": self.message,
            "defect": self.defect,
            "fix": self.fix,
        }


RULES: tuple[Rule, ...] = (
    Rule(
        "observation-title",
        Severity.ERROR,
        'Observations are titled Handle: "<message>" on "<instance>" so they group and sort.',
        fixable=True,
    ),
    Rule(
        "observation-without-defect",
        Severity.ERROR,
        "Every sighting belongs to a defect; an orphan observation is evidence nobody aggregates.",
    ),
    Rule(
        "unmarked-observation",
        Severity.WARNING,
        "A ticket titled like an observation but not marked as one escapes the statistics.",
    ),
    Rule(
        "defect-without-observations",
        Severity.WARNING,
        "A defect with no sightings has no evidence of how often or where it happens.",
    ),
    Rule(
        "observation-without-evidence",
        Severity.ERROR,
        "An observation without evidence cannot be investigated after the fact.",
    ),
)
CATALOGUE = {rule.id: rule for rule in RULES}


@dataclass
class Checker:
    """Streams tickets through the rules; call ``finish`` for cross-ticket findings."""

    conventions: Conventions = field(default_factory=Conventions)
    severities: dict[str, Severity | None] = field(default_factory=dict)
    """Per-rule overrides; ``None`` turns a rule off."""
    checked: int = 0
    _defects: set[str] = field(default_factory=set)
    _with_observations: set[str] = field(default_factory=set)
    _orphans: list[str] = field(default_factory=list)

    def feed(self, ticket: Ticket) -> list[Finding]:
        """Findings about one ticket that need no other ticket."""
        self.checked += 1
        if ticket.kind is Kind.DEFECT:
            self._defects.add(ticket.key)
            return []
        if ticket.kind is None:
            if is_observation_title(ticket.title, self.conventions.observation_prefix):
                return self._keep(
                    "unmarked-observation",
                    ticket.key,
                    f"{ticket.key} is titled like an observation but not marked as one.",
                )
            return []
        if ticket.kind is not Kind.OBSERVATION:
            return []
        found: list[Finding] = []
        if ticket.parent:
            self._with_observations.add(ticket.parent)
        else:
            self._orphans.append(ticket.key)
        canonical = self._canonical(ticket)
        if ticket.title != canonical:
            found += self._keep(
                "observation-title",
                ticket.key,
                f"{ticket.key} title {ticket.title!r} does not follow the convention.",
                defect=ticket.parent,
                fix=f"retitle to {canonical!r}" if canonical else None,
            )
        if not ticket.evidence:
            found += self._keep(
                "observation-without-evidence",
                ticket.key,
                f"{ticket.key} has no evidence attached.",
                defect=ticket.parent,
            )
        return found

    def finish(self) -> list[Finding]:
        """Findings that need the whole scan: orphans and defects without observations."""
        found: list[Finding] = []
        for key in self._orphans:
            found += self._keep("observation-without-defect", key, f"{key} has no defect parent.")
        for key in sorted(self._defects - self._with_observations, key=_natural):
            found += self._keep(
                "defect-without-observations", key, f"{key} has no observations.", defect=key
            )
        return found

    def _canonical(self, ticket: Ticket) -> str | None:
        parsed = parse_title(ticket.title, self.conventions.observation_prefix)
        message = ticket.message or (parsed.message if parsed else "")
        instance = ticket.instance or (parsed.instance if parsed else "")
        try:
            return format_title(message, instance, self.conventions.observation_prefix)
        except ValueError:
            return None

    def _keep(
        self,
        rule_id: str,
        key: str,
        message: str,
        *,
        defect: str | None = None,
        fix: str | None = None,
    ) -> list[Finding]:
        rule = CATALOGUE[rule_id]
        severity = self.severities.get(rule_id, rule.severity)
        if severity is None:
            return []
        return [
            Finding(
                rule=rule_id,
                severity=severity,
                key=key,
                message=message,
                defect=defect,
                fix=fix if rule.fixable else None,
            )
        ]


def _natural(key: str) -> tuple[str, int]:
    head, _, tail = key.rpartition("-")
    return (head, int(tail)) if tail.isdigit() else (key, 0)
