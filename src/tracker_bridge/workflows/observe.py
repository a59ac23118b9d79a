"""``observe``: record one sighting of a defect, deciding whether the defect is known.

Order matters: everything that can fail on bad input (message, instance, title, evidence size,
an explicit ``--defect``) is checked before the first write, so a refusal leaves nothing
half-made. Every ticket carries an idempotency marker derived from the event id, so re-running
the same event (by the user, by ``bridge replay``, or by a retry after a lost response) returns
the tickets already made instead of making new ones.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from tracker_bridge.domain import durations
from tracker_bridge.domain.conventions import Conventions, clip, format_title, normalize
from tracker_bridge.domain.fingerprint import Fingerprint, fingerprint, headline
from tracker_bridge.domain.markup import escaper
from tracker_bridge.domain.matching import Candidate, event_keys
from tracker_bridge.domain.tickets import EvidenceFile, EvidenceRef, Kind, NewTicket, Ticket, utcnow
from tracker_bridge.domain.times import as_utc
from tracker_bridge.errors import BridgeError, TrackerUnavailable, UsageError
from tracker_bridge.trackers.base import Tracker, markup_of
from tracker_bridge.workflows import spool
from tracker_bridge.workflows.decide import decide
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
    """True when the event id had already been recorded: nothing new was created."""
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
    threshold: float | None = None,
    spool_dir: Path | None = None,
) -> Result:
    """Record an observation; see the module docstring for the guarantees.

    When the tracker stays unavailable and ``spool_dir`` is given, the request (evidence
    included) is kept there for ``bridge replay`` and the error says where.
    """
    message, title = check_input(request.message, request.instance, conventions)
    event_id = request.event_id or f"auto-{uuid.uuid4()}"
    observed_at = as_utc(request.observed_at or utcnow())
    fp = fingerprint(message)
    try:
        return _observe(
            tracker, conventions, request, message, title, event_id, observed_at, fp, threshold
        )
    except TrackerUnavailable as exc:
        # from the first request on: an outage usually shows at the first lookup, not the create
        if spool_dir is None or request.dry_run:
            raise
        kept = spool.keep(spool_dir, replace(request, event_id=event_id, observed_at=observed_at))
        raise TrackerUnavailable(
            f"{exc.message} The observation {title!r} was NOT recorded on {tracker.name}; "
            f"it is kept in {kept}.",
            hint=f"Run `bridge replay {kept}` when the tracker is back (it will not duplicate).",
            status=exc.status,
        ) from exc


def _observe(
    tracker: Tracker,
    conventions: Conventions,
    request: Request,
    message: str,
    title: str,
    event_id: str,
    observed_at: datetime,
    fp: Fingerprint,
    threshold: float | None,
) -> Result:
    # the upload limit is asked only when there is something to upload (some sites lack it)
    files = fit(request.evidence, tracker.capabilities().upload_limit) if request.evidence else []
    if request.event_id:
        done = tracker.find_by_event(event_id)
        if done is not None:
            return _replayed(done, fp, title, event_id, tracker)

    defect, matched_by, candidates, close = _choose_defect(tracker, request, fp, threshold)
    base = Result(
        observation=None,
        defect=defect.key if defect else None,
        defect_created=defect is None,
        matched_by=matched_by,
        fingerprint=fp,
        title=title,
        event_id=event_id,
        candidates=candidates,
        close_call=close,
        evidence=tuple(f.ref() for f in files),
        dry_run=request.dry_run,
    )
    if request.dry_run:
        return base
    return _record(tracker, conventions, request, base, defect, files, message, observed_at)


def _choose_defect(
    tracker: Tracker, request: Request, fp: Fingerprint, threshold: float | None
) -> tuple[Ticket | None, MatchedBy, tuple[Candidate, ...], bool]:
    if request.defect:
        defect = tracker.get(request.defect)
        if defect.kind is not Kind.DEFECT:
            raise UsageError(
                f"{request.defect} is a {defect.kind or 'ticket not made by the bridge'}, "
                "not a defect.",
                hint="Pass the key of the defect this observation belongs to.",
            )
        return defect, "explicit", (), False
    if request.new_defect:
        return None, "new", (), False
    decision = decide(tracker, request.message, threshold)
    match = decision.match
    if decision.defect is None:
        return None, "new", match.candidates, match.close
    by: MatchedBy = "fingerprint" if match.matched_by == "fingerprint" else "similar"
    return decision.defect, by, match.candidates, match.close


def _record(
    tracker: Tracker,
    conventions: Conventions,
    request: Request,
    base: Result,
    defect: Ticket | None,
    files: list[EvidenceFile],
    message: str,
    observed_at: datetime,
) -> Result:
    fp, recurrence = base.fingerprint, None
    notes: list[str] = []
    esc = escaper(markup_of(tracker))
    created = defect is None
    if defect is not None and defect.is_done:
        recurrence, defect = _recur(tracker, conventions, defect, request, base, notes)
        created = created or recurrence == "new-defect"
    if defect is None:
        defect = tracker.create(
            _new_defect(conventions, message, fp, request, base.event_id, esc=esc)
        )
    elif base.matched_by in ("similar", "fingerprint"):
        # Every line of the event, so each one alone reaches this defect next time.
        for key in event_keys(message):
            if key not in defect.fingerprints:
                tracker.add_fingerprint(defect.key, key)
                notes.append(f"{defect.key} now also carries fingerprint {key}")
    observation = tracker.create(
        NewTicket(
            kind=Kind.OBSERVATION,
            title=base.title,
            message=message,
            description=_describe_observation(message, request, observed_at, files, esc),
            parent=defect.key,
            instance=normalize(request.instance),
            observed_at=observed_at,
            impact=request.impact,
            duration=request.duration,
            actions=request.actions,
            labels=(conventions.observation_label,),
            event_id=base.event_id,
            evidence=tuple(f.ref() for f in files),
        )
    )
    refs = tracker.attach(observation.key, files) if files else []
    if recurrence == "commented":
        tracker.comment(
            defect.key, f"Seen again after it was done: {observation.key} ({esc(base.title)})."
        )
    return Result(
        observation=observation.key,
        defect=defect.key,
        defect_created=created,
        matched_by=base.matched_by,
        fingerprint=fp,
        title=base.title,
        event_id=base.event_id,
        evidence=tuple(refs),
        url=observation.url,
        candidates=base.candidates,
        close_call=base.close_call,
        recurrence=recurrence,
        notes=tuple(notes),
    )


def _recur(
    tracker: Tracker,
    conventions: Conventions,
    defect: Ticket,
    request: Request,
    base: Result,
    notes: list[str],
) -> tuple[str, Ticket]:
    policy = conventions.on_recurrence
    esc = escaper(markup_of(tracker))
    if policy == "reopen":
        try:
            tracker.reopen(defect.key)
        except TrackerUnavailable:
            raise  # kept in the spool and replayed whole
        except BridgeError as exc:
            # a workflow without a way back must not cost the sighting: record it, say so
            notes.append(f"warning: {defect.key} could not be reopened: {exc}")
            tracker.comment(
                defect.key,
                f"Seen again ({esc(base.title)}), but the bridge could not reopen it: "
                f"{esc(exc.message)}",
            )
            return "reopen-failed", defect
        tracker.comment(defect.key, f"Reopened: seen again ({esc(base.title)}).")
        return "reopened", defect
    if policy == "new-defect":
        fresh = tracker.create(
            _new_defect(
                conventions,
                request.message.strip(),
                base.fingerprint,
                request,
                base.event_id,
                related=defect.key,
                esc=esc,
            )
        )
        return "new-defect", fresh
    return "commented", defect


def _new_defect(
    conventions: Conventions,
    message: str,
    fp: Fingerprint,
    request: Request,
    event_id: str,
    related: str | None = None,
    esc: Callable[[str], str] = str,
) -> NewTicket:
    """The defect for ``message``; its description holds data only through ``esc`` (the
    tracker's markup), so no message or instance becomes structure there."""
    # The identifying line names the defect: a stack trace's exception line, not its frames.
    return NewTicket(
        kind=Kind.DEFECT,
        title=clip(normalize(headline(message) or message), 255),
        message=message,
        description=(
            f"Defect first seen on {esc(normalize(request.instance))}.\n\n"
            f"Error message:\n{esc(message)}\n\nTemplate: {esc(fp.template)}\n"
            f"Fingerprint: {fp.key}\n"
            + (f"\nRecurrence of {related}, which had been done.\n" if related else "")
        ),
        fingerprints=event_keys(message),
        labels=(conventions.defect_label, conventions.fingerprint_label(fp.key)),
        event_id=f"{event_id}/defect",
        related=related,
    )


def _describe_observation(
    message: str,
    request: Request,
    observed_at: datetime,
    files: list[EvidenceFile],
    esc: Callable[[str], str] = str,
) -> str:
    """The observation's description; every value from the wild goes through ``esc``."""
    lines = [
        f"Observed on {esc(normalize(request.instance))} at {observed_at.isoformat()}.",
        "",
        "Error message:",
        esc(message),
    ]
    if request.impact:
        lines += ["", f"Impact: {esc(request.impact)}"]
    if request.duration is not None:
        lines += ["", f"Duration: {durations.format(request.duration)}"]
    if request.actions:
        lines += ["", "Actions taken:", *(f"- {esc(a)}" for a in request.actions)]
    if files:
        lines += [
            "",
            "Evidence:",
            # a file name is data: one line each, whatever it holds
            *(
                f"- {esc(normalize(f.name))} ({f.size} bytes, {esc(normalize(f.source))})"
                for f in files
            ),
        ]
    return "\n".join(lines)


def _replayed(done: Ticket, fp: Fingerprint, title: str, event_id: str, tracker: Tracker) -> Result:
    defect = tracker.get(done.parent) if done.parent else None
    by: MatchedBy = "fingerprint" if defect and fp.key in defect.fingerprints else "similar"
    return Result(
        observation=done.key,
        defect=done.parent,
        defect_created=False,
        matched_by=by,
        fingerprint=fp,
        title=done.title or title,
        event_id=event_id,
        evidence=done.evidence,
        url=done.url,
        replayed=True,
    )
