"""Size and time of the HTML report (matplotlib SVG charts inline) beside the plain table.

Usage::

    python benchmarks/report_html.py [--defects 40] [--sightings 12] [--repeat 3]

Fills an in-memory tracker with DEFECTS defects of SIGHTINGS sightings each (fixed seed), reads
the report once, then renders it as ``table`` (the baseline: no charts) and as ``html``
(charts for the 30 most pressing), REPEAT times each, and prints median seconds and bytes.

Then it draws the first ten charts REPEAT times more in three ways, alternately: as the report
did before (a new figure each, matplotlib placing titles and axis labels by measuring every tick
label), on a new figure with fixed places, and as it does now (one ``Canvas`` emptied between
charts, fixed places); the SVG is the same (``tests/cli/test_report_charts.py``). It prints the
median seconds per chart of each.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from tracker_bridge.cli import report_formats
from tracker_bridge.domain.conventions import Conventions, format_title
from tracker_bridge.domain.tickets import Kind, NewTicket
from tracker_bridge.trackers.local import LocalTracker
from tracker_bridge.workflows import report

NOW = datetime(2026, 11, 29, 12, tzinfo=UTC)


def seeded(defects: int, sightings: int) -> LocalTracker:
    rng = random.Random(18)
    conventions = Conventions()
    tracker = LocalTracker(":memory:")
    for d in range(defects):
        message = f"defect number {d} failed"
        key = tracker.create(
            NewTicket(
                kind=Kind.DEFECT,
                title=message,
                message=message,
                fingerprints=(f"{d:016x}",),
                labels=(conventions.defect_label,),
            )
        ).key
        for _ in range(sightings):
            host = f"host-{rng.randrange(6)}"
            tracker.create(
                NewTicket(
                    kind=Kind.OBSERVATION,
                    title=format_title(message, host),
                    parent=key,
                    instance=host,
                    observed_at=NOW - timedelta(days=rng.uniform(0, 120)),
                    duration=timedelta(minutes=rng.randrange(1, 120)),
                )
            )
    return tracker


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--defects", type=int, default=40)
    parser.add_argument("--sightings", type=int, default=12)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    tracker = seeded(args.defects, args.sightings)
    reports = report.run(tracker, Conventions(), now=NOW)
    report_formats.render(reports[:1], "html")  # import matplotlib outside the timing
    for fmt in ("table", "html"):
        times, size = [], 0
        for _ in range(args.repeat):
            started = time.perf_counter()
            text = report_formats.render(reports, fmt)
            times.append(time.perf_counter() - started)
            size = len(text.encode("utf-8"))
        print(
            f"{fmt:>5}: {args.defects} defects x {args.sightings} sightings:"
            f" median {statistics.median(times):.3f} s, {size / 1024:.0f} KiB"
        )
    per_chart(reports, args.repeat)


def per_chart(reports: list[report.DefectReport], repeat: int) -> None:
    """Median seconds per chart: as before (a new figure each, matplotlib placing titles and
    labels by measuring), a new figure with fixed places, and one canvas with fixed places (now)."""
    from tracker_bridge.cli import report_charts

    start, end = report_charts.span(reports, NOW)
    fixed, placed = report_charts._style, report_charts._placed

    def automatic(salt: str) -> dict[str, object]:
        return {**fixed(salt), "axes.titley": None}

    def before(r: report.DefectReport) -> str:
        report_charts._style, report_charts._placed = automatic, lambda ax: None  # type: ignore[assignment]
        try:
            return report_charts.svg(r, start, end)
        finally:
            report_charts._style, report_charts._placed = fixed, placed  # type: ignore[assignment]

    canvas = report_charts.Canvas()
    canvas.svg(reports[0], start, end)  # made once per page: not part of what is compared
    variants = {
        "before: new figure, automatic placement": before,
        "new figure, fixed places": lambda r: report_charts.svg(r, start, end),
        "now: one canvas, fixed places": lambda r: canvas.svg(r, start, end),
    }
    times: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(repeat):
        for r in reports[:10]:
            for name, draw in variants.items():
                started = time.perf_counter()
                draw(r)
                times[name].append(time.perf_counter() - started)
    for name, values in times.items():
        print(f"chart ({name}): median {statistics.median(values):.3f} s over {len(values)}")


if __name__ == "__main__":
    main()
