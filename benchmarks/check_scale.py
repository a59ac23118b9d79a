"""`bridge check` at scale: requests, wall time and peak memory, beside a per-issue baseline.

Usage::

    python benchmarks/check_scale.py [--sizes 10000 50000] [--latency 0.005] [--flavour cloud]

For each size, the fake Jira (``tests/fakes/jira.py``, served on 127.0.0.1 with a fixed latency
per request) is seeded with that many tickets in defect/observation structure: per defect four
observations (linked to it, one evidence attachment and one action each), and for one defect in
ten a Done status plus a remediation. Then, each in a fresh process so memory is its own:

- **bridge**: ``workflows.check.run`` over ``JiraTracker.scan``: search pages of 100 asking for
  exactly the fields the rules need, links and attachments included in the page.
- **baseline**: the same check, but the search pages omit links and attachments and each issue's
  links and attachments are fetched separately (two GETs per issue), as a naive client does.

Reported per run: requests received by the fake, wall time, peak memory growth of the checking
process (peak RSS minus RSS just before the check), and rule evaluation time per ticket (the
``Checker.feed`` calls alone). The target is requests <= ceil(tickets / 100) + 5 and rule
evaluation well under 100 microseconds per ticket. Wall time at a realistic Jira latency is
projected as ``requests x 100 ms + the measured non-waiting time``.

The fake's search re-evaluates its JQL over every issue and lists issue links by scanning all
links, which at 50,000 tickets would make the *fake* the bottleneck; ``FastFakeJira`` memoises
the one query and indexes links by issue, and skips the OpenAPI response validation (the test
suite validates the same responses). The HTTP exchange and the latency are unchanged.
"""

from __future__ import annotations

import argparse
import hashlib
import math
import multiprocessing as mp
import resource
import sys
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tests"))

from fakes.jira import EMAIL, TOKEN, FakeIssue, FakeJira, Link  # noqa: E402
from tracker_bridge.domain.conventions import Conventions, format_title  # noqa: E402
from tracker_bridge.domain.tickets import Kind, NewTicket  # noqa: E402
from tracker_bridge.trackers import jira_markup as markup  # noqa: E402
from tracker_bridge.trackers.jira_evidence import evidence_filename  # noqa: E402
from tracker_bridge.trackers.jira_fields import FIELDS  # noqa: E402

OBSERVATIONS_PER_DEFECT = 4
MESSAGES = (
    "No space left on device",
    "Connection refused by {host}:5432",
    "OOMKilled container {host}",
    "TLS handshake timeout talking to {host}",
    "Disk quota exceeded for uid {n}",
)


class FastFakeJira(FakeJira):
    """The fake Jira with its search memoised and links indexed (see the module docstring)."""

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.validate = False
        self._jql: dict[str, list[FakeIssue]] = {}
        self._by_issue: dict[str, list[tuple[Link, str]]] = defaultdict(list)

    def index(self) -> None:
        for link in self.links:
            self._by_issue[link.source].append((link, "outwardIssue"))
            self._by_issue[link.target].append((link, "inwardIssue"))

    def _run_jql(self, jql: str) -> list[FakeIssue]:
        if jql not in self._jql:
            self._jql[jql] = super()._run_jql(jql)
        return self._jql[jql]

    def _all_fields(self, issue: FakeIssue) -> dict[str, Any]:
        links = [
            {
                "id": link.id,
                "type": self._link_type(link.type),
                direction: self._stub(
                    self.issues[link.target if direction == "outwardIssue" else link.source]
                ),
            }
            for link, direction in self._by_issue.get(issue.key, [])
        ]
        project = self.projects[issue.project]
        return {
            "summary": issue.summary,
            "issuetype": self._type_json(issue.issuetype),
            "project": {"id": project["id"], "key": project["key"], "name": project["name"]},
            "status": self._status_json(issue.status),
            "labels": list(issue.labels),
            "description": issue.description,
            "created": _when(issue.created),
            "updated": _when(issue.updated),
            "resolutiondate": _when(issue.resolved),
            "parent": None,
            "subtasks": [],
            "issuelinks": links,
            "attachment": [
                {k: v for k, v in a.items() if k != "_bytes"} for a in issue.attachments
            ],
            "comment": {"comments": [], "total": 0},
        }


def _when(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000+0000")


def seed(fake: FastFakeJira, tickets: int, conventions: Conventions) -> None:
    """``tickets`` issues: defects with four observations each, some done and remediated."""
    types = {t["name"]: t for t in fake.issue_types}
    relates = next(t for t in fake.link_types if t["name"] == conventions.link_type)
    made = 0
    group = 0
    now = datetime(2026, 11, 20, tzinfo=UTC)
    while made < tickets:
        message = MESSAGES[group % len(MESSAGES)].format(host=f"db-{group}", n=group)
        fp = hashlib.sha256(f"{group}".encode()).hexdigest()[:16]
        new = NewTicket(kind=Kind.DEFECT, title=message, message=message, fingerprints=(fp,))
        defect = fake._new_issue(
            "OPS",
            message,
            types[conventions.defect_type],
            [conventions.defect_label, conventions.fingerprint_label(fp)],
        )
        defect.description = markup.render(new).text
        made += 1
        closed = group % 10 == 9
        if closed:
            defect.status = "Done"
            defect.resolved = now
        for i in range(OBSERVATIONS_PER_DEFECT):
            if made >= tickets:
                break
            instance = f"host-{group}-{i}"
            obs_new = NewTicket(
                kind=Kind.OBSERVATION,
                title=format_title(message, instance),
                message=message,
                instance=instance,
                observed_at=now - timedelta(days=1),
                actions=("restarted the service",),
                parent=defect.key,
            )
            obs = fake._new_issue(
                "OPS",
                obs_new.title,
                types[conventions.observation_type],
                [conventions.observation_label],
            )
            obs.description = markup.render(obs_new).text
            fake.links.append(Link(str(next(fake._ids)), relates, defect.key, obs.key))
            sha = hashlib.sha256(obs.key.encode()).hexdigest()
            attachment_id = str(next(fake._ids))
            obs.attachments.append(
                {
                    "id": attachment_id,
                    "filename": evidence_filename("df.txt", sha),
                    "size": 42,
                    "mimeType": "text/plain",
                    "created": _when(now),
                    "content": f"{fake.url}/rest/api/2/attachment/content/{attachment_id}",
                    "self": f"{fake.url}/rest/api/2/attachment/{attachment_id}",
                }
            )
            made += 1
        if closed and made < tickets:
            rem = fake._new_issue(
                "OPS",
                f"Alert before the disk fills ({group})",
                types[conventions.remediation_type],
                [conventions.remediation_label],
            )
            rem.description = markup.render(
                NewTicket(kind=Kind.REMEDIATION, title=rem.summary, parent=defect.key)
            ).text
            fake.links.append(Link(str(next(fake._ids)), relates, defect.key, rem.key))
            made += 1
        group += 1
    fake.index()


# -- the measured side, in its own process -------------------------------------------------------


def _rss() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * resource.getpagesize()


def measure(url: str, flavour: str, variant: str, out: Any) -> None:
    """Run one check against the fake and send the figures back through ``out``."""
    from tracker_bridge.domain import rules
    from tracker_bridge.trackers.jira import JiraTracker
    from tracker_bridge.workflows import check

    feed_time = [0.0]

    class TimedChecker(rules.Checker):
        def feed(self, ticket: Any) -> list[rules.Finding]:
            start = time.perf_counter()
            try:
                return super().feed(ticket)
            finally:
                feed_time[0] += time.perf_counter() - start

    class PerIssueJira(JiraTracker):
        """The naive client: pages without links or attachments, then two GETs per issue."""

        def _search(self, query: str, *, what: str, page_size: int = 100) -> Any:
            slim = [f for f in FIELDS if f not in ("issuelinks", "attachment")]
            for raw in self._session.search(query, slim, what=what, page_size=page_size):
                for field in ("issuelinks", "attachment"):
                    extra = self._session.get(f"issue/{raw['key']}", what, params={"fields": field})
                    raw["fields"][field] = extra["fields"].get(field)
                yield self._ticket(raw)

    check.Checker = TimedChecker  # type: ignore[misc]
    cls = JiraTracker if variant == "bridge" else PerIssueJira
    tracker = cls(
        url=url,
        project="OPS",
        conventions=Conventions(),
        deployment=flavour,
        email=EMAIL if flavour == "cloud" else "",
        token=TOKEN,
    )
    before = _rss()
    started = time.perf_counter()
    report = check.run(tracker, Conventions(), now=datetime(2026, 1, 10, tzinfo=UTC))
    wall = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    tracker.close()
    out.send(
        {
            "checked": report.checked,
            "findings": len(report.findings),
            "rules": sorted({f.rule for f in report.findings}),  # for debugging a seed
            "wall": wall,
            "peak": max(peak - before, 0),
            "feed": feed_time[0],
        }
    )
    out.close()


def run_variant(fake: FastFakeJira, variant: str) -> dict[str, Any]:
    ctx = mp.get_context("spawn")
    receive, send = ctx.Pipe(duplex=False)
    fake.reset_counts()
    proc = ctx.Process(target=measure, args=(fake.url, fake.flavour, variant, send))
    proc.start()
    figures: dict[str, Any] = receive.recv()
    proc.join()
    figures["requests"] = fake.count()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 50_000])
    parser.add_argument("--latency", type=float, default=0.005, help="seconds per request")
    parser.add_argument("--flavour", choices=["cloud", "datacenter"], default="cloud")
    parser.add_argument("--skip-baseline-over", type=int, default=0, help="(0: never skip)")
    args = parser.parse_args()

    conventions = Conventions()
    print(
        f"fake Jira ({args.flavour}), {args.latency * 1000:.0f} ms per request; "
        f"{OBSERVATIONS_PER_DEFECT} observations per defect, 1 defect in 10 done + remediated\n"
    )
    header = (
        f"{'tickets':>8} {'client':<9} {'requests':>9} {'target':>7} {'wall s':>8} "
        f"{'at 100ms':>9} {'peak MiB':>9} {'rules us/t':>10} {'findings':>9}"
    )
    print(header)
    print("-" * len(header))
    for size in args.sizes:
        with FastFakeJira(args.flavour, latency=args.latency) as fake:
            seed(fake, size, conventions)
            target = math.ceil(size / 100) + 5
            variants = ["bridge"]
            if not args.skip_baseline_over or size <= args.skip_baseline_over:
                variants.append("baseline")
            for variant in variants:
                f = run_variant(fake, variant)
                waiting = f["requests"] * args.latency
                projected = f["requests"] * 0.1 + max(f["wall"] - waiting, 0)
                print(
                    f"{size:>8} {variant:<9} {f['requests']:>9} {target:>7} {f['wall']:>8.1f} "
                    f"{projected:>9.0f} {f['peak'] / 2**20:>9.1f} "
                    f"{f['feed'] / max(f['checked'], 1) * 1e6:>10.1f} {f['findings']:>9}",
                    flush=True,
                )
                assert f["checked"] == size, f"checked {f['checked']} of {size}"


if __name__ == "__main__":
    main()
