"""``merge``: fold duplicate defects into the one that survives.

Each duplicate's observations and remediations move under the survivor, its fingerprints move
too, with those of every line of the message it was opened with (so the next sighting of its
message, or of any line of its event, lands on the survivor), remediations it delegated to
other sites are linked from the survivor, and it is closed as a duplicate linked to the survivor.
"""

from __future__ import annotations

from collections.abc import Sequence

from tracker_bridge.domain.links import is_delegate_link
from tracker_bridge.domain.matching import event_keys
from tracker_bridge.domain.tickets import Kind
from tracker_bridge.errors import UsageError
from tracker_bridge.trackers.base import Tracker
from tracker_bridge.workflows.changes import Change, Outcome, carry_out
from tracker_bridge.workflows.move import a_kind


def plan(tracker: Tracker, duplicates: Sequence[str], into: str) -> Outcome:
    """The changes that fold ``duplicates`` into ``into``; none for a duplicate already folded."""
    if not duplicates:
        raise UsageError("name at least one duplicate defect to merge.")
    survivor = tracker.get(into)
    if survivor.kind is not Kind.DEFECT:
        raise UsageError(f"{into} is {a_kind(survivor)}, not a defect: merge defects into one.")
    changes: list[Change] = []
    unchanged: list[str] = []
    notes: list[str] = []
    gained = set(survivor.fingerprints)
    linked = {link.global_id for link in survivor.links}
    for key in dict.fromkeys(duplicates):
        if key == into:
            raise UsageError(f"{key} cannot be merged into itself.")
        tree = tracker.tree(key)
        dup = tree.ticket
        if dup.kind is not Kind.DEFECT:
            hint = (
                f"To put an observation under a defect: bridge move {key} --to {into}"
                if dup.kind is Kind.OBSERVATION
                else None
            )
            raise UsageError(f"{key} is {a_kind(dup)}, not a defect.", hint=hint)
        if dup.duplicate_of not in (None, into):
            notes.append(f"{key} was a duplicate of {dup.duplicate_of}; it now points to {into}")
        before = len(changes)
        for child in (*tree.observations, *tree.remediations):
            changes.append(Change("set-parent", child.key, into))
        # What the matcher files under the duplicate: the keys recorded on it, and every line's
        # of the message it was opened with (recorded before the event's lines were).
        for fp in dict.fromkeys((*dup.fingerprints, *event_keys(dup.message or dup.title))):
            if fp not in gained:
                changes.append(Change("add-fingerprint", into, fp))
                gained.add(fp)
        for link in dup.links:
            if is_delegate_link(link) and link.global_id not in linked:
                changes.append(Change("link", into, link.global_id, link=link))
                linked.add(link.global_id)
        for fp in dup.fingerprints:
            changes.append(Change("remove-fingerprint", key, fp))
        if dup.duplicate_of != into or not dup.is_done:
            changes.append(Change("comment", key, f"Duplicate of {into}; merged by bridge merge."))
            changes.append(Change("mark-duplicate", key, into))
        if len(changes) == before:
            unchanged.append(key)
    return Outcome(
        "merge", into, tuple(changes), dry_run=True, unchanged=tuple(unchanged), notes=tuple(notes)
    )


def run(
    tracker: Tracker, duplicates: Sequence[str], into: str, *, dry_run: bool = False
) -> Outcome:
    """Merge ``duplicates`` into ``into`` (or, with ``dry_run``, say what would change)."""
    return carry_out(tracker, plan(tracker, duplicates, into), dry_run=dry_run)
