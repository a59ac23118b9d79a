"""Scrub secrets from evidence text before it leaves the machine.

Every match is replaced by a marker naming its kind, ``[REDACTED:<kind>]``; everything that is not
a secret is kept byte for byte (line structure, the key in ``password=...``, the user and host of a
URL), so a reader still sees *what* was there. Callers learn which kinds were redacted and how
many, never the values.

Library decision: the patterns are ours. ``detect-secrets`` (Yelp, 1.5.0, last release May 2024)
was evaluated side by side (``benchmarks/redaction.py``) and rejected for this job:

* it reports *lines* and secret values, not match spans, so we would still have to find and
  replace each value ourselves (and its GitHub plugin reports the value ``ghp`` rather than the
  token, so the value cannot be trusted for that either);
* it misses formats the requirement names (URL passwords of non-basic-auth schemes, Azure SAS
  signatures, bearer headers, ODBC/JDBC passwords, multi-line private key *bodies*);
* without its filters its entropy plugins flag ordinary words (``curl``, ``Bearer``, ``-H``), and
  with them it is slow: about 0.3 MB/s on log text against tens of MB/s here;
* it pulls in ``pyyaml`` and ``requests`` for what is a pure function.

The token formats (prefixes, alphabets, lengths) follow the rule set of gitleaks (MIT), which is
the best-maintained public catalogue of them; the keyword-assignment and connection-string rules
are our own, written for logs and command output rather than source code.

Linear time: Python's ``re`` backtracks, so every rule is written to bound the work done at one
start position (bounded or possessive quantifiers, and a look-behind so a run of token characters
is only tried at its first character), and the private key scan is a single forward pass.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass

__all__ = ["KINDS", "Redacted", "marker", "redact_bytes", "redact_text", "summary"]

KINDS: tuple[str, ...] = (
    "api-key-assignment",
    "auth-header",
    "aws-access-key",
    "aws-secret-key",
    "azure-connection-string",
    "azure-sas-token",
    "azure-storage-key",
    "basic-auth",
    "bearer-token",
    "db-connection-string",
    "gcp-api-key",
    "gcp-service-account-key",
    "github-token",
    "gitlab-token",
    "jwt",
    "password-assignment",
    "private-key",
    "secret-assignment",
    "slack-token",
    "slack-webhook",
    "stripe-key",
    "token-assignment",
    "url-credentials",
)

_MARKER_PREFIX = "[REDACTED:"

# Binary detection: a NUL byte, or more than this fraction of bytes that are not valid UTF-8.
_MAX_INVALID_FRACTION = 0.01


def marker(kind: str) -> str:
    """Return the text that replaces a secret of ``kind``."""
    return f"{_MARKER_PREFIX}{kind}]"


@dataclass(frozen=True, slots=True)
class Redacted:
    """The outcome of scrubbing one piece of evidence."""

    data: bytes
    counts: tuple[tuple[str, int], ...]
    scanned: bool

    @property
    def total(self) -> int:
        """How many secrets were redacted, all kinds together."""
        return sum(n for _, n in self.counts)


# --------------------------------------------------------------------------------------------
# Rules

_Kind = str | Callable[[re.Match[str]], str]
_Accept = Callable[[re.Match[str], str], bool]


@dataclass(frozen=True, slots=True)
class _Rule:
    kind: _Kind
    pattern: re.Pattern[str]
    accept: _Accept | None = None
    # Lower-case strings one of which every match contains: a pass is skipped when none occurs,
    # which is most passes on ordinary logs.
    needles: tuple[str, ...] = ()


def _always(_m: re.Match[str], _value: str) -> bool:
    return True


# Not preceded by a token character: a long run of such characters is tried once, at its start.
_NB = r"(?<![A-Za-z0-9_\-])"
_NA = r"(?![A-Za-z0-9_\-])"
_NOT_MARKER = r"(?!\[REDACTED:)"

_DB_SCHEMES = frozenset(
    {
        "postgres",
        "postgresql",
        "postgis",
        "mysql",
        "mysql2",
        "mysqlx",
        "mariadb",
        "mongodb",
        "redis",
        "rediss",
        "amqp",
        "amqps",
        "mssql",
        "sqlserver",
        "oracle",
        "cockroachdb",
        "clickhouse",
        "couchdb",
        "neo4j",
        "bolt",
        "cassandra",
        "memcached",
        "db2",
        "snowflake",
        "ldap",
        "ldaps",
    }
)


def _url_kind(m: re.Match[str]) -> str:
    scheme = m.group("scheme").lower().split("+", 1)[0]
    return "db-connection-string" if scheme in _DB_SCHEMES else "url-credentials"


_PLACEHOLDER = re.compile(
    r"""(?ix)
    \$\{[^}]*\} | \$[a-z_][a-z0-9_]* | \{\{.*\}\} | %\(?[a-z_]*\)?s | <[^>]*> | \*+ | x{3,} | \.{3,}
    | null | none | nil | true | false | undefined | n/a | redacted | masked | hidden | omitted
    | [|>][-+]?[0-9]?
    """
)


def _plausible_value(m: re.Match[str], value: str) -> bool:
    """Reject values that are references, placeholders or already masked, not secrets."""
    if _PLACEHOLDER.fullmatch(value.strip()) or _MARKER_PREFIX in value:
        return False
    return not value.startswith("-----BEGIN")


def _kw_kind(m: re.Match[str]) -> str:
    if m.group("pw") is not None:
        return "password-assignment"
    if m.group("sec") is not None:
        return "secret-assignment"
    if m.group("tok") is not None:
        return "token-assignment"
    return "api-key-assignment"


def _kw_accept(m: re.Match[str], value: str) -> bool:
    if not _plausible_value(m, value):
        return False
    if m.group("pw") is not None:
        # PWD=/home/alice in an environment dump is the working directory, not a password.
        return not (m.group("pw").lower() == "pwd" and value[:1] in "/~")
    # A "token" of a few characters or a plain number is a count, an id or a flag.
    return len(value) >= 8 and not value.isdigit()


_KEYWORD = r"""
    (?P<kw>
        (?P<pw>passw(?:or)?d|passphrase|pwd)
      | (?P<sec>secret(?:[_.\-]?key)?)
      | (?P<tok>token)
      | (?P<key>(?:api|access|private|account|master|encryption|signing|client|app|auth|storage
                 |subscription)[_.\-]?key)
    )
"""

_VALUE = r"""
    (?:
        (?P<ph>\$\{[^}\n]{0,200}\}|\{\{[^}\n]{0,200}\}\}|<[^<>\n]{1,100}>|\[REDACTED:[a-z0-9\-]{1,40}\]
              |-----BEGIN)
      | \\"(?P<s1>[^"\\\n]{1,4096}+)\\"
      | "(?P<s2>(?:[^"\\\n]|\\.){1,4096}+)"
      | '(?P<s3>[^'\n]{1,4096}+)'
      | (?P<s4>[^\s"'`,;&<>)}\]]++)
    )
"""

_ASSIGNMENT = re.compile(
    # The look-ahead on the keywords' first letters lets the engine skip most positions cheaply.
    r"(?ix)(?=[pstamec])"
    + _KEYWORD
    + r"""
    (?:\\?["'])?                     # closing quote of a JSON / quoted key
    [\ \t]*
    (?: := | => | :(?![:=]) | =(?![=>]) )
    [\ \t]*
    """
    + _VALUE
)

_FLAG = re.compile(r"(?ix) (?<![\w\-]) --?[a-z0-9_\-]{0,40}?" + _KEYWORD + r"[\ \t]+(?!-)" + _VALUE)


def _xml_kind(m: re.Match[str]) -> str:
    tag = m.group("tag").lower()
    for needle, kind in (
        ("pass", "password-assignment"),
        ("pwd", "password-assignment"),
        ("secret", "secret-assignment"),
        ("token", "token-assignment"),
    ):
        if needle in tag:
            return kind
    return "api-key-assignment"


def _basic_accept(m: re.Match[str], value: str) -> bool:
    """``Basic xyz`` outside a header is prose unless xyz decodes to ``user:password``."""
    try:
        decoded = base64.b64decode(value + "=" * (-len(value) % 4), validate=True)
        text = decoded.decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return False
    return ":" in text and text.isprintable()


def _bearer_accept(m: re.Match[str], value: str) -> bool:
    # "bearer" is also an English word; real tokens carry digits or are long.
    return any(c.isdigit() for c in value) or len(value) >= 24


_SAS_CONTEXT = re.compile(r"[?&;](?:sv|se|sp|sr|skn|spr|srt|ss)=")


def _sas_accept(m: re.Match[str], value: str) -> bool:
    around = m.string[max(0, m.start() - 600) : m.end() + 600]
    return _SAS_CONTEXT.search(around) is not None


def _curl_user_accept(m: re.Match[str], value: str) -> bool:
    # ``docker run -u 1000:1000`` is a uid:gid pair, not credentials.
    return not value.isdigit() and _plausible_value(m, value)


_AWS_KEY_ID = r"(?:AKIA|ASIA|ABIA|ACCA|A3T[A-Z0-9])[A-Z0-9]{16}"

# Order matters: specific formats first, so a token inside ``token=...`` is named for what it is;
# later rules skip values that already start with a marker.
_RULES: tuple[_Rule, ...] = (
    # Credentials in URLs: keep scheme, user and host, redact the password.
    _Rule(
        _url_kind,
        re.compile(
            r"(?<![A-Za-z0-9+.\-])(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]{1,30})://"
            r"(?P<user>[^\s:/?#@\"'<>\[\]]{0,256}):"
            # "#" is allowed: unencoded it breaks the URL, but logs are full of such URLs.
            r"(?P<s>" + _NOT_MARKER + r"[^\s/?\"'<>]{1,256})@(?=[A-Za-z0-9\[_\-])"
        ),
        needles=("://",),
    ),
    _Rule(
        "db-connection-string",
        re.compile(
            r"(?i)\bjdbc:oracle:[a-z]{1,10}:(?P<user>[^\s/@:\"']{1,128})/"
            r"(?P<s>" + _NOT_MARKER + r"[^\s@\"']{1,256})@"
        ),
        needles=("jdbc:",),
    ),
    _Rule(
        "db-connection-string",
        re.compile(
            r"(?i)\bjdbc:[^\s\"'<>]{1,512}?[?&;:]password="
            r"(?P<s>" + _NOT_MARKER + r"[^\s&;\"'<>]{1,256})"
        ),
        needles=("jdbc:",),
    ),
    _Rule(
        "aws-secret-key",
        re.compile(
            r"(?<![A-Za-z0-9])" + _AWS_KEY_ID + r"[ \t]*[,;:|\t][ \t]*[\"']?"
            r"(?P<s>[A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])"
        ),
        needles=("akia", "asia", "abia", "acca", "a3t"),
    ),
    _Rule(
        "aws-secret-key",
        re.compile(
            r"(?i)(?:aws[_.\-]?secret[_.\-]?(?:access[_.\-]?)?key|secret[_.\-]?access[_.\-]?key)"
            r"(?:\\?[\"'])?(?:[ \t]*(?::=|=>|[:=])[ \t]*|[ \t]+)\\?[\"']?"
            r"(?P<s>[A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])"
        ),
        needles=("key",),
    ),
    _Rule(
        "aws-access-key",
        re.compile(r"(?<![A-Za-z0-9])(?P<s>" + _AWS_KEY_ID + r")(?![A-Za-z0-9])"),
        needles=("akia", "asia", "abia", "acca", "a3t"),
    ),
    _Rule(
        "gcp-api-key",
        re.compile(_NB + r"(?P<s>AIza[0-9A-Za-z_\-]{35})" + _NA),
        needles=("aiza",),
    ),
    _Rule(
        "azure-storage-key",
        re.compile(
            r"(?i)(?:AccountKey|storage[_.\-]?(?:account[_.\-]?)?(?:access[_.\-]?)?key)"
            r"[\"']?[ \t]*[:=][ \t]*[\"']?(?P<s>[A-Za-z0-9+/]{86}==)"
        ),
        needles=("key",),
    ),
    _Rule(
        "azure-connection-string",
        re.compile(r"(?i)\bSharedAccessKey[ \t]*=[ \t]*(?P<s>[A-Za-z0-9+/]{20,100}+={0,2}+)"),
        needles=("sharedaccesskey",),
    ),
    _Rule(
        "azure-sas-token",
        re.compile(r"[?&;]sig=(?P<s>" + _NOT_MARKER + r"[A-Za-z0-9%+/=]{30,200}+)"),
        _sas_accept,
        needles=("sig=",),
    ),
    _Rule(
        "github-token",
        re.compile(
            r"(?<![A-Za-z0-9_])(?P<s>gh[pousr]_[A-Za-z0-9]{36,251}+|github_pat_[A-Za-z0-9_]{22,251}+)"
            r"(?![A-Za-z0-9_])"
        ),
        needles=("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"),
    ),
    _Rule(
        "gitlab-token",
        re.compile(
            _NB + r"(?P<s>gl(?:pat|dt|rt|ptt|cbt|oas|soat|ffct|imt|agent)-"
            r"[A-Za-z0-9_\-]{20,300}+(?:\.[A-Za-z0-9_\-]{1,100}+){0,4})"
        ),
        needles=(
            "glpat-",
            "gldt-",
            "glrt-",
            "glptt-",
            "glcbt-",
            "gloas-",
            "glsoat-",
            "glffct-",
            "glimt-",
            "glagent-",
        ),
    ),
    _Rule(
        "slack-webhook",
        re.compile(
            r"(?i)https?://hooks\.slack\.com/(?:services|workflows|triggers)/"
            r"(?P<s>" + _NOT_MARKER + r"[A-Za-z0-9+/_\-]{20,300}+)"
        ),
        needles=("hooks.slack.com",),
    ),
    _Rule(
        "slack-token",
        re.compile(_NB + r"(?P<s>(?:xox[abposr]|xapp)-[0-9A-Za-z\-]{10,250}+)"),
        needles=("xox", "xapp-"),
    ),
    _Rule(
        "stripe-key",
        re.compile(
            r"(?<![A-Za-z0-9_])(?P<s>(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{10,247}+"
            r"|whsec_[A-Za-z0-9]{24,247}+)(?![A-Za-z0-9_])"
        ),
        needles=("sk_live_", "sk_test_", "rk_live_", "rk_test_", "whsec_"),
    ),
    _Rule(
        "jwt",
        re.compile(
            _NB + r"(?P<s>eyJ[A-Za-z0-9_\-]{5,}+\.eyJ[A-Za-z0-9_\-]{5,}+\.[A-Za-z0-9_\-]*+)" + _NA
        ),
        needles=("eyj",),
    ),
    # Authorization headers.
    _Rule(
        "bearer-token",
        re.compile(
            r"(?i)(?<![A-Za-z0-9])bearer[ \t]+(?P<s>"
            + _NOT_MARKER
            + r"[A-Za-z0-9._~+/\-]{16,}+=*+)"
        ),
        _bearer_accept,
        needles=("bearer",),
    ),
    _Rule(
        "basic-auth",
        re.compile(r"(?i)(?<![A-Za-z0-9])basic[ \t]+(?P<s>[A-Za-z0-9+/]{6,}+={0,2}+)"),
        _basic_accept,
        needles=("basic",),
    ),
    _Rule(
        "auth-header",
        re.compile(
            r"(?i)\b(?:proxy-)?authorization\\?[\"']?[ \t]*[:=][ \t]*\\?[\"']?"
            r"(?!(?:bearer|basic|digest)\b)"
            r"(?:(?:token|apikey|api-key|jwt|ssws|negotiate|ntlm|key|sso-key)[ \t]+)?"
            r"(?P<s>" + _NOT_MARKER + r"[^\s\"',;]{8,}+)"
        ),
        _plausible_value,
        needles=("authorization",),
    ),
    _Rule(
        "basic-auth",
        re.compile(
            r"(?<![\w\-])(?:-u|--user)(?:[ \t]+|=)[\"']?"
            # A user that an earlier rule already redacted (a token) still hides the password.
            r"(?P<user>\[REDACTED:[a-z0-9\-]{1,40}\]|[^\s:\"'\-\[\]][^\s:\"'\[\]]{0,255}):"
            r"(?P<s>" + _NOT_MARKER + r"[^\s\"']{1,256})"
        ),
        _curl_user_accept,
        needles=("-u",),
    ),
    # ODBC / ADO.NET connection strings: "...;Password=...;" (a leading Password= falls through
    # to the password-assignment rule below).
    _Rule(
        "db-connection-string",
        re.compile(
            r"(?i)(?:(?<=;)|(?<=;[ \t]))(?:password|pwd)[ \t]*=[ \t]*"
            r"(?P<s>" + _NOT_MARKER + r"\{[^}\n]{1,256}\}|[^;\n\"'{][^;\n\"']{0,255})"
        ),
        _plausible_value,
        needles=("password", "pwd"),
    ),
    # Keyword assignments: env, YAML, JSON, query strings, CLI flags, XML, SQL, .netrc.
    _Rule(_kw_kind, _ASSIGNMENT, _kw_accept, needles=("pass", "pwd", "secret", "token", "key")),
    _Rule(_kw_kind, _FLAG, _kw_accept, needles=("pass", "pwd", "secret", "token", "key")),
    _Rule(
        _xml_kind,
        re.compile(
            r"(?i)<(?P<tag>[a-z0-9_.:\-]{0,40}?(?:password|passwd|secret|token|api[_\-]?key))>"
            r"(?P<s>" + _NOT_MARKER + r"[^<\n]{1,4096}+)</(?P=tag)>"
        ),
        _plausible_value,
        needles=("pass", "pwd", "secret", "token", "key"),
    ),
    _Rule(
        "password-assignment",
        re.compile(
            r"(?i)\bidentified[ \t]+by[ \t]+(?:password[ \t]+)?(?P<q>['\"])"
            r"(?P<s>" + _NOT_MARKER + r"[^'\"\n]{1,256}+)(?P=q)"
        ),
        needles=("identified",),
    ),
    _Rule(
        "password-assignment",
        re.compile(
            r"(?i)\bmachine[ \t]+\S{1,256}+[ \t]+login[ \t]+\S{1,256}+[ \t]+password[ \t]+"
            r"(?P<s>" + _NOT_MARKER + r"\S{1,256}+)"
        ),
        needles=("machine",),
    ),
)

_VALUE_GROUPS = ("s", "s1", "s2", "s3", "s4")


def _secret_span(m: re.Match[str]) -> tuple[int, int] | None:
    groups = m.re.groupindex
    for name in _VALUE_GROUPS:
        if name in groups and m.start(name) != -1:
            return m.span(name)
    return None


def _inside_marker(text: str, pos: int) -> bool:
    """Whether ``pos`` falls inside a marker, whose ``:`` and ``]`` some rules would misread."""
    opened = text.rfind(_MARKER_PREFIX, max(0, pos - 64), pos)
    return opened != -1 and text.find("]", opened, pos) == -1


def _apply(rule: _Rule, text: str, counts: Counter[str]) -> str:
    accept = rule.accept or _always

    def replace(m: re.Match[str]) -> str:
        span = _secret_span(m)
        if span is None or span[0] == span[1]:
            return m.group(0)
        value = m.string[span[0] : span[1]]
        if _MARKER_PREFIX in value or _inside_marker(m.string, span[0]) or not accept(m, value):
            return m.group(0)
        kind = rule.kind if isinstance(rule.kind, str) else rule.kind(m)
        counts[kind] += 1
        return m.string[m.start() : span[0]] + marker(kind) + m.string[span[1] : m.end()]

    return rule.pattern.sub(replace, text)


# --------------------------------------------------------------------------------------------
# Private key blocks (multi-line, possibly with escaped newlines inside JSON)

_PK_BEGIN = re.compile(r"-----BEGIN[ A-Z0-9]{0,40}PRIVATE KEY(?: BLOCK)?-----")
_PK_END = re.compile(r"-----END[ A-Z0-9]{0,40}PRIVATE KEY(?: BLOCK)?-----")
# What may stand between BEGIN and END: base64, whitespace, escaped newlines, PEM headers.
_PK_BAD_CHAR = re.compile(r"[^A-Za-z0-9+/=\s\\:,\-]")
# A block cut off before its END line: the base64 lines that follow BEGIN.
_PK_TAIL = re.compile(r"(?:[ \t]*(?:\r?\n|\\r?\\n)[ \t]*[A-Za-z0-9+/=]{8,}+)*+")
_PK_LINE = re.compile(r"([ \t]*)(.*?)([ \t]*\r?)", re.DOTALL)
_GCP_CONTEXT = re.compile(r"\"private_key\\?\"[ \t]*:[ \t]*\\?\"$")
_MAX_KEY_BODY = 64 * 1024


def _blank_key_body(body: str, mark: str) -> str | None:
    """Replace the content of a key body by one marker, keeping its line structure."""
    out: list[str] = []
    placed = False
    for line in body.split("\n"):
        m = _PK_LINE.fullmatch(line)
        assert m is not None  # the pattern matches any line
        indent, content, trail = m.groups()
        if not content:
            out.append(line)
        elif not placed:
            out.append(indent + mark + trail)
            placed = True
        else:
            out.append(indent + trail)
    return "\n".join(out) if placed else None


def _redact_private_keys(text: str, counts: Counter[str]) -> str:
    pieces: list[str] = []
    pos = 0
    end: re.Match[str] | None = None
    end_missing = False
    bad_at = -1
    while (begin := _PK_BEGIN.search(text, pos)) is not None:
        body_start = begin.end()
        # Each search moves forward and a missing END stays missing: one pass over the text.
        if not end_missing and (end is None or end.start() < body_start):
            end = _PK_END.search(text, body_start)
            end_missing = end is None
        terminated = False
        if end is not None and end.start() - body_start <= _MAX_KEY_BODY:
            if body_start <= bad_at < end.start():
                terminated = False
            else:
                bad = _PK_BAD_CHAR.search(text, body_start, end.start())
                bad_at = bad.start() if bad is not None else bad_at
                terminated = bad is None
        if terminated and end is not None:
            body_end, resume = end.start(), end.end()
        else:
            tail = _PK_TAIL.match(text, body_start)
            body_end = resume = tail.end() if tail is not None else body_start
        gcp = _GCP_CONTEXT.search(text, max(0, begin.start() - 64), begin.start()) is not None
        kind = "gcp-service-account-key" if gcp else "private-key"
        blanked = _blank_key_body(text[body_start:body_end], marker(kind))
        pieces.append(text[pos:body_start])
        if blanked is None:
            pieces.append(text[body_start:resume])
        else:
            counts[kind] += 1
            pieces.append(blanked + text[body_end:resume])
        pos = max(resume, body_start)
    if not pieces:
        return text
    pieces.append(text[pos:])
    return "".join(pieces)


# No regex rule matches across a newline, so text is scanned in chunks of whole lines and each
# rule runs only on chunks that contain one of its needles.
_CHUNK_CHARS = 16 * 1024


def _line_chunks(text: str) -> Iterable[str]:
    start = 0
    while start < len(text):
        cut = text.find("\n", start + _CHUNK_CHARS)
        end = len(text) if cut == -1 else cut + 1
        yield text[start:end]
        start = end


def _redact_chunk(chunk: str, counts: Counter[str]) -> str:
    # Markers only add needles, never remove one that a later rule needs, so one lowering will do.
    lowered = chunk.lower()
    for rule in _RULES:
        if any(needle in lowered for needle in rule.needles):
            chunk = _apply(rule, chunk, counts)
    return chunk


# --------------------------------------------------------------------------------------------
# Public API


def redact_text(text: str) -> tuple[str, tuple[tuple[str, int], ...]]:
    """Redact secrets in ``text``.

    Returns the redacted text and ``(kind, count)`` pairs sorted by kind (empty when nothing was
    found). Text that is not a secret is returned unchanged; redacting the result again changes
    nothing.
    """
    counts: Counter[str] = Counter()
    if "-----BEGIN" in text:
        text = _redact_private_keys(text, counts)
    pieces = [_redact_chunk(chunk, counts) for chunk in _line_chunks(text)]
    text = "".join(pieces)
    return text, tuple(sorted(counts.items()))


def _decode_utf16(data: bytes) -> tuple[str, str] | None:
    """Decode UTF-16 with a BOM (PowerShell's default redirection encoding), else None."""
    for bom, codec in ((b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be")):
        if data.startswith(bom) and len(data) % 2 == 0:
            try:
                return data[2:].decode(codec), codec
            except UnicodeDecodeError:
                return None
    return None


def redact_bytes(data: bytes) -> Redacted:
    """Redact secrets in a file's bytes.

    Text (UTF-8, tolerating a few invalid bytes, or UTF-16 with a byte-order mark) is scanned and
    re-encoded so that every byte outside a secret is unchanged. Anything else is treated as
    binary: returned untouched with ``scanned=False`` so the caller can report it as unscanned.
    """
    utf16 = _decode_utf16(data)
    if utf16 is not None:
        text, codec = utf16
        redacted, counts = redact_text(text)
        if not counts:
            return Redacted(data, (), True)
        return Redacted(data[:2] + redacted.encode(codec), counts, True)
    if b"\x00" in data:
        return Redacted(data, (), False)
    text = data.decode("utf-8", errors="surrogateescape")
    if len(text) != len(data):  # only then can there be escaped bytes to count
        invalid = sum(1 for c in text if "\udc80" <= c <= "\udcff")
        if invalid > max(1, len(data) * _MAX_INVALID_FRACTION):
            return Redacted(data, (), False)
    redacted, counts = redact_text(text)
    if not counts:
        return Redacted(data, (), True)
    return Redacted(redacted.encode("utf-8", errors="surrogateescape"), counts, True)


def summary(counts: Iterable[tuple[str, int]]) -> str:
    """Describe redaction counts for a person, e.g. ``2 aws-access-key, 1 password-assignment``."""
    parts = [f"{n} {kind}" for kind, n in sorted(counts) if n]
    return ", ".join(parts) if parts else "no secrets found"
