"""Fingerprints of error messages: the message with its variable parts masked.

A fingerprint is what two sightings of the *same* defect have in common once the values that change
from one sighting to the next (numbers, ids, addresses, paths, times...) are replaced by ``<*>``.

How a message becomes a fingerprint:

1. **Headline.** Only one line speaks for the message: the first non-blank line, except for a
   Python traceback (``Traceback (most recent call last):``) where the final exception line is the
   one that names the error. Stack frames below a headline vary with code versions and would split
   one defect into many, so they are left out. Runs of whitespace collapse to one space. At most
   :data:`MAX_TOKENS` tokens are kept, so a 10 MB message costs no more than a long line.
2. **Tokens.** The headline is split on whitespace.
3. **Masking.** Each token is classified on its own, in linear time (no regex that can backtrack
   runs over the whole message), and the result is cached per token:

   - whole-field variables: URLs (``scheme://...``), file paths (``/var/log/x``, ``~/x``,
     ``C:\\x``, ``a/b/c``), ``user@host.tld``, ``host:port``, IPv6 and MAC addresses
     (``fe80::1``, ``00:1a:2b:3c:4d:5e``), host names ending in a common or country TLD
     (``db.example.com``; not ``org.apache.Foo`` or ``rpc.statd``);
   - otherwise a field is cut at ``: @ # / \\`` and every piece holding a digit is a variable:
     numbers, hex ids, IPv4, UUIDs, durations (``15ms``), sizes (``4.2GiB``), dates and times,
     ``blk_-123``, ``eth0``; so is a run of 8+ hex letters (``deadbeefcafe``);
   - the value of ``key=value`` is a variable whatever it holds, and so is a quoted name
     (``'foo'``, ``"bar"``), an empty ``()``/``[]``/``''`` and any token over 512 characters;
   - a unit after a variable (``4096 bytes``, ``3 sec``) and date words next to one (``Sun Jul 3
     04:10:35 PDT 2005``) join it, then a run of variables becomes one ``<*>``, so a value that
     takes a varying number of tokens (``4096 bytes (4 KB)`` vs ``0 bytes``) does not split a defect.

   Variables are all shown as the untyped ``<*>``: typing them (``<num>``, ``<hex>``) would split
   one defect whenever an id happens to be all digits in one sighting and hex in the next. A token
   that is nothing but variables and punctuation (``(<*>)``, ``<*>,``) is shown as ``<*>``.
4. **Key.** The first 16 hex digits of the SHA-256 of the template (UTF-8): stable across processes,
   machines and Python versions.

Masking is deliberately local: a token without digits that still varies (a user name, a host name)
is left as is here and generalised later by :mod:`tracker_bridge.domain.matching`, which sees
several messages.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import lru_cache

from tracker_bridge.domain.events import identify

WILDCARD = "<*>"
"""How a variable part is shown in a template."""

MAX_TOKENS = 256
"""Tokens kept from the headline; beyond this, a message is long enough to be told apart."""

# Level 1 cuts a token into fields; level 2 cuts a field into pieces. Both patterns are plain
# character classes (or a run of dots), so splitting is linear in the token length.
_FIELDS = re.compile(r"([=,;()\[\]{}<>|\"'`]+|\.{2,})")
_PIECES = re.compile(r"([:@#/\\]+)")
_DIGIT = re.compile(r"\d")
# key="a value with spaces": one value, masked whole (the quotes stay, so the key keeps its shape).
_QUOTED_VALUE = re.compile(r"=(\"[^\"]{0,200}\"|'[^']{0,200}')")
# A quoted identifier without digits names a thing (a constraint, a key, a state): it stays.
_QUOTED_NAME = re.compile(r"[A-Za-z_][A-Za-z_.-]{0,63}")
# Letters and a short number that make one name: "eth0", "awdl0", "ext4" -> "eth<*>", "ext<*>".
_NAME_NUMBER = re.compile(r"([A-Za-z]{2,})(\d{1,2})")
# An identifier whose words may end in a small number: "ext4_journal_check_start", "ip6_output".
# Also dotted: "psycopg2.errors.UniqueViolation", "com.example.log4j.Logger".
_IDENTIFIER = re.compile(r"[A-Za-z][A-Za-z]*\d{0,3}(?:[_.][A-Za-z][A-Za-z]*\d{0,3})+")
# Technology names that hold a digit and are constants: IPv4 and IPv6 are different things.
_DIGIT_WORDS = frozenset(
    [
        "ipv4",
        "ipv6",
        "http2",
        "http3",
        "h2",
        "h2c",
        "utf8",
        "utf16",
        "utf32",
        "sha1",
        "sha224",
        "sha256",
        "sha384",
        "sha512",
        "md5",
        "base64",
        "x509",
        "pkcs12",
        "ext2",
        "ext3",
        "ext4",
        "x86",
        "x86_64",
        "amd64",
        "arm64",
        "aarch64",
        "s3",
        "ec2",
        "k8s",
        "int8",
        "int16",
        "int32",
        "int64",
        "uint8",
        "uint16",
        "uint32",
        "uint64",
        "float32",
        "float64",
        "log4j",
        "oauth2",
        "tls1",
        "sslv3",
        "ipv4only",
    ]
)
_BRACKETED_PORT = re.compile(r"\[[0-9A-Fa-f:.]+\]:(\d{1,5})([.,;:!?)\]}>]*)")
# A name with generated suffixes: Kubernetes pods ("api-7f9c8d6b5-x2x9k"), numbered replicas.
_WORKLOAD = re.compile(r"((?:[A-Za-z]{2,}-)+)(?=[A-Za-z]*\d)")
_EPHEMERAL_PORT = 32768
"""Ports from here up are clients' (ephemeral); below, a port names the service (5432, 6379)."""
_SECOND_LEVELS = frozenset({"com", "co", "edu", "ac", "gov", "net", "org", "ne", "or", "go"})
_SOURCE_SUFFIXES = frozenset({"mm", "cc", "hh", "py", "rs", "sh", "md", "pl", "so", "js", "ts"})
_LONG_TOKEN = 512
_HEXLETTERS = frozenset("abcdefABCDEF")
_HEXDIGITS = frozenset("0123456789abcdefABCDEF")
_QUOTES = {"'": "'", '"': '"', "`": "`", "\u2018": "\u2019", "\u201c": "\u201d"}
_OPENERS = "([{<"
_TRAILERS = ".,;:!?)]}>"
_EMPTY_VALUES = frozenset({"()", "[]", "{}", "''", '""', "<>"})
_TLDS = frozenset(
    [
        "com",
        "net",
        "org",
        "edu",
        "gov",
        "mil",
        "int",
        "io",
        "info",
        "biz",
        "local",
        "localdomain",
        "internal",
        "lan",
        "corp",
        "home",
        "cloud",
        "dev",
        "app",
        "ai",
        "co",
        "svc",
    ]
)
# Words that are part of a timestamp when they stand next to a number: "Sun Jul 3 04:10:35 PDT".
_DATE_WORDS = frozenset(
    [
        "mon",
        "tue",
        "wed",
        "thu",
        "fri",
        "sat",
        "sun",
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
        "jan",
        "feb",
        "mar",
        "apr",
        "may",
        "jun",
        "jul",
        "aug",
        "sep",
        "sept",
        "oct",
        "nov",
        "dec",
        "january",
        "february",
        "march",
        "april",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
        "am",
        "pm",
        "utc",
        "gmt",
        "z",
        "cet",
        "cest",
        "eet",
        "eest",
        "wet",
        "west",
        "bst",
        "ist",
        "jst",
        "kst",
        "msk",
        "est",
        "edt",
        "cst",
        "cdt",
        "mst",
        "mdt",
        "pst",
        "pdt",
        "akst",
        "akdt",
        "hst",
    ]
)
# Units that belong to the number before them: "4096 bytes", "12.5 MB", "3 sec".
_UNITS = frozenset(
    [
        "b",
        "byte",
        "bytes",
        "kb",
        "kib",
        "mb",
        "mib",
        "gb",
        "gib",
        "tb",
        "tib",
        "pb",
        "pib",
        "k",
        "m",
        "g",
        "t",
        "kbps",
        "mbps",
        "gbps",
        "ns",
        "us",
        "µs",
        "ms",
        "s",
        "sec",
        "secs",
        "second",
        "seconds",
        "min",
        "mins",
        "minute",
        "minutes",
        "h",
        "hr",
        "hrs",
        "hour",
        "hours",
        "d",
        "day",
        "days",
        "ms.",
        "s.",
        "sec.",
        "min.",
        "%",
        "percent",
    ]
)


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """The masked form of a message.

    ``key`` is 16 lowercase hex digits (a truncated SHA-256 of ``template``), fit for labels such as
    ``bridge-fp-<key>``. ``template`` is the headline with variables shown as ``<*>``; ``tokens``
    is the same template split on spaces.
    """

    key: str
    template: str
    tokens: tuple[str, ...]


def headline(message: str) -> str:
    """The one line of ``message`` that names the error, whitespace collapsed.

    See :func:`tracker_bridge.domain.events.identify`: the exception line of a stack trace, the
    principal line of a multi-line event, a log line without its header.
    """
    return identify(message).line


@lru_cache(maxsize=1 << 14)
def template_key(template: str) -> str:
    """The 16-hex-digit key of a template (deterministic across processes and machines)."""
    return hashlib.sha256(template.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def fingerprint(message: str) -> Fingerprint:
    """Mask the variable parts of ``message`` and key the result.

    >>> fingerprint("disk /dev/sda1 full after 15 ms").template
    'disk <*> full after <*>'
    """
    line = headline(message)
    if "='" in line or '="' in line:
        line = _QUOTED_VALUE.sub(_quoted_value, line)
    raw = [tok for tok in line.split(" ") if tok][:MAX_TOKENS]
    tokens = _merge_variables(
        [_mask_short_token(tok) if len(tok) <= _LONG_TOKEN else WILDCARD for tok in raw]
    )
    template = " ".join(tokens)
    return Fingerprint(key=template_key(template), template=template, tokens=tuple(tokens))


def _quoted_value(found: re.Match[str]) -> str:
    quote = found[1][0]
    return f"={quote}*{quote}"


def event_fingerprints(message: str) -> tuple[Fingerprint, ...]:
    """The fingerprint of ``message`` first, then those of its companion lines (one event's lines).

    See :func:`tracker_bridge.domain.events.identify`: the OOM killer's pair and systemd's lines are
    one event; each line's fingerprint is recorded on the defect so each line alone reaches it.
    """
    event = identify(message)
    primary = fingerprint(message)
    return (primary, *(fingerprint(line) for line in event.companions))


def is_variable(token: str) -> bool:
    """Whether a (masked) token is, or holds, a variable."""
    return WILDCARD in token


def mask_token(token: str) -> str:
    """Mask the variable parts of one whitespace-free token.

    A token that is nothing but variables and punctuation (``(<*>)``, ``<*>,``) becomes ``<*>``,
    and so does a token longer than 512 characters (a blob, not a word).
    """
    if len(token) > _LONG_TOKEN:
        return WILDCARD
    return _mask_short_token(token)


@lru_cache(maxsize=1 << 16)
def _mask_short_token(token: str) -> str:
    # Cached: the same tokens recur from one log line to the next.
    if token.isalpha() and not _is_variable_piece(token):
        return token
    if token in _EMPTY_VALUES:
        return WILDCARD
    bracketed = _BRACKETED_PORT.fullmatch(token)
    if bracketed:  # "[2001:db8::1]:5432"
        port = bracketed[1]
        return (f"{WILDCARD}:{port}" if int(port) < _EPHEMERAL_PORT else WILDCARD) + bracketed[2]
    # Keep opening and closing punctuation visible while classifying: "(uid=0)" -> "(uid=<*>)".
    start, end = 0, len(token)
    while start < end and token[start] in _OPENERS:
        start += 1
    while end > start and token[end - 1] in _TRAILERS:
        end -= 1
    head, core, tail = token[:start], token[start:end], token[end:]
    if not core:
        return token
    if _is_quoted(core):
        inner = core[1:-1]
        masked = core if _QUOTED_NAME.fullmatch(inner) else WILDCARD
    else:
        masked = _mask_fields(core)
    if WILDCARD in masked and not any(ch.isalnum() for ch in masked.replace(WILDCARD, "")):
        return WILDCARD
    return head + masked + tail


def _merge_variables(tokens: list[str]) -> list[str]:
    """Fold units and date words into the variable beside them, then runs of variables into one.

    A value written in several tokens ("4096 bytes (4 KB)", "Sun Jul 3 04:10:35 2005") is one
    variable, and the number of tokens it takes must not tell two sightings apart.
    """
    if WILDCARD not in tokens:
        return tokens
    if any(map(_is_date_word, tokens)):
        tokens = list(tokens)
        n = len(tokens)
        # Date words are variables inside a run of date words and variables holding a variable.
        i = 0
        while i < n:
            j = i
            while j < n and (tokens[j] == WILDCARD or _is_date_word(tokens[j])):
                j += 1
            if j > i and WILDCARD in tokens[i:j]:
                tokens[i:j] = [WILDCARD] * (j - i)
            i = max(j, i + 1)
    out: list[str] = []
    after_variable = False
    for tok in tokens:
        if tok == WILDCARD:
            if after_variable:
                continue
            after_variable = True
        elif after_variable and _is_unit(tok):
            continue
        else:
            after_variable = False
        out.append(tok)
    return out


@lru_cache(maxsize=1 << 14)
def _is_date_word(token: str) -> bool:
    return _bare(token) in _DATE_WORDS


@lru_cache(maxsize=1 << 14)
def _is_unit(token: str) -> bool:
    return _bare(token) in _UNITS


def _bare(token: str) -> str:
    return token.strip(_OPENERS + _TRAILERS).lower()


def _is_quoted(core: str) -> bool:
    first = core[0]
    return first in _QUOTES and len(core) >= 2 and core[-1] == _QUOTES[first]


def _mask_fields(core: str) -> str:
    parts = _FIELDS.split(core)
    out: list[str] = []
    after_equals = False
    for i, part in enumerate(parts):
        if i % 2:  # a run of separators
            out.append(part)
            after_equals = "=" in part
            continue
        if not part:
            continue
        if after_equals and not (part.isalpha() and not _is_variable_piece(part)):
            # A value; a bare word after "=" is kept: it is an enum far more often than a name
            # (state=running, reason=OOMKilled, result=exit-code), and names differ softly.
            out.append(WILDCARD)
        elif (port := _service_port(part)) is not None:
            out.append(f"{WILDCARD}:{port}")
        elif _is_whole_variable(part):
            out.append(WILDCARD)
        else:
            out.append(_mask_pieces(part))
    return "".join(out)


def _is_whole_variable(field: str) -> bool:
    if "://" in field:  # URL
        return True
    first = field[0]
    if first in "/~" and len(field) > 1:  # absolute or home path
        return True
    if field.startswith(("./", "../")):
        return True
    if len(field) > 2 and field[1] == ":" and field[2] == "\\" and first.isalpha():
        return True  # Windows path
    if field.count("/") >= 2 or "\\" in field:  # relative path
        return True
    if ":" in field and _is_address(field):
        return True
    at = field.find("@")
    if 0 < at < len(field) - 1 and _is_hostname(field[at + 1 :].rstrip(".")):  # e-mail, user@host
        return True
    return _is_hostname(field.split(":", 1)[0]) and (":" not in field or _is_port(field))


def _service_port(field: str) -> str | None:
    """The port of ``host:port`` when it names a service (below the ephemeral range), else None.

    ``10.0.0.5:6379`` and ``10.0.0.7:5432`` are Redis and PostgreSQL: masking the port would merge
    two dependencies' outages into one defect.
    """
    host, sep, port = field.rpartition(":")
    if not sep or not port.isdigit() or len(port) > 5 or not _is_named_host(host):
        return None
    return port if int(port) < _EPHEMERAL_PORT else None


def _is_named_host(host: str) -> bool:
    if host.lower() == "localhost" or _is_hostname(host):
        return True
    parts = host.split(".")
    if len(parts) == 4 and all(p.isdigit() and len(p) <= 3 for p in parts):
        return True  # IPv4
    if "/" in host:  # Kafka's "kafka-2.kafka.svc/10.0.0.5"
        return all(_is_named_host(h) for h in host.split("/") if h)
    return False


def _is_port(field: str) -> bool:
    port = field.rsplit(":", 1)[1]
    return port.isdigit()


def _is_address(field: str) -> bool:
    """IPv6 or MAC (hex groups joined by colons), or host:port."""
    groups = field.split(":")
    if len(groups) >= 3 and all(all(ch in _HEXDIGITS for ch in g) for g in groups):
        return True
    host, _, port = field.rpartition(":")
    # "db.example.com:5432", "10.0.0.1:80", "localhost:8080"; not "onExtend:1514038530000".
    return port.isdigit() and _is_named_host(host)


def _is_hostname(name: str) -> bool:
    labels = name.split(".")
    if len(labels) < 2 or not all(labels):
        return False
    tld = labels[-1]
    if not (tld.isalpha() and tld.islower()):
        return False
    if tld in _TLDS:
        return True
    # Country-code domains (proxy.cs.example.edu.hk, www.example.de), not source files
    # (Foo.View.mm) or dotted identifiers (mapred.tip.id): a two-letter ending is a country only
    # behind a usual second level, a "www", or four labels and more.
    if len(tld) != 2 or len(labels) < 3 or tld in _SOURCE_SUFFIXES:
        return False
    return labels[-2] in _SECOND_LEVELS or labels[0] == "www" or len(labels) >= 4


def _mask_pieces(field: str) -> str:
    parts = _PIECES.split(field)
    out: list[str] = []
    for i, part in enumerate(parts):
        if i % 2:
            out.append(part)
        elif part and _is_variable_piece(part) and not _is_constant_piece(part):
            named = _NAME_NUMBER.fullmatch(part)
            if named and not all(ch in _HEXDIGITS for ch in part):
                out.append(named[1] + WILDCARD)
                continue
            workload = _WORKLOAD.match(part)
            if workload:  # "api-7f9c8d6b5-x2x9k", "worker-12": the name stays, the suffix varies
                out.append(workload[1] + WILDCARD)
                continue
            if len(out) >= 2 and out[-2] == WILDCARD and all(ch in ":/" for ch in out[-1]):
                # "12:30:45", "2016/9/27": one variable, not several.
                out.pop()
                continue
            out.append(WILDCARD)
        else:
            out.append(part)
    return "".join(out)


def _is_constant_piece(piece: str) -> bool:
    """A name holding a digit that is not a value: ``IPv4``, ``ext4_journal_check_start``."""
    if piece.lower() in _DIGIT_WORDS or _IDENTIFIER.fullmatch(piece) is not None:
        return True
    words = piece.split("-")
    return len(words) > 1 and all(w.lower() in _DIGIT_WORDS or (w.isalpha()) for w in words)


def _is_variable_piece(piece: str) -> bool:
    if _DIGIT.search(piece):
        return True
    return len(piece) >= 8 and all(ch in _HEXLETTERS for ch in piece)
