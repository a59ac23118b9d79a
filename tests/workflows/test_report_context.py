"""The washup and the delegated ticket make the same case as ``report``: a timeline in time order,
the forecast, impact totals, and an honest count of the observations they list."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from support.contract import new_defect, new_observation
from tracker_bridge.domain.conventions import Conventions
from tracker_bridge.domain.teams import Team
from tracker_bridge.domain.tickets import utcnow
from tracker_bridge.trackers.local import LocalTracker
from tracker_bridge.workflows import delegate, postmortem
from tracker_bridge.workflows.delegate import Request

CONV = Conventions()
TEAM = Team(name="platform", project="PLAT", issue_type="Story")


def seeded(days_ago: list[float], *, minutes: int = 20) -> tuple[LocalTracker, str]:
    t = LocalTracker(":memory:")
    defect = t.create(new_defect(CONV, "No space left on device")).key
    for i, days in enumerate(days_ago):
        made = new_observation(
            CONV,
            defect,
            "No space left on device",
            f"db-{i % 2}",
            duration=timedelta(minutes=minutes * (i + 1)),
        )
        t.create(replace(made, observed_at=utcnow() - timedelta(days=days)))
    return t, defect


def timeline(body: str) -> list[tuple[str, str]]:
    rows = [line.split(" | ") for line in body.splitlines() if line.startswith("| 20")]
    return [(r[0].lstrip("| "), r[1]) for r in rows]


def test_back_dated_sightings_put_the_late_ticket_where_it_belongs() -> None:
    # the issue's case: sightings recorded after the fact, back-dated to October
    tracker, defect = seeded([60, 55, 50])
    body = postmortem.run(tracker, defect).body
    rows = timeline(body)
    assert [when for when, _ in rows] == sorted(when for when, _ in rows)
    assert [what for _, what in rows][:3] == [
        "seen on db-0 (20m)",
        "seen on db-1 (40m)",
        "seen on db-0 (1h)",
    ]
    assert rows[-1][1] == "defect ticket opened, 60 days after the first sighting"


def test_a_defect_opened_by_its_sighting_heads_the_timeline() -> None:
    tracker, defect = seeded([0])
    rows = timeline(postmortem.run(tracker, defect).body)
    assert [what for _, what in rows] == ["defect opened", "seen on db-0 (20m)"]


def test_washup_has_the_forecast_and_impact_totals() -> None:
    tracker, defect = seeded([95, 91, 86])
    body = postmortem.run(tracker, defect).body
    assert "**120.0 minutes** in all, a median of 40.0 per sighting (3 of 3" in body
    assert "Expected in the next 30 days: **" in body
    assert "**overdue** since 20" in body
    assert "per week now, quiet time counted" in body


def _delegated(tracker: LocalTracker, defect: str) -> str:
    result = delegate.run(
        tracker,
        tracker,
        team=TEAM,
        conventions=CONV,
        request=Request(defect=defect, team="platform", dry_run=True),
        same_site=True,
    )
    return result.body


def test_delegate_says_n_of_m_when_it_lists_a_subset() -> None:
    tracker, defect = seeded([9, 8, 7, 6, 5, 4])
    body = _delegated(tracker, defect)
    assert "The latest 5 of 6 observations" in body
    listed = [line for line in body.splitlines() if line.startswith("- Observation ")]
    assert len(listed) == 5
    oldest = tracker.tree(defect).observations[0].key
    assert all(f" {oldest}:" not in line for line in listed)
    assert "420.0 minutes** of impact in all" in body
    assert "No impact was recorded" not in body
    tracker, defect = seeded([3, 2, 1])
    assert " of 3 observations" not in _delegated(tracker, defect)
