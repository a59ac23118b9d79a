"""Content classification and the scan of binary content's text runs."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import random
import zipfile

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tracker_bridge.domain.redaction import (
    HEAD_BYTES,
    ContentKind,
    classify,
    redact_bytes,
)

RNG = random.Random(14)
SECRET = b"hunter2-Xk9pLm"


def _zip(data: bytes) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("creds.txt", data)
    return buf.getvalue()


LOG = b"2024-06-01 12:00:01 INFO app: connected password=" + SECRET + b"\n"


@pytest.mark.parametrize(
    ("data", "kind", "reason"),
    [
        (b"", ContentKind.TEXT, "empty"),
        (b"plain ascii log line\n" * 10, ContentKind.TEXT, "text"),
        ("naïve café — ünïcode\n".encode() * 10, ContentKind.TEXT, "text"),
        # A UTF-8 BOM plus a few Latin-1 bytes is text (the first version called it binary).
        (b"\xef\xbb\xbf" + b"caf\xe9 cr\xe8me log line\n" * 20, ContentKind.TEXT, "text"),
        # 8% invalid bytes is text, 30% is binary: one threshold, applied the same way.
        (bytes(b"a" * 92 + b"\xff" * 8) * 10, ContentKind.TEXT, "text"),
        (bytes(b"a" * 70 + b"\xff" * 30) * 10, ContentKind.BINARY, "binary"),
        (b"one NUL\x00 makes it binary" * 10, ContentKind.BINARY, "binary"),
        (b"\xff\xfe" + "PS> dir\r\n".encode("utf-16-le") * 10, ContentKind.TEXT, "UTF-16"),
        (b"\xfe\xff" + "PS> dir\r\n".encode("utf-16-be") * 10, ContentKind.TEXT, "UTF-16"),
        (gzip.compress(LOG * 50), ContentKind.UNSCANNABLE, "gzip"),
        (_zip(LOG * 50), ContentKind.UNSCANNABLE, "zip"),
        (lzma.compress(LOG * 50), ContentKind.UNSCANNABLE, "xz"),
        (bz2.compress(LOG * 50), ContentKind.UNSCANNABLE, "bzip2"),
        (b"\x28\xb5\x2f\xfd" + RNG.randbytes(200), ContentKind.UNSCANNABLE, "zstd"),
        (b"Salted__" + RNG.randbytes(200), ContentKind.UNSCANNABLE, "openssl"),
        (RNG.randbytes(HEAD_BYTES), ContentKind.UNSCANNABLE, "high-entropy"),
        # Every byte value equally often, but periodic: compressible, so not encrypted.
        (bytes(range(256)) * 64, ContentKind.BINARY, "binary"),
    ],
    ids=lambda v: v.value if isinstance(v, ContentKind) else (v if isinstance(v, str) else None),
)
def test_classify(data: bytes, kind: ContentKind, reason: str) -> None:
    found = classify(data)
    assert found.kind is kind
    assert reason in found.reason
    assert found.scannable is (kind is not ContentKind.UNSCANNABLE)


def test_classification_depends_on_the_head_only() -> None:
    head = b"log line\n" * (HEAD_BYTES // 9 + 1)
    assert classify(head).kind is classify(head + b"\x00" * 1000).kind is ContentKind.TEXT


def test_unscannable_content_comes_back_untouched() -> None:
    data = gzip.compress(LOG * 100)
    result = redact_bytes(data)
    assert result.data == data and not result.scanned and result.counts == ()


def _core_dump() -> tuple[bytes, list[int]]:
    """NUL-rich binary with secrets in ASCII and UTF-16LE runs at known offsets."""
    parts = [b"\x7fELF\x02\x01\x01" + b"\x00" * 57]
    offsets = []
    for i in range(20):
        parts.append(RNG.randbytes(40).replace(b"\x00", b"\x01") + b"\x00" * 8)
        offsets.append(sum(map(len, parts)))
        if i % 2:
            parts.append(("api_token=" + "Zq7Xk9pLm2" * 3 + f"{i:02d}").encode("utf-16-le"))
        else:
            parts.append(b"DB_PASSWORD=" + SECRET + b"\x00")
    parts.append(b"\x00" * 64)
    return b"".join(parts), offsets


def test_binary_secrets_are_overwritten_in_place() -> None:
    data, offsets = _core_dump()
    result = redact_bytes(data)
    assert result.scanned
    assert result.classification is not None and result.classification.kind is ContentKind.BINARY
    assert len(result.data) == len(data)
    assert SECRET not in result.data
    assert "Zq7Xk9pLm2".encode("utf-16-le") not in result.data
    assert dict(result.counts) == {"password-assignment": 10, "token-assignment": 10}
    # Outside the secrets every byte is where it was: the key names, the ELF header, the gaps.
    for offset in offsets:
        window = data[offset : offset + 12]
        assert result.data[offset : offset + 12] == window
    assert result.data[:64] == data[:64]
    diff = [i for i, (a, b) in enumerate(zip(data, result.data, strict=True)) if a != b]
    assert len(diff) <= 10 * len(SECRET) + 10 * 32 * 2


def test_short_secret_in_binary_becomes_stars_and_long_one_a_padded_marker() -> None:
    data = b"\x00\x01password=abc12345\x00\x01token=" + b"Zq7Xk9pLm2" * 4 + b"\x00"
    out = redact_bytes(data).data
    assert b"password=********\x00" in out
    assert b"token=[REDACTED:token-assignment]" + b"*" * (40 - 27) + b"\x00" in out
    assert redact_bytes(out).counts == ()


def test_private_key_in_binary_keeps_its_lines_and_length() -> None:
    key = (
        b"-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAx7Qd2Yk3vX9pL0mN4bR8sT1u\n"
        b"Q8rS2tU6vW0xY4zA7bC1dE5fG9hJ3kL7mN1pQ5rS\n-----END RSA PRIVATE KEY-----\n"
    )
    data = b"\x00\x00\x02" + key + b"\x00\x03"
    result = redact_bytes(data)
    assert dict(result.counts) == {"private-key": 1}
    assert len(result.data) == len(data)
    assert b"MIIEowIBAAKCAQEAx7Qd2Yk3" not in result.data
    assert result.data.count(b"\n") == data.count(b"\n")


def test_secret_next_to_binary_garbage_is_found() -> None:
    data = b"\x00\x00\x00\x11\x93password=" + SECRET + b"\x00\x9c\xff" * 50
    assert SECRET not in redact_bytes(data).data


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=600), st.sampled_from([b"", b"\x00", b"password=" + SECRET]))
def test_binary_keeps_its_length_and_redacting_twice_changes_nothing(
    noise: bytes, extra: bytes
) -> None:
    data = b"\x00" + noise + extra + noise[::-1]
    result = redact_bytes(data)
    if result.classification is not None and result.classification.kind is ContentKind.BINARY:
        assert len(result.data) == len(data)
    again = redact_bytes(result.data)
    assert again.data == result.data and again.counts == ()
