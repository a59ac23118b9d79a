"""The report's charts: what makes them cheaper (one canvas for many, fixed title and label
places) must not change what any of them shows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from support.contract import new_defect
from tracker_bridge.cli import report_charts
from tracker_bridge.domain.conventions import Conventions, format_title
from tracker_bridge.domain.tickets import Kind, NewTicket
from tracker_bridge.trackers.local import LocalTracker
from tracker_bridge.workflows import report

CONV = Conventions()
NOW = datetime(2026, 11, 29, 12, tzinfo=UTC)


def _reports() -> list[report.DefectReport]:
    """Defects unlike one another: many instances (others), an overdue one, a single sighting."""
    t = LocalTracker(":memory:")
    busy = t.create(new_defect(CONV, "Connection refused", fp="1" * 16)).key
    quiet = t.create(new_defect(CONV, "Disk full", fp="2" * 16)).key
    once = t.create(new_defect(CONV, "Segfault", fp="3" * 16)).key
    sightings = [(busy, d, f"api-{d % 11}") for d in range(1, 60, 2)]
    sightings += [(quiet, d, "db-1") for d in (95, 91, 86)]  # overdue: its dashed line
    sightings += [(once, 3, "a-very-long-instance-name.example.com")]
    for parent, days, host in sightings:
        t.create(
            NewTicket(
                kind=Kind.OBSERVATION,
                title=format_title("m", host),
                parent=parent,
                instance=host,
                observed_at=NOW - timedelta(days=days),
                duration=timedelta(minutes=days),
            )
        )
    return report.run(t, CONV, now=NOW)


def test_one_canvas_draws_every_chart_as_a_new_automatic_figure_would(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    reports = _reports()
    start, end = report_charts.span(reports, NOW)
    canvas = report_charts.Canvas()
    fixed = report_charts._style
    with monkeypatch.context() as automatic:  # matplotlib's own placement, measured each draw
        automatic.setattr(
            report_charts, "_style", lambda salt: {**fixed(salt), "axes.titley": None}
        )
        automatic.setattr(report_charts, "_placed", lambda ax: None)
        alone = [report_charts.svg(r, start, end) for r in reports]
    # in both orders: nothing of one defect's chart may linger into the next one's
    assert [canvas.svg(r, start, end) for r in reports] == alone
    assert [canvas.svg(r, start, end) for r in reversed(reports)] == alone[::-1]
    assert len(set(alone)) == len(alone) and "overdue" in "".join(alone)
    assert canvas.png(reports[0], start, end) == report_charts.png(reports[0], start, end)
    assert [report_charts.svg(r, start, end) for r in reports] == alone
