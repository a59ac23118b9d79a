"""The HTML report in a real browser (headless Chromium): charts render, nothing is fetched while
it loads, and the numbers it shows are those of ``report --json``.

Needs Debian's ``chromium``; without it these tests skip, unless ``BRIDGE_REQUIRE_COMPONENTS=1``
(CI) makes a missing browser a failure (``support.components``).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import threading
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from support.components import need_binary
from support.contract import new_defect
from tracker_bridge.cli import report_formats, report_html
from tracker_bridge.domain.conventions import Conventions, format_title
from tracker_bridge.domain.tickets import Kind, NewTicket
from tracker_bridge.trackers.local import LocalTracker
from tracker_bridge.workflows import report

CONV = Conventions()
NOW = datetime(2026, 11, 29, 12, tzinfo=UTC)
INK = (0x1F, 0x3B, 0x57)


@pytest.fixture(scope="module")
def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    return need_binary(found or "/usr/bin/chromium", "chromium")


def browse(chromium: str, url: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    profile = tmp_path / f"profile-{len(list(tmp_path.glob('profile-*')))}"
    return subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--hide-scrollbars",
            f"--user-data-dir={profile}",
            *args,
            url,
        ],
        capture_output=True,
        text=True,
        timeout=90,
        check=True,
        env={**os.environ, "HOME": str(tmp_path)},
    )


class Server:
    """A loopback HTTP server for one directory that records every path asked for."""

    def __init__(self, root: Path) -> None:
        self.requests: list[str] = []
        seen, base = self.requests, root

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                seen.append(self.path)
                target = base / self.path.lstrip("/")
                if not target.is_file():
                    self.send_error(404)
                    return
                body = target.read_bytes()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> Server:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def reports() -> list[report.DefectReport]:
    t = LocalTracker(":memory:")
    busy = t.create(new_defect(CONV, "Connection refused", fp="1" * 16)).key
    for days, host, minutes in (
        (20, "api-1", 12),
        (9, "api-2", 30),
        (4, "api-1", 5),
        (1, "api-3", 0),
    ):
        t.create(
            NewTicket(
                kind=Kind.OBSERVATION,
                title=format_title("m", host),
                parent=busy,
                instance=host,
                observed_at=NOW - timedelta(days=days),
                duration=timedelta(minutes=minutes) if minutes else None,
            )
        )
    quiet = t.create(new_defect(CONV, "Disk full", fp="2" * 16)).key
    for days in (95, 91, 86):  # the example: gone quiet, overdue
        t.create(
            NewTicket(
                kind=Kind.OBSERVATION,
                title=format_title("m", "db-1"),
                parent=quiet,
                instance="db-1",
                observed_at=NOW - timedelta(days=days),
                duration=timedelta(hours=1),
            )
        )
    t.create(new_defect(CONV, "Never seen", fp="3" * 16))
    return report.run(t, CONV, now=NOW)


def ink_pixels(png: Path) -> int:
    import numpy as np
    from PIL import Image

    with Image.open(png) as image:
        rgb = np.asarray(image.convert("RGB"))
    return int((rgb == np.array(INK, dtype=rgb.dtype)).all(axis=-1).sum())


def test_charts_render_and_nothing_is_fetched(
    chromium: str, reports: list[report.DefectReport], tmp_path: Path
) -> None:
    page = report_formats.render(reports, "html")
    (tmp_path / "report.html").write_text(page, encoding="utf-8")
    # the same page without its charts: what the screenshot shows beyond it is the charts
    bare = re.sub(r'<div class="chart".*?</svg></div>', "", page, flags=re.DOTALL)
    assert bare.count("<svg") == 0 and page.count("<svg") == 2
    (tmp_path / "bare.html").write_text(bare, encoding="utf-8")
    with Server(tmp_path) as server:
        for name in ("report", "bare"):
            browse(
                chromium,
                f"{server.url}/{name}.html",
                tmp_path,
                "--window-size=1200,2400",
                f"--screenshot={tmp_path / name}.png",
            )
    assert server.requests == ["/report.html", "/bare.html"]
    charted, plain = ink_pixels(tmp_path / "report.png"), ink_pixels(tmp_path / "bare.png")
    assert charted > plain + 20_000, (charted, plain)


def test_the_page_would_block_a_fetch_and_the_server_would_see_it(
    chromium: str, reports: list[report.DefectReport], tmp_path: Path
) -> None:
    # negative control: the request log does catch a fetch, and the page's CSP stops it
    page = report_formats.render(reports, "html")
    with Server(tmp_path) as server:
        probe = f'<img src="{server.url}/probe.png" alt="">'
        leaky = page.replace(
            f'<meta http-equiv="Content-Security-Policy" content="{report_html.CSP}">', ""
        )
        assert leaky != page
        (tmp_path / "leaky.html").write_text(
            leaky.replace("<body>", "<body>" + probe), encoding="utf-8"
        )
        (tmp_path / "guarded.html").write_text(
            page.replace("<body>", "<body>" + probe), encoding="utf-8"
        )
        for name in ("leaky", "guarded"):
            browse(chromium, f"{server.url}/{name}.html", tmp_path, "--dump-dom")
    assert server.requests == ["/leaky.html", "/probe.png", "/guarded.html"]


class Figures(HTMLParser):
    """Every ``data-field`` element with its value and shown text, by defect section."""

    def __init__(self) -> None:
        super().__init__()
        self.found: dict[str, dict[str, tuple[Any, str]]] = {}
        self.meta: dict[str, str] = {}
        self._section = ""
        self._open: tuple[str, Any] | None = None
        self._text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "meta" and a.get("http-equiv"):
            self.meta[str(a["http-equiv"])] = str(a.get("content"))
        if tag == "section" and a.get("data-key"):
            self._section = str(a["data-key"])
            self.found[self._section] = {}
        if a.get("data-field") and "data-value" in a and tag in {"b", "span"}:
            self._open, self._text = (str(a["data-field"]), json.loads(str(a["data-value"]))), ""

    def handle_data(self, data: str) -> None:
        if self._open is not None:
            self._text += data

    def handle_endtag(self, tag: str) -> None:
        if self._open is not None and tag in {"b", "span"}:
            field, value = self._open
            self.found[self._section][field] = (value, self._text.strip())
            self._open = None


def test_numbers_shown_are_those_of_report_json(
    chromium: str, reports: list[report.DefectReport], tmp_path: Path
) -> None:
    page = tmp_path / "report.html"
    page.write_text(report_formats.render(reports, "html"), encoding="utf-8")
    dom = browse(chromium, page.as_uri(), tmp_path, "--dump-dom").stdout
    figures = Figures()
    figures.feed(dom)
    assert "default-src 'none'" in figures.meta["Content-Security-Policy"]
    expected = json.loads(report_formats.render(reports, "json"))
    # most pressing first, the same order as the JSON
    assert list(figures.found) == [d["key"] for d in expected]
    checked = 0
    for data in expected:
        shown = figures.found[data["key"]]
        assert {"sightings", "expected_next_30_days", "impact_minutes", "overdue"} <= set(shown)
        for field, (value, text) in shown.items():
            assert value == data[field], (data["key"], field)
            if isinstance(value, bool):
                assert ("overdue since" in text) is value
            elif isinstance(value, int | float):
                assert float(text) == value, (field, text)
                checked += 1
            elif isinstance(value, list):
                assert text == f"{value[0]}-{value[1]}"
            elif value is None:
                assert text in {"", "-"}
            else:
                assert text == value[:10]  # a date shown as its day
    assert checked >= 12
    quiet = figures.found[next(d["key"] for d in expected if d["title"] == "Disk full")]
    assert quiet["overdue"][0] is True
    assert quiet["impact_minutes"] == (180, "180")
