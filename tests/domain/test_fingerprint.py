"""Fingerprints: masking of variable parts, headline choice, key format and determinism."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tracker_bridge.domain.fingerprint import Fingerprint, fingerprint, headline, mask_token

KEY = re.compile(r"[0-9a-f]{16}")


def same(*messages: str) -> bool:
    return len({fingerprint(m).key for m in messages}) == 1


@pytest.mark.parametrize(
    ("message", "template"),
    [
        ("No space left on device", "No space left on device"),
        (
            "write /var/lib/docker/x.log: No space left on device",
            "write <*> No space left on device",
        ),
        ("GET https://api.example.com/v1/users?id=3 failed", "GET <*> failed"),
        ("connect to 10.0.0.12:5432 refused", "connect to <*>:5432 refused"),
        ("from 10.0.0.12:51234 refused", "from <*> refused"),
        ("connect to [fe80::1ff:fe23:4567:890a]:22 refused", "connect to <*>:22 refused"),
        ("host db.example.com unreachable", "host <*> unreachable"),
        ("job 123e4567-e89b-12d3-a456-426614174000 lost", "job <*> lost"),
        ("bad pointer 0x7ffd5e8c at deadbeefcafe", "bad pointer <*> at <*>"),
        ("request took 1534ms", "request took <*>"),
        ("request took 1.5 seconds", "request took <*>"),
        ("wrote 4096 bytes (4 KB)", "wrote <*>"),
        ("at Sun Jul 3 04:10:35 2005 PDT", "at <*>"),
        ("started 2024-05-01T12:30:45.123Z", "started <*>"),
        ("user=alice status=failed", "user=alice status=failed"),
        ("uid=1001 status=3", "uid=<*> status=<*>"),
        ('job="nightly backup" state=failed', 'job="<*>" state=failed'),
        ("table 'orders' is locked", "table 'orders' is locked"),
        ("table 'orders-2024' is locked", "table <*> is locked"),
        ("session opened for user root by (uid=0)", "session opened for user root by (uid=<*>)"),
        ("MAC 00:1a:2b:3c:4d:5e flapping", "MAC <*> flapping"),
        ("C:\\Windows\\System32\\x.dll missing", "<*> missing"),
        ("mail to ops@example.com bounced", "mail to <*> bounced"),
    ],
)
def test_masking(message: str, template: str) -> None:
    assert fingerprint(message).template == template


@pytest.mark.parametrize(
    "family",
    [
        [
            "write /var/lib/docker/overlay2/abc/merged/x: No space left on device",
            "write /tmp/spool/42.tmp: No space left on device",
        ],
        ["GET https://a.example.com/x/1 returned 503", "GET http://10.1.2.3:8080/y returned 502"],
        ["worker 7 lost after 12.5s", "worker 123 lost after 900ms"],
        [
            "lease 3fa85f64-5717-4562-b3fc-2c963f66afa6 expired",
            "lease 00000000-0000-0000-0000-000000000000 expired",
        ],
        ["peer 192.168.0.1 closed", "peer 2001:db8::ff00:42:8329 closed", "peer ::1 closed"],
        [
            "cache size 12 MB exceeded",
            "cache size 1.5 GiB exceeded",
            "cache size 900 bytes exceeded",
        ],
        ["at Mon Jan 1 00:00:00 2024 done", "at Fri Jul 13 23:59:59 2029 done"],
    ],
)
def test_families_share_a_fingerprint(family: list[str]) -> None:
    assert same(*family)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("No space left on device", "No such file or directory"),
        ("connection opened from 10.0.0.1", "connection closed from 10.0.0.1"),
        ("open through proxy HTTPS", "open through proxy SOCKS5"),
        (
            "data store interrupt caused by dcbf.........0",
            "data store interrupt caused by icbi...1",
        ),
    ],
)
def test_different_messages_differ(a: str, b: str) -> None:
    assert not same(a, b)


def test_stack_trace_first_line_dominates() -> None:
    java_a = (
        "java.lang.IllegalStateException: pool 12 exhausted\n"
        "\tat com.example.Pool.take(Pool.java:120)\n\tat com.example.Main.run(Main.java:9)"
    )
    java_b = (
        "java.lang.IllegalStateException: pool 7 exhausted\n"
        "\tat com.example.Pool.take(Pool.java:133)\n\tat com.example.Other.go(Other.java:40)"
    )
    assert same(java_a, java_b)
    assert fingerprint(java_a).template == "java.lang.IllegalStateException: pool <*> exhausted"


def test_python_traceback_uses_the_exception_line() -> None:
    trace = (
        "Traceback (most recent call last):\n"
        '  File "app.py", line 3, in <module>\n'
        "    open('/data/x')\n"
        "OSError: [Errno 28] No space left on device: '/data/x'\n"
    )
    assert headline(trace).startswith("OSError:")
    assert fingerprint(trace).template == "OSError: [Errno <*> No space left on device: <*>"


def test_whitespace_and_blank_lines_collapse() -> None:
    assert same("  disk   full\t on  sda ", "\n\ndisk full on sda\n")
    assert fingerprint("").template == ""
    assert fingerprint("   \n ").tokens == ()


def test_long_and_unicode_messages() -> None:
    long_message = "Ошибка диска " + "x" * 20_000 + " " + "слово " * 5_000
    fp = fingerprint(long_message)
    assert KEY.fullmatch(fp.key)
    assert len(fp.tokens) <= 256
    assert mask_token("a" * 600 + "1") == "<*>"


def test_key_is_stable_across_processes() -> None:
    message = "write /tmp/x: No space left on device"
    code = (
        "from tracker_bridge.domain.fingerprint import fingerprint;"
        f"print(fingerprint({message!r}).key)"
    )
    other = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONHASHSEED": "123"},
    )
    assert other.stdout.strip() == fingerprint(message).key
    # Pinned, so a change to masking that re-keys every defect in every tracker is deliberate.
    assert fingerprint("No space left on device").key == "2ec76a181ae02be5"


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_any_text_gives_a_well_formed_deterministic_fingerprint(text: str) -> None:
    fp = fingerprint(text)
    assert isinstance(fp, Fingerprint)
    assert KEY.fullmatch(fp.key)
    assert fp == fingerprint(text)
    assert fp.template == " ".join(fp.tokens)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.sampled_from(["disk", "full", "on", "host", "retry"]), min_size=1, max_size=8),
    st.integers(),
    st.integers(),
)
def test_numbers_never_change_the_key(words: list[str], a: int, b: int) -> None:
    assert same(" ".join([*words, str(a)]), " ".join([*words, str(b)]))
