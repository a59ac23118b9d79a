"""Issue and comment bodies of the GitHub tracker: what people read, and what the bridge reads back.

An issue body written by the bridge has three parts::

    <description, verbatim markdown, if any>
    <!-- bridge:facts -->
    <the facts for people: message, instance, impact, actions; every value in code spans or
     fenced blocks, so an error message can neither ping @someone nor link #123 nor inject HTML>
    <!-- bridge:v1 {"kind": "observation", "message": ..., ...} -->

The last line is the machine-readable block: one line of JSON in an HTML comment (GitHub keeps it
in ``body`` and hides it when rendering). ``<`` and ``>`` inside it are written as ``\\u003c`` and
``\\u003e`` so no value can close the comment early. The block is the truth for message, instance,
observed_at, impact, actions, event id, parent, related, team and the evidence index; labels carry
what must be *found* without reading bodies (kind, fingerprints, event marker, parent). Files
that replace their earlier versions (``reports``: name to blob sha in the evidence branch) are
linked from the facts, so a new version updates the link rather than adding one.

Every body stays within GitHub's 65,536 characters, counted in UTF-16 code units to be safe. A
message or description too long for that is clipped in the body (visibly) and kept whole in
numbered comments (``<!-- bridge:part message 1/3 -->``), which ``get`` joins back.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tracker_bridge.domain import durations
from tracker_bridge.domain.tickets import EvidenceRef

BODY_LIMIT = 65_536
"""GitHub's limit for issue and comment bodies (422 beyond)."""
SAFE_LIMIT = BODY_LIMIT - 512
"""What the bridge allows itself, leaving room for markers and rounding."""
FACTS_MARK = "<!-- bridge:facts -->"
BLOCK_PREFIX = "<!-- bridge:v1 "
BLOCK_SUFFIX = " -->"
PART_MARK = re.compile(r"<!-- bridge:part (message|description) (\d+)/(\d+) -->")
INLINE_MESSAGE = 2_000
"""Characters of the message shown in the facts (the block keeps it whole)."""
BLOCK_ROOM = 40_000
"""Largest block; a longer message or description moves to part comments."""
PART_SIZE = 60_000


def units(text: str) -> int:
    """Length as GitHub may count it: UTF-16 code units (an emoji counts two)."""
    return len(text.encode("utf-16-le")) // 2


def clip_units(text: str, limit: int, note: str = "") -> str:
    """``text`` cut to at most ``limit`` UTF-16 units, ending with ``note`` when cut."""
    if units(text) <= limit:
        return text
    room = max(0, limit - units(note))
    cut = text[:room]
    while units(cut) > room:
        cut = cut[: len(cut) - max(1, (units(cut) - room) // 2)]
    return cut + note


def code_span(text: str) -> str:
    """Inline code that shows ``text`` literally whatever backticks it holds (one line)."""
    flat = " ".join(text.split())
    if not flat:
        return "(none)"
    longest = max((len(m) for m in re.findall(r"`+", flat)), default=0)
    ticks = "`" * (longest + 1)
    return f"{ticks} {flat} {ticks}"


def fenced(text: str, info: str = "text") -> str:
    """A fenced block showing ``text`` literally: the fence is longer than any backtick run."""
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{info}\n{text}\n{fence}"


def unfence(section: str) -> str | None:
    """The text inside the first fenced block of ``section`` (inverse of ``fenced``)."""
    match = re.search(r"^(`{3,})[^\n`]*\n", section, re.MULTILINE)
    if match is None:
        return None
    fence = match.group(1)
    end = section.find(f"\n{fence}\n", match.end() - 1)
    if end < 0:
        end = section.find(f"\n{fence}", match.end() - 1)
        if end < 0 or not section.endswith(fence):
            return None
    return section[match.end() : end] if end >= match.end() else ""


def dump_block(block: dict[str, Any]) -> str:
    """The hidden block line for ``block``."""
    raw = json.dumps(block, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    return BLOCK_PREFIX + raw.replace("<", "\\u003c").replace(">", "\\u003e") + BLOCK_SUFFIX


def load_block(body: str | None) -> dict[str, Any]:
    """The block in an issue body (the last one), or ``{}`` for a body the bridge did not write."""
    if not body:
        return {}
    start = body.rfind(BLOCK_PREFIX)
    if start < 0:
        return {}
    end = body.find(BLOCK_SUFFIX, start + len(BLOCK_PREFIX))
    if end < 0:
        return {}
    try:
        value = json.loads(body[start + len(BLOCK_PREFIX) : end])
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def description_of(body: str | None) -> str:
    """The free-text description: what precedes the facts marker (all of it for hand-made issues)."""
    if not body:
        return ""
    cut = body.rfind(FACTS_MARK)
    return body if cut < 0 else body[:cut].rstrip("\n")


@dataclass(frozen=True, slots=True)
class Part:
    """A piece of an over-long field, posted as its own comment."""

    field: str
    index: int
    total: int
    text: str

    def render(self) -> str:
        head = f"<!-- bridge:part {self.field} {self.index}/{self.total} -->"
        note = f"Full {self.field}, part {self.index} of {self.total} (the issue body shows it clipped)."
        return f"{head}\n<details><summary>{note}</summary>\n\n{fenced(self.text)}\n\n</details>"


def split_parts(field: str, text: str) -> list[Part]:
    """``text`` cut into comment-sized parts."""
    chunks: list[str] = []
    rest = text
    while rest:
        chunk = clip_units(rest, PART_SIZE)
        chunks.append(chunk)
        rest = rest[len(chunk) :]
    return [Part(field, i + 1, len(chunks), chunk) for i, chunk in enumerate(chunks)]


def join_parts(comment_bodies: Iterable[str], field: str, total: int) -> str | None:
    """Reassemble a field from its part comments; None when a part is missing."""
    found: dict[int, str] = {}
    for body in comment_bodies:
        mark = PART_MARK.search(body)
        if mark is None or mark.group(1) != field or int(mark.group(3)) != total:
            continue
        text = unfence(body[mark.end() :])
        if text is not None:
            found[int(mark.group(2))] = text
    if len(found) != total:
        return None
    return "".join(found[i] for i in range(1, total + 1))


@dataclass(frozen=True, slots=True)
class Rendered:
    """An issue body plus the part comments that must follow it."""

    body: str
    parts: tuple[Part, ...]


def render_issue(block: dict[str, Any], description: str, parent_ref: str = "") -> Rendered:
    """The issue body for ``block`` (and ``description``), within GitHub's limit.

    ``block`` is not modified; over-long message or description move to parts and the rendered
    block records how many (``overflow``).
    """
    block = dict(block)
    parts: list[Part] = []
    overflow: dict[str, int] = dict(block.get("overflow") or {})
    message = str(block.get("message", ""))
    if units(message) > BLOCK_ROOM // 2:
        split = split_parts("message", message)
        parts.extend(split)
        overflow["message"] = len(split)
        block["message"] = clip_units(message, INLINE_MESSAGE, "…")
    _clip_fields(block)
    shown_description = description
    facts = _facts(block, message, parent_ref)
    # the block may grow to BLOCK_ROOM as evidence is indexed later (index_room): leave it that
    # room now, since a body that is full at creation refuses the first upload
    room = (
        SAFE_LIMIT
        - units(facts)
        - max(units(dump_block({**block, "overflow": overflow})), BLOCK_ROOM)
    )
    if units(description) > room - 200:
        split = split_parts("description", description)
        parts.extend(split)
        overflow["description"] = len(split)
        note = f"\n\n… (clipped here; the full text is in {len(split)} comment(s) below)"
        shown_description = clip_units(description, max(0, room - 400), note)
    if overflow:
        block["overflow"] = overflow
    sections = [shown_description.rstrip("\n")] if shown_description else []
    sections += [FACTS_MARK, facts, dump_block(block)]
    return Rendered("\n\n".join(sections), tuple(parts))


def _facts(block: dict[str, Any], message: str, parent_ref: str) -> str:
    lines: list[str] = []
    kind = block.get("kind", "")
    if kind:
        head = f"Tracked by tracker-bridge as a **{kind}**"
        lines.append(head + (f" of {parent_ref}." if parent_ref else "."))
    elif parent_ref:  # an issue made by hand, given a parent by ``check --fix``
        lines.append(f"Tracked by tracker-bridge under {parent_ref}.")
    if message:
        shown = clip_units(message, INLINE_MESSAGE, "…")
        lines.append(
            "**Error message**" + (" (clipped; full text kept)" if shown != message else "")
        )
        lines.append(fenced(shown))
    for label, key in (("Instance", "instance"), ("Observed at", "observed_at"), ("Team", "team")):
        if block.get(key):
            lines.append(f"- **{label}:** {code_span(str(block[key]))}")
    if block.get("duration_seconds"):
        span = durations.from_seconds(block["duration_seconds"])
        if span is not None:
            lines.append(f"- **Duration:** {code_span(durations.format(span))}")
    if block.get("impact"):
        lines.append("**Impact**")
        lines.append(fenced(clip_units(str(block["impact"]), 4_000, "…")))
    actions = block.get("actions") or []
    if actions:
        lines.append("**Actions taken**")
        lines.extend(f"- {code_span(clip_units(str(a), 1_000, '…'))}" for a in actions)
    reports = block.get("reports") or {}
    attached: list[dict[str, Any]] = [
        e for e in block.get("evidence") or [] if isinstance(e, dict) and e.get("n") in reports
    ]
    if attached:
        lines.append("**Report** (the latest `bridge report --attach`)")
        lines.extend(
            f"- {_link({'url': e.get('u', ''), 'title': e.get('n', '')})}"
            f" ({int(e.get('s', 0)):,} bytes, attached {_minute(e.get('at'))})"
            for e in attached
        )
    links = [x for x in block.get("links") or [] if isinstance(x, dict)]
    if links:
        lines.append("**Links**")
        lines.extend(f"- {html.escape(str(x.get('rel', '')))}: {_link(x)}" for x in links)
    return "\n\n".join(lines)


def _minute(at: Any) -> str:
    """An ISO time as ``2026-11-30 01:40 UTC`` (a code span: it is data)."""
    try:
        moment = datetime.fromisoformat(str(at))
    except ValueError:
        return code_span(str(at))
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return code_span(moment.strftime("%Y-%m-%d %H:%M UTC"))


def _link(data: dict[str, Any]) -> str:
    url, title = str(data.get("url", "")), str(data.get("title", "")) or str(data.get("url", ""))
    if not re.fullmatch(r"https?://[^\s()<>]+", url):
        return code_span(f"{title} {url}")
    text = re.sub(r"([\[\]\\`*_<>@#])", r"\\\1", " ".join(title.split()))
    return f"[{text}]({url})"


def ref_to_json(ref: EvidenceRef) -> dict[str, Any]:
    """An evidence record for the block (short keys: the index lives in a size-limited body)."""
    data: dict[str, Any] = {"n": ref.name, "h": ref.sha256, "s": ref.size}
    if ref.source:
        data["src"] = ref.source
    if ref.captured_at is not None:
        data["at"] = ref.captured_at.isoformat()
    if ref.redactions:
        data["red"] = [list(r) for r in ref.redactions]
    if not ref.scanned:
        data["scanned"] = False
    if ref.sensitive:
        data["sens"] = True
    if ref.url:
        data["u"] = ref.url
    return data


def ref_from_json(data: dict[str, Any]) -> EvidenceRef:
    """Inverse of ``ref_to_json``."""
    at = data.get("at")
    return EvidenceRef(
        name=str(data.get("n", "")),
        sha256=str(data.get("h", "")),
        size=int(data.get("s", 0)),
        source=str(data.get("src", "")),
        captured_at=datetime.fromisoformat(at) if isinstance(at, str) else None,
        redactions=tuple((str(k), int(v)) for k, v in data.get("red", [])),
        scanned=bool(data.get("scanned", True)),
        sensitive=bool(data.get("sens", False)),
        url=str(data.get("u", "")),
    )


def _clip_fields(block: dict[str, Any]) -> None:
    """As on Jira: a huge impact or action is clipped in ``block`` (as the facts show it) once the
    block passes ``BLOCK_ROOM``, so the body, and the evidence index it will hold, still fit."""
    if units(dump_block(block)) <= BLOCK_ROOM:
        return
    if block.get("impact"):
        block["impact"] = clip_units(str(block["impact"]), 4_000, "…")
    if block.get("actions"):
        block["actions"] = [clip_units(str(a), 1_000, "…") for a in block["actions"][:50]]


def index_room(block: dict[str, Any], refs: Sequence[EvidenceRef]) -> int:
    """How many of ``refs`` the evidence index of ``block`` can still take, the block kept within
    ``BLOCK_ROOM`` (so the body keeps room for the facts and the description)."""
    base = dict(block)
    message = str(base.get("message", ""))
    if units(message) > BLOCK_ROOM // 2:  # as render_issue leaves it
        base["message"] = clip_units(message, INLINE_MESSAGE, "…")
        base["overflow"] = {**(base.get("overflow") or {}), "message": 1}
    _clip_fields(base)
    size = units(dump_block(base)) + units(',"evidence":[]')
    frame = len(BLOCK_PREFIX) + len(BLOCK_SUFFIX)
    for count, ref in enumerate(refs):
        size += units(dump_block(ref_to_json(ref))) - frame + 1
        if size > BLOCK_ROOM:
            return count
    return len(refs)


def summary_line(ref: EvidenceRef, part: str = "") -> str:
    """The ``<summary>`` of an evidence section: name, size, hash, origin, redactions."""
    bits = [
        f"<code>{html.escape(' '.join(ref.name.split()))}</code>",
        f"{ref.size:,} bytes",
        f"sha256 {ref.sha256[:12]}",
    ]
    if ref.source:
        bits.append(f"from <code>{html.escape(' '.join(ref.source.split()))}</code>")
    if ref.redactions:
        bits.append("redacted: " + ", ".join(f"{html.escape(k)}: {n}" for k, n in ref.redactions))
    if not ref.scanned:
        bits.append("not scanned for secrets")
    return " — ".join(bits) + (f" ({part})" if part else "")
