"""Make the README's pictures of ``bridge report``: the HTML page and the terminal table.

Usage::

    python scripts/report_screenshots.py [--out docs]

Records a small demo history with ``bridge observe`` in a temporary directory (back-dated with
``--at``, durations with ``--duration``), renders ``bridge report`` as a table and as HTML, and
photographs both in headless Chromium (the terminal table as a dark <pre>), writing
``report-html.png``, ``report-terminal.png`` and ``report-terminal.txt``.
"""

from __future__ import annotations

import argparse
import html
import shutil
import subprocess
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

BRIDGE = Path(sys.executable).with_name("bridge")
DEMO: list[tuple[str, str, float, str]] = [
    # (message, instance, days ago, duration)
    *[
        ("No space left on device", f"replica-{1 + i % 2}", days, span)
        for i, (days, span) in enumerate(
            [
                (41, "25m"),
                (34, "40m"),
                (27, "15m"),
                (20, "1h10m"),
                (13, "30m"),
                (6, "45m"),
                (1, "20m"),
            ]
        )
    ],
    *[
        ("Connection refused to 10.0.0.7:5432", "api-1", 10 + minutes / 1440, "2m")
        for minutes in (0, 9, 21, 40)
    ],
    *[
        ("Connection refused to 10.0.0.9:5432", "api-2", 3 + minutes / 1440, "4m")
        for minutes in (0, 15, 33)
    ],
    ("OOMKilled: worker exceeded 2Gi", "worker-3", 95, "1h30m"),
    ("OOMKilled: worker exceeded 2Gi", "worker-1", 91, "45m"),
    ("OOMKilled: worker exceeded 2Gi", "worker-3", 86, "2h"),
    ("TLS handshake timeout talking to auth", "gateway-2", 0.5, "5m"),
]


def bridge(cwd: Path, *args: str) -> str:
    done = subprocess.run([str(BRIDGE), *args], cwd=cwd, capture_output=True, text=True, check=True)
    return done.stdout


def shoot(page: Path, png: Path, width: int, height: int, profile: Path) -> None:
    chromium = shutil.which("chromium") or "chromium"
    subprocess.run(
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
            f"--window-size={width},{height}",
            f"--screenshot={png}",
            page.as_uri(),
        ],
        capture_output=True,
        check=True,
        timeout=90,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "docs")
    out = parser.parse_args().out.resolve()
    now = datetime.now(UTC)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for message, instance, days, span in DEMO:
            at = (now - timedelta(days=days)).isoformat(timespec="seconds")
            bridge(work, "observe", message, "-i", instance, "--at", at, "--duration", span)
        table = bridge(work, "report")
        bridge(work, "report", "--format", "html", "--output", "report.html")
        (out / "report-terminal.txt").write_text(table, encoding="utf-8")
        terminal = work / "terminal.html"
        terminal.write_text(
            '<!doctype html><meta charset="utf-8"><body style="margin:0;background:#1e1e1e">'
            '<pre style="margin:0;padding:16px;color:#e0e0e0;font:13px/1.4 monospace">'
            f"$ bridge report\n{html.escape(table)}</pre>",
            encoding="utf-8",
        )
        shoot(work / "report.html", out / "report-html.png", 1200, 1500, work / "p1")
        shoot(terminal, out / "report-terminal.png", 1900, 200, work / "p2")
    print(f"wrote {out / 'report-html.png'}, {out / 'report-terminal.png'}")


if __name__ == "__main__":
    main()
