"""Requests and time for ``observe`` on a known defect with 3 evidence files, ours vs baseline.

Both run in the same process against the fake Jira (Cloud flavour) with a fixed latency per
request. The baseline is written the way the ``jira`` library's documentation suggests:
``JIRA(server, basic_auth=...)``, ``search_issues``, ``create_issue``, ``create_issue_link``,
``add_attachment`` once per file. Ours is ``JiraTracker``: find the defect, create the observation
already linked, index the files' provenance in its description, upload all files in one multipart
request. The same run repeats ours on every site profile of the fake (``tests/fakes/profiles.py``:
Data Center 8.20, a locked-down site, a site behind a proxy), with ``deployment = "auto"``.

    python benchmarks/jira_requests.py [--latency 0.05] [--rounds 5]
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
import warnings
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from jira import JIRA  # noqa: E402

from fakes.jira import EMAIL, TOKEN, FakeJira  # noqa: E402
from fakes.profiles import JIRA_PROFILES  # noqa: E402
from tracker_bridge.domain.conventions import Conventions, format_title  # noqa: E402
from tracker_bridge.domain.fingerprint import fingerprint  # noqa: E402
from tracker_bridge.domain.tickets import EvidenceFile  # noqa: E402
from tracker_bridge.journal.sqlite import SqliteJournal  # noqa: E402
from tracker_bridge.trackers.jira import JiraTracker  # noqa: E402
from tracker_bridge.workflows import observe  # noqa: E402

FP = fingerprint("No space left on device").key
FILES = [(f"evidence-{i}.log", f"line {i}\n".encode() * 200) for i in range(3)]


def seed(fake: FakeJira, conv: Conventions) -> str:
    return fake.add_issue(
        "No space left on device",
        issuetype="Bug",
        labels=(conv.defect_label, conv.fingerprint_label(FP)),
    )


def ours(fake: FakeJira, conv: Conventions, instance: str, tracker: JiraTracker) -> None:
    """The real ``observe`` workflow, as ``bridge observe`` runs it."""
    now = datetime.now(UTC)
    with closing(SqliteJournal(":memory:")) as journal:
        result = observe.run(
            tracker,
            conv,
            observe.Request(
                message="No space left on device",
                instance=instance,
                evidence=tuple(EvidenceFile(n, d, f"file:{n}", now) for n, d in FILES),
            ),
            journal=journal,
        )
    assert result.matched_by == "fingerprint", result


def baseline(client: JIRA, conv: Conventions, instance: str) -> None:
    found = client.search_issues(f'project = OPS AND labels = "{conv.fingerprint_label(FP)}"')
    defect = found[0]
    issue = client.create_issue(
        project="OPS",
        summary=format_title("No space left on device", instance),
        description="No space left on device",
        issuetype={"name": "Task"},
    )
    client.create_issue_link("Relates", inwardIssue=defect.key, outwardIssue=issue.key)
    for name, data in FILES:
        client.add_attachment(issue=issue.key, attachment=io.BytesIO(data), filename=name)


def measure(fake: FakeJira, run: object, *args: object) -> tuple[int, float]:
    fake.reset_counts()
    start = time.perf_counter()
    run(*args)  # type: ignore[operator]
    return len(fake.requests), time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=0.05, help="seconds per request")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    conv = Conventions()
    rows = []
    standard = [("cloud", "jira-cloud"), ("datacenter", "jira-dc")]
    deviant = [(p.flavour, name) for name, p in JIRA_PROFILES.items() if not p.standard]
    for flavour, profile in standard + deviant:
        with FakeJira(profile=profile, latency=args.latency) as fake:
            seed(fake, conv)
            tracker = JiraTracker(
                url=fake.url,
                project="OPS",
                conventions=conv,
                deployment=flavour if JIRA_PROFILES[profile].standard else "auto",
                email=EMAIL if flavour == "cloud" else "",
                token=TOKEN,
            )
            first = measure(fake, ours, fake, conv, "first", tracker)
            steady = [measure(fake, ours, fake, conv, f"r{i}", tracker) for i in range(args.rounds)]
            rows.append((f"ours ({profile}), first observe of a run", *first))
            rows.append(
                (
                    f"ours ({profile}), each further observe",
                    steady[0][0],
                    statistics.median(t for _, t in steady),
                )
            )
            tracker.close()
            if profile == "jira-cloud":
                ours_violations = len(fake.violations)
                fake.reject_invalid = False  # the library sends "comment": null, see below
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    start_n = len(fake.requests)
                    t0 = time.perf_counter()
                    client = JIRA(fake.url, basic_auth=(EMAIL, TOKEN))
                    connect = (len(fake.requests) - start_n, time.perf_counter() - t0)
                    runs = [
                        measure(fake, baseline, client, conv, f"b{i}") for i in range(args.rounds)
                    ]
                    client.close()
                rows.append(("baseline (cloud), connect", *connect))
                rows.append(
                    (
                        "baseline (cloud), each observe",
                        runs[0][0],
                        statistics.median(t for _, t in runs),
                    )
                )
                if ours_violations:
                    print(f"ours: {ours_violations} spec violation(s)!")
                if len(fake.violations) > ours_violations:
                    extra = fake.violations[ours_violations:]
                    print(
                        f"baseline: {len(extra)} request(s) outside the spec, e.g. {extra[0][:120]}"
                    )
            elif fake.violations:
                print(f"ours ({flavour}): {len(fake.violations)} spec violation(s)!")
    print(
        f"observe, known defect, {len(FILES)} evidence files, {args.latency * 1000:.0f} ms/request"
    )
    print(f"{'':56} {'requests':>8} {'time':>9}")
    for label, count, seconds in rows:
        print(f"{label:56} {count:>8} {seconds * 1000:>7.0f}ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
