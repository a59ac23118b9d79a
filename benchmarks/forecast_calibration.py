"""Back-test of the report's forecast on synthetic sighting histories, beside the old naive rule.

Usage::

    python benchmarks/forecast_calibration.py [--histories 2000] [--seed 18]

Each history is a defect watched for a random time (30 to 365 days) after its first sighting;
``now`` is the end of that time, and the truth is the number of sightings in the 30 days after.
Three generators, fixed seed:

- ``poisson``: a constant rate, log-uniform from one a quarter to two a day;
- ``bursty``: episodes at a constant rate, each 1 + geometric(mean 2) sightings within six hours
  (alerts that flap; the model's episode gap is six hours too, so this is its favourable case);
- ``decaying``: a rate that halves every 10 to 60 days (a defect fading or partly fixed), which
  is what goes quiet.

For each the model (``tracker_bridge.domain.forecast``, also without its discount and without
grouping sightings into episodes) and the old rule (rate = sightings over
the first-to-last span, next = last + median gap; a plug-in Poisson interval at that rate, the
best interval the old rule can offer) are scored on the same histories: coverage of the 80% and
90% intervals (how often the truth fell inside; a calibrated method is near 80% and 90%), the
median absolute error of the expected count, the median 80% width, and for the old rule how
often it abstains and how often its "next expected" date already lay in the past at ``now``.
"""

from __future__ import annotations

import argparse
import itertools
import math
import random
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from tracker_bridge.domain.forecast import HALF_LIFE, HORIZON, Counts, forecast

T0 = datetime(2026, 1, 1, tzinfo=UTC)
DAY = timedelta(days=1)
HORIZON_DAYS = HORIZON / DAY

Generator = Callable[[random.Random, float], list[float]]
"""(rng, length in days) -> sighting times in days from 0, sorted."""


def poisson(rng: random.Random, length: float) -> list[float]:
    rate = math.exp(rng.uniform(math.log(1 / 90), math.log(2)))
    return _homogeneous(rng, rate, length)


def bursty(rng: random.Random, length: float) -> list[float]:
    rate = math.exp(rng.uniform(math.log(1 / 90), math.log(1 / 3)))
    out: list[float] = []
    for start in _homogeneous(rng, rate, length):
        size = 1
        while rng.random() < 2 / 3:  # geometric with mean 2 extra sightings
            size += 1
        out += [start + rng.uniform(0, 6 / 24) for _ in range(size)]
    return sorted(t for t in out if t < length)


def decaying(rng: random.Random, length: float) -> list[float]:
    peak = math.exp(rng.uniform(math.log(1 / 7), math.log(2)))
    half_life = rng.uniform(10, 60)
    # thinning: draw at the peak rate, keep each with the decayed share
    return [t for t in _homogeneous(rng, peak, length) if rng.random() < 0.5 ** (t / half_life)]


def _homogeneous(rng: random.Random, rate: float, length: float) -> list[float]:
    out, t = [], 0.0
    while True:
        t += rng.expovariate(rate)
        if t >= length:
            return out
        out.append(t)


GENERATORS: dict[str, Generator] = {"poisson": poisson, "bursty": bursty, "decaying": decaying}


@dataclass
class Score:
    cases: int = 0
    in80: int = 0
    in90: int = 0
    errors: list[float] | None = None
    widths: list[int] | None = None
    abstained: int = 0
    stale: int = 0

    def add(self, truth: int, expected: float, i80: tuple[int, int], i90: tuple[int, int]) -> None:
        self.cases += 1
        self.in80 += i80[0] <= truth <= i80[1]
        self.in90 += i90[0] <= truth <= i90[1]
        (self.errors if self.errors is not None else []).append(abs(expected - truth))
        (self.widths if self.widths is not None else []).append(i80[1] - i80[0])

    def row(self, name: str) -> str:
        if not self.cases:
            return f"  {name:<22} no forecasts"
        errors = statistics.median(self.errors or [0.0])
        widths = statistics.median(self.widths or [0])
        return (
            f"  {name:<22} n={self.cases:<5} cover80={self.in80 / self.cases:6.1%}"
            f"  cover90={self.in90 / self.cases:6.1%}  median|err|={errors:5.2f}"
            f"  median width80={widths:g}"
        )


def new_score() -> Score:
    return Score(errors=[], widths=[])


def poisson_interval(mean: float, mass: float) -> tuple[int, int]:
    """Plug-in Poisson quantiles (a gamma posterior with near-infinite certainty)."""
    certain = Counts(r=mean * 1e9, p=1e9 / (1e9 + 1))
    return certain.interval(mass) if mean > 0 else (0, 0)


def naive(history: list[float], now: float) -> tuple[float, float | None] | None:
    """The old rule: rate over first..last (at least a day, two sightings), last + median gap."""
    if len(history) < 2 or history[-1] - history[0] < 1:
        return None
    per_day = len(history) / (history[-1] - history[0])
    gaps = sorted(b - a for a, b in itertools.pairwise(history))
    median = statistics.median(gaps)
    return per_day * HORIZON_DAYS, (history[-1] + median) if len(history) >= 3 else None


def run(histories: int, seed: int, half_life: timedelta) -> None:
    print(f"model: gamma-Poisson, evidence half-life {half_life / DAY:g} days")
    for name, generate in GENERATORS.items():
        rng = random.Random(f"{seed}:{name}")
        model_all, model_same, old = new_score(), new_score(), new_score()
        undiscounted, unbursted = new_score(), new_score()
        overdue_quiet = overdue_flagged = 0
        started = time.perf_counter()
        made = 0
        while made < histories:
            length = rng.uniform(30, 365)
            times = generate(rng, length + HORIZON_DAYS)
            seen = [t for t in times if t < length]
            if not seen:
                continue
            made += 1
            # shift so the first sighting opens the watch, as it does for a real defect
            start = seen[0]
            history = [t - start for t in seen]
            now = length - start
            truth = sum(1 for t in times if length <= t < length + HORIZON_DAYS)
            stamps, at = [T0 + t * DAY for t in history], T0 + now * DAY
            f = forecast(stamps, at, half_life=half_life)
            flat = forecast(stamps, at, half_life=None)
            single = forecast(stamps, at, half_life=half_life, episode_gap=timedelta(0))
            assert f is not None
            assert flat is not None
            assert single is not None
            model_all.add(truth, f.expected, f.interval_80, f.interval_90)
            undiscounted.add(truth, flat.expected, flat.interval_80, flat.interval_90)
            unbursted.add(truth, single.expected, single.interval_80, single.interval_90)
            if f.overdue:
                overdue_flagged += 1
                overdue_quiet += truth == 0
            rule = naive(history, now)
            if rule is None:
                old.abstained += 1
                continue
            expected, next_at = rule
            old.stale += next_at is not None and next_at < now
            old.add(
                truth, expected, poisson_interval(expected, 0.8), poisson_interval(expected, 0.9)
            )
            model_same.add(truth, f.expected, f.interval_80, f.interval_90)
        seconds = time.perf_counter() - started
        print(f"{name}: {histories} histories ({seconds:.1f} s)")
        print(model_all.row("model, all"))
        print(undiscounted.row("model, no discount"))
        print(unbursted.row("model, no episodes"))
        print(model_same.row("model, where old rule"))
        print(old.row("old naive rule"))
        print(
            f"  old rule abstains on {old.abstained / histories:.1%}; its next-expected date"
            f" was already past at now in {old.stale / max(old.cases, 1):.1%} of its forecasts"
        )
        if overdue_flagged:
            print(
                f"  model flags overdue on {overdue_flagged / histories:.1%}; of those"
                f" {overdue_quiet / overdue_flagged:.1%} stayed quiet the next 30 days"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--histories", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=18)
    parser.add_argument(
        "--half-life", type=float, default=HALF_LIFE / DAY, help="evidence half-life in days"
    )
    args = parser.parse_args()
    run(args.histories, args.seed, timedelta(days=args.half_life))


if __name__ == "__main__":
    main()
