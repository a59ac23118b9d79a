"""Tests for the evidence secret redactor (tracker_bridge.domain.redaction)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tracker_bridge.domain.redaction import (
    KINDS,
    Redacted,
    marker,
    redact_bytes,
    redact_text,
    summary,
)

CORPUS = Path(__file__).parents[1] / "data" / "secrets" / "corpus.jsonl"


def _load() -> list[dict[str, Any]]:
    with CORPUS.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


CASES = _load()
POSITIVES = [c for c in CASES if c["kind"] is not None]
NEGATIVES = [c for c in CASES if c["kind"] is None]


def _case_id(case: dict[str, Any]) -> str:
    return f"{case['kind']}-{case['context']}"


def test_corpus_covers_every_kind_at_least_ten_times() -> None:
    per_kind = {kind: sum(1 for c in POSITIVES if c["kind"] == kind) for kind in KINDS}
    assert {k: n for k, n in per_kind.items() if n < 10} == {}


@pytest.mark.parametrize("case", POSITIVES, ids=_case_id)
def test_every_corpus_secret_is_redacted_with_its_kind(case: dict[str, Any]) -> None:
    out, counts = redact_text(case["text"])
    assert {kind for kind, _ in counts} == set(case["kinds"])
    for secret in case["secrets"]:
        assert secret not in out
    assert marker(case["kind"]) in out


@pytest.mark.parametrize("case", NEGATIVES, ids=lambda c: c["text"][:40])
def test_near_misses_are_left_byte_identical(case: dict[str, Any]) -> None:
    assert redact_text(case["text"]) == (case["text"], ())


@pytest.mark.parametrize(
    ("text", "expected", "counts"),
    [
        (
            "POSTGRES_PASSWORD=hunter2-Xy9",
            "POSTGRES_PASSWORD=[REDACTED:password-assignment]",
            (("password-assignment", 1),),
        ),
        (
            '{"user": "ops", "password": "p4ss w0rd", "port": 5432}',
            '{"user": "ops", "password": "[REDACTED:password-assignment]", "port": 5432}',
            (("password-assignment", 1),),
        ),
        (
            "db:\n  passwd: 's3cr3t!'\n  host: db-1\n",
            "db:\n  passwd: '[REDACTED:password-assignment]'\n  host: db-1\n",
            (("password-assignment", 1),),
        ),
        (
            "mysql --user root --password Tr0ub4dor -h db-1",
            "mysql --user root --password [REDACTED:password-assignment] -h db-1",
            (("password-assignment", 1),),
        ),
        (
            "git clone https://deploy:Zx9-pw@git.example.com/ops.git",
            "git clone https://deploy:[REDACTED:url-credentials]@git.example.com/ops.git",
            (("url-credentials", 1),),
        ),
        (
            "url=postgresql://app:pw0rd@db-1:5432/app",
            "url=postgresql://app:[REDACTED:db-connection-string]@db-1:5432/app",
            (("db-connection-string", 1),),
        ),
        (
            "GITHUB_TOKEN=ghp_" + "a1B2" * 9 + " and AWS key AKIAABCDEFGHIJKLMNOP",
            "GITHUB_TOKEN=[REDACTED:github-token] and AWS key [REDACTED:aws-access-key]",
            (("aws-access-key", 1), ("github-token", 1)),
        ),
    ],
)
def test_key_names_and_context_are_preserved(
    text: str, expected: str, counts: tuple[tuple[str, int], ...]
) -> None:
    assert redact_text(text) == (expected, counts)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Found by Hypothesis: the marker's ":" and "]" must never be read as user:password.
        ("-u ;Pwd=password", "-u ;Pwd=[REDACTED:db-connection-string]"),
        (
            "curl -u ghp_" + "abcdefghij" * 3 + "abcdef:realpass1 https://x",
            "curl -u [REDACTED:github-token]:[REDACTED:basic-auth] https://x",
        ),
    ],
)
def test_markers_are_never_reparsed(text: str, expected: str) -> None:
    once, _ = redact_text(text)
    assert once == expected
    assert redact_text(once) == (once, ())


def test_counts_add_up_per_kind() -> None:
    text = "\n".join(f"AKIA{'ABCDEFGHIJKLMNO'}{c} password={c}xyz" for c in "QRS")
    out, counts = redact_text(text)
    assert counts == (("aws-access-key", 3), ("password-assignment", 3))
    assert out.count("\n") == 2


def test_private_key_block_keeps_line_structure() -> None:
    body = ["MIIEowIBAAKCAQEAx" + "Q" * 47, "abc" * 21 + "d", "Zm9vYmFy" * 4 + "=="]
    text = "before\n-----BEGIN RSA PRIVATE KEY-----\n" + "\n".join(body)
    text += "\n-----END RSA PRIVATE KEY-----\nafter\n"
    out, counts = redact_text(text)
    assert counts == (("private-key", 1),)
    assert out.splitlines() == [
        "before",
        "-----BEGIN RSA PRIVATE KEY-----",
        "[REDACTED:private-key]",
        "",
        "",
        "-----END RSA PRIVATE KEY-----",
        "after",
    ]


def test_truncated_private_key_is_still_redacted() -> None:
    text = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAE\nAAAAMw"
    out, counts = redact_text(text)
    assert counts == (("private-key", 1),)
    assert "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAE" not in out


def test_redact_bytes_round_trips_invalid_utf8_outside_secrets() -> None:
    data = b"caf\xe9 latin-1 line\npassword=hunter2x\n\xff tail\n"
    result = redact_bytes(data)
    assert result.scanned
    assert (
        result.data == b"caf\xe9 latin-1 line\npassword=[REDACTED:password-assignment]\n\xff tail\n"
    )
    assert result.counts == (("password-assignment", 1),)
    assert result.total == 1


def test_clean_text_is_returned_as_is() -> None:
    data = "naïve log line, nothing to see\r\n".encode()
    assert redact_bytes(data) == Redacted(data, (), True)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR password=hunter2", "PNG"),
        (
            b"\xff\xd8\xff" + bytes([0x80 + i % 100 for i in range(500)]) + b"token=abcdefgh12345",
            "JPEG",
        ),
        (b"\x1f\x8b\x08\x00" + b"password=hunter2xyz", "gzip"),
    ],
)
def test_compressed_content_is_untouched_and_reported_unscanned(data: bytes, reason: str) -> None:
    result = redact_bytes(data)
    assert result == Redacted(data, (), False)
    assert result.classification is not None and reason in result.classification.reason
    assert result.total == 0


def test_utf16_with_bom_is_scanned_and_keeps_its_encoding() -> None:
    text = "PS> $env:API_KEY\r\napi_key=0123456789abcdef0123\r\n"
    data = b"\xff\xfe" + text.encode("utf-16-le")
    result = redact_bytes(data)
    assert result.scanned
    assert result.counts == (("api-key-assignment", 1),)
    assert result.data[:2] == b"\xff\xfe"
    assert "0123456789abcdef0123" not in result.data[2:].decode("utf-16-le")


def test_summary_names_kinds_and_counts_but_never_values() -> None:
    secret = "ghp_" + "Zq7" * 12
    _, counts = redact_text(f"token: {secret}\npassword=abc123xyz\npasswd: other1\n")
    text = summary(counts)
    assert text == "1 github-token, 2 password-assignment"
    assert secret not in text
    assert "abc123xyz" not in text
    assert summary(()) == "no secrets found"


def test_kinds_catalogue_is_sorted_and_every_marker_names_a_kind() -> None:
    assert list(KINDS) == sorted(set(KINDS))
    for case in POSITIVES:
        _, counts = redact_text(case["text"])
        assert {kind for kind, _ in counts} <= set(KINDS)


@pytest.mark.parametrize("case", POSITIVES[::7], ids=_case_id)
def test_redacting_twice_changes_nothing_on_the_corpus(case: dict[str, Any]) -> None:
    once, _ = redact_text(case["text"])
    assert redact_text(once) == (once, ())


# Text built from fragments of real secret syntax, so Hypothesis explores the interesting edges.
_FRAGMENTS = st.sampled_from(
    [
        "password",
        "token",
        "api_key",
        "secret",
        "=",
        ": ",
        '"',
        "'",
        "\\",
        "\n",
        " ",
        ";",
        "&",
        "--",
        "-u ",
        "@",
        "://",
        "https",
        "postgres",
        "user:",
        "AKIA",
        "ABCDEFGHIJKLMNOP",
        "ghp_",
        "a1b2c3d4e5f6g7h8i9j0" * 2,
        "eyJhbGciOi",
        ".",
        "Bearer ",
        "Basic ",
        "YWRtaW46cHc=",
        "Authorization: ",
        "-----BEGIN RSA PRIVATE KEY-----",
        "-----END RSA PRIVATE KEY-----",
        "MIIEowIBAAKCAQEA",
        "[REDACTED:",
        "]",
        "${X}",
        "sig=",
        "?sv=2022-11-02&",
        "jdbc:mysql://h/db?password=",
        ";Pwd=",
        "xoxb-",
        "sk_live_",
        "AIza",
        "glpat-",
        "<password>",
        "</password>",
        "AccountKey=",
        "x",
        "9",
    ]
)
_TEXTS = st.one_of(st.lists(_FRAGMENTS, max_size=40).map("".join), st.text(max_size=200))


@settings(max_examples=400, deadline=None)
@given(_TEXTS)
def test_redaction_is_idempotent(text: str) -> None:
    once, _ = redact_text(text)
    assert redact_text(once) == (once, ())


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400))
def test_redact_bytes_never_raises_and_keeps_clean_input(data: bytes) -> None:
    result = redact_bytes(data)
    if not result.counts:
        assert result.data == data
    assert result.total == sum(n for _, n in result.counts)


@settings(max_examples=200, deadline=None)
@given(st.lists(_FRAGMENTS, max_size=40).map("".join))
def test_only_secret_spans_change(text: str) -> None:
    out, _ = redact_text(text)
    # Whatever is not a marker in the output is a copy of the input in the same order. A private
    # key's body becomes one marker and keeps its line breaks (so line numbers stay true), so the
    # comparison leaves line breaks out.
    remainder = out
    for kind in KINDS:
        remainder = remainder.replace(marker(kind), "\0")
    flat = text.replace("\n", "")
    pos = 0
    for piece in remainder.replace("\n", "").split("\0"):
        found = flat.find(piece, pos)
        assert found != -1
        pos = found + len(piece)


def test_a_private_key_body_keeps_its_line_breaks_under_one_marker() -> None:
    key = "-----BEGIN RSA PRIVATE KEY-----password\npassword-----END RSA PRIVATE KEY-----"
    out, counts = redact_text(key)
    assert "password" not in out and counts == (("private-key", 1),)
    assert out.count("\n") == key.count("\n")


def _five_mb(unit: str) -> str:
    return unit * (5_000_000 // len(unit) + 1)


@pytest.mark.parametrize(
    "unit",
    [
        "2024-05-01 12:00:01 INFO [worker-7] request id=42 took 12ms user=bob path=/api/v1\n",
        "a",
        "password=",
        'password="a ',
        "--password ",
        "token: ",
        "eyJabcde.",
        "http://a:",
        ";Password=x",
        "<password>",
        "-----BEGIN RSA PRIVATE KEY-----\n",
        "Authorization: ",
    ],
    ids=lambda u: u.strip()[:12] or "blank",
)
def test_five_megabytes_in_linear_time(unit: str) -> None:
    text = _five_mb(unit)
    started = time.perf_counter()
    redact_text(text)
    # Generous: measured 0.3-2.6 s on a 2-core machine; quadratic behaviour would take hours.
    assert time.perf_counter() - started < 30
