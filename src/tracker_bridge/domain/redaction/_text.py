"""The text engine: scans text given in pieces of any size and gives the same result as whole.

Two passes, both streaming with bounded memory:

1. private key blocks (``_keys``), the only family spanning lines, with a bounded look-ahead;
2. everything else, on line-aligned segments: no other rule matches across a newline or looks
   past its line, so how lines are grouped into segments changes nothing. A line longer than
   ``MAX_LINE`` is cut (at the last whitespace or separator before the limit, else at the limit)
   at positions that depend only on the line, so a stream cuts it where the whole text would.
   The only state carried between segments is whether a ``data:`` section is open.
"""

from __future__ import annotations

from collections import Counter

from tracker_bridge.domain.redaction._blobs import DataSections, redact_blobs, redact_cookies
from tracker_bridge.domain.redaction._common import Fill, apply, marker_fill
from tracker_bridge.domain.redaction._keys import KeyBlocks
from tracker_bridge.domain.redaction._needles import NeedleIndex
from tracker_bridge.domain.redaction._rules import RULES

SEGMENT_CHARS = 16 * 1024
MAX_LINE = 1024 * 1024
# Where a cut of an over-long line looks for a separator: the last stretch before the limit.
_CUT_WINDOW = 4096
_SEPARATORS = (" ", "\t", ",", ";", "&", "}", ">")
# Base64 inside base64 inside ... is scanned this deep.
_MAX_DEPTH = 2


_NEEDLES = NeedleIndex([n for rule in RULES for n in rule.needles])
_RULE_NEEDLES = tuple((rule, frozenset(rule.needles)) for rule in RULES)
_ALL_NEEDLES = frozenset(n for rule in RULES for n in rule.needles)
# A decoded base64 value shorter than this holds no secret any rule finds ("pwd=abcd").
_MIN_NESTED = 8


def _cut_point(text: str, lo: int, hi: int) -> int:
    best = max(text.rfind(sep, lo, hi) for sep in _SEPARATORS)
    return best + 1 if best != -1 else hi


class TextRedactor:
    """Redact text fed in pieces; ``feed`` returns what is final so far, ``finish`` the rest."""

    def __init__(self, fill: Fill = marker_fill, *, depth: int = 0) -> None:
        self._fill = fill
        self._depth = depth
        self._keys = KeyBlocks(fill)
        self._data = DataSections()
        self._pending = ""  # output of the key pass not yet cut into segments
        self._counts: Counter[str] = Counter()

    @property
    def counts(self) -> Counter[str]:
        """Secrets found so far, by kind."""
        total = self._counts.copy()
        total.update(self._keys.counts)
        return total

    def feed(self, text: str) -> str:
        return self._segments(self._keys.feed(text), final=False)

    def finish(self) -> str:
        return self._segments(self._keys.feed("", final=True), final=True)

    def _segments(self, text: str, *, final: bool) -> str:
        buf = self._pending + text if self._pending else text
        out: list[str] = []
        pos, n = 0, len(buf)
        while pos < n:
            nl = buf.rfind("\n", pos, pos + SEGMENT_CHARS)
            if nl != -1:
                out.append(self._redact(buf[pos : nl + 1]))
                pos = nl + 1
                continue
            # No newline in the next SEGMENT_CHARS: a long line, or the unfinished last one.
            if n - pos >= SEGMENT_CHARS:
                nl = buf.find("\n", pos + SEGMENT_CHARS, pos + MAX_LINE + 1)
                if nl != -1:
                    out.append(self._redact(buf[pos : nl + 1]))
                    pos = nl + 1
                    continue
                if n - pos > MAX_LINE:
                    cut = _cut_point(buf, pos + MAX_LINE - _CUT_WINDOW, pos + MAX_LINE)
                    out.append(self._redact(buf[pos:cut]))
                    pos = cut
                    continue
            if final:
                out.append(self._redact(buf[pos:]))
                pos = n
            break
        self._pending = buf[pos:]
        return "".join(out)

    def _redact(self, segment: str) -> str:
        counts = self._counts
        fill = self._fill
        lowered = segment.lower()
        # Markers only add needles, never remove one a later rule needs: one search will do.
        present = _NEEDLES.present(lowered)
        for rule, needles in _RULE_NEEDLES:
            if not needles.isdisjoint(present):
                segment = apply(rule, segment, counts, fill)
        # Base64 last: a value a specific rule knows (docker "auth", client-key-data, a
        # password) is already a marker and keeps that rule's kind.
        if self._data.inside or "data" in lowered:  # the section's key
            segment = self._data.redact(segment, counts, fill)
        if self._depth < _MAX_DEPTH and ("=" in segment or ":" in segment):
            segment = redact_blobs(segment, counts, fill, self._nested_count)
        if "cookie" in lowered or "-b '" in segment or '-b "' in segment:
            segment = redact_cookies(segment, counts, fill)
        return segment

    def _nested_count(self, decoded: str) -> int:
        # Most decoded values hold no rule's literal at all: answer those without building an
        # engine, which costs far more than the check on a short value.
        if len(decoded) < _MIN_NESTED or (
            "-----begin" not in (lowered := decoded.lower())
            and _NEEDLES.present(lowered).isdisjoint(_ALL_NEEDLES)
            and "=" not in decoded
            and ":" not in decoded
        ):
            return 0
        inner = TextRedactor(depth=self._depth + 1)
        inner.feed(decoded)
        inner.finish()
        return sum(inner.counts.values())


def redact_text(text: str) -> tuple[str, tuple[tuple[str, int], ...]]:
    """Redact secrets in ``text``.

    Returns the redacted text and ``(kind, count)`` pairs sorted by kind (empty when nothing was
    found). Text that is not a secret is returned unchanged; redacting the result again changes
    nothing.
    """
    engine = TextRedactor()
    out = engine.feed(text) + engine.finish()
    counts = engine.counts
    return out, tuple(sorted((k, n) for k, n in counts.items() if n))
