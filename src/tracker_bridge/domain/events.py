"""The identifying line of an error event, found inside stack traces, log headers and line groups.

An error reaches the bridge in many shapes: one log line behind a header (timestamp, level, thread,
logger; syslog's ``host prog[pid]:``; the kernel's ``[12345.678901]``; nginx's ``2024/05/01 ...
[error] 12#12: *345``; ``kubectl get events`` columns), a stack trace, or several lines that belong
to one event (the OOM killer's ``invoked oom-killer`` / ``Killed process`` pair, systemd's
``Main process exited`` / ``Failed with result`` / ``Failed to start`` lines). :func:`identify`
returns the one line that names the defect, and the other lines of the same event:

- **Stack traces.** The exception or error line names the defect; frames are evidence, because
  they change with every release. Python: the last unindented line after ``Traceback``. Java,
  Node: the line right above the first ``at`` frame. Go: the ``panic:`` line. A bare exception
  (``java.lang.NullPointerException`` with no message, or ``: null``) says too little on its own,
  so its first frame's method (without the line number) is added: two unrelated null pointers
  in different methods are different defects.
- **Headers.** Leading log headers are cut, so a message logged through another pipeline still
  has the same identifying line. Only headers whose shape is unambiguous are cut; anything else
  is left to matching, which finds a known phrase inside a longer line.
- **Event lines.** Lines of a known multi-line event are *companions*: their fingerprints are
  recorded on the defect too, so a later sighting of any one line alone reaches the same defect.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_PY_TRACEBACK = "Traceback (most recent call last):"
_JAVA_FRAME = re.compile(r"^\s+at\s+\S")
_JAVA_MORE = re.compile(r"^\s*(\.\.\. \d+ more|Caused by:|Suppressed:)")
_GO_GOROUTINE = re.compile(r"^goroutine \d+ \[")
_EXCEPTION_LINE = re.compile(
    r"^(?:Exception in thread \"[^\"]*\" )?(?P<type>[\w$.]*(?:Exception|Error|Throwable|Panic)\w*)"
    r"(?P<rest>:.*)?$"
)
_FRAME_METHOD = re.compile(r"^\s+at\s+(?:[\w.$/]+/)?(?P<method>[\w.$<>]+)")
# Log headers, cut from the start of a line (anchored, linear patterns).
_HEADERS = (
    # syslog: "May  3 13:28:33 host prog[123]: " (and "kernel: [ 12.345678] ")
    re.compile(
        r"^[A-Z][a-z]{2} +\d{1,2} \d{2}:\d{2}:\d{2} \S+ [\w./@-]+(?:\[\d+\])?: "
        r"(?:\[ *\d+\.\d+\] )?"
    ),
    # ISO timestamp, optional level, thread and logger: "2024-05-01T12:00:00Z ERROR [main] a.b - "
    re.compile(
        r"^\[?\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?\]?"
        r"(?: +\[?(?:TRACE|DEBUG|INFO|NOTICE|WARN|WARNING|ERROR|FATAL|CRITICAL|SEVERE)\]?:?)?"
        r"(?: +\[[^\]]{1,80}\])?(?: +[\w.$]{1,120} +-)? +"
    ),
    # nginx: "2024/05/01 12:00:00 [error] 12#12: *345 "
    re.compile(r"^\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2} \[\w+\] \d+#\d+: (?:\*\d+ )?"),
    # kubectl get/describe events: "Warning  BackOff  3m (x12 over 1h)  kubelet  "
    re.compile(
        r"^(?:Warning|Normal) +\w+ +(?:\S+(?: \(x\d+ over \S+\))?) +"
        r"(?:kubelet|default-scheduler|[\w-]+-controller)(?:, \S+)? +"
    ),
    # kernel ring buffer alone: "[12345.678901] "
    re.compile(r"^\[ *\d+\.\d+\] "),
    # logfmt with the error in err="...": level=error ts=... msg="..." err="<error>"
    re.compile(r'^level=\w+ (?:.*? )?err="(?=.*"$)'),
)
# The kernel's OOM line: everything after the victim's name is counters; older kernels word it
# "Kill process N (comm) score N or sacrifice child".
_OOM_KILL = re.compile(
    r"^((?:Memory cgroup )?)[Oo]ut of memory: Kill(?:ed)? process (\d+) (\([^)]*\))"
)
# What every header above starts with: a cheap test before trying each one.
_HEADER_START = re.compile(r"[A-Z][a-z]{2} |\[|\d{4}[-/]|Warning |Normal |level=")
_COMPANIONS = (
    re.compile(r"^\S+\.(?:service|socket|timer|mount|scope): (?:Main|Control) process exited, "),
    re.compile(r"^\S+\.(?:service|socket|timer|mount|scope): Failed with result "),
    re.compile(r"^Failed to start .+\.$"),
    re.compile(r"^\S+ invoked oom-killer: "),
    re.compile(r"^(?:Memory cgroup )?[Oo]ut of memory: Kill(?:ed)? process "),
)


@dataclass(frozen=True, slots=True)
class Event:
    """One error event: the line that identifies it, the rest of its lines, and its frames."""

    line: str
    """The identifying line, whitespace collapsed (empty for a blank message)."""
    companions: tuple[str, ...] = ()
    """Other lines of the same multi-line event (systemd, OOM killer); each reaches the defect."""
    frames: tuple[str, ...] = ()
    """Stack frames, as evidence; they never decide the match on their own."""


def identify(message: str) -> Event:
    """The identifying line of ``message``, its companion lines and its stack frames."""
    if "\n" not in message and "\r" not in message:  # the common case, kept cheap
        return Event(_normalise(_strip_header(_collapse(message))))
    lines = [line.rstrip() for line in message.splitlines() if line.strip()]
    if not lines:
        return Event("")
    if lines[0].strip() == _PY_TRACEBACK:
        return _python(lines)
    frames_at = _first_frame(lines)
    if frames_at is not None:
        return _with_frames(lines, frames_at)
    for line in lines:
        if line.startswith("panic: "):
            return Event(_collapse(line), frames=tuple(lines[1:]))
    events = [_normalise(_strip_header(_collapse(line))) for line in lines]
    companions = [line for line in events if any(p.match(line) for p in _COMPANIONS)]
    if len(companions) >= 2:
        principal = _principal(companions)
        return Event(principal, tuple(c for c in companions if c != principal))
    return Event(events[0])


def strip_header(line: str) -> str:
    """``line`` without a leading log header (see the module docstring); whitespace collapsed."""
    return _strip_header(_collapse(line))


def _collapse(line: str) -> str:
    return " ".join(line.split())


def _strip_header(line: str) -> str:
    if not _HEADER_START.match(line):
        return line
    # Headers nest ("<syslog> kernel: [123.4] ..."), so cut while one matches, a few times at most.
    for _ in range(3):
        for pattern in _HEADERS:
            found = pattern.match(line)
            if found and found.end() < len(line):
                cut = line[found.end() :]
                if pattern.pattern.startswith("^level="):
                    cut = cut[:-1]
                line = cut
                break
        else:
            break
    return line


def _normalise(line: str) -> str:
    if "of memory" not in line:
        return line
    found = _OOM_KILL.match(line)
    if found:
        return f"{found[1]}Out of memory: Killed process {found[2]} {found[3]}"
    return line


def _principal(companions: list[str]) -> str:
    # The kernel's "Killed process" line and systemd's "Failed with result" line name the event.
    for pattern in (_COMPANIONS[4], _COMPANIONS[1]):
        for line in companions:
            if pattern.match(line):
                return line
    return companions[0]


def _python(lines: list[str]) -> Event:
    # The exception comes last, unindented; frames and source lines are indented.
    for i in range(len(lines) - 1, 0, -1):
        if not lines[i][:1].isspace():
            return Event(_collapse(lines[i]), frames=tuple(lines[1:i]))
    return Event(_collapse(lines[0]))


def _first_frame(lines: list[str]) -> int | None:
    for i, line in enumerate(lines[1:], start=1):
        if _JAVA_FRAME.match(line) or _GO_GOROUTINE.match(line):
            return i
    return None


def _with_frames(lines: list[str], first: int) -> Event:
    frames = tuple(line.strip() for line in lines[first:] if not _JAVA_MORE.match(line))
    # The exception line is the nearest one above the frames that looks like one; else the first.
    above = [_strip_header(_collapse(line)) for line in lines[:first]]
    line = next((x for x in reversed(above) if _EXCEPTION_LINE.match(x)), above[0])
    found = _EXCEPTION_LINE.match(line)
    if found and (found["rest"] in (None, "", ": null")) and frames:
        method = _FRAME_METHOD.match(" " + frames[0] if not frames[0][:1].isspace() else frames[0])
        if method:
            line = f"{found['type']} at {method['method']}"
    return Event(line, frames=frames)
