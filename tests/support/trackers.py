"""Trackers the tests share: a local tracker that fails mid-scan, a Jira tracker on the fake."""

from __future__ import annotations

from collections.abc import Iterator

from fakes.jira import EMAIL, TOKEN, FakeJira
from tracker_bridge.domain.conventions import Conventions
from tracker_bridge.domain.tickets import Ticket
from tracker_bridge.errors import TrackerUnavailable
from tracker_bridge.trackers.jira import JiraTracker
from tracker_bridge.trackers.local import LocalTracker


class FailingTracker(LocalTracker):
    """A local tracker whose scan breaks after ``after`` tickets, as a network would."""

    after = 3

    def scan(self, title_prefix: str) -> Iterator[Ticket]:
        for n, ticket in enumerate(super().scan(title_prefix)):
            if n == self.after:
                raise TrackerUnavailable("jira answered 503 after 5 retries.")
            yield ticket


def make_tracker(fake: FakeJira, conventions: Conventions, **kw: object) -> JiraTracker:
    waits: list[float] = []
    options: dict[str, object] = {
        "url": fake.url,
        "project": "OPS",
        "conventions": conventions,
        "deployment": fake.flavour,
        "email": EMAIL if fake.flavour == "cloud" else "",
        "token": TOKEN,
        "timeout": 5.0,
        "max_retry_wait": 30.0,
        "sleep": waits.append,
    }
    options.update(kw)
    tracker = JiraTracker(**options)  # type: ignore[arg-type]
    tracker.waits = waits  # type: ignore[attr-defined]
    return tracker
