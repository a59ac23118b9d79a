"""Durations as people type them, and as hostile input can make them."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tracker_bridge.domain import durations
from tracker_bridge.errors import UsageError


@pytest.mark.parametrize(
    ("text", "span"),
    [("45s", timedelta(seconds=45)), ("1h30m", timedelta(minutes=90)), ("366d", durations.LONGEST)],
)
def test_a_duration_parses(text: str, span: timedelta) -> None:
    assert durations.parse(text) == span


@pytest.mark.parametrize(
    "text",
    ["367d", "99999999999999999999d", "9" * 5000 + "s", "1" + "0" * 30 + "h"],
)
def test_a_huge_duration_is_longer_than_a_year_not_a_crash(text: str) -> None:
    with pytest.raises(UsageError, match="longer than a year"):
        durations.parse(text)


@pytest.mark.parametrize("text", ["0s", "0d0h0m0s", "000000000000000000000m"])
def test_zero_is_no_time_at_all(text: str) -> None:
    with pytest.raises(UsageError, match="no time at all"):
        durations.parse(text)
