"""Impact as data (``observe --duration``) and the forecast in ``report``: JSON and terminal."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

import pytest

from support.cli import run
from tracker_bridge.domain.tickets import utcnow


def _observe(capsys: pytest.CaptureFixture[str], days_ago: float, *extra: str) -> dict[str, object]:
    at = (utcnow() - timedelta(days=days_ago)).isoformat()
    code, out, err = run(capsys, "observe", "Disk full", "-i", "db-1", "--at", at, "--json", *extra)
    assert code == 0, err
    result: dict[str, object] = json.loads(out)
    return result


def test_duration_is_data_on_the_observation(capsys: pytest.CaptureFixture[str]) -> None:
    made = _observe(capsys, 1, "--duration", "1h30m", "--impact", "uploads failed")
    code, out, _ = run(capsys, "show", str(made["observation"]), "--json")
    shown = json.loads(out)
    assert code == 0
    assert (shown["duration"], shown["duration_minutes"]) == ("1h30m", 90)
    assert shown["impact"] == "uploads failed"
    code, out, _ = run(capsys, "show", str(made["defect"]), "--json")
    assert [o.get("duration") for o in json.loads(out)["observations"]] == ["1h30m"]
    code, out, _ = run(capsys, "show", str(made["defect"]))
    assert code == 0 and "lasted: 1h30m" in out


@pytest.mark.parametrize("bad", ["5 minutes", "90", "1.5h", "0s", "m20"])
def test_bad_duration_is_refused_before_anything_is_made(
    capsys: pytest.CaptureFixture[str], bad: str
) -> None:
    code, out, err = run(capsys, "observe", "Disk full", "-i", "db-1", "--duration", bad)
    assert code == 2 and out == ""
    assert ("--duration" in err and "1h30m" in err) or "no time" in err
    assert "Traceback" not in err
    code, out, err = run(capsys, "report", "--json")
    assert code == 2 and "no tracker here" in err  # nothing was made, not even the tracker


def test_report_json_counts_impact_and_the_quiet_time(capsys: pytest.CaptureFixture[str]) -> None:
    # the example: three sightings in nine days, the last one 86 days ago
    for days, span in ((95, "20m"), (91, "45s"), (86, "1h")):
        _observe(capsys, days, "--duration", span)
    _observe(capsys, 90)  # a sighting without a duration: not zero minutes, just unknown
    code, out, _ = run(capsys, "report", "--json")
    assert code == 0
    [r] = json.loads(out)
    assert r["sightings"] == 4
    assert r["impact_minutes"] == pytest.approx(20 + 0.75 + 60, abs=0.01)
    assert r["impact_median_minutes"] == 20
    assert r["impact_recorded"] == 3
    assert r["overdue"] is True and r["overdue_since"] < utcnow().isoformat()
    assert r["per_week"] < 0.5
    assert r["next_expected"] > utcnow().isoformat()
    low, high = r["expected_next_30_days_interval"]
    assert low <= r["expected_next_30_days"] <= high and low == 0
    assert r["expected_next_30_days"] < 1.5
    assert r["weekly"] == [0] * 12  # nothing in the last twelve weeks
    assert r["quiet_days"] == pytest.approx(86, abs=0.01)


def test_terminal_report_has_a_sparkline_and_the_overdue_flag(
    capsys: pytest.CaptureFixture[str],
) -> None:
    for days in (40, 33, 30, 26):
        _observe(capsys, days, "--duration", "10m")
    code, out, _ = run(capsys, "report")
    head, row = out.splitlines()[:2]
    assert code == 0
    assert "12 weeks" in head and "overdue" in head
    spark = row.split()[4]
    assert spark == "······▄█▄···"  # weeks 5, 4 (two) and 3 back
    assert "since 20" in row  # overdue since a date
    assert "40 min" in row


def _evidence(capsys: pytest.CaptureFixture[str], key: str) -> list[str]:
    code, out, _ = run(capsys, "show", key, "--json")
    assert code == 0
    return [e["name"] for e in json.loads(out)["evidence"]]


def test_attach_replaces_the_earlier_report(capsys: pytest.CaptureFixture[str]) -> None:
    made = _observe(capsys, 3, "--duration", "20m")
    defect = str(made["defect"])
    code, out, _ = run(capsys, "report", defect, "--attach")
    assert code == 0 and out == f"report-{defect}.html on {defect}: attached.\n"
    code, out, _ = run(capsys, "report", defect, "--attach", "--json")
    assert (code == 0 and json.loads(out)["unchanged"] is True) or json.loads(out)["replaced"]
    _observe(capsys, 1, "--duration", "40m")
    code, out, _ = run(capsys, "report", defect, "--attach", "--json")
    attached = json.loads(out)
    assert code == 0 and attached["replaced"] is True and attached["unchanged"] is False
    assert _evidence(capsys, defect) == [f"report-{defect}.html"]
    from tracker_bridge.trackers.local import LocalTracker

    stored = LocalTracker(".bridge/bridge.db")
    try:
        page = stored.blob(attached["sha256"]).decode()
    finally:
        stored.close()
    assert 'data-field="impact_minutes" data-value="60.0"' in page
    code, out, _ = run(capsys, "report", defect, "--format", "png", "--attach")
    assert code == 0 and out == f"report-{defect}.png on {defect}: attached.\n"
    assert sorted(_evidence(capsys, defect)) == [f"report-{defect}.html", f"report-{defect}.png"]


def test_png_needs_one_defect_and_a_file(capsys: pytest.CaptureFixture[str]) -> None:
    made = _observe(capsys, 3)
    code, _, err = run(capsys, "report", "--format", "png")
    assert code == 2 and "--output" in err
    code, _, err = run(capsys, "report", "--attach")
    assert code == 2 and "DEFECT" in err
    code, _, _ = run(capsys, "report", str(made["defect"]), "--format", "png", "--output", "c.png")
    from pathlib import Path

    assert code == 0 and Path("c.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


def test_attach_refuses_trackers_that_cannot_replace() -> None:
    from typing import cast

    from tracker_bridge.errors import UsageError
    from tracker_bridge.trackers.base import Tracker
    from tracker_bridge.workflows import report

    class Plain:
        name = "jira:OPS@example"

    with pytest.raises(UsageError, match="cannot replace an attachment") as caught:
        report.attach(cast(Tracker, Plain()), "OPS-1", "report-OPS-1.html", b"<html>")
    assert caught.value.hint and "--output" in caught.value.hint


def test_local_replace_attachment_swaps_by_name_and_drops_the_old_bytes() -> None:
    from support.contract import evidence, new_defect
    from tracker_bridge.domain.conventions import Conventions
    from tracker_bridge.errors import NotFoundError
    from tracker_bridge.trackers.base import ReplacesAttachments
    from tracker_bridge.trackers.local import LocalTracker

    t = LocalTracker(":memory:")
    assert isinstance(t, ReplacesAttachments)
    key = t.create(new_defect(Conventions(), "Disk full")).key
    t.attach(key, [evidence("df.txt", "100%")])
    first = t.replace_attachment(key, evidence("report.html", "one"))
    assert t.replace_attachment(key, evidence("report.html", "one")) == first
    second = t.replace_attachment(key, evidence("report.html", "two"))
    assert [(e.name, e.sha256) for e in t.get(key).evidence] == [
        ("df.txt", t.get(key).evidence[0].sha256),
        ("report.html", second.sha256),
    ]
    with pytest.raises(NotFoundError):
        t.blob(first.sha256)
    assert t.blob(second.sha256) == b"two"
    with pytest.raises(NotFoundError):
        t.replace_attachment("OPS-99", evidence("report.html", "x"))


def test_a_kept_observation_keeps_its_duration(tmp_path: Path) -> None:
    from contextlib import closing

    from tracker_bridge.domain.conventions import Conventions
    from tracker_bridge.errors import DeliveryDeferred, TrackerUnavailable
    from tracker_bridge.journal.sqlite import SqliteJournal
    from tracker_bridge.trackers.local import LocalTracker
    from tracker_bridge.workflows import observe
    from tracker_bridge.workflows.observe import Request

    class Down(LocalTracker):
        def defects(self):  # type: ignore[no-untyped-def]
            raise TrackerUnavailable("connection refused")

    with closing(SqliteJournal(tmp_path / "journal.db")) as journal:
        for instance, lasted in (("db-1", timedelta(minutes=95)), ("db-2", None)):
            with pytest.raises(DeliveryDeferred):
                observe.run(
                    Down(":memory:"),
                    Conventions(),
                    Request("Disk full", instance, duration=lasted),
                    journal=journal,
                )
        up = LocalTracker(":memory:")
        sent = [observe.resume(up, Conventions(), journal, e.id) for e in journal.entries()]
        durations = [up.get(r.observation or "").duration for r in sent]
    assert durations == [timedelta(minutes=95), None]


def test_postmortem_and_report_give_the_same_expected_impact(
    capsys: pytest.CaptureFixture[str],
) -> None:
    for days, span in ((40, "5h"), (30, "7h"), (21, "6h"), (9, "9h"), (2, "8h")):
        made = _observe(capsys, days, "--duration", span)
    code, out, err = run(capsys, "report", "--json")
    assert code == 0, err
    [row] = json.loads(out)
    code, out, err = run(capsys, "postmortem", str(made["defect"]))
    assert code == 0, err
    said = re.search(r"the next 30 days would cost about (\d+) minutes\.", out)
    assert said, out
    # one figure, rounded to whole minutes (it was the rounded forecast times the median)
    assert abs(int(said.group(1)) - row["expected_impact_minutes_next_30_days"]) <= 0.5
