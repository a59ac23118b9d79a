"""The description of a bridge ticket on Jira: a section for people, a block for the bridge.

REST v2 takes wiki markup. A description written by the bridge reads::

    <the ticket's own description, as given>
    ----
    _Recorded by tracker-bridge._
    *Message:* {noformat}...the error message...{noformat}
    *Instance:* replica-2   *Observed at:* ...   *Impact:* ...   *Actions:* # ...
    {noformat:title=tracker-bridge data, do not edit}
    bridge:{"v": 1, "message": ..., "instance": ..., ...}
    {noformat}

The JSON block is what the bridge reads back; the human section is a rendering of it (user text
escaped for wiki markup). The block also holds the evidence index (provenance of each attachment
by content hash, see ``evidence``) and a copy of the ticket's remote links (``links``: Jira
search cannot return remote links, so a search page yields them only from here), so one read of
the issue, or one search page, yields both. Jira keeps at most 32,767 characters: when the whole
would be longer, the full message goes to an attachment (``MESSAGE_FILE``), the block keeps a
clipped copy and names the file, and the free-form fields are clipped so the description always
fits.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tracker_bridge.domain import durations
from tracker_bridge.domain.conventions import clip
from tracker_bridge.domain.tickets import EvidenceFile, EvidenceRef, NewTicket, RemoteLink

DESCRIPTION_LIMIT = 32_767
MESSAGE_FILE = "bridge-message.txt"
INDEX_ROOM = 8_000
"""Characters a new ticket's description leaves free for the evidence index its upload adds
(about 25 files); a long message, action or impact is clipped to leave it, not the upload refused."""
_RULE = "----\n_Recorded by tracker-bridge._"
_BLOCK = "{noformat:title=tracker-bridge data, do not edit}\nbridge:"
_END = "\n{noformat}"
_WIKI_SPECIAL = re.compile(r"([\\*_+\-^~?{}\[\]|!#])")
_SHOWN_MESSAGE = 2_000
_FIELD_LIMIT = 2_000


@dataclass(frozen=True, slots=True)
class Rendered:
    """A description ready to send, and the full message when it had to go to an attachment."""

    text: str
    overflow: str | None = None


@dataclass(frozen=True, slots=True)
class Parsed:
    """A description read back: the ticket's own text and the bridge's data (empty if none)."""

    description: str
    data: dict[str, Any]


def inline(text: str) -> str:
    """User text safe inside a wiki-markup line: specials escaped, line breaks as spaces."""
    return _WIKI_SPECIAL.sub(r"\\\1", " ".join(text.split()))


def _noformat(text: str) -> str:
    return "{noformat}\n" + text.replace("{noformat}", "{ noformat}") + "\n{noformat}"


SOURCE_LIMIT = 500
"""Characters of an evidence item's source kept in the index."""


def _data(new: NewTicket, message: str, **extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"v": 1, "kind": new.kind.value, "message": message}
    if new.instance:
        data["instance"] = new.instance
    if new.observed_at is not None:
        data["observed_at"] = new.observed_at.isoformat()
    if new.impact:
        data["impact"] = new.impact
    if new.duration is not None:
        data["duration_seconds"] = round(new.duration.total_seconds())
    if new.actions:
        data["actions"] = list(new.actions)
    if new.event_id:
        data["event_id"] = new.event_id
    if new.team:
        data["team"] = new.team
    if new.related:
        data["related"] = new.related
    if new.evidence:
        data["evidence"] = {ref.sha256: index_entry(ref) for ref in new.evidence}
    if new.links:
        data["links"] = [link_entry(link) for link in new.links]
    data.update(extra)
    return data


GLOBAL_ID_LIMIT = 255
"""Jira's limit on a remote link's ``globalId`` (and on its title)."""


def link_entry(link: RemoteLink, *, compact: bool = False) -> dict[str, str]:
    """One remote link as the data block keeps it (``compact``: without its title)."""
    entry = {"id": link.global_id[:GLOBAL_ID_LIMIT], "url": link.url}
    if link.relationship:
        entry["rel"] = link.relationship
    if not compact and link.title:
        entry["title"] = link.title[:GLOBAL_ID_LIMIT]
    return entry


def links_of(data: dict[str, Any]) -> tuple[RemoteLink, ...]:
    """The remote links recorded in a data block (malformed entries are skipped)."""
    raw = data.get("links")
    if not isinstance(raw, list):
        return ()
    return tuple(
        RemoteLink(
            url=str(entry.get("url", "")),
            title=str(entry.get("title", "")),
            global_id=str(entry["id"]),
            relationship=str(entry.get("rel", "")),
        )
        for entry in raw
        if isinstance(entry, dict) and entry.get("id")
    )


def with_link(text: str | None, link: RemoteLink, limit: int = DESCRIPTION_LIMIT) -> str | None:
    """``text`` with ``link`` recorded in its data block (upserted by global id).

    When the description would grow past ``limit``, the links lose their titles; when even
    that does not fit, None (the remote link itself stands, only search does not see it).
    """
    data = dict(parse(text).data) or {"v": 1}
    entry = link_entry(link)
    entries = [e for e in data.get("links") or [] if isinstance(e, dict) and e.get("id")]
    at = next((i for i, e in enumerate(entries) if e["id"] == entry["id"]), len(entries))
    data["links"] = [*entries[:at], entry, *entries[at + 1 :]]
    updated = with_data(text, data)
    if len(updated) <= limit:
        return updated
    data["links"] = [{k: v for k, v in e.items() if k != "title"} for e in data["links"]]
    updated = with_data(text, data)
    return updated if len(updated) <= limit else None


def index_entry(item: EvidenceFile | EvidenceRef, *, compact: bool = False) -> dict[str, Any]:
    """The provenance of one file as kept in the evidence index (defaults left out)."""
    entry: dict[str, Any] = {}
    if not compact:
        entry["source"] = item.source[:SOURCE_LIMIT]
        if item.captured_at is not None:
            entry["captured_at"] = item.captured_at.isoformat()
    if item.redactions:
        entry["redactions"] = [list(r) for r in item.redactions]
    if not item.scanned:
        entry["scanned"] = False
    if item.sensitive:
        entry["sensitive"] = True
    return entry


def _block(data: dict[str, Any]) -> str:
    encoded = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    # "{noformat}" can only occur inside a JSON string, where \u007b is the same character
    return _BLOCK + encoded.replace("{noformat}", "\\u007bnoformat}") + _END


def _human(new: NewTicket, message: str) -> str:
    lines = [_RULE]
    if message:
        lines.append("*Message:*\n" + _noformat(clip(message, _SHOWN_MESSAGE)))
    if new.instance:
        lines.append(f"*Instance:* {inline(new.instance)}")
    if new.observed_at is not None:
        lines.append(f"*Observed at:* {new.observed_at.isoformat()}")
    if new.impact:
        lines.append(f"*Impact:* {inline(clip(new.impact, _FIELD_LIMIT))}")
    if new.duration is not None:
        lines.append(f"*Duration:* {durations.format(new.duration)}")
    if new.actions:
        lines.append("*Actions:*\n" + "\n".join(f"# {inline(clip(a, 500))}" for a in new.actions))
    return "\n".join(lines)


def render(new: NewTicket, limit: int = DESCRIPTION_LIMIT) -> Rendered:
    """The description for a new ticket, at most ``limit`` characters."""
    human = _human(new, new.message)
    block = _block(_data(new, new.message))
    own = new.description
    text = f"{own}\n{human}\n{block}" if own else f"{human}\n{block}"
    budget = max(limit - INDEX_ROOM, limit // 2)
    if len(text) <= budget:
        return Rendered(text)
    short = NewTicket(
        kind=new.kind,
        title=new.title,
        instance=clip(new.instance, 255),
        observed_at=new.observed_at,
        impact=clip(new.impact, _FIELD_LIMIT),
        duration=new.duration,
        actions=tuple(clip(a, 500) for a in new.actions[:50]),
        event_id=new.event_id,
        team=new.team,
        related=new.related,
        links=new.links,
    )
    human = _human(short, new.message)
    block = _block(_data(short, clip(new.message, 1_000), message_file=MESSAGE_FILE))
    room = budget - len(human) - len(block) - 2
    own = clip(own, room) if own and room > 0 else ""
    text = f"{own}\n{human}\n{block}" if own else f"{human}\n{block}"
    return Rendered(text, overflow=new.message)


def parse(text: str | None) -> Parsed:
    """Split a description into the ticket's own text and the bridge's data block."""
    if not text:
        return Parsed("", {})
    start = text.rfind(_BLOCK)
    if start < 0:
        return Parsed(text, {})
    end = text.find(_END, start + len(_BLOCK))
    payload = text[start + len(_BLOCK) : end if end >= 0 else len(text)]
    try:
        data = json.loads(payload)
    except ValueError:
        return Parsed(text, {})
    if not isinstance(data, dict):
        return Parsed(text, {})
    rule = text.rfind(_RULE, 0, start)
    own = text[: rule if rule >= 0 else start].rstrip("\n")
    return Parsed(own, data)


def with_data(text: str | None, data: dict[str, Any]) -> str:
    """``text`` with its data block replaced by ``data`` (appended when it has none).

    Everything outside the block, whoever wrote it, is kept as it is.
    """
    text = text or ""
    start = text.rfind(_BLOCK)
    if start < 0:
        return f"{text}\n{_block(data)}" if text else _block(data)
    end = text.find(_END, start + len(_BLOCK))
    rest = text[end + len(_END) :] if end >= 0 else ""
    return text[:start] + _block(data) + rest


def with_entries(text: str | None, **entries: str | None) -> str:
    """``text`` with these entries set in its data block (None removes one)."""
    data = dict(parse(text).data) or {"v": 1}
    for name, value in entries.items():
        if value is None:
            data.pop(name, None)
        else:
            data[name] = value
    return with_data(text, data)


def parse_time(value: Any) -> datetime | None:
    """An ISO 8601 time from the data block, or None."""
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None
