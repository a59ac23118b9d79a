"""Recurrence statistics: how often, where, and a forecast only when the data supports one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tracker_bridge.domain.humanize import duration
from tracker_bridge.domain.recurrence import summarise
from tracker_bridge.domain.tickets import Kind, Status, Ticket

T0 = datetime(2026, 10, 1, tzinfo=UTC)


def obs(days: float, instance: str, *, actions: tuple[str, ...] = (), impact: str = "") -> Ticket:
    return Ticket(
        key=f"OPS-{int(days * 10)}",
        title="t",
        kind=Kind.OBSERVATION,
        status=Status.OPEN,
        created=T0,
        observed_at=T0 + timedelta(days=days),
        instance=instance,
        actions=actions,
        impact=impact,
    )


def test_empty() -> None:
    r = summarise([])
    assert (r.count, r.first_seen, r.next_expected, r.per_week) == (0, None, None, None)


def test_counts_places_actions_and_forecast() -> None:
    r = summarise(
        [
            obs(14, "b", actions=("rotated logs",), impact="5xx 4 min"),
            obs(0, "a", actions=("wiped /tmp",)),
            obs(7, "a", actions=("wiped /tmp",)),
        ]
    )
    assert r.count == 3
    assert r.first_seen == T0 and r.last_seen == T0 + timedelta(days=14)
    assert r.instances == (("a", 2), ("b", 1))
    assert r.median_interval == timedelta(days=7)
    assert r.next_expected == T0 + timedelta(days=21)
    assert r.per_week == 1.5
    assert r.actions == ("wiped /tmp", "rotated logs")
    assert r.impacts == ("5xx 4 min",)


def test_no_forecast_from_a_burst_or_two_sightings() -> None:
    burst = summarise([obs(0, "a"), obs(0.001, "a"), obs(0.002, "a")])
    assert burst.next_expected is None and burst.per_week is None
    two = summarise([obs(0, "a"), obs(10, "a")])
    assert two.next_expected is None and two.per_week == 1.4


def test_duration() -> None:
    assert duration(timedelta(days=16, hours=1)) == "16 days"
    assert duration(timedelta(hours=1)) == "1 hour"
    assert duration(timedelta(minutes=90)) == "1.5 hours"
    assert duration(timedelta(seconds=5)) == "5 seconds"
