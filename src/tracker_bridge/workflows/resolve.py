"""``resolve`` and ``reopen``: close a ticket, enforcing the finalisation rule for defects.

A defect is finalised, not just fixed: it closes only when it has at least one remediation
("one more why": how are similar defects elsewhere prevented?), or with a reason recorded on the
ticket for closing it without one. Its open observations close with it, since a sighting of a
finished defect has nothing left to handle.
"""

from __future__ import annotations

from tracker_bridge.domain.links import is_delegate_link
from tracker_bridge.domain.tickets import Kind
from tracker_bridge.errors import FinalisationError
from tracker_bridge.trackers.base import Tracker
from tracker_bridge.workflows.changes import Change, Outcome, carry_out


def plan(tracker: Tracker, key: str, *, note: str = "", without_remediation: str = "") -> Outcome:
    """The changes that close ``key``; nothing when it is done already.

    Raises ``FinalisationError`` for a defect with no remediation and no reason.
    """
    ticket = tracker.get(key)
    if ticket.is_done:
        return Outcome("resolve", key, (), dry_run=True, unchanged=(key,))
    changes: list[Change] = []
    notes: list[str] = []
    reason = " ".join(without_remediation.split())
    if ticket.kind is Kind.DEFECT:
        tree = tracker.tree(key)
        remediated = bool(tree.remediations) or any(is_delegate_link(link) for link in ticket.links)
        if not remediated and not reason:
            raise FinalisationError(
                f"{key} has no remediation, so it cannot be resolved: a defect is finalised, not "
                "just fixed (rule defect-closed-without-remediation: one more why, how are "
                "similar defects elsewhere prevented?).",
                hint=f"File the answer as a remediation (bridge delegate {key} --to TEAM), then "
                f"resolve again; or record why there is none: bridge resolve {key} "
                '--without-remediation "REASON".',
            )
        if remediated:
            reason = ""  # the rule is met; a reason would only muddle the record
        for child in tree.observations:
            if not child.is_done:
                changes.append(Change("resolve", child.key))
        open_children = len(changes)
        if open_children:
            notes.append(f"its {open_children} open observation(s) close with it")
    if note.strip():
        changes.append(Change("comment", key, note.strip()))
    if reason:
        changes.append(Change("comment", key, f"Resolved without remediation: {reason}"))
    changes.append(Change("resolve", key, reason))
    return Outcome("resolve", key, tuple(changes), dry_run=True, notes=tuple(notes))


def run(
    tracker: Tracker,
    key: str,
    *,
    note: str = "",
    without_remediation: str = "",
    dry_run: bool = False,
) -> Outcome:
    """Resolve ``key`` (or, with ``dry_run``, say what would change)."""
    outcome = plan(tracker, key, note=note, without_remediation=without_remediation)
    return carry_out(tracker, outcome, dry_run=dry_run)


def reopen(tracker: Tracker, key: str, *, note: str = "", dry_run: bool = False) -> Outcome:
    """Open ``key`` again; nothing when it is open."""
    ticket = tracker.get(key)
    if not ticket.is_done:
        return carry_out(
            tracker, Outcome("reopen", key, (), dry_run=True, unchanged=(key,)), dry_run=dry_run
        )
    changes = [Change("reopen", key)]
    if note.strip():
        changes.append(Change("comment", key, note.strip()))
    notes = (f"it was a duplicate of {ticket.duplicate_of}",) if ticket.duplicate_of else ()
    outcome = Outcome("reopen", key, tuple(changes), dry_run=True, notes=notes)
    return carry_out(tracker, outcome, dry_run=dry_run)
