"""``bridge fingerprint --explain``: how a message was masked, which defects it resembles and why,
and the decision ``observe`` takes on it.

Pure: the caller matches (against the tracker's defects, or none) and passes the result here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from tracker_bridge.domain.events import identify
from tracker_bridge.domain.fingerprint import MAX_TOKENS, fingerprint, headline, mask_token
from tracker_bridge.domain.matching import CLOSE_MARGIN, Match, Reason


def explain(
    message: str,
    result: Match,
    reasons: Sequence[Reason],
    *,
    against: str = "",
    titles: Mapping[str, str] | None = None,
) -> list[str]:
    """Human-readable lines: the identifying line, the masking, the candidates with why each
    scored what it did, and the decision. ``against`` says which defects were matched against;
    ``titles`` names the candidates' defects."""
    titles = titles or {}
    fp = fingerprint(message)
    line = headline(message)
    raw = line.split(" ") if line else []
    event = identify(message)
    lines = [
        f"headline: {line!r}"
        + (" (identifying line of a longer message)" if "\n" in message.strip() else ""),
        *(f"same event: {c!r}" for c in event.companions),
        *([f"frames: {len(event.frames)} (evidence, not matched)"] if event.frames else []),
        f"tokens ({len(fp.tokens)}): " + " | ".join(fp.tokens),
    ]
    masked = [f"{r!r} -> {mask_token(r)!r}" for r in raw[:MAX_TOKENS] if mask_token(r) != r]
    lines.append("masked: " + (", ".join(masked) if masked else "nothing"))
    if len(fp.tokens) < min(len(raw), MAX_TOKENS):
        lines.append("folded: units, date words and runs of variables into single <*>")
    lines.append(f"fingerprint: {fp.key} (template {fp.template!r})")
    if against:
        lines.append(f"against: {against}")
    if result.candidates:
        lines.append("candidates:")
        for candidate, reason in zip(result.candidates, reasons, strict=True):
            title = titles.get(candidate.key)
            if title:
                lines.append(f"  {candidate.key} {candidate.score:.0%} {title!r}")
                lines.append(f"    template {candidate.template!r}")
            else:
                lines.append(f"  {candidate.key} {candidate.score:.0%} {candidate.template!r}")
            lines.extend(f"    {why}" for why in describe(reason, result.threshold))
    else:
        lines.append("candidates: none sharing a token in place or two words in order")
    lines.append(
        f"decision: {result.matched_by} {result.key or ''} ({_decision(result)})".replace("  ", " ")
    )
    if result.close:
        lines.append("close call: please double-check")
    return lines


def describe(reason: Reason, threshold: float) -> list[str]:
    """Why one candidate scored what it did, in a line or a few."""
    via = f" (through {reason.via}'s template)" if reason.via else ""
    if reason.shape == "fingerprint":
        return [f"fingerprint recorded on {reason.key}{via}"]
    if reason.shape == "in place":
        if not reason.differences:
            return [f"same tokens in place{via}"]
        head = f"same token count, compared in place{via}; differs at:"
        return [head] + [
            f"  #{d.position}: {d.known!r} vs {d.seen!r} {d.score:.1f}: {d.why}"
            for d in reason.differences
        ]
    if reason.shape == "wrapper":
        return [f"the shorter phrase ends the longer one whole: a wrapper{via}"]
    if reason.shape == "sentence":
        return [f"the shorter, a whole sentence, is found inside the longer, more after it{via}"]
    if reason.shape == "resource state":
        return [f"both end in the same resource state after a short operation{via}"]
    missing = ", ".join(repr(w) for w in reason.missing) or "none"
    return [
        f"found in order inside the other{via}; words missing: {missing} "
        f"(each halves the score; not a wrapper's shape, so listed at most "
        f"{max(threshold - CLOSE_MARGIN, 0):.0%})"
    ]


def _decision(result: Match) -> str:
    if result.matched_by == "fingerprint":
        return f"fingerprint {result.fingerprint.key} is already recorded on {result.key}"
    if result.matched_by == "similar":
        why = f"best score {result.score:.0%} >= threshold {result.threshold:.0%}"
        best = result.candidates[0].template.split(" ")
        if len(best) != len(result.fingerprint.tokens):
            why += f"; found inside a message of {len(result.fingerprint.tokens)} tokens"
            why += f" vs {len(best)}"
        return why
    return f"best score {result.score:.0%} < threshold {result.threshold:.0%}"


def to_json(result: Match, reasons: Sequence[Reason]) -> dict[str, Any]:
    """The decision and its candidates with why, for ``--json``."""
    return {
        "matched_by": result.matched_by,
        "defect": result.key,
        "score": round(result.score, 4),
        "threshold": result.threshold,
        "close_call": result.close,
        "why": _decision(result),
        "candidates": [
            {
                "key": c.key,
                "template": c.template,
                "score": round(c.score, 4),
                "shape": r.shape,
                "via": r.via,
                "differences": [
                    {
                        "position": d.position,
                        "known": d.known,
                        "seen": d.seen,
                        "score": d.score,
                        "hard": d.hard,
                        "why": d.why,
                    }
                    for d in r.differences
                ],
                "missing": list(r.missing),
            }
            for c, r in zip(result.candidates, reasons, strict=True)
        ],
    }
