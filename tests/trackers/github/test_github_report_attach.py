"""``report DEFECT --attach`` on GitHub: the report is committed over its earlier version at a
fixed path of the evidence branch and linked once from the issue body, the same report again
sends nothing, and a stale or lost blob sha costs one read, never a second copy."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from fakes.github import TOKEN, FakeGitHub
from support.cli import run
from support.contract import WHEN, evidence, new_defect, new_observation
from tracker_bridge.domain.conventions import Conventions
from tracker_bridge.domain.tickets import EvidenceFile
from tracker_bridge.errors import NotFoundError, TrackerRefused
from tracker_bridge.trackers.base import ReplacesAttachments
from tracker_bridge.trackers.github import GitHubTracker
from tracker_bridge.trackers.github import body as gb

CONV = Conventions()
BRANCH = "bridge-evidence"


@pytest.fixture
def fake() -> Iterator[FakeGitHub]:
    with FakeGitHub() as server:
        yield server
        assert server.violations == [], "\n".join(server.violations)


def hub(server: FakeGitHub) -> GitHubTracker:
    """A tracker that has seen nothing yet, as each ``bridge`` command starts."""
    return GitHubTracker(
        repository=server.full_name, token=TOKEN, base_url=server.url, conventions=CONV
    )


def report(text: str) -> EvidenceFile:
    return EvidenceFile("report-1.html", text.encode(), "report", WHEN)


def reports_in(server: FakeGitHub) -> dict[str, bytes]:
    return {p: b for p, b in server.branches.get(BRANCH, {}).items() if p.startswith("reports/")}


def _blob(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def body_of(server: FakeGitHub, key: str) -> str:
    return str(server.issues[int(key.rsplit("#", 1)[1])].body)


def test_replace_commits_over_the_last_version_and_links_it_once(fake: FakeGitHub) -> None:
    tracker = hub(fake)
    assert isinstance(tracker, ReplacesAttachments)
    key = tracker.create(new_defect(CONV, "Disk full")).key
    tracker.attach(key, [evidence("df.txt", "100%")])
    first = tracker.replace_attachment(key, report("<p>one</p>"))
    path = f"reports/{fake.full_name}/1/report-1.html"
    assert reports_in(fake) == {path: b"<p>one</p>"}
    assert first.url.endswith(f"/blob/{BRANCH}/{path}")
    assert tracker.fetch_evidence(key, first) == b"<p>one</p>"

    again = hub(fake)
    again.get(key)  # what the workflow reads first, to tell "unchanged" from "replaced"
    fake.reset_counts()
    assert again.replace_attachment(key, report("<p>one</p>")) == first
    assert fake.requests == []  # the same report: nothing sent

    second = again.replace_attachment(key, report("<p>two</p>"))
    # one PUT carrying the last blob sha (kept in the issue's record), one PATCH of the body
    assert [m for m, _ in fake.requests] == ["PUT", "PATCH"]
    assert reports_in(fake) == {path: b"<p>two</p>"}
    body = body_of(fake, key)
    assert body.count("**Report**") == 1 and body.count(f"]({second.url})") == 1
    assert "(10 bytes, attached ` 2026-11-02 03:04 UTC `)" in body
    assert gb.load_block(body)["reports"] == {"report-1.html": _blob(b"<p>two</p>")}
    stored = hub(fake).get(key).evidence
    assert sorted((r.name, r.sha256) for r in stored) == sorted(
        [("df.txt", evidence("df.txt", "100%").sha256), ("report-1.html", second.sha256)]
    )
    assert hub(fake).fetch_evidence(key, second) == b"<p>two</p>"
    with pytest.raises(NotFoundError):
        hub(fake).fetch_evidence(key, first)  # replaced: its bytes are gone from the branch


def test_a_file_changed_behind_the_bridges_back_costs_one_read(fake: FakeGitHub) -> None:
    tracker = hub(fake)
    key = tracker.create(new_defect(CONV, "Disk full")).key
    tracker.replace_attachment(key, report("one"))
    path = f"reports/{fake.full_name}/1/report-1.html"
    fake.branches[BRANCH][path] = b"edited by hand"
    fake.reset_counts()
    ref = tracker.replace_attachment(key, report("two"))
    assert [m for m, _ in fake.requests] == ["PUT", "GET", "PUT", "PATCH"]  # 409, current sha
    assert reports_in(fake) == {path: b"two"}
    assert hub(fake).get(key).evidence[-1].sha256 == ref.sha256


def test_a_report_whose_record_was_lost_is_still_replaced(fake: FakeGitHub) -> None:
    tracker = hub(fake)
    key = tracker.create(new_defect(CONV, "Disk full")).key
    # the file is committed, but the body never learns its blob sha
    fake.fail(403, method="PATCH", message="Must have admin rights to Repository.")
    with pytest.raises(TrackerRefused):
        tracker.replace_attachment(key, report("one"))
    fake.reset_counts()
    ref = hub(fake).replace_attachment(key, report("two"))
    sent = [m for m, p in fake.requests if m != "GET" or "/contents/" in p]
    assert sent == ["PUT", "GET", "PUT", "PATCH"]  # 422 "sha" wasn't supplied, then the sha
    assert list(reports_in(fake).values()) == [b"two"]
    assert [r.sha256 for r in hub(fake).get(key).evidence] == [ref.sha256]


def test_cli_report_attach_on_github(
    fake: FakeGitHub, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    tracker = hub(fake)
    defect = tracker.create(new_defect(CONV, "Disk full")).key
    tracker.create(new_observation(CONV, defect, "Disk full", "db-1"))
    monkeypatch.setenv("BRIDGE_TRACKER__TOKEN", TOKEN)
    Path("bridge.toml").write_text(
        f'[tracker]\nkind = "github"\nurl = "{fake.url}"\nrepository = "{fake.full_name}"\n'
    )
    code, out, err = run(capsys, "report", defect, "--attach", "--json")
    assert code == 0, err
    first = json.loads(out)
    assert (first["name"], first["replaced"], first["unchanged"]) == (
        "report-acme-ops-1.html",
        False,
        False,
    )
    tracker.create(new_observation(CONV, defect, "Disk full", "db-2"))
    code, out, err = run(capsys, "report", defect, "--attach")
    assert (
        code == 0 and out == f"report-acme-ops-1.html on {defect}: replacing the earlier report.\n"
    )
    code, out, err = run(capsys, "report", defect, "--format", "png", "--attach")
    assert code == 0, err
    [html] = [b for p, b in reports_in(fake).items() if p.endswith(".html")]
    assert b"db-2" in html
    assert len(reports_in(fake)) == 2  # the page and the png, each once
    body = body_of(fake, defect)
    block = gb.load_block(body)
    assert sorted(block["reports"]) == ["report-acme-ops-1.html", "report-acme-ops-1.png"]
    assert body.count("](https://") == 2  # one link each, however often they were attached
