"""One defect per fingerprint, even after two machines each made one.

On Jira and GitHub, finding the defect of a brand-new fingerprint and creating it are serialised
among the processes of one machine (the journal's lock), but nothing spans machines, and the
trackers' searches lag their writes: two machines can each create a defect for the same
fingerprint. Whoever next sees several folds them into one:

- the **oldest open** one is kept: ordered by ``created``, then by the number in the key (a site
  may give every issue the same timestamp; numbers only grow). Done defects are left alone: a
  done defect and the one its recurrence opened (``on_recurrence = "new-defect"``) share their
  fingerprint on purpose;
- every other one is merged into it the way ``bridge merge`` does (observations and remediations
  moved under it, fingerprints carried over, delegate links copied, closed as a duplicate with the
  tracker's duplicate link), with a comment saying why;
- its fingerprint marker is removed *last*, so a writer interrupted half-way leaves it findable,
  and the next one finishes the fold; an observation that a late writer still put under a folded
  defect is moved then too.

The result carries a note for the user: the bridge says when it merged something.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from tracker_bridge.domain.tickets import Kind, Ticket
from tracker_bridge.trackers.base import MarkedDefects, Tracker
from tracker_bridge.workflows import merge
from tracker_bridge.workflows.changes import Change, carry_out

_NUMBER = re.compile(r"(\d+)\D*$")


@dataclass(frozen=True, slots=True)
class Converged:
    """The defect of a fingerprint, and what was folded into it on the way."""

    kept: Ticket
    folded: tuple[str, ...] = ()
    """Defects closed just now as duplicates of ``kept`` (or finished being folded into it)."""
    moved: tuple[str, ...] = ()
    """Tickets moved under ``kept`` (observations, remediations)."""
    notes: tuple[str, ...] = ()


def key_number(key: str) -> int:
    """The number in a ticket key (``OPS-12``, ``acme/ops#12``): it only grows on a tracker."""
    found = _NUMBER.search(key)
    return int(found.group(1)) if found else 0


def oldest_first(tickets: Iterable[Ticket]) -> list[Ticket]:
    """Oldest first: by ``created``, ties (and equal timestamps) broken by key number."""

    def age(ticket: Ticket) -> tuple[datetime, int, str]:
        created = ticket.created
        if created.tzinfo is None:
            created = created.replace(tzinfo=UTC)
        return created, key_number(ticket.key), ticket.key

    return sorted(tickets, key=age)


def marked(tracker: Tracker, fingerprint: str) -> list[Ticket]:
    """Every defect carrying ``fingerprint`` as the tracker's search sees it now (checked: a
    site may ignore the label clauses of a search and answer with other tickets)."""
    found = (
        tracker.marked_defects(fingerprint)
        if isinstance(tracker, MarkedDefects)
        else tracker.defects()
    )
    return [d for d in found if d.kind is Kind.DEFECT and fingerprint in d.fingerprints]


def converge(tracker: Tracker, fingerprint: str, found: Sequence[Ticket]) -> Converged | None:
    """Fold the defects in ``found`` (all carrying ``fingerprint``) into the oldest one.

    None when ``found`` holds no defect. Each write is idempotent: a fold interrupted anywhere
    is finished by the next call that sees what is left of it.
    """
    unique = {
        d.key: d for d in found if d.kind is Kind.DEFECT and fingerprint in d.fingerprints
    }.values()
    live = oldest_first(d for d in unique if d.duplicate_of is None)
    twins = [d for d in live if not d.is_done]
    stale = oldest_first(d for d in unique if d.duplicate_of is not None)
    if twins:
        kept = twins[0]
    elif live:
        kept = live[-1]
    elif stale:
        # everything found was folded already but still carries the marker: keep its survivor
        kept = tracker.get(str(stale[0].duplicate_of))
    else:
        return None
    # only open defects are twins: a done defect and the new one its recurrence opened
    # (on_recurrence = "new-defect") carry the same fingerprint on purpose
    others = [d.key for d in (*twins[1:], *stale) if d.key != kept.key]
    if not others:
        return Converged(kept)
    outcome = merge.plan(tracker, others, kept.key)
    # the marker goes last: until then the next writer still finds what is left to fold
    changes = [c for c in outcome.changes if c.action != "remove-fingerprint"]
    changes += [c for c in outcome.changes if c.action == "remove-fingerprint"]
    changes = [_why(c, kept.key, fingerprint) for c in changes]
    carry_out(tracker, replace(outcome, changes=tuple(changes)), dry_run=False)
    moved = tuple(dict.fromkeys(c.key for c in changes if c.action == "set-parent"))
    folded = tuple(d for d in others if d not in {s.key for s in stale} or _touched(d, changes))
    notes = list(outcome.notes)
    if folded:
        notes.append(
            f"fingerprint {fingerprint} had {len(folded) + 1} defects, made at once by writers "
            f"that could not see each other: kept the oldest, {kept.key}; "
            f"{', '.join(folded)} closed as duplicate(s) of it"
            + (f", {len(moved)} ticket(s) moved under it" if moved else "")
            + "."
        )
    return Converged(kept=tracker.get(kept.key), folded=folded, moved=moved, notes=tuple(notes))


def _why(change: Change, kept: str, fingerprint: str) -> Change:
    if change.action != "comment":
        return change
    return replace(
        change,
        value=f"Duplicate of {kept}: both were made for fingerprint {fingerprint} at once (by "
        f"writers that could not see each other); the bridge keeps the oldest, {kept}, and moved "
        "this one's observations under it.",
    )


def _touched(key: str, changes: Sequence[Change]) -> bool:
    return any(c.key == key or (c.action == "set-parent" and c.value == key) for c in changes)
