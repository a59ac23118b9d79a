"""Is this message a defect the tracker knows? The decision ``observe`` takes, read-only.

``observe`` files a sighting with it, ``fingerprint --explain`` shows it, and ``check --fix``
proposes parents with the same rebuilt matcher: one way of reading the tracker's defects.

A defect's whole matching state is on the tracker: its first message, the fingerprint keys
recorded on it (matched under, every line of a multi-line event, and what ``move`` and ``merge``
moved onto it), and whether it was merged into another (``duplicate_of``). Nothing is kept
between processes, so a correction is in force the moment the tracker holds it.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from tracker_bridge.domain import explain as render
from tracker_bridge.domain.fingerprint import fingerprint
from tracker_bridge.domain.matching import (
    DEFAULT_THRESHOLD,
    Candidate,
    Match,
    Matcher,
    Reason,
    event_keys,
)
from tracker_bridge.domain.tickets import Ticket
from tracker_bridge.trackers.base import Tracker

PAGE = 100
"""Defects trackers return per page: one request's worth."""


@dataclass(frozen=True, slots=True)
class Decision:
    """The defect a message belongs to (``None``: a new one), and what decided it."""

    defect: Ticket | None
    match: Match
    read: int
    """Defects read from the tracker to decide."""
    reasons: tuple[Reason, ...] = ()
    """Why each candidate scored what it did; filled only when asked (``explain``)."""
    titles: tuple[tuple[str, str], ...] = ()
    """The candidates' defect titles, when asked (``explain``)."""
    also: tuple[Ticket, ...] = ()
    """Other defects read that carry the key ``defect`` was found by: twins two machines made
    at once (``workflows.converge`` folds them), or a done defect beside its recurrence."""


@dataclass(frozen=True, slots=True)
class Explanation:
    """``bridge fingerprint --explain``: lines for a person, and the same as data."""

    lines: tuple[str, ...]
    data: dict[str, Any]


def matcher_for(defects: Iterable[Ticket], threshold: float | None = None) -> Matcher:
    """A matcher holding ``defects`` as the tracker records them (see the module docstring)."""
    defects = list(defects)
    matcher = Matcher(threshold if threshold is not None else DEFAULT_THRESHOLD)
    for defect in defects:
        matcher.add(defect.key, defect.message or defect.title, defect.fingerprints)
    known = {d.key for d in defects}
    for defect in defects:
        survivor = defect.duplicate_of
        if survivor and survivor in known and survivor != defect.key:
            try:
                matcher.merge(defect.key, survivor)
            except ValueError:  # merged both ways on the tracker: keep each as it is
                continue
    return matcher


def decide(
    tracker: Tracker, message: str, threshold: float | None = None, *, explain: bool = False
) -> Decision:
    """The defect ``message`` belongs to, as ``observe`` decides it; writes nothing.

    One page of defects usually holds them all: it answers the exact match and feeds the
    similarity pass in one request. Past a page, the indexed fingerprint lookup is cheaper than
    reading every page for a defect that is probably known. With ``explain``, each candidate's
    reason is filled in.
    """
    listing = tracker.defects()
    keys = event_keys(message)
    known = {d.key: d for d in itertools.islice(listing, PAGE)}
    # the message's own fingerprint before its companions'; then an open defect before a done
    # one (a site may give them all the same ``created``, so listing order proves nothing)
    for key in keys:
        exact = [d for d in known.values() if _carries(d, (key,))]
        if exact:
            best = min(exact, key=lambda d: d.is_done)
            answer = _exact(best, message, threshold, read=len(known))
            return replace(answer, also=tuple(d for d in exact if d.key != best.key))
    if len(known) == PAGE:
        for key in keys:
            found = tracker.find_by_fingerprint(key)
            if found is not None and _carries(found, keys):
                return _exact(found, message, threshold, read=len(known))
        known.update((d.key, d) for d in listing)
    matcher = matcher_for(known.values(), threshold)
    match = matcher.match(message)
    chosen = known[match.key] if match.key is not None else None
    if not explain:
        return Decision(chosen, match, len(known))
    titles = tuple((c.key, known[c.key].title) for c in match.candidates if c.key in known)
    return Decision(chosen, match, len(known), matcher.reasons(match), titles)


def explain(
    tracker: Tracker | None, message: str, threshold: float | None = None, *, absent: str = ""
) -> Explanation:
    """How ``message`` is masked and what ``observe`` would decide on it against ``tracker``'s
    defects, candidates and reasons included; writes nothing. With no tracker (``absent`` says
    why), the message is explained against no known defect, and the lines say so."""
    if tracker is None:
        matcher = Matcher(threshold if threshold is not None else DEFAULT_THRESHOLD)
        match = matcher.match(message)
        decision = Decision(None, match, 0, matcher.reasons(match))
        against = f"{absent or 'no tracker'}; the message alone, as if no defect were known"
        where: dict[str, Any] = {"tracker": None, "defects_read": 0, "absent": absent}
    else:
        decision = decide(tracker, message, threshold, explain=True)
        match = decision.match
        if decision.read or decision.defect is not None:
            read = f"{decision.read} defect{'s' if decision.read != 1 else ''} read"
            if match.matched_by == "fingerprint":
                read += ", a recorded fingerprint answered"
        else:
            read = "no defects yet"
        against = f"{tracker.name} ({read})"
        where = {"tracker": tracker.name, "defects_read": decision.read, "absent": None}
    lines = render.explain(
        message, match, decision.reasons, against=against, titles=dict(decision.titles)
    )
    data = {**where, **render.to_json(match, decision.reasons)}
    titles = dict(decision.titles)
    for candidate in data["candidates"]:
        candidate["title"] = titles.get(candidate["key"])
    return Explanation(tuple(lines), data)


def _carries(defect: Ticket, keys: Iterable[str]) -> bool:
    # A merged duplicate gave its keys to the survivor; one still carrying a key (merged by hand
    # on the tracker) is decided by the matcher, which follows it to the survivor.
    return not defect.duplicate_of and any(key in defect.fingerprints for key in keys)


def _exact(defect: Ticket, message: str, threshold: float | None, *, read: int) -> Decision:
    # Found by a recorded key: no matcher was built, nothing else was compared.
    template = fingerprint(defect.message or defect.title).template
    match = Match(
        key=defect.key,
        matched_by="fingerprint",
        fingerprint=fingerprint(message),
        score=1.0,
        candidates=(Candidate(defect.key, template, 1.0),),
        threshold=threshold if threshold is not None else DEFAULT_THRESHOLD,
    )
    reason = Reason(defect.key, "fingerprint", template)
    return Decision(defect, match, read, (reason,), ((defect.key, defect.title),))
