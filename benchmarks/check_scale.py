"""`bridge check` at scale: requests, wall time and peak memory, beside a per-issue baseline.

Usage::

    python benchmarks/check_scale.py [--sizes 10000 50000] [--latency 0.002] [--flavour cloud]

For each size, the fake Jira (``tests/fakes/jira.py``, served on 127.0.0.1 with a fixed latency
per request, every request and response validated against the OpenAPI slice) is seeded with that
many tickets in defect/observation structure: per defect four observations (linked to it, one
evidence attachment and one action each), and for one defect in ten a Done status plus a
remediation. Then, each in a fresh process so memory is its own (the fake's storage stays in this
process):

- **bridge**: ``workflows.check.run`` over ``JiraTracker.scan``: search pages of 100 asking for
  exactly the fields the rules need, links and attachments included in the page.
- **baseline**: the same check, but the search pages omit links and attachments and each issue's
  links and attachments are fetched separately (two GETs per issue), as a naive client does.

Reported per run: requests received by the fake, wall time, wall time projected at a realistic
Jira latency (``requests x 100 ms + the measured non-waiting time``), peak memory (also the
growth of peak RSS, ``VmHWM``, over RSS before the check), and rule evaluation time per ticket (the ``Checker.feed`` calls alone). Peak memory is measured with
``tracemalloc`` in a second run of the bridge (tracing slows Python down, so not in the timed
run): ``check`` is the peak of the whole check (tracker, rules, report), ``scan`` the peak of the
tracker's scan alone. For the baseline only the peak RSS growth of the timed run is given (a
traced second run of 100,000 requests is not worth its time; its tracker and rules are the
bridge's). The target is requests <= ceil(tickets / 100) + 5 and rule evaluation well under
100 microseconds per ticket.

The fake answers every request in about constant time whatever the number of issues (issues,
links and attachments are indexed, a search evaluates its JQL once per query), so the baseline's
100,500 requests at 50,000 tickets run in full.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import math
import multiprocessing as mp
import sys
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tests"))

from fakes.jira import EMAIL, TOKEN, FakeJira, Link  # noqa: E402
from tracker_bridge.domain.conventions import Conventions, format_title  # noqa: E402
from tracker_bridge.domain.tickets import Kind, NewTicket  # noqa: E402
from tracker_bridge.trackers.jira import markup  # noqa: E402
from tracker_bridge.trackers.jira.evidence import evidence_filename  # noqa: E402
from tracker_bridge.trackers.jira.fields import FIELDS  # noqa: E402

OBSERVATIONS_PER_DEFECT = 4
MESSAGES = (
    "No space left on device",
    "Connection refused by {host}:5432",
    "OOMKilled container {host}",
    "TLS handshake timeout talking to {host}",
    "Disk quota exceeded for uid {n}",
)


def _when(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000+0000")


def seed(fake: FakeJira, tickets: int, conventions: Conventions) -> None:
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


# -- the measured side, in its own process -------------------------------------------------------


def _rss(*, reset: bool = False) -> tuple[int, int]:
    """Resident and peak resident memory of this process, in bytes.

    Not ``getrusage().ru_maxrss``: Linux carries the high-water mark of the process that forked
    this one across ``exec``, so in a spawned child it reports the parent's (the fake's) size.
    ``VmHWM`` belongs to this process's own address space; ``reset`` sets it to the current RSS.
    """
    if reset:
        with contextlib.suppress(OSError), open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
    with open("/proc/self/status") as fh:
        status = dict(line.split(":", 1) for line in fh if ":" in line)
    return int(status["VmRSS"].split()[0]) * 1024, int(status["VmHWM"].split()[0]) * 1024


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

        def _search(
            self, query: str, *, what: str, page_size: int = 100, remember: bool = False
        ) -> Any:
            slim = [f for f in FIELDS if f not in ("issuelinks", "attachment")]
            for raw in self._session.search(query, slim, what=what, page_size=page_size):
                for field in ("issuelinks", "attachment"):
                    extra = self._session.get(f"issue/{raw['key']}", what, params={"fields": field})
                    raw["fields"][field] = extra["fields"].get(field)
                yield self._ticket(raw, remember=remember)

    def tracker() -> JiraTracker:
        cls = JiraTracker if variant == "bridge" else PerIssueJira
        return cls(
            url=url,
            project="OPS",
            conventions=Conventions(),
            deployment=flavour,
            email=EMAIL if flavour == "cloud" else "",
            token=TOKEN,
        )

    now = datetime(2026, 1, 10, tzinfo=UTC)
    check.Checker = TimedChecker  # type: ignore[misc]
    timed = tracker()
    before, _ = _rss(reset=True)
    started = time.perf_counter()
    report = check.run(timed, Conventions(), now=now)
    wall = time.perf_counter() - started
    rss_growth = max(_rss()[1] - before, 0)
    cached = len(timed._evidence)
    timed.close()
    figures: dict[str, Any] = {
        "checked": report.checked,
        "findings": len(report.findings),
        "rules": sorted({f.rule for f in report.findings}),  # for debugging a seed
        "wall": wall,
        "rss": rss_growth,
        "feed": feed_time[0],
        "cached": cached,
        "requests_timed": None,
    }
    out.send(figures)  # the parent reads the request count of the timed run now
    out.recv()
    if variant == "bridge":
        check.Checker = rules.Checker  # type: ignore[misc]
        traced = tracker()
        tracemalloc.start()
        check.run(traced, Conventions(), now=now)
        figures["check_peak"] = tracemalloc.get_traced_memory()[1]
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        for _ in traced.scan(Conventions().observation_prefix):
            pass
        figures["scan_peak"] = tracemalloc.get_traced_memory()[1] - base
        tracemalloc.stop()
        traced.close()
    out.send(figures)
    out.close()


def run_variant(fake: FakeJira, variant: str) -> dict[str, Any]:
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe()
    fake.reset_counts()
    proc = ctx.Process(target=measure, args=(fake.url, fake.flavour, variant, child))
    proc.start()
    parent.recv()
    requests = fake.count()
    parent.send("go on")
    figures: dict[str, Any] = parent.recv()
    proc.join()
    figures["requests"] = requests
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 50_000])
    parser.add_argument("--latency", type=float, default=0.002, help="seconds per request")
    parser.add_argument("--flavour", choices=["cloud", "datacenter"], default="cloud")
    parser.add_argument("--skip-baseline-over", type=int, default=0, help="(0: never skip)")
    args = parser.parse_args()

    conventions = Conventions()
    print(
        f"fake Jira ({args.flavour}, requests and responses validated), "
        f"{args.latency * 1000:g} ms per request; {OBSERVATIONS_PER_DEFECT} observations per "
        "defect, 1 defect in 10 done + remediated\n"
    )
    header = (
        f"{'tickets':>8} {'client':<9} {'requests':>9} {'target':>7} {'wall s':>8} "
        f"{'at 100ms':>9} {'check MiB':>10} {'scan MiB':>9} {'RSS+ MiB':>9} "
        f"{'rules us/t':>10} {'findings':>9}"
    )
    print(header)
    print("-" * len(header))
    for size in args.sizes:
        with FakeJira(args.flavour, latency=args.latency) as fake:
            seed(fake, size, conventions)
            target = math.ceil(size / 100) + 5
            variants = ["bridge"]
            if not args.skip_baseline_over or size <= args.skip_baseline_over:
                variants.append("baseline")
            for variant in variants:
                f = run_variant(fake, variant)
                waiting = f["requests"] * args.latency
                projected = f["requests"] * 0.1 + max(f["wall"] - waiting, 0)
                traced = (
                    f"{f['check_peak'] / 2**20:>10.1f} {f['scan_peak'] / 2**20:>9.1f}"
                    if "check_peak" in f
                    else f"{'-':>10} {'-':>9}"
                )
                print(
                    f"{size:>8} {variant:<9} {f['requests']:>9} {target:>7} {f['wall']:>8.1f} "
                    f"{projected:>9.0f} {traced} {f['rss'] / 2**20:>9.1f} "
                    f"{f['feed'] / max(f['checked'], 1) * 1e6:>10.1f} {f['findings']:>9}",
                    flush=True,
                )
                assert f["checked"] == size, f"checked {f['checked']} of {size}"
                assert f["cached"] == 0, f"the scan remembered {f['cached']} ticket(s)"
            assert fake.violations == [], fake.violations[:3]


if __name__ == "__main__":
    main()
