"""``list``: the tickets the bridge tends, most pressing first, from one streaming scan.

Defects are ranked like ``report`` ranks them: sightings in the last 30 days, then all sightings,
then the most recently seen. Per defect only counters are kept (sightings, recent sightings, last
seen, sightings per instance), never the observations themselves.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from tracker_bridge.domain.conventions import Conventions
from tracker_bridge.domain.tickets import Kind, Ticket, utcnow
from tracker_bridge.trackers.base import Tracker

RECENT = timedelta(days=30)
KindFilter = Literal["defect", "observation", "remediation", "all"]
StatusFilter = Literal["open", "done", "all"]


@dataclass(frozen=True, slots=True)
class Row:
    """One listed ticket."""

    key: str
    title: str
    kind: str
    status: str
    sightings: int
    """Defects: observations (in the filter's window); observations: 1; remediations: 0."""
    last_seen: datetime | None
    instances: tuple[tuple[str, int], ...]
    """Instances with their sighting counts, most frequent first."""
    recent: int = 0
    parent: str | None = None
    url: str = ""
    duplicate_of: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "title": self.title,
            "kind": self.kind,
            "status": self.status,
            "sightings": self.sightings,
            "last_30_days": self.recent,
            "last_seen": self.last_seen.isoformat() if self.last_seen else None,
            "instances": [{"instance": name, "sightings": n} for name, n in self.instances],
            "parent": self.parent,
            "duplicate_of": self.duplicate_of,
            "url": self.url,
        }


@dataclass(frozen=True, slots=True)
class Filter:
    """What ``list`` shows."""

    kind: KindFilter = "defect"
    status: StatusFilter = "open"
    instance: str | None = None
    since: datetime | None = None
    """Only sightings at or after this time count; tickets with none are left out."""

    def status_matches(self, ticket: Ticket) -> bool:
        if self.status == "all":
            return True
        return ticket.is_done is (self.status == "done")


@dataclass
class _Tally:
    count: int = 0
    recent: int = 0
    last_seen: datetime | None = None
    places: Counter[str] = field(default_factory=Counter)

    def add(self, seen: datetime, instance: str, now: datetime) -> None:
        self.count += 1
        self.recent += now - seen <= RECENT
        self.last_seen = seen if self.last_seen is None else max(self.last_seen, seen)
        if instance:
            self.places[instance] += 1

    def instances(self) -> tuple[tuple[str, int], ...]:
        return tuple(sorted(self.places.items(), key=lambda kv: (-kv[1], kv[0])))


def run(
    tracker: Tracker,
    conventions: Conventions,
    wanted: Filter,
    *,
    now: datetime | None = None,
    progress: Callable[[int], None] | None = None,
) -> list[Row]:
    """The tickets ``wanted`` picks, most pressing first."""
    now = now or utcnow()
    defects: dict[str, Ticket] = {}
    tallies: dict[str, _Tally] = {}
    others: list[Row] = []
    for read, ticket in enumerate(tracker.scan(conventions.observation_prefix), start=1):
        if progress is not None:
            progress(read)
        if ticket.kind is Kind.DEFECT:
            if wanted.kind in ("defect", "all") and wanted.status_matches(ticket):
                defects[ticket.key] = _slim(ticket)
            continue
        if ticket.kind is Kind.OBSERVATION:
            seen = ticket.observed_at or ticket.created
            if not _sighting_matches(wanted, ticket, seen):
                continue
            if ticket.parent:
                tallies.setdefault(ticket.parent, _Tally()).add(seen, ticket.instance, now)
            if wanted.kind in ("observation", "all") and wanted.status_matches(ticket):
                places = ((ticket.instance, 1),) if ticket.instance else ()
                others.append(_row(ticket, 1, seen, places, int(now - seen <= RECENT)))
        elif (
            ticket.kind is Kind.REMEDIATION
            and wanted.kind in ("remediation", "all")
            and wanted.status_matches(ticket)
            and wanted.instance is None
            and wanted.since is None
        ):
            others.append(_row(ticket, 0, None, (), 0))
    rows = []
    for key, defect in defects.items():
        tally = tallies.get(key, _Tally())
        if (wanted.instance is not None or wanted.since is not None) and not tally.count:
            continue
        rows.append(_row(defect, tally.count, tally.last_seen, tally.instances(), tally.recent))
    rows.sort(key=_pressing)
    others.sort(key=_newest)
    return rows + others


def _sighting_matches(wanted: Filter, ticket: Ticket, seen: datetime) -> bool:
    if wanted.instance is not None and ticket.instance != wanted.instance:
        return False
    return wanted.since is None or seen >= wanted.since


def _pressing(row: Row) -> tuple[int, int, float, str]:
    last = -row.last_seen.timestamp() if row.last_seen else 0.0
    return (-row.recent, -row.sightings, last, row.key)


def _newest(row: Row) -> tuple[float, str]:
    return (-row.last_seen.timestamp() if row.last_seen else 0.0, row.key)


def _slim(ticket: Ticket) -> Ticket:
    return Ticket(
        key=ticket.key,
        title=ticket.title,
        kind=ticket.kind,
        status=ticket.status,
        created=ticket.created,
        url=ticket.url,
        duplicate_of=ticket.duplicate_of,
    )


def _row(
    ticket: Ticket,
    sightings: int,
    last_seen: datetime | None,
    instances: tuple[tuple[str, int], ...],
    recent: int,
) -> Row:
    return Row(
        key=ticket.key,
        title=ticket.title,
        kind=ticket.kind.value if ticket.kind else "",
        status=ticket.status.value,
        sightings=sightings,
        last_seen=last_seen,
        instances=instances,
        recent=recent,
        parent=ticket.parent,
        url=ticket.url,
        duplicate_of=ticket.duplicate_of,
    )
