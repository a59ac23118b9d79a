"""The defect report as one self-contained HTML page: charts inline, nothing fetched when opened.

The page can be mailed or attached to a ticket: no script, no external style, font or image; a
Content-Security-Policy of ``default-src 'none'`` tells the browser to fetch nothing even if
someone edits it. Every number shown carries its ``report --json`` field and value in
``data-field``/``data-value`` attributes, so tests (and scripts) can check that the page says
what the JSON says. Defects come most pressing first; each links to its ticket on the tracker's
own web page (Jira, GitHub) or, for the embedded tracker, to its section of the page.
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from tracker_bridge.cli import report_charts
from tracker_bridge.cli.report_formats import impact, sparkline
from tracker_bridge.workflows.report import DefectReport

CHARTED = 30
"""Defects drawn with charts; the rest are listed (a page of hundreds of charts helps nobody)."""
SIGHTINGS_LISTED = 200
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"

_STYLE = """
body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:1100px;color:#1b2733;
padding:0 16px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:0}
.meta{color:#5b6b7b;margin:0 0 16px}
table{border-collapse:collapse;margin:8px 0}td,th{border-bottom:1px solid #dde3e9;
padding:3px 10px 3px 0;text-align:left;vertical-align:top}
th{font-weight:600;color:#5b6b7b}
section.defect{border-top:3px solid #1f3b57;margin:28px 0 0;padding-top:10px}
.overdue{color:#fff;background:#c0392b;border-radius:3px;padding:1px 6px;font-size:12px}
.facts{display:flex;flex-wrap:wrap;gap:6px 28px;margin:8px 0}
.facts div{min-width:120px}.facts b{display:block;font-size:18px}
.facts span{color:#5b6b7b;font-size:12px}
.chart svg{width:100%;height:auto}.spark{font-family:monospace;letter-spacing:1px}
details{margin:6px 0}summary{cursor:pointer;color:#1f3b57}
"""


def render(reports: Sequence[DefectReport], *, tracker: str = "") -> str:
    """The whole page for ``reports`` (already most pressing first)."""
    now = reports[0].generated if reports else None
    generated = now.strftime("%Y-%m-%d %H:%M UTC") if now else ""
    start, end = report_charts.span(reports, now) if now else (None, None)
    window = f"{_day(start)} to {_day(end)}" if start and end else "no sightings"
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        # an empty icon: served over HTTP, the browser would otherwise ask for /favicon.ico
        '<link rel="icon" href="data:,">',
        "<title>Defect report</title>",
        f"<style>{_STYLE}</style></head><body>",
        "<h1>Defect report: the case for fixing</h1>",
        f'<p class="meta">Generated <time data-field="generated" datetime="{_attr(now)}">'
        f"{generated}</time>; window {window}"
        + (f"; tracker {html.escape(tracker)}" if tracker else "")
        + f"; {len(reports)} defect(s), most pressing first.</p>",
        _summary(reports),
    ]
    canvas = report_charts.Canvas()
    for rank, report in enumerate(reports):
        charted = rank < CHARTED and start is not None and end is not None
        parts.append(_section(report, start, end, canvas if charted else None))
    if len(reports) > CHARTED:
        parts.append(f"<p>Charts are drawn for the {CHARTED} most pressing defects.</p>")
    parts.append("</body></html>")
    return "\n".join(parts)


def _summary(reports: Sequence[DefectReport]) -> str:
    head = (
        "<tr><th>defect</th><th>sightings</th><th>last 30 days</th><th>12 weeks</th>"
        "<th>next 30 days</th><th>impact</th><th></th><th>title</th></tr>"
    )
    rows = []
    for r in reports:
        f = r.forecast
        rows.append(
            "<tr>"
            f'<td><a href="#{_anchor(r.key)}">{html.escape(r.key)}</a></td>'
            f"<td>{r.stats.count}</td><td>{r.recent}</td>"
            f'<td class="spark">{sparkline(r.weekly)}</td>'
            f"<td>{_expected(f.expected, f.interval_80) if f else ''}</td>"
            f"<td>{html.escape(impact(r))}</td>"
            f"<td>{'<span class=overdue>overdue</span>' if f and f.overdue else ''}</td>"
            f"<td>{html.escape(r.title)}</td></tr>"
        )
    return f"<table><thead>{head}</thead><tbody>{''.join(rows)}</tbody></table>"


def _section(
    r: DefectReport,
    start: datetime | None,
    end: datetime | None,
    canvas: report_charts.Canvas | None,
) -> str:
    data = r.to_json()
    f = r.forecast
    link = _link(r)
    overdue = (
        f' <span class="overdue" data-field="overdue" data-value="true">overdue since '
        f"{_day(f.overdue_since)}</span>"
        if f and f.overdue
        else '<span data-field="overdue" data-value="false" hidden></span>'
    )
    facts = [
        _fact("sightings", data["sightings"], str(data["sightings"]), "sightings"),
        _fact(
            "last_30_days", data["last_30_days"], str(data["last_30_days"]), "in the last 30 days"
        ),
        _fact(
            "per_week",
            data["per_week"],
            _num(data["per_week"]),
            "per week now (quiet time counted)",
        ),
        _fact(
            "expected_next_30_days",
            data["expected_next_30_days"],
            _num(data["expected_next_30_days"]),
            "expected in the next 30 days",
        ),
        _fact(
            "expected_next_30_days_interval",
            data["expected_next_30_days_interval"],
            "{}-{}".format(*data["expected_next_30_days_interval"]) if f else "",
            "80% credible range",
        ),
        _fact(
            "next_expected",
            data["next_expected"],
            _day(f.next_expected) if f else "",
            "next, median",
        ),
        _fact(
            "impact_minutes",
            data["impact_minutes"],
            _num(data["impact_minutes"]),
            "minutes of impact in all",
        ),
        _fact(
            "impact_median_minutes",
            data["impact_median_minutes"],
            _num(data["impact_median_minutes"]),
            f"median minutes per sighting ({r.impact.recorded} of {r.stats.count} recorded)",
        ),
        _fact(
            "expected_impact_minutes_next_30_days",
            data["expected_impact_minutes_next_30_days"],
            _num(data["expected_impact_minutes_next_30_days"]),
            "minutes expected in the next 30 days",
        ),
        _fact(
            "remediations",
            data["remediations"],
            str(r.remediations),
            f"remediations ({r.remediations_done} done)",
        ),
    ]
    chart = ""
    if canvas is not None and r.sightings and start is not None and end is not None:
        chart = f'<div class="chart" role="img" aria-label="charts of {_attr(r.key)}">'
        chart += canvas.svg(r, start, end) + "</div>"
    return (
        f'<section class="defect" id="{_anchor(r.key)}" data-key="{_attr(r.key)}">'
        f"<h2>{link} {html.escape(r.title)}{overdue}</h2>"
        f'<p class="meta">{html.escape(r.status)}; first seen {_day(r.stats.first_seen) or "never"},'
        f" last seen {_day(r.stats.last_seen) or 'never'}</p>"
        f'<div class="facts">{"".join(facts)}</div>'
        f"{chart}{_instances(r)}{_sightings(r)}</section>"
    )


def _fact(field: str, value: Any, shown: str, label: str) -> str:
    return (
        f'<div><b data-field="{field}" data-value="{_attr(json.dumps(value))}">'
        f"{html.escape(shown) or '-'}</b><span>{html.escape(label)}</span></div>"
    )


def _instances(r: DefectReport) -> str:
    if not r.stats.instances:
        return ""
    minutes: dict[str, float] = {}
    for s in r.sightings:
        minutes[s.instance] = minutes.get(s.instance, 0.0) + (s.minutes or 0.0)
    rows = "".join(
        f'<tr data-instance="{_attr(name)}"><td>{html.escape(name)}</td>'
        f'<td data-field="sightings" data-value="{n}">{n}</td>'
        f"<td>{_num(minutes.get(name, 0.0))}</td></tr>"
        for name, n in r.stats.instances
    )
    return (
        "<details open><summary>Per instance</summary><table><thead><tr><th>instance</th>"
        f"<th>sightings</th><th>minutes of impact</th></tr></thead><tbody>{rows}</tbody>"
        "</table></details>"
    )


def _sightings(r: DefectReport) -> str:
    if not r.sightings:
        return "<p>No sightings recorded.</p>"
    shown = r.sightings[-SIGHTINGS_LISTED:]
    rows = "".join(
        f'<tr id="{_anchor(s.key)}"><td>{_ref(s.key, s.url)}</td>'
        f"<td>{s.at.strftime('%Y-%m-%d %H:%M')}</td><td>{html.escape(s.instance)}</td>"
        f"<td>{_num(s.minutes) if s.minutes is not None else ''}</td></tr>"
        for s in reversed(shown)
    )
    more = (
        f", the latest {len(shown)} of {len(r.sightings)}" if len(shown) < len(r.sightings) else ""
    )
    return (
        f"<details><summary>Sightings, newest first{more}</summary><table><thead><tr>"
        "<th>observation</th><th>when (UTC)</th><th>instance</th><th>minutes</th></tr>"
        f"</thead><tbody>{rows}</tbody></table></details>"
    )


def _link(r: DefectReport) -> str:
    return _ref(r.key, r.url)


def _ref(key: str, url: str) -> str:
    """A link to the tracker's own page for web trackers; an in-page anchor otherwise."""
    if url.startswith(("https://", "http://")):
        return f'<a href="{_attr(url)}">{html.escape(key)}</a>'
    return f'<a href="#{_anchor(key)}">{html.escape(key)}</a>'


def _expected(expected: float, interval: tuple[int, int]) -> str:
    return f"{expected:.2g} ({interval[0]}-{interval[1]})"


def _num(value: float | None) -> str:
    if value is None:
        return ""
    return f"{value:.3f}".rstrip("0").rstrip(".") if value % 1 else f"{value:.0f}"


def _anchor(key: str) -> str:
    return html.escape("".join(c if c.isalnum() or c in "-_." else "-" for c in key))


def _attr(value: object) -> str:
    if isinstance(value, datetime):
        value = value.isoformat()
    return html.escape("" if value is None else str(value), quote=True)


def _day(when: datetime | None) -> str:
    return when.strftime("%Y-%m-%d") if when else ""
