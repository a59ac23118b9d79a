"""Similarity of two templates of different lengths: is one phrase found inside the other?

Positional similarity (:func:`tracker_bridge.domain.matching.similarity`) only compares templates
of the same token count. The same defect often comes with a different count: a client library's
wrapper (``psycopg2.OperationalError: ...``), an operation prefix (``failed to sync 42: ...``), a
log header no pattern recognised, a value written in several tokens, an appended detail. Here a
template is reduced to its **words**: the constant letters and digits of each token, split at
punctuation and lowercased (``<*>:6379:`` gives ``6379``; ``java.lang.OutOfMemoryError:`` gives
``java lang outofmemoryerror``). The shorter word sequence is aligned inside the longer one
(longest common subsequence) and scored

    (BASE + (1 - BASE) * coverage) * 0.5 ** missing

where ``missing`` is the number of the shorter phrase's words not found in order in the longer one
and ``coverage`` the share of the longer one's words that were aligned. A phrase found whole inside
a wrapper scores between :data:`BASE` and 1 (more the less the wrapper adds); every word of the
phrase that is missing halves the score, as a differing word does in positional similarity: the
word that differs (``cpu``/``memory``, ``space``/``inodes``, ``6379``/``5432``) is usually the one
that names the defect. A phrase of fewer than :data:`MIN_WORDS` words is too generic to be
recognised inside another message on its own and scores half. A single word in common is no
resemblance at all: 0.

Error names are words too: ``ECONNREFUSED``, ``errno 111`` and ``Connection refused`` say the same
thing in Node, Python and Go, so the symbolic errno names are read as their C library text
(:data:`ERRNO_WORDS`) before aligning.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from tracker_bridge.domain.fingerprint import WILDCARD

BASE = 0.7
"""Score of a phrase found whole inside a message that adds as many words again, and more."""

MIN_WORDS = 3
"""Fewer words than this in the shorter phrase halve the score ("connection refused")."""

MAX_WORDS = 64
"""Words compared per template: alignment is quadratic, and 64 words tell a defect apart."""


ERRNO_WORDS: dict[str, tuple[str, ...]] = {
    name.lower(): tuple(text.split())
    for name, text in (
        ("ECONNREFUSED", "connection refused"),
        ("ECONNRESET", "connection reset by peer"),
        ("ECONNABORTED", "connection aborted"),
        ("ETIMEDOUT", "connection timed out"),
        ("EHOSTUNREACH", "no route to host"),
        ("ENETUNREACH", "network is unreachable"),
        ("EADDRINUSE", "address already in use"),
        ("EPIPE", "broken pipe"),
        ("ENOSPC", "no space left on device"),
        ("EDQUOT", "disk quota exceeded"),
        ("EROFS", "read only file system"),
        ("ENOENT", "no such file or directory"),
        ("EACCES", "permission denied"),
        ("EPERM", "operation not permitted"),
        ("EMFILE", "too many open files"),
        ("ENFILE", "too many open files in system"),
        ("ENOMEM", "cannot allocate memory"),
        ("EEXIST", "file exists"),
        ("EAGAIN", "resource temporarily unavailable"),
    )
}
"""Symbolic errno names (Node, Go, Rust print these) and the C library's text for them."""


RESOURCE_STATES: tuple[tuple[str, ...], ...] = tuple(
    ERRNO_WORDS[name] for name in ("enospc", "erofs", "edquot", "emfile", "enfile", "enomem")
)
"""Errors that describe the state of a resource (full, read-only, out of handles or memory), not
the operation that met it: ``write <*>: no space left on device`` and ``could not extend file
<*>: No space left on device`` are one defect."""

_OP_WORDS = 4
"""Words of operation context allowed before a resource state on each side."""

LEVELS = frozenset(
    [
        "error",
        "err",
        "fatal",
        "panic",
        "warning",
        "warn",
        "critical",
        "crit",
        "severe",
        "alert",
        "emerg",
        "log",
        "info",
        "notice",
    ]
)
"""Severity words: a token that is only one of these (``ERROR:``, ``[error]``) is a header."""


def words(tokens: Sequence[str]) -> tuple[str, ...]:
    """The constant words of a masked template, lowercased, in order (at most :data:`MAX_WORDS`).

    A token that is only a severity (``ERROR:``, ``FATAL:``, ``[warn]``, or a first ``ERROR``)
    says how the line was logged, not what happened, and is left out; so is ``errno`` (its number
    is a variable, and the text that follows says the same). Identifiers are cut at case changes
    (``CrashLoopBackOff`` gives ``crash loop back off``) and a plural ``s`` is dropped
    (``pods``/``pod``), so a person's wording and a program's meet.
    """
    out: list[str] = []
    for i, token in enumerate(tokens):
        bare = token.strip("[]():").lower()
        if (bare in LEVELS and (token[-1:] in ":]" or i == 0)) or bare == "errno":
            continue
        for piece in _PIECE.findall(token.replace(WILDCARD, " ")):
            out.extend(_word(piece))
        if len(out) >= MAX_WORDS:
            return tuple(out[:MAX_WORDS])
    return tuple(out)


# An identifier's words: "KubePodCrashLooping" -> Kube Pod Crash Looping; "HTTPServer" -> HTTP Server.
_PIECE = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+|[^\W\d_]+")


@lru_cache(maxsize=1 << 14)
def _word(piece: str) -> tuple[str, ...]:
    text = piece.lower()
    if text in ERRNO_WORDS:
        return ERRNO_WORDS[text]
    if text == "oom":  # "oom-killer", "OOMKilled": the kernel's and Kubernetes' "out of memory"
        return ("out", "of", "memory")
    if len(text) > 3 and text[-1] == "s" and text[-2] not in "suiy":
        text = text[:-1]
    return (text,)


def common(a: Sequence[str], b: Sequence[str]) -> int:
    """Length of the longest common subsequence of two word sequences.

    Bit-parallel (Allison and Dix; Hyyro): one integer operation per word of the longer sequence
    instead of one comparison per pair of words.
    """
    if len(a) > len(b):
        a, b = b, a
    if not a:
        return 0
    masks: dict[str, int] = {}
    for i, word in enumerate(a):
        masks[word] = masks.get(word, 0) | (1 << i)
    full = (1 << len(a)) - 1
    row = full
    for word in b:
        hit = row & masks.get(word, 0)
        row = ((row + hit) | (row - hit)) & full
    return len(a) - row.bit_count()


def wrapped(known: Sequence[str], seen: Sequence[str]) -> bool:
    """Whether one phrase is the other behind a prefix: its words end the longer one, in one run.

    That is the shape of a wrapper (a log header, ``psycopg2.OperationalError:``, ``failed to
    sync 42:``). Words *appended* to a phrase (``... detected and corrected over 30 seconds``)
    more often make another event, so that shape is never decided alone, only listed.
    """
    short, long = (known, seen) if len(known) <= len(seen) else (seen, known)
    return len(short) >= MIN_WORDS and tuple(long[len(long) - len(short) :]) == tuple(short)


def resource_state(known: Sequence[str], seen: Sequence[str]) -> float:
    """Score of two phrases that end in the same resource state, else 0.

    Both must be ``<operation> <*>: <resource state>`` (see :data:`RESOURCE_STATES`) with a short
    operation and no number outside the state (a number is a port or a code: it may name another
    dependency). The state is the phrase: scored like a phrase found whole, on its share of the
    longer one.
    """
    for state in RESOURCE_STATES:
        n = len(state)
        if tuple(known[-n:]) == state and tuple(seen[-n:]) == state:
            rest = [*known[:-n], *seen[:-n]]
            short = len(known) - n <= _OP_WORDS and len(seen) - n <= _OP_WORDS
            if short and not any(ch.isdigit() for word in rest for ch in word):
                return BASE + (1 - BASE) * n / max(len(known), len(seen))
    return 0.0


def upper_bound(known: Sequence[str], seen: Sequence[str], shared: int) -> float:
    """The most :func:`containment` or :func:`resource_state` can give when the two phrases have
    ``shared`` distinct words in common: a cheap test before aligning."""
    short, long = (known, seen) if len(known) <= len(seen) else (seen, known)
    if not short:
        return 0.0
    matched = min(shared, len(short))
    # Repeated words may align more than once: only a phrase without repeats is bounded tightly.
    if len(set(short)) < len(short):
        return 1.0
    bound = (BASE + (1 - BASE) * matched / len(long)) * 0.5 ** (len(short) - matched)
    if matched >= MIN_WORDS and any(tuple(seen[-len(s) :]) == s for s in RESOURCE_STATES):
        return max(bound, 1.0)
    return bound


def containment(known: Sequence[str], seen: Sequence[str]) -> float:
    """How well the shorter of two word sequences is found inside the longer one, in [0, 1]."""
    short, long = (known, seen) if len(known) <= len(seen) else (seen, known)
    if not short:
        return 0.0
    matched = common(short, long)
    if matched < 2:
        return 0.0  # one word in common is no resemblance
    missing = len(short) - matched
    score = (BASE + (1 - BASE) * matched / len(long)) * 0.5**missing
    return score * 0.5 if len(short) < MIN_WORDS else score


def unaligned(known: Sequence[str], seen: Sequence[str]) -> tuple[str, ...]:
    """The words of the shorter phrase left out of a longest common subsequence with the longer:
    the ``missing`` words of :func:`containment`, named (for ``explain``; quadratic, so not used
    while matching)."""
    short, long = (known, seen) if len(known) <= len(seen) else (seen, known)
    # table[i][j]: the common subsequence of short[i:] and long[j:]
    table = [[0] * (len(long) + 1) for _ in range(len(short) + 1)]
    for i in range(len(short) - 1, -1, -1):
        for j in range(len(long) - 1, -1, -1):
            table[i][j] = (
                table[i + 1][j + 1] + 1
                if short[i] == long[j]
                else max(table[i + 1][j], table[i][j + 1])
            )
    out: list[str] = []
    i = j = 0
    while i < len(short):
        if j < len(long) and short[i] == long[j]:
            i, j = i + 1, j + 1
        elif j < len(long) and table[i][j + 1] >= table[i + 1][j]:
            j += 1
        else:
            out.append(short[i])
            i += 1
    return tuple(out)
