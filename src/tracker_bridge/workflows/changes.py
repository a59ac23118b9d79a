"""Planned changes to tickets, shared by ``move``, ``merge``, ``resolve`` and ``reopen``.

Each of those workflows first *plans*: it reads the tracker and returns the changes still needed,
nothing for what is already so. ``--dry-run`` prints the plan; otherwise ``apply`` makes the
changes in order. Planning against what is there is what makes every lifecycle command
idempotent: run it twice and the second plan is empty.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from tracker_bridge.domain.tickets import RemoteLink
from tracker_bridge.trackers.base import Tracker

Action = Literal[
    "set-parent",
    "add-fingerprint",
    "remove-fingerprint",
    "mark-duplicate",
    "link",
    "comment",
    "resolve",
    "reopen",
]


@dataclass(frozen=True, slots=True)
class Change:
    """One write to one ticket."""

    action: Action
    key: str
    value: str = ""
    """The new parent, the fingerprint, the survivor, the comment, the reason, or empty."""
    link: RemoteLink | None = None
    """For ``link``: the remote link to record on ``key``."""

    def describe(self) -> str:
        """The change in words, e.g. ``OPS-3: set parent to OPS-5``."""
        what = {
            "set-parent": f"set parent to {self.value}",
            "add-fingerprint": f"add fingerprint {self.value}",
            "remove-fingerprint": f"remove fingerprint {self.value}",
            "mark-duplicate": f"close as a duplicate of {self.value}",
            "link": f"link {self.link.url if self.link else self.value}",
            "comment": f"comment {_short(self.value)!r}",
            "resolve": (f"resolve without remediation ({self.value})" if self.value else "resolve"),
            "reopen": "reopen",
        }[self.action]
        return f"{self.key}: {what}"

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"action": self.action, "key": self.key, "value": self.value}
        if self.link is not None:
            out["value"] = self.link.url
            out["global_id"] = self.link.global_id
        return out


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a lifecycle command did (or, with ``dry_run``, would do)."""

    command: str
    target: str
    """The ticket the command is about (the defect moved to, the survivor, the resolved one)."""
    changes: tuple[Change, ...]
    dry_run: bool
    unchanged: tuple[str, ...] = ()
    """Keys that were already as asked: nothing to do for them."""
    notes: tuple[str, ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        return {
            "command": self.command,
            "target": self.target,
            "dry_run": self.dry_run,
            "changed": bool(self.changes),
            "changes": [c.to_json() for c in self.changes],
            "unchanged": list(self.unchanged),
            "notes": list(self.notes),
        }


def carry_out(tracker: Tracker, outcome: Outcome, *, dry_run: bool) -> Outcome:
    """Apply a planned outcome unless ``dry_run``; the outcome says which it was."""
    if not dry_run:
        apply(tracker, outcome.changes)
    return replace(outcome, dry_run=dry_run)


def apply(
    tracker: Tracker,
    changes: Sequence[Change],
    *,
    done: Callable[[Change], None] | None = None,
) -> None:
    """Make ``changes`` in order; ``done`` hears of each one made (for progress).

    A failure stops at the change that failed; every change before it stands, and running the
    same command again plans only what is still missing.
    """
    for change in changes:
        _apply_one(tracker, change)
        if done is not None:
            done(change)


def _apply_one(tracker: Tracker, change: Change) -> None:
    key, value = change.key, change.value
    match change.action:
        case "set-parent":
            tracker.set_parent(key, value)
        case "add-fingerprint":
            tracker.add_fingerprint(key, value)
        case "remove-fingerprint":
            tracker.remove_fingerprint(key, value)
        case "mark-duplicate":
            tracker.mark_duplicate(key, value)
        case "link":
            if change.link is not None:
                tracker.link_remote(key, change.link)
        case "comment":
            tracker.comment(key, value)
        case "resolve":
            tracker.resolve(key, without_remediation=value)
        case "reopen":
            tracker.reopen(key)


def _short(text: str, limit: int = 60) -> str:
    one_line = " ".join(text.split())
    return one_line if len(one_line) <= limit else one_line[: limit - 1] + "…"
