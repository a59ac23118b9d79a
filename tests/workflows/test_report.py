"""``bridge report``: figures per defect, most pressing first, in formats real parsers read back."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest

from support.cli import run
from support.contract import new_defect
from tracker_bridge.cli import report_formats
from tracker_bridge.domain.conventions import Conventions, format_title
from tracker_bridge.domain.tickets import Kind, NewTicket, RemoteLink
from tracker_bridge.errors import UsageError
from tracker_bridge.trackers.local import LocalTracker
from tracker_bridge.workflows import report

CONV = Conventions()
NOW = datetime(2026, 11, 21, 12, tzinfo=UTC)


def sighting(tracker: LocalTracker, defect: str, instance: str, days_ago: float) -> None:
    tracker.create(
        NewTicket(
            kind=Kind.OBSERVATION,
            title=format_title("m", instance),
            message="m",
            parent=defect,
            instance=instance,
            observed_at=NOW - timedelta(days=days_ago),
            impact=f"impact on {instance}",
        )
    )


@pytest.fixture
def tracker() -> LocalTracker:
    t = LocalTracker(":memory:")
    old = t.create(new_defect(CONV, "Disk full", fp="1" * 16)).key
    for days in (90, 60, 45):
        sighting(t, old, "db-1", days)
    hot = t.create(new_defect(CONV, "Connection refused", fp="2" * 16)).key
    for days, host in ((20, "api-1"), (10, "api-2"), (1, "api-1")):
        sighting(t, hot, host, days)
    t.create(NewTicket(kind=Kind.REMEDIATION, title="Pool limits", parent=hot))
    done = t.create(NewTicket(kind=Kind.REMEDIATION, title="Retry", parent=hot)).key
    t.resolve(done)
    t.link_remote(
        old, RemoteLink("https://plat/PLAT-1", "PLAT-1: x", "bridge-delegate:plat:PLAT-1")
    )
    t.create(new_defect(CONV, "Never seen", fp="3" * 16))
    return t


def test_all_defects_most_pressing_first(tracker: LocalTracker) -> None:
    reports = report.run(tracker, CONV, now=NOW)
    assert [r.title for r in reports] == ["Connection refused", "Disk full", "Never seen"]
    hot, old, never = reports
    assert (hot.stats.count, hot.recent, hot.remediations, hot.remediations_done) == (3, 3, 2, 1)
    assert hot.stats.instances == (("api-1", 2), ("api-2", 1))
    assert hot.stats.next_expected == NOW - timedelta(days=1) + timedelta(days=9.5)
    assert (old.stats.count, old.recent, old.remediations) == (3, 0, 1)
    assert (never.stats.count, never.stats.first_seen, never.remediations) == (0, None, 0)


def test_one_defect_matches_the_full_scan(tracker: LocalTracker) -> None:
    every = {r.key: r for r in report.run(tracker, CONV, now=NOW)}
    for key, whole in every.items():
        [one] = report.run(tracker, CONV, defect=key, now=NOW)
        assert one == whole
    obs = tracker.tree(next(iter(every))).observations[0].key
    with pytest.raises(UsageError, match="not a defect"):
        report.run(tracker, CONV, defect=obs, now=NOW)


def test_formats_parse_back(tracker: LocalTracker) -> None:
    reports = report.run(tracker, CONV, now=NOW)
    data = json.loads(report_formats.render(reports, "json"))
    assert [d["sightings"] for d in data] == [3, 3, 0]
    assert data[0]["instances"] == [
        {"instance": "api-1", "sightings": 2},
        {"instance": "api-2", "sightings": 1},
    ]
    table = list(csv.reader(io.StringIO(report_formats.render(reports, "csv"))))
    assert table[0] == list(report_formats.COLUMNS) and len(table) == 4
    assert table[1][report_formats.COLUMNS.index("remediations")] == "1/2 done"
    md = report_formats.render(reports, "md").splitlines()
    assert all(line.count(" | ") == len(report_formats.COLUMNS) - 1 for line in md)

    class Cells(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.cells: list[str] = []
            self.instances: list[str] = []

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            self.instances += [v or "" for k, v in attrs if k == "data-instance"]

        def handle_data(self, data: str) -> None:
            self.cells.append(data)

    page = Cells()
    page.feed(report_formats.render(reports, "html"))
    assert "Connection refused" in page.cells
    assert page.instances[:2] == ["api-1", "api-2"]
    assert report_formats.render([], "table") == "No defects."


def test_html_and_md_escape_titles() -> None:
    t = LocalTracker(":memory:")
    t.create(new_defect(CONV, "<script>alert(1)</script> | pipe", fp="4" * 16))
    reports = report.run(t, CONV, now=NOW)
    assert "<script>" not in report_formats.render(reports, "html")
    assert "\\| pipe" in report_formats.render(reports, "md")


def test_cli_report(capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "observe", "Disk full", "-i", "db-1")
    code, out, _ = run(capsys, "report")
    assert code == 0 and out.splitlines()[0].startswith("defect") and "Disk full" in out
    code, out, _ = run(capsys, "report", "--format", "csv", "--output", "r.csv")
    assert code == 0 and out == ""
    assert "Disk full" in Path("r.csv").read_text()
    code, out, _ = run(capsys, "report", "OPS-1", "--json")
    assert code == 0 and json.loads(out)[0]["sightings"] == 1
    code, _, err = run(capsys, "report", "OPS-2")
    assert code == 2 and "not a defect" in err


def test_html_links_open_the_tracker_page_or_an_anchor(tracker: LocalTracker) -> None:
    from dataclasses import replace

    local = report.run(tracker, CONV, now=NOW)
    page = report_formats.render(local, "html")
    assert "file://" not in page and "memory:" not in page
    for r in local:
        assert f'href="#{r.key}"' in page and f'id="{r.key}"' in page
        for s in r.sightings:
            assert f'href="#{s.key}"' in page and f'id="{s.key}"' in page
    web = [replace(r, url=f"https://example.atlassian.net/browse/{r.key}") for r in local]
    page = report_formats.render(web, "html")
    key = local[0].key
    assert f'<a href="https://example.atlassian.net/browse/{key}">{key}</a>' in page
    assert "Generated <time" in page and "window 20" in page


def test_html_ids_are_unique_across_charts(tracker: LocalTracker) -> None:
    # several inline SVGs share one document: a repeated clip-path id would clip the wrong chart
    import re
    from collections import Counter

    page = report_formats.render(report.run(tracker, CONV, now=NOW), "html")
    assert page.count("<svg") == 2
    ids = Counter(re.findall(r'\bid="([^"]+)"', page))
    assert ids and max(ids.values()) == 1, [i for i, n in ids.items() if n > 1][:5]
    referenced = set(re.findall(r"url\(#([^)]+)\)", page))
    referenced |= set(re.findall(r'href="#([^"]+)"', page))
    assert referenced and referenced <= set(ids), sorted(referenced - set(ids))[:5]
