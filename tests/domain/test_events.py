"""The identifying line of an event: stack traces, log headers, lines of one event."""

from __future__ import annotations

import pytest

from tracker_bridge.domain.events import identify, strip_header
from tracker_bridge.domain.fingerprint import event_fingerprints, fingerprint, headline

JAVA = (
    "2024-03-02 10:11:12,345 ERROR [http-nio-8080-exec-4] c.e.s.OrderController - request failed\n"
    "java.lang.IllegalStateException: connection pool shut down\n"
    "\tat com.example.db.Pool.borrow(Pool.java:88)\n"
    "\tat com.example.shop.OrderController.place(OrderController.java:41)\n"
    "\t... 12 more"
)
NODE = (
    "TypeError: Cannot read properties of null (reading 'total')\n"
    "    at summarize (/srv/app/lib/cart.js:17:22)\n"
    "    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)"
)
GO = (
    "panic: assignment to entry in nil map\n\n"
    "goroutine 7 [running]:\n"
    "main.(*Registry).Put(...)\n"
    "\t/src/registry.go:31 +0x1d"
)
PYTHON = (
    "Traceback (most recent call last):\n"
    '  File "/srv/jobs/export.py", line 12, in run\n'
    "    rows = fetch()\n"
    "ValueError: invalid literal for int() with base 10: 'n/a'"
)


@pytest.mark.parametrize(
    ("message", "line"),
    [
        (JAVA, "java.lang.IllegalStateException: connection pool shut down"),
        (NODE, "TypeError: Cannot read properties of null (reading 'total')"),
        (GO, "panic: assignment to entry in nil map"),
        (PYTHON, "ValueError: invalid literal for int() with base 10: 'n/a'"),
    ],
)
def test_the_exception_line_identifies_a_stack_trace(message: str, line: str) -> None:
    event = identify(message)
    assert event.line == line
    assert event.frames, "frames are kept as evidence"
    assert line not in event.frames


def test_frames_do_not_split_a_defect_but_name_a_bare_exception() -> None:
    with_message = JAVA.replace("Pool.java:88", "Pool.java:90")
    assert fingerprint(JAVA).key == fingerprint(with_message).key
    bare_a = "java.lang.NullPointerException\n\tat com.example.cart.Cart.add(Cart.java:12)"
    bare_b = "java.lang.NullPointerException: null\n\tat com.example.cart.Cart.add(Cart.java:19)"
    bare_c = "java.lang.NullPointerException\n\tat com.example.auth.Filter.check(Filter.java:40)"
    assert headline(bare_a) == "java.lang.NullPointerException at com.example.cart.Cart.add"
    assert fingerprint(bare_a).key == fingerprint(bare_b).key
    assert fingerprint(bare_a).key != fingerprint(bare_c).key


@pytest.mark.parametrize(
    ("line", "rest"),
    [
        (
            "Mar  4 07:01:02 edge-3 nginx[311]: worker exited on signal 9",
            "worker exited on signal 9",
        ),
        (
            "Mar  4 07:01:02 edge-3 kernel: [ 8812.004121] EXT4-fs (sdb1): mounted read-only",
            "EXT4-fs (sdb1): mounted read-only",
        ),
        ("2024-03-04T07:01:02.120Z WARN [main] a.b.C - pool low", "pool low"),
        ("[2024-03-04 07:01:02] ERROR: pool low", "pool low"),
        (
            "2024/03/04 07:01:02 [crit] 77#77: *9 SSL_do_handshake() failed",
            "SSL_do_handshake() failed",
        ),
        (
            "Warning  FailedScheduling  2m (x4 over 9m)  default-scheduler  0/3 nodes are available",
            "0/3 nodes are available",
        ),
        ('level=error ts=2024-03-04T07:01:02Z msg="sync" err="quota exhausted"', "quota exhausted"),
        ("pool low", "pool low"),
        (
            "2024-03-04 plain words after a date are kept",
            "2024-03-04 plain words after a date are kept",
        ),
    ],
)
def test_log_headers_are_cut(line: str, rest: str) -> None:
    assert strip_header(line) == rest


def test_lines_of_one_event_reach_one_defect() -> None:
    three = (
        "billing.service: Main process exited, code=exited, status=3/NOTIMPLEMENTED\n"
        "billing.service: Failed with result 'exit-code'.\n"
        "Failed to start Billing exporter."
    )
    event = identify(three)
    assert event.line == "billing.service: Failed with result 'exit-code'."
    assert len(event.companions) == 2
    keys = {fp.key for fp in event_fingerprints(three)}
    for line in three.splitlines():
        assert fingerprint(line).key in keys, line


def test_oom_killer_pair_and_kernel_versions() -> None:
    pair = (
        "rsyslogd invoked oom-killer: gfp_mask=0x140cca(GFP_HIGHUSER_MOVABLE), order=0\n"
        "Out of memory: Killed process 2211 (rsyslogd) total-vm:912kB, anon-rss:400kB, UID:0"
    )
    older = "Out of memory: Kill process 1900 (rsyslogd) score 301 or sacrifice child"
    assert identify(pair).line == "Out of memory: Killed process 2211 (rsyslogd)"
    assert fingerprint(pair).key == fingerprint(older).key
    other = "Out of memory: Killed process 2211 (mysqld) total-vm:912kB, anon-rss:400kB, UID:0"
    assert fingerprint(other).key != fingerprint(pair).key


def test_unrelated_lines_are_not_companions() -> None:
    message = "ERROR: deadlock detected\nDETAIL: Process 12 waits for ShareLock on transaction 9."
    assert identify(message).companions == ()
    assert len(event_fingerprints(message)) == 1
