"""``observe``: record one sighting of a defect, deciding whether the defect is known.

The sighting is first kept in the journal (evidence included, synced to disk), then delivered
step by step by ``workflows.deliver``: a re-run with the same event id, ``bridge replay`` or
another process carries on where an interrupted attempt stopped, and nothing is made twice
(every ticket carries a marker derived from the event id). Bad input (message, instance, title)
is refused before anything is kept or sent.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal, cast

from tracker_bridge.domain.conventions import Conventions, format_title, normalize
from tracker_bridge.domain.fingerprint import Fingerprint, fingerprint
from tracker_bridge.domain.matching import Candidate
from tracker_bridge.domain.tickets import EvidenceFile, EvidenceRef, Kind, utcnow
from tracker_bridge.domain.times import as_utc
from tracker_bridge.errors import UsageError
from tracker_bridge.journal.base import Binding, Journal, NewEntry, State
from tracker_bridge.trackers.base import Tracker
from tracker_bridge.workflows.deliver import Delivered, Sighting, choose_defect, deliver
from tracker_bridge.workflows.evidence import Capture, fit, ref_json

MatchedBy = Literal["fingerprint", "similar", "explicit", "new"]


@dataclass(frozen=True, slots=True)
class Request:
    """One observation as the user described it; evidence already collected and scrubbed."""

    message: str
    instance: str
    evidence: tuple[EvidenceFile, ...] = ()
    actions: tuple[str, ...] = ()
    observed_at: datetime | None = None
    impact: str = ""
    duration: timedelta | None = None
    """How long the effect lasted (``--duration``; an alert's start to its end)."""
    event_id: str = ""
    defect: str | None = None
    new_defect: bool = False
    dry_run: bool = False


@dataclass(frozen=True, slots=True)
class Result:
    """What ``observe`` did (or, with ``dry_run``, would do)."""

    observation: str | None
    defect: str | None
    defect_created: bool
    matched_by: MatchedBy
    fingerprint: Fingerprint
    title: str
    event_id: str
    evidence: tuple[EvidenceRef, ...] = ()
    url: str = ""
    candidates: tuple[Candidate, ...] = ()
    close_call: bool = False
    recurrence: str | None = None
    """``reopened``, ``reopen-failed`` (recorded, with a warning in ``notes`` and a comment on
    the defect), ``new-defect`` or ``commented`` when the defect had been done."""
    replayed: bool = False
    """True when the event id had already been delivered: nothing new was created."""
    resumed: bool = False
    """True when an interrupted earlier attempt had begun: this one carried on from there."""
    entry: str = ""
    """The journal entry that kept the sighting (the SHA-256 of the event id)."""
    dry_run: bool = False
    notes: tuple[str, ...] = field(default=())
    captures: tuple[Capture, ...] = ()
    """The ``--capture`` commands run first, each with its exit status and time."""

    def to_json(self) -> dict[str, Any]:
        return {
            "observation": self.observation,
            "defect": self.defect,
            "defect_created": self.defect_created,
            "matched_by": self.matched_by,
            "evidence": [ref_json(r) for r in self.evidence],
            "url": self.url,
            "title": self.title,
            "fingerprint": self.fingerprint.key,
            "template": self.fingerprint.template,
            "event_id": self.event_id,
            "candidates": [
                {"key": c.key, "template": c.template, "score": round(c.score, 3)}
                for c in self.candidates
            ],
            "close_call": self.close_call,
            "recurrence": self.recurrence,
            "replayed": self.replayed,
            "resumed": self.resumed,
            "entry": self.entry,
            "dry_run": self.dry_run,
            "notes": list(self.notes),
            "captures": [
                {"command": c.command, "exit_status": c.exit_status, "seconds": round(c.seconds, 3)}
                for c in self.captures
            ],
        }


def check_input(message: str, instance: str, conventions: Conventions) -> tuple[str, str]:
    """The message as stored and the observation's title; ``UsageError`` for bad input.

    Cheap and local, so the CLI calls it before running any ``--capture`` command.
    """
    message = message.strip()
    if not normalize(message):
        raise UsageError("the error message is empty.", hint="Pass the message as it was seen.")
    try:
        title = format_title(message, instance, conventions.observation_prefix)
    except ValueError as exc:
        raise UsageError(f"cannot title the observation: {exc}.") from None
    return message, title


def run(
    tracker: Tracker,
    conventions: Conventions,
    request: Request,
    *,
    journal: Journal | None = None,
    threshold: float | None = None,
    binding: Binding | None = None,
    unredacted: bool = False,
    owner: str | None = None,
) -> Result:
    """Keep the sighting in ``journal``, then deliver it; see the module docstring.

    Without a journal, one in memory serves this call (nothing survives a crash: ``Bridge`` and
    the CLI always pass the durable one); a ``dry_run`` keeps nothing anywhere. ``binding`` names
    the tracker the entry is for (default: ``tracker.name``); an event already kept for another
    tracker is refused.
    When the tracker is unavailable or refuses, the entry stays in the journal and the error
    (``DeliveryDeferred``, ``DeliveryRefused``) names it and says how to replay it.
    """
    message, title = check_input(request.message, request.instance, conventions)
    event_id = request.event_id or f"auto-{uuid.uuid4()}"
    observed_at = as_utc(request.observed_at or utcnow())
    fp = fingerprint(message)
    if request.dry_run:
        return _dry_run(tracker, request, message, title, event_id, fp, threshold)
    sighting = Sighting(
        message=message,
        instance=request.instance,
        actions=request.actions,
        observed_at=observed_at,
        impact=request.impact,
        defect=request.defect,
        new_defect=request.new_defect,
        duration=request.duration,
    )
    if journal is None:
        from tracker_bridge.journal.memory import MemoryJournal

        journal = MemoryJournal()
    binding = binding or Binding("library", tracker.name, "")
    entry, created = journal.put(
        NewEntry(
            event_id=event_id,
            binding=binding,
            payload=sighting.payload(),
            evidence=request.evidence,
            unredacted=unredacted,
        )
    )
    notes: list[str] = []
    if not created:
        _same_tracker(entry.binding, binding, event_id)
        if entry.state is State.FAILED:
            journal.retry(entry.id)  # observing the event again is asking to retry it
        extra = {f.sha256 for f in request.evidence} - {i.sha256 for i in entry.evidence}
        if extra and entry.state is not State.DONE:
            notes.append(
                "this event was kept before: its first evidence is delivered, not this "
                "run's (add more with `bridge evidence add`)"
            )
    delivered = deliver(tracker, journal, conventions, entry.id, owner=owner, threshold=threshold)
    return _result(delivered, fp, title, event_id, tuple(notes))


def resume(
    tracker: Tracker,
    conventions: Conventions,
    journal: Journal,
    entry_id: str,
    *,
    threshold: float | None = None,
    owner: str | None = None,
    wait: float = 0.0,
) -> Result:
    """Deliver a kept ``observe`` entry (``bridge replay``, a worker), from its last step."""
    delivered = deliver(
        tracker, journal, conventions, entry_id, owner=owner, threshold=threshold, wait=wait
    )
    sighting = Sighting.of(delivered.entry.payload)
    title = format_title(sighting.message, sighting.instance, conventions.observation_prefix)
    return _result(delivered, fingerprint(sighting.message), title, delivered.entry.event_id, ())


def _same_tracker(kept: Binding, here: Binding, event_id: str) -> None:
    if kept != here:
        raise UsageError(
            f"event {event_id!r} was kept for {kept.describe()}, but this configuration points "
            f"to {here.describe()}; it is not sent anywhere else.",
            hint="Run it with the configuration of that tracker (--config), or drop the kept "
            "entry with `bridge queue drop ID`.",
        )


def _result(
    delivered: Delivered, fp: Fingerprint, title: str, event_id: str, notes: tuple[str, ...]
) -> Result:
    decision = delivered.decision
    return Result(
        observation=delivered.observation.key,
        defect=decision.defect,
        defect_created=decision.created and not delivered.already,
        matched_by=cast(MatchedBy, decision.matched_by),
        fingerprint=fp,
        title=delivered.observation.title or title,
        event_id=event_id,
        evidence=delivered.evidence,
        url=delivered.observation.url,
        candidates=decision.candidates,
        close_call=decision.close_call,
        recurrence=None if delivered.already else decision.recurrence,
        replayed=delivered.already,
        resumed=delivered.resumed,
        entry=delivered.entry.id,
        notes=decision.notes + notes,
    )


def _dry_run(
    tracker: Tracker,
    request: Request,
    message: str,
    title: str,
    event_id: str,
    fp: Fingerprint,
    threshold: float | None,
) -> Result:
    """What observe would do, decided with reads only; nothing is kept or sent."""
    # the upload limit is asked only when there is something to upload (some sites lack it)
    files = fit(request.evidence, tracker.capabilities().upload_limit) if request.evidence else []
    if request.event_id:
        done = tracker.find_by_event(event_id)
        if done is not None:
            return Result(
                observation=done.key,
                defect=done.parent,
                defect_created=False,
                matched_by="fingerprint",
                fingerprint=fp,
                title=done.title or title,
                event_id=event_id,
                evidence=done.evidence,
                url=done.url,
                replayed=True,
                dry_run=True,
            )
    defect_key: str | None = None
    matched_by: MatchedBy = "new"
    candidates: tuple[Candidate, ...] = ()
    close = False
    if request.defect:
        defect = tracker.get(request.defect)
        if defect.kind is not Kind.DEFECT:
            raise UsageError(
                f"{request.defect} is a {defect.kind or 'ticket not made by the bridge'}, "
                "not a defect.",
                hint="Pass the key of the defect this observation belongs to.",
            )
        defect_key, matched_by = defect.key, "explicit"
    elif not request.new_defect:
        known, by, candidates, close = choose_defect(tracker, message, fp, threshold)
        if known is not None:
            defect_key, matched_by = known.key, cast(MatchedBy, by)
    return Result(
        observation=None,
        defect=defect_key,
        defect_created=defect_key is None,
        matched_by=matched_by,
        fingerprint=fp,
        title=title,
        event_id=event_id,
        candidates=candidates,
        close_call=close,
        evidence=tuple(f.ref() for f in files),
        dry_run=True,
    )
