"""Known-defect matching on an operational stream, measured through ``observe``, beside baselines.

Usage::

    python benchmarks/ops_matching.py [benchmarks/data/ops/ops.jsonl]

Each message of the labelled stream (``seq``, ``defect``, ``kind``, ``message``; see
``benchmarks/data/ops/README.md``) is recorded in order with ``tracker_bridge.workflows.observe.run``
on the embedded tracker in memory, exactly as ``bridge observe`` does it. A tracker defect stands
for the label of the message that opened it. Figures:

- **recall**: of the repeat sightings (a label seen before), the share that reached a defect opened
  for their label;
- **wrong**: of all messages, the share that landed on an existing defect of another label;
- **splits**: repeat sightings that opened a new defect instead; **cand**: the share of those splits
  that listed a defect of their label among the candidates ("seen before?");
- recall by kind of variation (other values, wrapper, stack trace, version drift, typed by a
  person, one line of a multi-line event).

The same stream goes through two baselines in the same run: exact text (whitespace collapsed) and
Drain3 with generic masking (``benchmarks/grouping.py``), each cluster standing for the label that
opened it.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from grouping import drain3_grouper

from tracker_bridge.domain.conventions import Conventions
from tracker_bridge.trackers.local import LocalTracker
from tracker_bridge.workflows import observe

DATA = Path(__file__).resolve().parent / "data" / "ops" / "ops.jsonl"

# (defect or group id, candidate ids) for one message
Decision = tuple[str, tuple[str, ...]]


@dataclass
class Score:
    name: str
    repeats: int = 0
    reached: int = 0
    wrong: int = 0
    splits: int = 0
    split_with_candidate: int = 0
    by_kind: dict[str, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    wrong_examples: list[str] = field(default_factory=list)
    split_examples: list[str] = field(default_factory=list)
    seconds: float = 0.0
    total: int = 0


def measure(name: str, rows: list[dict[str, str]], decide: Callable[[str], Decision]) -> Score:
    score = Score(name)
    opened_by: dict[str, str] = {}  # defect/group id -> label of the message that opened it
    seen: set[str] = set()
    start = time.perf_counter()
    for row in rows:
        label, kind, message = row["defect"], row["kind"], row["message"]
        key, candidates = decide(message)
        new = key not in opened_by
        if new:
            opened_by[key] = label
        elif opened_by[key] != label:
            score.wrong += 1
            score.wrong_examples.append(f"{label} -> {opened_by[key]}: {message[:90]!r}")
        if label in seen:
            score.repeats += 1
            ok = not new and opened_by[key] == label
            score.reached += ok
            score.by_kind[kind][0] += ok
            score.by_kind[kind][1] += 1
            if new:
                score.splits += 1
                hit = any(opened_by.get(c) == label for c in candidates)
                score.split_with_candidate += hit
                if not hit:
                    score.split_examples.append(f"{label} ({kind}): {message[:90]!r}")
        seen.add(label)
    score.seconds = time.perf_counter() - start
    score.total = len(rows)
    return score


def through_observe() -> Callable[[str], Decision]:
    tracker = LocalTracker(":memory:")
    conventions = Conventions()

    def decide(message: str) -> Decision:
        result = observe.run(tracker, conventions, observe.Request(message=message, instance="h"))
        assert result.defect is not None
        return result.defect, tuple(c.key for c in result.candidates)

    return decide


def exact_text() -> Callable[[str], Decision]:
    def decide(message: str) -> Decision:
        return " ".join(message.split()), ()

    return decide


def drain3() -> Callable[[str], Decision]:
    group = drain3_grouper()

    def decide(message: str) -> Decision:
        return group(" ".join(message.split())), ()

    return decide


def report(scores: Iterable[Score], verbose: bool) -> None:
    scores = list(scores)
    kinds = sorted({k for s in scores for k in s.by_kind})
    print(
        f"{'method':<10} {'recall':>7} {'wrong':>6} {'splits':>7} {'cand':>6} {'msg/s':>8}  "
        + " ".join(f"{k:>9}" for k in kinds)
    )
    for s in scores:
        cand = s.split_with_candidate / s.splits if s.splits else 1.0
        by_kind = " ".join(
            f"{s.by_kind[k][0] / s.by_kind[k][1]:>9.2f}" if s.by_kind[k][1] else f"{'-':>9}"
            for k in kinds
        )
        print(
            f"{s.name:<10} {s.reached / s.repeats:>7.3f} {s.wrong / s.total:>6.1%} "
            f"{s.splits:>7} {cand:>6.2f} {s.total / s.seconds:>8,.0f}  {by_kind}"
        )
    counts = Counter(k for s in scores[:1] for k in s.by_kind for _ in range(s.by_kind[k][1]))
    print(f"repeat sightings by kind: {dict(counts)}")
    if verbose:
        for s in scores[:1]:
            print("\nwrong merges:", *s.wrong_examples, sep="\n  ")
            print("\nsplits without a correct candidate:", *s.split_examples, sep="\n  ")


def main() -> None:
    """Run the stream through observe and the baselines; print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path, nargs="?", default=DATA)
    parser.add_argument("-v", "--verbose", action="store_true", help="list wrong merges and splits")
    args = parser.parse_args()
    with args.data.open(encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle if line.strip()]
    labels = {r["defect"] for r in rows}
    print(f"{len(rows)} messages, {len(labels)} defects ({args.data.name})")
    report(
        [
            measure("observe", rows, through_observe()),
            measure("exact", rows, exact_text()),
            measure("drain3", rows, drain3()),
        ],
        args.verbose,
    )


if __name__ == "__main__":
    main()
