"""``evidence add`` and ``evidence sync`` on Jira: idempotent by content hash, provenance kept,
copies into another ticket on the same site and on another site once, sensitive files only named."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from fakes.jira import EMAIL, TOKEN, FakeJira
from support.cli import run
from support.contract import WHEN, evidence, new_defect, new_observation
from support.trackers import make_tracker
from tracker_bridge.domain.conventions import Conventions
from tracker_bridge.domain.tickets import EvidenceFile, Kind, NewTicket
from tracker_bridge.errors import UsageError
from tracker_bridge.trackers.jira import JiraTracker
from tracker_bridge.workflows import evidence as flow
from tracker_bridge.workflows import sync

CONV = Conventions()


@pytest.fixture(params=["cloud", "datacenter"])
def site(request: pytest.FixtureRequest) -> Iterator[FakeJira]:
    with FakeJira(request.param) as fake:
        yield fake
        assert fake.violations == []


def with_sightings(tracker: JiraTracker) -> tuple[str, list[str]]:
    """A defect with three observations: df-a, a sensitive df-b, and df-a's content again."""
    defect = tracker.create(new_defect(CONV, "Disk full")).key
    keys = []
    for host, text, sensitive in [("a", "df a", False), ("b", "df b", True), ("c", "df a", False)]:
        obs = tracker.create(new_observation(CONV, defect, "Disk full", host)).key
        item = EvidenceFile(f"df-{host}.txt", text.encode(), "capture:df -h", WHEN)
        tracker.attach(obs, [EvidenceFile(**{**_fields(item), "sensitive": sensitive})])
        keys.append(obs)
    return defect, keys


def _fields(item: EvidenceFile) -> dict[str, object]:
    return {name: getattr(item, name) for name in item.__slots__}


def test_add_is_idempotent_by_content_and_adds_changed_files(site: FakeJira) -> None:
    tracker = make_tracker(site, CONV)
    defect = tracker.create(new_defect(CONV, "Disk full")).key
    obs = tracker.create(new_observation(CONV, defect, "Disk full", "h")).key
    first = flow.add(tracker, obs, [evidence("app.log", "v1")])
    assert [r.name for r in first.stored] == ["app.log"]
    site.reset_counts()
    again = flow.add(make_tracker(site, CONV), obs, [evidence("app.log", "v1")])
    assert again.stored == () and [r.name for r in again.already] == ["app.log"]
    assert again.already[0].source == "file:app.log"  # provenance read back, not re-sent
    assert site.count("POST", "/attachments") == 0 and site.count("PUT") == 0
    changed = flow.add(make_tracker(site, CONV), obs, [evidence("app.log", "v2")])
    assert [r.name for r in changed.stored] == ["app.log"]
    assert site.count("POST", "/attachments") == 1
    assert len(make_tracker(site, CONV).get(obs).evidence) == 2


def test_files_over_the_upload_limit_are_compressed_or_refused(site: FakeJira) -> None:
    site.upload_limit = 1024
    tracker = make_tracker(site, CONV)
    defect = tracker.create(new_defect(CONV, "Disk full")).key
    [stored] = flow.add(tracker, defect, [evidence("big.log", "same line\n" * 400)]).stored
    assert stored.name == "big.log.gz" and stored.size <= 1024
    noise = EvidenceFile("core.bin", os.urandom(4096), "file:core.bin", WHEN)
    site.reset_counts()
    with pytest.raises(UsageError, match=r"core.bin is 4.0 KiB, over the tracker's upload limit"):
        flow.add(make_tracker(site, CONV), defect, [noise])
    assert site.count("POST", "/attachments") == 0 and site.count("PUT") == 0


def test_sync_indexes_the_defect_once(site: FakeJira) -> None:
    tracker = make_tracker(site, CONV)
    defect, keys = with_sightings(tracker)
    result = sync.roll_up(make_tracker(site, CONV), defect)
    assert result.entries == 3 and result.index is not None
    index = make_tracker(site, CONV).fetch_evidence(defect, result.index).decode()
    assert all(key in index for key in keys)
    assert "df-b.txt (sensitive)" in index and "capture:df -h" in index
    site.reset_counts()
    sync.roll_up(make_tracker(site, CONV), defect)
    assert site.count("POST", "/attachments") == 0 and site.count("PUT") == 0
    assert [r.name for r in make_tracker(site, CONV).get(defect).evidence] == ["evidence-index.md"]


def test_sync_to_a_ticket_on_the_same_site_copies_once(site: FakeJira) -> None:
    tracker = make_tracker(site, CONV)
    defect, _ = with_sightings(tracker)
    target = tracker.create(NewTicket(kind=Kind.REMEDIATION, title="Fix disks", parent=defect)).key
    first = sync.copy_to(tracker, defect, tracker, target, other_team=False)
    assert sorted(r.name for r in first.copied) == [
        f"{keys}-df-{host}.txt" for keys, host in zip(_obs(tracker, defect), "ab", strict=False)
    ]
    assert first.referenced == ()
    site.reset_counts()
    again = sync.copy_to(
        make_tracker(site, CONV), defect, make_tracker(site, CONV), target, other_team=False
    )
    assert again.copied == () and sorted(again.already) == ["df-a.txt", "df-b.txt"]
    assert site.count("POST", "/attachments") == 0 and site.count("PUT") == 0
    copied = make_tracker(site, CONV).get(target).evidence
    assert [r.sensitive for r in sorted(copied, key=lambda r: r.name)] == [False, True]


def test_sync_to_another_site_copies_once_and_only_names_sensitive_evidence(
    site: FakeJira,
) -> None:
    ours = make_tracker(site, CONV)
    defect, _ = with_sightings(ours)
    with FakeJira(site.flavour) as other:
        other.add_project("PLAT", issue_types=("Story", "Task"))
        theirs = make_tracker(other, CONV, project="PLAT")
        target = theirs.create(
            NewTicket(kind=Kind.REMEDIATION, title="Fix disks", issue_type="Story")
        ).key
        first = sync.copy_to(ours, defect, theirs, target, other_team=True)
        [copied] = first.copied
        assert copied.name.endswith("-df-a.txt") and copied.source == "capture:df -h"
        assert first.referenced == ("df-b.txt",)
        assert b"df b" not in other.attachment_bytes(target).values()
        [link] = [x for x in theirs.get(target).links if x.global_id.startswith("bridge-evidence:")]
        assert "Sensitive evidence df-b.txt" in link.title
        other.reset_counts()
        again = sync.copy_to(
            make_tracker(site, CONV),
            defect,
            make_tracker(other, CONV, project="PLAT"),
            target,
            other_team=True,
        )
        assert again.copied == () and again.already == ("df-a.txt",)
        assert other.count("POST", "/attachments") == 0 and other.count("PUT") == 0
        assert [r.source for r in theirs.get(target).evidence] == ["capture:df -h"]
        assert other.violations == []


def test_cli_evidence_add_and_sync_on_jira(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, site: FakeJira
) -> None:
    tracker = make_tracker(site, CONV)
    defect = tracker.create(new_defect(CONV, "Disk full")).key
    obs = tracker.create(new_observation(CONV, defect, "Disk full", "h")).key
    monkeypatch.setenv("BRIDGE_TRACKER__TOKEN", TOKEN)
    email = f'email = "{EMAIL}"\n' if site.flavour == "cloud" else ""
    Path("bridge.toml").write_text(
        f'[tracker]\nkind = "jira"\nurl = "{site.url}"\nproject = "OPS"\n'
        f'deployment = "{site.flavour}"\n{email}'
    )
    Path("creds.env").write_text("password=hunter2hunter2\n")
    code, out, _ = run(capsys, "evidence", "add", obs, "creds.env", "--sensitive", "--json")
    added = json.loads(out)["added"]
    assert code == 0 and [a["sensitive"] for a in added] == [True]
    code, out, _ = run(capsys, "evidence", "add", obs, "creds.env")
    assert code == 0 and "Already on" in out
    assert site.count("POST", "/attachments") == 1
    code, out, _ = run(capsys, "show", obs, "--json")
    [shown] = json.loads(out)["evidence"]
    assert shown["source"].startswith("file:") and shown["redactions"] == added[0]["redactions"]
    code, out, _ = run(capsys, "evidence", "sync", defect)
    assert code == 0 and "1 item(s)" in out


def _obs(tracker: JiraTracker, defect: str) -> list[str]:
    return [t.key for t in tracker.tree(defect).observations]


def _staged(tmp_path: Path, name: str, data: bytes) -> EvidenceFile:
    """File-backed evidence, as the intake hands it to a tracker."""
    from tracker_bridge.domain.tickets import Blob

    path = tmp_path / f"staged-{name}"
    path.write_bytes(data)
    sha = hashlib.sha256(data).hexdigest()
    return EvidenceFile(
        name, None, f"file:{name}", WHEN, blob=Blob.of_file(path, size=len(data), sha256=sha)
    )


def test_file_backed_evidence_is_streamed_and_a_retry_sends_it_whole(
    site: FakeJira, tmp_path: Path
) -> None:
    tracker = make_tracker(site, CONV)
    defect = tracker.create(new_defect(CONV, "Disk full")).key
    data = os.urandom(3 * 1024 * 1024 + 7)
    item = _staged(tmp_path, "core.bin", data)
    site.fail(503, method="POST", path="/attachments")  # the first upload fails: read again
    [ref] = flow.add(tracker, defect, [item]).stored
    assert site.count("POST", "/attachments") == 2
    assert ref.size == len(data) and ref.sha256 == item.sha256
    assert make_tracker(site, CONV).fetch_evidence(defect, ref) == data


@pytest.mark.parametrize(
    "args",
    [
        ["Disk full", "-i", "h", "-a", "x" * 40_000],
        ["a" * 100_000, "-i", "h", "-a", "wiped"],
        ["Disk full", "-i", "h", "-a", "wiped", "--impact", "y" * 100_000],
    ],
    ids=["long-action", "long-message", "long-impact"],
)
def test_a_long_message_action_or_impact_leaves_room_for_the_evidence(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, args: list[str]
) -> None:
    with FakeJira("cloud") as site:
        monkeypatch.setenv("BRIDGE_TRACKER__TOKEN", TOKEN)
        Path("bridge.toml").write_text(
            f'[tracker]\nkind = "jira"\nurl = "{site.url}"\nproject = "OPS"\nemail = "{EMAIL}"\n'
        )
        Path("df.txt").write_text("Filesystem Size Used\n")
        code, out, err = run(capsys, "observe", *args, "-e", "df.txt", "-e", "df.txt", "--json")
        assert code == 0, err
        shown = json.loads(run(capsys, "show", json.loads(out)["observation"], "--json")[1])
        assert [e["name"] for e in shown["evidence"]] == ["df.txt"]
        assert site.violations == []
