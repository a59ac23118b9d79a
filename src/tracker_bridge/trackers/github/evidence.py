"""Evidence comments on GitHub, which has no attachments API: what the comments say.

- **Text** (UTF-8, scanned by the redactor) goes into issue comments, one collapsed
  ``<details>`` section per file. A file longer than one comment is split into numbered parts
  (up to ``MAX_TEXT_PARTS`` comments); a longer one is committed like a binary file and the comment
  shows its head with a visible note and the link.
- **Binary** files (screenshots) are committed to the evidence branch (``branch``) and
  linked from a section here.
- All sections of one ``attach`` call are packed into as few comments as fit (each body within
  65,536 characters), each marked ``<!-- bridge:evidence BATCH i/n -->`` so a retried POST can
  first look for the comment it may already have made.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from tracker_bridge.domain.humanize import size
from tracker_bridge.domain.tickets import EvidenceFile, EvidenceRef
from tracker_bridge.trackers.github.body import (
    SAFE_LIMIT,
    clip_units,
    fenced,
    summary_line,
    unfence,
    units,
)

MAX_TEXT_PARTS = 8
TEXT_CHUNK = SAFE_LIMIT - 2_000
HEAD_SHOWN = 8_000
"""Characters of a committed text file shown inline."""


INLINE_BYTES = 3 * MAX_TEXT_PARTS * TEXT_CHUNK
"""Past this many bytes a text file cannot fit the inline parts (a UTF-16 unit is at most three
UTF-8 bytes), so it is committed without being read whole."""


def as_text(file: EvidenceFile) -> str | None:
    """The file as text when it can be shown inline, else None (binary, unscanned, too big)."""
    if not file.scanned or file.size > INLINE_BYTES:
        return None
    data = file.data
    if b"\x00" in data:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def head_text(file: EvidenceFile, chars: int = HEAD_SHOWN) -> str | None:
    """The first ``chars`` characters of a scanned text file (read from its head only), or None."""
    if not file.scanned:
        return None
    head = file.blob.head(chars * 4)
    if b"\x00" in head:
        return None
    text = head.decode("utf-8", "replace")
    if "\ufffd" in text[:-1]:
        return None
    return text.rstrip("\ufffd")[:chars]


def chunks(text: str, size: int = TEXT_CHUNK) -> list[str]:
    """``text`` cut into pieces of at most ``size`` UTF-16 units."""
    out: list[str] = []
    rest = text
    while rest:
        piece = clip_units(rest, size)
        out.append(piece)
        rest = rest[len(piece) :]
    return out or [""]


def needs_commit(file: EvidenceFile) -> bool:
    """True when the file goes to the evidence branch rather than inline."""
    text = as_text(file)
    return text is None or len(chunks(text)) > MAX_TEXT_PARTS


def inline_sections(ref: EvidenceRef, text: str) -> list[str]:
    """Collapsed sections holding ``text`` whole, one per comment-sized chunk."""
    pieces = chunks(text)
    total = len(pieces)
    return [
        _details(summary_line(ref, f"part {i} of {total}" if total > 1 else ""), fenced(piece))
        for i, piece in enumerate(pieces, 1)
    ]


def linked_section(ref: EvidenceRef, url: str, text: str | None) -> str:
    """A section linking a committed file; text files show their head, clipped visibly.

    ``text`` is the whole text, or (for a file too large to read whole) its head.
    """
    body = f"Stored in the evidence branch: [{_link_text(ref.name)}]({url})"
    if text is not None:
        head = clip_units(text, HEAD_SHOWN)
        whole = f"{len(text):,} characters" if len(text) > len(head) else size(ref.size)
        body += (
            f"\n\n**Clipped:** the first {len(head):,} characters of {whole} are shown; "
            f"the link holds the whole file.\n\n{fenced(head)}"
        )
    return _details(summary_line(ref), body)


def pack(sections: Sequence[tuple[str, str]], batch: str) -> list[tuple[str, list[str]]]:
    """Comment bodies holding ``(sha, section)`` pairs in order, as few as fit, each marked with
    ``batch``; with each body, the hashes of the files it shows."""
    groups: list[list[tuple[str, str]]] = [[]]
    size = 0
    room = SAFE_LIMIT - 100
    for sha, section in sections:
        cost = units(section) + 2
        if groups[-1] and size + cost > room:
            groups.append([])
            size = 0
        groups[-1].append((sha, section))
        size += cost
    total = len(groups)
    return [
        (
            f"{batch_marker(batch, i, total)}\n" + "\n\n".join(text for _, text in group),
            [sha for sha, _ in group],
        )
        for i, group in enumerate(groups, 1)
    ]


def batch_marker(batch: str, index: int, total: int) -> str:
    """The hidden marker of one evidence comment (looked up before a retried POST)."""
    return f"<!-- bridge:evidence {batch} {index}/{total} -->"


def find_inline(comment_bodies: Iterable[str], sha256: str) -> str | None:
    """The text of a file shown whole in evidence comments (all its parts, in order), or None."""
    pieces: list[str] = []
    for body in comment_bodies:
        if not body.startswith("<!-- bridge:evidence "):
            continue
        for section in body.split("<details><summary>")[1:]:
            summary = section.split("</summary>", 1)[0]
            if (
                f"sha256 {sha256[:12]}" in summary
                and "Stored in the evidence branch" not in section
            ):
                text = unfence(section.split("</summary>", 1)[1])
                if text is not None:
                    pieces.append(text)
    return "".join(pieces) if pieces else None


def _details(summary: str, body: str) -> str:
    return f"<details><summary>{summary}</summary>\n\n{body}\n\n</details>"


def _link_text(name: str) -> str:
    return re.sub(r"([\[\]\\`*_<>])", r"\\\1", " ".join(name.split()))
