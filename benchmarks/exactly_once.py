"""Exactly once under races, kill -9 and outages: every sighting once, with all its evidence.

Three scenarios, each with its own working directory, real processes throughout:

1. race: 8 processes x ROUNDS rounds, one brand-new message per round, all 8 released at the same
   moment (a barrier) on the embedded tracker. Counted: defects (must equal ROUNDS),
   observations, and the median time of one observe. The baseline is the code path before the
   journal (look the defect up, then create it: two steps, no lock), run the same way.
2. kill: KILLS runs of ``bridge observe`` killed with SIGKILL at random: half at a moment uniform
   over a whole run (from outside), half at a moment uniform over the delivery (the process kills
   itself -9 within the median time from the journal holding the sighting to it being done), and
   KILLS killed right after the observation's create (the parent watches the tracker's rows; the
   child's evidence upload is slowed so the kill lands before it), each followed by the same
   command. How far each got when killed is counted from the journal's step records.
3. outage: DOWN observes while the tracker (a fake Jira on 127.0.0.1) answers 503 to everything,
   then ``bridge replay`` killed 3 times midway (after a quarter, half and three quarters of the
   creates), then replay to the end.

4. On Jira and GitHub (``exactly_once_remote.py``): the race with WORKERS processes against each
   fake (searches lagging writes), beside the code path before; FAULTY observes against the fake
   Jira, each meeting a fault (lost create answer, create landing after the timeout, 429 with
   Retry-After, 503 burst, reset mid-upload, lost upload answer), then replay.

Every scenario ends with an audit: one observation per event, holding every evidence hash its
journal entry kept, and the entry done.

    python benchmarks/exactly_once.py [--rounds 50] [--kills 50] [--down 50] [--seed 7]
    python benchmarks/exactly_once.py --rounds 5 --kills 3 --down 8      # a quick run
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections import Counter
from contextlib import closing
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from fakes.jira import EMAIL, TOKEN, FakeJira  # noqa: E402
from support.sightings import (  # noqa: E402
    audit,
    brand_new_messages,
    environment,
    finish,
    kill9,
    observe_args,
    progress,
    spawn,
    wait_for_entry,
    wait_for_row,
    wait_for_ticket,
)
from tracker_bridge.domain.conventions import Conventions, format_title, normalize  # noqa: E402
from tracker_bridge.domain.fingerprint import fingerprint  # noqa: E402
from tracker_bridge.domain.tickets import EvidenceFile, Kind, NewTicket, utcnow  # noqa: E402
from tracker_bridge.journal import State, entry_id  # noqa: E402
from tracker_bridge.journal.sqlite import SqliteJournal  # noqa: E402
from tracker_bridge.trackers.jira import JiraTracker  # noqa: E402
from tracker_bridge.trackers.local import LocalTracker  # noqa: E402
from tracker_bridge.workflows.deliver import choose_defect, new_defect  # noqa: E402

WORKERS = 8

# -- 1. race -----------------------------------------------------------------------------------


def _worker(
    mode: str, workdir: str, index: int, messages: list[str], barrier: Any, times: Any
) -> None:
    os.chdir(workdir)
    for name in [n for n in os.environ if n.startswith("BRIDGE_")]:
        del os.environ[name]
    from tracker_bridge.bridge import Bridge

    log = Path(f"w{index}.log")
    log.write_text(f"worker {index}\n" * 10)
    with Bridge() as bridge:
        for r, message in enumerate(messages):
            barrier.wait()
            started = time.perf_counter()
            if mode == "journal":
                bridge.observe(
                    message, instance=f"host-{index}", event_id=f"r{r}-w{index}", evidence=[log]
                )
            else:
                _old_observe(bridge.tracker, message, f"host-{index}", f"r{r}-w{index}", log)
            times.append(time.perf_counter() - started)


def _old_observe(tracker: Any, message: str, instance: str, event_id: str, log: Path) -> None:
    """The code path before the journal: look the defect up, then create it if none matched."""
    conv = Conventions()
    fp = fingerprint(message)
    if tracker.find_by_event(event_id) is not None:
        return
    defect, _, _, _ = choose_defect(tracker, message, fp, None)
    if defect is None:
        defect = tracker.create(new_defect(conv, message, instance, fp, event_id))
    observation = tracker.create(
        NewTicket(
            kind=Kind.OBSERVATION,
            title=format_title(message, instance, conv.observation_prefix),
            message=message,
            parent=defect.key,
            instance=normalize(instance),
            observed_at=utcnow(),
            labels=(conv.observation_label,),
            event_id=event_id,
        )
    )
    tracker.attach(
        observation.key, [EvidenceFile(log.name, log.read_bytes(), f"file:{log}", utcnow())]
    )


def race(mode: str, rounds: int, seed: int) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix=f"bridge-race-{mode}-"))
    messages = brand_new_messages(rounds, seed)
    ctx = mp.get_context("fork")
    barrier = ctx.Barrier(WORKERS)
    with ctx.Manager() as manager:
        times = manager.list()
        procs = [
            ctx.Process(target=_worker, args=(mode, str(workdir), i, messages, barrier, times))
            for i in range(WORKERS)
        ]
        started = time.perf_counter()
        for p in procs:
            p.start()
        for p in procs:
            p.join()
        elapsed = time.perf_counter() - started
        latencies = list(times)
    assert all(p.exitcode == 0 for p in procs), [p.exitcode for p in procs]
    with closing(LocalTracker(workdir / ".bridge" / "bridge.db")) as tracker:
        defects = sum(1 for _ in tracker.defects())
        observations = sum(1 for t in tracker.scan("Handle") if t.kind is Kind.OBSERVATION)
    shutil.rmtree(workdir, ignore_errors=True)
    return {
        "mode": mode,
        "rounds": rounds,
        "processes": WORKERS,
        "defects": defects,
        "observations": observations,
        "median_observe_s": round(statistics.median(latencies), 4),
        "seconds": round(elapsed, 1),
    }


# -- 2. kill -9 --------------------------------------------------------------------------------


def kills(count: int, seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    workdir = Path(tempfile.mkdtemp(prefix="bridge-kill-"))
    messages = brand_new_messages(5, seed + 1)
    events, reruns_failed, at_kill = [], 0, Counter[str]()
    # how long delivery takes once the journal holds a sighting: random kills land within it
    spans, lifetimes = [], []
    for n, message in enumerate(messages):
        log = workdir / f"ref{n}.log"
        log.write_text("reference run\n" * 50)
        begun = time.perf_counter()
        proc = spawn(workdir, observe_args(message, "ref", f"ref-{n}", log))
        wait_for_entry(workdir, f"ref-{n}", proc)
        kept = time.perf_counter()
        wait_for_row(
            workdir / ".bridge" / "journal.db",
            "SELECT COUNT(*) FROM entries WHERE id = ? AND state = 'done'",
            entry_id(f"ref-{n}"),
            proc,
        )
        spans.append(time.perf_counter() - kept)
        finish(proc)
        lifetimes.append(time.perf_counter() - begun)
    span, lifetime = statistics.median(spans), statistics.median(lifetimes)
    started = time.perf_counter()
    for n in range(2 * count):
        after_create = n >= count
        event = f"{'after' if after_create else 'random'}-{n}"
        events.append(event)
        log = workdir / f"e{n}.log"
        log.write_text(f"evidence of {event}\n" * 50)
        args = observe_args(messages[n % len(messages)], f"host-{n}", event, log)
        if after_create:
            proc = spawn(workdir, args, SLOW_ATTACH="60")
            if not wait_for_ticket(workdir / ".bridge" / "bridge.db", event, proc):
                code, out, err = finish(proc)
                raise SystemExit(f"{event}: no observation appeared (exit {code}): {err}{out}")
        elif n % 2:  # anywhere in the run, from outside (often before the journal holds it)
            proc = spawn(workdir, args)
            time.sleep(rng.uniform(0.0, lifetime))
        else:  # somewhere in the delivery: the process kills itself -9 after the put
            proc = spawn(workdir, args, KILL_AFTER_PUT=str(span), KILL_SEED=f"{seed}-{n}")
            proc.wait(timeout=120)
        kill9(proc)
        at_kill[progress(workdir, event)] += 1
        code, _, err = finish(spawn(workdir, args))
        if code != 0:
            reruns_failed += 1
            print(f"  {event}: re-run exit {code}: {err.strip()[-200:]}", file=sys.stderr)
    found = audit(workdir, events)
    shutil.rmtree(workdir, ignore_errors=True)
    return {
        "runs": 2 * count,
        "killed_at_random": count,
        "killed_after_observation_create": count,
        "run_s": round(lifetime, 3),
        "delivery_span_s": round(span, 3),
        "state_at_kill": dict(sorted(at_kill.items())),
        "reruns_failed": reruns_failed,
        **found.to_json(),
        "seconds": round(time.perf_counter() - started, 1),
    }


# -- 3. outage, then replay killed midway ----------------------------------------------------------


def outage(count: int, seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    workdir = Path(tempfile.mkdtemp(prefix="bridge-outage-"))
    messages = brand_new_messages(5, seed + 2)
    started = time.perf_counter()
    with FakeJira("cloud") as site:
        (workdir / "bridge.toml").write_text(
            f'[tracker]\nkind = "jira"\nurl = "{site.url}"\nproject = "OPS"\n'
            f'deployment = "cloud"\nemail = "{EMAIL}"\nmax_retry_wait = 0\n'
        )
        os.environ["BRIDGE_TRACKER__TOKEN"] = TOKEN
        env = {"BRIDGE_TRACKER__TOKEN": TOKEN}
        site.fail(503, times=10**9)
        events, kept = [], 0
        for n in range(count):
            event = f"down-{n}"
            events.append(event)
            log = workdir / f"e{n}.log"
            log.write_text(f"evidence of {event}\n" * 50)
            args = observe_args(messages[n % len(messages)], f"host-{n}", event, log)
            code, _, err = finish(_spawn_env(workdir, args, env))
            kept += code == 3 and "kept in the journal" in err
        site.faults.clear()

        def creates() -> int:
            return sum(1 for m, p in site.requests if m == "POST" and p == "/rest/api/2/issue")

        kills = 0
        for quarter in (1, 2, 3):
            proc = _spawn_env(workdir, ["replay"], env)
            target = quarter * count // 4 + rng.randint(0, 2)
            while proc.poll() is None and creates() < target:
                time.sleep(0.002)
            if proc.poll() is None:
                kill9(proc)
                kills += 1
            else:
                proc.communicate()
        code, _, err = finish(_spawn_env(workdir, ["replay"], env))
        result = _audit_jira(site, workdir, events)
    shutil.rmtree(workdir, ignore_errors=True)
    return {
        "observes_while_down": count,
        "kept_exit_3": kept,
        "replays_killed": kills,
        "final_replay_exit": code,
        **result,
        "seconds": round(time.perf_counter() - started, 1),
    }


def _spawn_env(workdir: Path, args: list[str], env: dict[str, str]) -> Any:
    import subprocess

    from support.sightings import RUNNER

    return subprocess.Popen(
        [sys.executable, str(RUNNER), *args],
        cwd=workdir,
        env={**environment(), **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _audit_jira(site: FakeJira, workdir: Path, events: list[str]) -> dict[str, int]:
    conv = Conventions()
    tracker = JiraTracker(
        url=site.url, project="OPS", conventions=conv, deployment="cloud", email=EMAIL, token=TOKEN
    )
    journal = SqliteJournal(workdir / ".bridge" / "journal.db")
    out = {"observations": 0, "duplicates": 0, "missing": 0, "without_evidence": 0}
    out["undelivered"] = 0
    try:
        for event in events:
            label = conv.event_label(event)
            issues = [k for k, i in site.issues.items() if label in i.labels]
            out["observations"] += len(issues)
            out["duplicates"] += len(issues) > 1
            out["missing"] += not issues
            entry = journal.get(entry_id(event))
            if entry is None or entry.state is not State.DONE:
                out["undelivered"] += 1
                continue
            if issues:
                held = {r.sha256 for r in tracker.get(issues[0]).evidence}
                out["without_evidence"] += not {i.sha256 for i in entry.evidence} <= held
        out["defects"] = sum(1 for _ in tracker.defects())
    finally:
        tracker.close()
        journal.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=50)
    parser.add_argument("--kills", type=int, default=50)
    parser.add_argument("--down", type=int, default=50)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--faulty", type=int, default=200, help="faulty observes on Jira")
    parser.add_argument("--quick", action="store_true", help="Jira/GitHub: 5 rounds, 28 faulty")
    parser.add_argument(
        "--skip",
        nargs="*",
        default=[],
        choices=["race", "kill", "outage", "jira", "github", "faulty"],
        help="jira, github, faulty: the remote scenarios (benchmarks/exactly_once_remote.py)",
    )
    opts = parser.parse_args()
    if "race" not in opts.skip:
        for mode in ("before-journal", "journal"):
            print("race   ", race(mode, opts.rounds, opts.seed), flush=True)
    if "kill" not in opts.skip:
        print("kill -9", kills(opts.kills, opts.seed), flush=True)
    if "outage" not in opts.skip:
        print("outage ", outage(opts.down, opts.seed), flush=True)
    import exactly_once_remote  # racing on Jira and GitHub, and observes through faults

    exactly_once_remote.run(opts.rounds, opts.faulty, opts.seed, quick=opts.quick, skip=opts.skip)


if __name__ == "__main__":
    main()
