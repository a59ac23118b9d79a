"""Jira's side of the lifecycle: the site's duplicate link type, old parent links let go."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from fakes.jira import FakeJira
from support.contract import new_defect, new_observation
from support.trackers import make_tracker
from tracker_bridge.domain.conventions import Conventions
from tracker_bridge.domain.tickets import RemoteLink
from tracker_bridge.trackers.jira import JiraTracker
from tracker_bridge.workflows import merge


@pytest.fixture
def conventions() -> Conventions:
    return Conventions()


@pytest.fixture
def site() -> Iterator[FakeJira]:
    with FakeJira("cloud") as fake:
        yield fake
        assert fake.violations == []


@pytest.fixture
def tracker(site: FakeJira, conventions: Conventions) -> Iterator[JiraTracker]:
    made = make_tracker(site, conventions)
    yield made
    made.close()


def _links(site: FakeJira, name: str) -> list[tuple[str, str]]:
    return [(x.source, x.target) for x in site.links if x.type["name"] == name]


def test_merge_links_the_duplicate_with_the_sites_duplicate_type(
    site: FakeJira, tracker: JiraTracker, conventions: Conventions
) -> None:
    survivor = tracker.create(new_defect(conventions, "Disk full", fp="aaaaaaaaaaaaaaaa"))
    dup = tracker.create(new_defect(conventions, "Disk is full", fp="bbbbbbbbbbbbbbbb"))
    merge.run(tracker, [dup.key], survivor.key)
    # inwardIssue shows the outward phrase: DUP "duplicates" SURVIVOR
    assert _links(site, "Duplicate") == [(dup.key, survivor.key)]
    issue = site.issues[dup.key]
    assert "bridge-fp-bbbbbbbbbbbbbbbb" not in issue.labels
    assert "bridge-fp-bbbbbbbbbbbbbbbb" in site.issues[survivor.key].labels
    site.requests.clear()
    merge.run(tracker, [dup.key], survivor.key)
    writes = [(m, p) for m, p in site.requests if m != "GET" and not p.endswith("/search/jql")]
    assert writes == []  # a second merge writes nothing


def test_merge_on_a_site_without_a_duplicate_type_still_records_it(
    site: FakeJira, conventions: Conventions
) -> None:
    site.link_types = [t for t in site.link_types if t["name"] != "Duplicate"]
    tracker = make_tracker(site, conventions)
    survivor = tracker.create(new_defect(conventions, "Disk full", fp="aaaaaaaaaaaaaaaa"))
    dup = tracker.create(new_defect(conventions, "Disk is full", fp="bbbbbbbbbbbbbbbb"))
    merge.run(tracker, [dup.key], survivor.key)
    got = tracker.get(dup.key)
    assert got.duplicate_of == survivor.key and got.is_done
    assert [c["body"] for c in site.issues[dup.key].comments][-1].startswith("Duplicate of")
    tracker.close()


def test_set_parent_lets_go_of_the_old_parent_link(
    site: FakeJira, tracker: JiraTracker, conventions: Conventions
) -> None:
    old = tracker.create(new_defect(conventions, "Disk full", fp="aaaaaaaaaaaaaaaa"))
    new = tracker.create(new_defect(conventions, "Inode full", fp="bbbbbbbbbbbbbbbb"))
    obs = tracker.create(new_observation(conventions, old.key, "Inode full", "db-1"))
    runbook = RemoteLink(url="https://example.org/runbook", title="runbook", global_id="runbook")
    tracker.link_remote(obs.key, runbook)
    tracker.set_parent(obs.key, new.key)
    assert _links(site, "Relates") == [(new.key, obs.key)]
    assert site.count("DELETE", contains="/issueLink/") == 1
    assert [link.global_id for link in tracker.get(obs.key).links] == ["runbook"]


@pytest.mark.parametrize(
    "conventions", [Conventions(link="sub-task"), Conventions(link="parent", defect_type="Epic")]
)
def test_move_under_hierarchy_styles(site: FakeJira, conventions: Conventions) -> None:
    tracker = make_tracker(site, conventions)
    old = tracker.create(new_defect(conventions, "Disk full", fp="aaaaaaaaaaaaaaaa"))
    new = tracker.create(new_defect(conventions, "Inode full", fp="bbbbbbbbbbbbbbbb"))
    obs = tracker.create(new_observation(conventions, old.key, "Inode full", "db-1"))
    tracker.set_parent(obs.key, new.key)
    assert tracker.get(obs.key).parent == new.key
    assert [t.key for t in tracker.tree(new.key).observations] == [obs.key]
    assert tracker.tree(old.key).observations == ()
    tracker.close()
