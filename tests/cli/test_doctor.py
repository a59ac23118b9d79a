"""`bridge doctor` on site profiles: what works, what is degraded (and what it costs), what to
change; each tracker checked once; exit 0 usable, 1 not; --json."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fakes.github import TOKEN as GH_TOKEN
from fakes.github import FakeGitHub
from fakes.jira import EMAIL, TOKEN, FakeJira
from support.cli import run
from support.trackers import make_tracker
from tracker_bridge.domain.conventions import Conventions
from tracker_bridge.workflows import observe


def _config(site: FakeJira, extra: str = "", conventions: str = "") -> None:
    email = f'email = "{EMAIL}"\n' if site.flavour == "cloud" else ""
    Path("bridge.toml").write_text(
        f"""
[tracker]
kind = "jira"
url = "{site.url}"
project = "OPS"
{email}max_retry_wait = 0

[conventions]
{conventions}
{extra}
"""
    )


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BRIDGE_TRACKER__TOKEN", TOKEN)
    monkeypatch.setenv("GH_TOKEN", GH_TOKEN)


def _findings(out: str) -> dict[str, dict[str, dict[str, str]]]:
    data = json.loads(out)
    return {site["name"]: {f["check"]: f for f in site["findings"]} for site in data["sites"]} | {
        "_usable": data["usable"]
    }  # type: ignore[dict-item]


def _seed(site: FakeJira) -> None:
    """A done defect and an open one, so transitions can be read."""
    tracker = make_tracker(site, Conventions())
    first = observe.run(tracker, Conventions(), observe.Request("Disk full", "db-1"))
    tracker.resolve(first.defect or "")
    observe.run(tracker, Conventions(), observe.Request("Disk gone away", "db-2"))


@pytest.mark.parametrize("flavour", ["cloud", "datacenter"])
def test_a_standard_site_is_all_ok(
    flavour: str, env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    with FakeJira(flavour) as site:
        _seed(site)
        _config(site)
        code, out, _ = run(capsys, "doctor", "--json")
        assert site.violations == []
    assert code == 0
    found = _findings(out)
    checks = found[next(k for k in found if k.startswith("jira:"))]
    assert {f["health"] for f in checks.values()} == {"ok"}, checks
    assert checks["authenticated"]["detail"].startswith("as Bridge Bot")
    for name in (
        "reachable",
        "project",
        "issue types",
        "link style",
        "transition to done",
        "transition back to to-do",
        "search",
        "attachments",
        "permissions",
        "labels",
    ):
        assert name in checks


def test_dc_8_20_is_usable_degraded_and_says_what_to_change(
    env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    with FakeJira(profile="jira-dc-8.20") as site:
        _seed(site)
        _config(site)
        code, out, _ = run(capsys, "doctor")
        assert site.violations == []
    assert code == 0
    assert "reopen falls back to 'To Reopened'" in out
    assert 'In bridge.toml:\n  [conventions] reopen_transition = "To Reopened"' in out
    for what in ("/mypermissions is hidden", "POST /search is refused", "upload limit is unknown"):
        assert what in out
    assert out.rstrip().endswith("usable: 0 failed, 5 degraded check(s).")


def test_locked_down_site_names_the_deployment_to_set(
    env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    with FakeJira(profile="jira-locked-down") as site:
        _seed(site)
        _config(site)
        code, out, _ = run(capsys, "doctor", "--json")
    checks = next(v for k, v in _findings(out).items() if k.startswith("jira:"))
    assert code == 0
    assert checks["deployment"]["fix"] == '[tracker] deployment = "datacenter"'
    assert checks["link style"]["health"] == "degraded"
    assert checks["remote links"]["health"] == "degraded"


def test_unusable_configuration_exits_1_and_names_the_fix(
    env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    with FakeJira("datacenter") as site:
        site.permissions -= {"TRANSITION_ISSUES"}
        _config(
            site,
            conventions='link_type = "Relates to"\n',
            extra='[teams.data]\ntracker = "jira"\nurl = "http://127.0.0.1:9"\nproject = "DATA"\n',
        )
        code, out, _ = run(capsys, "doctor", "--json")
    assert code == 1
    found = _findings(out)
    assert found["_usable"] is False
    checks = next(v for k, v in found.items() if k.startswith("jira:OPS"))
    assert (
        checks["link style"]["health"] == "failed" and "Relates" in checks["link style"]["detail"]
    )
    assert "TRANSITION_ISSUES" in checks["permissions"]["detail"]
    built = found["team data: not built"]["configuration"]
    assert built["health"] == "failed" and "token" in built["detail"]


def test_each_tracker_is_checked_once(env: None, capsys: pytest.CaptureFixture[str]) -> None:
    with FakeJira("datacenter") as site, FakeGitHub(profile="github-user-owned") as hub:
        site.add_project("PLAT")
        _config(
            site,
            extra=(
                '[teams.platform]\nproject = "PLAT"\nissue_type = "Story"\n'
                '[teams.web]\nproject = "PLAT"\nissue_type = "Story"\n'
                f'[teams.tools]\ntracker = "github"\nurl = "{hub.url}"\n'
                'repository = "acme/ops"\ntoken_env = "GH_TOKEN"\n'
            ),
        )
        site.reset_counts()
        code, out, _ = run(capsys, "doctor", "--json")
        assert site.count("GET", "/myself") == 2  # OPS, and PLAT once for two teams
        assert hub.violations == [] and site.violations == []
    data = json.loads(out)
    assert code == 0
    assert [s["used_by"] for s in data["sites"]] == [
        ["tracker"],
        ["team platform", "team web"],
        ["team tools"],
    ]
    tools = {f["check"]: f for f in data["sites"][2]["findings"]}
    # a team has no issue_types key: the cost is named, the fix is not ours to give
    assert tools["issue types"]["health"] == "degraded" and tools["issue types"]["fix"] == ""


def test_github_without_push_access_is_not_usable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("BRIDGE_TRACKER__TOKEN", GH_TOKEN)
    with FakeGitHub(profile="github-user-owned") as hub:
        hub.push_access = False
        Path("bridge.toml").write_text(
            f'[tracker]\nkind = "github"\nurl = "{hub.url}"\nrepository = "acme/ops"\n'
        )
        code, out, _ = run(capsys, "doctor")
        assert hub.violations == []
    assert code == 1
    assert "drops labels and issue types" in out
    assert "[tracker] issue_types = false" in out


def test_the_local_tracker_is_usable(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "doctor", "--json")
    assert code == 0 and json.loads(out)["usable"] is True
