"""Running ``bridge`` in-process, through the real entry point and its error boundary."""

from __future__ import annotations

import sys

import pytest

from tracker_bridge import cli


def run(
    capsys: pytest.CaptureFixture[str],
    *args: str,
    stdin: str | None = None,
    monkeypatch: pytest.MonkeyPatch | None = None,
) -> tuple[int, str, str]:
    """Run ``bridge ARGS`` through the real entry point (error boundary included)."""
    argv = ["bridge", *args]
    old = sys.argv
    sys.argv = argv
    if stdin is not None and monkeypatch is not None:
        import io

        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    try:
        cli.main()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    finally:
        sys.argv = old
    out, err = capsys.readouterr()
    return code, out, err
