"""``delegate`` on Jira: same-site issue links, team fields only, create-screen dry runs, and
cross-site remote links between two fake Jira sites, with nothing half-made when one is down."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from fakes.jira import EMAIL, TOKEN, FakeJira
from support.cli import run
from support.contract import evidence, new_defect, new_observation
from support.trackers import make_tracker
from tracker_bridge.domain.conventions import Conventions
from tracker_bridge.domain.tickets import Kind, RemoteLink
from tracker_bridge.errors import ConfigError, TrackerUnavailable
from tracker_bridge.settings import TeamSettings
from tracker_bridge.trackers.jira import JiraTracker
from tracker_bridge.workflows import delegate
from tracker_bridge.workflows.delegate import Request, Result

CONV = Conventions()
TEAM_FIELD = {"customfield_10050": {"value": "Platform"}}
TEAM = TeamSettings(
    project="PLAT",
    issue_type="Story",
    labels=["from-ops"],
    components=["backend"],
    fields=TEAM_FIELD,
)
UNASKED = {"assignee", "priority", "duedate", "customfield_10020"}
"""Assignee, priority, due date and sprint: the team's workflow decides them, not the bridge."""


def with_platform(site: FakeJira) -> FakeJira:
    """Another team's project on ``site``: its own types (no Bug), components, a required field."""
    site.add_project("PLAT", "Platform", issue_types=("Story", "Task"), components=("backend",))
    site.require_field("PLAT", "Story", "customfield_10050", "Team", ("Platform", "Data"))
    return site


@pytest.fixture(params=["cloud", "datacenter"])
def site(request: pytest.FixtureRequest) -> Iterator[FakeJira]:
    with FakeJira(request.param) as fake:
        yield with_platform(fake)
        assert fake.violations == []


@pytest.fixture
def other(site: FakeJira) -> Iterator[FakeJira]:
    """A second, separate Jira site of the same flavour holding the team's project."""
    with FakeJira(site.flavour) as fake:
        yield with_platform(fake)
        assert fake.violations == []


def seeded(tracker: JiraTracker) -> str:
    defect = tracker.create(new_defect(CONV, "No space left on device")).key
    for i, host in enumerate(["replica-1", "replica-2"]):
        obs = tracker.create(
            new_observation(CONV, defect, "No space left on device", host, impact=f"{i} min")
        ).key
        tracker.attach(obs, [evidence(f"df-{i}.txt", f"{i}00%")])
    return defect


def delegated(
    source: JiraTracker,
    target: JiraTracker,
    defect: str,
    *,
    same_site: bool,
    team: TeamSettings = TEAM,
    dry_run: bool = False,
) -> Result:
    return delegate.run(
        source,
        target,
        team=team.domain("platform"),
        conventions=CONV,
        request=Request(defect=defect, team="platform", dry_run=dry_run),
        same_site=same_site,
    )


# -- same site, another project --------------------------------------------------------------


def test_same_site_is_an_issue_link_with_only_the_team_fields(site: FakeJira) -> None:
    ours = make_tracker(site, CONV)
    defect = seeded(ours)
    result = delegated(ours, make_tracker(site, CONV, project="PLAT"), defect, same_site=True)
    key = result.ticket or ""
    issue = site.issues[key]
    assert key.startswith("PLAT-") and issue.issuetype["name"] == "Story"
    assert issue.parent is None  # another team's project: linked, never parented
    assert [
        (x.type["name"], x.source, x.target) for x in site.links if key in (x.source, x.target)
    ] == [("Relates", defect, key)]
    assert {"bridge-remediation", "from-ops"} <= set(issue.labels)
    assert issue.extra == {"components": [{"name": "backend"}], **TEAM_FIELD}
    assert not UNASKED & set(issue.extra)
    tree = ours.tree(defect)
    assert [(t.key, t.kind, t.team) for t in tree.remediations] == [
        (key, Kind.REMEDIATION, "platform")
    ]
    assert [c["body"] for c in site.issues[defect].comments] == [
        f"Remediation delegated to team platform: {key} {site.url}/browse/{key}"
    ]
    assert site.issues[defect].remote_links == []


def test_fields_the_team_configures_are_set_as_given(site: FakeJira) -> None:
    ours = make_tracker(site, CONV)
    defect = seeded(ours)
    team = TEAM.model_copy(update={"fields": {**TEAM_FIELD, "priority": {"name": "Low"}}})
    result = delegated(
        ours, make_tracker(site, CONV, project="PLAT"), defect, same_site=True, team=team
    )
    extra = site.issues[result.ticket or ""].extra
    assert extra["priority"] == {"name": "Low"}
    assert not (UNASKED - {"priority"}) & set(extra)


def test_delegating_twice_returns_the_existing_ticket(site: FakeJira) -> None:
    ours = make_tracker(site, CONV)
    defect = seeded(ours)
    first = delegated(ours, make_tracker(site, CONV, project="PLAT"), defect, same_site=True)
    fresh_run = make_tracker(site, CONV, project="PLAT")
    second = delegated(make_tracker(site, CONV), fresh_run, defect, same_site=True)
    assert second.existing and second.ticket == first.ticket
    assert sum(1 for i in site.issues.values() if i.project == "PLAT") == 1
    assert len([x for x in site.links if first.ticket in (x.source, x.target)]) == 1
    assert len(site.issues[defect].comments) == 1


def test_dry_run_lists_what_the_create_screen_would_refuse(site: FakeJira) -> None:
    ours = make_tracker(site, CONV)
    defect = seeded(ours)
    team = TEAM.model_copy(
        update={"fields": {"customfield_99999": "x"}, "components": ["frontend"]}
    )
    site.reset_counts()
    result = delegated(
        ours,
        make_tracker(site, CONV, project="PLAT"),
        defect,
        same_site=True,
        team=team,
        dry_run=True,
    )
    text = "\n".join(result.problems)
    assert "PLAT/Story requires the field 'Team' (customfield_10050)" in text
    assert "one of: Platform, Data" in text
    assert "'customfield_99999' is not on the create screen of PLAT/Story" in text
    assert "'frontend' is not a valid Components in PLAT/Story (one of: backend)" in text
    assert result.ticket is None and "Remediate" in result.title
    assert site.count("POST", "/issue") == 0 and site.count("PUT") == 0
    assert site.count("GET", "/issue/createmeta/PLAT/issuetypes/") == 1
    assert site.issues[defect].comments == []


def test_dry_run_of_a_valid_delegation_has_no_problems(site: FakeJira) -> None:
    ours = make_tracker(site, CONV)
    defect = seeded(ours)
    plat = make_tracker(site, CONV, project="PLAT")
    result = delegated(ours, plat, defect, same_site=True, dry_run=True)
    assert result.problems == ()
    site.screen("PLAT", "Story").pop("issuelinks")
    unlinked = delegated(
        ours, make_tracker(site, CONV, project="PLAT"), defect, same_site=True, dry_run=True
    )
    assert any("'issuelinks' is not on the create screen" in p for p in unlinked.problems)


def test_no_permission_in_the_target_project_is_a_clear_error(site: FakeJira) -> None:
    ours = make_tracker(site, CONV)
    defect = seeded(ours)
    site.project_permissions["PLAT"] = {"BROWSE_PROJECTS"}
    plat = make_tracker(site, CONV, project="PLAT")
    with pytest.raises(
        ConfigError, match=r"lacks the permission\(s\) CREATE_ISSUES, LINK_ISSUES in PLAT"
    ):
        delegated(ours, plat, defect, same_site=True)
    assert not any(i.project == "PLAT" for i in site.issues.values())
    assert site.issues[defect].comments == [] and site.issues[defect].remote_links == []
    dry = delegated(
        ours, make_tracker(site, CONV, project="PLAT"), defect, same_site=True, dry_run=True
    )
    assert any("CREATE_ISSUES" in p for p in dry.problems)


def test_delegated_work_needs_none_of_our_conventions_there(site: FakeJira) -> None:
    """PLAT has no Bug type and we may not transition or comment there: delegating still works."""
    ours = make_tracker(site, CONV)
    defect = seeded(ours)
    site.project_permissions["PLAT"] = {"BROWSE_PROJECTS", "CREATE_ISSUES", "LINK_ISSUES"}
    result = delegated(ours, make_tracker(site, CONV, project="PLAT"), defect, same_site=True)
    assert result.ticket in site.issues


# -- across sites ----------------------------------------------------------------------------


def test_cross_site_links_both_ways_with_stable_global_ids(site: FakeJira, other: FakeJira) -> None:
    ours = make_tracker(site, CONV)
    defect = seeded(ours)
    first = delegated(ours, make_tracker(other, CONV, project="PLAT"), defect, same_site=False)
    key = first.ticket or ""
    made = other.issues[key]
    assert made.parent is None and other.links == []
    assert [(r["globalId"], r["object"]["url"]) for r in made.remote_links] == [
        (f"bridge-defect:{defect}", f"{site.url}/browse/{defect}")
    ]
    back = [(x.global_id, x.url) for x in ours.get(defect).links]
    assert back == [(f"bridge-delegate:platform:{key}", f"{other.url}/browse/{key}")]
    assert [c["body"] for c in site.issues[defect].comments] == [
        f"Remediation delegated to team platform: {key} {other.url}/browse/{key}"
    ]

    again = delegated(
        make_tracker(site, CONV), make_tracker(other, CONV, project="PLAT"), defect, same_site=False
    )
    assert again.existing and again.ticket == key
    assert len(other.issues) == 1 and len(made.remote_links) == 1
    assert len(site.issues[defect].remote_links) == 1  # the same globalId updated, not added
    assert site.count("POST", "/remotelink") == 2
    assert len(site.issues[defect].comments) == 1


def test_target_site_down_leaves_nothing_on_the_defect(site: FakeJira, other: FakeJira) -> None:
    ours = make_tracker(site, CONV)
    defect = seeded(ours)
    url = other.url
    other.stop()
    gone = make_tracker(site, CONV, project="PLAT", url=url, max_retry_wait=2.0)
    with pytest.raises(TrackerUnavailable) as caught:
        delegated(ours, gone, defect, same_site=False)
    assert caught.value.exit_code == 3 and url in str(caught.value)
    assert site.issues[defect].remote_links == [] and site.issues[defect].comments == []


def test_target_refusing_creates_leaves_nothing_half_made(site: FakeJira, other: FakeJira) -> None:
    ours = make_tracker(site, CONV)
    defect = seeded(ours)
    other.fail(503, times=1000, method="POST", path="/rest/api/2/issue")
    plat = make_tracker(other, CONV, project="PLAT", max_retry_wait=2.0)
    with pytest.raises(TrackerUnavailable, match="creating remediation"):
        delegated(ours, plat, defect, same_site=False)
    assert other.issues == {}
    assert site.issues[defect].remote_links == [] and site.issues[defect].comments == []


# -- the command line ------------------------------------------------------------------------


def test_cli_delegate_same_site_cross_site_and_site_down(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    site: FakeJira,
    other: FakeJira,
) -> None:
    defect = seeded(make_tracker(site, CONV))
    monkeypatch.setenv("BRIDGE_TRACKER__TOKEN", TOKEN)
    monkeypatch.setenv("DATA_TOKEN", TOKEN)
    with FakeJira(site.flavour) as gone:
        gone_url = gone.url
    email = f'email = "{EMAIL}"\n' if site.flavour == "cloud" else ""
    Path("bridge.toml").write_text(
        f"""
[tracker]
kind = "jira"
url = "{site.url}"
project = "OPS"
deployment = "{site.flavour}"
{email}max_retry_wait = 0

[teams.platform]
project = "PLAT"
issue_type = "Story"
labels = ["from-ops"]
components = ["backend"]
fields = {{ customfield_10050 = {{ value = "Platform" }} }}

[teams.loose]
project = "PLAT"
issue_type = "Story"

[teams.data]
tracker = "jira"
url = "{other.url}"
project = "PLAT"
issue_type = "Task"
token_env = "DATA_TOKEN"

[teams.gone]
tracker = "jira"
url = "{gone_url}"
project = "PLAT"
token_env = "DATA_TOKEN"
"""
    )
    code, out, err = run(capsys, "delegate", defect, "--to", "loose", "--dry-run")
    assert code == 1 and "Title: Remediate" in out
    assert "PLAT/Story requires the field 'Team' (customfield_10050)" in err
    assert not any(i.project == "PLAT" for i in site.issues.values())

    code, out, _ = run(capsys, "delegate", defect, "--to", "platform", "--json")
    same = json.loads(out)
    assert code == 0 and same["ticket"].startswith("PLAT-") and same["linked"] == "parent"
    code, out, _ = run(capsys, "delegate", defect, "--to", "data", "--json")
    remote = json.loads(out)
    assert code == 0 and remote["linked"] == "remote" and remote["url"].startswith(other.url)
    code, out, _ = run(capsys, "delegate", defect, "--to", "data")
    assert code == 0 and f"Already delegated to data: {remote['ticket']}" in out

    shown = json.loads(run(capsys, "show", defect, "--json")[1])
    assert [(r["key"], r["status"], r.get("elsewhere", False)) for r in shown["remediations"]] == [
        (same["ticket"], "open", False),
        (remote["ticket"], "open", True),
    ]

    held = (list(site.issues[defect].remote_links), list(site.issues[defect].comments))
    code, _, err = run(capsys, "delegate", defect, "--to", "gone")
    assert code == 3 and gone_url in err
    assert (site.issues[defect].remote_links, site.issues[defect].comments) == held


# -- remote links as `scan` and `check` see them ---------------------------------------------


def _check(capsys: pytest.CaptureFixture[str], site: FakeJira, project: str) -> dict[str, Any]:
    """``bridge check --json`` against ``project`` on ``site``, as CI runs it."""
    email = f'email = "{EMAIL}"\n' if site.flavour == "cloud" else ""
    Path("bridge.toml").write_text(
        f'[tracker]\nkind = "jira"\nurl = "{site.url}"\nproject = "{project}"\n'
        f'deployment = "{site.flavour}"\n{email}max_retry_wait = 0\n'
    )
    code, out, err = run(capsys, "check", "--json")
    assert code in (0, 1), err
    report: dict[str, Any] = json.loads(out)
    return report


def _fired(report: dict[str, Any], rule: str) -> list[str]:
    return [f["key"] for f in report["findings"] if f["rule"] == rule]


def test_scan_sees_cross_site_links_so_check_sees_the_remediation(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    site: FakeJira,
    other: FakeJira,
) -> None:
    monkeypatch.setenv("BRIDGE_TRACKER__TOKEN", TOKEN)
    ours = make_tracker(site, CONV)
    defect = seeded(ours)
    ours.resolve(defect)
    # without a remediation the done defect is reported, and a hand-made remediation on the
    # team's site, linked to nothing, is reported too: the rules can fire
    stray = other.add_issue("Fix it somehow", project="PLAT", labels=(CONV.remediation_label,))
    assert _fired(_check(capsys, site, "OPS"), "defect-closed-without-remediation") == [defect]
    assert _fired(_check(capsys, other, "PLAT"), "remediation-without-link-back") == [stray]

    site.reset_counts()
    other.reset_counts()
    key = delegated(ours, make_tracker(other, CONV, project="PLAT"), defect, same_site=False).ticket
    # the target's create carries the link in its data block; the source records it (one PUT)
    assert other.count("PUT") == 0 and other.count("POST", "/remotelink") == 1
    assert site.count("PUT") == 1 and site.count("POST", "/remotelink") == 1

    source = make_tracker(site, CONV)
    site.reset_counts()
    [scanned] = [t for t in source.scan("Handle") if t.key == defect]
    assert len(site.requests) == 1  # one search page, no request per ticket
    assert [(x.global_id, x.url) for x in scanned.links] == [
        (f"bridge-delegate:platform:{key}", f"{other.url}/browse/{key}")
    ]
    target = make_tracker(other, CONV, project="PLAT")
    other.reset_counts()
    [made] = [t for t in target.scan("Handle") if t.key == key]
    assert len(other.requests) == 1
    assert [(x.global_id, x.url) for x in made.links] == [
        (f"bridge-defect:{defect}", f"{site.url}/browse/{defect}")
    ]
    assert made.links == target.get(key).links  # the copy says what the remote link says

    assert _fired(_check(capsys, site, "OPS"), "defect-closed-without-remediation") == []
    assert _fired(_check(capsys, other, "PLAT"), "remediation-without-link-back") == [stray]

    site.reset_counts()
    other.reset_counts()
    again = delegated(
        make_tracker(site, CONV), make_tracker(other, CONV, project="PLAT"), defect, same_site=False
    )
    assert again.existing and again.ticket == key
    assert site.count("PUT") == 0 and other.count("PUT") == 0  # recorded already: no rewrite


def test_a_link_copy_keeps_the_description_and_upserts(site: FakeJira) -> None:
    ours = make_tracker(site, CONV)
    by_hand = site.add_issue(
        "Disk full", issuetype="Bug", labels=(CONV.defect_label,), description="Seen by *Ana*."
    )
    first = RemoteLink(url="https://x.example/1", title="X-1", global_id="bridge-delegate:x:X-1")
    ours.link_remote(by_hand, first)
    ours.link_remote(by_hand, replace(first, title="X-1 renamed"))
    ours.link_remote(by_hand, RemoteLink(url="https://y.example/2", title="Y-2", global_id="g2"))
    fresh = make_tracker(site, CONV)
    [scanned] = [t for t in fresh.scan("Handle") if t.key == by_hand]
    assert [(x.global_id, x.title) for x in scanned.links] == [
        ("bridge-delegate:x:X-1", "X-1 renamed"),
        ("g2", "Y-2"),
    ]
    assert scanned.description == "Seen by *Ana*."
    assert site.count("PUT") == 3
    ours.link_remote(by_hand, RemoteLink(url="https://y.example/2", title="Y-2", global_id="g2"))
    assert site.count("PUT") == 3  # unchanged: not written again
