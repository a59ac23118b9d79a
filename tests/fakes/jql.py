"""A JQL parser and evaluator for the fake Jira, faithful where injection matters.

Strings are double- or single-quoted with the JQL escapes ``\\" \\' \\\\ \\n \\r \\t \\  \\uXXXX``;
any other escape is an error, as on Jira (so a Lucene escape must be written ``\\\\+``). Unquoted
values that are JQL reserved words are errors. ``~`` takes a Lucene query: a quoted phrase or
terms, ``\\X`` escaping a Lucene special character; every term must occur in the field.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

RESERVED = frozenset(
    [
        "a",
        "an",
        "abort",
        "access",
        "add",
        "after",
        "alias",
        "all",
        "alter",
        "and",
        "any",
        "as",
        "asc",
        "audit",
        "avg",
        "before",
        "begin",
        "between",
        "boolean",
        "break",
        "by",
        "byte",
        "catch",
        "cf",
        "char",
        "character",
        "check",
        "checkpoint",
        "collate",
        "collation",
        "column",
        "commit",
        "connect",
        "continue",
        "count",
        "create",
        "current",
        "date",
        "decimal",
        "declare",
        "decrement",
        "default",
        "defaults",
        "define",
        "delete",
        "delimiter",
        "desc",
        "difference",
        "distinct",
        "divide",
        "do",
        "double",
        "drop",
        "else",
        "empty",
        "encoding",
        "end",
        "equals",
        "escape",
        "exclusive",
        "exec",
        "execute",
        "exists",
        "explain",
        "false",
        "fetch",
        "file",
        "field",
        "first",
        "float",
        "for",
        "from",
        "function",
        "go",
        "goto",
        "grant",
        "greater",
        "group",
        "having",
        "identified",
        "if",
        "immediate",
        "in",
        "increment",
        "index",
        "initial",
        "inner",
        "inout",
        "input",
        "insert",
        "int",
        "integer",
        "intersect",
        "intersection",
        "into",
        "is",
        "isempty",
        "isnull",
        "join",
        "last",
        "left",
        "less",
        "like",
        "limit",
        "lock",
        "long",
        "max",
        "min",
        "minus",
        "mode",
        "modify",
        "modulo",
        "more",
        "multiply",
        "next",
        "noaudit",
        "not",
        "notin",
        "nowait",
        "null",
        "number",
        "object",
        "of",
        "on",
        "option",
        "or",
        "order",
        "outer",
        "output",
        "power",
        "previous",
        "prior",
        "privileges",
        "public",
        "raise",
        "raw",
        "remainder",
        "rename",
        "resource",
        "return",
        "returns",
        "revoke",
        "right",
        "row",
        "rowid",
        "rownum",
        "rows",
        "select",
        "session",
        "set",
        "share",
        "size",
        "sqrt",
        "start",
        "strict",
        "string",
        "subtract",
        "sum",
        "synonym",
        "table",
        "then",
        "to",
        "trans",
        "transaction",
        "trigger",
        "true",
        "uid",
        "union",
        "unique",
        "update",
        "user",
        "validate",
        "values",
        "view",
        "when",
        "whenever",
        "where",
        "while",
        "with",
    ]
)
_ESCAPES = {'"': '"', "'": "'", "\\": "\\", "n": "\n", "r": "\r", "t": "\t", " ": " "}
_LUCENE = set('+-&|!(){}[]^"~*?:\\/')


class JqlError(Exception):
    """The query is not valid JQL (Jira answers 400)."""


class Row(Protocol):
    def values(self, name: str) -> list[str]: ...
    def check_value(self, name: str, value: str) -> None: ...
    def linked(self, key: str) -> list[str]: ...


@dataclass(frozen=True)
class Token:
    kind: str  # "str" (quoted), "word", "op"
    text: str


def tokenize(jql: str) -> list[Token]:
    tokens: list[Token] = []
    i = 0
    while i < len(jql):
        ch = jql[i]
        if ch.isspace():
            i += 1
        elif ch in "\"'":
            quote, i, buf = ch, i + 1, []
            while True:
                if i >= len(jql):
                    raise JqlError("unterminated string")
                c = jql[i]
                if c == quote:
                    i += 1
                    break
                if c == "\\":
                    nxt = jql[i + 1 : i + 2]
                    if nxt in _ESCAPES:
                        buf.append(_ESCAPES[nxt])
                        i += 2
                    elif nxt == "u" and re.fullmatch(r"[0-9a-fA-F]{4}", jql[i + 2 : i + 6]):
                        buf.append(chr(int(jql[i + 2 : i + 6], 16)))
                        i += 6
                    else:
                        raise JqlError(f"illegal escape sequence '\\{nxt}' at character {i}")
                    continue
                buf.append(c)
                i += 1
            tokens.append(Token("str", "".join(buf)))
        elif jql.startswith(("!=", "!~", ">=", "<="), i):
            tokens.append(Token("op", jql[i : i + 2]))
            i += 2
        elif ch in "=~<>(),":
            tokens.append(Token("op", ch))
            i += 1
        else:
            m = re.compile(r"[^\s\"'=~<>(),!]+").match(jql, i)
            if not m:
                raise JqlError(f"unexpected character {ch!r} at {i}")
            tokens.append(Token("word", m.group()))
            i = m.end()
    return tokens


class Expr(Protocol):
    def matches(self, row: Row) -> bool: ...


@dataclass(frozen=True)
class Bool:
    op: str
    parts: tuple[Any, ...]

    def matches(self, row: Row) -> bool:
        results = (p.matches(row) for p in self.parts)
        return all(results) if self.op == "and" else any(results)


@dataclass(frozen=True)
class Not:
    inner: Any

    def matches(self, row: Row) -> bool:
        return not self.inner.matches(row)


@dataclass(frozen=True)
class Clause:
    field: str
    op: str
    values: tuple[Any, ...]  # strings, or ("fn", name, args)

    def _expand(self, row: Row) -> list[str]:
        out: list[str] = []
        for value in self.values:
            if isinstance(value, tuple):
                _, name, args = value
                if name.lower() != "linkedissues" or not args:
                    raise JqlError(f"Unable to find JQL function '{name}'.")
                out.extend(row.linked(args[0]))
            else:
                if self.op not in ("~", "!~"):
                    row.check_value(self.field, value)
                out.append(value)
        return out

    def matches(self, row: Row) -> bool:
        have = row.values(self.field)
        if self.op in ("is", "is not"):
            empty = not [v for v in have if v]
            return empty if self.op == "is" else not empty
        wanted = self._expand(row)
        if self.op in ("~", "!~"):
            match = getattr(row, "lucene_match", lucene_match)
            hit = all(match(q, " ".join(have)) for q in wanted)
            return hit if self.op == "~" else not hit
        fold = {v.lower() for v in have}
        hit = any(w.lower() in fold for w in wanted)
        return hit if self.op in ("=", "in") else not hit


@dataclass(frozen=True)
class Query:
    where: Any | None
    order: tuple[tuple[str, bool], ...]


class _Parser:
    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.i = 0

    def peek(self, offset: int = 0) -> Token | None:
        j = self.i + offset
        return self.tokens[j] if j < len(self.tokens) else None

    def word(self, *words: str, offset: int = 0) -> bool:
        tok = self.peek(offset)
        return tok is not None and tok.kind == "word" and tok.text.lower() in words

    def take(self) -> Token:
        tok = self.peek()
        if tok is None:
            raise JqlError("unexpected end of query")
        self.i += 1
        return tok

    def expect_op(self, op: str) -> None:
        tok = self.take()
        if tok.kind != "op" or tok.text != op:
            raise JqlError(f"expecting '{op}' but got '{tok.text}'")

    def query(self) -> Query:
        where = None
        if self.peek() is not None and not (self.word("order") and self.word("by", offset=1)):
            where = self.or_expr()
        order: list[tuple[str, bool]] = []
        if self.word("order"):
            self.take()
            if not self.word("by"):
                raise JqlError("expecting 'by' after 'order'")
            self.take()
            while True:
                name = self.take().text.lower()
                descending = False
                if self.word("asc", "desc"):
                    descending = self.take().text.lower() == "desc"
                order.append((name, descending))
                tok = self.peek()
                if tok is None or tok.text != ",":
                    break
                self.take()
        if self.peek() is not None:
            raise JqlError(f"unexpected '{self.peek().text}'")  # type: ignore[union-attr]
        return Query(where, tuple(order))

    def or_expr(self) -> Any:
        parts = [self.and_expr()]
        while self.word("or"):
            self.take()
            parts.append(self.and_expr())
        return parts[0] if len(parts) == 1 else Bool("or", tuple(parts))

    def and_expr(self) -> Any:
        parts = [self.not_expr()]
        while self.word("and"):
            self.take()
            parts.append(self.not_expr())
        return parts[0] if len(parts) == 1 else Bool("and", tuple(parts))

    def not_expr(self) -> Any:
        if self.word("not") and not self.word("in", offset=1):
            self.take()
            return Not(self.not_expr())
        tok = self.peek()
        if tok is not None and tok.kind == "op" and tok.text == "(":
            self.take()
            inner = self.or_expr()
            self.expect_op(")")
            return inner
        return self.clause()

    def clause(self) -> Clause:
        field_tok = self.take()
        if field_tok.kind == "op":
            raise JqlError(f"expecting a field name but got '{field_tok.text}'")
        if field_tok.kind == "word" and field_tok.text.lower() in RESERVED:
            raise JqlError(f"'{field_tok.text}' is a reserved JQL word")
        name = field_tok.text
        tok = self.take()
        if tok.kind == "op" and tok.text in ("=", "!=", "~", "!~"):
            return Clause(name, tok.text, (self.value(),))
        if tok.kind == "word" and tok.text.lower() == "in":
            return Clause(name, "in", self.values())
        if tok.kind == "word" and tok.text.lower() == "not" and self.word("in"):
            self.take()
            return Clause(name, "not in", self.values())
        if tok.kind == "word" and tok.text.lower() == "is":
            negate = False
            if self.word("not"):
                self.take()
                negate = True
            if not self.word("empty", "null"):
                raise JqlError("expecting EMPTY after IS")
            self.take()
            return Clause(name, "is not" if negate else "is", ())
        raise JqlError(f"expecting an operator after '{name}' but got '{tok.text}'")

    def value(self) -> Any:
        tok = self.take()
        if tok.kind == "str":
            return tok.text
        if tok.kind == "word":
            nxt = self.peek()
            if nxt is not None and nxt.kind == "op" and nxt.text == "(":
                self.take()
                args: list[str] = []
                while not (self.peek() and self.peek().text == ")"):  # type: ignore[union-attr]
                    arg = self.take()
                    if arg.text != ",":
                        args.append(arg.text)
                self.take()
                return ("fn", tok.text, tuple(args))
            if tok.text.lower() in RESERVED:
                raise JqlError(f"'{tok.text}' is a reserved JQL word; quote it")
            return tok.text
        raise JqlError(f"expecting a value but got '{tok.text}'")

    def values(self) -> tuple[Any, ...]:
        tok = self.peek()
        if tok is not None and tok.kind == "word":
            return (self.value(),)
        self.expect_op("(")
        out = [self.value()]
        while self.peek() is not None and self.peek().text == ",":  # type: ignore[union-attr]
            self.take()
            out.append(self.value())
        self.expect_op(")")
        return tuple(out)


def check_values(node: Any, row: Row) -> None:
    """Refuse values that name nothing (unknown project or issue), before any issue is read."""
    if isinstance(node, Bool):
        for part in node.parts:
            check_values(part, row)
    elif isinstance(node, Not):
        check_values(node.inner, row)
    elif isinstance(node, Clause) and node.op not in ("~", "!~"):
        for value in node.values:
            if isinstance(value, str):
                row.check_value(node.field, value)


def parse_jql(jql: str) -> Query:
    """Parse JQL or raise ``JqlError``."""
    return _Parser(tokenize(jql)).query()


def _lucene_terms(query: str) -> tuple[list[str], bool]:
    phrase = len(query) >= 2 and query.startswith('"') and query.endswith('"')
    body = query[1:-1] if phrase else query
    terms: list[str] = []
    buf: list[str] = []
    i = 0
    while i < len(body):
        c = body[i]
        if c == "\\" and i + 1 < len(body):
            buf.append(body[i + 1])
            i += 2
            continue
        if c.isspace() or (c in _LUCENE and not phrase):
            if buf:
                terms.append("".join(buf))
                buf = []
        else:
            buf.append(c)
        i += 1
    if buf:
        terms.append("".join(buf))
    return terms, phrase


def lucene_match(query: str, text: str) -> bool:
    """Whether ``text`` matches a Lucene query the way Jira's ``~`` would, roughly."""
    terms, phrase = _lucene_terms(query)
    hay = " ".join(text.lower().split())
    if phrase:
        return " ".join(" ".join(terms).lower().split()) in hay
    return all(t.lower() in hay for t in terms)


Matcher = Callable[[Row], bool]
