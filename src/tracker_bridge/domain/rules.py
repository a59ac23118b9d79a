"""The convention check as pure rules: tickets in, findings out.

``Checker`` consumes tickets one at a time, so ``check`` can stream a project of any size, and
keeps only what the cross-ticket rules need: sets and dicts of *keys* (which defects exist, which
have observations or remediations, which fingerprints open defects carry, which observations are
orphans), never whole tickets. Nothing here reads a clock or a tracker: "now" is given to the
checker, and the one fix that needs other tickets (the defect of an orphan observation) is
decided from the fingerprints of the defects the scan has already passed through.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from tracker_bridge.domain.conventions import (
    Conventions,
    format_title,
    is_observation_title,
    parse_title,
)
from tracker_bridge.domain.fingerprint import fingerprint
from tracker_bridge.domain.links import is_delegate_link, parse_defect
from tracker_bridge.domain.tickets import Kind, Status, Ticket


class Severity(enum.StrEnum):
    """How much a finding matters; only ``error`` fails a run."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True, slots=True)
class Rule:
    """One convention, with its default severity, why it matters and, if safe, its fix."""

    id: str
    severity: Severity
    rationale: str
    fix: str = ""
    """What ``--fix`` does for this rule; empty when no fix is safe."""

    @property
    def fixable(self) -> bool:
        return bool(self.fix)


@dataclass(frozen=True, slots=True)
class Fix:
    """A safe repair of one ticket: give it a title or a parent. Nothing is ever deleted."""

    action: Literal["retitle", "set-parent"]
    value: str

    def describe(self) -> str:
        """The repair in words, e.g. ``set parent to OPS-1``."""
        if self.action == "retitle":
            return f"retitle to {self.value!r}"
        return f"set parent to {self.value}"


@dataclass(frozen=True, slots=True)
class Finding:
    """A ticket that breaks a rule."""

    rule: str
    severity: Severity
    key: str
    message: str
    defect: str | None = None
    """The defect the ticket belongs to, for grouping reports."""
    fix: Fix | None = None
    """What ``--fix`` would do, when the fix is safe."""
    unfixable: str = ""
    """For a fixable rule, why this ticket cannot be fixed automatically."""
    url: str = ""
    related: tuple[str, ...] = ()
    """Other tickets the finding names (the other defect of a likely duplicate)."""

    def to_json(self) -> dict[str, object]:
        return {
            "rule": self.rule,
            "severity": self.severity.value,
            "key": self.key,
            "message": self.message,
            "defect": self.defect,
            "fix": self.fix.describe() if self.fix else None,
            "fix_action": (
                {"action": self.fix.action, "value": self.fix.value} if self.fix else None
            ),
            "unfixable": self.unfixable or None,
            "url": self.url or None,
            "related": list(self.related),
        }


REMEDIATION_SECTIONS: tuple[str, ...] = (
    "What is wrong, and why it matters to you",
    "Business value of fixing it",
    "What we ask, and what we do not",
    "How often, where, since when",
    "Impact",
    "Evidence",
    "What was already tried",
    "Links",
    "Finalisation",
)
"""The context a delegated remediation carries: the headings of ``remediation.md.j2``."""


RULES: tuple[Rule, ...] = (
    Rule(
        "observation-title",
        Severity.ERROR,
        'Observations are titled Handle: "<message>" on "<instance>" so they group and sort.',
        fix="retitle to the canonical form",
    ),
    Rule(
        "observation-without-defect",
        Severity.ERROR,
        "Every sighting belongs to a defect; an orphan observation is evidence nobody aggregates.",
        fix="set the parent when exactly one defect carries the message's fingerprint",
    ),
    Rule(
        "unmarked-observation",
        Severity.WARNING,
        "A ticket titled like an observation but not marked as one escapes the statistics.",
    ),
    Rule(
        "wrong-issue-type",
        Severity.WARNING,
        "A ticket of another issue type than the convention's falls out of boards and filters.",
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
    Rule(
        "unscanned-evidence",
        Severity.WARNING,
        "Evidence stored without a scan for secrets (compressed or encrypted content allowed "
        "with --allow-unscanned, or --no-redact) may carry credentials out of production.",
    ),
    Rule(
        "observation-without-action",
        Severity.WARNING,
        "Without the actions taken, the next person handling the defect starts from nothing.",
    ),
    Rule(
        "defect-closed-without-remediation",
        Severity.ERROR,
        "A done defect with no remediation was fixed, not finalised: nothing stops its kin.",
    ),
    Rule(
        "remediation-without-link-back",
        Severity.ERROR,
        "A remediation that does not name its defect cannot be followed up or counted.",
    ),
    Rule(
        "remediation-missing-context",
        Severity.WARNING,
        "Delegated work without its context sections is work the other team cannot prioritise.",
    ),
    Rule(
        "duplicate-defects",
        Severity.WARNING,
        "Two open defects with one fingerprint split the sightings of what is likely one defect.",
    ),
    Rule(
        "stale-observation",
        Severity.WARNING,
        "An observation left open past the stale limit is a sighting nobody finished handling.",
    ),
)
CATALOGUE = {rule.id: rule for rule in RULES}

_HEADING = re.compile(r"^\s*(?:#{1,6}|h[1-6]\.)?\s*\**\s*(.*?)\s*\**\s*$", re.IGNORECASE)


@dataclass(kw_only=True)
class Checker:
    """Streams tickets through the rules; call ``finish`` for cross-ticket findings.

    ``now`` is the instant the stale rule measures against (injected: rules read no clock).
    """

    now: datetime
    conventions: Conventions = field(default_factory=Conventions)
    severities: dict[str, Severity | None] = field(default_factory=dict)
    """Per-rule overrides; ``None`` turns a rule off."""
    stale_days: int = 14
    context_sections: tuple[str, ...] = REMEDIATION_SECTIONS
    checked: int = 0
    _defects: dict[str, str] = field(default_factory=dict)
    """Every defect seen: key -> url."""
    _with_observations: set[str] = field(default_factory=set)
    _closed: set[str] = field(default_factory=set)
    _remediated: set[str] = field(default_factory=set)
    _open_by_fingerprint: dict[str, str] = field(default_factory=dict)
    _defects_by_fingerprint: dict[str, list[str]] = field(default_factory=dict)
    _orphans: dict[str, tuple[str, str]] = field(default_factory=dict)
    """Observations without a parent: key -> (fingerprint of their message, url)."""

    def __post_init__(self) -> None:
        self._on = {
            rule.id: self.severities.get(rule.id, rule.severity) is not None for rule in RULES
        }
        self._stale_before = self.now - timedelta(days=self.stale_days)
        conv = self.conventions
        subtasks = conv.link == "sub-task"
        self._types = {
            Kind.DEFECT: conv.defect_type,
            Kind.OBSERVATION: conv.subtask_type if subtasks else conv.observation_type,
            Kind.REMEDIATION: conv.subtask_type if subtasks else conv.remediation_type,
        }
        self._sections = {s.casefold() for s in self.context_sections}

    def feed(self, ticket: Ticket) -> list[Finding]:
        """Findings about one ticket that need no other ticket."""
        self.checked += 1
        found: list[Finding] = []
        kind = ticket.kind
        if kind is None:
            if is_observation_title(ticket.title, self.conventions.observation_prefix):
                self._keep(
                    found,
                    "unmarked-observation",
                    ticket,
                    f"{ticket.key} is titled like an observation but not marked as one.",
                )
            return found
        expected = self._types[kind]
        # Delegated work takes the other team's issue type, and the local tracker sets none.
        if ticket.issue_type and not ticket.team and ticket.issue_type != expected:
            self._keep(
                found,
                "wrong-issue-type",
                ticket,
                f"{ticket.key} is a {kind.value} of issue type {ticket.issue_type!r}, "
                f"not {expected!r}.",
                defect=ticket.key if kind is Kind.DEFECT else ticket.parent,
            )
        unscanned = [ref.name for ref in ticket.evidence if not ref.scanned]
        if unscanned:
            self._keep(
                found,
                "unscanned-evidence",
                ticket,
                f"{ticket.key} holds evidence not scanned for secrets: {', '.join(unscanned)}.",
                defect=ticket.key if kind is Kind.DEFECT else ticket.parent,
            )
        if kind is Kind.DEFECT:
            self._defect(ticket, found)
        elif kind is Kind.OBSERVATION:
            self._observation(ticket, found)
        else:
            self._remediation(ticket, found)
        return found

    def finish(self) -> list[Finding]:
        """Findings that need the whole scan: orphans, lonely defects, unfinalised defects."""
        found: list[Finding] = []
        for key, (fp, url) in self._orphans.items():
            fix, why = self._parent_for(fp)
            found.append(
                self._finding(
                    "observation-without-defect",
                    key,
                    f"{key} has no defect parent.",
                    fix=fix,
                    unfixable=why,
                    url=url,
                )
            )
        self._orphans.clear()
        if self._on["defect-without-observations"]:
            for key in sorted(self._defects.keys() - self._with_observations, key=natural):
                found.append(
                    self._finding(
                        "defect-without-observations",
                        key,
                        f"{key} has no observations.",
                        defect=key,
                        url=self._defects[key],
                    )
                )
        if self._on["defect-closed-without-remediation"]:
            for key in sorted(self._closed - self._remediated, key=natural):
                found.append(
                    self._finding(
                        "defect-closed-without-remediation",
                        key,
                        f"{key} is done but has no remediation ticket: how are similar "
                        "defects elsewhere prevented?",
                        defect=key,
                        url=self._defects.get(key, ""),
                    )
                )
        return found

    # -- per kind --------------------------------------------------------------------------

    def _defect(self, ticket: Ticket, found: list[Finding]) -> None:
        key = ticket.key
        if ticket.duplicate_of and ticket.status is Status.DONE:
            return  # merged: its sightings and remediations live on the survivor now
        self._defects[key] = ticket.url
        if ticket.status is Status.DONE and not ticket.without_remediation:
            self._closed.add(key)
        if any(is_delegate_link(link) for link in ticket.links):
            self._remediated.add(key)
        for fp in ticket.fingerprints:
            holders = self._defects_by_fingerprint.setdefault(fp, [])
            if key not in holders:
                holders.append(key)
        if ticket.status is Status.DONE:
            return
        others: list[str] = []
        for fp in ticket.fingerprints:
            first = self._open_by_fingerprint.setdefault(fp, key)
            if first != key and first not in others:
                others.append(first)
        if others:
            self._keep(
                found,
                "duplicate-defects",
                ticket,
                f"{key} and {', '.join(others)} are open defects with the same fingerprint; "
                "likely duplicates.",
                defect=key,
                related=tuple(others),
            )

    def _observation(self, ticket: Ticket, found: list[Finding]) -> None:
        parent = ticket.parent
        if parent:
            self._with_observations.add(parent)
        elif self._on["observation-without-defect"]:
            message = ticket.message or self._parsed_message(ticket.title)
            self._orphans[ticket.key] = (fingerprint(message).key if message else "", ticket.url)
        if self._on["observation-title"]:
            canonical = self._canonical(ticket)
            if ticket.title != canonical:
                self._keep(
                    found,
                    "observation-title",
                    ticket,
                    f"{ticket.key} title {ticket.title!r} does not follow the convention.",
                    defect=parent,
                    fix=Fix("retitle", canonical) if canonical else None,
                    unfixable="" if canonical else "no message and instance to title it from",
                )
        if not ticket.evidence:
            self._keep(
                found,
                "observation-without-evidence",
                ticket,
                f"{ticket.key} has no evidence attached.",
                defect=parent,
            )
        if not ticket.actions:
            self._keep(
                found,
                "observation-without-action",
                ticket,
                f"{ticket.key} records no action taken.",
                defect=parent,
            )
        if ticket.status is not Status.DONE and ticket.created < self._stale_before:
            days = (self.now - ticket.created).days
            self._keep(
                found,
                "stale-observation",
                ticket,
                f"{ticket.key} has been open for {days} days (stale after {self.stale_days}).",
                defect=parent,
            )

    def _remediation(self, ticket: Ticket, found: list[Finding]) -> None:
        back = [key for key in map(parse_defect, ticket.links) if key is not None]
        defect = ticket.parent or (back[0] if back else None)
        if defect is not None:
            self._remediated.add(defect)
        else:
            what = f"delegated to team {ticket.team}" if ticket.team else "a remediation"
            self._keep(
                found,
                "remediation-without-link-back",
                ticket,
                f"{ticket.key} ({what}) has neither a parent defect nor a link back to one.",
            )
        if ticket.team and self._on["remediation-missing-context"]:
            missing = self._missing_sections(ticket.description)
            if missing:
                self._keep(
                    found,
                    "remediation-missing-context",
                    ticket,
                    f"{ticket.key} (delegated to team {ticket.team}) lacks context section(s): "
                    + "; ".join(repr(s) for s in missing)
                    + ".",
                    defect=defect,
                )

    # -- helpers ---------------------------------------------------------------------------

    def _missing_sections(self, description: str) -> list[str]:
        present = set()
        for line in description.splitlines():
            match = _HEADING.match(line)
            if match is not None:
                text = match.group(1).casefold()
                if text in self._sections:
                    present.add(text)
        return [s for s in self.context_sections if s.casefold() not in present]

    def _parent_for(self, fp: str) -> tuple[Fix | None, str]:
        if not fp:
            return None, "it has no message to match a defect by"
        holders = self._defects_by_fingerprint.get(fp, [])
        if len(holders) == 1:
            return Fix("set-parent", holders[0]), ""
        if not holders:
            return None, "no defect carries its message's fingerprint"
        return None, f"{len(holders)} defects carry its fingerprint: {', '.join(holders)}"

    def _parsed_message(self, title: str) -> str:
        parsed = parse_title(title, self.conventions.observation_prefix)
        return parsed.message if parsed else ""

    def _canonical(self, ticket: Ticket) -> str | None:
        prefix = self.conventions.observation_prefix
        if ticket.message and ticket.instance:
            message, instance = ticket.message, ticket.instance
        else:
            parsed = parse_title(ticket.title, prefix)
            message = ticket.message or (parsed.message if parsed else "")
            instance = ticket.instance or (parsed.instance if parsed else "")
        try:
            return format_title(message, instance, prefix)
        except ValueError:
            return None

    def _keep(
        self,
        found: list[Finding],
        rule_id: str,
        ticket: Ticket,
        message: str,
        *,
        defect: str | None = None,
        fix: Fix | None = None,
        unfixable: str = "",
        related: tuple[str, ...] = (),
    ) -> None:
        if self._on[rule_id]:
            found.append(
                self._finding(
                    rule_id,
                    ticket.key,
                    message,
                    defect=defect,
                    fix=fix,
                    unfixable=unfixable,
                    url=ticket.url,
                    related=related,
                )
            )

    def _finding(
        self,
        rule_id: str,
        key: str,
        message: str,
        *,
        defect: str | None = None,
        fix: Fix | None = None,
        unfixable: str = "",
        url: str = "",
        related: tuple[str, ...] = (),
    ) -> Finding:
        rule = CATALOGUE[rule_id]
        return Finding(
            rule=rule_id,
            severity=self.severities.get(rule_id) or rule.severity,
            key=key,
            message=message,
            defect=defect,
            fix=fix if rule.fixable else None,
            unfixable=unfixable if rule.fixable else "",
            url=url,
            related=related,
        )


def natural(key: str) -> tuple[str, int]:
    """Sort key for ticket keys: ``OPS-2`` before ``OPS-10``."""
    head, _, tail = key.rpartition("-")
    return (head, int(tail)) if tail.isdigit() else (key, 0)
