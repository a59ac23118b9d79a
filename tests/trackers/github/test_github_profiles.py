"""The GitHub tracker on every site profile: the contract, and the GitHub points of issue 13."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from fakes.github import TOKEN, FakeGitHub
from fakes.profiles import GITHUB_PROFILES
from support.contract import TrackerContract, new_defect, new_observation
from tracker_bridge.bridge import Bridge
from tracker_bridge.domain.conventions import Conventions
from tracker_bridge.domain.tickets import EvidenceFile, Kind, NewTicket
from tracker_bridge.errors import TrackerRefused, TrackerUnavailable
from tracker_bridge.settings import Settings
from tracker_bridge.trackers.github import GitHubTracker
from tracker_bridge.workflows import observe

WHEN = datetime(2026, 11, 2, 3, 4, 5, tzinfo=UTC)


@pytest.fixture
def conventions() -> Conventions:
    return Conventions()


def hub(fake: FakeGitHub, repository: str = "acme/ops", **kw: object) -> GitHubTracker:
    options: dict[str, object] = {
        "repository": repository,
        "token": TOKEN,
        "base_url": fake.url,
        "timeout": 5,
        "max_retry_wait": 30,
        "sleep": lambda _s: None,
    }
    options.update(kw)
    return GitHubTracker(**options)  # type: ignore[arg-type]


class TestContractOnEveryProfile(TrackerContract):
    @pytest.fixture(params=sorted(GITHUB_PROFILES))
    def tracker(self, request: pytest.FixtureRequest) -> Iterator[GitHubTracker]:
        with FakeGitHub(profile=request.param) as site:
            made = hub(site)
            yield made
            made.close()
            assert site.violations == [], "\n".join(site.violations)


def _files(run: int) -> tuple[EvidenceFile, ...]:
    return tuple(
        EvidenceFile(f"{name}.txt", f"{name} {run}\n".encode() * 20, f"file:{name}.txt", WHEN)
        for name in ("df", "ls-tmp", "journal")
    )


def _observe(tracker: GitHubTracker, run: int, files: bool = True) -> observe.Result:
    request = observe.Request(
        message="No space left on device",
        instance=f"db-{run}",
        evidence=_files(run) if files else (),
        event_id=f"ev-{run}",
    )
    result = observe.run(tracker, tracker.conventions, request)
    tracker.close()
    return result


@pytest.mark.parametrize("profile", sorted(GITHUB_PROFILES))
def test_12_a_known_defect_with_three_files_costs_at_most_four_requests(profile: str) -> None:
    with FakeGitHub(profile=profile) as fake:
        _observe(hub(fake), 1)
        fake.reset_counts()
        result = _observe(hub(fake), 2)
        assert result.matched_by == "fingerprint" and len(result.evidence) == 3
        # the answers to the create and to the one GraphQL request (comments, index, sub-issue
        # link) say GitHub holds every file, so nothing is read back; a user-owned repository:
        # one 422 more
        budget = 4 if fake.owner_has_types else 5
        assert len(fake.requests) <= budget, fake.requests
        obs = int((result.observation or "").rsplit("#", 1)[1])
        assert fake.issues[obs].parent == int((result.defect or "").rsplit("#", 1)[1])
        assert len(fake.issues[obs].comments) == 1
        stored = hub(fake).get(result.observation or "").evidence
        assert sorted(r.name for r in stored) == ["df.txt", "journal.txt", "ls-tmp.txt"]
        assert hub(fake).fetch_evidence(result.observation or "", stored[0]) in {
            f.data for f in _files(2)
        }
        assert fake.violations == []


def test_12_without_evidence_the_sub_issue_is_linked_at_once(conventions: Conventions) -> None:
    with FakeGitHub() as fake:
        _observe(hub(fake), 1)
        fake.reset_counts()
        result = _observe(hub(fake), 2, files=False)
        assert len(fake.requests) == 4, fake.requests
        assert fake.count("POST", "/sub_issues") == 1 and fake.count("POST", "/graphql") == 0
        assert result.observation


def test_a_lost_graphql_answer_posts_the_evidence_once(conventions: Conventions) -> None:
    with FakeGitHub() as fake:
        tracker = hub(fake)
        defect = tracker.create(new_defect(conventions, "Disk full"))
        fake.drop_after_commit(path="/api/graphql")
        obs = tracker.create(
            new_observation(
                conventions,
                defect.key,
                "Disk full",
                "h",
                evidence=tuple(f.ref() for f in _files(1)),
            )
        )
        tracker.attach(obs.key, list(_files(1)))
        tracker.close()
        number = int(obs.key.rsplit("#", 1)[1])
        assert len(fake.issues[number].comments) == 1
        assert len(hub(fake).get(obs.key).evidence) == 3
        assert fake.violations == []


def test_a_full_parent_in_the_batch_keeps_the_evidence(conventions: Conventions) -> None:
    with FakeGitHub() as fake:
        tracker = hub(fake)
        defect = tracker.create(new_defect(conventions, "Disk full"))
        number = int(defect.key.rsplit("#", 1)[1])
        for i in range(100):
            child = fake.add_issue(f"child {i}")
            fake.add_sub_issue(number, child)
        obs = tracker.create(
            new_observation(
                conventions,
                defect.key,
                "Disk full",
                "h",
                evidence=tuple(f.ref() for f in _files(1)),
            )
        )
        refs = tracker.attach(obs.key, list(_files(1)))
        tracker.close()
        assert len(refs) == 3
        got = hub(fake).get(obs.key)
        assert got.parent == defect.key and len(got.evidence) == 3
        assert fake.violations == []


def test_user_owned_repository_drops_the_type_and_an_unknown_one_is_named(
    conventions: Conventions,
) -> None:
    with FakeGitHub(profile="github-user-owned") as fake:
        tracker = hub(fake)
        made = tracker.create(new_defect(conventions, "Disk full"))
        assert fake.issues[int(made.key.rsplit("#", 1)[1])].type is None
        tracker.create(new_defect(conventions, "Disk gone", fp="1111111111111111"))
        assert fake.count("POST", "/issues") == 3  # one refused for its type, then no more
        # a team's own type, where the owner has none: dropped too (the kind label says it)
        asked = tracker.create(NewTicket(kind=Kind.REMEDIATION, title="x", issue_type="Story"))
        assert fake.issues[int(asked.key.rsplit("#", 1)[1])].type is None
    with FakeGitHub() as fake, pytest.raises(TrackerRefused, match=r"no issue type 'Story'.*Bug"):
        hub(fake).create(NewTicket(kind=Kind.REMEDIATION, title="x", issue_type="Story"))


def test_proxy_html_pages_and_limits_without_a_wait_are_retried(conventions: Conventions) -> None:
    with FakeGitHub(profile="ghes-behind-proxy") as fake:
        tracker = hub(fake)
        fake.fail(502, times=1)
        fake.fail(403, times=1, retry_after="60")
        assert tracker.create(new_defect(conventions, "Disk full")).key
        assert fake.violations == []


def test_11_delegating_to_another_repository_on_the_same_host(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    with FakeGitHub(profile="github-same-host") as fake:
        defect = hub(fake).create(new_defect(Conventions(), "Disk full")).key
        monkeypatch.setenv("BRIDGE_TRACKER__TOKEN", TOKEN)
        Path("bridge.toml").write_text(
            f"""
[tracker]
kind = "github"
url = "{fake.url}"
repository = "acme/ops"
max_retry_wait = 0

[teams.platform]
repository = "acme/platform"

[teams.infra]
repository = "other/infra"
"""
        )
        for team, repository in (("platform", "acme/platform"), ("infra", "other/infra")):
            with Bridge(Settings.load()) as bridge:
                result = bridge.delegate(defect, to=team)
            assert result.ticket is not None and result.ticket.startswith(f"{repository}#")
            assert result.linked == "remote"
            made = fake.repository(repository).issues[1]
            assert made.parent is None and "acme/ops/issues/1" in (made.body or "")
        home = fake.repository("acme/ops").issues[1]
        notes = [c["body"] for c in home.comments]
        assert any("acme/platform#1" in n for n in notes) and any(
            "other/infra#1" in n for n in notes
        )
        assert "acme/platform/issues/1" in (home.body or "")
        assert fake.violations == []


def test_a_held_back_link_that_cannot_be_sent_does_not_hide_the_error(
    conventions: Conventions,
) -> None:
    with FakeGitHub() as fake:
        tracker = hub(fake, max_retry_wait=0)
        defect = tracker.create(new_defect(conventions, "Disk full"))
        obs = tracker.create(
            new_observation(
                conventions,
                defect.key,
                "Disk full",
                "h",
                evidence=tuple(f.ref() for f in _files(1)),
            )
        )
        fake.fail(503, times=10)
        with pytest.raises(TrackerUnavailable):
            tracker.attach(obs.key, list(_files(1)))
        tracker.close()  # the link held back is let go quietly; the label still ties the child
        fake.faults.clear()
        assert hub(fake).get(obs.key).parent == defect.key
