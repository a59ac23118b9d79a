"""``replay``: send what the journal holds for one tracker, each entry from its last step.

Entries kept for another tracker are never sent (they are reported); refused entries are tried
again (replaying is how a user says the cause is fixed); the first sign that the tracker is
down stops the run, as every other entry would fail the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tracker_bridge.domain.conventions import Conventions
from tracker_bridge.errors import (
    DeliveryDeferred,
    DeliveryRefused,
    EntryBusy,
    UsageError,
)
from tracker_bridge.journal.base import Binding, Entry, Journal, State
from tracker_bridge.trackers.base import Tracker
from tracker_bridge.workflows import observe


@dataclass(frozen=True, slots=True)
class Replayed:
    """What a replay sent, and what it left in the journal and why."""

    sent: tuple[observe.Result, ...]
    busy: tuple[Entry, ...] = ()
    """Being delivered by another live worker right now: left to it."""
    refused: tuple[DeliveryRefused, ...] = ()
    deferred: DeliveryDeferred | None = None
    """Set when the tracker was unavailable: the run stopped there."""
    elsewhere: tuple[Entry, ...] = ()
    """Kept for another tracker than this one: not sent."""
    here: Binding | None = None
    left: int = 0
    """Entries still waiting in the journal afterwards."""

    @property
    def nothing(self) -> bool:
        return not (self.sent or self.busy or self.refused or self.deferred or self.elsewhere)

    def raise_for_problems(self) -> None:
        """Raise the error a caller should report (exit 3, else 2), once results are shown."""
        if self.deferred is not None:
            plural = "entry" if self.left == 1 else "entries"
            raise DeliveryDeferred(
                f"{self.deferred.message} {len(self.sent)} sent; {self.left} {plural} still "
                "kept in the journal.",
                entry_id=self.deferred.entry_id,
                status=self.deferred.status,
                hint="Run `bridge replay` again when the tracker is back.",
            )
        if self.refused:
            first = self.refused[0]
            ids = ", ".join(r.entry_id[:12] for r in self.refused)
            raise DeliveryRefused(
                f"{len(self.refused)} entr{'y was' if len(self.refused) == 1 else 'ies were'} "
                f"refused by the tracker and stay kept ({ids}); first answer: {first.message}",
                entry_id=first.entry_id,
                status=first.status,
                hint="`bridge replay --list` shows each answer; fix the cause and replay, or "
                "`bridge queue drop ID`.",
            )
        if self.elsewhere:
            here = self.here.describe() if self.here else "this tracker"
            raise UsageError(
                "not sent: "
                + "; ".join(f"{e.short} is kept for {e.binding.describe()}" for e in self.elsewhere)
                + f". This configuration points to {here}, and an entry is never delivered to "
                "another tracker than the one it was kept for.",
                hint="Run `bridge replay --config FILE` with that tracker's configuration, or "
                "`bridge queue drop ID` to discard an entry.",
            )


def run(
    tracker: Tracker,
    journal: Journal,
    conventions: Conventions,
    here: Binding,
    entries: Sequence[Entry],
    *,
    threshold: float | None = None,
    owner: str | None = None,
) -> Replayed:
    """Deliver ``entries`` bound for ``here``, oldest first; see the module docstring."""
    sent: list[observe.Result] = []
    busy: list[Entry] = []
    refused: list[DeliveryRefused] = []
    deferred: DeliveryDeferred | None = None
    elsewhere = [e for e in entries if e.binding != here]
    for entry in (e for e in entries if e.binding == here and e.op == "observe"):
        if entry.state is State.FAILED:
            journal.retry(entry.id)
        try:
            sent.append(
                observe.resume(
                    tracker, conventions, journal, entry.id, threshold=threshold, owner=owner
                )
            )
        except EntryBusy:
            busy.append(entry)
        except DeliveryRefused as exc:
            refused.append(exc)
        except DeliveryDeferred as exc:
            deferred = exc
            break
    return Replayed(
        sent=tuple(sent),
        busy=tuple(busy),
        refused=tuple(refused),
        deferred=deferred,
        elsewhere=tuple(elsewhere),
        here=here,
        left=journal.depth(),
    )
