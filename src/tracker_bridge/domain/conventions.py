"""The naming and structure conventions the bridge enforces, as pure functions.

An observation is titled ``Handle: "<error message>" on "<instance>"``. Message and instance are
cleaned alike (terminal escape sequences and bidi controls removed, whitespace and control
characters collapsed onto single spaces) and escaped alike (``\\`` and ``"``), so a title always
parses back: neither part can contain an unescaped ``" on "``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

TITLE_LIMIT = 255
INSTANCE_LIMIT = 128
ELLIPSIS = "…"

Recurrence = Literal["reopen", "new-defect", "comment"]
LinkStyle = Literal["issue-link", "parent", "sub-task", "sub-issue", "label"]


@dataclass(frozen=True, slots=True)
class Conventions:
    """How tickets are named, typed and marked on the team's tracker."""

    observation_prefix: str = "Handle"
    defect_type: str = "Bug"
    observation_type: str = "Task"
    remediation_type: str = "Task"
    subtask_type: str = "Sub-task"
    link: LinkStyle = "issue-link"
    link_type: str = "Relates"
    on_recurrence: Recurrence = "reopen"
    reopen_transition: str = "Reopen"
    defect_label: str = "bridge-defect"
    observation_label: str = "bridge-observation"
    remediation_label: str = "bridge-remediation"
    fingerprint_label_prefix: str = "bridge-fp-"
    event_label_prefix: str = "bridge-ev-"

    def fingerprint_label(self, fingerprint: str) -> str:
        return f"{self.fingerprint_label_prefix}{fingerprint}"

    def event_label(self, event_id: str) -> str:
        return f"{self.event_label_prefix}{event_marker(event_id)}"


@dataclass(frozen=True, slots=True)
class ParsedTitle:
    """An observation title read back: the message, the instance, and whether it was canonical."""

    message: str
    instance: str
    canonical: bool


_TERMINAL_ESCAPE = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"  # CSI: colours, cursor movement (``ESC [ 31 m``)
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"  # OSC: window titles, hyperlinks
    r"|\x1b[@-Z\\-_]"  # other two-character sequences
    r"|\x9b[0-?]*[ -/]*[@-~]"  # CSI in its one-byte C1 form
)
_BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
"""Marks and overrides that make text display in another order than it reads (Trojan Source)."""


def normalize(text: str) -> str:
    """Text fit for a title: terminal escape sequences (ANSI colours) and bidi controls removed,
    newlines, tabs, other control characters and runs of spaces collapsed onto single spaces."""
    text = _TERMINAL_ESCAPE.sub("", text)
    cleaned = "".join(
        " " if unicodedata.category(ch) == "Cc" else ch for ch in text if ch not in _BIDI_CONTROLS
    )
    return " ".join(cleaned.split())


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def _clip_escaped(text: str, room: int) -> str:
    """``text`` escaped, clipped to ``room`` characters with ``…`` without splitting an escape."""
    escaped = _escape(text)
    if len(escaped) <= room:
        return escaped
    out: list[str] = []
    used = 0
    for ch in text:
        piece = _escape(ch)
        if used + len(piece) > room - len(ELLIPSIS):
            break
        out.append(piece)
        used += len(piece)
    return "".join(out).rstrip() + ELLIPSIS


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


def format_title(message: str, instance: str, prefix: str = "Handle") -> str:
    """The canonical observation title, at most 255 characters.

    The message is clipped (with ``…``) when the title would be too long; the instance never is.
    Raises ``ValueError`` for an empty message or instance, or an instance too long to keep whole.
    """
    msg = normalize(message)
    inst = _escape(normalize(instance))
    if not msg:
        raise ValueError("the error message is empty")
    if not inst:
        raise ValueError("the instance name is empty")
    if len(inst) > INSTANCE_LIMIT:
        raise ValueError(f"the instance name is longer than {INSTANCE_LIMIT} characters")
    head, tail = f'{prefix}: "', f'" on "{inst}"'
    return f"{head}{_clip_escaped(msg, TITLE_LIMIT - len(head) - len(tail))}{tail}"


def is_observation_title(title: str, prefix: str = "Handle") -> bool:
    """True when a title starts like an observation (``Handle:``, any case, any spacing)."""
    return re.match(rf"\s*{re.escape(prefix)}\s*:", title, re.IGNORECASE) is not None


_CANONICAL = re.compile(r'"((?:[^"\\]|\\.)+)" on "((?:[^"\\]|\\.)+)"')
_SLOPPY_SEPARATOR = re.compile(r'(?:"\s*|\s+)on(?:\s*"|\s+)', re.IGNORECASE)


def parse_title(title: str, prefix: str = "Handle") -> ParsedTitle | None:
    """Read an observation title back into (message, instance).

    Canonical titles round-trip exactly. Sloppy variants people type are read leniently
    (``Handle: "X "on "Y"``, ``Handle: X on Y"``, ``Handle: "X" on Y``) and marked
    ``canonical=False``. Returns None when the title is not an observation title at all.
    """
    head = re.match(rf"\s*{re.escape(prefix)}\s*:\s*", title, re.IGNORECASE)
    if head is None:
        return None
    body = title[head.end() :]
    if title.startswith(f'{prefix}: "'):
        canonical = _CANONICAL.fullmatch(body)
        if canonical is not None:
            message, instance = (_unescape(part) for part in canonical.groups())
            if message == normalize(message) and instance == normalize(instance):
                return ParsedTitle(message, instance, True)
    separators = list(_SLOPPY_SEPARATOR.finditer(body))
    if not separators:
        return None
    sep = separators[-1]
    message = normalize(body[: sep.start()].strip().strip('"'))
    instance = normalize(body[sep.end() :].strip().strip('"'))
    if not message or not instance:
        return None
    return ParsedTitle(message, instance, False)


def event_marker(event_id: str) -> str:
    """A label-safe idempotency marker for an event id (stable, 20 hex characters)."""
    import hashlib

    return hashlib.sha256(event_id.encode("utf-8")).hexdigest()[:20]


def clip(text: str, limit: int) -> str:
    """Clip text to ``limit`` characters, marking the cut with ``…``."""
    if len(text) <= limit:
        return text
    return text[: limit - len(ELLIPSIS)] + ELLIPSIS
