"""The report's forecast: a gamma-Poisson rate that counts quiet time and knows its uncertainty."""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tracker_bridge.domain import durations
from tracker_bridge.domain.forecast import Counts, Posterior, episodes, forecast, posterior
from tracker_bridge.errors import UsageError

NOW = datetime(2026, 11, 29, 12, tzinfo=UTC)
DAY = timedelta(days=1)


def test_a_defect_gone_quiet_is_overdue_and_its_rate_counts_the_silence() -> None:
    # the example: three sightings in nine days, last seen in September
    seen = [datetime(2026, 9, 4, tzinfo=UTC) + d * DAY for d in (0, 4, 9)]
    f = forecast(seen, NOW)
    assert f is not None
    assert f.overdue and f.overdue_since is not None
    assert seen[-1] < f.overdue_since < datetime(2026, 10, 15, tzinfo=UTC)
    assert f.per_week < 0.5  # not 2.62/week
    assert f.next_expected is not None and f.next_expected > NOW  # never a date in the past
    assert f.expected < 1
    assert f.interval_80[0] == 0
    # the same sightings judged the day after the last one: busy, not overdue
    fresh = forecast(seen, seen[-1] + DAY)
    assert fresh is not None and not fresh.overdue and fresh.per_week > 1


def test_no_sightings_no_forecast_and_one_sighting_no_pattern() -> None:
    assert forecast([], NOW) is None
    one = forecast([NOW - DAY], NOW)
    assert one is not None
    assert (one.next_expected, one.overdue, one.overdue_since) == (None, False, None)
    assert one.interval_80[0] == 0 and one.interval_80[1] > one.expected


def test_more_evidence_narrows_the_interval_around_the_rate() -> None:
    widths = []
    for weeks in (2, 8, 26):
        # one sighting every other day for `weeks` weeks, up to now
        seen = [NOW - d * 2 * DAY for d in range(weeks * 7 // 2)]
        f = forecast(seen, NOW)
        assert f is not None
        assert f.interval_90[0] <= f.interval_80[0] <= f.expected <= f.interval_80[1]
        assert f.interval_80[1] <= f.interval_90[1]
        widths.append((f.interval_80[1] - f.interval_80[0]) / f.expected)
        assert f.expected == pytest.approx(15, rel=0.35)
    assert widths == sorted(widths, reverse=True)


def test_sightings_after_now_count_as_now() -> None:
    f = forecast([NOW - DAY, NOW + DAY], NOW)
    assert f is not None and f.quiet == timedelta(0)


def _nb_cdf(post: Posterior, horizon: float, k: int) -> float:
    r, p = post.shape, post.rate_days / (post.rate_days + horizon)
    return sum(
        math.exp(
            math.lgamma(i + r)
            - math.lgamma(r)
            - math.lgamma(i + 1)
            + r * math.log(p)
            + i * math.log1p(-p)
        )
        for i in range(k + 1)
    )


@settings(max_examples=60, deadline=None)
@given(
    shape=st.floats(0.5, 200),
    rate=st.floats(1, 400),
    q=st.floats(0.05, 0.95),
)
def test_count_quantile_is_the_negative_binomial_quantile(
    shape: float, rate: float, q: float
) -> None:
    post = Posterior(shape, rate)
    k = post.counts(30).quantile(q)
    assert _nb_cdf(post, 30, k) >= q - 1e-9
    if k > 0:
        assert _nb_cdf(post, 30, k - 1) < q + 1e-9


def test_busy_defects_do_not_underflow() -> None:
    # p**r alone underflows here; the quantiles must still sit around the normal approximation
    counts = Posterior(3000, 1).counts(30)
    p = 1 / 31
    mean, sd = 3000 * (1 - p) / p, math.sqrt(3000 * (1 - p)) / p
    assert (counts.mean, counts.variance) == (pytest.approx(mean), pytest.approx(sd * sd))
    low, high = counts.interval(0.8)
    assert abs(counts.quantile(0.5) - mean) < 0.1 * sd
    assert (high - low) == pytest.approx(2 * 1.2816 * sd, rel=0.05)


def test_bursts_are_episodes_that_widen_the_interval_not_the_rate_of_surprise() -> None:
    # six episodes a week apart, each of four sightings within an hour (an alert flapping)
    starts = [NOW - (7 * i + 3) * DAY for i in range(6)]
    bursty = [s + j * timedelta(minutes=15) for s in starts for j in range(4)]
    assert episodes(sorted(bursty)) == sorted(starts)
    f, single = forecast(bursty, NOW), forecast(starts, NOW)
    assert f is not None and single is not None
    assert (f.sightings, f.episodes) == (24, 6)
    assert f.expected == pytest.approx(single.expected * 25 / 7)
    assert f.interval_80[1] - f.interval_80[0] > 2 * (single.interval_80[1] - single.interval_80[0])
    # the gap to next week is no surprise, burst or not
    assert not f.overdue and f.overdue_since and single.overdue_since
    assert abs(f.overdue_since - single.overdue_since) < timedelta(hours=2)  # from the burst's end
    matched = Counts.matching(10, 30)
    assert (matched.mean, matched.variance) == (pytest.approx(10), pytest.approx(30))


def test_undiscounted_posterior_is_the_textbook_one() -> None:
    seen = [NOW - 10 * DAY, NOW - 5 * DAY, NOW - DAY]
    assert posterior(seen, NOW, None) == Posterior(0.5 + 2, 7 + 10)
    discounted = posterior(seen, NOW)
    assert 0.5 < discounted.shape < 2.5 and 7 < discounted.rate_days < 17


def test_intervals_are_calibrated_on_poisson_histories() -> None:
    # a small, fixed-seed version of benchmarks/forecast_calibration.py: a model whose interval
    # ignored its uncertainty (or the quiet time) would fall well short of 80%
    rng = random.Random(18)
    hits = cases = 0
    for _ in range(400):
        rate = math.exp(rng.uniform(math.log(1 / 60), math.log(1)))
        times, t = [], 0.0
        while t < 120:
            t += rng.expovariate(rate)
            times.append(t)
        length = rng.uniform(max(times[0], 30), 90) if times[0] < 90 else None
        if length is None:
            continue
        seen = [NOW - (length - x) * DAY for x in times if x < length]
        truth = sum(1 for x in times if length <= x < length + 30)
        f = forecast(seen, NOW)
        assert f is not None
        hits += f.interval_80[0] <= truth <= f.interval_80[1]
        cases += 1
    assert cases > 300
    assert 0.78 <= hits / cases <= 0.97


@pytest.mark.parametrize(
    ("text", "minutes"),
    [
        ("20m", 20),
        ("1h30m", 90),
        ("45s", 0.75),
        ("2d", 2880),
        ("1H 5M", 65),
        ("1d2h3m4s", 1563 + 4 / 60),
    ],
)
def test_durations_parse(text: str, minutes: float) -> None:
    assert durations.minutes(durations.parse(text)) == pytest.approx(minutes)


@pytest.mark.parametrize(
    "text", ["", "20", "m", "1.5h", "30m1h", "-5m", "0m", "400d", "20 minutes"]
)
def test_bad_durations_say_what_is_accepted(text: str) -> None:
    with pytest.raises(UsageError, match=r"duration|no time|longer than a year") as caught:
        durations.parse(text)
    assert (caught.value.hint and "1h30m" in caught.value.hint) or "20m" in str(caught.value)


@given(st.integers(1, 366 * 86_400))
def test_durations_round_trip(seconds: int) -> None:
    span = timedelta(seconds=seconds)
    assert durations.parse(durations.format(span)) == span
