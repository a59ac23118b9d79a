"""``evidence sync``: roll a defect's evidence up into one index, or copy it to another ticket.

The index is a Markdown file attached to the defect (which observation, which file, hash, size,
provenance, link): the files themselves are not copied again. Re-syncing with nothing new is a
no-op, because trackers skip content they already hold. ``--to`` copies the files into another
ticket once, skipping what it already has; evidence marked sensitive is never copied into
another team's project, only referenced there by a remote link to where we keep it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from tracker_bridge.domain.tickets import (
    EvidenceFile,
    EvidenceRef,
    RemoteLink,
    Ticket,
    Tree,
    utcnow,
)
from tracker_bridge.errors import UsageError
from tracker_bridge.trackers.base import Tracker
from tracker_bridge.workflows.evidence import ref_json

INDEX_NAME = "evidence-index.md"


@dataclass(frozen=True, slots=True)
class Synced:
    """What a sync did."""

    defect: str
    entries: int
    index: EvidenceRef | None = None
    target: str | None = None
    copied: tuple[EvidenceRef, ...] = ()
    already: tuple[str, ...] = ()
    """Names of evidence the target already held (by content hash)."""
    referenced: tuple[str, ...] = ()
    """Sensitive evidence named in a note on the target instead of being copied."""

    def to_json(self) -> dict[str, Any]:
        return {
            "defect": self.defect,
            "entries": self.entries,
            "index": ref_json(self.index) if self.index else None,
            "target": self.target,
            "copied": [ref_json(r) for r in self.copied],
            "already_there": list(self.already),
            "referenced_only": list(self.referenced),
        }


def index_markdown(tree: Tree) -> str:
    """The evidence index of a defect: one row per evidence item of each observation."""
    lines = [
        f"# Evidence of {tree.ticket.key}: {tree.ticket.title}",
        "",
        "| observation | instance | file | size | sha256 | source | captured | redacted | link |",
        "| --- | --- | --- | ---: | --- | --- | --- | --- | --- |",
    ]
    for obs in tree.observations:
        for ref in obs.evidence:
            redacted = ", ".join(f"{n} {kind}" for kind, n in ref.redactions) or (
                "not scanned" if not ref.scanned else "none"
            )
            cells = [
                obs.key,
                obs.instance,
                ref.name + (" (sensitive)" if ref.sensitive else ""),
                str(ref.size),
                ref.sha256[:16],
                ref.source,
                ref.captured_at.isoformat() if ref.captured_at else "",
                redacted,
                ref.url,
            ]
            lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return "\n".join(lines) + "\n"


def roll_up(tracker: Tracker, defect_key: str) -> Synced:
    """Attach (or keep, when unchanged) the evidence index on the defect."""
    tree = _defect_tree(tracker, defect_key)
    entries = sum(len(o.evidence) for o in tree.observations)
    body = index_markdown(tree).encode("utf-8")
    index = EvidenceFile(
        name=INDEX_NAME, data=body, source=f"index:{defect_key}", captured_at=utcnow()
    )
    [stored] = tracker.attach(defect_key, [index])
    return Synced(defect=defect_key, entries=entries, index=stored)


def copy_to(
    source: Tracker, defect_key: str, target: Tracker, target_key: str, *, other_team: bool
) -> Synced:
    """Copy the defect's observation evidence into ``target_key`` once (all in one upload)."""
    tree = _defect_tree(source, defect_key)
    held = {ref.sha256 for ref in target.get(target_key).evidence}
    files: list[EvidenceFile] = []
    already: list[str] = []
    referenced: list[tuple[Ticket, EvidenceRef]] = []
    seen: set[str] = set()
    for obs in tree.observations:
        for ref in obs.evidence:
            if ref.sha256 in seen:
                continue
            seen.add(ref.sha256)
            if ref.sha256 in held:
                already.append(ref.name)
            elif ref.sensitive and other_team:
                referenced.append((obs, ref))
            else:
                files.append(
                    EvidenceFile(
                        name=f"{_slug(obs.key)}-{ref.name}",
                        data=source.fetch_evidence(obs.key, ref),
                        source=ref.source,
                        captured_at=ref.captured_at or obs.created,
                        redactions=ref.redactions,
                        scanned=ref.scanned,
                        sensitive=ref.sensitive,
                    )
                )
    copied = target.attach(target_key, files) if files else []
    for obs, ref in referenced:
        # a link, not a comment: the same global id again updates it, so re-syncing adds nothing
        target.link_remote(
            target_key,
            RemoteLink(
                url=ref.url or obs.url,
                title=f"Sensitive evidence {ref.name} of {obs.key} (kept by us; ask for access)",
                global_id=f"bridge-evidence:{ref.sha256[:40]}",
                relationship="sensitive evidence",
            ),
        )
    return Synced(
        defect=defect_key,
        entries=len(seen),
        target=target_key,
        copied=tuple(copied),
        already=tuple(already),
        referenced=tuple(ref.name for _, ref in referenced),
    )


def _defect_tree(tracker: Tracker, key: str) -> Tree:
    tree = tracker.tree(key)
    if tree.ticket.kind is None or tree.ticket.kind.value != "defect":
        raise UsageError(f"{key} is not a defect; evidence sync rolls up a defect's observations.")
    return tree


def _slug(key: str) -> str:
    """A ticket key safe inside a file name (``acme/ops#2`` -> ``acme-ops-2``)."""
    return "-".join(part for part in re.split(r"[^A-Za-z0-9]+", key) if part)


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")
