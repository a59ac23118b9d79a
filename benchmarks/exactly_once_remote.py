"""Exactly once on Jira and GitHub: racing processes, and observes through every fault kind.

Two scenarios against the fakes on 127.0.0.1 (``tests/fakes``), whose searches lag writes
(``search_lag``) as Jira Cloud's do:

1. remote race: WORKERS processes (each a ``Bridge`` of its own, one working directory: one
   machine) x ROUNDS rounds, one brand-new message per round, released together by a barrier,
   against the fake Jira and the fake GitHub. Counted: defects (must equal ROUNDS; none folded,
   as one machine's lock and its memory of what it made are enough), observations, duplicates,
   the median observe. The baseline ("before") is the code path before this work (look the
   defect up, then create it), run the same way.
2. faulty: COUNT observes (library calls, real HTTP) against the fake Jira, each meeting one
   fault: the create's answer lost, the create landing after the client's timeout (found while
   searches lag), the create landing later still (kept for replay, exit 3), 429 with
   Retry-After, a 503 burst, a reset mid-upload, the upload's answer lost. Then ``replay`` of what
   was kept, and an audit: duplicates, lost, observations without all their evidence.

Run from ``benchmarks/exactly_once.py`` (``--skip`` to leave scenarios out, ``--quick``), or
alone: ``python benchmarks/exactly_once_remote.py [--rounds 50] [--faulty 200] [--quick]``.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from fakes.jira import FakeJira  # noqa: E402
from support import remote  # noqa: E402
from support.sightings import brand_new_messages  # noqa: E402
from tracker_bridge import Bridge  # noqa: E402
from tracker_bridge.errors import BridgeError  # noqa: E402

WORKERS = 8
TIMEOUT = 1.0
"""The bridge's request timeout in these runs (seconds), so that late creates cost little."""


# -- 1. racing processes ------------------------------------------------------------------------


def _worker(
    mode: str,
    workdir: str,
    token: str,
    index: int,
    messages: list[str],
    prefix: str,
    barrier: Any,
    times: Any,
) -> None:
    """One of WORKERS processes: each round, wait for the others, then observe the message."""
    os.chdir(workdir)
    for name in [n for n in os.environ if n.startswith("BRIDGE_")]:
        del os.environ[name]
    os.environ["BRIDGE_TRACKER__TOKEN"] = token
    log = Path(f"w{index}.log")
    log.write_text(f"worker {index}\n" * 40)
    with Bridge.from_config(Path(workdir) / "bridge.toml") as bridge:
        for r, message in enumerate(messages):
            event = f"{prefix}-{r}-{index}"
            barrier.wait()
            started = time.perf_counter()
            if mode == "journal":
                bridge.observe(message, instance=f"h{index}", event_id=event, evidence=[log])
            else:
                _before(bridge, message, f"h{index}", event, log)
            times.append(time.perf_counter() - started)


def _before(bridge: Bridge, message: str, instance: str, event: str, log: Path) -> None:
    """The code path before this work: look the defect up, then create it; no lock, no fold."""
    from tracker_bridge.domain.conventions import format_title, normalize
    from tracker_bridge.domain.fingerprint import fingerprint
    from tracker_bridge.domain.tickets import EvidenceFile, Kind, NewTicket, utcnow
    from tracker_bridge.workflows.deliver import choose_defect, new_defect

    tracker, conv = bridge.tracker, bridge.settings.conventions_value()
    fp = fingerprint(message)
    defect, _, _, _ = choose_defect(tracker, message, fp, None)
    if defect is None:
        defect = tracker.create(new_defect(conv, message, instance, fp, event))
    made = tracker.create(
        NewTicket(
            kind=Kind.OBSERVATION,
            title=format_title(message, instance, conv.observation_prefix),
            message=message,
            parent=defect.key,
            instance=normalize(instance),
            observed_at=utcnow(),
            labels=(conv.observation_label,),
            event_id=event,
        )
    )
    tracker.attach(made.key, [EvidenceFile(log.name, log.read_bytes(), f"file:{log}", utcnow())])


def remote_race(
    kind: str, rounds: int, seed: int, *, mode: str = "journal", lag: float = 1.0
) -> dict[str, Any]:
    """WORKERS processes per round racing one brand-new message on ``kind``'s fake, whose
    searches lag writes by ``lag`` seconds."""
    fake = remote.start(kind)
    fake.search_lag = lag
    base = Path(tempfile.mkdtemp(prefix=f"bridge-race-{kind}-"))
    here = remote.machine(fake, base / "machine")
    messages = brand_new_messages(rounds, seed)
    prefix = f"{kind}-{mode}"
    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(WORKERS)
    started = time.perf_counter()
    try:
        with ctx.Manager() as manager:
            times = manager.list()
            procs = [
                ctx.Process(
                    target=_worker,
                    args=(mode, str(here), remote.token(fake), i, messages, prefix, barrier, times),
                )
                for i in range(WORKERS)
            ]
            for p in procs:
                p.start()
            for p in procs:
                p.join()
            latencies = list(times)
        elapsed = time.perf_counter() - started
        events = [f"{prefix}-{r}-{i}" for r in range(rounds) for i in range(WORKERS)]
        found = remote.audit(fake, [here] if mode == "journal" else [], events)
    finally:
        fake.stop()
        shutil.rmtree(base, ignore_errors=True)
    result = found.to_json()
    if mode != "journal":
        result.pop("undelivered")  # no journal on that path
    return {
        "tracker": kind,
        "mode": mode,
        "rounds": rounds,
        "processes": WORKERS,
        "worker_exit_codes": sorted({p.exitcode for p in procs}),
        **result,
        "defects_equal_rounds": found.defects == rounds,
        "median_observe_s": round(statistics.median(latencies), 3) if latencies else None,
        "seconds": round(elapsed, 1),
        "violations": len(fake.violations),
    }


# -- 2. observes through faults -------------------------------------------------------------------

FAULTS: dict[str, Callable[[FakeJira], None]] = {
    "lost create answer": lambda f: f.drop_after_commit(path="/rest/api/2/issue", method="POST"),
    "create lands after the timeout": lambda f: f.land_late(
        TIMEOUT + 0.3, path_end="/rest/api/2/issue"
    ),
    "create lands past the search lag": lambda f: f.land_late(
        TIMEOUT + 1.5, path_end="/rest/api/2/issue"
    ),
    "429 with Retry-After": lambda f: f.fail(429, retry_after="1", path="/rest/api/2/issue"),
    "503 burst": lambda f: f.fail(503, times=3, retry_after="0.2"),
    "reset mid-upload": lambda f: f.reset_mid_upload(path="/attachments"),
    "lost upload answer": lambda f: f.drop_after_commit(path="/attachments"),
}


def faulty(count: int, seed: int, lag: float = 0.5) -> dict[str, Any]:
    """COUNT observes against the fake Jira, each meeting one fault; replay; audit."""
    fake = FakeJira("cloud").start()
    fake.search_lag = lag
    base = Path(tempfile.mkdtemp(prefix="bridge-faulty-"))
    here = remote.machine(fake, base / "machine", timeout=TIMEOUT, search_lag=lag + 0.5)
    messages = brand_new_messages(5, seed + 11)
    events: list[str] = []
    outcomes = Counter[str]()
    by_fault = Counter[str]()
    cwd = os.getcwd()
    os.environ["BRIDGE_TRACKER__TOKEN"] = remote.token(fake)
    started = time.perf_counter()
    try:
        os.chdir(here)
        names = list(FAULTS)
        for n in range(count):
            name = names[n % len(names)]
            by_fault[name] += 1
            event = f"faulty-{n}"
            events.append(event)
            logs = [here / f"e{n}-{i}.log" for i in range(2)]
            for i, log in enumerate(logs):
                log.write_text(f"{event} evidence {i}\n" * (60 + 40 * i))
            fake.faults.clear()
            FAULTS[name](fake)
            with Bridge.from_config(here / "bridge.toml") as bridge:
                try:
                    bridge.observe(
                        messages[n % len(messages)],
                        instance=f"host-{n % 7}",
                        evidence=logs,
                        event_id=event,
                    )
                    outcomes["recorded"] += 1
                except BridgeError as exc:
                    outcomes[f"kept, exit {exc.exit_code}"] += 1
            print(f"\r  faulty: {n + 1}/{count}", end="", file=sys.stderr, flush=True)
        print(file=sys.stderr)
        fake.faults.clear()
        time.sleep(TIMEOUT + 2 * lag + 1.0)  # the last late create has landed and is searchable
        with Bridge.from_config(here / "bridge.toml") as bridge:
            replayed = bridge.replay()
        outcomes["replayed"] = len(replayed.sent)
        outcomes["left after replay"] = replayed.left
        found = remote.audit(fake, [here], events)
    finally:
        os.chdir(cwd)
        fake.stop()
        shutil.rmtree(base, ignore_errors=True)
    return {
        "observes": count,
        "faults": dict(by_fault),
        "outcomes": dict(outcomes),
        "late_commits": fake.late_commits,
        **found.to_json(),
        "lost": found.missing,
        "seconds": round(time.perf_counter() - started, 1),
        "violations": len(fake.violations),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=50)
    parser.add_argument("--faulty", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--quick", action="store_true", help="5 rounds, 28 faulty observes")
    parser.add_argument("--skip", nargs="*", default=[], choices=["jira", "github", "faulty"])
    opts = parser.parse_args()
    run(opts.rounds, opts.faulty, opts.seed, quick=opts.quick, skip=opts.skip)


def run(rounds: int, count: int, seed: int, *, quick: bool, skip: list[str]) -> None:
    if quick:
        rounds, count = min(rounds, 5), min(count, 28)
    for kind in ("jira", "github"):
        if kind not in skip:
            for mode in ("before", "journal"):
                print("race   ", remote_race(kind, rounds, seed, mode=mode), flush=True)
    if "faulty" not in skip:
        print("faulty ", faulty(count, seed), flush=True)


if __name__ == "__main__":
    main()
