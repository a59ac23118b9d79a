"""What every rule shares: markers, fills, the rule record and how one rule is applied."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

MARKER_PREFIX = "[REDACTED:"

Fill = Callable[[str, str], str]
"""``fill(kind, value)``: the text that takes the place of ``value``."""


def marker(kind: str) -> str:
    """Return the text that replaces a secret of ``kind``."""
    return f"{MARKER_PREFIX}{kind}]"


def marker_fill(kind: str, _value: str) -> str:
    """Replace a secret by its marker (text evidence: the length changes)."""
    return marker(kind)


def same_length_fill(kind: str, value: str) -> str:
    """Overwrite a secret in place, keeping its length in UTF-8 bytes (binary evidence).

    The marker is written when it fits, padded with ``*``; a shorter secret becomes ``*``s, which
    every rule reads as already masked.
    """
    n = len(value.encode("utf-8", "surrogateescape"))
    mark = marker(kind)
    return (mark + "*" * n)[:n] if n >= len(mark) else "*" * n


# --------------------------------------------------------------------------------------------
# Rules

Kind = str | Callable[[re.Match[str]], str]
Accept = Callable[[re.Match[str], str], bool]


@dataclass(frozen=True, slots=True)
class Rule:
    """One pattern: its ``s*`` group is the secret, everything else in the match is kept."""

    kind: Kind
    pattern: re.Pattern[str]
    accept: Accept | None = None
    # Lower-case strings one of which every match contains: a pass is skipped when none occurs,
    # which is most passes on ordinary logs.
    needles: tuple[str, ...] = ()


def _always(_m: re.Match[str], _value: str) -> bool:
    return True


# Not preceded / followed by a token character: a long run of such characters is tried once.
NB = r"(?<![A-Za-z0-9_\-])"
NA = r"(?![A-Za-z0-9_\-])"
NOT_MARKER = r"(?!\[REDACTED:)"

PLACEHOLDER = re.compile(
    r"""(?ix)
    \$\{[^}]*\} | \$[a-z_][a-z0-9_]* | \{\{.*\}\} | %\(?[a-z_]*\)?s | <[^>]*> | \*+ | x{3,} | \.{3,}
    | null | none | nil | true | false | undefined | n/a | redacted | masked | hidden | omitted
    | [|>][-+]?[0-9]?
    """
)
_MASKED = re.compile(r"\*+")


_TOKEN_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")


def starts_token(m: re.Match[str], _value: str = "") -> bool:
    """The match is not the tail of a longer run of token characters.

    The same test as a look-behind, done after the match so that the pattern can begin with its
    literal prefix, which ``re`` searches for far faster than it tries every position.
    """
    start = m.start()
    return start == 0 or m.string[start - 1] not in _TOKEN_CHARS


def plausible_value(m: re.Match[str], value: str) -> bool:
    """Reject values that are references, placeholders or already masked, not secrets."""
    if PLACEHOLDER.fullmatch(value.strip()) or MARKER_PREFIX in value:
        return False
    return not value.startswith("-----BEGIN")


_VALUE_GROUPS = ("s", "s1", "s2", "s3", "s4")


def _secret_span(m: re.Match[str]) -> tuple[int, int] | None:
    groups = m.re.groupindex
    for name in _VALUE_GROUPS:
        if name in groups and m.start(name) != -1:
            return m.span(name)
    return None


def inside_marker(text: str, pos: int) -> bool:
    """Whether ``pos`` falls inside a marker, whose ``:`` and ``]`` some rules would misread."""
    opened = text.rfind(MARKER_PREFIX, max(0, pos - 64), pos)
    return opened != -1 and text.find("]", opened, pos) == -1 and "\n" not in text[opened:pos]


def apply(rule: Rule, text: str, counts: Counter[str], fill: Fill) -> str:
    """Apply one rule to ``text``: replace each accepted secret, count it by kind."""
    accept = rule.accept or _always

    def replace(m: re.Match[str]) -> str:
        span = _secret_span(m)
        if span is None or span[0] == span[1]:
            return m.group(0)
        value = m.string[span[0] : span[1]]
        if (
            MARKER_PREFIX in value
            or _MASKED.fullmatch(value)
            or inside_marker(m.string, span[0])
            or not accept(m, value)
        ):
            return m.group(0)
        kind = rule.kind if isinstance(rule.kind, str) else rule.kind(m)
        counts[kind] += 1
        return m.string[m.start() : span[0]] + fill(kind, value) + m.string[span[1] : m.end()]

    return rule.pattern.sub(replace, text)


_AROUND = 1024


def line_around(text: str, start: int, end: int) -> str:
    """The line holding ``text[start:end]``, at most ``_AROUND`` characters either side.

    Context checks never look past the line (so segment boundaries change nothing), nor far
    along it (so a long line with many matches stays linear).
    """
    floor = max(0, start - _AROUND)
    lo = text.rfind("\n", floor, start) + 1 or floor
    hi = text.find("\n", end, end + _AROUND)
    return text[lo : min(len(text), end + _AROUND) if hi == -1 else hi]
