"""Round trips and time of `observe` with 3 evidence files on GitHub, beside a naive PyGithub script.

    python benchmarks/github_requests.py [LATENCY_SECONDS] [ROUNDS]

Both run in the same process against the fake GitHub of the test suite (``tests/fakes/github.py``)
on 127.0.0.1, each request delayed by LATENCY_SECONDS (default 0.05, a fast real API call).

- **bridge**: ``workflows.observe.run`` with the GitHub tracker, twice in fresh runs: first for a
  new defect, then a known one (the common case), each with 3 text files as evidence.
- **naive**: what one writes with PyGithub's object model and defaults: ``get_repo``, look the
  labels up (and create them) before using them, find the defect by its label, ``create_issue``,
  ``add_sub_issue``, one ``create_comment`` per file. PyGithub's default throttle (0.25 s per
  request, 1 s between writes) is part of its cost; the "naive, no throttle" row shows the same
  script with the throttle off.

The bridge rows are repeated on every GitHub site profile of the fake (``tests/fakes/profiles.py``).
Medians of ``--rounds`` runs (default 3) are quoted.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from github import Auth, Github

from fakes.github import TOKEN, FakeGitHub
from fakes.profiles import GITHUB_PROFILES
from tracker_bridge.domain.conventions import Conventions, format_title
from tracker_bridge.domain.fingerprint import fingerprint
from tracker_bridge.domain.tickets import EvidenceFile
from tracker_bridge.journal.sqlite import SqliteJournal
from tracker_bridge.trackers.github import GitHubTracker
from tracker_bridge.workflows import observe

MESSAGE = "No space left on device: /var/lib/postgresql/16/main/pg_wal"
WHEN = datetime(2026, 11, 2, 3, 4, 5, tzinfo=UTC)


def files(run: int) -> tuple[EvidenceFile, ...]:
    texts = {
        "df.txt": f"Filesystem Size Used Avail Use% Mounted on\n/dev/sda1 100G 100G 0 100% / ({run})\n",
        "ls-tmp.txt": "total 48G\n"
        + "".join(f"-rw-r--r-- 1 pg pg 1G core.{i}\n" for i in range(48)),
        "journal.txt": f"PANIC: could not write to file pg_wal/xlogtemp.{run}: No space left\n"
        * 20,
    }
    return tuple(
        EvidenceFile(name=n, data=t.encode(), source=f"file:{n}", captured_at=WHEN)
        for n, t in texts.items()
    )


def bridge(fake: FakeGitHub, run: int) -> int:
    tracker = GitHubTracker(
        repository=fake.full_name,
        token=TOKEN,
        base_url=fake.url,
        issue_types=fake.owner_has_types,  # as `bridge doctor` advises for user-owned ones
    )
    request = observe.Request(
        message=MESSAGE, instance=f"db-{run}", evidence=files(run), event_id=f"bench-{run}"
    )
    with closing(SqliteJournal(":memory:")) as journal:
        observe.run(tracker, Conventions(), request, journal=journal)
    tracker.close()
    return tracker.round_trips


def naive(fake: FakeGitHub, run: int, *, throttle: bool) -> int:
    conv = Conventions()
    kwargs = {} if throttle else {"seconds_between_requests": 0, "seconds_between_writes": 0}
    gh = Github(base_url=fake.url, auth=Auth.Token(TOKEN), **kwargs)  # type: ignore[arg-type]
    repo = gh.get_repo(fake.full_name)
    fp_label = conv.fingerprint_label(fingerprint(MESSAGE).key)
    for name in (conv.defect_label, conv.observation_label, fp_label):
        try:
            repo.get_label(name)
        except Exception:
            repo.create_label(name, "ededed")
    found = list(repo.get_issues(labels=[conv.defect_label, fp_label], state="all"))
    if found:
        defect = found[0]
    else:
        defect = repo.create_issue(MESSAGE, body=MESSAGE, labels=[conv.defect_label, fp_label])
    obs = repo.create_issue(
        format_title(MESSAGE, f"db-{run}"), body=MESSAGE, labels=[conv.observation_label]
    )
    defect.add_sub_issue(obs.id)
    for file in files(run):
        obs.create_comment(
            f"<details><summary>{file.name}</summary>\n\n```\n{file.data.decode()}\n```\n</details>"
        )
    gh.close()
    return 0


def measure(
    name: str,
    latency: float,
    action: Callable[[FakeGitHub, int], int],
    rounds: int = 1,
    profile: str = "github",
) -> None:
    counts: dict[str, int] = {}
    times: dict[str, list[float]] = {"new defect": [], "known defect": []}
    for _ in range(rounds):
        with FakeGitHub(latency=latency, profile=profile) as fake:
            for run, label in ((1, "new defect"), (2, "known defect")):
                fake.reset_counts()
                start = time.perf_counter()
                action(fake, run)
                times[label].append(time.perf_counter() - start)
                counts[label] = len(fake.requests)
            assert not fake.violations, fake.violations
    for label, spent in times.items():
        print(
            f"  {name:<30} {label:<13} {counts[label]:3d} requests "
            f"{statistics.median(spent):7.2f} s"
        )


def main() -> None:
    latency = float(sys.argv[1]) if len(sys.argv) > 1 else 0.05
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    print(f"observe with 3 evidence files; {latency * 1000:.0f} ms per request on the fake GitHub")
    for profile in GITHUB_PROFILES:
        measure(f"bridge ({profile})", latency, bridge, rounds, profile)
    measure("naive PyGithub", latency, lambda f, r: naive(f, r, throttle=True))
    measure("naive, no throttle", latency, lambda f, r: naive(f, r, throttle=False), rounds)


if __name__ == "__main__":
    main()
