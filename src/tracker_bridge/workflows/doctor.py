"""``doctor``: what works on the configured tracker and on every team's, and what to change.

Each distinct tracker (by its name: site and project or repository) is checked once, however many
teams share it. A tracker that can tell more (``Diagnosable``: Jira, GitHub) runs its own checks;
any other gets the generic ones (its limits, one page of defects). A tracker that cannot even be
built (a team without a token) is a failed finding, not an error: doctor reports everything.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from tracker_bridge.errors import BridgeError
from tracker_bridge.trackers.base import Diagnosable, Finding, Tracker


@dataclass(frozen=True, slots=True)
class Site:
    """The checks of one tracker, and who uses it (``tracker``, ``team platform``, ...)."""

    name: str
    used_by: tuple[str, ...]
    findings: tuple[Finding, ...]

    @property
    def usable(self) -> bool:
        return all(f.health != "failed" for f in self.findings)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "used_by": list(self.used_by),
            "usable": self.usable,
            "findings": [
                {
                    "check": f.check,
                    "health": f.health,
                    "detail": f.detail,
                    "cost": f.cost,
                    "fix": f.fix,
                }
                for f in self.findings
            ],
        }


@dataclass(frozen=True, slots=True)
class Result:
    """Every site checked; ``usable`` when none has a failed check."""

    sites: tuple[Site, ...]

    @property
    def usable(self) -> bool:
        return all(site.usable for site in self.sites)

    def to_json(self) -> dict[str, Any]:
        return {"usable": self.usable, "sites": [s.to_json() for s in self.sites]}


Opener = Callable[[], Tracker]
"""Builds one tracker (may raise ``BridgeError``: bad configuration); the caller closes it."""


@dataclass(frozen=True, slots=True)
class Target:
    """Who uses a tracker (``tracker`` or a team's name), how to build it, and for a team the
    issue type its delegated work is filed as."""

    who: str
    open: Opener
    team: str = ""
    issue_type: str = ""


TEAM_KEYS = frozenset({"url", "project", "repository", "deployment", "email", "issue_type"})
"""Keys a ``[teams.NAME]`` section has: a fix naming another ``[tracker]`` key is ours only."""


def run(targets: Sequence[Target]) -> Result:
    """Check each distinct tracker once (per use: the bridge's own tickets, or a team's)."""
    order: list[tuple[str, str]] = []
    users: dict[tuple[str, str], list[str]] = {}
    findings: dict[tuple[str, str], tuple[Finding, ...]] = {}
    for target in targets:
        try:
            tracker = target.open()
        except BridgeError as exc:
            key = (f"{target.who}: not built", "")
            order.append(key)
            users[key] = [target.who]
            found = Finding("configuration", "failed", exc.message, fix=exc.hint or "")
            findings[key] = (_for(found, target),)
            continue
        try:
            key = (tracker.name, target.issue_type)
            if key in users:
                users[key].append(target.who)
                continue
            order.append(key)
            users[key] = [target.who]
            found_all = check(tracker, issue_type=target.issue_type)
            findings[key] = tuple(_for(f, target) for f in found_all)
        finally:
            tracker.close()
    return Result(tuple(Site(k[0], tuple(users[k]), findings[k]) for k in order))


def _for(finding: Finding, target: Target) -> Finding:
    """The finding with its fix written for the section of bridge.toml that ``target`` uses."""
    fix = finding.fix
    if not target.team:
        return finding if not fix.startswith("[team]") else replace(finding, fix="")
    section = f"[teams.{target.team}]"
    if fix.startswith("[team]"):
        fix = section + fix[len("[team]") :]
    elif fix.startswith("[tracker] "):
        key = fix[len("[tracker] ") :].split(" ", 1)[0]
        fix = section + fix[len("[tracker]") :] if key in TEAM_KEYS else ""
    return replace(finding, fix=fix)


def check(tracker: Tracker, *, issue_type: str = "") -> list[Finding]:
    """The checks of one tracker: its own when it has them, else the generic ones."""
    if isinstance(tracker, Diagnosable):
        return tracker.diagnose(issue_type=issue_type)
    try:
        limit = tracker.capabilities().upload_limit
        next(iter(tracker.defects()), None)
    except BridgeError as exc:
        return [Finding("reachable", "failed", exc.message, fix=exc.hint or "")]
    size = "no upload limit" if limit is None else f"up to {limit:,} bytes per file"
    return [
        Finding("reachable", "ok", tracker.name),
        Finding("search", "ok", "defects can be listed"),
        Finding("attachments", "ok", size),
    ]
