"""The Jira tracker on every site profile: the contract, and each deviation of issue 13."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from fakes.jira import FakeJira
from fakes.profiles import JIRA_PROFILES, with_changes
from support.contract import TrackerContract, new_defect
from support.trackers import make_tracker
from tracker_bridge.domain.conventions import Conventions
from tracker_bridge.domain.tickets import EvidenceFile, Kind, NewTicket, RemoteLink
from tracker_bridge.errors import TrackerRefused, UsageError
from tracker_bridge.trackers.base import UNVERIFIED
from tracker_bridge.trackers.jira import JiraTracker
from tracker_bridge.workflows import observe

DEVIANT = sorted(name for name, p in JIRA_PROFILES.items() if not p.standard)


@pytest.fixture
def conventions() -> Conventions:
    return Conventions()


class TestContractOnEveryProfile(TrackerContract):
    @pytest.fixture(params=DEVIANT)
    def tracker(
        self, request: pytest.FixtureRequest, conventions: Conventions
    ) -> Iterator[JiraTracker]:
        with FakeJira(profile=request.param) as site:
            tracker = make_tracker(site, conventions, deployment="auto")
            yield tracker
            tracker.close()
            assert site.violations == []


# -- each deviation of issue 13, on the profile that shows it ----------------------------------

WHEN = datetime(2026, 11, 2, 3, 4, 5, tzinfo=UTC)


@pytest.fixture
def dc820() -> Iterator[FakeJira]:
    with FakeJira(profile="jira-dc-8.20") as site:
        yield site
        assert site.violations == []


def _files(*sizes: int) -> tuple[EvidenceFile, ...]:
    return tuple(
        EvidenceFile(f"f{i}.log", b"x" * size, f"file:f{i}.log", WHEN)
        for i, size in enumerate(sizes)
    )


def _observe(tracker: JiraTracker, message: str = "Disk full", **kw: object) -> observe.Result:
    request = observe.Request(message=message, instance="db-1", **kw)  # type: ignore[arg-type]
    return observe.run(tracker, tracker.conventions, request)


def test_1_no_attachment_meta_costs_nothing_without_evidence(dc820: FakeJira) -> None:
    tracker = make_tracker(dc820, Conventions())
    assert _observe(tracker, dry_run=True).dry_run
    assert _observe(tracker).observation
    assert dc820.count(contains="/attachment/meta") == 0


def test_1_unknown_upload_limit_lets_the_413_decide(dc820: FakeJira) -> None:
    dc820.upload_limit = 1000
    tracker = make_tracker(dc820, Conventions())
    # compressible: refused once (413), then sent gzip-compressed
    result = _observe(tracker, evidence=_files(10, 5000))
    assert sorted(r.name for r in result.evidence) == ["f0.log.gz", "f1.log.gz"]
    assert dc820.count("POST", "/attachments") == 2
    assert tracker.capabilities().upload_limit is None
    # incompressible and too large: a clear refusal, the sighting itself is recorded
    noise = EvidenceFile("core", os.urandom(5000), "file:core", WHEN)
    with pytest.raises(UsageError, match="413"):
        tracker.attach(result.observation or "", [noise])


def test_2_no_mypermissions_a_refused_write_names_the_permission(dc820: FakeJira) -> None:
    dc820.permissions -= {"CREATE_ATTACHMENTS"}
    tracker = make_tracker(dc820, Conventions())
    made = _observe(tracker)
    assert made.observation and dc820.count(contains="/mypermissions") == 1
    with pytest.raises(TrackerRefused, match="lacks the Jira permission CREATE_ATTACHMENTS"):
        tracker.attach(made.observation, _files(10))


def test_3_search_falls_back_to_get(dc820: FakeJira) -> None:
    tracker = make_tracker(dc820, Conventions())
    first = _observe(tracker)
    second = _observe(make_tracker(dc820, Conventions()))
    assert second.defect == first.defect and second.matched_by == "fingerprint"
    assert dc820.count("GET", "/rest/api/2/search") >= 2
    tree = make_tracker(dc820, Conventions()).tree(first.defect or "")
    assert len(tree.observations) == 2


def test_4_no_create_meta_says_unverified_never_accepted(dc820: FakeJira) -> None:
    tracker = make_tracker(dc820, Conventions())
    new = NewTicket(kind=Kind.REMEDIATION, title="Alert on disk", issue_type="Task")
    found = tracker.validate(new)
    assert len(found) == 1 and found[0].startswith(UNVERIFIED)
    assert "could not be verified" in found[0]


def test_5_renamed_reopen_falls_back_to_a_to_do_transition(dc820: FakeJira) -> None:
    tracker = make_tracker(dc820, Conventions(reopen_transition="Reopen"))
    first = _observe(tracker)
    tracker.resolve(first.defect or "")
    again = _observe(make_tracker(dc820, Conventions(reopen_transition="Reopen")))
    assert again.recurrence == "reopened" and again.observation
    assert dc820.issues[first.defect or ""].status == "Reopened"


def test_5_a_failed_reopen_keeps_the_sighting(dc820: FakeJira) -> None:
    dc820.transitions = (
        ("31", "Resolve Issue", ("To Do", "In Progress"), "Done"),
        ("51", "Back to In Progress", ("Done",), "In Progress"),
    )
    dc820.permissions -= {"TRANSITION_ISSUES"}
    dc820.project_permissions = {}
    first = _observe(make_tracker(dc820, Conventions()))
    dc820.issues[first.defect or ""].status = "Done"
    again = _observe(make_tracker(dc820, Conventions()))
    assert again.observation and again.recurrence == "reopen-failed"
    assert any("could not be reopened" in n for n in again.notes)
    comments = [c["body"] for c in dc820.issues[first.defect or ""].comments]
    assert any("could not reopen" in c for c in comments)


def test_6_pages_without_total_are_read_to_the_end(dc820: FakeJira) -> None:
    conv = Conventions()
    for i in range(230):
        dc820.add_issue(
            f"defect {i}", issuetype="Bug", labels=(conv.defect_label, f"bridge-fp-{i:016x}")
        )
    assert len(list(make_tracker(dc820, conv).defects())) == 230


def test_7_locked_down_site_observes_and_checks() -> None:
    with FakeJira(profile="jira-locked-down") as site:
        tracker = make_tracker(site, Conventions(), deployment="auto")
        first = _observe(tracker, evidence=_files(10))
        assert first.observation and len(first.evidence) == 1
        got = tracker.get(first.observation)
        assert got.parent == first.defect
        link = RemoteLink("https://gh.example/acme/ops/issues/1", "acme/ops#1", "gid-1", "fixes")
        with pytest.raises(TrackerRefused, match="does not allow remote links"):
            tracker.link_remote(first.defect or "", link)
        assert set(tracker.degradations()) >= {"serverInfo", "issueLinkType", "remotelink"}
        assert site.violations == []


def test_8_an_open_defect_wins_when_every_issue_has_the_same_created(dc820: FakeJira) -> None:
    conv = Conventions()
    tracker = make_tracker(dc820, conv)
    old = tracker.create(new_defect(conv, "Disk full", fp="aaaaaaaaaaaaaaaa"))
    tracker.resolve(old.key)
    fresh = tracker.create(new_defect(conv, "Disk full", fp="aaaaaaaaaaaaaaaa"))
    assert dc820.issues[old.key].created == dc820.issues[fresh.key].created
    found = make_tracker(dc820, conv).find_by_fingerprint("aaaaaaaaaaaaaaaa")
    assert found is not None and found.key == fresh.key


def test_9_a_tree_keeps_only_tickets_really_linked(dc820: FakeJira) -> None:
    conv = Conventions()
    tracker = make_tracker(dc820, conv)
    for i in range(5):
        dc820.add_issue(f"unrelated {i}")
    first = _observe(tracker)
    tree = tracker.tree(first.defect or "")
    assert [t.key for t in tree.observations] == [first.observation]
    assert tree.related == () and tree.remediations == ()


def test_9_a_create_landing_in_another_project_is_refused() -> None:
    with FakeJira(profile=with_changes("jira-dc", creates_in="SECRET", name="misrouting")) as site:
        tracker = make_tracker(site, Conventions())
        with pytest.raises(TrackerRefused, match="created SECRET-1 in project SECRET, not OPS"):
            tracker.create(new_defect(Conventions(), "Disk full"))


def test_10_titles_are_found_by_their_words(dc820: FakeJira) -> None:
    conv = Conventions()
    by_hand = dc820.add_issue('Handle: "Disk full" on "db-9"')
    dc820.add_issue("Handled elsewhere, no quotes")
    seen = [t.key for t in make_tracker(dc820, conv).scan(conv.observation_prefix)]
    assert seen == [by_hand]


def test_proxy_html_pages_and_429_without_retry_after() -> None:
    with FakeJira(profile="jira-behind-proxy") as site:
        tracker = make_tracker(site, Conventions())
        site.fail(502, times=1)
        site.fail(429, times=1, retry_after="7")
        made = _observe(tracker)
        assert made.observation
        assert 7.0 not in tracker.waits  # type: ignore[attr-defined]
        site.fail(403, times=1, method="POST")
        with pytest.raises(TrackerRefused, match="an HTML page, not Jira's JSON"):
            tracker.comment(made.defect or "", "note")


def test_9_lookups_check_what_a_site_that_ignores_label_clauses_returns() -> None:
    lost = with_changes("jira-dc", name="jira-lost-labels", ignores_label_clauses=True)
    with FakeJira(profile=lost) as site:
        conv = Conventions()
        site.add_issue("made by hand", issuetype="Bug", labels=("other",))
        first = _observe(make_tracker(site, conv), event_id="ev-1")
        other = _observe(make_tracker(site, conv), message="Queue stuck", event_id="ev-2")
        assert other.defect != first.defect and other.defect_created
        assert not other.replayed  # ev-1's ticket was not passed off as ev-2's
        again = _observe(make_tracker(site, conv), event_id="ev-1")
        assert again.replayed and again.observation == first.observation
        tracker = make_tracker(site, conv)
        assert {t.key for t in tracker.defects()} == {first.defect, other.defect}
        found = tracker.find_by_fingerprint(observe.fingerprint("Queue stuck").key)
        assert found is not None and found.key == other.defect
        assert site.violations == []


def test_a_proxy_dropping_the_xsrf_header_is_named_not_taken_for_a_permission() -> None:
    stripping = with_changes(
        "jira-behind-proxy", name="strips-token", strips_headers=frozenset({"X-Atlassian-Token"})
    )
    with FakeJira(profile=stripping) as site:
        tracker = make_tracker(site, Conventions())
        made = _observe(tracker)  # the sighting itself needs no upload
        with pytest.raises(TrackerRefused, match=r"X-Atlassian-Token header .* did not reach Jira"):
            tracker.attach(made.observation or "", _files(10))
