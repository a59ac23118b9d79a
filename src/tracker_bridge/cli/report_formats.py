"""Defect reports as a table, JSON, CSV, Markdown or a self-contained HTML page (pure)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence

from tracker_bridge.domain.markup import escape
from tracker_bridge.workflows.report import DefectReport

FORMATS = ("table", "json", "csv", "md", "html")
COLUMNS = (
    "defect",
    "status",
    "sightings",
    "last 30 days",
    "12 weeks",
    "per week",
    "next 30 days",
    "next expected",
    "overdue",
    "impact",
    "first seen",
    "last seen",
    "instances",
    "remediations",
    "title",
)
BARS = "▁▂▃▄▅▆▇█"


def sparkline(counts: Sequence[int]) -> str:
    """One character per week: a space for none, then eight heights scaled to the busiest."""
    top = max(counts, default=0)
    if top == 0:
        return "·" * len(counts)
    return "".join(
        "·" if n == 0 else BARS[min(len(BARS) - 1, (n * len(BARS) - 1) // top)] for n in counts
    )


def rows(reports: Sequence[DefectReport], *, spark: bool = True) -> list[list[str]]:
    """One row of display values per defect, in ``COLUMNS`` order.

    ``spark``: the weekly column as a sparkline; otherwise as counts (CSV, for spreadsheets).
    """
    out = []
    for r in reports:
        s, f = r.stats, r.forecast
        places = ", ".join(f"{name} ({n})" for name, n in s.instances[:3])
        if len(s.instances) > 3:
            places += f", +{len(s.instances) - 3} more"
        out.append(
            [
                r.key,
                r.status,
                str(s.count),
                str(r.recent),
                sparkline(r.weekly) if spark else " ".join(map(str, r.weekly)),
                "" if f is None else f"{f.per_week:.2g}",
                "" if f is None else f"{f.expected:.2g} ({f.interval_80[0]}-{f.interval_80[1]})",
                _day(f.next_expected) if f else "",
                f"since {_day(f.overdue_since)}" if f and f.overdue else "",
                impact(r),
                _day(s.first_seen),
                _day(s.last_seen),
                places,
                f"{r.remediations_done}/{r.remediations} done" if r.remediations else "none",
                r.title,
            ]
        )
    return out


_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: str) -> str:
    """A CSV cell a spreadsheet shows as text: an error message such as ``=HYPERLINK(...)`` or
    ``@SUM(...)`` would otherwise run as a formula when the report is opened (OWASP's CSV
    injection advice: prefix a quote). Numbers, negative ones included, stay numbers."""
    text = str(value)
    if text.startswith(_FORMULA_STARTS) and not _is_number(text):
        return "'" + text
    return text


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def render(reports: Sequence[DefectReport], fmt: str) -> str:
    """The report in ``fmt`` (one of ``FORMATS``); ``table`` is plain aligned text."""
    if fmt == "json":
        return json.dumps([r.to_json() for r in reports], indent=2, ensure_ascii=False)
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(COLUMNS)
        writer.writerows([_cell(c) for c in row] for row in rows(reports, spark=False))
        return buffer.getvalue().rstrip("\n")
    if fmt == "md":
        head = "| " + " | ".join(COLUMNS) + " |"
        rule = "| " + " | ".join("---" for _ in COLUMNS) + " |"
        body = [
            "| " + " | ".join(_md(c, data=i in _FREE_TEXT) for i, c in enumerate(row)) + " |"
            for row in rows(reports)
        ]
        return "\n".join([head, rule, *body])
    if fmt == "html":
        from tracker_bridge.cli import report_html  # matplotlib loads only for this format

        return report_html.render(reports)
    if fmt == "table":
        return _table(reports)
    raise ValueError(f"unknown report format {fmt!r}")


def impact(r: DefectReport) -> str:
    """Total minutes, and how many sightings recorded a duration when not all did."""
    i = r.impact
    if not i.recorded:
        return ""
    text = f"{i.minutes:.0f} min"
    return text if i.recorded == r.stats.count else f"{text} ({i.recorded} of {r.stats.count})"


def _table(reports: Sequence[DefectReport]) -> str:
    if not reports:
        return "No defects."
    table = [list(COLUMNS), *rows(reports)]
    widths = [max(len(row[i]) for row in table) for i in range(len(COLUMNS) - 1)]
    lines = []
    for row in table:
        cells = [cell.ljust(widths[i]) for i, cell in enumerate(row[:-1])]
        lines.append("  ".join([*cells, row[-1]]).rstrip())
    return "\n".join(lines)


_FREE_TEXT = frozenset({COLUMNS.index("instances"), COLUMNS.index("title")})
"""Cells that hold data from the wild (messages, instance names), not values the bridge made."""


def _md(text: str, *, data: bool = False) -> str:
    # a message's <img onerror>, ![pixel](url) or @team must stay text wherever the page renders
    if data:
        return escape(text, "github-markdown")
    return " ".join(text.split()).replace("|", "\\|")


def _day(when: object) -> str:
    from datetime import datetime

    return when.strftime("%Y-%m-%d") if isinstance(when, datetime) else ""
