"""The Jira tracker against the fake Jira (Cloud and Data Center), through the real jira client."""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import Iterator
from contextlib import closing
from dataclasses import replace
from datetime import UTC, datetime
from email.utils import formatdate

import pytest

from fakes.jira import EMAIL, TOKEN, FakeJira
from support.contract import WHEN, TrackerContract, evidence, new_defect, new_observation
from support.trackers import make_tracker
from tracker_bridge.bridge import Bridge
from tracker_bridge.domain.conventions import Conventions
from tracker_bridge.domain.tickets import EvidenceFile, Kind, NewTicket, RemoteLink
from tracker_bridge.errors import ConfigError, NotFoundError, TrackerUnavailable, UsageError
from tracker_bridge.journal.sqlite import SqliteJournal
from tracker_bridge.settings import Settings
from tracker_bridge.trackers.jira import JiraTracker
from tracker_bridge.workflows import observe


@pytest.fixture
def conventions() -> Conventions:
    return Conventions()


@pytest.fixture(params=["cloud", "datacenter"])
def fake(request: pytest.FixtureRequest) -> Iterator[FakeJira]:
    with FakeJira(request.param) as site:
        yield site
        assert site.violations == []


class TestJiraCloudContract(TrackerContract):
    @pytest.fixture
    def tracker(self, conventions: Conventions) -> Iterator[JiraTracker]:
        with FakeJira("cloud") as site:
            tracker = make_tracker(site, conventions)
            yield tracker
            tracker.close()
            assert site.violations == []
            assert site.count(contains="/search") == site.count(contains="/search/jql")


class TestJiraDataCenterContract(TrackerContract):
    @pytest.fixture
    def tracker(self, conventions: Conventions) -> Iterator[JiraTracker]:
        with FakeJira("datacenter") as site:
            tracker = make_tracker(site, conventions)
            yield tracker
            tracker.close()
            assert site.violations == []
            assert site.count(contains="/search/jql") == 0


# -- round trips ---------------------------------------------------------------------------


def _defect(tracker: JiraTracker, conventions: Conventions, fp: str = "0123456789abcdef") -> str:
    return tracker.create(new_defect(conventions, "No space left on device", fp=fp)).key


def _observe(tracker: JiraTracker, conventions: Conventions, message: str, files: int):
    now = datetime.now(UTC)
    with closing(SqliteJournal(":memory:")) as journal:
        return observe.run(
            tracker,
            conventions,
            observe.Request(
                message=message,
                instance="r-2",
                evidence=tuple(
                    EvidenceFile(f"f{i}.txt", f"content {i}".encode(), f"file:f{i}.txt", now)
                    for i in range(files)
                ),
            ),
            journal=journal,
        )


def test_observing_a_known_defect_costs_three_requests(
    fake: FakeJira, conventions: Conventions
) -> None:
    _observe(make_tracker(fake, conventions), conventions, "No space left on device", 0)
    tracker = make_tracker(fake, conventions)  # a fresh run
    tracker.check_setup()
    tracker.capabilities()
    fake.reset_counts()
    result = _observe(tracker, conventions, "No space left on device", 3)
    assert result.matched_by == "fingerprint"
    # find the defect, create the observation already linked (provenance index included),
    # upload all files in one multipart request; the create's and the upload's answers say the
    # tracker holds the marker and every file, so nothing is read back
    assert len(fake.requests) == 3, fake.requests
    assert fake.count("POST", "/attachments") == 1 and fake.count("PUT") == 0
    assert len(fake.attachment_bytes(result.observation or "")) == 3
    stored = tracker.get(result.observation or "").evidence
    assert {r.source for r in stored} == {f"file:f{i}.txt" for i in range(3)}


def test_a_new_defect_adds_one_request(fake: FakeJira, conventions: Conventions) -> None:
    tracker = make_tracker(fake, conventions)
    tracker.check_setup()
    tracker.capabilities()
    fake.reset_counts()
    result = _observe(tracker, conventions, "Disk full", 2)
    assert result.defect_created
    # one page of defects (exact and similar), under the fingerprint lock the lookup that
    # another process may have created it since, create the defect, the observation, one
    # upload (its answer lists every file: the observation is not read back), and the new defect
    # read by key (two requests): another machine may have folded it into an older twin meanwhile
    assert len(fake.requests) == 7, fake.requests
    assert fake.count("POST", "/attachments") == 1


def test_search_pages_by_100(fake: FakeJira, conventions: Conventions) -> None:
    for i in range(230):
        fake.add_issue(f"defect {i}", issuetype="Bug", labels=(conventions.defect_label,))
    tracker = make_tracker(fake, conventions)
    fake.reset_counts()
    assert len(list(tracker.defects())) == 230
    if fake.flavour == "cloud":
        assert fake.count("POST", "/search/jql") == 3
    else:
        assert fake.count("POST", "/rest/api/2/search") == 3
    assert fake.count(contains="/issue/") == 0


def test_scan_needs_no_request_per_ticket(fake: FakeJira, conventions: Conventions) -> None:
    tracker = make_tracker(fake, conventions)
    defect = _defect(tracker, conventions)
    for i in range(5):
        obs = tracker.create(new_observation(conventions, defect, "No space", f"h{i}"))
        tracker.attach(obs.key, [evidence("df.txt", f"{i}")])
    fake.add_issue('Handle: "Disk full" on "by-hand"')
    fake.reset_counts()
    seen = list(tracker.scan("Handle"))
    assert len(seen) == 7
    assert len(fake.requests) == 1
    assert all(t.parent == defect for t in seen if t.kind is Kind.OBSERVATION)
    assert all(len(t.evidence) == 1 for t in seen if t.kind is Kind.OBSERVATION)


# -- retries and lost responses --------------------------------------------------------------


def test_429_retry_after_seconds_is_honoured(fake: FakeJira, conventions: Conventions) -> None:
    tracker = make_tracker(fake, conventions)
    fake.fail(429, retry_after="7", path="/search")
    assert tracker.find_by_fingerprint("0123456789abcdef") is None
    assert tracker.waits == [7.0]  # type: ignore[attr-defined]


def test_503_retry_after_http_date_is_honoured(fake: FakeJira, conventions: Conventions) -> None:
    tracker = make_tracker(fake, conventions)
    fake.fail(503, retry_after=formatdate(time.time() + 20, usegmt=True), path="/search")
    tracker.find_by_fingerprint("0123456789abcdef")
    [wait] = tracker.waits  # type: ignore[attr-defined]
    assert 15 <= wait <= 20


def test_5xx_and_dropped_connections_are_retried(fake: FakeJira, conventions: Conventions) -> None:
    tracker = make_tracker(fake, conventions)
    key = _defect(tracker, conventions)
    fake.fail(500, times=2, method="GET")
    fake.drop_before(method="GET")
    assert tracker.get(key).key == key
    assert len(tracker.waits) == 3  # type: ignore[attr-defined]


@pytest.mark.parametrize("with_event_id", [True, False])
def test_lost_create_responses_make_no_duplicates(
    fake: FakeJira, conventions: Conventions, with_event_id: bool
) -> None:
    tracker = make_tracker(fake, conventions)
    defect = _defect(tracker, conventions)
    before = len(fake.issues)
    made = []
    for i in range(40):
        fake.drop_after_commit(path="/rest/api/2/issue", method="POST")
        new = new_observation(
            conventions, defect, "No space", f"h{i}", event_id=f"ev-{i}" if with_event_id else ""
        )
        made.append(tracker.create(new).key)
    assert len(fake.issues) == before + 40
    assert len(set(made)) == 40
    assert sorted(made) == sorted(k for k in fake.issues if k != defect)
    assert fake.count("POST", "/rest/api/2/issue") == 41  # 40 sends + the defect, never a resend


def test_lost_upload_comment_and_transition_responses_make_no_duplicates(
    fake: FakeJira, conventions: Conventions
) -> None:
    tracker = make_tracker(fake, conventions)
    key = _defect(tracker, conventions)
    fake.drop_after_commit(path="/attachments")
    refs = tracker.attach(key, [evidence("a.txt", "a"), evidence("b.txt", "b")])
    assert len(refs) == 2 and len(fake.attachment_bytes(key)) == 2
    fake.drop_after_commit(path="/comment")
    tracker.comment(key, "seen again")
    assert [c["body"] for c in fake.issues[key].comments] == ["seen again"]
    fake.drop_after_commit(path="/transitions")
    tracker.resolve(key)
    assert fake.issues[key].status == "Done"
    assert fake.count("POST", "/transitions") == 1


def test_jira_staying_down_says_what_was_not_recorded(
    fake: FakeJira, conventions: Conventions
) -> None:
    tracker = make_tracker(fake, conventions, max_retry_wait=5.0)
    defect = _defect(tracker, conventions)
    fake.fail(503, times=1000)
    with pytest.raises(TrackerUnavailable) as caught:
        tracker.create(new_observation(conventions, defect, "No space", "replica-7"))
    assert caught.value.exit_code == 3
    assert "creating observation" in str(caught.value)
    assert "replica-7" in str(caught.value)
    assert sum(tracker.waits) <= 5.0  # type: ignore[attr-defined]


# -- configuration -------------------------------------------------------------------------


def test_misconfiguration_is_reported_once_before_anything_is_created(fake: FakeJira) -> None:
    conventions = Conventions(link_type="Causes", observation_type="Incident")
    fake.permissions.discard("CREATE_ATTACHMENTS")
    tracker = make_tracker(fake, conventions)
    with pytest.raises(ConfigError) as caught:
        tracker.create(new_defect(conventions, "Disk full"))
    text = str(caught.value)
    assert "'Causes'" in text and "Relates" in text
    assert "'Incident'" in text and "observation_type" in text
    assert "CREATE_ATTACHMENTS" in text
    assert fake.count("POST", "/issue") == 0
    asked = len(fake.requests)
    with pytest.raises(ConfigError):
        tracker.create(new_defect(conventions, "Disk full"))
    assert len(fake.requests) == asked  # checked once per run
    assert fake.issues == {}


def test_unknown_project_is_a_config_error(fake: FakeJira, conventions: Conventions) -> None:
    tracker = make_tracker(fake, conventions, project="NOPE")
    with pytest.raises(ConfigError, match=r"project .NOPE. does not exist"):
        tracker.find_by_fingerprint("0123456789abcdef")


def test_missing_reopen_transition_is_named(fake: FakeJira) -> None:
    conventions = Conventions(reopen_transition="Back to work")
    # no transition named so, and none back into a to-do status: nothing to fall back on
    fake.transitions = (
        ("31", "Done", ("To Do", "In Progress"), "Done"),
        ("51", "Back to In Progress", ("Done",), "In Progress"),
    )
    tracker = make_tracker(fake, conventions)
    key = _defect(tracker, conventions)
    tracker.resolve(key)
    with pytest.raises(ConfigError, match=r"'Back to work'.*available: Back to In Progress"):
        tracker.reopen(key)


def test_rejected_credentials_never_show_the_token(
    fake: FakeJira, conventions: Conventions
) -> None:
    tracker = make_tracker(fake, conventions, token="wrong-" + TOKEN)
    with pytest.raises(ConfigError) as caught:
        tracker.find_by_fingerprint("0123456789abcdef")
    chain = []
    exc: BaseException | None = caught.value
    while exc is not None:
        chain.append(f"{exc!s} {exc!r} {vars(exc)!r}")
        exc = exc.__cause__ or exc.__context__
    assert TOKEN not in " ".join(chain)
    assert "Authorization" not in " ".join(chain)


def test_build_from_settings(monkeypatch: pytest.MonkeyPatch, fake: FakeJira) -> None:
    monkeypatch.setenv("BRIDGE_TRACKER__KIND", "jira")
    monkeypatch.setenv("BRIDGE_TRACKER__URL", fake.url)
    monkeypatch.setenv("BRIDGE_TRACKER__DEPLOYMENT", fake.flavour)
    if fake.flavour == "cloud":
        monkeypatch.setenv("BRIDGE_TRACKER__EMAIL", EMAIL)
    settings = Settings.load()
    with pytest.raises(ConfigError, match="no Jira token"):
        _ = Bridge(settings).tracker
    monkeypatch.setenv("BRIDGE_TRACKER__TOKEN", TOKEN)
    tracker = Bridge(Settings.load()).tracker
    assert isinstance(tracker, JiraTracker)
    assert tracker.find_by_event("nothing") is None


def test_auto_deployment_asks_server_info_once(fake: FakeJira, conventions: Conventions) -> None:
    tracker = make_tracker(fake, conventions, deployment="auto")
    tracker.find_by_event("a")
    tracker.find_by_event("b")
    assert fake.count("GET", "/serverInfo") == 1
    assert fake.count(contains="/search/jql") == (2 if fake.flavour == "cloud" else 0)


# -- link styles ---------------------------------------------------------------------------


def test_sub_task_link_style(fake: FakeJira) -> None:
    conventions = Conventions(link="sub-task")
    tracker = make_tracker(fake, conventions)
    defect = _defect(tracker, conventions)
    obs = tracker.create(new_observation(conventions, defect, "No space", "h"))
    assert fake.issues[obs.key].parent == defect
    assert fake.issues[obs.key].issuetype["name"] == "Sub-task"
    assert [t.key for t in tracker.tree(defect).observations] == [obs.key]


def test_parent_link_style_on_cloud_hierarchy() -> None:
    conventions = Conventions(link="parent", defect_type="Epic")
    with FakeJira("cloud") as site:
        tracker = make_tracker(site, conventions)
        defect = _defect(tracker, conventions)
        obs = tracker.create(new_observation(conventions, defect, "No space", "h"))
        assert site.issues[obs.key].parent == defect
        assert tracker.get(obs.key).parent == defect
        assert site.violations == []


def test_parent_link_style_needs_a_hierarchy(fake: FakeJira) -> None:
    conventions = Conventions(link="parent")  # Bug and Task are on the same level
    tracker = make_tracker(fake, conventions)
    with pytest.raises(ConfigError, match="hierarchy"):
        tracker.create(new_defect(conventions, "Disk full"))


def test_remote_links_are_upserted(fake: FakeJira, conventions: Conventions) -> None:
    tracker = make_tracker(fake, conventions)
    key = _defect(tracker, conventions)
    link = RemoteLink(url="https://gh.example/o/r/issues/1", title="o/r#1", global_id="gid-1")
    tracker.link_remote(key, link)
    tracker.link_remote(key, RemoteLink(url=link.url, title="renamed", global_id="gid-1"))
    assert [x.title for x in tracker.get(key).links] == ["renamed"]


def test_dry_run_validation_reads_only(fake: FakeJira, conventions: Conventions) -> None:
    tracker = make_tracker(fake, conventions)
    problems = tracker.validate(new_observation(conventions, "OPS-404", "x", "h"))
    assert any("OPS-404 does not exist" in p for p in problems)
    odd = NewTicket(kind=Kind.REMEDIATION, title="x", issue_type="Incident")
    assert any("'Incident'" in p for p in tracker.validate(odd))
    assert fake.count("POST", "/issue") == 0 and fake.count("PUT") == 0


# -- input is data -------------------------------------------------------------------------

INJECTION = 'x" OR project = SECRET OR summary ~ "y'


def test_an_injected_prefix_does_not_widen_the_scan(
    fake: FakeJira, conventions: Conventions
) -> None:
    secret = fake.add_issue("x y secret plans", project="SECRET")
    tracker = make_tracker(fake, conventions)
    mine = fake.add_issue(f"{INJECTION}: in the title")
    found = [t.key for t in tracker.scan(INJECTION)]
    assert secret not in found
    assert found == [mine]


def test_long_and_odd_messages_fit_every_field(fake: FakeJira, conventions: Conventions) -> None:
    message = ("שגיאה בדיסק " * 900 + '\n"quoted" \\ back {noformat} [x] *bold*')[:10_000]
    tracker = make_tracker(fake, conventions)
    defect = tracker.create(new_defect(conventions, message))
    obs = tracker.create(
        replace(
            new_observation(conventions, defect.key, message, "replica-2"),
            labels=(conventions.observation_label, "from ops team"),
        )
    )
    stored = fake.issues[obs.key]
    assert len(stored.summary) <= 255 and stored.summary.endswith('" on "replica-2"')
    assert "from_ops_team" in stored.labels
    assert all(" " not in x and len(x) <= 255 for x in stored.labels)
    assert tracker.get(obs.key).message == message
    assert tracker.get(defect.key).message == message


def test_a_message_longer_than_the_description_goes_to_an_attachment(
    fake: FakeJira, conventions: Conventions
) -> None:
    message = "Traceback line\n" * 5_000  # 75,000 characters
    tracker = make_tracker(fake, conventions)
    defect = tracker.create(new_defect(conventions, message))
    stored = fake.issues[defect.key]
    assert stored.description is not None and len(stored.description) <= 32_767
    assert fake.attachment_bytes(defect.key)["bridge-message.txt"].decode() == message
    got = tracker.get(defect.key)
    assert got.message == message
    assert got.evidence == ()


def test_evidence_over_the_upload_limit_is_refused_clearly(
    fake: FakeJira, conventions: Conventions
) -> None:
    fake.upload_limit = 1024
    tracker = make_tracker(fake, conventions)
    key = _defect(tracker, conventions)
    with pytest.raises(UsageError, match=r"'big.log' is 2.0 KiB.*at most 1.0 KiB"):
        tracker.attach(key, [evidence("small.txt", "ok"), evidence("big.log", "x" * 2048)])
    assert fake.count("POST", "/attachments") == 0


def test_provenance_comes_back_from_one_read_and_one_search_page(
    fake: FakeJira, conventions: Conventions
) -> None:
    tracker = make_tracker(fake, conventions)
    key = _defect(tracker, conventions)
    item = EvidenceFile(
        name="env.txt",
        data=b"TOKEN=[REDACTED]",
        source="capture:env",
        captured_at=WHEN,
        redactions=(("token", 1),),
        scanned=True,
        sensitive=True,
    )
    shot = EvidenceFile("shot.png", b"\x89PNG\x00", "file:/tmp/shot.png", WHEN, scanned=False)
    tracker.attach(key, [item, shot])
    assert sorted(fake.attachment_bytes(key)) == [
        f"env.{item.sha256}.txt",
        f"shot.{shot.sha256}.png",
    ]
    assert fake.count("POST", "/attachments") == 1
    expected = [item.ref(), shot.ref()]
    fresh = make_tracker(fake, conventions)  # another run: nothing cached
    fake.reset_counts()
    got = [replace(r, url="") for r in fresh.get(key).evidence]
    assert sorted(got, key=lambda r: r.name) == expected
    assert fake.count(contains="/attachment") == 0
    fake.reset_counts()
    [scanned] = [t for t in fresh.scan("Handle") if t.key == key]
    assert sorted((replace(r, url="") for r in scanned.evidence), key=lambda r: r.name) == expected
    assert len(fake.requests) == 1
    assert "TOKEN" not in (fake.issues[key].description or "")


def test_the_evidence_index_keeps_the_description_readable(
    fake: FakeJira, conventions: Conventions
) -> None:
    by_hand = fake.add_issue("Disk full on db-1", description="Seen by *Ana* at 3am.")
    tracker = make_tracker(fake, conventions)
    tracker.attach(by_hand, [evidence("df.txt", "100%")])
    got = tracker.get(by_hand)
    assert got.description == "Seen by *Ana* at 3am."
    assert [(r.name, r.source) for r in got.evidence] == [("df.txt", "file:df.txt")]
    stored = fake.issues[by_hand].description or ""
    assert stored.startswith("Seen by *Ana* at 3am.\n")


def test_an_index_entry_without_its_upload_names_nothing(
    fake: FakeJira, conventions: Conventions
) -> None:
    tracker = make_tracker(fake, conventions, max_retry_wait=1.0)
    key = _defect(tracker, conventions)
    fake.fail(503, times=100, path="/attachments")
    with pytest.raises(TrackerUnavailable):
        tracker.attach(key, [evidence("df.txt", "100%")])
    assert make_tracker(fake, conventions).get(key).evidence == ()
    fake.faults.clear()  # Jira is back
    assert tracker.attach(key, [evidence("df.txt", "100%")])[0].name == "df.txt"
    assert [r.source for r in make_tracker(fake, conventions).get(key).evidence] == ["file:df.txt"]


# -- check --fix helpers -------------------------------------------------------------------


@pytest.mark.parametrize("link", ["issue-link", "sub-task"])
def test_set_parent_and_retitle(fake: FakeJira, link: str) -> None:
    conventions = Conventions(link=link)  # type: ignore[arg-type]
    tracker = make_tracker(fake, conventions)
    defect = _defect(tracker, conventions)
    stray = fake.add_issue("handle: disk full on h", labels=(conventions.observation_label,))
    tracker.set_parent(stray, defect)
    tracker.set_parent(stray, defect)
    assert tracker.get(stray).parent == defect
    assert [t.key for t in tracker.tree(defect).observations] == [stray]
    assert len(fake.links) == 1
    tracker.retitle(stray, 'Handle: "disk full" on "h"')
    tracker.retitle(stray, 'Handle: "disk full" on "h"')
    assert tracker.get(stray).title == 'Handle: "disk full" on "h"'
    with pytest.raises(NotFoundError):
        tracker.set_parent("OPS-999", defect)
    with pytest.raises(NotFoundError):
        tracker.retitle("OPS-999", "x")


# -- memory ----------------------------------------------------------------------------------


def _many(fake: FakeJira, conventions: Conventions, count: int) -> None:
    """``count`` observations with a fat description and an evidence attachment each."""
    for i in range(count):
        key = fake.add_issue(
            f'Handle: "Disk full" on "h{i}"',
            labels=(conventions.observation_label,),
            description="x" * 3_000,
        )
        fake.issues[key].attachments.append(
            {"id": f"9{i}", "filename": f"df.{i:064x}.txt", "size": 1, "content": ""}
        )


def test_scanning_remembers_nothing_per_ticket(fake: FakeJira, conventions: Conventions) -> None:
    _many(fake, conventions, 1_000)
    tracker = make_tracker(fake, conventions)
    tracker.find_by_event("warm-up")  # the session and its connection exist before measuring
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        assert sum(1 for _ in tracker.scan("Handle")) == 1_000
        assert sum(1 for _ in tracker.defects()) == 0
        kept = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert len(tracker._evidence) == 0
    # remembering each ticket's description and attachments would keep > 3 MB here
    assert kept < 1_000_000, kept


def test_reading_one_by_one_is_remembered_within_a_bound(
    fake: FakeJira, conventions: Conventions
) -> None:
    _many(fake, conventions, 5)
    tracker = make_tracker(fake, conventions)
    tracker._evidence._limit = 3
    for i in range(1, 6):
        tracker.get(f"OPS-{i}")
    assert len(tracker._evidence) == 3
    fake.reset_counts()
    tracker.attach("OPS-5", [evidence("a.txt", "a")])  # remembered: no read before writing
    assert fake.count("GET", "/issue/OPS-5") == 0
    tracker.attach("OPS-1", [evidence("b.txt", "b")])  # dropped: read once again
    assert fake.count("GET", "/issue/OPS-1") == 1
    assert len(tracker._evidence) == 3


def test_a_link_without_edit_permission_stands_uncopied(
    fake: FakeJira, conventions: Conventions
) -> None:
    tracker = make_tracker(fake, conventions)
    key = _defect(tracker, conventions)
    fake.permissions.discard("EDIT_ISSUES")
    link = RemoteLink(url="https://x.example/1", title="X-1", global_id="bridge-delegate:x:X-1")
    tracker.link_remote(key, link)
    assert [x.global_id for x in make_tracker(fake, conventions).get(key).links] == [link.global_id]
    [scanned] = [t for t in make_tracker(fake, conventions).scan("Handle") if t.key == key]
    assert scanned.links == ()  # the copy needs the edit permission; search cannot see the link
