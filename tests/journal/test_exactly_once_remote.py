"""Exactly once on Jira and GitHub with real processes against the fakes over HTTP: racing
processes on one machine, two machines racing, a create that lands after the client gave up.

Small counts here; ``benchmarks/exactly_once.py`` runs the same by the hundred.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from fakes.server import FakeServer
from support import remote
from support.sightings import brand_new_messages, finish, observe_args, parse

pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")


@pytest.fixture(params=["jira", "github"])
def fake(request: pytest.FixtureRequest) -> Iterator[FakeServer]:
    server = remote.start(request.param)
    try:
        yield server
        assert server.violations == [], "\n".join(server.violations)
    finally:
        server.stop()


def _log(workdir: Path, name: str) -> Path:
    path = workdir / name
    path.write_text(f"state of {name}\n" * 20)
    return path


def _race(
    fake: FakeServer, commands: list[tuple[Path, list[str]]], gate: Path
) -> list[tuple[int, str, str]]:
    procs = [remote.spawn(fake, where, args, START_GATE=str(gate)) for where, args in commands]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if len(list(gate.parent.glob(f"{gate.name}.*.ready"))) == len(procs):
            break
        if any(p.poll() is not None for p in procs):
            break
        time.sleep(0.01)
    gate.touch()
    return [finish(p) for p in procs]


def test_racing_processes_of_one_machine_make_one_defect_while_search_lags(
    fake: FakeServer, tmp_path: Path
) -> None:
    fake.search_lag = 1.5  # a defect made by one process is invisible to the others' searches
    here = remote.machine(fake, tmp_path / "m1")
    [message] = brand_new_messages(1, seed=5)
    log = _log(tmp_path, "r.log")
    events = [f"race-{k}" for k in range(4)]
    results = _race(
        fake,
        [(here, observe_args(message, f"h{k}", e, log)) for k, e in enumerate(events)],
        tmp_path / "gate",
    )
    assert all(code == 0 for code, _, _ in results), [err for _, _, err in results]
    assert len({parse(out)["defect"] for _, out, _ in results}) == 1
    assert sum(1 for _, out, _ in results if parse(out)["defect_created"]) == 1
    found = remote.audit(fake, [here], events)
    assert found.ok, found
    assert (found.defects, found.observations, found.folded) == (1, 4, 0)


def test_two_machines_racing_make_two_defects_and_the_next_writer_folds_them(
    fake: FakeServer, tmp_path: Path
) -> None:
    fake.search_lag = 5.0  # longer than the two machines can drift apart on a loaded box
    one = remote.machine(fake, tmp_path / "one")
    two = remote.machine(fake, tmp_path / "two")
    [message] = brand_new_messages(1, seed=9)
    log = _log(tmp_path, "r.log")
    results = _race(
        fake,
        [
            (one, observe_args(message, "a-1", "m1-a", log)),
            (two, observe_args(message, "b-1", "m2-a", log)),
        ],
        tmp_path / "gate",
    )
    assert all(code == 0 for code, _, _ in results), [err for _, _, err in results]
    made = sorted({str(parse(out)["defect"]) for _, out, _ in results})
    assert len(made) == 2  # neither machine could see the other's defect yet
    time.sleep(fake.search_lag + 0.2)
    code, out, err = finish(remote.spawn(fake, one, observe_args(message, "a-2", "m1-b", log)))
    assert code == 0, err
    result = json.loads(out)
    oldest = min(made, key=lambda k: int(k.rsplit("-", 1)[-1].rsplit("#", 1)[-1]))
    assert result["defect"] == oldest
    assert any("kept the oldest" in n for n in result["notes"]), result
    code, _, err = finish(remote.spawn(fake, two, ["show", oldest]))
    assert code == 0, err
    found = remote.audit(fake, [one, two], ["m1-a", "m2-a", "m1-b"])
    assert found.ok, found
    assert (found.defects, found.folded, found.observations) == (1, 1, 3)
    reader = remote.client(fake)  # by key: the fake's search lags on purpose
    observations = [k for k, labels in remote.issues(fake) if "bridge-observation" in labels]
    assert [reader.get(k).parent for k in observations] == [oldest] * 3
    reader.close()


def test_a_create_landing_after_the_timeout_is_kept_then_replayed_without_a_duplicate(
    fake: FakeServer, tmp_path: Path
) -> None:
    here = remote.machine(fake, tmp_path / "m", timeout=1.0, search_lag=0.5)
    [message] = brand_new_messages(1, seed=3)
    log = _log(tmp_path, "r.log")
    code, _, err = finish(remote.spawn(fake, here, observe_args(message, "h0", "first", log)))
    assert code == 0, err
    fake.search_lag = 2.0
    create = "/issue" if "jira" in type(fake).__name__.lower() else "/issues"
    fake.land_late(1.4, path_end=create)
    code, _, err = finish(remote.spawn(fake, here, observe_args(message, "h1", "late", log)))
    assert code == 3, err
    assert "not sent again" in err and "kept in the journal" in err and "bridge replay" in err
    deadline = time.monotonic() + 10
    while fake.late_commits == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert fake.late_commits == 1
    time.sleep(fake.search_lag)  # the operator replays once the tracker has caught up
    code, _, err = finish(remote.spawn(fake, here, ["replay", "--json"]))
    assert code == 0, err
    sent = sum(1 for m, p in fake.requests if m == "POST" and p.endswith(create))
    assert sent == 3  # the defect, the first observation, the late one: none sent twice
    found = remote.audit(fake, [here], ["first", "late"])
    assert found.ok, found
    assert (found.defects, found.observations) == (1, 2)
