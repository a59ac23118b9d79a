"""Deliver a ``resolve`` journal entry: an alert that ended, recorded on its observation.

``bridge serve`` keeps one ``resolve`` entry per resolved firing beside that firing's
``observe`` entry (same event id). Its steps, each recorded in the journal:

1. ``observation``: the observation the firing made. The ``observe`` entry must be delivered
   first; until it is, this entry waits (pending, due again shortly) without touching the tracker.
2. ``ended``: when the sighting ended, stored on the observation (``resolved_at`` in
   ``show --json``, with the impact duration) where the tracker can store it, else as a comment.
3. ``close`` (only when ``[serve] close_on_resolve``): the observation is moved to done.

A re-fire after a resolve is a new firing with its own event id and observation; nothing here
touches the defect, so a done defect is reopened by that new sighting per ``on_recurrence``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from tracker_bridge.domain import humanize
from tracker_bridge.errors import (
    BridgeError,
    DeliveryRefused,
    EntryBusy,
    JournalError,
    LeaseLost,
    TrackerError,
    TrackerRefused,
)
from tracker_bridge.journal.base import Entry, Journal, State, current_owner, entry_id
from tracker_bridge.trackers.base import EndsSightings, Tracker
from tracker_bridge.workflows.deliver import defer, refuse

WAIT_FOR_FIRING = 2.0
"""Seconds before a resolve whose firing is not delivered yet is looked at again."""


@dataclass(frozen=True, slots=True)
class Resolution:
    """What a resolve entry asks: the event that ended, when, and whether to close it."""

    ended_at: datetime
    close: bool

    def payload(self) -> dict[str, object]:
        return {"ended_at": self.ended_at.isoformat(), "close": self.close}

    @classmethod
    def of(cls, payload: object) -> Resolution:
        raw = dict(payload) if isinstance(payload, dict) else {}
        return cls(datetime.fromisoformat(str(raw["ended_at"])), bool(raw.get("close", False)))


@dataclass(frozen=True, slots=True)
class Resolved:
    """A resolve entry the tracker now holds: the observation and when it ended."""

    entry: Entry
    observation: str | None
    """None when the firing's observation is gone (its entry was dropped): nothing to record."""
    ended_at: datetime
    closed: bool


class FiringNotDelivered(Exception):
    """The observation this resolve belongs to is not on the tracker yet."""


def deliver_resolve(
    tracker: Tracker, journal: Journal, resolve_id: str, *, owner: str | None = None
) -> Resolved:
    """Record the end of a sighting on its observation, carrying on from the last step.

    ``EntryBusy`` when another worker holds it; ``DeliveryDeferred`` when the tracker is
    unavailable or the firing is not delivered yet (it stays pending); ``DeliveryRefused`` when
    the tracker refuses (kept as failed with its answer).
    """
    owner = owner or current_owner()
    entry = journal.claim(resolve_id, owner)
    if entry is None:
        raise EntryBusy(
            f"journal entry {resolve_id[:12]} is being delivered by another worker.",
            entry_id=resolve_id,
            hint="It will finish there; `bridge queue` shows it until then.",
        )
    wanted = Resolution.of(entry.payload)
    if entry.state is State.DONE:
        key = json.loads(entry.steps.get("observation", "null"))
        return Resolved(entry, key, wanted.ended_at, wanted.close)
    if entry.state is State.FAILED:
        raise DeliveryRefused(
            f"journal entry {entry.id[:12]} was refused before: {entry.reason}",
            entry_id=entry.id,
            status=entry.status,
            hint=f"`bridge queue retry {entry.short}` once the cause is fixed.",
        )
    try:
        return _Resolve(tracker, journal, entry, owner, wanted).run()
    except LeaseLost:
        raise
    except FiringNotDelivered as exc:
        journal.fail(entry.id, owner, str(exc), refused=False, retry_in=WAIT_FOR_FIRING)
        raise EntryBusy(str(exc), entry_id=entry.id) from exc
    except TrackerRefused as exc:
        raise refuse(journal, entry, owner, exc.message, exc.status) from exc
    except TrackerError as exc:
        raise defer(journal, tracker, entry, owner, exc) from exc
    except JournalError:
        journal.release(entry.id, owner)
        raise
    except BridgeError as exc:
        raise refuse(journal, entry, owner, str(exc), None) from exc
    except BaseException:
        journal.release(entry.id, owner)
        raise


class _Resolve:
    def __init__(
        self, tracker: Tracker, journal: Journal, entry: Entry, owner: str, wanted: Resolution
    ) -> None:
        self.tracker = tracker
        self.journal = journal
        self.entry = entry
        self.owner = owner
        self.wanted = wanted
        self.steps = dict(entry.steps)

    def record(self, step: str, value: str) -> None:
        self.journal.record(self.entry.id, self.owner, step, value)
        self.steps[step] = value

    def run(self) -> Resolved:
        key = self.observation()
        if key is not None and "ended" not in self.steps:
            self.ended(key)
            self.record("ended", self.wanted.ended_at.isoformat())
        if key is not None and self.wanted.close and "close" not in self.steps:
            if not self.tracker.get(key).is_done:
                self.tracker.resolve(key)
            self.record("close", "done")
        finished = self.journal.finish(self.entry.id, self.owner)
        return Resolved(finished, key, self.wanted.ended_at, self.wanted.close and key is not None)

    def observation(self) -> str | None:
        if "observation" in self.steps:
            found: str | None = json.loads(self.steps["observation"])
            return found
        firing = self.journal.get(entry_id(self.entry.event_id))
        key: str | None
        if firing is not None and firing.state is State.DONE:
            key = json.loads(firing.steps["observation"])["key"]
        elif firing is not None:
            raise FiringNotDelivered(
                f"waiting for its firing (entry {firing.short}) to reach the tracker first."
            )
        else:  # the firing's entry was dropped: it may still have reached the tracker
            made = self.tracker.find_by_event(self.entry.event_id)
            key = made.key if made is not None else None
        self.record("observation", json.dumps(key))
        return key

    def ended(self, key: str) -> None:
        when = self.wanted.ended_at
        if isinstance(self.tracker, EndsSightings):
            self.tracker.set_resolved_at(key, when)
            return
        seen = self.tracker.get(key).observed_at
        lasted = f" after {humanize.duration(when - seen)}" if seen is not None else ""
        self.tracker.comment(key, f"Resolved at {when.isoformat()}{lasted} (the alert ended).")
