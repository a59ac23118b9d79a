"""Charts of one defect's sightings, drawn by matplotlib as SVG (inline in HTML) or PNG (attach).

matplotlib draws on the machine that makes the report, so the page needs no JavaScript and
fetches nothing when opened; SVG keeps text as text (``svg.fonttype = none``), which keeps each
chart to tens of kilobytes. A ``Figure`` is made directly (no pyplot), so no global state or
GUI backend is involved.

A page of many charts draws them all on one ``Canvas``: its figure and axes are made once and
emptied between defects, because making three axes and their ticks afresh was about a third of
the time of each chart; and titles and axis labels have fixed places (``_placed``), which spares
measuring every tick label again to place them. The charts are the same as matplotlib's on a new
figure with automatic placement (``tests/cli/test_report_charts.py`` compares the SVG).
"""

from __future__ import annotations

import io
import re
from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from tracker_bridge.workflows.report import DefectReport

INK = "#1f3b57"
ACCENT = "#c0392b"
MUTED = "#8a99a8"
NAME_LIMIT = 14
"""Characters of an instance name the charts show (the tables below them show it whole)."""
MAX_INSTANCES = 8
"""Instances drawn by name; the rest are summed as "others"."""


class Canvas:
    """One figure for many charts: made on the first, emptied and drawn again for the next."""

    def __init__(self) -> None:
        self._figure: Figure | None = None
        self._axes: tuple[Axes, Axes, Axes] | None = None

    def svg(self, report: DefectReport, start: datetime, end: datetime) -> str:
        """The defect's chart as an ``<svg>`` element (no XML prolog), ids unique to the defect."""
        from matplotlib import rc_context

        with rc_context(_style(salt=report.key)):
            figure = self._draw(report, start, end)
            buffer = io.StringIO()
            figure.savefig(buffer, format="svg", metadata={"Date": None})
        text = buffer.getvalue()
        return _scoped(text[text.index("<svg") :].strip(), f"c-{report.key}-")

    def png(self, report: DefectReport, start: datetime, end: datetime, dpi: int = 110) -> bytes:
        """The same chart as PNG bytes (for trackers that show images, not HTML)."""
        from matplotlib import rc_context

        with rc_context(_style(salt=report.key)):
            figure = self._draw(report, start, end)
            buffer = io.BytesIO()
            figure.savefig(buffer, format="png", dpi=dpi, metadata={"Software": None})
        return buffer.getvalue()

    def _draw(self, report: DefectReport, start: datetime, end: datetime) -> Figure:
        if self._figure is None or self._axes is None:
            self._figure, self._axes = _figure()
        else:
            for ax in self._axes:
                _empty(ax)
        timeline, weekly, places = self._axes
        _timeline(timeline, report, start, end)
        _weekly(weekly, report, start, end)
        _instances(places, report)
        return self._figure


def svg(report: DefectReport, start: datetime, end: datetime) -> str:
    """The defect's chart as an ``<svg>`` element (no XML prolog), ids unique to the defect."""
    return Canvas().svg(report, start, end)


def _scoped(svg: str, prefix: str) -> str:
    """Every id in ``svg`` (and every reference to one) prefixed: several charts share a page,
    and matplotlib numbers its groups (``figure_1``, ``axes_1``) afresh in each."""
    safe = re.sub(r"[^A-Za-z0-9_.-]", "-", prefix)
    svg = re.sub(r'\bid="([^"]+)"', lambda m: f'id="{safe}{m.group(1)}"', svg)
    svg = re.sub(r"url\(#([^)]+)\)", lambda m: f"url(#{safe}{m.group(1)})", svg)
    return re.sub(r'href="#([^"]+)"', lambda m: f'href="#{safe}{m.group(1)}"', svg)


def png(report: DefectReport, start: datetime, end: datetime, dpi: int = 110) -> bytes:
    """The same chart as PNG bytes (for trackers that show images, not HTML)."""
    return Canvas().png(report, start, end, dpi)


def _style(salt: str) -> Any:
    return {
        "svg.fonttype": "none",
        "svg.hashsalt": f"bridge-{salt}",  # ids differ per defect: several SVGs share a page
        "font.family": "sans-serif",
        "font.size": 8,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.edgecolor": MUTED,
        "axes.titlesize": 9,
        "axes.titlelocation": "left",
        "axes.titley": 1.0,  # see _placed
        "xtick.color": "#444444",
        "ytick.color": "#444444",
    }


def _figure() -> tuple[Figure, tuple[Axes, Axes, Axes]]:
    from matplotlib.figure import Figure

    # fixed margins: an automatic layout engine costs half the drawing time, per chart
    figure = Figure(figsize=(10, 2.6))
    timeline, weekly, places = figure.subplots(
        1,
        3,
        width_ratios=[4, 4, 2.2],
        gridspec_kw={"left": 0.09, "right": 0.99, "bottom": 0.17, "top": 0.9, "wspace": 0.32},
    )
    for ax in (timeline, weekly, places):
        _placed(ax)
    return figure, (timeline, weekly, places)


def _placed(ax: Axes) -> None:
    """Fixed places for the titles (where matplotlib puts them for these charts) and for the
    axis labels (empty here, never drawn).

    Left automatic, each draw measures every tick label of every axes again to see whether one
    reaches above the axes (the title would move up) or into a label's way; ``axes.titley = 1.0``
    in the style is the title's half of this.
    """
    ax.xaxis.set_label_coords(0.5, -0.1)
    ax.yaxis.set_label_coords(-0.1, 0.5)


def _empty(ax: Axes) -> None:
    """``ax`` as it was before anything was drawn on it, its ticks kept (``cla`` remakes them).

    What each chart sets itself (limits it fixes, locators, formatters, tick labels, the
    title) is set again by the next one.
    """
    from matplotlib.transforms import Bbox

    for artist in [*ax.collections, *ax.patches, *ax.lines, *ax.texts]:
        artist.remove()
    ax.containers.clear()
    ax.dataLim.set(Bbox.null())
    ax.ignore_existing_data_limits = True
    ax.set_autoscale_on(True)


def _timeline(ax: Axes, report: DefectReport, start: datetime, end: datetime) -> None:
    names = _top_instances(report)
    rows = {name: i for i, name in enumerate(reversed(names))}
    xs, ys, sizes = [], [], []
    for s in report.sightings:
        xs.append(s.at)
        ys.append(rows.get(_name(s.instance), rows.get("others", 0)))
        sizes.append(18 + min(s.minutes or 0, 240) / 2)
    ax.scatter(xs, ys, s=sizes, color=INK, alpha=0.75, linewidths=0)  # type: ignore[arg-type]
    f = report.forecast
    if f is not None and f.overdue and f.overdue_since is not None:
        ax.axvline(f.overdue_since, color=ACCENT, linewidth=1, linestyle="--")  # type: ignore[arg-type]
        ax.text(
            f.overdue_since,  # type: ignore[arg-type]
            len(rows) - 0.4,
            " overdue",
            color=ACCENT,
            va="top",
        )
    ax.set_yticks(range(len(rows)), list(rows))
    ax.set_ylim(-0.6, max(len(rows), 1) - 0.4)
    ax.set_xlim(start, end)  # type: ignore[arg-type]
    _dates(ax)
    ax.set_title("Sightings (size: minutes of impact)")


def _weekly(ax: Axes, report: DefectReport, start: datetime, end: datetime) -> None:
    weeks = max(1, -(-(end - start) // timedelta(weeks=1)))
    counts = [0] * weeks
    for s in report.sightings:
        back = int((end - s.at) / timedelta(weeks=1))
        if 0 <= back < weeks:
            counts[weeks - 1 - back] += 1
    lefts = [end - timedelta(weeks=weeks - i) for i in range(weeks)]
    ax.bar(lefts, counts, width=6.5, align="edge", color=INK)  # type: ignore[arg-type]
    f = report.forecast
    if f is not None:
        # the forecast as a weekly rate with its 80% band, drawn over the next 30 days
        low, high = (x * 7 / 30 for x in f.interval_80)
        future = [end, end + timedelta(days=30)]
        ax.fill_between(future, low, high, color=ACCENT, alpha=0.18, linewidth=0)  # type: ignore[arg-type]
        ax.plot(future, [f.expected * 7 / 30] * 2, color=ACCENT, linewidth=1.5)  # type: ignore[arg-type]
    ax.set_xlim(start, end + timedelta(days=31))  # type: ignore[arg-type]
    ax.yaxis.set_major_locator(_integers())
    _dates(ax)
    ax.set_title("Per week, and the next 30 days (80% band)")


def _instances(ax: Axes, report: DefectReport) -> None:
    counts = _instance_counts(report)
    names = list(reversed(list(counts)))
    # numbered rows, not a category axis: its categories would pile up on a reused canvas
    ax.barh(range(len(names)), [counts[n] for n in names], color=INK)
    ax.set_yticks(range(len(names)), names)
    ax.xaxis.set_major_locator(_integers())
    ax.set_title("Per instance")


def _dates(ax: Axes) -> None:
    import matplotlib.dates as mdates

    locator = mdates.AutoDateLocator(maxticks=6)  # type: ignore[no-untyped-call]
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))  # type: ignore[no-untyped-call]


def _integers() -> Any:
    from matplotlib.ticker import MaxNLocator

    return MaxNLocator(integer=True)


def _top_instances(report: DefectReport) -> list[str]:
    return list(_instance_counts(report))


def _instance_counts(report: DefectReport) -> dict[str, int]:
    """Instances by sightings, most first; beyond ``MAX_INSTANCES`` summed as ``others``."""
    counts = Counter(_name(s.instance) for s in report.sightings)
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    out = dict(ranked[:MAX_INSTANCES])
    rest = sum(n for _, n in ranked[MAX_INSTANCES:])
    if rest:
        out["others"] = rest
    return out


def _name(instance: str) -> str:
    """An instance as a chart labels it: clipped to fit the fixed margin."""
    if not instance:
        return "?"
    return instance if len(instance) <= NAME_LIMIT else instance[: NAME_LIMIT - 1] + "…"


def span(reports: Sequence[DefectReport], now: datetime) -> tuple[datetime, datetime]:
    """The window every chart shares: the first sighting shown (at most a year back) to now."""
    firsts = [r.sightings[0].at for r in reports if r.sightings]
    earliest = min(firsts, default=now - timedelta(weeks=12))
    start = max(earliest, now - timedelta(days=365))
    return min(start, now - timedelta(weeks=4)) - timedelta(days=1), now
