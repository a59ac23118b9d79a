"""Collecting evidence: files, directories and captured commands, scrubbed and size-checked."""

from __future__ import annotations

import contextlib
import gzip
import os
import shlex
import shutil
import subprocess
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from tracker_bridge.domain import humanize
from tracker_bridge.domain.redaction import redact_bytes
from tracker_bridge.domain.tickets import EvidenceFile, EvidenceRef, utcnow
from tracker_bridge.errors import CaptureError, NotFoundError, UsageError
from tracker_bridge.trackers.base import Tracker

CAPTURE_TIMEOUT = 120.0
_SHELL_BUILTINS = {"cd", "echo", "printf", "test", "[", "true", "false", "set", "exit", "read", ":"}


@dataclass(frozen=True, slots=True)
class Capture:
    """The outcome of one ``--capture`` command: its output is the evidence, whatever it exits."""

    command: str
    exit_status: int | None
    """None when the command was stopped after the timeout."""
    seconds: float
    evidence: EvidenceFile


def check_capture(command: str) -> None:
    """Refuse a command that cannot start, before anything runs (exit 2, nothing created)."""
    try:
        words = shlex.split(command)
    except ValueError as exc:
        raise UsageError(f"--capture {command!r} is not a valid shell command: {exc}.") from None
    if not words:
        raise UsageError("--capture needs a command, e.g. --capture 'ls -lah /tmp'.")
    first = words[0]
    if first in _SHELL_BUILTINS or "=" in first:
        return
    if os.sep in first:
        if not (os.path.isfile(first) and os.access(first, os.X_OK)):
            raise CaptureError(f"--capture {command!r}: {first} is not an executable file.")
        return
    if shutil.which(first) is None:
        raise CaptureError(
            f"--capture {command!r}: command {first!r} not found.",
            hint="Check the spelling or give its full path.",
        )


def capture(
    command: str,
    index: int = 1,
    timeout: float = CAPTURE_TIMEOUT,
    *,
    tick: Callable[[float], None] | None = None,
) -> Capture:
    """Run a shell command and keep its output, exit status and timing as evidence.

    A command that fails is not an error: its exit status is part of the evidence. The command
    runs in its own process group; at ``timeout`` seconds, or on Ctrl-C, the whole group is
    stopped (TERM, then KILL), so nothing it started keeps running. Ctrl-C then raises
    ``CaptureInterrupted`` carrying the output so far. ``tick`` hears the seconds elapsed,
    about twice a second (for progress).
    """
    check_capture(command)
    started = utcnow()
    clock = time.monotonic()
    try:
        proc = subprocess.Popen(
            command,
            shell=True,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    except OSError as exc:
        raise CaptureError(f"--capture {command!r} could not start: {exc.strerror}.") from None
    status: int | None = None
    try:
        while True:
            elapsed = time.monotonic() - clock
            try:
                output, _ = proc.communicate(timeout=max(0.01, min(0.5, timeout - elapsed)))
                status = proc.returncode
                break
            except subprocess.TimeoutExpired:
                if time.monotonic() - clock >= timeout:
                    output = _stop_group(proc)
                    break
                if tick is not None:
                    tick(time.monotonic() - clock)
    except KeyboardInterrupt:
        partial = _stop_group(proc)
        raise CaptureInterrupted(command, time.monotonic() - clock, partial) from None
    seconds = time.monotonic() - clock
    outcome = f"exit status {status}" if status is not None else f"stopped after {timeout:g}s"
    header = (
        f"$ {command}\n# captured {started.isoformat()} on {os.uname().nodename}, "
        f"{outcome}, {seconds:.2f}s\n"
    ).encode()
    slug = "".join(c if c.isalnum() else "-" for c in shlex.split(command)[0].split("/")[-1])
    item = EvidenceFile(
        name=f"capture-{index}-{slug[:40]}.txt",
        data=header + (output or b""),
        source=f"capture:{command}",
        captured_at=started,
    )
    return Capture(command=command, exit_status=status, seconds=seconds, evidence=item)


def capture_all(
    commands: Sequence[str],
    timeout: float = CAPTURE_TIMEOUT,
    *,
    progress: Callable[[str, float], None] | None = None,
) -> list[Capture]:
    """Run each command in turn (see ``capture``); ``progress`` hears (command, seconds).

    Ctrl-C raises ``CaptureInterrupted`` naming the captures that had finished.
    """
    done: list[Capture] = []
    for index, command in enumerate(commands, start=1):

        def tick(seconds: float, command: str = command) -> None:
            if progress is not None:
                progress(command, seconds)

        try:
            done.append(capture(command, index, timeout, tick=tick))
        except CaptureInterrupted as exc:
            raise CaptureInterrupted(
                exc.command, exc.seconds, exc.output, finished=tuple(c.command for c in done)
            ) from None
    return done


class CaptureInterrupted(KeyboardInterrupt):
    """Ctrl-C during a ``--capture`` command; its process group has been stopped."""

    def __init__(
        self, command: str, seconds: float, output: bytes, *, finished: tuple[str, ...] = ()
    ) -> None:
        super().__init__(command)
        self.command = command
        self.seconds = seconds
        self.output = output
        self.finished = finished
        """Commands that had finished before this one was interrupted."""


def _stop_group(proc: subprocess.Popen[bytes]) -> bytes:
    """Stop the command's whole process group (TERM, then KILL after 2 s); its output so far."""
    import signal

    for sig, grace in ((signal.SIGTERM, 2.0), (signal.SIGKILL, 5.0)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        try:
            output, _ = proc.communicate(timeout=grace)
            return output or b""
        except subprocess.TimeoutExpired:
            continue
    return b""


def piped(data: bytes, *, sensitive: bool = False) -> EvidenceFile:
    """Evidence read from a pipe (``--evidence -``), named ``stdin.txt``."""
    if not data:
        raise UsageError("--evidence - reads stdin, but stdin was empty.")
    return EvidenceFile(
        name="stdin.txt", data=data, source="stdin", captured_at=utcnow(), sensitive=sensitive
    )


def read_paths(paths: Iterable[Path | str], *, sensitive: bool = False) -> list[EvidenceFile]:
    """Read evidence files; a directory contributes every file below it (sorted, no symlinks)."""
    files: list[EvidenceFile] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            members = sorted(p for p in path.rglob("*") if p.is_file() and not p.is_symlink())
            if not members:
                raise UsageError(f"evidence directory {path} holds no files.")
            for member in members:
                name = f"{path.name}/{member.relative_to(path).as_posix()}"
                files.append(_read(member, name, sensitive))
        elif path.exists():
            files.append(_read(path, path.name, sensitive))
        else:
            raise UsageError(
                f"evidence file {path} does not exist.",
                hint="Check the path; nothing was created.",
            )
    return files


def _read(path: Path, name: str, sensitive: bool) -> EvidenceFile:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read evidence file {path}: {exc.strerror}.") from None
    return EvidenceFile(
        name=name,
        data=data,
        source=f"file:{path}",
        captured_at=utcnow(),
        sensitive=sensitive,
    )


def scrub(files: Sequence[EvidenceFile], *, redact: bool = True) -> list[EvidenceFile]:
    """Replace secrets in text evidence by ``[REDACTED:kind]`` markers; binaries are unscanned."""
    if not redact:
        return [replace(f, scanned=False) for f in files]
    out = []
    for item in files:
        result = redact_bytes(item.data)
        out.append(
            replace(item, data=result.data, redactions=result.counts, scanned=result.scanned)
        )
    return out


def fit(files: Sequence[EvidenceFile], limit: int | None) -> list[EvidenceFile]:
    """Compress files over the tracker's upload limit when that brings them under it.

    Raises ``UsageError`` naming the file and the limit when even compressed it is too large.
    """
    if limit is None:
        return list(files)
    if limit == 0 and files:
        raise UsageError(
            "this tracker does not accept attachments (its upload limit is 0).",
            hint="Ask its administrators to enable attachments; nothing was created.",
        )
    out = []
    for item in files:
        if len(item.data) <= limit:
            out.append(item)
            continue
        packed = gzip.compress(item.data, mtime=0)
        if len(packed) > limit:
            raise UsageError(
                f"evidence {item.name} is {humanize.size(len(item.data))}, over the tracker's upload "
                f"limit of {humanize.size(limit)} even compressed ({humanize.size(len(packed))}).",
                hint="Attach an excerpt instead; nothing was created.",
            )
        out.append(replace(item, name=item.name + ".gz", data=packed))
    return out


@dataclass(frozen=True, slots=True)
class Added:
    """The outcome of ``bridge evidence add``: what was stored and what was already there."""

    key: str
    stored: tuple[EvidenceRef, ...]
    already: tuple[EvidenceRef, ...]
    dry_run: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "added": [ref_json(r) for r in self.stored],
            "already_there": [ref_json(r) for r in self.already],
            "dry_run": self.dry_run,
        }


def add(
    tracker: Tracker, key: str, files: Sequence[EvidenceFile], *, dry_run: bool = False
) -> Added:
    """Attach scrubbed files to a ticket; content it already holds is not uploaded again.

    With ``dry_run`` nothing is uploaded: ``stored`` lists what would be.
    """
    ticket = tracker.get(key)
    held = {ref.sha256 for ref in ticket.evidence}
    fitted = fit(files, tracker.capabilities().upload_limit)
    fresh = [f for f in fitted if f.sha256 not in held]
    stored = [f.ref() for f in fresh] if dry_run or not fresh else tracker.attach(key, fresh)
    already = [ref for ref in ticket.evidence if ref.sha256 in {f.sha256 for f in fitted}]
    return Added(key=key, stored=tuple(stored), already=tuple(already), dry_run=dry_run)


def ref_json(ref: EvidenceRef) -> dict[str, Any]:
    """The JSON shape of one evidence record: provenance, size, hash, redaction."""
    return {
        "name": ref.name,
        "sha256": ref.sha256,
        "size": ref.size,
        "source": ref.source,
        "captured_at": ref.captured_at.isoformat() if ref.captured_at else None,
        "redactions": dict(ref.redactions),
        "scanned": ref.scanned,
        "sensitive": ref.sensitive,
        "url": ref.url,
    }


def cat(tracker: Tracker, key: str, name: str) -> tuple[EvidenceRef, bytes]:
    """The stored bytes of evidence ``name`` on ticket ``key`` (as stored: scrubbed).

    ``name`` is the evidence's name, or the start of its SHA-256 (at least 8 characters) when
    names repeat. ``NotFoundError`` lists the names the ticket holds.
    """
    ticket = tracker.get(key)
    refs = [r for r in ticket.evidence if r.name == name]
    if not refs and len(name) >= 8:
        refs = [r for r in ticket.evidence if r.sha256.startswith(name.lower())]
    if not refs:
        held = ", ".join(r.name for r in ticket.evidence) or "none"
        raise NotFoundError(
            f"{key} holds no evidence named {name!r} (it holds: {held}).",
            hint=f"`bridge show {key}` lists each observation's evidence.",
        )
    if len(refs) > 1:
        shas = ", ".join(r.sha256[:12] for r in refs)
        raise UsageError(
            f"{key} holds {len(refs)} items named {name!r} ({shas}).",
            hint="Name one by the start of its SHA-256 instead.",
        )
    return refs[0], tracker.fetch_evidence(key, refs[0])


def terminal_safe(data: bytes) -> bytes:
    """Text with control and format characters (escape sequences, bidi overrides) shown as
    ``\\xNN``, keeping line breaks and tabs: what a terminal can print without obeying it."""
    text = data.decode("utf-8", "replace")
    return "".join(
        ch if ch in "\n\t" or ch.isprintable() or ch == " " else f"\\x{ord(ch):02x}" for ch in text
    ).encode("utf-8")
