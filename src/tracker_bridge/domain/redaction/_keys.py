"""Private key blocks: the one family that spans lines, found in a single bounded forward pass.

A block is ``-----BEGIN ... PRIVATE KEY-----`` up to its END line when that comes within
``MAX_KEY_BODY`` characters and nothing but base64, whitespace, escaped newlines (JSON) and PEM
headers stands between; otherwise (cut off, or mangled) the base64 lines right after BEGIN are
taken, at most ``MAX_KEY_BODY`` characters. So whether and how a block is blanked depends only on
the text from BEGIN to ``MAX_KEY_BODY`` characters later: a stream needs that much look-ahead,
never more, and gives the same result as the whole text at once.
"""

from __future__ import annotations

import re
from collections import Counter

from tracker_bridge.domain.redaction._common import Fill, marker

_PK_BEGIN = re.compile(r"-----BEGIN[ A-Z0-9]{0,40}PRIVATE KEY(?: BLOCK)?-----")
_PK_END = re.compile(r"-----END[ A-Z0-9]{0,40}PRIVATE KEY(?: BLOCK)?-----")
# The longest BEGIN / END line the patterns accept.
_MARKER_MAX = len("-----BEGIN") + 40 + len("PRIVATE KEY BLOCK-----")
# What may stand between BEGIN and END: base64, whitespace, escaped newlines, PEM headers.
_PK_BAD_CHAR = re.compile(r"[^A-Za-z0-9+/=\s\\:,\-]")
# A block cut off before its END line: the base64 lines that follow BEGIN.
_PK_TAIL = re.compile(r"(?:[ \t]*(?:\r?\n|\\r?\\n)[ \t]*[A-Za-z0-9+/=]{8,}+)*+")
_PK_LINE = re.compile(r"([ \t]*)(.*?)([ \t]*\r?)", re.DOTALL)
_GCP_CONTEXT = re.compile(r"\"private_key\\?\"[ \t]*:[ \t]*\\?\"$")
_CONTEXT_CHARS = 64
MAX_KEY_BODY = 64 * 1024
# How far past BEGIN a decision may look.
LOOKAHEAD = MAX_KEY_BODY + _MARKER_MAX + 2


def _blank_key_body(body: str, kind: str, fill: Fill) -> str | None:
    """Replace the content of a key body, keeping its line structure.

    With a length-changing fill the body becomes one marker plus empty lines; with a
    same-length fill every line keeps its length.
    """
    same_length = len(fill(kind, "x" * 40)) == 40
    out: list[str] = []
    placed = False
    for line in body.split("\n"):
        m = _PK_LINE.fullmatch(line)
        assert m is not None  # the pattern matches any line
        indent, content, trail = m.groups()
        if not content:
            out.append(line)
        elif same_length:
            out.append(indent + fill(kind, content) + trail)
            placed = True
        elif not placed:
            out.append(indent + marker(kind) + trail)
            placed = True
        else:
            out.append(indent + trail)
    return "\n".join(out) if placed else None


class _NextMatch:
    """The first match of a pattern at or after a position, for positions that only grow.

    Remembers what it has searched (absolute offsets), so a run of BEGIN lines with no END is
    searched once, not once per BEGIN.
    """

    def __init__(self, pattern: re.Pattern[str], max_len: int) -> None:
        self._pattern = pattern
        self._max_len = max_len
        self._hit: tuple[int, int] | None = None
        self._clear_until = 0  # no match starts in [searched_from, _clear_until)
        self._searched_from = 0

    def find(self, text: str, base: int, start: int, stop: int) -> tuple[int, int] | None:
        """First match starting at or after ``start`` and ending by ``stop`` (buffer offsets)."""
        a_start, a_stop = base + start, base + stop
        if self._hit is not None and self._hit[0] >= a_start:
            return (self._hit[0] - base, self._hit[1] - base) if self._hit[1] <= a_stop else None
        begin = a_start
        if self._searched_from <= a_start < self._clear_until:
            begin = self._clear_until
        m = self._pattern.search(text, max(start, begin - base), stop)
        if m is None:
            self._hit = None
            self._searched_from = a_start
            self._clear_until = max(a_start, a_stop - self._max_len)
            return None
        self._hit = (base + m.start(), base + m.end())
        return m.start(), m.end()


class KeyBlocks:
    """The private-key pass over a stream of text, with bounded look-ahead."""

    def __init__(self, fill: Fill) -> None:
        self._fill = fill
        self._buf = ""
        self._base = 0  # absolute offset of _buf[0]
        self._context = ""  # the original text just before _buf, for the GCP check
        self._end = _NextMatch(_PK_END, _MARKER_MAX)
        self._bad = _NextMatch(_PK_BAD_CHAR, 1)
        self.counts: Counter[str] = Counter()

    def feed(self, text: str, final: bool = False) -> str:
        """Take more text; return the text before which every block is decided."""
        buf = self._buf + text if self._buf else text
        if not final and "-----BEGIN" not in buf:
            keep = max(0, len(buf) - _MARKER_MAX)
            return self._emit(buf, [buf[:keep]], keep)
        pieces: list[str] = []
        pos = 0
        while True:
            begin = _PK_BEGIN.search(buf, pos)
            if begin is None:
                cut = len(buf) if final else max(pos, len(buf) - _MARKER_MAX)
                pieces.append(buf[pos:cut])
                pos = cut
                break
            body_start = begin.end()
            window = body_start + MAX_KEY_BODY + _MARKER_MAX
            if not final and len(buf) < window:
                pieces.append(buf[pos : begin.start()])
                pos = begin.start()
                break
            stop = min(len(buf), window)
            end = self._end.find(buf, self._base, body_start, stop)
            terminated = False
            if end is not None and end[0] - body_start <= MAX_KEY_BODY:
                bad = self._bad.find(buf, self._base, body_start, end[0])
                terminated = bad is None
            if terminated and end is not None:
                body_end, resume = end
            else:
                tail = _PK_TAIL.match(buf, body_start, min(len(buf), body_start + MAX_KEY_BODY))
                body_end = resume = tail.end() if tail is not None else body_start
            lo = max(0, begin.start() - _CONTEXT_CHARS)
            before = (self._context + buf[lo : begin.start()])[-_CONTEXT_CHARS:]
            kind = "gcp-service-account-key" if _GCP_CONTEXT.search(before) else "private-key"
            blanked = _blank_key_body(buf[body_start:body_end], kind, self._fill)
            pieces.append(buf[pos:body_start])
            if blanked is None:
                pieces.append(buf[body_start:resume])
            else:
                self.counts[kind] += 1
                pieces.append(blanked + buf[body_end:resume])
            pos = max(resume, body_start)
        return self._emit(buf, pieces, pos)

    def _emit(self, buf: str, pieces: list[str], pos: int) -> str:
        self._context = (self._context + buf[max(0, pos - _CONTEXT_CHARS) : pos])[-_CONTEXT_CHARS:]
        self._buf = buf[pos:]
        self._base += pos
        return "".join(pieces)
