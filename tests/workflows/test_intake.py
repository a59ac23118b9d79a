"""Evidence intake (issue 14): regular files only, symlinks named, limits and the unscanned
policy checked before anything runs or is created, streamed into private scrubbed copies."""

from __future__ import annotations

import gzip
import json
import os
import re
import socket
import sqlite3
import stat
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from support.cli import run
from tracker_bridge.domain.redaction import redact_bytes
from tracker_bridge.domain.tickets import Blob, EvidenceFile
from tracker_bridge.errors import UsageError
from tracker_bridge.workflows import evidence as flow
from tracker_bridge.workflows import intake
from tracker_bridge.workflows.intake import Limits
from tracker_bridge.workflows.staging import Staging

AWS = "AKIA" + "Q3EGRZ7TXHD4MN2B"
SECRET_LINE = f"AWS_ACCESS_KEY_ID={AWS}\n"


def observe(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    return run(capsys, "observe", "Disk full", "-i", "db-1", *args)


def nothing_created() -> bool:
    """No ticket in the embedded tracker (the database may not even exist)."""
    db = Path(".bridge/bridge.db")
    if not db.exists():
        return True
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT COUNT(*) FROM tickets").fetchone()[0] == 0


@pytest.fixture
def fifo(tmp_path: Path) -> Path:
    path = tmp_path / "pipe"
    os.mkfifo(path)
    return path


@pytest.fixture
def sock(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "s.sock"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    yield path
    server.close()


# -- what paths are ---------------------------------------------------------------------------


def test_regular_files_and_directories_are_sources(tmp_path: Path) -> None:
    (tmp_path / "logs" / "sub").mkdir(parents=True)
    (tmp_path / "logs" / "b.log").write_text("bb")
    (tmp_path / "logs" / "sub" / "a.log").write_text("a")
    (tmp_path / "one.txt").write_text("1")
    found = intake.inspect([tmp_path / "one.txt", tmp_path / "logs"])
    assert [(s.name, s.size, s.target) for s in found] == [
        ("one.txt", 1, None),
        ("logs/b.log", 2, None),
        ("logs/sub/a.log", 1, None),
    ]


@pytest.mark.parametrize(
    ("make", "what"),
    [
        ("fifo", "is a FIFO (named pipe)"),
        ("sock", "is a socket"),
        ("chardev", "is a character device"),
    ],
)
def test_special_files_are_refused_on_the_command_line_and_in_directories(
    make: str, what: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    path = Path("/dev/null") if make == "chardev" else request.getfixturevalue(make)
    with pytest.raises(UsageError, match=re.escape(f"evidence {path} {what}; only regular files")):
        intake.inspect([path])
    folder = tmp_path / "dir"
    folder.mkdir()
    (folder / "ok.log").write_text("fine")
    (folder / "special").symlink_to(path)
    with pytest.raises(
        UsageError, match=re.escape(f"special is a symlink to {path}, which {what}")
    ):
        intake.inspect([folder])


def test_a_fifo_in_a_directory_is_refused_without_opening_it(tmp_path: Path) -> None:
    folder = tmp_path / "dir"
    folder.mkdir()
    os.mkfifo(folder / "pipe")
    with pytest.raises(UsageError, match="pipe is a FIFO"):
        intake.inspect([folder])


def test_symlinks_are_followed_to_regular_files_only_and_named(tmp_path: Path) -> None:
    target = tmp_path / "var" / "df.txt"
    target.parent.mkdir()
    target.write_text("Filesystem Size\n")
    (tmp_path / "df.txt").symlink_to(target)
    folder = tmp_path / "dir"
    folder.mkdir()
    (folder / "df.txt").symlink_to(target)
    (folder / "elsewhere").symlink_to(tmp_path / "var", target_is_directory=True)
    (tmp_path / "dangling").symlink_to(tmp_path / "gone")
    [direct] = intake.inspect([tmp_path / "df.txt"])
    assert direct.label == f"df.txt -> {target}" and direct.size == 16
    assert direct.provenance == f"file:{tmp_path / 'df.txt'} -> {target}"
    # the same rule inside a directory: a link to a file is followed, one to a directory is not
    with pytest.raises(UsageError, match=r"elsewhere is a symlink to .*var, which is a directory"):
        intake.inspect([folder])
    (folder / "elsewhere").unlink()
    [inside] = intake.inspect([folder])
    assert inside.label == f"dir/df.txt -> {target}"
    with pytest.raises(UsageError, match=r"dangling is a symlink to .*gone, which does not exist"):
        intake.inspect([tmp_path / "dangling"])


def test_open_regular_refuses_a_file_swapped_for_a_fifo(tmp_path: Path) -> None:
    path = tmp_path / "app.log"
    path.write_text("x")
    [source] = intake.inspect([path])
    path.unlink()
    os.mkfifo(path)
    done = threading.Event()

    def attempt() -> None:
        with pytest.raises(UsageError, match="is now a FIFO"):
            intake.open_regular(source)
        done.set()

    worker = threading.Thread(target=attempt, daemon=True)
    worker.start()
    worker.join(timeout=5)
    assert done.is_set(), "opening the FIFO blocked"


# -- limits -----------------------------------------------------------------------------------


def test_limits_name_the_file_the_limit_and_the_key() -> None:
    limits = Limits(max_file=1000, max_observation=1500)
    intake.check_sizes([("a.log", 1000), ("b.log", 500)], limits)
    with pytest.raises(UsageError) as err:
        intake.check_sizes([("a.log", 1001)], limits)
    assert "a.log is 1001 B, over the limit of 1000 B per file ([evidence] max_file)" in str(
        err.value
    )
    assert "BRIDGE_EVIDENCE__MAX_FILE" in str(err.value)
    with pytest.raises(UsageError, match=r"totals 1.5 KiB in 2 file\(s\), over the limit of "):
        intake.check_sizes([("a.log", 1000), ("b.log", 501)], limits)


def test_a_file_that_grows_past_the_limit_while_read_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "app.log"
    path.write_bytes(b"x" * 10)
    [source] = intake.inspect([path])
    path.write_bytes(b"x" * 3000)  # grew after it was inspected
    with Staging(tmp_path / "stage") as staging, pytest.raises(UsageError, match="max_file"):
        flow.stage([source], staging, limits=Limits(max_file=2000))


# -- streaming --------------------------------------------------------------------------------


def _log(lines: int) -> bytes:
    body = b"".join(
        b"2026-11-30T01:%02d:%02d INFO request served in %d ms\n" % (i % 60, i % 60, i)
        for i in range(lines)
    )
    return body + SECRET_LINE.encode() + b"-----BEGIN RSA PRIVATE KEY-----\nMIIE\n"


def test_staged_copy_equals_the_whole_file_redacted_and_is_private(tmp_path: Path) -> None:
    data = _log(120_000)  # ~5 MB: several chunks
    path = tmp_path / "app.log"
    path.write_bytes(data)
    whole = redact_bytes(data)
    with Staging(tmp_path / "stage") as staging:
        [staged] = flow.stage(intake.inspect([path]), staging, limits=Limits(), sensitive=True)
        assert staged.path is not None and staged.path.parent.parent == tmp_path / "stage"
        assert stat.S_IMODE(staged.path.stat().st_mode) == 0o600
        assert stat.S_IMODE(staged.path.parent.stat().st_mode) == 0o700
        assert staged.data == whole.data and staged.redactions == whole.counts
        assert staged.size == len(whole.data) and staged.sensitive and staged.scanned
        assert b"".join(staged.chunks(4096)) == whole.data
        kept = staged.path
    assert not kept.exists(), "the staging directory is removed at the end"


def test_unscannable_content_is_refused_unless_allowed(tmp_path: Path) -> None:
    packed = tmp_path / "app.log.gz"
    packed.write_bytes(gzip.compress(SECRET_LINE.encode() * 100))
    sources = intake.inspect([packed])
    with pytest.raises(UsageError) as err:
        flow.check_sources(sources, Limits())
    assert "app.log.gz cannot be scanned for secrets (gzip-compressed)" in str(err.value)
    assert "--allow-unscanned" in str(err.value) and 'unscanned = "allow"' in str(err.value)
    flow.check_sources(sources, Limits(allow_unscanned=True))
    flow.check_sources(sources, Limits(), redact=False)
    with Staging(tmp_path / "stage") as staging:
        [kept] = flow.stage(sources, staging, limits=Limits(allow_unscanned=True))
        assert kept.scanned is False and kept.data == packed.read_bytes()


def test_binary_content_is_scanned_for_its_text_runs(tmp_path: Path) -> None:
    core = tmp_path / "core"
    core.write_bytes(b"\x7fELF\x00\x00" + os.urandom(64) + b"\x00password=hunter2hunter2\x00")
    with Staging(tmp_path / "stage") as staging:
        [item] = flow.stage(intake.inspect([core]), staging, limits=Limits())
        assert item.scanned and b"hunter2hunter2" not in item.data
        assert item.size == core.stat().st_size  # overwritten in place, same length


def test_fit_compresses_file_backed_evidence_in_chunks_beside_it(tmp_path: Path) -> None:
    with Staging(tmp_path / "stage") as staging:
        writer = staging.writer()
        for _ in range(8):
            writer.write(b"0" * 1_000_000)
        item = EvidenceFile("zeros.bin", None, "file:zeros.bin", blob=writer.close())
        [packed] = flow.fit([item], 100_000)
        assert packed.name == "zeros.bin.gz" and packed.size < 100_000
        assert packed.path is not None and packed.path.parent == staging.dir
        assert gzip.decompress(packed.data) == b"0" * 8_000_000


def test_evidence_file_keeps_data_for_callers_and_streams_when_file_backed(
    tmp_path: Path,
) -> None:
    inline = EvidenceFile("a.txt", b"hello", "file:a.txt")
    path = tmp_path / "a.txt"
    path.write_bytes(b"hello")
    backed = EvidenceFile(
        "a.txt", None, "file:a.txt", blob=Blob.of_file(path, size=5, sha256=inline.sha256)
    )
    assert backed.data == inline.data == b"hello" and backed.size == inline.size == 5
    assert backed.ref() == inline.ref()
    seen: list[int] = []
    counted = EvidenceFile("a.txt", None, blob=Blob.of_file(path, size=5, sha256="x")).blob
    with counted.__class__(5, "x", path, on_read=seen.append).open() as fh:
        assert fh.read() == b"hello"
    assert seen == [5]
    with pytest.raises(TypeError):
        EvidenceFile("a.txt")


def test_capture_output_is_streamed_and_cut_at_the_limit(tmp_path: Path) -> None:
    with Staging(tmp_path / "stage") as staging:
        done = flow.capture("head -c 5000 /dev/zero", staging=staging, limit=1000)
        assert done.exit_status is None
        data = done.evidence.data
        assert b"stopped: output over 1000 B ([evidence] max_file)" in data
        assert data.endswith(bytes(1000))
        ok = flow.capture("echo hi; exit 3", staging=staging, limit=1000)
        assert ok.exit_status == 3 and ok.evidence.data.endswith(b"hi\n")
        assert ok.evidence.path is not None


# -- through the CLI: exit 2 before any capture runs and before anything is made ----------------


@pytest.mark.parametrize("special", ["fifo", "sock", "/dev/zero", "/dev/null"])
def test_cli_refuses_special_files_at_once(
    special: str, request: pytest.FixtureRequest, capsys: pytest.CaptureFixture[str]
) -> None:
    path = special if special.startswith("/") else str(request.getfixturevalue(special))
    code, _, err = observe(capsys, "--evidence", path, "--capture", "touch ran")
    assert code == 2 and path in err and "only regular files" in err
    assert not Path("ran").exists() and nothing_created()


def test_cli_names_symlink_targets(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    target = tmp_path / "var" / "df.txt"
    target.parent.mkdir()
    target.write_text("Filesystem Size\n")
    Path("df.txt").symlink_to(target)
    code, out, err = observe(capsys, "--evidence", "df.txt")
    assert code == 0, err
    assert f"evidence: df.txt -> {target} (" in out
    code, out, _ = observe(capsys, "--evidence", "df.txt", "--json")
    [item] = json.loads(out)["evidence"]
    assert item["source"] == f"file:df.txt -> {target}"
    Path("shadow").symlink_to("/dev/zero")
    code, _, err = observe(capsys, "--evidence", "shadow")
    assert code == 2 and "shadow is a symlink to /dev/zero, which is a character device" in err


def test_cli_size_limits_before_anything_runs(capsys: pytest.CaptureFixture[str]) -> None:
    Path("bridge.toml").write_text('[evidence]\nmax_file = "1KB"\nmax_observation = "1.5KB"\n')
    Path("a.log").write_bytes(b"a" * 1001)
    code, _, err = observe(capsys, "--evidence", "a.log", "--capture", "touch ran")
    assert code == 2 and "a.log is 1001 B, over the limit of 1000 B per file" in err
    assert "[evidence] max_file" in err and not Path("ran").exists() and nothing_created()
    Path("a.log").write_bytes(b"a" * 900)
    Path("b.log").write_bytes(b"b" * 900)
    code, _, err = observe(capsys, "--evidence", "a.log", "--evidence", "b.log")
    assert code == 2 and "[evidence] max_observation" in err and nothing_created()
    # captures count towards the observation too, checked before the tracker is touched
    code, _, err = observe(capsys, "--evidence", "a.log", "--capture", "head -c 800 /dev/zero")
    assert code == 2 and "max_observation" in err and nothing_created()
    code, _, err = observe(capsys, "--evidence", "a.log")
    assert code == 0, err


def test_cli_default_limits_apply_to_the_embedded_tracker(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with open("big.log", "wb") as fh:
        fh.truncate(100_000_001)  # sparse: the size is refused from stat, nothing is read
    code, _, err = observe(capsys, "--evidence", "big.log")
    assert code == 2 and "over the limit of 95.4 MiB per file" in err and nothing_created()
    monkeypatch.setenv("BRIDGE_EVIDENCE__MAX_FILE", "200MB")
    code, _, err = observe(capsys, "--evidence", "big.log", "--dry-run", "--allow-unscanned")
    assert code == 0, err


def test_cli_unscanned_policy(capsys: pytest.CaptureFixture[str]) -> None:
    Path("app.log.gz").write_bytes(gzip.compress(SECRET_LINE.encode()))
    code, _, err = observe(capsys, "--evidence", "app.log.gz", "--capture", "touch ran")
    assert code == 2 and "cannot be scanned" in err
    assert not Path("ran").exists() and nothing_created()
    code, out, err = observe(capsys, "--evidence", "app.log.gz", "--allow-unscanned", "--json")
    assert code == 0, err
    seen = json.loads(out)
    assert [e["scanned"] for e in seen["evidence"]] == [False]
    code, out, _ = run(capsys, "check", "--rule", "unscanned-evidence")
    assert code == 0 and "app.log.gz" in out and "unscanned-evidence" in out
    code, _, err = run(capsys, "evidence", "add", seen["observation"], "app.log.gz")
    assert code == 2 and "cannot be scanned" in err
    Path("bridge.toml").write_text('[evidence]\nunscanned = "allow"\n')
    code, _, err = run(capsys, "evidence", "add", seen["observation"], "app.log.gz")
    assert code == 0, err


def test_cli_no_redact_is_flagged_by_check(capsys: pytest.CaptureFixture[str]) -> None:
    Path("env.txt").write_text(SECRET_LINE)
    code, _, err = observe(capsys, "--evidence", "env.txt", "--no-redact")
    assert code == 0, err
    code, out, _ = run(capsys, "check", "--rule", "unscanned-evidence", "--format", "json")
    assert "env.txt" in out


def test_cli_leaves_no_staged_files(capsys: pytest.CaptureFixture[str]) -> None:
    Path("env.txt").write_text(SECRET_LINE * 1000)
    code, _, err = observe(capsys, "--evidence", "env.txt", "--capture", "cat env.txt")
    assert code == 0, err
    assert list(Path(".bridge/tmp").iterdir()) == []


def test_cli_stdin_evidence_is_bounded_by_max_file(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    Path("bridge.toml").write_text('[evidence]\nmax_file = "1KB"\n')
    code, _, err = run(
        capsys,
        "observe",
        "Disk full",
        "-i",
        "db-1",
        "--evidence",
        "-",
        stdin="x" * 1001,
        monkeypatch=monkeypatch,
    )
    assert code == 2 and "more than 1000 B, the limit per file ([evidence] max_file)" in err
    assert nothing_created()
    code, out, err = run(
        capsys,
        "observe",
        "Disk full",
        "-i",
        "db-1",
        "--evidence",
        "-",
        "--json",
        stdin=SECRET_LINE,
        monkeypatch=monkeypatch,
    )
    assert code == 0, err
    assert json.loads(out)["evidence"][0]["redactions"] == {"aws-access-key": 1}


# -- progress ---------------------------------------------------------------------------------


def test_scanning_and_uploading_report_progress_in_bytes() -> None:
    from tracker_bridge import Bridge

    Path("big.log").write_bytes(_log(50_000))
    size = Path("big.log").stat().st_size
    seen: dict[str, list[int]] = {}

    def meter(label: str, total: int) -> Callable[[int], None]:
        seen[label] = [total]
        return seen[label].append

    with Bridge.from_config() as bridge:
        bridge.observe("Disk full", instance="db-1", evidence=["big.log"], meter=meter)
    scanned, uploaded = seen["Scanning big.log"], seen["Uploading big.log"]
    assert scanned[0] == size and sum(scanned[1:]) == size
    assert sum(uploaded[1:]) == uploaded[0] > 0  # the upload read the whole scrubbed copy


def test_progress_is_quiet_in_ci_in_pipes_and_with_json(monkeypatch: pytest.MonkeyPatch) -> None:
    from tracker_bridge.cli import render

    with render.intake_progress(10, enabled=False) as (_tick, meter):
        assert meter is flow.quiet
    monkeypatch.setattr("sys.stderr.isatty", lambda: True, raising=False)
    monkeypatch.setenv("CI", "1")
    with render.intake_progress(10, enabled=True) as (_tick, meter):
        assert meter is flow.quiet
    monkeypatch.delenv("CI")
    with render.intake_progress(10, enabled=True) as (tick, meter):
        assert meter is not flow.quiet
        tick("df -h", 1.0)
        assert meter("small.log", 100) is not None  # small files: no bar, nothing to see
        advance = meter("big.log", 20 * 1024 * 1024)
        advance(10 * 1024 * 1024)


def test_a_kept_observation_keeps_its_staged_evidence(tmp_path: Path) -> None:
    from tracker_bridge.domain.conventions import Conventions
    from tracker_bridge.errors import DeliveryDeferred, TrackerUnavailable
    from tracker_bridge.journal.sqlite import SqliteJournal
    from tracker_bridge.trackers.local import LocalTracker
    from tracker_bridge.workflows import observe

    class Down(LocalTracker):
        def defects(self) -> Iterator[Any]:
            raise TrackerUnavailable("the tracker is down")

    path = tmp_path / "app.log"
    path.write_bytes(_log(1000))
    journal = SqliteJournal(tmp_path / ".bridge" / "journal.db")
    with Staging(tmp_path / "stage") as staging:
        [item] = flow.stage(intake.inspect([path]), staging, limits=Limits())
        request = observe.Request(
            message="Disk full", instance="db-1", event_id="alert-9", evidence=(item,)
        )
        with pytest.raises(DeliveryDeferred, match="kept in the journal"):
            observe.run(Down(":memory:"), Conventions(), request, journal=journal)
    # the staging directory is gone; the journal streamed its own private copy
    [kept] = journal.entries()
    again = journal.evidence_file(kept, kept.evidence[0])
    assert again.path is not None and again.data == redact_bytes(path.read_bytes()).data
    up = LocalTracker(":memory:")
    result = observe.resume(up, Conventions(), journal, kept.id)
    assert [r.sha256 for r in result.evidence] == [item.sha256]
    assert not again.path.exists() and journal.depth() == 0
    journal.close()
