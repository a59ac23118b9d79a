"""The GitHub tracker against a stateful fake GitHub REST API, through the real PyGithub client.

Every exchange is validated against the committed slice of GitHub's OpenAPI description; a test
fails when the tracker or the fake drifts from it (``fake.violations``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import requests

from fakes.github import PREFIX, TOKEN, FakeGitHub
from support.contract import TrackerContract, evidence, new_defect, new_observation
from tracker_bridge.bridge import Bridge
from tracker_bridge.domain.conventions import Conventions, format_title
from tracker_bridge.domain.tickets import EvidenceFile, Kind, NewTicket
from tracker_bridge.errors import (
    ConfigError,
    CredentialsRejected,
    NotFoundError,
    TrackerRefused,
    TrackerUnavailable,
    UsageError,
)
from tracker_bridge.settings import Settings
from tracker_bridge.trackers.github import GitHubTracker, build
from tracker_bridge.trackers.github import body as gb

WHEN = datetime(2026, 11, 2, 3, 4, 5, tzinfo=UTC)


@pytest.fixture
def conventions() -> Conventions:
    return Conventions()


@pytest.fixture
def fake() -> Iterator[FakeGitHub]:
    with FakeGitHub() as server:
        yield server
        assert server.violations == [], "\n".join(server.violations)


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def tracker(fake: FakeGitHub, conventions: Conventions, sleeps: Sleeps) -> Iterator[GitHubTracker]:
    made = GitHubTracker(
        repository=fake.full_name,
        token=TOKEN,
        base_url=fake.url,
        conventions=conventions,
        timeout=5,
        max_retry_wait=30,
        sleep=sleeps,
    )
    yield made
    made.close()


class TestGitHubContract(TrackerContract):
    """The shared contract, on GitHub-on-fake (fixtures above)."""


def _defect(tracker: GitHubTracker, conventions: Conventions, message: str = "Disk full") -> str:
    return tracker.create(new_defect(conventions, message)).key


def _binary(name: str, data: bytes) -> EvidenceFile:
    return EvidenceFile(
        name=name, data=data, source=f"file:{name}", captured_at=WHEN, scanned=False
    )


# -- kinds, types, labels ------------------------------------------------------------------------


def test_kinds_use_issue_types_when_the_owner_has_them(
    tracker: GitHubTracker, fake: FakeGitHub, conventions: Conventions
) -> None:
    defect = _defect(tracker, conventions)
    obs = tracker.create(new_observation(conventions, defect, "Disk full", "db-1"))
    assert fake.issues[1].type == "Bug"
    assert fake.issues[2].type == "Task"
    assert tracker.get(obs.key).issue_type == "Task"
    assert fake.count("GET", "/issue-types") == 0  # sent by name: GitHub refuses unknown ones


def test_no_types_for_a_user_owned_repository(
    tracker: GitHubTracker, fake: FakeGitHub, conventions: Conventions
) -> None:
    fake.owner_has_types = False
    _defect(tracker, conventions)
    assert fake.issues[1].type is None
    assert tracker.get("#1").kind is Kind.DEFECT  # the label still says what it is


def test_dropped_labels_without_push_access_are_reported_not_hidden(
    tracker: GitHubTracker, fake: FakeGitHub, conventions: Conventions
) -> None:
    fake.push_access = False
    with pytest.raises(TrackerRefused, match="push") as caught:
        tracker.create(new_defect(conventions, "Disk full"))
    assert "closed" in str(caught.value)
    assert fake.issues[1].labels == [] and fake.issues[1].state == "closed"
    assert fake.issues[1].state_reason == "not_planned"


def test_missing_labels_get_colour_and_description_once(
    tracker: GitHubTracker, fake: FakeGitHub, conventions: Conventions
) -> None:
    defect = _defect(tracker, conventions)
    tracker.create(new_defect(conventions, "Other", fp="ffffffffffffffff"))
    tracker.create(new_observation(conventions, defect, "Disk full", "a"))
    tracker.create(new_observation(conventions, defect, "Disk full", "b"))
    label = fake.labels[conventions.defect_label]
    assert label["color"] != "ededed" and label["description"]
    assert fake.labels[conventions.observation_label]["description"]
    assert fake.count("PATCH", "/labels/") == 2
    again = GitHubTracker(repository=fake.full_name, token=TOKEN, base_url=fake.url)
    again.create(new_defect(conventions, "Third", fp="eeeeeeeeeeeeeeee"))
    assert fake.count("PATCH", "/labels/") == 2  # already described: nothing to do
    assert fake.count("POST", "/labels") == 0


def test_labels_are_kept_within_fifty_characters(
    tracker: GitHubTracker, fake: FakeGitHub, conventions: Conventions
) -> None:
    long_a, long_b = "team-" + "a" * 60, "team-" + "a" * 59 + "b"
    made = tracker.create(
        NewTicket(kind=Kind.DEFECT, title="x", message="x", labels=(long_a, long_b))
    )
    names = [n for n in fake.issues[1].labels if n.startswith("team-")]
    assert len(names) == 2 and all(len(n) <= 50 for n in names)
    assert tracker.capabilities().label_limit == 50
    assert made.key == f"{fake.full_name}#1"


# -- parent and child, and the 100 sub-issue cap ----------------------------------------------------


def test_observation_is_a_sub_issue_by_database_id(
    tracker: GitHubTracker, fake: FakeGitHub, conventions: Conventions
) -> None:
    defect = _defect(tracker, conventions)
    tracker.create(new_observation(conventions, defect, "Disk full", "db-1"))
    assert fake.issues[1].children == [2]
    assert fake.issues[2].id != 2  # ids and numbers differ: the id was sent, not the number


def _fill(fake: FakeGitHub, parent: int, count: int) -> None:
    for i in range(count):
        child = fake.add_issue(f"older sighting {i}", closed=i % 2 == 0)
        fake.add_sub_issue(parent, child)


@pytest.mark.parametrize("stale", [False, True], ids=["known-full", "found-full-on-link"])
def test_the_101st_observation_is_recorded_and_found(
    tracker: GitHubTracker, fake: FakeGitHub, conventions: Conventions, stale: bool
) -> None:
    defect = _defect(tracker, conventions)
    number = int(defect.rsplit("#", 1)[1])
    if stale:
        _fill(fake, number, 100)  # the tracker still believes the defect has none
    else:
        fresh = GitHubTracker(repository=fake.full_name, token=TOKEN, base_url=fake.url)
        _fill(fake, number, 100)
        tracker = fresh
    obs = tracker.create(new_observation(conventions, defect, "Disk full", "replica-101"))
    assert len(fake.issues[number].children) == 100
    assert fake.issues[int(obs.key.rsplit("#", 1)[1])].parent is None
    assert tracker.get(obs.key).parent == defect
    assert [t.key for t in tracker.tree(defect).observations] == [obs.key]
    scanned = {t.key: t for t in tracker.scan(conventions.observation_prefix)}
    assert scanned[obs.key].parent == defect
    assert fake.count("POST", "/sub_issues") == (1 if stale else 0)


def test_link_style_label_skips_sub_issues(fake: FakeGitHub) -> None:
    conv = Conventions(link="label")
    tracker = GitHubTracker(
        repository=fake.full_name, token=TOKEN, base_url=fake.url, conventions=conv
    )
    defect = _defect(tracker, conv)
    obs = tracker.create(new_observation(conv, defect, "Disk full", "h"))
    assert fake.count("POST", "/sub_issues") == 0
    assert [t.key for t in tracker.tree(defect).observations] == [obs.key]


# -- check --fix: retitle and set_parent -----------------------------------------------------------

ISSUES = "/api/v3/repos/acme/ops/issues"


def _n(key: str) -> int:
    return int(key.rsplit("#", 1)[1])


def _fresh(fake: FakeGitHub, conventions: Conventions | None = None) -> GitHubTracker:
    """A tracker that has seen nothing yet, as ``bridge check --fix`` starts."""
    return GitHubTracker(
        repository=fake.full_name, token=TOKEN, base_url=fake.url, conventions=conventions
    )


def test_retitle_is_one_patch_and_changes_nothing_else(
    tracker: GitHubTracker, fake: FakeGitHub, conventions: Conventions
) -> None:
    defect = _defect(tracker, conventions)
    obs = tracker.create(new_observation(conventions, defect, "Disk full", "db-1"))
    before = (fake.issues[2].body, list(fake.issues[2].labels), fake.issues[2].parent)
    fake.reset_counts()
    tracker.retitle(obs.key, '  Handle:  "Disk full"\n on "db-1" ')
    tracker.retitle(obs.key, 'Handle: "Disk full" on "db-1"')  # again: same state
    assert fake.requests == [("PATCH", f"{ISSUES}/2")] * 2
    assert tracker.get(obs.key).title == 'Handle: "Disk full" on "db-1"'
    assert (fake.issues[2].body, fake.issues[2].labels, fake.issues[2].parent) == before
    tracker.retitle(obs.key, "x" * 300)
    assert len(fake.issues[2].title) == 255 and fake.issues[2].title.endswith("…")
    with pytest.raises(NotFoundError):
        tracker.retitle("#999", "x")
    with pytest.raises(UsageError):
        tracker.retitle(obs.key, " \n ")


def test_set_parent_ties_a_stray_like_create_in_four_requests(
    tracker: GitHubTracker, fake: FakeGitHub, conventions: Conventions
) -> None:
    defect = _defect(tracker, conventions)
    stray = fake.add_issue(
        'Handle: "Disk full" on "h"', labels=(conventions.observation_label,), body="seen on h"
    )
    key = f"{fake.full_name}#{stray}"
    fixer = _fresh(fake, conventions)
    fake.reset_counts()
    fixer.set_parent(key, defect)
    assert fake.requests == [
        ("GET", f"{ISSUES}/{stray}"),  # the child, fresh: its labels are replaced as a whole
        ("GET", f"{ISSUES}/1"),  # the parent: exists? room for a sub-issue?
        ("PATCH", f"{ISSUES}/{stray}"),  # parent label and body record together
        ("POST", f"{ISSUES}/1/sub_issues"),
    ]
    assert fake.issues[1].children == [stray]
    assert "bridge-parent-1" in fake.issues[stray].labels
    body = fake.issues[stray].body or ""
    assert body.startswith("seen on h") and "under #1" in body  # the person's text is kept
    got = fixer.get(key)
    assert got.parent == defect and got.kind is Kind.OBSERVATION
    assert [t.key for t in fixer.tree(defect).observations] == [key]
    fake.reset_counts()
    fixer.set_parent(key, defect)  # idempotent: one read, no write
    assert fake.requests == [("GET", f"{ISSUES}/{stray}")]
    other = fake.add_issue('Handle: "Disk full" on "i"', labels=(conventions.observation_label,))
    fake.reset_counts()
    fixer.set_parent(f"{fake.full_name}#{other}", defect)  # parent known from the first fix
    assert len(fake.requests) == 3 and fake.issues[1].children == [stray, other]


def test_set_parent_moves_a_child_without_leaving_the_old_parent(
    tracker: GitHubTracker, fake: FakeGitHub, conventions: Conventions
) -> None:
    old = _defect(tracker, conventions)
    new = tracker.create(new_defect(conventions, "Disk gone", fp="ffffffffffffffff")).key
    obs = tracker.create(new_observation(conventions, old, "Disk full", "db-1"))
    number = _n(obs.key)
    fake.reset_counts()
    tracker.set_parent(obs.key, new)
    # both issues seen this run: the child read fresh, one PATCH, one move by replace_parent
    assert fake.requests == [
        ("GET", f"{ISSUES}/{number}"),
        ("PATCH", f"{ISSUES}/{number}"),
        ("POST", f"{ISSUES}/{_n(new)}/sub_issues"),
    ]
    assert fake.issues[_n(old)].children == [] and fake.issues[_n(new)].children == [number]
    labels = fake.issues[number].labels
    assert f"bridge-parent-{_n(new)}" in labels and f"bridge-parent-{_n(old)}" not in labels
    assert tracker.get(obs.key).parent == new
    assert tracker.tree(old).observations == ()
    assert [t.key for t in tracker.tree(new).observations] == [obs.key]
    assert f"#{_n(new)}" in (fake.issues[number].body or "")
    assert f"#{_n(old)}." not in (fake.issues[number].body or "")


@pytest.mark.parametrize("stale", [False, True], ids=["known-full", "found-full-on-link"])
def test_set_parent_to_a_full_parent(
    tracker: GitHubTracker, fake: FakeGitHub, conventions: Conventions, stale: bool
) -> None:
    old = _defect(tracker, conventions)
    full = tracker.create(new_defect(conventions, "Disk gone", fp="ffffffffffffffff")).key
    moved = tracker.create(new_observation(conventions, old, "Disk full", "db-1"))
    stray = fake.add_issue('Handle: "Disk gone" on "h"', labels=(conventions.observation_label,))
    _fill(fake, _n(full), 100)
    fixer = tracker if stale else _fresh(fake, conventions)  # stale: believes it has room
    fake.reset_counts()
    fixer.set_parent(f"{fake.full_name}#{stray}", full)
    writes = [r for r in fake.requests if r[0] != "GET"]
    assert writes == [("PATCH", f"{ISSUES}/{stray}")] + (
        [("POST", f"{ISSUES}/{_n(full)}/sub_issues")] if stale else []
    )
    fake.reset_counts()
    fixer.set_parent(moved.key, full)  # was a sub-issue of the old defect: detached from it
    assert [r for r in fake.requests if r[0] != "GET"] == [
        ("PATCH", f"{ISSUES}/{_n(moved.key)}"),
        ("DELETE", f"{ISSUES}/{_n(old)}/sub_issue"),
    ]
    assert fake.issues[_n(old)].children == [] and len(fake.issues[_n(full)].children) == 100
    assert fake.issues[stray].parent is None and fake.issues[_n(moved.key)].parent is None
    assert fixer.get(moved.key).parent == full
    observations = {t.key for t in fixer.tree(full).observations}
    assert observations == {moved.key, f"{fake.full_name}#{stray}"}
    fake.reset_counts()
    fixer.set_parent(moved.key, full)  # idempotent past the cap too: reads only
    assert all(method == "GET" for method, _ in fake.requests)


def test_set_parent_with_label_links_detaches_an_old_sub_issue(
    tracker: GitHubTracker, fake: FakeGitHub, conventions: Conventions
) -> None:
    old = _defect(tracker, conventions)
    new = tracker.create(new_defect(conventions, "Disk gone", fp="ffffffffffffffff")).key
    obs = tracker.create(new_observation(conventions, old, "Disk full", "db-1"))
    labels_only = _fresh(fake, Conventions(link="label"))
    labels_only.set_parent(obs.key, new)
    assert fake.count("POST", "/sub_issues") == 1  # only the create's
    assert fake.count("DELETE", f"/issues/{_n(old)}/sub_issue") == 1
    assert fake.issues[_n(obs.key)].parent is None
    assert labels_only.get(obs.key).parent == new


def test_set_parent_refuses_unknown_keys_before_writing(
    tracker: GitHubTracker, fake: FakeGitHub, conventions: Conventions
) -> None:
    defect = _defect(tracker, conventions)
    obs = tracker.create(new_observation(conventions, defect, "Disk full", "db-1"))
    fake.reset_counts()
    with pytest.raises(NotFoundError):
        tracker.set_parent("#999", defect)
    with pytest.raises(NotFoundError):
        tracker.set_parent(obs.key, "#999")
    with pytest.raises(NotFoundError):
        tracker.set_parent(obs.key, "other/repo#1")
    with pytest.raises(UsageError):
        tracker.set_parent(defect, defect)
    assert all(method == "GET" for method, _ in fake.requests)


def test_set_parent_survives_a_lost_sub_issue_response(
    tracker: GitHubTracker, fake: FakeGitHub, conventions: Conventions
) -> None:
    old = _defect(tracker, conventions)
    new = tracker.create(new_defect(conventions, "Disk gone", fp="ffffffffffffffff")).key
    obs = tracker.create(new_observation(conventions, old, "Disk full", "db-1"))
    fake.drop_after_commit(method="POST", path="/sub_issues")
    tracker.set_parent(obs.key, new)
    assert fake.issues[_n(new)].children == [_n(obs.key)] and fake.issues[_n(old)].children == []
    assert fake.count("GET", "/parent") == 1  # looked before sending again
    assert fake.count("POST", "/sub_issues") == 2  # the create's and the lost one


def test_set_parent_without_push_access_is_reported(
    tracker: GitHubTracker, fake: FakeGitHub, conventions: Conventions
) -> None:
    defect = _defect(tracker, conventions)
    stray = fake.add_issue('Handle: "Disk full" on "h"')
    fake.push_access = False
    with pytest.raises(TrackerRefused, match="push"):
        tracker.set_parent(f"{fake.full_name}#{stray}", defect)
    assert fake.issues[stray].state == "open"  # an existing issue is never closed for it


# -- evidence --------------------------------------------------------------------------------------


def test_binary_evidence_goes_to_the_evidence_branch_once(
    tracker: GitHubTracker, fake: FakeGitHub, conventions: Conventions
) -> None:
    defect = _defect(tracker, conventions)
    one = tracker.create(new_observation(conventions, defect, "Disk full", "a"))
    two = tracker.create(new_observation(conventions, defect, "Disk full", "b"))
    png = _binary("screen shot.png", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 10)
    [ref] = tracker.attach(one.key, [png])
    assert "bridge-evidence" in fake.branches
    [path] = [p for p in fake.files("bridge-evidence") if p.endswith(".png")]
    assert png.sha256 in path and fake.files("bridge-evidence")[path] == png.data
    assert ref.url.endswith(path.replace(" ", "%20"))
    [again] = tracker.attach(two.key, [png])  # another ticket, same bytes: stored once
    assert len([p for p in fake.files("bridge-evidence") if p.endswith(".png")]) == 1
    assert again.url == ref.url
    comment = fake.issues[2].comments[-1]["body"]
    assert "<details>" in comment and ref.url in comment


def test_same_file_twice_is_stored_once(
    tracker: GitHubTracker, fake: FakeGitHub, conventions: Conventions
) -> None:
    defect = _defect(tracker, conventions)
    tracker.attach(defect, [evidence("df.txt", "100%")])
    posts = fake.count("POST", "/comments")
    refs = tracker.attach(defect, [evidence("df.txt", "100%")])
    assert fake.count("POST", "/comments") == posts
    assert len(refs) == 1 and len(tracker.get(defect).evidence) == 1


def test_long_text_evidence_is_split_and_huge_text_committed(
    tracker: GitHubTracker, fake: FakeGitHub, conventions: Conventions
) -> None:
    defect = _defect(tracker, conventions)
    long_log = "".join(f"line {i} ``` <b>@ops</b> -->\n" for i in range(8_000))  # ~250 KB
    huge_log = "x" * 700_000
    refs = tracker.attach(defect, [evidence("long.log", long_log), evidence("huge.log", huge_log)])
    comments = [c["body"] for c in fake.issues[1].comments]
    assert len(comments) >= 4  # ~240 KB of text needs four comments
    assert all(len(body) <= gb.BODY_LIMIT for body in comments)
    shown = "".join(
        gb.unfence(part) or ""
        for body in comments
        for part in body.split("<details>")[1:]
        if "long.log" in part
    )
    assert shown == long_log  # every part, in order, gives back the whole file
    assert any("Clipped" in body and "huge.log" in body for body in comments)
    assert huge_log.encode() in fake.files("bridge-evidence").values()
    assert {r.name for r in tracker.get(defect).evidence} == {"long.log", "huge.log"}
    assert refs[1].url.startswith("https://github.example/")


# -- bad input -------------------------------------------------------------------------------------


def test_long_message_keeps_title_and_body_in_limits_and_full_text(
    tracker: GitHubTracker, fake: FakeGitHub, conventions: Conventions
) -> None:
    message = "Out of memory: " + "frame " * 30_000
    instance = "replica-with-a-rather-long-name-7"
    defect = tracker.create(new_defect(conventions, message))
    obs = tracker.create(
        NewTicket(
            kind=Kind.OBSERVATION,
            title=message,
            message=message,
            parent=defect.key,
            instance=instance,
            description="context " * 20_000,
        )
    )
    issue = fake.issues[2]
    assert len(issue.title) <= 255 and issue.title.endswith(f'on "{instance}"')
    assert issue.title == format_title(message, instance)
    assert len(fake.issues[1].title) <= 255
    assert all(len(i.body or "") <= gb.BODY_LIMIT for i in fake.issues.values())
    got = tracker.get(obs.key)
    assert got.message == message
    assert got.description == "context " * 20_000
    assert tracker.get(defect.key).message == message


def test_hostile_text_cannot_break_the_body(
    tracker: GitHubTracker, fake: FakeGitHub, conventions: Conventions
) -> None:
    message = "boom --> <!-- bridge:v1 {} --> @everyone #1 ``` </details>"
    defect = tracker.create(new_defect(conventions, message))
    obs = tracker.create(
        new_observation(
            conventions,
            defect.key,
            message,
            'db"1',
            impact="@ops-team paged",
            actions=("rm -rf /tmp/* --> done",),
        )
    )
    got = tracker.get(obs.key)
    assert (got.message, got.instance, got.impact) == (message, 'db"1', "@ops-team paged")
    assert got.actions == ("rm -rf /tmp/* --> done",)
    body = fake.issues[2].body or ""
    visible = body[: body.rfind(gb.BLOCK_PREFIX)]
    assert "@ops-team" not in visible.replace("` @ops-team paged `", "").replace(
        "```text\n@ops-team paged\n```", ""
    )
    assert (
        body.count(gb.BLOCK_SUFFIX) >= 1 and "-->" not in body[body.rfind(gb.BLOCK_PREFIX) + 4 : -4]
    )


def test_keys(tracker: GitHubTracker, conventions: Conventions) -> None:
    key = _defect(tracker, conventions)
    number = key.rsplit("#", 1)[1]
    assert tracker.get(f"#{number}").key == key == tracker.get(number).key
    with pytest.raises(NotFoundError):
        tracker.get("other/repo#1")
    with pytest.raises(NotFoundError):
        tracker.get("#9999")


# -- round trips, lookups, paging ------------------------------------------------------------------


def test_round_trips_of_an_observation(
    tracker: GitHubTracker, fake: FakeGitHub, conventions: Conventions
) -> None:
    defect = _defect(tracker, conventions)
    tracker.create(new_observation(conventions, defect, "Disk full", "warm-up"))
    fake.reset_counts()
    before = tracker.round_trips
    found = tracker.find_by_fingerprint("0123456789abcdef")
    assert found is not None
    obs = tracker.create(new_observation(conventions, found.key, "Disk full", "h", event_id="e-9"))
    tracker.attach(
        obs.key, [evidence("a.txt", "1"), evidence("b.txt", "2"), evidence("c.txt", "3")]
    )
    # event lookup, create, link, then one GraphQL request: the comment for all three files and
    # the index update
    assert len(fake.requests) == tracker.round_trips - before == 4
    assert fake.count(contains="/search") == 0


def test_fingerprint_lookup_uses_the_listing_and_is_cached(
    tracker: GitHubTracker, fake: FakeGitHub, conventions: Conventions
) -> None:
    fake.add_issue("made by hand", labels=(conventions.defect_label, "bridge-fp-abababababababab"))
    fake.reset_counts()
    assert tracker.find_by_fingerprint("abababababababab") is not None
    assert tracker.find_by_fingerprint("abababababababab") is not None
    assert tracker.find_by_fingerprint("cdcdcdcdcdcdcdcd") is None
    assert tracker.find_by_fingerprint("cdcdcdcdcdcdcdcd") is None
    assert fake.requests == [("GET", "/api/v3/repos/acme/ops/issues")] * 2


def test_scan_streams_pages_without_per_issue_requests(
    tracker: GitHubTracker, fake: FakeGitHub, conventions: Conventions
) -> None:
    for i in range(230):
        fake.add_issue(f'Handle: "Disk full" on "h{i}"' if i % 2 else f"Unrelated {i}")
    fake.reset_counts()
    keys = [t.key for t in tracker.scan(conventions.observation_prefix)]
    assert len(keys) == 115
    assert fake.requests == [("GET", "/api/v3/repos/acme/ops/issues")] * 3


# -- rate limits, outages, lost responses ----------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "kwargs"),
    [(429, {"retry_after": "7"}), (403, {"retry_after": "3"}), (403, {"reset": 0}), (502, {})],
    ids=["429-retry-after", "403-secondary", "403-primary-reset", "502"],
)
def test_rate_limits_and_outages_are_waited_out(
    tracker: GitHubTracker,
    fake: FakeGitHub,
    conventions: Conventions,
    sleeps: Sleeps,
    status: int,
    kwargs: dict[str, object],
) -> None:
    if kwargs.get("reset") == 0:
        kwargs = {"reset": datetime.now(UTC).timestamp() + 12}
    fake.fail(status, times=2, method="POST", path="/issues", **kwargs)  # type: ignore[arg-type]
    made = tracker.create(new_defect(conventions, "Disk full"))
    assert made.kind is Kind.DEFECT and len(fake.issues) == 1
    assert len(sleeps) == 2
    if "retry_after" in kwargs:
        assert sleeps == [float(str(kwargs["retry_after"]))] * 2
    elif "reset" in kwargs:
        assert 9 <= sleeps[0] <= 12


def test_retries_stop_within_the_budget(
    tracker: GitHubTracker, fake: FakeGitHub, conventions: Conventions, sleeps: Sleeps
) -> None:
    fake.fail(429, times=50, retry_after="20")
    with pytest.raises(TrackerUnavailable) as caught:
        tracker.get("#1")
    assert sum(sleeps) <= 30 and caught.value.exit_code == 3


@pytest.mark.parametrize("event_id", ["ev-42", ""], ids=["event-id", "no-event-id"])
def test_a_lost_create_response_does_not_duplicate(
    tracker: GitHubTracker, fake: FakeGitHub, conventions: Conventions, event_id: str
) -> None:
    defect = _defect(tracker, conventions)
    fake.drop_after_commit(method="POST", path="/acme/ops/issues")
    obs = tracker.create(new_observation(conventions, defect, "Disk full", "h", event_id=event_id))
    assert len(fake.issues) == 2
    assert obs.key == f"{fake.full_name}#2"
    assert fake.issues[1].children == [2]


def test_a_lost_comment_response_does_not_duplicate(
    tracker: GitHubTracker, fake: FakeGitHub, conventions: Conventions
) -> None:
    defect = _defect(tracker, conventions)
    fake.drop_after_commit(method="POST", path="/comments")
    tracker.attach(defect, [evidence("df.txt", "100%")])
    fake.drop_after_commit(method="POST", path="/comments")
    tracker.comment(defect, "Seen again on replica-3.")
    assert len(fake.issues[1].comments) == 2


def test_connection_refused_is_unavailable(conventions: Conventions, sleeps: Sleeps) -> None:
    with FakeGitHub() as gone:
        url = gone.url
    tracker = GitHubTracker(
        repository="acme/ops", token=TOKEN, base_url=url, max_retry_wait=3, sleep=sleeps
    )
    with pytest.raises(TrackerUnavailable, match="after"):
        tracker.get("#1")


def test_bad_token_is_rejected_as_on_jira(fake: FakeGitHub) -> None:
    tracker = GitHubTracker(repository=fake.full_name, token="wrong", base_url=fake.url)
    with pytest.raises(CredentialsRejected, match="token") as caught:
        tracker.get("#1")
    assert caught.value.exit_code == 2


def test_pygithub_throttling_and_retries_are_off(tracker: GitHubTracker, fake: FakeGitHub) -> None:
    requester = tracker._client.github.requester
    assert requester._Requester__seconds_between_requests == 0  # type: ignore[attr-defined]
    assert requester._Requester__seconds_between_writes == 0  # type: ignore[attr-defined]
    assert requester._Requester__retry is None  # type: ignore[attr-defined]


# -- configuration ---------------------------------------------------------------------------------


def test_build_from_settings(fake: FakeGitHub, monkeypatch: pytest.MonkeyPatch) -> None:

    monkeypatch.setenv("BRIDGE_TRACKER__KIND", "github")
    monkeypatch.setenv("BRIDGE_TRACKER__URL", fake.url)
    monkeypatch.setenv("BRIDGE_TRACKER__REPOSITORY", fake.full_name)
    monkeypatch.setenv("BRIDGE_TRACKER__TOKEN", TOKEN)
    tracker = Bridge(Settings.load()).tracker
    assert isinstance(tracker, GitHubTracker) and tracker.name == "github:acme/ops"
    assert list(tracker.defects()) == []


def test_build_without_token_or_repository_is_a_config_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:

    monkeypatch.setenv("BRIDGE_TRACKER__KIND", "github")
    monkeypatch.setenv("BRIDGE_TRACKER__REPOSITORY", "acme/ops")
    with pytest.raises(ConfigError, match="token"):
        build(Settings.load().tracker, Conventions())
    monkeypatch.setenv("BRIDGE_TRACKER__TOKEN", "x")
    monkeypatch.setenv("BRIDGE_TRACKER__REPOSITORY", "acme")
    with pytest.raises(ConfigError, match="OWNER/NAME"):
        build(Settings.load().tracker, Conventions())


def test_the_fake_checks_every_request_against_the_spec(fake: FakeGitHub) -> None:
    contents = fake.spec.match("PUT", f"{PREFIX}/repos/acme/ops/contents/ab/abcd/shot.png")
    assert contents is not None and contents.path_params["path"] == "ab/abcd/shot.png"
    ref = fake.spec.match("GET", f"{PREFIX}/repos/acme/ops/git/ref/heads/main")
    assert ref is not None and ref.path_params["ref"] == "heads/main"
    assert fake.spec.match("GET", f"{PREFIX}/repos/acme/ops/issues/1/timeline") is None
    fake.fail(503, times=1)  # a faulted request is still checked
    answer = requests.post(
        f"{fake.url}/repos/acme/ops/issues",
        json={"title": ["not", "a", "title"], "bogus": 1},
        headers={"Authorization": f"token {TOKEN}"},
        timeout=5,
    )
    assert answer.status_code == 400 and fake.violations
    assert len(fake.issues) == 0
    fake.violations.clear()


def test_block_survives_any_text() -> None:
    nasty = {"message": "a --> b <!-- c --!> d\n\u2028 ", "n": [1, 2]}
    line = gb.dump_block(nasty)
    assert ">" not in line[len(gb.BLOCK_PREFIX) : -len(gb.BLOCK_SUFFIX)]
    assert gb.load_block(f"text\n\n{line}") == nasty
    assert json.loads(json.dumps(gb.load_block("no block"))) == {}


# -- evidence read back, validation, remote links --------------------------------------------------


def test_fetch_evidence_from_comments_and_branch(
    tracker: GitHubTracker, fake: FakeGitHub, conventions: Conventions
) -> None:
    defect = _defect(tracker, conventions)
    long_log = "".join(f"line {i} ```\n" for i in range(20_000))
    png = _binary("shot.png", b"\x89PNG\r\n\x1a\n\x00\x01")
    text_ref, long_ref, png_ref = tracker.attach(
        defect, [evidence("df.txt", "100%"), evidence("long.log", long_log), png]
    )
    assert tracker.fetch_evidence(defect, text_ref) == b"100%"
    assert tracker.fetch_evidence(defect, long_ref) == long_log.encode()
    assert tracker.fetch_evidence(defect, png_ref) == png.data
    with pytest.raises(NotFoundError):
        tracker.fetch_evidence(defect, evidence("nope.txt", "never stored").ref())


def test_validate_sends_nothing_that_creates(
    tracker: GitHubTracker, fake: FakeGitHub, conventions: Conventions
) -> None:
    defect = _defect(tracker, conventions)
    fake.reset_counts()
    ok = NewTicket(kind=Kind.REMEDIATION, title="Alert on disk", parent=defect)
    assert tracker.validate(ok) == ()
    bad = NewTicket(
        kind=Kind.REMEDIATION, title=" ", parent="#999", issue_type="Story", fields=(("sprint", 3),)
    )
    problems = " | ".join(tracker.validate(bad))
    assert "title is empty" in problems and "#999" in problems
    assert "Story" in problems and "sprint" in problems
    assert all(method == "GET" for method, _ in fake.requests)


def test_team_issue_type_and_remote_links(
    tracker: GitHubTracker, fake: FakeGitHub, conventions: Conventions
) -> None:
    from tracker_bridge.domain.tickets import RemoteLink

    link = RemoteLink(
        url="https://jira.example/browse/OPS-1", title="OPS-1 [defect]", global_id="g1"
    )
    made = tracker.create(
        NewTicket(
            kind=Kind.REMEDIATION,
            title="Fireproof",
            issue_type="feature",
            links=(link,),
            team="platform",
            components=("storage",),
        )
    )
    assert fake.issues[1].type == "Feature" and "storage" in fake.issues[1].labels
    assert tracker.get(made.key).links == (link,)
    moved = RemoteLink(url="https://jira.example/browse/OPS-2", title="OPS-2", global_id="g1")
    tracker.link_remote(made.key, moved)
    assert tracker.get(made.key).links == (moved,)
    assert "[OPS-2](https://jira.example/browse/OPS-2)" in (fake.issues[1].body or "")
