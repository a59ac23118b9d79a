"""``move``: put observations under the right defect, and teach the matcher.

The matcher files a sighting by its message's fingerprints: its identifying line's, and every other
line's of a multi-line event (``matching.event_keys``). After a move, the target defect carries all
of them for every observation moved onto it, and a source defect forgets each one none of its
remaining observations has, so the next sighting of that message, or of any line of its event,
lands on the target. When the moved message is the one the source was opened with, messages
similar to it reach the target too (``Matcher`` reads the key's new owner off the tracker).
"""

from __future__ import annotations

from collections.abc import Sequence

from tracker_bridge.domain.conventions import Conventions, parse_title
from tracker_bridge.domain.matching import event_keys
from tracker_bridge.domain.tickets import Kind, Ticket
from tracker_bridge.errors import UsageError
from tracker_bridge.trackers.base import Tracker
from tracker_bridge.workflows.changes import Change, Outcome, carry_out


def message_keys(ticket: Ticket, conventions: Conventions) -> tuple[str, ...]:
    """The fingerprint keys of an observation's message, every line of its event (read from its
    title when unmarked): the keys the matcher files it under."""
    message = ticket.message
    if not message:
        parsed = parse_title(ticket.title, conventions.observation_prefix)
        message = parsed.message if parsed else ""
    return event_keys(message) if message.strip() else ()


def plan(
    tracker: Tracker, conventions: Conventions, observations: Sequence[str], to: str
) -> Outcome:
    """The changes that put ``observations`` under defect ``to``; none for those already there."""
    if not observations:
        raise UsageError("name at least one observation to move.")
    target = tracker.get(to)
    if target.kind is not Kind.DEFECT:
        raise UsageError(
            f"{to} is {a_kind(target)}, not a defect: observations move to a defect.",
            hint="Give the defect's key after --to (`bridge list` shows them).",
        )
    changes: list[Change] = []
    unchanged: list[str] = []
    gained = set(target.fingerprints)
    moving: dict[str, list[tuple[str, tuple[str, ...]]]] = {}
    """Source defect -> the observations leaving it, with their fingerprint keys."""
    for key in dict.fromkeys(observations):
        ticket = tracker.get(key)
        if ticket.kind is not Kind.OBSERVATION:
            hint = (
                f"To fold one defect into another: bridge merge {key} --into {to}"
                if ticket.kind is Kind.DEFECT
                else "Only observations move; remediations go with their defect in a merge."
            )
            raise UsageError(f"{key} is {a_kind(ticket)}, not an observation.", hint=hint)
        keys = message_keys(ticket, conventions)
        if ticket.parent == to:
            unchanged.append(key)
        else:
            changes.append(Change("set-parent", key, to))
            changes.append(
                Change("comment", key, f"Moved from {ticket.parent or 'no defect'} to {to}.")
            )
            if ticket.parent:
                moving.setdefault(ticket.parent, []).append((key, keys))
        for fp in keys:
            if fp not in gained:
                changes.append(Change("add-fingerprint", to, fp))
                gained.add(fp)
    notes: list[str] = []
    for source, leaving in moving.items():
        forget, emptied = _forget(tracker, conventions, source, leaving)
        changes.extend(forget)
        if emptied:
            notes.append(
                f"{source} has no observations left (check warns: defect-without-observations); "
                f"if it was never a defect of its own: bridge merge {source} --into {to}"
            )
    return Outcome(
        "move", to, tuple(changes), dry_run=True, unchanged=tuple(unchanged), notes=tuple(notes)
    )


def run(
    tracker: Tracker,
    conventions: Conventions,
    observations: Sequence[str],
    to: str,
    *,
    dry_run: bool = False,
) -> Outcome:
    """Move ``observations`` under ``to`` (or, with ``dry_run``, say what would change)."""
    return carry_out(tracker, plan(tracker, conventions, observations, to), dry_run=dry_run)


def _forget(
    tracker: Tracker,
    conventions: Conventions,
    source: str,
    leaving: list[tuple[str, tuple[str, ...]]],
) -> tuple[list[Change], bool]:
    """Fingerprints ``source`` keeps only for the observations leaving it, and whether none of
    its observations stays."""
    tree = tracker.tree(source)
    gone = {key for key, _ in leaving}
    remaining = [t for t in tree.observations if t.key not in gone]
    staying = {fp for t in remaining for fp in message_keys(t, conventions)}
    carried = set(tree.ticket.fingerprints)
    out = []
    for fp in dict.fromkeys(fp for _, keys in leaving for fp in keys):
        if fp in carried and fp not in staying:
            out.append(Change("remove-fingerprint", source, fp))
    return out, not remaining


def a_kind(ticket: Ticket) -> str:
    """``a defect``, ``an observation``: what a ticket is, for messages."""
    if ticket.kind is None:
        return "a ticket the bridge did not mark"
    return f"an {ticket.kind.value}" if ticket.kind.value[0] in "aeiou" else f"a {ticket.kind}"
