"""The rule table: what each family of secret looks like in logs, configs and command lines.

The token formats (prefixes, alphabets, lengths) follow the rule sets of gitleaks (MIT) and
TruffleHog, the best-maintained public catalogues of them; the keyword-assignment, command-line,
config-file and connection-string rules are our own, written for logs and command output rather
than source code.

Linear time: Python's ``re`` backtracks, so every rule bounds the work done at one start position
(bounded or possessive quantifiers, a look-behind so a run of token characters is only tried at
its first character). No rule matches across a newline, and no check looks past the line of its
match: that is what lets the text be scanned in any line-aligned pieces (see ``_text``).
"""

from __future__ import annotations

import base64
import binascii
import re

from tracker_bridge.domain.redaction._common import (
    NA,
    NB,
    NOT_MARKER,
    Rule,
    line_around,
    plausible_value,
)
from tracker_bridge.domain.redaction._tokens import TOKEN_RULES

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


def _kw_kind(m: re.Match[str]) -> str:
    if m.group("pw") is not None:
        return "password-assignment"
    if m.group("sec") is not None:
        return "secret-assignment"
    if m.group("tok") is not None:
        return "token-assignment"
    return "api-key-assignment"


# openssl / ansible passphrase sources name where a password is, not the password.
_PASS_SOURCE = re.compile(r"(?i)(?:env|file|fd):|stdin$")


def _kw_accept(m: re.Match[str], value: str) -> bool:
    if not plausible_value(m, value) or _PASS_SOURCE.match(value):
        return False
    if m.group("pw") is not None:
        # PWD=/home/alice in an environment dump is the working directory, not a password.
        return not (m.group("pw").lower() == "pwd" and value[:1] in "/~")
    # A "token" of a few characters or a plain number is a count, an id or a flag.
    return len(value) >= 8 and not value.isdigit()


_KEYWORD = r"""
    (?P<kw>
        (?P<pw>passw(?:or)?d|passphrase|pwd|(?<=[_.\-])pass(?![a-z]))
      | (?P<sec>secret(?:[_.\-]?key)?)
      | (?P<tok>token)
      | (?P<key>(?:api|access|private|account|master|encryption|signing|client|app|auth|storage
                 |subscription|license|licence|application)[_.\-]?key)
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
    r"(?ix)(?=[pstamecl])"
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
    around = line_around(m.string, m.start(), m.end())
    return _SAS_CONTEXT.search(around) is not None


def _curl_user_accept(m: re.Match[str], value: str) -> bool:
    # ``docker run -u 1000:1000`` is a uid:gid pair, not credentials.
    return not value.isdigit() and plausible_value(m, value)


_AWS_KEY_ID = r"(?:AKIA|ASIA|ABIA|ACCA|A3T[A-Z0-9])[A-Z0-9]{16}"

# Order matters: specific formats first, so a token inside ``token=...`` is named for what it is;
# later rules skip values that already start with a marker.
_FORMAT_RULES: tuple[Rule, ...] = (
    # Credentials in URLs: keep scheme, user and host, redact the password.
    Rule(
        _url_kind,
        re.compile(
            r"(?<![A-Za-z0-9+.\-])(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]{1,30})://"
            r"(?P<user>[^\s:/?#@\"'<>\[\]]{0,256}):"
            # "#" is allowed: unencoded it breaks the URL, but logs are full of such URLs.
            r"(?P<s>" + NOT_MARKER + r"[^\s/?\"'<>]{1,256})@(?=[A-Za-z0-9\[_\-])"
        ),
        needles=("://",),
    ),
    Rule(
        "db-connection-string",
        re.compile(
            r"(?i)\bjdbc:oracle:[a-z]{1,10}:(?P<user>[^\s/@:\"']{1,128})/"
            r"(?P<s>" + NOT_MARKER + r"[^\s@\"']{1,256})@"
        ),
        needles=("jdbc:",),
    ),
    Rule(
        "db-connection-string",
        re.compile(
            r"(?i)\bjdbc:[^\s\"'<>]{1,512}?[?&;:]password="
            r"(?P<s>" + NOT_MARKER + r"[^\s&;\"'<>]{1,256})"
        ),
        needles=("jdbc:",),
    ),
    Rule(
        "aws-secret-key",
        re.compile(
            r"(?<![A-Za-z0-9])" + _AWS_KEY_ID + r"[ \t]*[,;:|\t][ \t]*[\"']?"
            r"(?P<s>[A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])"
        ),
        needles=("akia", "asia", "abia", "acca", "a3t"),
    ),
    Rule(
        "aws-secret-key",
        re.compile(
            r"(?i)(?:aws[_.\-]?secret[_.\-]?(?:access[_.\-]?)?key|secret[_.\-]?access[_.\-]?key)"
            r"(?:\\?[\"'])?(?:[ \t]*(?::=|=>|[:=])[ \t]*|[ \t]+)\\?[\"']?"
            r"(?P<s>[A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])"
        ),
        needles=("key",),
    ),
    Rule(
        "aws-access-key",
        re.compile(r"(?<![A-Za-z0-9])(?P<s>" + _AWS_KEY_ID + r")(?![A-Za-z0-9])"),
        needles=("akia", "asia", "abia", "acca", "a3t"),
    ),
    Rule(
        "gcp-api-key",
        re.compile(NB + r"(?P<s>AIza[0-9A-Za-z_\-]{35})" + NA),
        needles=("aiza",),
    ),
    Rule(
        "azure-storage-key",
        re.compile(
            r"(?i)(?:AccountKey|storage[_.\-]?(?:account[_.\-]?)?(?:access[_.\-]?)?key)"
            r"[\"']?[ \t]*[:=][ \t]*[\"']?(?P<s>[A-Za-z0-9+/]{86}==)"
        ),
        needles=("key",),
    ),
    Rule(
        "azure-connection-string",
        re.compile(r"(?i)\bSharedAccessKey[ \t]*=[ \t]*(?P<s>[A-Za-z0-9+/]{20,100}+={0,2}+)"),
        needles=("sharedaccesskey",),
    ),
    Rule(
        "azure-sas-token",
        re.compile(r"[?&;]sig=(?P<s>" + NOT_MARKER + r"[A-Za-z0-9%+/=]{30,200}+)"),
        _sas_accept,
        needles=("sig=",),
    ),
    Rule(
        "github-token",
        re.compile(
            r"(?<![A-Za-z0-9_])(?P<s>gh[pousr]_[A-Za-z0-9]{36,251}+|github_pat_[A-Za-z0-9_]{22,251}+)"
            r"(?![A-Za-z0-9_])"
        ),
        needles=("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"),
    ),
    Rule(
        "gitlab-token",
        re.compile(
            NB + r"(?P<s>gl(?:pat|dt|rt|ptt|cbt|oas|soat|ffct|imt|agent)-"
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
    Rule(
        "slack-webhook",
        re.compile(
            r"(?i)https?://hooks\.slack\.com/(?:services|workflows|triggers)/"
            r"(?P<s>" + NOT_MARKER + r"[A-Za-z0-9+/_\-]{20,300}+)"
        ),
        needles=("hooks.slack.com",),
    ),
    Rule(
        "slack-token",
        re.compile(NB + r"(?P<s>(?:xox[abposre](?:\.xox[bp])?|xapp)-[0-9A-Za-z\-]{10,250}+)"),
        needles=("xox", "xapp-"),
    ),
    Rule(
        "stripe-key",
        re.compile(
            r"(?<![A-Za-z0-9_])(?P<s>(?:sk|rk)_(?:live|test|prod)_[A-Za-z0-9]{10,247}+"
            r"|whsec_[A-Za-z0-9]{24,247}+)(?![A-Za-z0-9_])"
        ),
        needles=("sk_live_", "sk_test_", "sk_prod_", "rk_live_", "rk_test_", "rk_prod_", "whsec_"),
    ),
    Rule(
        "jwt",
        re.compile(
            NB + r"(?P<s>eyJ[A-Za-z0-9_\-]{5,}+\.eyJ[A-Za-z0-9_\-]{5,}+\.[A-Za-z0-9_\-]*+)" + NA
        ),
        needles=("eyj",),
    ),
)

_HEADER_AND_ASSIGNMENT_RULES: tuple[Rule, ...] = (
    # Authorization headers.
    Rule(
        "bearer-token",
        re.compile(
            r"(?i)(?<![A-Za-z0-9])bearer[ \t]+(?P<s>" + NOT_MARKER + r"[A-Za-z0-9._~+/\-]{16,}+=*+)"
        ),
        _bearer_accept,
        needles=("bearer",),
    ),
    Rule(
        "basic-auth",
        re.compile(r"(?i)(?<![A-Za-z0-9])basic[ \t]+(?P<s>[A-Za-z0-9+/]{6,}+={0,2}+)"),
        _basic_accept,
        needles=("basic",),
    ),
    Rule(
        "auth-header",
        re.compile(
            r"(?i)\b(?:proxy-)?authorization\\?[\"']?[ \t]*[:=][ \t]*\\?[\"']?"
            r"(?!(?:bearer|basic|digest)\b)"
            r"(?:(?:token|apikey|api-key|jwt|ssws|negotiate|ntlm|key|sso-key)[ \t]+)?"
            r"(?P<s>" + NOT_MARKER + r"[^\s\"',;]{8,}+)"
        ),
        plausible_value,
        needles=("authorization",),
    ),
    Rule(
        "basic-auth",
        re.compile(
            r"(?<![\w\-])(?:-u|--user)(?:[ \t]+|=)[\"']?"
            # A user that an earlier rule already redacted (a token) still hides the password.
            r"(?P<user>\[REDACTED:[a-z0-9\-]{1,40}\]|[^\s:\"'\-\[\]][^\s:\"'\[\]]{0,255}):"
            r"(?P<s>" + NOT_MARKER + r"[^\s\"']{1,256})"
        ),
        _curl_user_accept,
        needles=("-u",),
    ),
    # ODBC / ADO.NET connection strings: "...;Password=...;" (a leading Password= falls through
    # to the password-assignment rule below).
    Rule(
        "db-connection-string",
        re.compile(
            r"(?i)(?:(?<=;)|(?<=;[ \t]))(?:password|pwd)[ \t]*=[ \t]*"
            r"(?P<s>" + NOT_MARKER + r"\{[^}\n]{1,256}\}|[^;\n\"'{][^;\n\"']{0,255})"
        ),
        plausible_value,
        needles=("password", "pwd"),
    ),
    # Keyword assignments: env, YAML, JSON, query strings, CLI flags, XML, SQL, .netrc.
    Rule(_kw_kind, _ASSIGNMENT, _kw_accept, needles=("pass", "pwd", "secret", "token", "key")),
    Rule(_kw_kind, _FLAG, _kw_accept, needles=("pass", "pwd", "secret", "token", "key")),
    Rule(
        _xml_kind,
        re.compile(
            r"(?i)<(?P<tag>[a-z0-9_.:\-]{0,40}?(?:password|passwd|passphrase|secret|token|api[_\-]?key))>"
            r"(?P<s>" + NOT_MARKER + r"[^<\n]{1,4096}+)</(?P=tag)>"
        ),
        plausible_value,
        needles=("pass", "pwd", "secret", "token", "key"),
    ),
    Rule(
        "password-assignment",
        re.compile(
            r"(?i)\bidentified[ \t]+by[ \t]+(?:password[ \t]+)?(?P<q>['\"])"
            r"(?P<s>" + NOT_MARKER + r"[^'\"\n]{1,256}+)(?P=q)"
        ),
        needles=("identified",),
    ),
    Rule(
        "password-assignment",
        re.compile(
            r"(?i)\bmachine[ \t]+\S{1,256}+[ \t]+login[ \t]+\S{1,256}+[ \t]+password[ \t]+"
            r"(?P<s>" + NOT_MARKER + r"\S{1,256}+)"
        ),
        needles=("machine",),
    ),
)


# --------------------------------------------------------------------------------------------
# Passwords on command lines. Each tool's own flag: ``mysql -pSECRET`` (attached; ``-p`` alone
# prompts, and the next word is the database), ``docker login -p TOKEN``, ``sshpass -p``,
# ``redis-cli -a``, ``sqlcmd -P``, ``ldapsearch -w``, ``openssl -passin pass:``, ``smbclient -U
# user%pass``, ``zip -P``, ``7z -p``, ``keytool -storepass``, ``htpasswd -b``, ``sqlplus u/p@db``.

_CLI_VALUE = (
    r"(?:'(?P<s1>" + NOT_MARKER + r"[^'\n]{1,256}+)'"
    r"|\"(?P<s2>" + NOT_MARKER + r"[^\"\n]{1,256}+)\""
    r"|(?P<s>" + NOT_MARKER + r"[^\s'\"|;&]{1,256}+))"
)


def _same_command(tools: str) -> str:
    """The rest of one command, up to a pipe, a list operator or the end of the line.

    It also stops where the tool's name comes again, so that a line repeating the name is
    scanned once from each occurrence up to the next one, not to the end of the command each
    time (that was quadratic on ``mysql mysql mysql ...``).
    """
    return r"(?:(?!" + tools + r")[^\n|;&]){0,512}?"


def _cli_accept(m: re.Match[str], value: str) -> bool:
    start = m.start()
    # The tool's name is a word of its own (not "mysql_" or "/usr/lib/mysql-x"), possibly a path.
    boundary = start == 0 or not (m.string[start - 1].isalnum() or m.string[start - 1] in "_-.")
    return boundary and plausible_value(m, value)


def _cli(tools: str, flag: str, needles: tuple[str, ...], *, attached: bool = False) -> Rule:
    gap = "" if attached else r"[ \t]+"
    return Rule(
        "command-line-password",
        re.compile(
            r"(?:"
            + tools
            + r")(?![\w\-])"
            + _same_command(tools)
            + r"(?<=[ \t])"
            + flag
            + gap
            + r"(?!-)"
            + _CLI_VALUE
        ),
        _cli_accept,
        needles=needles,
    )


_CLI_RULES: tuple[Rule, ...] = (
    _cli(
        r"mysql|mysqldump|mysqladmin|mysqlimport|mysqlcheck|mysqlshow|mysqlpump|mysqlsh"
        r"|mariadb|mariadb-dump|mariadb-admin|mysqlbinlog",
        "-p",
        ("mysql", "mariadb"),
        attached=True,
    ),
    _cli(
        # At most three words (global options, "registry") between the tool and "login".
        r"(?:docker|podman|nerdctl|buildah|oras|crane|regctl|helm|finch)"
        r"(?:[ \t]+[^\s|;&]{1,100}+){0,3}?[ \t]+login",
        "-p",
        ("docker", "podman", "nerdctl", "buildah", "oras", "crane", "regctl", "helm", "finch"),
    ),
    _cli(r"sshpass", r"-p[ \t]*", ("sshpass",), attached=True),
    _cli(
        r"redis-cli|keydb-cli|valkey-cli",
        r"(?:-a|--pass)",
        ("redis-cli", "keydb-cli", "valkey-cli"),
    ),
    _cli(r"sqlcmd|bcp|osql|isql", r"-P", ("sqlcmd", "bcp", "osql", "isql")),
    _cli(
        r"ldap[a-z]{2,10}",
        r"-w",
        (
            "ldapsearch",
            "ldapadd",
            "ldapmodify",
            "ldapdelete",
            "ldapwhoami",
            "ldappasswd",
            "ldapcompare",
            "ldapmodrdn",
            "ldapexop",
        ),
    ),
    _cli(
        r"mongo|mongosh|mongodump|mongorestore|mongoexport|mongoimport|mongostat|mongotop",
        r"-p",
        ("mongo",),
    ),
    _cli(r"zip|unzip|zipcloak", r"-P", ("zip ",)),
    _cli(r"7z|7za|7zr", r"-p", ("7z ", "7za ", "7zr "), attached=True),
    Rule(
        "command-line-password",
        re.compile(
            r"(?<![\w\-])-(?:pass(?:in|out)?|password|passphrase)[ \t]+pass:"
            r"(?P<s>" + NOT_MARKER + r"[^\s'\"]{1,256}+)"
        ),
        needles=("pass:",),
    ),
    Rule(
        "command-line-password",
        re.compile(
            r"(?<![\w\-])-(?:store|key|srcstore|deststore|srckey|destkey|new)pass[ \t]+"
            r"(?!(?:env|file):)" + _CLI_VALUE
        ),
        plausible_value,
        needles=("pass ",),
    ),
    Rule(
        "command-line-password",
        re.compile(
            r"(?<![\w\-])(?:-U|--user|--username)(?:[ \t]+|=)[\"']?[^\s%\"'/\\]{1,128}%"
            r"(?P<s>" + NOT_MARKER + r"[^\s\"']{1,256}+)"
        ),
        plausible_value,
        needles=("%",),
    ),
    Rule(
        "command-line-password",
        re.compile(
            r"\bhtpasswd[ \t]+(?:-[A-Za-z]+[ \t]+)*-[A-Za-z]*b[A-Za-z]*[ \t]+(?:-[A-Za-z]+[ \t]+)*"
            r"\S{1,256}+[ \t]+\S{1,256}+[ \t]+" + _CLI_VALUE
        ),
        plausible_value,
        needles=("htpasswd",),
    ),
    Rule(
        "command-line-password",
        re.compile(
            r"\bsqlplus[ \t]+(?:-[A-Za-z]+[ \t]+)*[\"']?[^\s/@\"']{1,128}/"
            r"(?P<s>" + NOT_MARKER + r"[^\s@\"']{1,256}+)@"
        ),
        needles=("sqlplus",),
    ),
    # Environment variables that tools read a password from, whose names carry no keyword.
    Rule(
        "command-line-password",
        re.compile(
            r"(?<![\w\-])(?:REDISCLI_AUTH|SSHPASS|MYSQL_PWD|ISQL_PASSWORD|SQLCMDPASSWORD)"
            r"[ \t]*=[ \t]*" + _CLI_VALUE
        ),
        plausible_value,
        needles=("rediscli_auth", "sshpass", "mysql_pwd", "isql_password", "sqlcmdpassword"),
    ),
)


# --------------------------------------------------------------------------------------------
# Credentials in the configuration files of operations tools. Most are keyword assignments
# (my.cnf ``password=``, pip.conf/.pypirc ``password:``, gradle.properties ``*Password=``, maven
# ``<password>``, kubeconfig ``token:``); these are the ones whose key says nothing.


def _netrc_accept(m: re.Match[str], value: str) -> bool:
    return plausible_value(m, value) and value.lower() not in {"login", "machine", "account"}


_CONFIG_RULES: tuple[Rule, ...] = (
    # .pgpass: hostname:port:database:username:password, the whole line.
    Rule(
        "pgpass-password",
        re.compile(
            r"(?m)^[ \t]*[A-Za-z0-9_.*\-\[\]]{1,255}:(?:[0-9]{1,5}|\*):[^\s:]{1,256}:[^\s:]{1,256}:"
            r"(?P<s>" + NOT_MARKER + r"[^\s]{1,256})[ \t]*\r?$"
        ),
        plausible_value,
        # The port field: a .pgpass line with another port is not found (a literal is needed to
        # skip ordinary log text quickly).
        needles=(":5432:", ":*:", ":6432:", ":5433:", ":5434:", ":5439:", ":26257:"),
    ),
    # Docker config.json: "auth": base64(user:password).
    Rule(
        "docker-auth",
        re.compile(
            r"\\?\"auth\\?\"[ \t]*:[ \t]*\\?\"(?P<s>"
            + NOT_MARKER
            + r"[A-Za-z0-9+/=]{4,8192}+)\\?\""
        ),
        _basic_accept,
        needles=('auth"', 'auth\\"'),
    ),
    # .npmrc: _auth (base64 user:password), _authToken, _password (base64).
    Rule(
        "npm-token",
        re.compile(
            r"(?i)(?<![\w\-])_(?:auth|authtoken|password)[ \t]*=[ \t]*\"?"
            r"(?P<s>" + NOT_MARKER + r"[^\s\"]{1,4096}+)"
        ),
        plausible_value,
        needles=("_auth", "_password"),
    ),
    # kubeconfig: client-key-data is a base64 PEM private key.
    Rule(
        "kubeconfig-key",
        re.compile(
            r"(?i)\bclient-key-data\\?[\"']?[ \t]*:[ \t]*\\?[\"']?"
            r"(?P<s>" + NOT_MARKER + r"[A-Za-z0-9+/=]{16,200000}+)"
        ),
        needles=("client-key-data",),
    ),
    # .netrc with one item per line (indented): "  password p" alone on its line; and
    # "default login u password p".
    Rule(
        "password-assignment",
        re.compile(
            r"(?im)(?:^[ \t]+|\bdefault[ \t]+login[ \t]+\S{1,256}+[ \t]+)"
            r"password[ \t]+(?P<s>" + NOT_MARKER + r"\S{1,256}+)[ \t]*\r?$"
        ),
        _netrc_accept,
        needles=("password",),
    ),
)

# Order matters: specific formats first, so a token inside ``token=...`` is named for what it is;
# later rules skip values that already hold a marker.
RULES: tuple[Rule, ...] = (
    _FORMAT_RULES + TOKEN_RULES + _CLI_RULES + _CONFIG_RULES + _HEADER_AND_ASSIGNMENT_RULES
)
