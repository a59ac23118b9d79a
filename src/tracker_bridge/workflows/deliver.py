"""Deliver one journal entry to its tracker, step by step, each step idempotent and recorded.

The steps of an ``observe`` entry, in order (the journal records each one as it is done):

1. ``defect``: the defect it belongs to, found by fingerprint or similarity, given explicitly, or
   created; a brand-new fingerprint is created once however many workers race for it (in one
   transaction on trackers that can, under the journal's per-fingerprint lock otherwise).
2. ``reopen``: a done defect seen again is reopened (``on_recurrence = "reopen"``).
3. ``observation``: the observation ticket, carrying the event id as its marker; a create whose
   answer was lost is found by that marker instead of being sent again.
4. ``attach``: every evidence file the observation does not hold yet (by SHA-256, read back).
5. ``comment`` (``on_recurrence = "comment"``) and ``index`` (a defect that has an evidence index
   gets it refreshed).
6. Read back: the observation must carry the marker and every evidence hash. When this attempt
   made the observation and uploaded every file, the tracker's answers to those writes are the
   read back; otherwise the observation is read by key. Only then is the entry finished, and its
   evidence files deleted from the journal.

A worker that dies anywhere leaves its steps recorded; whoever claims the entry next (a re-run of
``observe`` with the same event id, ``bridge replay``, another process) carries on from there.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from tracker_bridge.domain import durations
from tracker_bridge.domain.conventions import Conventions, clip, format_title, normalize
from tracker_bridge.domain.fingerprint import Fingerprint, fingerprint, headline
from tracker_bridge.domain.markup import escaper
from tracker_bridge.domain.matching import Candidate, event_keys
from tracker_bridge.domain.tickets import EvidenceFile, EvidenceRef, Kind, NewTicket, Ticket
from tracker_bridge.errors import (
    BridgeError,
    DeliveryDeferred,
    DeliveryRefused,
    EntryBusy,
    JournalError,
    LeaseLost,
    NotFoundError,
    TrackerError,
    TrackerRefused,
    TrackerUnavailable,
    UsageError,
    WriteInDoubt,
)
from tracker_bridge.journal.base import Entry, Item, Journal, State, current_owner
from tracker_bridge.trackers.base import AtomicDefects, Tracker, markup_of
from tracker_bridge.workflows import converge
from tracker_bridge.workflows.decide import decide
from tracker_bridge.workflows.evidence import fit
from tracker_bridge.workflows.sync import INDEX_NAME, roll_up

MAX_SETTLE = 600.0
"""At most this many seconds are waited for a create in doubt to land or be past landing."""

WAIT_FOR_OTHER = 60.0
"""Seconds to wait for another live worker delivering the same entry before leaving it to it."""


@dataclass(frozen=True, slots=True)
class Decision:
    """Which defect an observation belongs to, and how that was decided (the ``defect`` step)."""

    defect: str
    created: bool
    matched_by: str
    """``fingerprint``, ``similar``, ``explicit`` or ``new``."""
    candidates: tuple[Candidate, ...] = ()
    close_call: bool = False
    recurrence: str | None = None
    """``reopened``, ``new-defect`` or ``commented`` when the defect had been done."""
    notes: tuple[str, ...] = ()
    indexed: bool | None = None
    """Whether the defect carries an evidence index to refresh (None: not known, ask)."""

    def dump(self) -> str:
        return json.dumps(
            {
                "defect": self.defect,
                "created": self.created,
                "matched_by": self.matched_by,
                "candidates": [[c.key, c.template, c.score] for c in self.candidates],
                "close_call": self.close_call,
                "recurrence": self.recurrence,
                "notes": list(self.notes),
                "indexed": self.indexed,
            }
        )

    @classmethod
    def load(cls, text: str) -> Decision:
        raw = json.loads(text)
        return cls(
            defect=raw["defect"],
            created=raw["created"],
            matched_by=raw["matched_by"],
            candidates=tuple(Candidate(k, t, float(s)) for k, t, s in raw["candidates"]),
            close_call=raw["close_call"],
            recurrence=raw["recurrence"],
            notes=tuple(raw["notes"]),
            indexed=raw.get("indexed"),
        )


@dataclass(frozen=True, slots=True)
class Delivered:
    """An entry the tracker now holds completely, with what the tracker answered."""

    entry: Entry
    decision: Decision
    observation: Ticket
    """The observation as read back from the tracker."""
    evidence: tuple[EvidenceRef, ...]
    """This entry's evidence as the tracker stores it."""
    already: bool = False
    """True when the entry had been delivered before this call: nothing was sent."""
    resumed: bool = False
    """True when an earlier attempt had done some steps: this call carried on from there."""


@dataclass(frozen=True, slots=True)
class Sighting:
    """The ``observe`` payload of an entry, as values."""

    message: str
    instance: str
    actions: tuple[str, ...]
    observed_at: datetime
    impact: str
    defect: str | None
    new_defect: bool
    duration: timedelta | None = None
    """How long the effect lasted (``--duration``; an alert's start to its end)."""

    def payload(self) -> dict[str, Any]:
        return {
            "message": self.message,
            "instance": self.instance,
            "actions": list(self.actions),
            "observed_at": self.observed_at.astimezone(UTC).isoformat(),
            "impact": self.impact,
            "duration_seconds": round(self.duration.total_seconds()) if self.duration else None,
            "defect": self.defect,
            "new_defect": self.new_defect,
        }

    @classmethod
    def of(cls, payload: Any) -> Sighting:
        return cls(
            message=payload["message"],
            instance=payload["instance"],
            actions=tuple(payload.get("actions", ())),
            observed_at=datetime.fromisoformat(payload["observed_at"]),
            impact=payload.get("impact", ""),
            defect=payload.get("defect"),
            new_defect=bool(payload.get("new_defect", False)),
            duration=durations.from_seconds(payload.get("duration_seconds")),
        )


def deliver(
    tracker: Tracker,
    journal: Journal,
    conventions: Conventions,
    entry_id: str,
    *,
    owner: str | None = None,
    threshold: float | None = None,
    wait: float = WAIT_FOR_OTHER,
    sleep: Callable[[float], None] = time.sleep,
) -> Delivered:
    """Deliver entry ``entry_id`` to ``tracker``, carrying on from its last recorded step.

    ``owner`` names this worker in leases (default: this process); threads of one process that
    deliver concurrently must pass distinct owners (``current_owner(worker=...)``).
    ``DeliveryDeferred`` (exit 3) when the tracker is unavailable or another worker keeps the
    entry: it stays pending. ``DeliveryRefused`` (exit 2) when the tracker refuses: the entry is
    kept as failed with the tracker's answer.
    """
    owner = owner or current_owner()
    kept = journal.get(entry_id)
    if kept is not None and kept.op != "observe":
        raise UsageError(
            f"journal entry {entry_id[:12]} asks to {kept.op}, which this command does not do.",
            hint="`bridge serve` delivers those entries.",
        )
    entry = _claim(journal, entry_id, owner, wait, sleep)
    if entry.state is State.DONE:
        return _already(tracker, entry)
    if entry.state is State.FAILED:
        raise DeliveryRefused(
            f"journal entry {entry.id[:12]} was refused before: {entry.reason}",
            entry_id=entry.id,
            status=entry.status,
            hint=_refused_hint(entry.id),
        )
    try:
        delivered = _Delivery(tracker, journal, conventions, entry, owner, threshold, sleep).run()
    except LeaseLost:
        raise
    except TrackerRefused as exc:
        raise _refuse(journal, entry, owner, exc.message, exc.status) from exc
    except TrackerError as exc:
        raise defer(journal, tracker, entry, owner, exc) from exc
    except JournalError:
        journal.release(entry.id, owner)
        raise
    except BridgeError as exc:  # the request itself cannot be delivered: unknown --defect, ...
        raise _refuse(journal, entry, owner, str(exc), None) from exc
    except BaseException:
        journal.release(entry.id, owner)
        raise
    return delivered


def _claim(
    journal: Journal, entry_id: str, owner: str, wait: float, sleep: Callable[[float], None]
) -> Entry:
    deadline = time.monotonic() + wait
    while True:
        entry = journal.claim(entry_id, owner)
        if entry is not None:
            return entry
        if time.monotonic() >= deadline:
            held = journal.get(entry_id)
            who = held.lease_owner if held else "another worker"
            raise EntryBusy(
                f"journal entry {entry_id[:12]} is being delivered by {who}.",
                entry_id=entry_id,
                hint="It will finish there; `bridge queue` shows it until then.",
            )
        sleep(0.2)


def _refuse(
    journal: Journal, entry: Entry, owner: str, reason: str, status: int | None
) -> DeliveryRefused:
    kept = journal.fail(entry.id, owner, reason, refused=True, status=status)
    return DeliveryRefused(
        f"{reason} The sighting is kept in the journal as entry {kept.id[:12]}, with this answer.",
        entry_id=kept.id,
        status=status,
        hint=_refused_hint(kept.id),
    )


def defer(
    journal: Journal, tracker: Tracker, entry: Entry, owner: str, exc: TrackerError
) -> DeliveryDeferred:
    """Put ``entry`` back as pending, due when the tracker asked (``Retry-After``) or after a
    growing backoff, and say so."""
    wait = exc.retry_after if exc.retry_after is not None else _backoff(entry)
    kept = journal.fail(
        entry.id, owner, exc.message, refused=False, status=exc.status, retry_in=wait
    )
    fate = (
        f"Whether it reached {tracker.name} is not known yet"
        if isinstance(exc, WriteInDoubt)
        else f"The sighting is NOT recorded on {tracker.name} yet"
    )
    return DeliveryDeferred(
        f"{exc.message} {fate}; it is kept in the journal as entry {kept.id[:12]}.",
        entry_id=kept.id,
        status=exc.status,
        retry_after=exc.retry_after,
        hint="Run `bridge replay` when the tracker is back (it will not duplicate).",
    )


def refuse(
    journal: Journal, entry: Entry, owner: str, reason: str, status: int | None
) -> DeliveryRefused:
    """Keep ``entry`` as failed with the tracker's answer, and say how to retry or drop it."""
    return _refuse(journal, entry, owner, reason, status)


def _refused_hint(entry_id: str) -> str:
    return (
        f"Fix the cause (token, permissions, configuration), then run `bridge replay` "
        f"(or `bridge queue retry {entry_id[:12]}`); `bridge queue drop {entry_id[:12]}` "
        "discards it."
    )


def _backoff(entry: Entry) -> float:
    """Seconds before a worker tries an unavailable tracker again: 30 s doubling to an hour."""
    return float(min(30 * 2 ** min(max(entry.attempts - 1, 0), 7), 3600))


def _already(tracker: Tracker, entry: Entry) -> Delivered:
    decision = Decision.load(entry.steps["defect"])
    key = json.loads(entry.steps["observation"])["key"]
    observation = tracker.get(key)
    stored = stored_as(entry.steps)
    wanted = {stored.get(sha, sha) for sha in json.loads(entry.steps.get("evidence", "[]"))}
    return Delivered(
        entry=entry,
        decision=decision,
        observation=observation,
        evidence=tuple(r for r in observation.evidence if r.sha256 in wanted),
        already=True,
    )


class _Delivery:
    """One attempt at one entry: each method is a step, skipped when already recorded."""

    def __init__(
        self,
        tracker: Tracker,
        journal: Journal,
        conventions: Conventions,
        entry: Entry,
        owner: str,
        threshold: float | None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.tracker = tracker
        self.sleep = sleep
        self.journal = journal
        self.conventions = conventions
        self.entry = entry
        self.owner = owner
        self.threshold = threshold
        self.sighting = Sighting.of(entry.payload)
        self.steps = dict(entry.steps)
        self.fp = fingerprint(self.sighting.message)
        self.title = format_title(
            self.sighting.message, self.sighting.instance, conventions.observation_prefix
        )
        self.wrote = False
        """Whether this attempt changed anything on the tracker."""
        self.looked_up = False
        """Whether this attempt already found no observation under the event's marker."""
        self.made: Ticket | None = None
        self.confirmed: list[EvidenceRef] = []
        """Evidence the tracker's own answers to this attempt's uploads say it stored."""
        """The observation as this attempt created it."""
        self.esc = escaper(markup_of(tracker))
        """Data written into descriptions and comments is escaped for the tracker's markup."""

    def record(self, step: str, value: str) -> None:
        self.journal.record(self.entry.id, self.owner, step, value)
        self.steps[step] = value

    def sending(self, what: str) -> None:
        """Record that a create of ``what`` is about to be sent (its answer may never come)."""
        self.record(f"sent:{what}", repr(time.time()))

    def settle_in_doubt(self) -> None:
        """Wait until a create an earlier attempt sent without learning its fate has either
        landed and become searchable, or can no longer land (the request's timeout plus the
        tracker's search lag have passed since it was sent): only then is its marker looked up,
        so that it is never sent twice."""
        doubted = [
            float(value)
            for step, value in self.steps.items()
            if step.startswith("sent:") and step.removeprefix("sent:") not in self.steps
        ]
        if not doubted:
            return
        caps = self.tracker.capabilities()
        wait = max(doubted) + caps.write_timeout + caps.search_lag - time.time()
        if wait > 0:
            self.sleep(min(wait, MAX_SETTLE))

    def late_fold(self, decision: Decision, back: Ticket) -> tuple[Decision, Ticket]:
        """A defect this entry created may have been folded into an older twin (made at once
        on another machine) while this entry was being delivered: follow it there."""
        if not decision.created or isinstance(self.tracker, AtomicDefects):
            return decision, back
        defect = self.tracker.get(decision.defect)
        if defect.duplicate_of is None or back.parent == defect.duplicate_of:
            return decision, back
        self.tracker.set_parent(back.key, defect.duplicate_of)
        moved = replace(
            decision,
            defect=defect.duplicate_of,
            created=False,
            matched_by="fingerprint",
            notes=(
                *decision.notes,
                f"{decision.defect} was folded into {defect.duplicate_of} (two defects made at "
                f"once for one fingerprint): {back.key} moved under {defect.duplicate_of}",
            ),
        )
        self.record("defect", moved.dump())
        return moved, self.tracker.get(back.key)

    def run(self) -> Delivered:
        resumed = bool(self.steps)
        self.settle_in_doubt()
        files = self.fitted()  # first: evidence the tracker cannot take is refused before any write
        decision = self.defect()
        if decision.recurrence == "reopened" and "reopen" not in self.steps:
            decision = self.reopen(decision)
        observation, fresh = self.observation(decision, files)
        self.attach(observation, files, fresh)
        if decision.recurrence == "commented" and "comment" not in self.steps:
            self.tracker.comment(
                decision.defect,
                f"Seen again after it was done: {observation} ({self.esc(self.title)}).",
            )
            self.record("comment", "done")
        if "index" not in self.steps:
            if self._indexed(decision):
                roll_up(self.tracker, decision.defect)
                self.wrote = True
            self.record("index", "done")
        back = self.read_back(observation, files)
        decision, back = self.late_fold(decision, back)
        finished = self.journal.finish(self.entry.id, self.owner)
        stored = stored_as(self.steps)
        wanted = {stored.get(f.sha256, f.sha256) for f in files}
        return Delivered(
            entry=finished,
            decision=decision,
            observation=back,
            evidence=tuple(r for r in back.evidence if r.sha256 in wanted),
            already=not self.wrote,
            resumed=resumed and self.wrote,
        )

    def reopen(self, decision: Decision) -> Decision:
        """Reopen a done defect seen again; a workflow without a way back must not cost the
        sighting: it is recorded anyway, with a warning and a comment on the defect."""
        title = self.esc(self.title)
        try:
            self.tracker.reopen(decision.defect)
        except TrackerUnavailable:
            raise
        except BridgeError as exc:
            note = f"warning: {decision.defect} could not be reopened: {exc}"
            self.tracker.comment(
                decision.defect,
                f"Seen again ({title}), but the bridge could not reopen it: "
                f"{self.esc(exc.message)}",
            )
            decision = replace(decision, recurrence="reopen-failed", notes=(*decision.notes, note))
            self.record("defect", decision.dump())
        else:
            self.tracker.comment(decision.defect, f"Reopened: seen again ({title}).")
        self.wrote = True
        self.record("reopen", "done")
        return decision

    def _indexed(self, decision: Decision) -> bool:
        """Whether the defect has an evidence index; known from the decision's read when it
        was made, so this costs a request only after a recovery."""
        if decision.created:
            return False
        if decision.indexed is not None:
            return decision.indexed
        return _has_index(self.tracker.get(decision.defect))

    # -- step 1: the defect ------------------------------------------------------------------

    def defect(self) -> Decision:
        if "defect" in self.steps:
            return Decision.load(self.steps["defect"])
        decision = self._recovered()
        if decision is None:
            decision = self._decide()
            self.wrote = True
        self.record("defect", decision.dump())
        return decision

    @property
    def retried(self) -> bool:
        """Whether an earlier attempt may have written to the tracker: this entry was tried
        before, or its event id was given (a run without this journal may have sent it). A
        first attempt at a generated id, or at an event that only ever reaches the tracker
        through the journal (``journal_only``: alerts of ``bridge serve``), costs no lookup."""
        first_sender = self.entry.event_id.startswith("auto-") or bool(
            self.entry.payload.get("journal_only")
        )
        return self.entry.attempts > 1 or not first_sender

    def _recovered(self) -> Decision | None:
        """What an attempt that died before recording its decision had already made."""
        if not self.retried:
            return None
        made = self.tracker.find_by_event(self.entry.event_id)
        self.looked_up = made is None  # the observation step need not ask again
        if made is not None and made.parent:
            return Decision(defect=made.parent, created=False, matched_by=self._by(made.parent))
        if self.entry.attempts > 1:  # only an attempt of this entry can have made its defect
            fresh = self.tracker.find_by_event(f"{self.entry.event_id}/defect")
            if fresh is not None:
                return Decision(defect=fresh.key, created=True, matched_by="new")
        return None

    def _by(self, key: str) -> str:
        if self.sighting.defect:
            return "explicit"
        return "fingerprint" if self.fp.key in self.tracker.get(key).fingerprints else "similar"

    def _decide(self) -> Decision:
        s = self.sighting
        if s.defect:
            found = self.tracker.get(s.defect)
            if found.kind is not Kind.DEFECT:
                raise UsageError(
                    f"{s.defect} is a {found.kind or 'ticket not made by the bridge'}, "
                    "not a defect.",
                    hint="Pass the key of the defect this observation belongs to.",
                )
            return self._recur(
                Decision(
                    defect=found.key,
                    created=False,
                    matched_by="explicit",
                    indexed=_has_index(found),
                ),
                found,
            )
        if s.new_defect:
            self.sending("defect")
            made = self.tracker.create(self._new_defect())
            return Decision(defect=made.key, created=True, matched_by="new")
        # two machines may each have made this fingerprint's defect: only there look for twins
        twins: list[Ticket] | None = None if isinstance(self.tracker, AtomicDefects) else []
        known, matched_by, candidates, close = choose_defect(
            self.tracker, s.message, self.fp, self.threshold, twins=twins
        )
        if known is None:
            made, created, folded = ensure_defect(
                self.tracker,
                self.journal,
                self.fp,
                self._new_defect(),
                sending=lambda: self.sending("defect"),
            )
            return Decision(
                defect=made.key,
                created=created,
                matched_by="new" if created else "fingerprint",
                candidates=candidates,
                close_call=close,
                notes=folded,
            )
        notes: list[str] = []
        if twins and self.fp.key in known.fingerprints:
            converged = converge.converge(self.tracker, self.fp.key, [known, *twins])
            if converged is not None:
                known = converged.kept
                notes += converged.notes
        # every line of the event, so each one alone reaches this defect next time
        for key in event_keys(s.message):
            if key not in known.fingerprints:
                self.tracker.add_fingerprint(known.key, key)
                notes.append(f"{known.key} now also carries fingerprint {key}")
        decision = Decision(
            defect=known.key,
            created=False,
            matched_by=matched_by,
            candidates=candidates,
            close_call=close,
            notes=tuple(notes),
            indexed=_has_index(known),  # listings carry the same fields as a read
        )
        return self._recur(decision, known)

    def _recur(self, decision: Decision, defect: Ticket) -> Decision:
        if not defect.is_done:
            return decision
        policy = self.conventions.on_recurrence
        if policy == "reopen":
            return replace(decision, recurrence="reopened")
        if policy == "new-defect":
            self.sending("defect")
            fresh = self.tracker.create(self._new_defect(related=defect.key))
            return replace(
                decision, defect=fresh.key, created=True, recurrence="new-defect", indexed=False
            )
        return replace(decision, recurrence="commented")

    def _new_defect(self, related: str | None = None) -> NewTicket:
        return new_defect(
            self.conventions,
            self.sighting.message,
            self.sighting.instance,
            self.fp,
            self.entry.event_id,
            related=related,
            esc=self.esc,
        )

    # -- steps 3 and 4: the observation and its evidence ---------------------------------------

    def fitted(self) -> list[_Evidence]:
        """The evidence as the tracker will store it (compressed when over its upload limit)."""
        # the upload limit is asked only when there is something to upload (some sites lack it)
        limit = self.tracker.capabilities().upload_limit if self.entry.evidence else None
        out = []
        for item in self.entry.evidence:
            if limit is None or item.size <= limit:
                out.append(_Evidence(item, item.name, item.sha256, item.size, None))
                continue
            [packed] = fit([self._load(item)], limit)
            out.append(_Evidence(item, packed.name, packed.sha256, packed.size, packed))
        if "evidence" not in self.steps:
            self.record("evidence", json.dumps([f.sha256 for f in out]))
        return out

    def _load(self, item: Item) -> EvidenceFile:
        return self.journal.evidence_file(self.entry, item)

    def observation(self, decision: Decision, files: Sequence[_Evidence]) -> tuple[str, bool]:
        """The observation's key, and whether this attempt created it."""
        if "observation" in self.steps:
            return str(json.loads(self.steps["observation"])["key"]), False
        s = self.sighting
        # a create whose answer was lost is found by its marker, never sent blindly again
        ask = self.retried and not self.looked_up
        made = self.tracker.find_by_event(self.entry.event_id) if ask else None
        fresh = made is None
        if made is None:
            self.wrote = True
            self.sending("observation")
            made = self.tracker.create(
                NewTicket(
                    kind=Kind.OBSERVATION,
                    title=self.title,
                    message=s.message,
                    description=describe_observation(s, files, self.esc),
                    parent=decision.defect,
                    instance=normalize(s.instance),
                    observed_at=s.observed_at,
                    impact=s.impact,
                    duration=s.duration,
                    actions=s.actions,
                    labels=(self.conventions.observation_label,),
                    event_id=self.entry.event_id,
                    evidence=tuple(f.ref() for f in files),
                )
            )
            self.made = made
        self.record("observation", json.dumps({"key": made.key, "url": made.url}))
        return made.key, fresh

    def attach(self, key: str, files: Sequence[_Evidence], fresh: bool) -> None:
        if not files:
            return
        # an observation made by this attempt holds nothing yet; else ask what it holds
        held = set() if fresh else {ref.sha256 for ref in self.tracker.get(key).evidence}
        stored = stored_as(self.steps)
        missing = [f for f in files if stored.get(f.sha256, f.sha256) not in held]
        if missing:
            refs = self.tracker.attach(key, [f.load(self._load) for f in missing])
            self.wrote = True
            self.confirmed.extend(refs)
            # a tracker may store a file otherwise than sent (compressed after a 413): its
            # answer says how, and the read back looks for that
            for f, ref in zip(missing, refs, strict=False):
                self.record(f"attach:{f.sha256}", json.dumps([ref.name, ref.sha256]))
        for f in files:
            if f"attach:{f.sha256}" not in self.steps:
                self.record(f"attach:{f.sha256}", json.dumps([f.name, f.sha256]))

    # -- step 6: read back -----------------------------------------------------------------------

    def read_back(self, key: str, files: Sequence[_Evidence]) -> Ticket:
        # by key, not by a marker search: a search may lag the write (Jira Cloud), and a
        # tracker may answer a marker lookup from what it remembers creating
        if self.made is not None:
            # The tracker's answers to this attempt's writes are its word on what it holds: the
            # create's answer carries the marker, the upload's lists every stored file (the
            # backends check that list). A GET is needed only when a step was done by an earlier
            # attempt or its answer was lost, and it would cost one more request per sighting
            # (issue 13 keeps a known-defect observe with evidence at four on GitHub).
            confirmed = {ref.sha256: ref for ref in self.confirmed}
            stored = stored_as(self.steps)
            if all(stored.get(f.sha256, f.sha256) in confirmed for f in files):
                return replace(self.made, evidence=(*self.made.evidence, *confirmed.values()))
        back = self.tracker.get(key)
        held = {ref.sha256 for ref in back.evidence}
        stored = stored_as(self.steps)
        missing = [f.name for f in files if stored.get(f.sha256, f.sha256) not in held]
        problems = []
        if back.event_id and back.event_id != self.entry.event_id:
            problems.append(f"{key} carries the marker of event {back.event_id!r}")
        if missing:
            problems.append(f"{key} does not hold {', '.join(missing)}")
        if problems:
            # neither refused nor done: the entry stays pending and the next attempt re-attaches
            raise TrackerError(
                "read back after delivery: " + "; ".join(problems) + ".",
                hint="Run `bridge replay` to try again.",
            )
        return back


@dataclass(frozen=True, slots=True)
class _Evidence:
    """One journal item as the tracker will store it; the bytes are read only when sent."""

    item: Item
    name: str
    sha256: str
    size: int
    packed: EvidenceFile | None
    """The compressed form when the tracker's upload limit asked for it."""

    def ref(self) -> EvidenceRef:
        return EvidenceRef(
            name=self.name,
            sha256=self.sha256,
            size=self.size,
            source=self.item.source,
            captured_at=self.item.captured_at,
            redactions=self.item.redactions,
            scanned=self.item.scanned,
            sensitive=self.item.sensitive,
        )

    def load(self, read: Callable[[Item], EvidenceFile]) -> EvidenceFile:
        return self.packed if self.packed is not None else read(self.item)


def stored_as(steps: Mapping[str, str]) -> dict[str, str]:
    """The hash the tracker stored each sent file under (``attach:<sha>`` records)."""
    out = {}
    for step, value in steps.items():
        if step.startswith("attach:"):
            _, stored = json.loads(value)
            out[step.removeprefix("attach:")] = str(stored)
    return out


def _has_index(defect: Ticket) -> bool:
    return any(ref.name == INDEX_NAME for ref in defect.evidence)


def ensure_defect(
    tracker: Tracker,
    journal: Journal,
    fp: Fingerprint,
    new: NewTicket,
    *,
    sending: Callable[[], None] = lambda: None,
) -> tuple[Ticket, bool, tuple[str, ...]]:
    """The defect of a fingerprint nobody matched yet, created once however many workers race;
    whether this call made it; and notes on duplicates folded on the way.

    Trackers that can find-or-create in one transaction do. Elsewhere (Jira, GitHub) the
    journal's lock serialises the workers of one machine, and the defect a worker made is
    remembered beside the lock: the tracker's search may not show it yet (it lags writes), a
    read by key does. Defects made at once on other machines are folded into the oldest.
    ``sending`` is told just before a create is sent.
    """
    if isinstance(tracker, AtomicDefects):
        made, created = tracker.find_or_create_defect(fp.key, new)
        return made, created, ()
    with journal.defect_lock(fp.key):
        found = {d.key: d for d in converge.marked(tracker, fp.key)}
        mine = _made_here(tracker, journal, fp.key)
        if mine is not None:
            found.setdefault(mine.key, mine)
        folded = converge.converge(tracker, fp.key, list(found.values()))
        if folded is not None:
            return folded.kept, False, folded.notes
        sending()
        made = tracker.create(new)
        journal.remember_defect(fp.key, made.key)
        return made, True, ()


def _made_here(tracker: Tracker, journal: Journal, fingerprint: str) -> Ticket | None:
    """The defect a worker of this machine made for ``fingerprint``, read by key, while it
    still carries the fingerprint (``move`` and ``merge`` take it away); its survivor if it
    was folded since."""
    key = journal.defect_made(fingerprint)
    if key is None:
        return None
    try:
        made = tracker.get(key)
        if made.duplicate_of is not None:
            made = tracker.get(made.duplicate_of)
    except NotFoundError:
        return None
    return made if fingerprint in made.fingerprints else None


def choose_defect(
    tracker: Tracker,
    message: str,
    fp: Fingerprint,
    threshold: float | None,
    *,
    twins: list[Ticket] | None = None,
) -> tuple[Ticket | None, str, tuple[Candidate, ...], bool]:
    """The known defect a message belongs to (by fingerprint, else similarity), or None: the
    decision ``workflows.decide`` takes, read-only.

    ``twins`` (when given) receives the other defects read that carry the same fingerprint
    (``workflows.converge`` tells twins made at once from a recurrence): the page is read
    anyway, so noticing them costs nothing.
    """
    decision = decide(tracker, message, threshold)
    match = decision.match
    if twins is not None:
        twins += decision.also
    if decision.defect is None:
        return None, "new", match.candidates, match.close
    by = "fingerprint" if match.matched_by == "fingerprint" else "similar"
    return decision.defect, by, match.candidates, match.close


def new_defect(
    conventions: Conventions,
    message: str,
    instance: str,
    fp: Fingerprint,
    event_id: str,
    related: str | None = None,
    esc: Callable[[str], str] = str,
) -> NewTicket:
    """The defect ticket a first sighting opens; its marker is derived from the event id. Its
    description holds data only through ``esc`` (the tracker's markup)."""
    message = message.strip()
    # the identifying line names the defect: a stack trace's exception line, not its frames
    return NewTicket(
        kind=Kind.DEFECT,
        title=clip(normalize(headline(message) or message), 255),
        message=message,
        description=(
            f"Defect first seen on {esc(normalize(instance))}.\n\n"
            f"Error message:\n{esc(message)}\n\nTemplate: {esc(fp.template)}\n"
            f"Fingerprint: {fp.key}\n"
            + (f"\nRecurrence of {related}, which had been done.\n" if related else "")
        ),
        fingerprints=event_keys(message),
        labels=(conventions.defect_label, conventions.fingerprint_label(fp.key)),
        event_id=f"{event_id}/defect",
        related=related,
    )


def describe_observation(
    sighting: Sighting,
    files: Sequence[_Evidence | EvidenceFile],
    esc: Callable[[str], str] = str,
) -> str:
    """The observation's description: where, when, the full message, impact, actions, evidence;
    every value from the wild goes through ``esc``."""
    lines = [
        f"Observed on {esc(normalize(sighting.instance))} at {sighting.observed_at.isoformat()}.",
        "",
        "Error message:",
        esc(sighting.message),
    ]
    if sighting.impact:
        lines += ["", f"Impact: {esc(sighting.impact)}"]
    if sighting.duration is not None:
        lines += ["", f"Duration: {durations.format(sighting.duration)}"]
    if sighting.actions:
        lines += ["", "Actions taken:", *(f"- {esc(a)}" for a in sighting.actions)]
    if files:
        # a file name is data: one line each, whatever it holds
        lines += ["", "Evidence:", *(f"- {_describe(f, esc)}" for f in files)]
    return "\n".join(lines)


def _describe(item: _Evidence | EvidenceFile, esc: Callable[[str], str]) -> str:
    if isinstance(item, EvidenceFile):
        name, size, source = item.name, item.size, item.source
    else:
        name, size, source = item.name, item.size, item.item.source
    return f"{esc(normalize(name))} ({size} bytes, {esc(normalize(source))})"
