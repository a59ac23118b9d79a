"""Redact bytes: whole (``redact_bytes``) or as a stream of chunks in bounded memory.

Both go through ``StreamRedactor``, which classifies the content on its first ``HEAD_BYTES`` and
then scans it as text (decoded incrementally, re-encoded so every byte outside a secret is
unchanged), as binary (text runs, overwritten in place) or not at all (unscannable). Memory is
bounded by the head, the private-key look-ahead and the longest line or run, whatever the size.
"""

from __future__ import annotations

import codecs
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

from tracker_bridge.domain.redaction._binary import (
    HEAD_BYTES,
    BinaryScanner,
    Classification,
    ContentKind,
    classify,
)
from tracker_bridge.domain.redaction._text import TextRedactor

CHUNK_BYTES = 1024 * 1024


def _sorted_counts(counts: Counter[str]) -> tuple[tuple[str, int], ...]:
    return tuple(sorted((k, n) for k, n in counts.items() if n))


@dataclass(frozen=True, slots=True)
class Redacted:
    """The outcome of scrubbing one piece of evidence."""

    data: bytes
    counts: tuple[tuple[str, int], ...]
    scanned: bool
    classification: Classification | None = field(default=None, compare=False)
    """How the content was scanned; None only for values built by hand (not compared)."""

    @property
    def total(self) -> int:
        """How many secrets were redacted, all kinds together."""
        return sum(n for _, n in self.counts)


@dataclass(frozen=True, slots=True)
class Scan:
    """The outcome of a streamed redaction: everything but the data, which went to the sink."""

    counts: tuple[tuple[str, int], ...]
    classification: Classification
    bytes_in: int
    bytes_out: int

    @property
    def scanned(self) -> bool:
        return self.classification.scannable

    @property
    def total(self) -> int:
        return sum(n for _, n in self.counts)


class StreamRedactor:
    """Redact a byte stream chunk by chunk.

    ``feed(chunk)`` returns the redacted bytes that are final so far (possibly none: the head is
    held until it can be classified, and a little is kept back so a secret spanning two chunks is
    still caught); ``finish()`` returns the rest. ``classification`` is known once ``HEAD_BYTES``
    have been fed (or at ``finish``), so a caller can refuse unscannable content early.
    """

    def __init__(self) -> None:
        self._head = b""
        self._classification: Classification | None = None
        self._text: TextRedactor | None = None
        self._decoder: codecs.IncrementalDecoder | None = None
        self._encoding = "utf-8"
        self._binary: BinaryScanner | None = None
        self._bytes_in = 0
        self._bytes_out = 0
        self._bom_pending = False
        self._done = False

    @property
    def classification(self) -> Classification | None:
        return self._classification

    def feed(self, chunk: bytes) -> bytes:
        if self._done:
            raise ValueError("StreamRedactor.feed after finish")
        self._bytes_in += len(chunk)
        if self._classification is None:
            self._head += chunk
            if len(self._head) < HEAD_BYTES:
                return b""
            chunk, self._head = self._head, b""
            self._start(chunk)
        return self._count(self._process(chunk, final=False))

    def finish(self) -> bytes:
        if self._done:
            return b""
        self._done = True
        chunk = b""
        if self._classification is None:
            chunk, self._head = self._head, b""
            self._start(chunk)
        return self._count(self._process(chunk, final=True))

    def result(self) -> Scan:
        """Counts and classification; complete after ``finish``."""
        assert self._classification is not None, "nothing was classified: call finish() first"
        return Scan(self.counts(), self._classification, self._bytes_in, self._bytes_out)

    def counts(self) -> tuple[tuple[str, int], ...]:
        if self._text is not None:
            return _sorted_counts(self._text.counts)
        if self._binary is not None:
            return _sorted_counts(self._binary.counts)
        return ()

    def _count(self, data: bytes) -> bytes:
        self._bytes_out += len(data)
        return data

    def _start(self, head: bytes) -> None:
        found = classify(head)
        self._classification = found
        if found.kind is ContentKind.TEXT:
            self._encoding = found.encoding or "utf-8"
            errors = "surrogateescape" if self._encoding == "utf-8" else "surrogatepass"
            self._decoder = codecs.getincrementaldecoder(self._encoding)(errors)
            self._bom_pending = self._encoding != "utf-8"
            self._text = TextRedactor()
        elif found.kind is ContentKind.BINARY:
            self._binary = BinaryScanner()

    def _process(self, chunk: bytes, *, final: bool) -> bytes:
        if self._text is not None and self._decoder is not None:
            return self._process_text(chunk, final=final)
        if self._binary is not None:
            return self._binary.feed(chunk, final=final)
        return chunk

    def _process_text(self, chunk: bytes, *, final: bool) -> bytes:
        assert self._text is not None
        assert self._decoder is not None
        prefix = b""
        if self._bom_pending:
            # classify() saw the byte-order mark: it is copied, not decoded.
            prefix, chunk = chunk[:2], chunk[2:]
            self._bom_pending = False
        leftover = b""
        try:
            text = self._decoder.decode(chunk, final)
        except UnicodeDecodeError:
            # A UTF-16 stream cut after an odd byte: that byte is kept as it is.
            text = self._decoder.decode(b"", False)
            leftover = self._decoder.getstate()[0]
        out = self._text.feed(text)
        if final:
            out += self._text.finish()
        errors = "surrogateescape" if self._encoding == "utf-8" else "surrogatepass"
        return prefix + out.encode(self._encoding, errors) + leftover


def redact_bytes(data: bytes) -> Redacted:
    """Redact secrets in a file's bytes.

    Text is scanned and re-encoded so that every byte outside a secret is unchanged; binary
    content has its text runs scanned and secrets overwritten in place; unscannable content
    (compressed, encrypted) comes back untouched with ``scanned=False`` so the caller can apply
    its policy. The same result as ``StreamRedactor`` fed the data in any chunks.
    """
    stream = StreamRedactor()
    out = stream.feed(data) + stream.finish()
    scan = stream.result()
    return Redacted(
        data if not scan.counts else out, scan.counts, scan.scanned, scan.classification
    )


def redact_chunks(chunks: Iterable[bytes], scan: list[Scan] | None = None) -> Iterator[bytes]:
    """Redact an iterable of byte chunks lazily; append the ``Scan`` to ``scan`` at the end."""
    stream = StreamRedactor()
    for chunk in chunks:
        out = stream.feed(chunk)
        if out:
            yield out
    out = stream.finish()
    if out:
        yield out
    if scan is not None:
        scan.append(stream.result())


def redact_stream(src: BinaryIO, dst: BinaryIO, *, chunk_bytes: int = CHUNK_BYTES) -> Scan:
    """Redact ``src`` into ``dst`` in chunks of ``chunk_bytes``; memory stays bounded."""
    stream = StreamRedactor()
    while chunk := src.read(chunk_bytes):
        dst.write(stream.feed(chunk))
    dst.write(stream.finish())
    return stream.result()
