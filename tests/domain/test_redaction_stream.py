"""Streaming redaction: chunked gives what whole gives, in bounded memory."""

from __future__ import annotations

import io
import json
import random
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tracker_bridge.domain.redaction import (
    HEAD_BYTES,
    ContentKind,
    Scan,
    StreamRedactor,
    _stream,
    _text,
    redact_bytes,
    redact_chunks,
    redact_stream,
    redact_text,
)

CORPUS = Path(__file__).parents[1] / "data" / "secrets" / "corpus.jsonl"
CASES = [json.loads(line) for line in CORPUS.read_text(encoding="utf-8").splitlines()]
# Every case of the corpus in one document, several times over so it is well past the head.
DOCUMENT = ("\n".join(c["text"] for c in CASES) + "\n").encode() * 2
CHUNK_SIZES = [13, 1000, 4099, 65_537, 1 << 20]


def _chunks(data: bytes, size: int) -> Iterator[bytes]:
    for i in range(0, len(data), size):
        yield data[i : i + size]


def _streamed(data: bytes, size: int) -> tuple[bytes, Scan]:
    stream = StreamRedactor()
    out = b"".join(stream.feed(chunk) for chunk in _chunks(data, size)) + stream.finish()
    return out, stream.result()


@pytest.mark.parametrize("size", CHUNK_SIZES)
def test_chunked_equals_whole_on_the_corpus(size: int) -> None:
    whole = redact_bytes(DOCUMENT)
    out, scan = _streamed(DOCUMENT, size)
    assert out == whole.data
    assert scan.counts == whole.counts
    assert scan.bytes_in == len(DOCUMENT) and scan.bytes_out == len(out)
    # And the same as the text function: bytes add nothing but decoding.
    text, counts = redact_text(DOCUMENT.decode())
    assert out == text.encode() and counts == whole.counts
    for case in CASES:
        for secret in case["secrets"]:
            assert secret.encode() not in out


@pytest.mark.parametrize("size", [7, 300, 5000])
def test_chunked_equals_whole_with_small_segments_and_lines(
    size: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Tiny segments and a tiny line limit exercise the cuts that big files meet.
    monkeypatch.setattr(_text, "SEGMENT_CHARS", 64)
    monkeypatch.setattr(_text, "MAX_LINE", 8192)
    monkeypatch.setattr(_text, "_CUT_WINDOW", 256)
    data = DOCUMENT[: 3 * HEAD_BYTES] + (b"x=1 " * 5000) + b"password=hunter2-Xk9\n"
    whole = redact_bytes(data)
    out, scan = _streamed(data, size)
    assert out == whole.data and scan.counts == whole.counts
    assert b"hunter2-Xk9" not in out


@pytest.mark.parametrize("cut", range(0, 40, 3))
def test_secret_spanning_a_chunk_boundary_is_caught(cut: int) -> None:
    data = b"log line\n" * (HEAD_BYTES // 9) + b"2024 INFO connect password=hunter2-Xk9pLm db=x\n"
    split = len(data) - 30 + cut // 3
    stream = StreamRedactor()
    out = stream.feed(data[:split]) + stream.feed(data[split:]) + stream.finish()
    assert b"hunter2-Xk9pLm" not in out
    assert stream.result().counts == (("password-assignment", 1),)


def test_private_key_across_many_chunks() -> None:
    body = "\n".join("MIIEow" + "Ab1Cd2Ef3Gh4" * 5 for _ in range(30))
    key = f"-----BEGIN RSA PRIVATE KEY-----\n{body}\n-----END RSA PRIVATE KEY-----\n"
    data = (b"x" * 100 + b"\n") * 1000 + key.encode() + b"after\n"
    whole = redact_bytes(data)
    out, scan = _streamed(data, 97)
    assert out == whole.data and scan.counts == (("private-key", 1),)
    assert b"Ab1Cd2Ef3Gh4" not in out


def test_over_long_line_is_cut_safely_and_memory_stays_bounded() -> None:
    line_unit = b"k=v " * 256  # 1 KiB without a newline
    stream = StreamRedactor()
    high_water = 0
    secrets = []
    for i in range(8 * 1024):  # one 8 MiB line
        chunk = line_unit
        if i % 1024 == 500:
            secret = f"Xk9pLm{i:06d}".encode()
            secrets.append(secret)
            chunk = b"password=" + secret + b" " + line_unit[: -len(secret) - 10]
        stream.feed(chunk)
        text = stream._text
        if text is not None:
            high_water = max(high_water, len(text._pending) + len(text._keys._buf))
    out = stream.finish()
    assert high_water <= _text.MAX_LINE + _text.SEGMENT_CHARS + (1 << 20)
    assert dict(stream.result().counts) == {"password-assignment": len(secrets)}
    assert all(s not in out for s in secrets)


def test_binary_stream_equals_whole() -> None:
    rng = random.Random(3)
    parts = []
    for i in range(400):
        parts.append(rng.randbytes(200).replace(b"\x00", b"\x01") + b"\x00\x00")
        parts.append(f"DB_PASSWORD=Secret{i:04d}pw\x00".encode())
        parts.append(f"api_token=Zq7Xk9pLm2Zq7Xk9pLm2-{i:04d}".encode("utf-16-le") + b"\x00\x00")
    data = b"\x7fELF\x00" + b"".join(parts)
    whole = redact_bytes(data)
    assert whole.classification is not None
    assert whole.classification.kind is ContentKind.BINARY
    assert dict(whole.counts) == {"password-assignment": 400, "token-assignment": 400}
    for size in (5, 4096, 70_001):
        out, scan = _streamed(data, size)
        assert out == whole.data and scan.counts == whole.counts
        assert len(out) == len(data)


def test_utf16_stream_equals_whole_at_odd_chunk_sizes() -> None:
    text = "PS> Get-Content .env\r\nAPI_KEY=0123456789abcdef0123\r\n" * 3000
    data = b"\xff\xfe" + text.encode("utf-16-le")
    whole = redact_bytes(data)
    assert dict(whole.counts) == {"api-key-assignment": 3000}
    for size in (3, 1001, 65_537):
        out, scan = _streamed(data, size)
        assert out == whole.data and scan.counts == whole.counts


def test_classification_is_known_once_the_head_is_in() -> None:
    stream = StreamRedactor()
    assert stream.feed(b"\x1f\x8b" + b"\x00" * 100) == b""
    assert stream.classification is None
    stream.feed(b"\x00" * HEAD_BYTES)
    assert stream.classification is not None
    assert stream.classification.kind is ContentKind.UNSCANNABLE
    stream.finish()
    assert not stream.result().scanned


def test_redact_stream_and_chunks_give_the_whole_result() -> None:
    whole = redact_bytes(DOCUMENT)
    sink = io.BytesIO()
    scan = redact_stream(io.BytesIO(DOCUMENT), sink, chunk_bytes=10_000)
    assert sink.getvalue() == whole.data and scan.counts == whole.counts and scan.scanned
    found: list[Scan] = []
    assert b"".join(redact_chunks(_chunks(DOCUMENT, 777), found)) == whole.data
    assert found[0].counts == whole.counts and found[0].total == whole.total


def test_feed_after_finish_is_refused() -> None:
    stream = StreamRedactor()
    stream.finish()
    with pytest.raises(ValueError, match="after finish"):
        stream.feed(b"x")


_FRAGMENTS = st.sampled_from(
    [
        "password=",
        "hunter2-Xk9",
        " ",
        "\n",
        "\r\n",
        "-----BEGIN RSA PRIVATE KEY-----\n",
        "MIIEowIBAAKCAQEAx7Qd2Yk3vX9pL0mN4bR8sT1u\n",
        "-----END RSA PRIVATE KEY-----\n",
        "mysql -uroot -pS3cr3t-pw ",
        "Cookie: sessionid=0a1b2c3d4e5f6a7b8c9d; ",
        "DATABASE_URL: cG9zdGdyZXM6Ly91OnB3LVhrOUBkYi9hcHA=\n",
        "data:\n  db: aHVudGVyMi1YazlwTG0=\n",
        "ghp_" + "a1B2" * 9,
        "postgres://u:pw-Xk9@db/app ",
        "caf\xe9 ",
        "x" * 50,
    ]
)


@settings(max_examples=60, deadline=None)
@given(st.lists(_FRAGMENTS, max_size=80).map("".join), st.lists(st.integers(1, 40), max_size=60))
def test_any_split_gives_the_whole_result(text: str, sizes: list[int]) -> None:
    with pytest.MonkeyPatch.context() as patch:
        # Small limits so that short texts already meet segment cuts and line cuts.
        patch.setattr(_text, "SEGMENT_CHARS", 32)
        patch.setattr(_text, "MAX_LINE", 512)
        patch.setattr(_text, "_CUT_WINDOW", 64)
        patch.setattr(_stream, "HEAD_BYTES", 256)
        data = text.encode() * 3
        whole = redact_bytes(data)
        stream = StreamRedactor()
        out, pos = [], 0
        for size in sizes:
            out.append(stream.feed(data[pos : pos + size]))
            pos += size
        out.append(stream.feed(data[pos:]))
        out.append(stream.finish())
        assert b"".join(out) == whole.data
        assert stream.result().counts == whole.counts
