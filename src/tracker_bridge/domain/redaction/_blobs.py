"""Secrets that need more than a pattern: base64 blobs, Secret manifests and cookie headers.

A base64 value is decoded and the text inside is scanned with every rule; the whole blob is
replaced when it holds a secret, when its key says it is one (``password: aHVudGVyMg==``), or when
it is a value of a ``data:`` section (the shape of a Kubernetes Secret) that decodes to text.
"""

from __future__ import annotations

import binascii
import re
from collections import Counter
from collections.abc import Callable

from tracker_bridge.domain.redaction._common import (
    MARKER_PREFIX,
    PLACEHOLDER,
    Fill,
)

BASE64_KIND = "base64-secret"
COOKIE_KIND = "session-cookie"

# Finds secrets in decoded text (the whole rule set, one level deeper); returns how many.
Scanner = Callable[[str], int]

_MAX_BLOB = 256 * 1024
# Only a length that is a multiple of four can be padded base64: other words fail at once.
_B64 = "[A-Za-z0-9+/]"
_PAD = f"(?:{_B64}{{2}}==|{_B64}{{3}}=)"
_BLOB = re.compile(
    r"[:=][ \t]*\\?[\"']?(?P<s>"
    + f"(?:{_B64}{{4}}){{2,{_MAX_BLOB // 4}}}+{_PAD}?|{_B64}{{4}}{_PAD}"
    + r")(?=\\?[\"']|[\s,;}\]]|$)"
)
_KEY_BEFORE = re.compile(r"(?P<key>[A-Za-z0-9_.\-]{1,80})\\?[\"']?[ \t]*$")
_SECRET_KEY = re.compile(
    r"(?i)pass|pwd|secret|token|key(?:[_.\-]?data)?$|auth(?!or)|cred|private|dockerconfig"
    r"|dockercfg|kubeconfig|session|cookie|htpasswd|connection[_.\-]?string|dsn$|database_url"
)
# How far back on its line a value's key or a one-line Secret's "data": { is looked for.
_CONTEXT_CHARS = 8192
# A JSON Secret on one line: {"kind": "Secret", "data": {"db": "aHVudGVy"}}.
_INLINE_DATA = re.compile(r"\"(?:data|binaryData)\"[ \t]*:[ \t]*\{")
_PRINTABLE_FRACTION = 0.9


def decode_text(value: str) -> str | None:
    """The text a standard base64 value (padded) encodes, or None when it is not text."""
    if len(value) % 4:
        return None
    try:
        raw = binascii.a2b_base64(value, strict_mode=True)
        text = raw.decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    if not text:
        return None
    printable = sum(1 for c in text if c.isprintable() or c in "\t\r\n")
    return text if printable >= _PRINTABLE_FRACTION * len(text) else None


def redact_blobs(text: str, counts: Counter[str], fill: Fill, scan: Scanner) -> str:
    """Replace base64 values that hold a secret or sit under a secret-looking key."""

    def replace(m: re.Match[str]) -> str:
        value = m.group("s")
        if value.isdigit():
            return m.group(0)
        decoded = decode_text(value)
        if decoded is None:
            return m.group(0)
        # Context is looked for in a bounded window: a long line with many values stays linear.
        lo = max(0, m.start() - _CONTEXT_CHARS)
        lo = text.rfind("\n", lo, m.start()) + 1 or lo
        key = _KEY_BEFORE.search(text, max(lo, m.start() - 90), m.start())
        secret_key = key is not None and _SECRET_KEY.search(key.group("key")) is not None
        in_data = _INLINE_DATA.search(text, lo, m.start()) is not None
        if not (secret_key or in_data) and scan(decoded) == 0:
            return m.group(0)
        counts[BASE64_KIND] += 1
        return (
            m.group(0)[: m.start("s") - m.start()]
            + fill(BASE64_KIND, value)
            + m.group(0)[m.end("s") - m.start() :]
        )

    return _BLOB.sub(replace, text)


# --------------------------------------------------------------------------------------------
# data: sections (Kubernetes Secret manifests, YAML or JSON), one line at a time.

_DATA_OPEN_YAML = re.compile(r"([ \t]*)(?:data|binaryData):[ \t]*\r?\n?$")
_DATA_OPEN_JSON = re.compile(r"[ \t]*\"(?:data|binaryData)\"[ \t]*:[ \t]*\{[ \t]*\r?\n?$")
_DATA_OPEN_ANY = re.compile(r"(?m)^[ \t]*\"?(?:data|binaryData)\"?[ \t]*:[ \t]*\{?[ \t]*\r?$")
_ENTRY = re.compile(
    r"[ \t]*\"?[A-Za-z0-9_.\-]{1,253}\"?[ \t]*:[ \t]*\"?(?P<s>[A-Za-z0-9+/]{4,"
    + str(_MAX_BLOB)
    + r"}={0,2})\"?,?[ \t]*\r?\n?$"
)


class DataSections:
    """Tracks whether the current line is an entry of a ``data:`` section, across pieces."""

    def __init__(self) -> None:
        self._indent: int | None = None  # YAML: indent of the data: key
        self._json = False

    @property
    def inside(self) -> bool:
        return self._indent is not None or self._json

    def redact(self, text: str, counts: Counter[str], fill: Fill) -> str:
        """Replace each base64 entry of a data: section that decodes to text."""
        if not self.inside and _DATA_OPEN_ANY.search(text) is None:
            return text
        lines = text.splitlines(keepends=True)
        changed = False
        for i, line in enumerate(lines):
            if not self.inside:
                self._open(line)
                continue
            stripped = line.strip()
            if not stripped:
                continue
            if self._json and stripped.startswith("}"):
                self._json = False
                continue
            if self._indent is not None:
                indent = len(line) - len(line.lstrip(" \t"))
                if indent <= self._indent:
                    self._indent = None
                    self._open(line)
                    continue
            entry = _ENTRY.match(line)
            if entry is None:
                continue
            value = entry.group("s")
            if MARKER_PREFIX in value or PLACEHOLDER.fullmatch(value):
                continue
            if decode_text(value) is None:
                continue
            counts[BASE64_KIND] += 1
            lines[i] = line[: entry.start("s")] + fill(BASE64_KIND, value) + line[entry.end("s") :]
            changed = True
        return "".join(lines) if changed else text

    def _open(self, line: str) -> None:
        m = _DATA_OPEN_YAML.match(line)
        if m is not None:
            self._indent = len(m.group(1))
        elif _DATA_OPEN_JSON.match(line):
            self._json = True


# --------------------------------------------------------------------------------------------
# Cookies

_COOKIE_HEADER = re.compile(
    r"(?i)(?:(?P<set>set-)?cookie2?\\?[\"']?[ \t]*[:=][ \t]*\\?[\"']?|(?<![\w\-])-b[ \t]+[\"'])"
    r"(?P<v>[^\n\"'\\]{1,8192})"
)
_PAIR = re.compile(r"(?P<name>[^=;,\s]{1,128})=(?P<s>[^;,\s]{1,4096})")
_SESSION_NAME = re.compile(
    r"(?i)sess|sid$|^sid|auth|token|jwt|remember|login|identity|csrf|xsrf|secret|^__host-|^__secure-"
    r"|user_?id_?hash|_at$|_rt$"
)
_COOKIE_ATTRIBUTES = frozenset(
    {"path", "domain", "expires", "max-age", "samesite", "secure", "httponly", "priority"}
)


def _tokenish(value: str) -> bool:
    return len(value) >= 16 and any(c.isdigit() for c in value) and any(c.isalpha() for c in value)


def redact_cookies(text: str, counts: Counter[str], fill: Fill) -> str:
    """Replace session values in ``Cookie:`` / ``Set-Cookie:`` headers and ``curl -b``."""

    def header(m: re.Match[str]) -> str:
        value = m.group("v")
        only_first = m.group("set") is not None

        def pair(p: re.Match[str]) -> str:
            name, secret = p.group("name"), p.group("s")
            if name.lower() in _COOKIE_ATTRIBUTES:
                return p.group(0)
            if MARKER_PREFIX in secret or PLACEHOLDER.fullmatch(secret) or len(secret) < 4:
                return p.group(0)
            if not (_SESSION_NAME.search(name) or _tokenish(secret)):
                return p.group(0)
            counts[COOKIE_KIND] += 1
            return f"{name}={fill(COOKIE_KIND, secret)}"

        redacted = _PAIR.sub(pair, value, count=1 if only_first else 0)
        return m.group(0)[: m.start("v") - m.start()] + redacted

    return _COOKIE_HEADER.sub(header, text)
