"""JQL built from data: every value is quoted and escaped, so input can never become syntax.

Two levels of escaping exist in Jira:

- JQL string literals: values go in double quotes; ``"`` and ``\\`` are escaped with a backslash,
  line breaks and tabs as ``\\n`` ``\\r`` ``\\t``, other control characters as ``\\uXXXX``. Quoting
  every value also keeps reserved words (``and``, ``or``, ``empty``...) and odd project keys safe.
- Text search (``~``) hands its value to Lucene, where ``+ - & | ! ( ) { } [ ] ^ ~ * ? : \\ / "``
  are operators: each is escaped with a backslash *inside* the JQL string, which the JQL escaping
  then doubles (``\\\\+``). Text searches are bounded to a few words; longer text is no better a
  search key and Lucene caps the number of clauses.
"""

from __future__ import annotations

from collections.abc import Iterable

_LUCENE_SPECIAL = frozenset('+-&|!(){}[]^"~*?:\\/')
TEXT_WORDS = 16
"""At most this many words of free text go into one ``~`` search."""


def quote(value: str) -> str:
    """``value`` as a JQL string literal, whatever it contains."""
    out = ['"']
    for ch in value:
        if ch in ('"', "\\"):
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def lucene_phrase(text: str, words: int = TEXT_WORDS) -> str:
    """A Lucene phrase query matching ``text`` (its first ``words`` words), specials escaped."""
    kept = " ".join(text.split()[:words])
    escaped = "".join("\\" + ch if ch in _LUCENE_SPECIAL else ch for ch in kept)
    return f'"{escaped}"'


def equals(field: str, value: str) -> str:
    """``field = "value"``."""
    return f"{field} = {quote(value)}"


def one_of(field: str, values: Iterable[str]) -> str:
    """``field in ("a", "b")``."""
    return f"{field} in ({', '.join(quote(v) for v in values)})"


def contains_text(field: str, text: str) -> str:
    """``field ~ "\\"phrase\\""``: a phrase search for ``text``, safe for any input."""
    return f"{field} ~ {quote(lucene_phrase(text))}"


def contains_words(field: str, text: str) -> str:
    """``field ~ "words"``: each word of ``text`` must occur (no phrase), specials escaped.

    Some sites find nothing for a phrase with escaped quotes; callers filter the (wider)
    result by the exact text themselves.
    """
    kept = " ".join(text.split()[:TEXT_WORDS])
    escaped = "".join("\\" + ch if ch in _LUCENE_SPECIAL else ch for ch in kept)
    return f"{field} ~ {quote(escaped)}"
