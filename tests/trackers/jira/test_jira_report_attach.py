"""``report DEFECT --attach`` on Jira: the report replaces its earlier copy (upload, then delete),
the same report again sends nothing, and a refused delete says what is left behind."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from fakes.jira import EMAIL, TOKEN, FakeJira
from support.cli import run
from support.contract import WHEN, evidence, new_defect, new_observation
from support.trackers import make_tracker
from tracker_bridge.domain.conventions import Conventions
from tracker_bridge.domain.tickets import EvidenceFile
from tracker_bridge.errors import TrackerRefused
from tracker_bridge.trackers.base import ReplacesAttachments

CONV = Conventions()


@pytest.fixture(params=["cloud", "datacenter"])
def site(request: pytest.FixtureRequest) -> Iterator[FakeJira]:
    with FakeJira(request.param) as fake:
        yield fake
        assert fake.violations == []


def report(text: str) -> EvidenceFile:
    return EvidenceFile("report-OPS-1.html", text.encode(), "report", WHEN)


def names(site: FakeJira, key: str) -> list[str]:
    return sorted(a["filename"] for a in site.issues[key].attachments)


def test_replace_uploads_then_deletes_and_repeats_nothing(site: FakeJira) -> None:
    tracker = make_tracker(site, CONV)
    assert isinstance(tracker, ReplacesAttachments)
    key = tracker.create(new_defect(CONV, "Disk full")).key
    tracker.attach(key, [evidence("df.txt", "100%")])
    first = tracker.replace_attachment(key, report("<p>one</p>"))
    assert (first.name, first.size) == ("report-OPS-1.html", 10)
    assert tracker.fetch_evidence(key, first) == b"<p>one</p>"

    site.reset_counts()
    again = make_tracker(site, CONV)
    again.get(key)  # what the workflow reads first, to tell "unchanged" from "replaced"
    site.reset_counts()
    assert again.replace_attachment(key, report("<p>one</p>")) == first
    assert site.requests == []  # the same report: nothing sent, not even a read

    old = next(a["id"] for a in site.issues[key].attachments if first.sha256 in a["filename"])
    again.replace_attachment(key, report("<p>two</p>"))
    # one upload, one delete of the older copy: nothing else (the issue was read just before)
    # but the upload limit and the set-up check that a run reads once before its first write
    setup = {"/attachment/meta", "/project/OPS", "/issueLinkType", "/mypermissions"}
    assert [(m, p) for m, p in site.requests if not any(p.endswith(x) for x in setup)] == [
        ("POST", f"/rest/api/2/issue/{key}/attachments"),
        ("DELETE", f"/rest/api/2/attachment/{old}"),
    ]
    site.reset_counts()
    third = again.replace_attachment(key, report("<p>three</p>"))
    assert [m for m, _ in site.requests] == ["POST", "DELETE"]  # later in the run: just these
    stored = make_tracker(site, CONV).get(key).evidence
    assert sorted((r.name, r.sha256) for r in stored) == sorted(
        [("df.txt", evidence("df.txt", "100%").sha256), ("report-OPS-1.html", third.sha256)]
    )
    assert make_tracker(site, CONV).fetch_evidence(key, third) == b"<p>three</p>"
    assert sum(1 for n in names(site, key) if n.startswith("report-OPS-1.")) == 1


def test_a_lost_upload_answer_is_not_uploaded_twice(site: FakeJira) -> None:
    tracker = make_tracker(site, CONV)
    key = tracker.create(new_defect(CONV, "Disk full")).key
    tracker.replace_attachment(key, report("one"))
    site.drop_after_commit(method="POST", path="/attachments")
    ref = tracker.replace_attachment(key, report("two"))
    assert names(site, key) == [f"report-OPS-1.{ref.sha256}.html"]


def test_a_refused_delete_says_what_is_left_and_a_retry_finishes(site: FakeJira) -> None:
    tracker = make_tracker(site, CONV)
    key = tracker.create(new_defect(CONV, "Disk full")).key
    tracker.replace_attachment(key, report("one"))
    site.permissions.discard("DELETE_OWN_ATTACHMENTS")
    with pytest.raises(TrackerRefused, match=r"new report-OPS-1\.html is attached") as caught:
        tracker.replace_attachment(key, report("two"))
    assert caught.value.hint and "Delete own attachments" in caught.value.hint
    assert len(names(site, key)) == 2  # the new one is there; the old one could not go
    site.permissions.add("DELETE_OWN_ATTACHMENTS")
    site.reset_counts()
    ref = make_tracker(site, CONV).replace_attachment(key, report("two"))
    assert site.count("POST", "/attachments") == 0 and site.count("DELETE") == 1
    assert names(site, key) == [f"report-OPS-1.{ref.sha256}.html"]


def test_cli_report_attach_on_jira(
    site: FakeJira, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    tracker = make_tracker(site, CONV)
    defect = tracker.create(new_defect(CONV, "Disk full")).key
    tracker.create(new_observation(CONV, defect, "Disk full", "db-1"))
    monkeypatch.setenv("BRIDGE_TRACKER__TOKEN", TOKEN)
    email = f'email = "{EMAIL}"\n' if site.flavour == "cloud" else ""
    Path("bridge.toml").write_text(
        f'[tracker]\nkind = "jira"\nurl = "{site.url}"\nproject = "OPS"\n'
        f'deployment = "{site.flavour}"\n{email}'
    )
    code, out, err = run(capsys, "report", defect, "--attach", "--json")
    assert code == 0, err
    first = json.loads(out)
    assert (first["name"], first["replaced"], first["unchanged"]) == (
        f"report-{defect}.html",
        False,
        False,
    )
    code, out, err = run(capsys, "report", defect, "--format", "png", "--attach")
    assert code == 0 and out == f"report-{defect}.png on {defect}: attached.\n", err
    tracker.create(new_observation(CONV, defect, "Disk full", "db-2"))
    code, out, err = run(capsys, "report", defect, "--attach", "--json")
    assert code == 0, err
    second = json.loads(out)
    assert second["replaced"] is True and second["sha256"] != first["sha256"]
    reports = [n for n in names(site, defect) if n.startswith(f"report-{defect}.")]
    assert [n for n in reports if n.endswith(".html")] == [
        f"report-{defect}.{second['sha256']}.html"
    ]
    assert len([n for n in reports if n.endswith(".png")]) == 1  # the png stays: another name
    page = site.attachment_bytes(defect)[f"report-{defect}.{second['sha256']}.html"].decode()
    assert "db-2" in page
