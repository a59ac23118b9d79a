"""Quantities as people say them, for messages and rendered tickets."""

from __future__ import annotations

from datetime import timedelta


def size(count: int) -> str:
    """A byte count: ``512 B``, ``2.0 KiB``, ``1.5 MiB``."""
    value = float(count)
    for unit in ("B", "KiB", "MiB"):
        if value < 1024:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GiB"


def duration(span: timedelta) -> str:
    """A duration as people say it: ``3.5 days``, ``5 hours``, ``12 minutes``."""
    seconds = span.total_seconds()
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            value = round(seconds / size, 1)
            text = f"{value:g}"
            return f"{text} {unit}" + ("" if text == "1" else "s")
    return f"{seconds:.0f} seconds"
