"""`bridge list` on Jira: requests and wall time, beside the per-defect baseline, same run.

Usage::

    python benchmarks/list_requests.py [--tickets 2500] [--latency 0.002] [--repeat 3]

The fake Jira (``tests/fakes/jira.py`` on 127.0.0.1, a fixed latency per request, every exchange
validated against the OpenAPI slice) is seeded as ``check_scale.py`` seeds it: defects with four
observations each. Then, ``--repeat`` times each, medians reported:

- **bridge**: ``workflows.listing.run``: one streaming scan, search pages of 100.
- **baseline**: what a user had before ``list``: every defect (``defects()``), then ``tree`` of
  each to count its sightings (two requests per defect).

Reported: requests received by the fake, wall time, and wall time projected at a realistic Jira
latency (requests x 100 ms + the measured time not spent waiting). Both must give the same
sighting counts (checked). The target is requests <= ceil(tickets / 100) + 5.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from check_scale import seed  # noqa: E402

from fakes.jira import EMAIL, TOKEN, FakeJira  # noqa: E402
from tracker_bridge.domain.conventions import Conventions  # noqa: E402
from tracker_bridge.domain.tickets import Kind  # noqa: E402
from tracker_bridge.trackers.jira import JiraTracker  # noqa: E402
from tracker_bridge.workflows import listing  # noqa: E402

REALISTIC = 0.100


def _tracker(fake: FakeJira, conventions: Conventions) -> JiraTracker:
    return JiraTracker(
        url=fake.url,
        project="OPS",
        conventions=conventions,
        deployment="cloud",
        email=EMAIL,
        token=TOKEN,
    )


def bridge(fake: FakeJira, conventions: Conventions) -> dict[str, int]:
    tracker = _tracker(fake, conventions)
    try:
        wanted = listing.Filter(status="all")
        return {r.key: r.sightings for r in listing.run(tracker, conventions, wanted)}
    finally:
        tracker.close()


def baseline(fake: FakeJira, conventions: Conventions) -> dict[str, int]:
    tracker = _tracker(fake, conventions)
    try:
        counts = {}
        for defect in tracker.defects():
            tree = tracker.tree(defect.key)
            counts[defect.key] = sum(1 for t in tree.observations if t.kind is Kind.OBSERVATION)
        return counts
    finally:
        tracker.close()


def measure(fake: FakeJira, run: object, conventions: Conventions, latency: float) -> tuple:
    fake.requests.clear()
    started = time.perf_counter()
    counts = run(fake, conventions)  # type: ignore[operator]
    wall = time.perf_counter() - started
    requests = len(fake.requests)
    projected = requests * REALISTIC + max(0.0, wall - requests * latency)
    return counts, requests, wall, projected


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=2500)
    parser.add_argument("--latency", type=float, default=0.002)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    conventions = Conventions()
    with FakeJira("cloud", latency=args.latency) as fake:
        seed(fake, args.tickets, conventions)
        rows = {}
        for name, run in (("bridge", bridge), ("baseline", baseline)):
            results = [measure(fake, run, conventions, args.latency) for _ in range(args.repeat)]
            rows[name] = results
        assert rows["bridge"][0][0] == rows["baseline"][0][0], "the two disagree on sightings"
        assert fake.violations == [], fake.violations
    print(
        f"{args.tickets} tickets, {args.latency * 1000:g} ms per request, medians of {args.repeat}"
    )
    print(f"{'':10} {'requests':>9} {'wall s':>8} {'at 100 ms s':>12}")
    for name, results in rows.items():
        requests = statistics.median(r[1] for r in results)
        wall = statistics.median(r[2] for r in results)
        projected = statistics.median(r[3] for r in results)
        print(f"{name:10} {requests:>9.0f} {wall:>8.2f} {projected:>12.1f}")
    target = math.ceil(args.tickets / 100) + 5
    got = statistics.median(r[1] for r in rows["bridge"])
    print(f"target: bridge requests <= {target}: {'met' if got <= target else 'MISSED'}")


if __name__ == "__main__":
    main()
