"""The ids of links the bridge makes between trackers, made and parsed in this one place.

A remote link's ``global_id`` makes re-linking an upsert (Jira) and lets the bridge find its own
links again: ``bridge-delegate:TEAM:KEY`` on a defect names a remediation delegated to TEAM as
KEY on another site; ``bridge-defect:KEY`` on that remediation points back to the defect.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from tracker_bridge.domain.tickets import RemoteLink

DEFECT_PREFIX = "bridge-defect:"
"""``global_id`` prefix of the link from a delegated ticket back to its defect."""
DELEGATE_PREFIX = "bridge-delegate:"
"""``global_id`` prefix of the link from a defect to a remediation delegated elsewhere."""


@dataclass(frozen=True, slots=True)
class Delegated:
    """A remediation delegated to ``team`` as ``key``, read from a defect's remote link."""

    team: str
    key: str
    link: RemoteLink


def defect_link_id(defect: str) -> str:
    """The ``global_id`` of a delegated ticket's link back to ``defect``."""
    return f"{DEFECT_PREFIX}{defect}"


def delegate_link_id(team: str, key: str) -> str:
    """The ``global_id`` of a defect's link to ``key``, delegated to ``team``."""
    return f"{DELEGATE_PREFIX}{team}:{key}"


def parse_defect(link: RemoteLink) -> str | None:
    """The defect key a delegated ticket's link back names, or None for any other link."""
    if not link.global_id.startswith(DEFECT_PREFIX):
        return None
    return link.global_id[len(DEFECT_PREFIX) :] or None


def is_delegate_link(link: RemoteLink) -> bool:
    """Whether ``link`` points from a defect to a remediation delegated elsewhere."""
    return link.global_id.startswith(DELEGATE_PREFIX)


def parse_delegate(link: RemoteLink) -> Delegated | None:
    """The team and key a delegate link names, or None for any other link."""
    if not is_delegate_link(link):
        return None
    team, sep, key = link.global_id[len(DELEGATE_PREFIX) :].partition(":")
    if not sep or not team or not key:
        return None
    return Delegated(team=team, key=key, link=link)


def delegated(links: Iterable[RemoteLink]) -> list[Delegated]:
    """Every remediation delegated elsewhere among ``links``, in order."""
    return [d for d in (parse_delegate(link) for link in links) if d is not None]
