"""Exactly once on Jira and GitHub, over real HTTP against the fakes: fingerprint markers, creates
that land after the client gave up while searches lag, uploads reset or unanswered, rate limits,
and two defects for one fingerprint folded into the oldest."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from fakes.github import TOKEN, FakeGitHub
from fakes.jira import FakeJira
from fakes.server import FakeServer
from support.contract import evidence, new_defect, new_observation
from support.trackers import make_tracker
from tracker_bridge.domain.conventions import Conventions
from tracker_bridge.domain.tickets import Kind
from tracker_bridge.errors import TrackerUnavailable, WriteInDoubt
from tracker_bridge.trackers.base import MarkedDefects, Tracker
from tracker_bridge.trackers.github import GitHubTracker
from tracker_bridge.workflows.converge import converge, key_number, marked, oldest_first

FP = "0123456789abcdef"
CONV = Conventions()


class Site:
    """One fake tracker and how to make clients for it, the same for Jira and GitHub."""

    def __init__(self, kind: str, fake: FakeServer) -> None:
        self.kind = kind
        self.fake = fake
        self.create_path = "/issue" if kind == "jira" else "/issues"

    def tracker(self, **kw: Any) -> Tracker:
        options: dict[str, Any] = {"timeout": 5.0, "max_retry_wait": 30.0, "sleep": time.sleep}
        options.update(kw)
        if isinstance(self.fake, FakeJira):
            return make_tracker(self.fake, CONV, **options)
        assert isinstance(self.fake, FakeGitHub)
        return GitHubTracker(
            repository=self.fake.full_name,
            token=TOKEN,
            base_url=self.fake.url,
            conventions=CONV,
            **options,
        )

    def issue_count(self) -> int:
        return len(self.fake.issues)  # type: ignore[attr-defined]

    def labels(self, key: str) -> list[str]:
        if isinstance(self.fake, FakeJira):
            return list(self.fake.issues[key].labels)
        assert isinstance(self.fake, FakeGitHub)
        return list(self.fake.issues[key_number(key)].labels)

    def creates(self) -> int:
        return sum(1 for m, p in self.fake.requests if m == "POST" and p.endswith(self.create_path))


@pytest.fixture(params=["jira", "github"])
def site(request: pytest.FixtureRequest) -> Iterator[Site]:
    fake: FakeServer = FakeJira("cloud") if request.param == "jira" else FakeGitHub()
    with fake:
        yield Site(request.param, fake)
        assert fake.violations == [], "\n".join(fake.violations)


def test_defects_carry_a_fingerprint_marker_within_the_label_limits_and_are_found_by_it(
    site: Site,
) -> None:
    tracker = site.tracker()
    made = tracker.create(new_defect(CONV, "Disk full", fp=FP))
    marker = CONV.fingerprint_label(FP)
    assert marker in site.labels(made.key)
    assert len(marker) <= tracker.capabilities().label_limit and " " not in marker
    assert len(marker) <= 50  # GitHub's limit, so one marker works on both
    assert isinstance(tracker, MarkedDefects)
    assert [d.key for d in marked(tracker, FP)] == [made.key]
    assert marked(tracker, "fedcba9876543210") == []
    tracker.close()


def test_a_create_landing_after_the_timeout_is_found_past_the_search_lag_not_sent_again(
    site: Site,
) -> None:
    tracker = site.tracker(timeout=1.0, search_lag=4.0)
    defect = tracker.create(new_defect(CONV, "Disk full", fp=FP))
    site.fake.search_lag = 1.0
    site.fake.land_late(1.6, path_end=site.create_path)
    before = site.issue_count()
    made = tracker.create(new_observation(CONV, defect.key, "Disk full", "db-1", event_id="ev-1"))
    assert site.fake.late_commits == 1
    assert site.issue_count() == before + 1
    assert site.creates() == 2  # the defect, and the observation once: never re-sent
    assert made.event_id == "ev-1" and made.kind is Kind.OBSERVATION
    tracker.close()


def test_a_create_still_unseen_after_the_search_lag_is_kept_in_doubt_never_re_sent(
    site: Site,
) -> None:
    tracker = site.tracker(timeout=1.0, search_lag=0.5)
    defect = tracker.create(new_defect(CONV, "Disk full", fp=FP))
    site.fake.search_lag = 3.0
    site.fake.land_late(1.3, path_end=site.create_path)
    started = time.monotonic()
    with pytest.raises(WriteInDoubt) as caught:
        tracker.create(new_observation(CONV, defect.key, "Disk full", "db-1", event_id="ev-2"))
    assert isinstance(caught.value, TrackerUnavailable) and caught.value.exit_code == 3
    assert "not sent again" in caught.value.message and "search_lag" in str(caught.value)
    assert time.monotonic() - started < 10
    assert site.creates() == 2  # not re-sent
    deadline = time.monotonic() + 10
    found = None
    while found is None and time.monotonic() < deadline:
        time.sleep(0.2)
        later = site.tracker()  # a replay, later: the marker shows once the index caught up
        found = later.find_by_event("ev-2")
        later.close()
    assert found is not None and site.issue_count() == 2
    tracker.close()


def test_rate_limits_and_503_bursts_on_create_make_one_ticket(site: Site) -> None:
    waits: list[float] = []
    tracker = site.tracker(search_lag=2.0, sleep=waits.append)
    defect = tracker.create(new_defect(CONV, "Disk full", fp=FP))
    site.fake.fail(429, retry_after="1", path=site.create_path)
    site.fake.fail(503, times=3, path=site.create_path)
    made = tracker.create(new_observation(CONV, defect.key, "Disk full", "db-1", event_id="ev-3"))
    assert site.issue_count() == 2 and made.parent == defect.key
    assert waits[0] == 1.0  # Retry-After honoured
    tracker.close()


@pytest.mark.parametrize("fault", ["reset", "lost-answer"])
def test_uploads_reset_midway_or_unanswered_leave_each_file_once(site: Site, fault: str) -> None:
    tracker = site.tracker(search_lag=2.0, sleep=lambda _s: None)
    defect = tracker.create(new_defect(CONV, "Disk full", fp=FP))
    obs = tracker.create(new_observation(CONV, defect.key, "Disk full", "db-1", event_id="ev-4"))
    upload = "/attachments" if site.kind == "jira" else "/comments"
    if fault == "reset":
        site.fake.reset_mid_upload(path=upload)
    else:
        site.fake.drop_after_commit(path=upload)
    files = [evidence("df.txt", "Filesystem  Use%\n/dev/sda1 100%\n" * 50), evidence("b", "b")]
    tracker.attach(obs.key, files)
    held = [r.sha256 for r in tracker.get(obs.key).evidence]
    assert sorted(held) == sorted(f.sha256 for f in files)
    tracker.close()


@pytest.mark.parametrize("same_timestamps", [False, True])
def test_two_defects_for_one_fingerprint_fold_into_the_oldest(
    site: Site, same_timestamps: bool
) -> None:
    if same_timestamps:
        site.fake.tick = timedelta(0)  # type: ignore[attr-defined]
    # two machines that could not see each other's defect yet
    one, two = site.tracker(), site.tracker()
    first = one.create(new_defect(CONV, "Disk full", fp=FP, event_id="a/defect"))
    second = two.create(new_defect(CONV, "Disk full", fp=FP, event_id="b/defect"))
    obs_one = one.create(new_observation(CONV, first.key, "Disk full", "db-1", event_id="a"))
    obs_two = two.create(new_observation(CONV, second.key, "Disk full", "db-2", event_id="b"))
    third = site.tracker()
    found = marked(third, FP)
    assert [d.key for d in oldest_first(found)] == [first.key, second.key]
    result = converge(third, FP, found)
    assert result is not None and result.kept.key == first.key
    assert result.folded == (second.key,) and result.moved == (obs_two.key,)
    assert any(second.key in n and "kept the oldest" in n for n in result.notes)
    dup = third.get(second.key)
    assert dup.duplicate_of == first.key and dup.is_done
    assert CONV.fingerprint_label(FP) not in site.labels(second.key)
    tree = third.tree(first.key)
    assert sorted(o.key for o in tree.observations) == sorted([obs_one.key, obs_two.key])
    assert [d.key for d in marked(third, FP)] == [first.key]
    again = converge(third, FP, marked(third, FP))
    assert again is not None and again.folded == () and again.kept.key == first.key
    for t in (one, two, third):
        t.close()


def test_a_fold_interrupted_before_the_marker_went_is_finished_with_late_observations(
    site: Site,
) -> None:
    tracker = site.tracker()
    first = tracker.create(new_defect(CONV, "Disk full", fp=FP, event_id="a/defect"))
    second = tracker.create(new_defect(CONV, "Disk full", fp=FP, event_id="b/defect"))
    tracker.mark_duplicate(second.key, first.key)  # a fold that stopped before its last step
    late = tracker.create(new_observation(CONV, second.key, "Disk full", "db-9", event_id="late"))
    result = converge(tracker, FP, marked(tracker, FP))
    assert result is not None and result.kept.key == first.key
    assert tracker.get(late.key).parent == first.key
    assert CONV.fingerprint_label(FP) not in site.labels(second.key)
    tracker.close()
