"""When will a defect strike again: a gamma-Poisson rate that is honest about few sightings.

Sightings are modelled as a Poisson process with an unknown rate. The rate gets a weak
Gamma(shape 0.5, rate 1/day) prior (close to Jeffreys' prior for a Poisson rate, made proper so
one fresh sighting still gives an answer). The first sighting opens the observation window, so
the evidence is the sightings after it over the whole time from the first sighting to *now*,
quiet time included: a defect that went silent lowers its own rate. Evidence is discounted with
a half-life of 30 days (the forecast's own horizon), so a defect that has changed, faded or
flared is judged mostly by its recent weeks, and old evidence widens rather than narrows the
interval. The posterior is Gamma(0.5 + weighted sightings, 1 + weighted days); the count in the
next 30 days is then negative binomial, which gives the expected number and credible intervals
that widen when evidence is thin.

*Overdue* asks whether the silence itself is surprising: fitted on the sightings alone (first to
last), the time to the next sighting is Lomax-distributed (an exponential wait with a gamma
rate); the defect is overdue once the gap since its last sighting passes that distribution's 90%
quantile. It needs three sightings (two gaps): before that there is no pattern to be late against.

docs/report.md explains the choice; benchmarks/forecast_calibration.py back-tests it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

PRIOR_SHAPE = 0.5
PRIOR_DAYS = 1.0
"""The prior is worth one day of watching with half a sighting in it."""
HALF_LIFE = timedelta(days=30)
"""Evidence this old counts half (see the module docstring); None would weigh all alike."""
HORIZON = timedelta(days=30)
OVERDUE_QUANTILE = 0.9
OVERDUE_MIN_SIGHTINGS = 3
_DAY = timedelta(days=1)
_MAX_COUNT = 1_000_000
"""Quantile search stops here: no defect is forecast a million sightings a month."""


@dataclass(frozen=True, slots=True)
class Forecast:
    """What a defect's sightings say about the next 30 days."""

    sightings: int
    window: timedelta
    """From the first sighting to now: the time the rate is measured over."""
    quiet: timedelta
    """Since the last sighting."""
    per_week: float
    """Posterior mean rate per week, the quiet time counted."""
    expected: float
    """Expected sightings in the next 30 days."""
    interval_80: tuple[int, int]
    """Central 80% credible interval of that count."""
    interval_90: tuple[int, int]
    next_expected: datetime | None
    """Median time of the next sighting from now (None before a second sighting)."""
    overdue: bool
    overdue_since: datetime | None
    """When the gap passed the 90% quantile of the fitted inter-arrival time (three or more
    sightings); may lie in the future, then the defect is not yet overdue."""


@dataclass(frozen=True, slots=True)
class Posterior:
    """Gamma(shape, rate) over sightings per day."""

    shape: float
    rate_days: float

    @property
    def mean_per_day(self) -> float:
        return self.shape / self.rate_days

    def count_quantile(self, horizon_days: float, q: float) -> int:
        """Smallest k with P(N <= k) >= q for the count N in ``horizon_days`` (negative binomial)."""
        r, p = self.shape, self.rate_days / (self.rate_days + horizon_days)
        mean, sd = r * (1 - p) / p, math.sqrt(r * (1 - p)) / p
        # start a dozen standard deviations below the mean: the mass skipped is negligible, and
        # for busy defects p**r alone would underflow to zero
        k = max(0, math.floor(mean - 12 * sd))
        pmf = math.exp(
            math.lgamma(k + r)
            - math.lgamma(r)
            - math.lgamma(k + 1)
            + r * math.log(p)
            + k * math.log1p(-p)
        )
        cdf = pmf
        while cdf < q and k < _MAX_COUNT:
            pmf *= (k + self.shape) / (k + 1) * (1 - p)
            k += 1
            cdf += pmf
        return k

    def interval(self, horizon_days: float, mass: float) -> tuple[int, int]:
        tail = (1 - mass) / 2
        return (
            self.count_quantile(horizon_days, tail),
            self.count_quantile(horizon_days, 1 - tail),
        )

    def wait_quantile_days(self, q: float) -> float:
        """The q-quantile of the time to the next sighting (Lomax: gamma-mixed exponential)."""
        return self.rate_days * math.expm1(-math.log1p(-q) / self.shape)


def posterior(
    times: Sequence[datetime], at: datetime, half_life: timedelta | None = HALF_LIFE
) -> Posterior:
    """The rate posterior at ``at`` from sorted sighting ``times`` (the first opens the window;
    later ones than ``at`` are ignored), each weighted by its age against ``half_life``."""
    first = times[0]
    window = max((at - first) / _DAY, 0.0)
    after = [(at - t) / _DAY for t in times[1:] if t <= at]
    if half_life is None:
        return Posterior(PRIOR_SHAPE + len(after), PRIOR_DAYS + window)
    decay = math.log(2) / (half_life / _DAY)
    weight = sum(math.exp(-decay * age) for age in after)
    exposure = -math.expm1(-decay * window) / decay
    return Posterior(PRIOR_SHAPE + weight, PRIOR_DAYS + exposure)


def forecast(
    times: Sequence[datetime], now: datetime, *, half_life: timedelta | None = HALF_LIFE
) -> Forecast | None:
    """The forecast from sighting times (any order); None without any sighting.

    Sightings recorded after ``now`` (clock skew, back-dating mistakes) count as seen now.
    """
    if not times:
        return None
    ordered = sorted(min(t, now) for t in times)
    first, last, n = ordered[0], ordered[-1], len(ordered)
    window, quiet = now - first, now - last
    post = posterior(ordered, now, half_life)
    horizon = HORIZON / _DAY
    next_expected = None
    if n >= 2:
        next_expected = now + post.wait_quantile_days(0.5) * _DAY
    overdue_since = None
    if n >= OVERDUE_MIN_SIGHTINGS:
        history = posterior(ordered, last, half_life)
        overdue_since = last + history.wait_quantile_days(OVERDUE_QUANTILE) * _DAY
    return Forecast(
        sightings=n,
        window=window,
        quiet=quiet,
        per_week=post.mean_per_day * 7,
        expected=post.mean_per_day * horizon,
        interval_80=post.interval(horizon, 0.8),
        interval_90=post.interval(horizon, 0.9),
        next_expected=next_expected.replace(microsecond=0) if next_expected else None,
        overdue=overdue_since is not None and now > overdue_since,
        overdue_since=overdue_since.replace(microsecond=0) if overdue_since else None,
    )
