"""Exactly once with real processes on the embedded tracker: races, kill -9, re-runs.

Small counts here; ``benchmarks/exactly_once.py`` runs the same scenarios by the hundred.
"""

from __future__ import annotations

import random
import time
from pathlib import Path

from support.sightings import (
    audit,
    brand_new_messages,
    finish,
    kill9,
    observe_args,
    parse,
    race,
    spawn,
    wait_for_ticket,
)


def evidence_file(workdir: Path, name: str) -> Path:
    path = workdir / name
    path.write_text(f"state of {name}\n" * 20)
    return path


def test_eight_processes_observing_one_brand_new_message_make_one_defect(tmp_path: Path) -> None:
    rounds = 2
    events = []
    for r, message in enumerate(brand_new_messages(rounds)):
        log = evidence_file(tmp_path, f"r{r}.log")
        commands = [observe_args(message, f"host-{k}", f"race-{r}-{k}", log) for k in range(8)]
        events += [f"race-{r}-{k}" for k in range(8)]
        results = [finish(p) for p in race(tmp_path, commands, tmp_path / f"gate-{r}")]
        assert all(code == 0 for code, _, _ in results), [err for _, _, err in results]
        assert len({parse(out)["defect"] for _, out, _ in results}) == 1
        assert sum(1 for _, out, _ in results if parse(out)["defect_created"]) == 1
    found = audit(tmp_path, events)
    assert found.ok, found
    assert (found.defects, found.observations) == (rounds, rounds * 8)


def test_kill_9_right_after_the_observation_create_then_the_same_command(tmp_path: Path) -> None:
    events = []
    for i in range(2):
        event = f"after-create-{i}"
        events.append(event)
        args = observe_args("Disk full on /var", f"db-{i}", event, evidence_file(tmp_path, "df"))
        proc = spawn(tmp_path, args, SLOW_ATTACH="30")
        assert wait_for_ticket(tmp_path / ".bridge" / "bridge.db", event, proc), finish(proc)
        kill9(proc)
        before = audit(tmp_path, [event])
        assert before.observations == i + 1 and before.without_evidence + before.undelivered
        code, out, err = finish(spawn(tmp_path, args))
        assert code == 0, err
        assert not parse(out)["replayed"]  # it carried on: evidence was still to attach
    found = audit(tmp_path, events)
    assert found.ok, found
    assert found.observations == 2 and found.defects == 1


def test_kill_9_at_random_points_then_the_same_command(tmp_path: Path) -> None:
    rng = random.Random(12)
    events = []
    for i in range(3):
        event = f"random-{i}"
        events.append(event)
        args = observe_args(
            "Out of memory in worker", f"w-{i}", event, evidence_file(tmp_path, "m")
        )
        if i == 0:  # anywhere in the run, from outside
            proc = spawn(tmp_path, args)
            time.sleep(rng.uniform(0.0, 1.0))
        else:  # within the delivery: the process kills itself -9 after the journal holds it
            proc = spawn(tmp_path, args, KILL_AFTER_PUT="0.05", KILL_SEED=str(i))
            proc.wait(timeout=120)
        kill9(proc)
        code, _, err = finish(spawn(tmp_path, args))
        assert code == 0, err
    found = audit(tmp_path, events)
    assert found.ok, found
    assert found.observations == 3 and found.defects == 1
