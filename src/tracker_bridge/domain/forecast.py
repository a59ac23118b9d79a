"""When will a defect strike again: a gamma-Poisson rate that is honest about few sightings.

Sightings come in *episodes*: a sighting within six hours of the one before belongs to the same
episode (an alert flapping, a restart loop). Episodes are modelled as a Poisson process with an
unknown rate, which gets a weak Gamma(shape 0.5, rate 7 days) prior: the shape of Jeffreys'
prior for a Poisson rate, made proper (worth a week of watching with half a sighting in it) so
one fresh sighting still gives an answer, about two in the next 30 days with a wide range. The
first episode opens the observation window, so the evidence is the episodes after it over the
whole time from the first sighting to *now*, quiet time included: a defect that went silent
lowers its own rate.
Evidence is discounted with a half-life of 30 days (the forecast's own horizon), so a defect
that has changed, faded or flared is judged mostly by its recent weeks, and old evidence widens
rather than narrows the interval.

The episode count in the next 30 days is then negative binomial; each episode brings on average
``(sightings + 1) / (episodes + 1)`` sightings (shrunk towards one). The sighting count is that
compound, summarised by the negative binomial with the same mean and variance: the expected
number and credible intervals that widen when evidence is thin or sightings come in bursts.
Without bursts it is exactly the gamma-Poisson predictive.

*Overdue* asks whether the silence itself is surprising: fitted on the episodes alone (first to
last), the time to the next episode is Lomax-distributed (an exponential wait with a gamma
rate); the defect is overdue once the gap since its last sighting passes that distribution's 90%
quantile. It needs three episodes (two gaps): before that there is no pattern to be late against.

docs/report.md explains the choice; benchmarks/forecast_calibration.py back-tests it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

PRIOR_SHAPE = 0.5
PRIOR_DAYS = 7.0
"""The prior is worth a week of watching with half a sighting in it."""
HALF_LIFE = timedelta(days=30)
"""Evidence this old counts half (see the module docstring); None would weigh all alike."""
HORIZON = timedelta(days=30)
OVERDUE_QUANTILE = 0.9
OVERDUE_MIN_EPISODES = 3
EPISODE_GAP = timedelta(hours=6)
"""Sightings this close to the one before are one episode."""
_DAY = timedelta(days=1)
_MAX_COUNT = 1_000_000
"""Quantile search stops here: no defect is forecast a million sightings a month."""


@dataclass(frozen=True, slots=True)
class Forecast:
    """What a defect's sightings say about the next 30 days."""

    sightings: int
    episodes: int
    """Runs of sightings each within ``EPISODE_GAP`` of the one before."""
    window: timedelta
    """From the first sighting to now: the time the rate is measured over."""
    quiet: timedelta
    """Since the last sighting."""
    per_week: float
    """Expected sightings per week now, the quiet time counted."""
    expected: float
    """Expected sightings in the next 30 days."""
    interval_80: tuple[int, int]
    """Central 80% credible interval of that count."""
    interval_90: tuple[int, int]
    next_expected: datetime | None
    """Median time of the next episode from now (None before a second episode)."""
    overdue: bool
    overdue_since: datetime | None
    """When the gap passed the 90% quantile of the fitted time between episodes (three or more
    episodes); may lie in the future, then the defect is not yet overdue."""


@dataclass(frozen=True, slots=True)
class Posterior:
    """Gamma(shape, rate) over sightings per day."""

    shape: float
    rate_days: float

    @property
    def mean_per_day(self) -> float:
        return self.shape / self.rate_days

    def counts(self, horizon_days: float) -> Counts:
        """The negative binomial count of events in ``horizon_days``."""
        return Counts(self.shape, self.rate_days / (self.rate_days + horizon_days))

    def wait_quantile_days(self, q: float) -> float:
        """The q-quantile of the time to the next sighting (Lomax: gamma-mixed exponential)."""
        return self.rate_days * math.expm1(-math.log1p(-q) / self.shape)


@dataclass(frozen=True, slots=True)
class Counts:
    """A negative binomial count: ``r`` successes to wait for with success probability ``p``."""

    r: float
    p: float

    @property
    def mean(self) -> float:
        return self.r * (1 - self.p) / self.p

    @property
    def variance(self) -> float:
        return self.mean / self.p

    @classmethod
    def matching(cls, mean: float, variance: float) -> Counts:
        """The negative binomial with this mean and variance (variance above the mean)."""
        return cls(mean * mean / (variance - mean), mean / variance)

    def quantile(self, q: float) -> int:
        """Smallest k with P(N <= k) >= q."""
        r, p = self.r, self.p
        mean, sd = self.mean, math.sqrt(self.variance)
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
            pmf *= (k + r) / (k + 1) * (1 - p)
            k += 1
            cdf += pmf
        return k

    def interval(self, mass: float) -> tuple[int, int]:
        """The central credible interval holding ``mass``."""
        tail = (1 - mass) / 2
        return self.quantile(tail), self.quantile(1 - tail)


def episodes(ordered: Sequence[datetime], gap: timedelta = EPISODE_GAP) -> list[datetime]:
    """The start of each episode in sorted sighting times."""
    starts: list[datetime] = []
    previous: datetime | None = None
    for t in ordered:
        if previous is None or t - previous > gap:
            starts.append(t)
        previous = t
    return starts


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
    times: Sequence[datetime],
    now: datetime,
    *,
    half_life: timedelta | None = HALF_LIFE,
    episode_gap: timedelta = EPISODE_GAP,
) -> Forecast | None:
    """The forecast from sighting times (any order); None without any sighting.

    Sightings recorded after ``now`` (clock skew, back-dating mistakes) count as seen now.
    """
    if not times:
        return None
    ordered = sorted(min(t, now) for t in times)
    first, last, n = ordered[0], ordered[-1], len(ordered)
    starts = episodes(ordered, episode_gap)
    k = len(starts)
    post = posterior(starts, now, half_life)
    runs = post.counts(HORIZON / _DAY)
    size = (n + 1) / (k + 1)
    # sightings = episodes x size: mean and variance of the compound, sizes taken as geometric
    mean = runs.mean * size
    variance = runs.mean * size * (size - 1) + runs.variance * size * size
    counts = Counts.matching(mean, variance) if variance > mean * (1 + 1e-9) else runs
    next_expected = None
    if k >= 2:
        next_expected = now + post.wait_quantile_days(0.5) * _DAY
    overdue_since = None
    if k >= OVERDUE_MIN_EPISODES:
        history = posterior(starts, last, half_life)
        overdue_since = last + history.wait_quantile_days(OVERDUE_QUANTILE) * _DAY
    return Forecast(
        sightings=n,
        episodes=k,
        window=now - first,
        quiet=now - last,
        per_week=post.mean_per_day * 7 * size,
        expected=mean,
        interval_80=counts.interval(0.8),
        interval_90=counts.interval(0.9),
        next_expected=next_expected.replace(microsecond=0) if next_expected else None,
        overdue=overdue_since is not None and now > overdue_since,
        overdue_since=overdue_since.replace(microsecond=0) if overdue_since else None,
    )
