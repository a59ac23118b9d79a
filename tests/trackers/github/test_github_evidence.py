"""Issue 6 on GitHub: evidence added once by content hash, provenance kept in the issue, secrets
scrubbed before anything is sent, limits named, a defect's evidence indexed once and copied once
into another issue, repository, GitHub server or tracker, sensitive evidence only referenced.

Every exchange is checked against the GitHub spec slice by the fake (``violations``); request
counts come from the fake's log, so "no-op" means nothing was sent, not nothing was changed.
"""

from __future__ import annotations

import gzip
import json
import os
import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from fakes.github import TOKEN, FakeGitHub
from support.cli import run
from support.contract import WHEN, evidence, new_defect, new_observation
from tracker_bridge.domain.conventions import Conventions
from tracker_bridge.domain.tickets import EvidenceFile, Kind, NewTicket
from tracker_bridge.errors import UsageError
from tracker_bridge.trackers.github import UPLOAD_LIMIT, GitHubTracker
from tracker_bridge.trackers.github import body as gb
from tracker_bridge.trackers.local import LocalTracker
from tracker_bridge.workflows import evidence as flow
from tracker_bridge.workflows import sync

CONV = Conventions()
AWS = "AKIA" + "Q3EGRZ7TXHD4MN2B"
PASSWORD = "hunter2hunter2"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4
WRITES = ("POST", "PATCH", "PUT", "DELETE")


@pytest.fixture
def fake() -> Iterator[FakeGitHub]:
    with FakeGitHub() as server:
        yield server
        assert server.violations == [], "\n".join(server.violations)


@pytest.fixture
def other() -> Iterator[FakeGitHub]:
    """Another team's repository on another GitHub server."""
    with FakeGitHub("plat/infra") as server:
        yield server
        assert server.violations == [], "\n".join(server.violations)


def hub(server: FakeGitHub) -> GitHubTracker:
    """A tracker that has seen nothing yet, as each ``bridge`` command starts."""
    return GitHubTracker(
        repository=server.full_name, token=TOKEN, base_url=server.url, conventions=CONV
    )


def writes(server: FakeGitHub) -> list[tuple[str, str]]:
    return [(m, p) for m, p in server.requests if m in WRITES]


def n(key: str) -> int:
    return int(key.rsplit("#", 1)[1])


def files_in(tmp: Path, **content: bytes) -> list[Path]:
    paths = []
    for name, data in content.items():
        path = tmp / name.replace("_", ".")
        path.write_bytes(data)
        paths.append(path)
    return paths


def with_sightings(tracker: GitHubTracker) -> tuple[str, list[str]]:
    """A defect with three observations: df-a and a screenshot, a sensitive df-b, df-a again."""
    defect = tracker.create(new_defect(CONV, "Disk full")).key
    keys = []
    for host, text, sensitive in [("a", "df a", False), ("b", "df b", True), ("c", "df a", False)]:
        obs = tracker.create(new_observation(CONV, defect, "Disk full", host)).key
        item = EvidenceFile(f"df-{host}.txt", text.encode(), "capture:df -h", WHEN)
        shot = [EvidenceFile("shot.png", PNG, "file:/tmp/shot.png", WHEN, scanned=False)]
        tracker.attach(obs, [replace(item, sensitive=sensitive), *(shot if host == "a" else [])])
        keys.append(obs)
    return defect, keys


# -- add: text and binary, provenance, idempotency -------------------------------------------------


def test_text_and_binary_evidence_keep_provenance_through_get_tree_and_scan(
    fake: FakeGitHub, tmp_path: Path
) -> None:
    tracker = hub(fake)
    defect = tracker.create(new_defect(CONV, "Disk full")).key
    obs = tracker.create(new_observation(CONV, defect, "Disk full", "db-1")).key
    paths = files_in(tmp_path, app_log=f"ok\npassword={PASSWORD}\n".encode(), shot_png=PNG)
    files = flow.scrub(flow.read_paths(paths, sensitive=True))
    added = flow.add(hub(fake), obs, files)
    log, shot = added.stored
    assert added.already == ()
    # the index is written with the comments, in one request: it points at the issue
    assert log.url == f"https://github.example/acme/ops/issues/{n(obs)}"
    assert "/acme/ops/blob/bridge-evidence/" in shot.url
    assert fake.files("bridge-evidence")[f"{shot.sha256[:2]}/{shot.sha256}/shot.png"] == PNG

    fresh = hub(fake)
    via_get = fresh.get(obs).evidence
    [via_tree] = [o.evidence for o in fresh.tree(defect).observations]
    via_scan = next(t.evidence for t in fresh.scan(CONV.observation_prefix) if t.key == obs)
    assert via_get == via_tree == via_scan == (log, shot)
    for ref, path in zip(via_get, paths, strict=True):
        assert ref.source == f"file:{path}"
        assert ref.captured_at is not None and ref.captured_at.tzinfo is not None
        assert ref.sensitive is True
    assert log.size == len(files[0].data) and log.sha256 == files[0].sha256
    assert dict(log.redactions) == {"password-assignment": 1} and log.scanned is True
    assert shot.size == len(PNG) and shot.redactions == () and shot.scanned is False
    [comment] = [c["body"] for c in fake.issues[n(obs)].comments]
    assert "redacted: password-assignment: 1" in comment and "not scanned for secrets" in comment
    assert f"from <code>file:{paths[0]}</code>" in comment
    assert fresh.fetch_evidence(obs, log) == files[0].data
    assert fresh.fetch_evidence(obs, shot) == PNG


def test_the_same_files_again_send_nothing_and_changed_ones_are_added(fake: FakeGitHub) -> None:
    tracker = hub(fake)
    defect = tracker.create(new_defect(CONV, "Disk full")).key
    shot = EvidenceFile("shot.png", PNG, "file:shot.png", WHEN, scanned=False)
    flow.add(tracker, defect, [evidence("app.log", "v1"), shot])
    comments, commits = len(fake.issues[1].comments), len(fake.files("bridge-evidence"))

    fake.reset_counts()
    again = flow.add(hub(fake), defect, [evidence("app.log", "v1"), shot])
    assert again.stored == () and [r.name for r in again.already] == ["app.log", "shot.png"]
    assert fake.requests == [("GET", "/api/v3/repos/acme/ops/issues/1")]  # one read, no write
    assert len(fake.issues[1].comments) == comments
    assert len(fake.files("bridge-evidence")) == commits

    fake.reset_counts()
    changed = flow.add(hub(fake), defect, [evidence("app.log", "v2"), replace(shot, data=PNG[:-1])])
    assert [r.name for r in changed.stored] == ["app.log", "shot.png"]
    # commit, then comment and index together in one GraphQL request
    assert [m for m, _ in writes(fake)] == ["PUT", "POST"]
    assert writes(fake)[1] == ("POST", "/api/graphql")
    assert len(fake.issues[1].comments) == comments + 1
    assert len(fake.files("bridge-evidence")) == commits + 1
    assert [r.name for r in hub(fake).get(defect).evidence] == ["app.log", "shot.png"] * 2


# -- secrets ----------------------------------------------------------------------------------------


def test_secrets_are_scrubbed_before_they_reach_github(fake: FakeGitHub, tmp_path: Path) -> None:
    tracker = hub(fake)
    defect = tracker.create(new_defect(CONV, "Disk full")).key
    env = tmp_path / "creds.env"
    env.write_text(f"AWS_ACCESS_KEY_ID={AWS}\npassword={PASSWORD}\n" + "x" * 700_000)
    files = flow.scrub(flow.read_paths([env]))  # 700 KB: committed, not inline
    [ref] = flow.add(tracker, defect, files).stored
    assert dict(ref.redactions) == {"aws-access-key": 1, "password-assignment": 1}
    assert "/blob/bridge-evidence/" in ref.url
    assert fake.received(b"[REDACTED:aws-access-key]")  # the scrubbed file did go
    assert not fake.received(AWS.encode()) and not fake.received(PASSWORD.encode())
    # the check can fail: the same file unscrubbed reaches the server
    flow.add(tracker, defect, flow.scrub(flow.read_paths([env]), redact=False))
    assert fake.received(AWS.encode())


def test_unscannable_evidence_is_not_scanned_and_says_so(fake: FakeGitHub) -> None:
    tracker = hub(fake)
    defect = tracker.create(new_defect(CONV, "Disk full")).key
    raw = EvidenceFile("core.gz", gzip.compress(AWS.encode()), "file:core.gz", WHEN)
    [scrubbed] = flow.scrub([raw])
    [ref] = flow.add(tracker, defect, [scrubbed]).stored
    assert ref.scanned is False and hub(fake).get(defect).evidence[0].scanned is False
    assert "not scanned for secrets" in fake.issues[1].comments[-1]["body"]


# -- limits -----------------------------------------------------------------------------------------


def test_upload_limit_is_the_contents_api_limit_and_over_it_is_clear(fake: FakeGitHub) -> None:
    tracker = hub(fake)
    assert tracker.capabilities().upload_limit == UPLOAD_LIMIT == 100 * 1024 * 1024
    defect = tracker.create(new_defect(CONV, "Disk full")).key
    zeros = EvidenceFile("disk.img", bytes(UPLOAD_LIMIT + 1), "file:disk.img", WHEN, scanned=False)
    [packed] = flow.add(tracker, defect, [zeros]).stored
    assert packed.name == "disk.img.gz" and packed.size < 200_000
    noise = EvidenceFile("core", os.urandom(UPLOAD_LIMIT + 1), "file:core", WHEN, scanned=False)
    fake.reset_counts()
    with pytest.raises(UsageError, match=r"core is 100\.0 MiB, over the tracker's upload limit of"):
        flow.add(hub(fake), defect, [noise])
    assert writes(fake) == []


def test_bodies_stay_within_65536_characters(fake: FakeGitHub) -> None:
    tracker = hub(fake)
    defect = tracker.create(new_defect(CONV, "Disk full")).key
    log = "".join(f"{i:06} disk usage 100% on /var\n" for i in range(12_000))  # ~370 KB
    [ref] = flow.add(tracker, defect, [evidence("long.log", log)]).stored
    bodies = [c["body"] for c in fake.issues[1].comments]
    assert len(bodies) >= 6 and all(len(b) <= gb.BODY_LIMIT for b in bodies)
    assert hub(fake).fetch_evidence(defect, ref) == log.encode()


def test_an_index_too_big_for_the_issue_body_is_refused_before_anything_is_sent(
    fake: FakeGitHub,
) -> None:
    tracker = hub(fake)
    defect = tracker.create(new_defect(CONV, "Disk full")).key
    logs = [evidence(f"logs/node-{i:03}.log", f"line {i}\n") for i in range(300)]
    fake.reset_counts()
    with pytest.raises(UsageError, match=r"65,536 characters") as caught:
        flow.add(hub(fake), defect, logs)
    assert "archive" in (caught.value.hint or "")
    assert writes(fake) == [] and fake.issues[1].comments == []
    some = flow.add(hub(fake), defect, logs[:100]).stored  # what fits, fits
    assert len(some) == 100 and len(hub(fake).get(defect).evidence) == 100
    # observe refuses before creating the observation, not after
    fake.reset_counts()
    with pytest.raises(UsageError, match="new observation"):
        tracker.create(
            replace(
                new_observation(CONV, defect, "Disk full", "h"),
                evidence=tuple(f.ref() for f in logs),
            )
        )
    assert writes(fake) == []


# -- sync: the index on the defect -----------------------------------------------------------------


def test_sync_indexes_the_defect_once_without_copying(fake: FakeGitHub) -> None:
    defect, keys = with_sightings(hub(fake))
    files_before = fake.files("bridge-evidence")
    fake.reset_counts()
    result = sync.roll_up(hub(fake), defect)
    assert result.entries == 4 and result.index is not None
    # one comment and the index update, in one GraphQL request
    assert writes(fake) == [("POST", "/api/graphql")]
    assert fake.files("bridge-evidence") == files_before  # nothing copied
    index = hub(fake).fetch_evidence(defect, result.index).decode()
    assert all(key in index for key in keys)
    assert "df-b.txt (sensitive)" in index and "capture:df -h" in index
    assert "not scanned" in index and "/blob/bridge-evidence/" in index
    [stored] = hub(fake).get(defect).evidence
    assert stored.name == "evidence-index.md" and stored.source == f"index:{defect}"

    fake.reset_counts()
    again = sync.roll_up(hub(fake), defect)
    assert again.index == stored
    assert writes(fake) == []
    assert len(fake.requests) == 3  # the defect, its children, related defects


# -- sync --to: copies once --------------------------------------------------------------------------


def test_copy_into_another_issue_of_the_same_repository_once(fake: FakeGitHub) -> None:
    tracker = hub(fake)
    defect, _ = with_sightings(tracker)
    target = tracker.create(NewTicket(kind=Kind.REMEDIATION, title="Fix disks", parent=defect)).key
    first = sync.copy_to(hub(fake), defect, hub(fake), target, other_team=False)
    assert sorted(r.name.rsplit("-", 1)[-1] for r in first.copied) == ["a.txt", "b.txt", "shot.png"]
    assert first.referenced == ()
    # renamed after its observation, the copy is another path to the same git blob
    assert list(fake.files("bridge-evidence").values()).count(PNG) == 2
    copied = {r.name.rsplit("-", 1)[-1]: r for r in hub(fake).get(target).evidence}
    assert copied["b.txt"].sensitive and copied["a.txt"].source == "capture:df -h"
    assert copied["shot.png"].scanned is False

    fake.reset_counts()
    again = sync.copy_to(hub(fake), defect, hub(fake), target, other_team=False)
    assert again.copied == () and sorted(again.already) == ["df-a.txt", "df-b.txt", "shot.png"]
    assert writes(fake) == []


def slug(key: str) -> str:
    return "-".join(part for part in re.split(r"[^A-Za-z0-9]+", key) if part)


def test_copy_to_another_github_server_once_and_only_name_sensitive_evidence(
    fake: FakeGitHub, other: FakeGitHub
) -> None:
    defect, keys = with_sightings(hub(fake))
    theirs = hub(other)
    target = theirs.create(NewTicket(kind=Kind.REMEDIATION, title="Fix disks", team="plat")).key
    first = sync.copy_to(hub(fake), defect, hub(other), target, other_team=True)
    assert sorted(r.name for r in first.copied) == [
        f"{slug(keys[0])}-df-a.txt",
        f"{slug(keys[0])}-shot.png",
    ]
    assert first.referenced == ("df-b.txt",)
    assert not other.received(b"df b")  # the sensitive content never went there
    assert PNG in other.files("bridge-evidence").values()  # their own evidence branch
    [link] = [x for x in hub(other).get(target).links if x.global_id.startswith("bridge-evidence:")]
    assert "Sensitive evidence df-b.txt" in link.title
    stored = hub(other).get(target).evidence
    assert [(r.source, r.scanned) for r in stored] == [
        ("capture:df -h", True),
        ("file:/tmp/shot.png", False),
    ]

    other.reset_counts()
    again = sync.copy_to(hub(fake), defect, hub(other), target, other_team=True)
    assert again.copied == () and sorted(again.already) == ["df-a.txt", "shot.png"]
    assert writes(other) == []  # the link naming df-b is already there: nothing is written
    assert other.requests[0] == ("GET", f"/api/v3/repos/plat/infra/issues/{n(target)}")


def test_copy_from_github_into_the_local_tracker_once(fake: FakeGitHub) -> None:
    defect, keys = with_sightings(hub(fake))
    local = LocalTracker(":memory:", project="PLAT")
    target = local.create(NewTicket(kind=Kind.REMEDIATION, title="Fix disks", team="plat")).key
    first = sync.copy_to(hub(fake), defect, local, target, other_team=True)
    assert first.referenced == ("df-b.txt",)
    held = {r.name: local.fetch_evidence(target, r) for r in local.get(target).evidence}
    assert held == {f"{slug(keys[0])}-df-a.txt": b"df a", f"{slug(keys[0])}-shot.png": PNG}
    fake.reset_counts()
    again = sync.copy_to(hub(fake), defect, local, target, other_team=True)
    assert again.copied == () and writes(fake) == []
    assert len(local.get(target).evidence) == 2


def test_copy_of_a_screenshot_over_one_megabyte(fake: FakeGitHub, other: FakeGitHub) -> None:
    """The contents API answers a file over 1 MB without its bytes; the copy reads the blob."""
    tracker = hub(fake)
    defect = tracker.create(new_defect(CONV, "Disk full")).key
    obs = tracker.create(new_observation(CONV, defect, "Disk full", "a")).key
    big = EvidenceFile("screen.png", PNG + os.urandom(1_500_000), "file:screen.png", WHEN)
    [ref] = tracker.attach(obs, [replace(big, scanned=False)])
    target = hub(other).create(NewTicket(kind=Kind.REMEDIATION, title="Fix")).key
    fake.reset_counts()
    [copied] = sync.copy_to(hub(fake), defect, hub(other), target, other_team=True).copied
    assert copied.sha256 == ref.sha256 and big.data in other.files("bridge-evidence").values()
    assert fake.count("GET", "/contents/") == 1 and fake.count("GET", "/git/blobs/") == 1
    assert fake.count("GET", "/comments") == 0  # a committed file is read from the branch


# -- through the CLI ---------------------------------------------------------------------------------


def configure(server: FakeGitHub, monkeypatch: pytest.MonkeyPatch, team: str = "") -> None:
    monkeypatch.setenv("BRIDGE_TRACKER__TOKEN", TOKEN)
    Path("bridge.toml").write_text(
        f'[tracker]\nkind = "github"\nurl = "{server.url}"\nrepository = "{server.full_name}"\n'
        + team
    )


def test_cli_observe_add_show_and_sync_on_github(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    fake: FakeGitHub,
    other: FakeGitHub,
) -> None:
    monkeypatch.setenv("PLAT_GITHUB_TOKEN", TOKEN)
    configure(
        fake,
        monkeypatch,
        f'\n[teams.platform]\ntracker = "github"\nurl = "{other.url}"\n'
        f'repository = "{other.full_name}"\ntoken_env = "PLAT_GITHUB_TOKEN"\n',
    )
    Path("creds.env").write_text(f"AWS_ACCESS_KEY_ID={AWS}\n")
    Path("shot.png").write_bytes(PNG)
    code, out, err = run(
        capsys,
        "observe",
        "Disk full",
        "-i",
        "h",
        "--evidence",
        "creds.env",
        "--evidence",
        "shot.png",
        "--capture",
        "cat creds.env",
        "--allow-unscanned",
        "--json",
    )
    assert code == 0, err
    seen = json.loads(out)
    obs, defect = seen["observation"], seen["defect"]
    assert [e["redactions"] for e in seen["evidence"]] == [{"aws-access-key": 1}] * 2 + [{}]
    assert not fake.received(AWS.encode())

    fake.reset_counts()
    code, out, _ = run(capsys, "evidence", "add", obs, "creds.env", "shot.png", "--allow-unscanned")
    assert code == 0 and out.count("Already on") == 2
    assert writes(fake) == [] and len(fake.requests) == 1

    Path("creds.env").write_text(f"AWS_ACCESS_KEY_ID={AWS}\nchanged\n")
    code, out, _ = run(capsys, "evidence", "add", obs, "creds.env", "--sensitive", "--json")
    [added] = json.loads(out)["added"]
    assert code == 0 and added["sensitive"] and added["redactions"] == {"aws-access-key": 1}

    code, out, _ = run(capsys, "show", obs, "--json")
    shown = [(e["name"], e["source"], e["size"]) for e in json.loads(out)["evidence"]]
    assert shown[0] == ("capture-1-cat.txt", "capture:cat creds.env", shown[0][2])
    assert shown[2] == ("shot.png", f"file:{Path('shot.png')}", len(PNG))
    kept = hub(fake).get(obs).evidence  # what show --json leaves out is kept too
    assert [(r.name, r.scanned, r.sensitive) for r in kept] == [
        ("capture-1-cat.txt", True, False),
        ("creds.env", True, False),
        ("shot.png", False, False),
        ("creds.env", True, True),
    ]
    assert all(r.captured_at is not None for r in kept)

    code, out, _ = run(capsys, "evidence", "sync", defect)
    assert code == 0 and "4 item(s)" in out
    fake.reset_counts()
    code, out, _ = run(capsys, "evidence", "sync", defect)
    assert code == 0 and writes(fake) == []

    code, out, err = run(capsys, "delegate", defect, "--to", "platform", "--json")
    assert code == 0, err
    target = json.loads(out)["ticket"]
    code, out, err = run(capsys, "evidence", "sync", defect, "--to", target, "--json")
    copied = json.loads(out)
    assert code == 0, err
    assert [c["name"] for c in copied["copied"]] == [
        f"{slug(obs)}-capture-1-cat.txt",
        f"{slug(obs)}-creds.env",
        f"{slug(obs)}-shot.png",
    ]
    assert copied["referenced_only"] == ["creds.env"]
    assert not other.received(AWS.encode()) and not other.received(b"changed")
    other.reset_counts()
    code, out, _ = run(capsys, "evidence", "sync", defect, "--to", target)
    assert code == 0 and "Copied 0 item(s)" in out
    assert writes(other) == []  # the link to the sensitive file is already there


def test_file_backed_evidence_is_committed_from_a_streamed_body(
    fake: FakeGitHub, tmp_path: Path
) -> None:
    import hashlib

    from tracker_bridge.domain.tickets import Blob

    tracker = hub(fake)
    defect = tracker.create(new_defect(CONV, "Disk full")).key
    data = os.urandom(2 * 1024 * 1024 + 1)  # not a multiple of the base64 chunk
    path = tmp_path / "core.bin"
    path.write_bytes(data)
    blob = Blob.of_file(path, size=len(data), sha256=hashlib.sha256(data).hexdigest())
    item = EvidenceFile("core.bin", None, "file:core.bin", WHEN, scanned=False, blob=blob)
    [ref] = flow.add(tracker, defect, [item]).stored
    assert "/blob/bridge-evidence/" in ref.url
    assert hub(fake).fetch_evidence(defect, ref) == data
    assert [p.name for p in tmp_path.iterdir()] == ["core.bin"]  # the JSON body is removed


def test_large_text_is_committed_with_its_head_shown_without_reading_it_whole(
    fake: FakeGitHub, tmp_path: Path
) -> None:
    import hashlib

    from tracker_bridge.domain.tickets import Blob

    tracker = hub(fake)
    defect = tracker.create(new_defect(CONV, "Disk full")).key
    data = b"".join(b"%08d disk usage 100%% on /var\n" % i for i in range(60_000))
    path = tmp_path / "huge.log"
    path.write_bytes(data)
    blob = Blob.of_file(path, size=len(data), sha256=hashlib.sha256(data).hexdigest())
    [ref] = flow.add(
        tracker, defect, [EvidenceFile("huge.log", None, "file:huge.log", WHEN, blob=blob)]
    ).stored
    assert "/blob/bridge-evidence/" in ref.url
    body = fake.issues[1].comments[-1]["body"]
    assert "**Clipped:** the first 8,000 characters of 1.9 MiB are shown" in body
    assert "00000000 disk usage" in body


@pytest.mark.parametrize(
    "extra",
    [["-a", "x" * 100_000], ["-a", "wiped", "--impact", "y" * 100_000]],
    ids=["long-action", "long-impact"],
)
def test_a_huge_action_or_impact_is_clipped_and_the_evidence_still_fits(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, extra: list[str]
) -> None:
    with FakeGitHub() as hub:
        monkeypatch.setenv("BRIDGE_TRACKER__TOKEN", TOKEN)
        Path("bridge.toml").write_text(
            f'[tracker]\nkind = "github"\nurl = "{hub.url}"\nrepository = "{hub.full_name}"\n'
        )
        Path("df.txt").write_text("Filesystem Size Used\n")
        code, out, err = run(capsys, "observe", "Disk full", "-i", "h", "-e", "df.txt", *extra)
        assert code == 0, err
        code, out, err = run(capsys, "list", "--kind", "all", "--json")
        assert code == 0 and len(json.loads(out)) == 2, out
