"""What kind of content a file is, and the scan of binary content's text runs.

One decision, ``classify``, made on the first ``HEAD_BYTES`` of the content:

* **unscannable**: a compressed container or image (gzip, zip, zstd, xz, bzip2, 7z, rar, lz4,
  PNG, JPEG, GIF, WebP by their magic bytes), or high-entropy bytes that do not compress (an
  encrypted file). Nothing inside can be read, so it is stored as is only if the user allows it.
* **text**: UTF-16 with a byte-order mark, or no NUL byte and at most ``MAX_ODD_FRACTION`` of
  bytes that are control characters or not valid UTF-8 (a UTF-8 BOM, Latin-1 accents and a few
  stray bytes are text). Scanned whole; secrets become markers.
* **binary**: anything else. Its printable runs (ASCII/UTF-8 and UTF-16LE, like ``strings``) are
  scanned and secrets inside are overwritten in place, same length, so offsets in a core dump or
  a database file still hold.
"""

from __future__ import annotations

import enum
import math
import re
import zlib
from collections import Counter
from dataclasses import dataclass

from tracker_bridge.domain.redaction._common import same_length_fill
from tracker_bridge.domain.redaction._text import TextRedactor

HEAD_BYTES = 64 * 1024
MAX_ODD_FRACTION = 0.10
# Encrypted data: close to 8 bits of entropy per byte and zlib cannot shrink it.
_MIN_ENTROPY = 7.5
_MIN_INCOMPRESSIBLE = 0.95
_MIN_ENTROPY_SAMPLE = 512

_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x1f\x8b", "gzip-compressed"),
    (b"PK\x03\x04", "zip archive"),
    (b"PK\x05\x06", "zip archive"),
    (b"\x28\xb5\x2f\xfd", "zstd-compressed"),
    (b"\xfd7zXZ\x00", "xz-compressed"),
    (b"BZh", "bzip2-compressed"),
    (b"7z\xbc\xaf\x27\x1c", "7z archive"),
    (b"Rar!\x1a\x07", "rar archive"),
    (b"\x04\x22\x4d\x18", "lz4-compressed"),
    (b"\x89PNG\r\n\x1a\n", "PNG image (compressed pixels)"),
    (b"\xff\xd8\xff", "JPEG image (compressed pixels)"),
    (b"GIF87a", "GIF image (compressed pixels)"),
    (b"GIF89a", "GIF image (compressed pixels)"),
    (b"Salted__", "openssl-encrypted"),
)
_WEBP = (b"RIFF", b"WEBP")
_CONTROL = re.compile(rb"[\x00-\x08\x0e-\x1a\x1c-\x1f\x7f]")
# Bytes that are not valid UTF-8, as surrogateescape decodes them.
_ESCAPED = re.compile("[\udc80-\udcff]")


class ContentKind(enum.Enum):
    """How content is scanned."""

    TEXT = "text"
    BINARY = "binary"
    UNSCANNABLE = "unscannable"


@dataclass(frozen=True, slots=True)
class Classification:
    """The outcome of ``classify``: the kind, the text encoding, and why, for a person."""

    kind: ContentKind
    reason: str
    encoding: str | None = None
    """``utf-8``, ``utf-16-le`` or ``utf-16-be`` for text; None otherwise."""

    @property
    def scannable(self) -> bool:
        return self.kind is not ContentKind.UNSCANNABLE


def _entropy(sample: bytes) -> float:
    n = len(sample)
    return -sum(c / n * math.log2(c / n) for c in Counter(sample).values())


def classify(head: bytes) -> Classification:
    """Decide how content is scanned from its first bytes (``HEAD_BYTES`` are enough)."""
    head = head[:HEAD_BYTES]
    for magic, what in _MAGIC:
        if head.startswith(magic):
            return Classification(ContentKind.UNSCANNABLE, what)
    if head[:4] == _WEBP[0] and head[8:12] == _WEBP[1]:
        return Classification(ContentKind.UNSCANNABLE, "WebP image (compressed pixels)")
    for bom, codec in ((b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be")):
        if head.startswith(bom):
            body = head[2 : 2 + (len(head) - 2) // 2 * 2]
            try:
                body.decode(codec, "surrogatepass")
            except UnicodeDecodeError:
                break
            return Classification(ContentKind.TEXT, "UTF-16 with a byte-order mark", codec)
    if not head:
        return Classification(ContentKind.TEXT, "empty", "utf-8")
    if b"\x00" not in head:
        odd = len(_CONTROL.findall(head))
        if not head.isascii():
            text = head.decode("utf-8", "surrogateescape")
            odd += len(_ESCAPED.findall(text))
            # An incomplete character cut off at the end of the head is not an invalid byte.
            if len(head) == HEAD_BYTES:
                odd -= len(_ESCAPED.findall(text[-3:]))
        if odd <= MAX_ODD_FRACTION * len(head):
            return Classification(ContentKind.TEXT, "text", "utf-8")
    if (
        len(head) >= _MIN_ENTROPY_SAMPLE
        and _entropy(head) >= _MIN_ENTROPY
        and len(zlib.compress(head, 1)) >= _MIN_INCOMPRESSIBLE * len(head)
    ):
        return Classification(
            ContentKind.UNSCANNABLE, "high-entropy bytes (compressed or encrypted)"
        )
    return Classification(ContentKind.BINARY, "binary (NUL or non-text bytes)")


# --------------------------------------------------------------------------------------------
# Text runs in binary content

MIN_RUN = 6
MAX_RUN = 1024 * 1024
_UTF8_RUN = re.compile(
    rb"(?:[\t\n\r\x20-\x7e]|[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}"
    rb"|[\xf0-\xf4][\x80-\xbf]{3}){%d,}" % MIN_RUN
)
_UTF16_RUN = re.compile(rb"(?:[\t\n\r\x20-\x7e]\x00){%d,}" % MIN_RUN)
# Bytes kept back at the end of a piece: a run may be starting there.
_KEEP = 4 * MIN_RUN


def _run_pieces(start: int, end: int) -> list[tuple[int, int]]:
    """A run longer than MAX_RUN is scanned in MAX_RUN pieces from its start."""
    return [(p, min(end, p + MAX_RUN)) for p in range(start, end, MAX_RUN)]


# Between runs scanned together: a line no rule reads across (a NUL ends a key block's body).
_SEPARATOR = "\n\x00\n"


class BinaryScanner:
    """Scan the text runs of binary content fed in pieces; overwrite secrets in place."""

    def __init__(self) -> None:
        self._buf = b""
        self.counts: Counter[str] = Counter()

    def feed(self, chunk: bytes, final: bool = False) -> bytes:
        buf = self._buf + chunk if self._buf else chunk
        runs = sorted(
            [(m.start(), m.end(), "utf-8") for m in _UTF8_RUN.finditer(buf)]
            + [(m.start(), m.end(), "utf-16-le") for m in _UTF16_RUN.finditer(buf)]
        )
        cut = len(buf)
        if not final:
            kept = max(0, len(buf) - _KEEP)
            cut = kept
            for start, end, _ in runs:
                if end >= kept:
                    # This run may go on in the next piece: keep it back, except the whole
                    # MAX_RUN pieces of a run that is that long already.
                    whole = start + (kept - start) // MAX_RUN * MAX_RUN if start < kept else start
                    cut = min(cut, whole)
        pieces = [
            (lo, hi, codec)
            for start, end, codec in runs
            if start < cut
            for lo, hi in _run_pieces(start, min(end, cut))
        ]
        out = bytearray(buf[:cut])
        if pieces:
            self._scan(out, pieces)
        self._buf = buf[cut:]
        return bytes(out)

    def _scan(self, out: bytearray, pieces: list[tuple[int, int, str]]) -> None:
        texts = [bytes(out[lo:hi]).decode(codec, "surrogateescape") for lo, hi, codec in pieces]
        joined = _SEPARATOR.join(texts)
        engine = TextRedactor(same_length_fill)
        redacted = engine.feed(joined) + engine.finish()
        if redacted == joined:
            return
        self.counts.update(engine.counts)
        for (lo, hi, codec), before, after in zip(
            pieces, texts, redacted.split(_SEPARATOR), strict=True
        ):
            if after != before:
                data = after.encode(codec, "surrogateescape")
                assert len(data) == hi - lo  # the same-length fill keeps every offset
                out[lo:hi] = data
