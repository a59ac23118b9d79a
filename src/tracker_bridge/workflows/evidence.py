"""Collecting evidence: files, directories and captured commands, scrubbed and size-checked.

The intake streams: ``intake.inspect`` decides what the paths are (regular files only) without
opening them, ``check_sources`` refuses sizes over the limits and unscannable content before any
``--capture`` runs, and ``stage`` reads each file in chunks through the redactor into a private
copy (``staging``) from which every tracker uploads. Memory stays flat whatever the file size.
"""

from __future__ import annotations

import contextlib
import io
import os
import selectors
import shlex
import shutil
import subprocess
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from tracker_bridge.domain import humanize
from tracker_bridge.domain.redaction import HEAD_BYTES, StreamRedactor, classify, redact_bytes
from tracker_bridge.domain.tickets import CHUNK_BYTES, Blob, EvidenceFile, EvidenceRef, utcnow
from tracker_bridge.errors import CaptureError, NotFoundError, UsageError
from tracker_bridge.trackers.base import Tracker
from tracker_bridge.workflows import intake
from tracker_bridge.workflows.intake import Limits, Source
from tracker_bridge.workflows.staging import Staging, Writer

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
    staging: Staging | None = None,
    limit: int | None = None,
) -> Capture:
    """Run a shell command and keep its output, exit status and timing as evidence.

    A command that fails is not an error: its exit status is part of the evidence. The command
    runs in its own process group; at ``timeout`` seconds, or on Ctrl-C, the whole group is
    stopped (TERM, then KILL), so nothing it started keeps running. Ctrl-C then raises
    ``CaptureInterrupted`` carrying the output so far. ``tick`` hears the seconds elapsed,
    about twice a second (for progress). With ``staging`` the output is streamed to a private
    file there (else it is kept in memory); past ``limit`` bytes the command is stopped and the
    evidence says where it was cut.
    """
    check_capture(command)
    started = utcnow()
    clock = time.monotonic()
    sink: Writer | io.BytesIO = staging.writer(".out") if staging is not None else io.BytesIO()
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
    try:
        status, cut = _collect(proc, sink, clock, timeout, limit, tick)
    except KeyboardInterrupt:
        _stop_group(proc)
        raise CaptureInterrupted(command, time.monotonic() - clock, _so_far(sink)) from None
    finally:
        if proc.stdout is not None:
            proc.stdout.close()
    seconds = time.monotonic() - clock
    if cut:
        outcome = f"stopped: output over {humanize.size(limit or 0)} ([evidence] max_file)"
    elif status is None:
        outcome = f"stopped after {timeout:g}s"
    else:
        outcome = f"exit status {status}"
    header = (
        f"$ {command}\n# captured {started.isoformat()} on {os.uname().nodename}, "
        f"{outcome}, {seconds:.2f}s\n"
    ).encode()
    slug = "".join(c if c.isalnum() else "-" for c in shlex.split(command)[0].split("/")[-1])
    name = f"capture-{index}-{slug[:40]}.txt"
    if isinstance(sink, io.BytesIO):
        item = EvidenceFile(name, header + sink.getvalue(), f"capture:{command}", started)
    else:
        assert staging is not None
        output = sink.close()
        whole = staging.writer(".txt")
        whole.write(header)
        for chunk in output.chunks():
            whole.write(chunk)
        sink.discard()
        item = EvidenceFile(name, None, f"capture:{command}", started, blob=whole.close())
    return Capture(command=command, exit_status=status, seconds=seconds, evidence=item)


def _collect(
    proc: subprocess.Popen[bytes],
    sink: Writer | io.BytesIO,
    clock: float,
    timeout: float,
    limit: int | None,
    tick: Callable[[float], None] | None,
) -> tuple[int | None, bool]:
    """Copy the command's output into ``sink`` as it comes; (exit status or None, cut).

    The status is None when the command was stopped (timeout, or output past ``limit``).
    """
    assert proc.stdout is not None
    fd = proc.stdout.fileno()
    written, cut, ticked = 0, False, clock
    with selectors.DefaultSelector() as selector:
        selector.register(fd, selectors.EVENT_READ)
        while True:
            now = time.monotonic()
            if now - clock >= timeout:
                break
            if tick is not None and now - ticked >= 0.5:
                tick(now - clock)
                ticked = now
            if not selector.select(min(0.5, timeout - (now - clock))):
                continue
            chunk = os.read(fd, CHUNK_BYTES)
            if not chunk:
                try:
                    return proc.wait(timeout=max(0.01, timeout - (time.monotonic() - clock))), False
                except subprocess.TimeoutExpired:
                    break
            if limit is not None and written + len(chunk) > limit:
                sink.write(chunk[: limit - written])
                cut = True
                break
            sink.write(chunk)
            written += len(chunk)
    rest = _stop_group(proc)
    if not cut:
        room = len(rest) if limit is None else max(0, limit - written)
        sink.write(rest[:room])
    return None, cut


def _so_far(sink: Writer | io.BytesIO) -> bytes:
    """The output a sink holds (for ``CaptureInterrupted``)."""
    if isinstance(sink, io.BytesIO):
        return sink.getvalue()
    sink.flush()
    data = sink.path.read_bytes()
    sink.discard()
    return data


def capture_all(
    commands: Sequence[str],
    timeout: float = CAPTURE_TIMEOUT,
    *,
    progress: Callable[[str, float], None] | None = None,
    staging: Staging | None = None,
    limit: int | None = None,
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
            done.append(capture(command, index, timeout, tick=tick, staging=staging, limit=limit))
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
    """Read evidence files into memory (small evidence, scripts); ``stage`` streams instead.

    The same rules as ``intake.inspect``: regular files only, symlinks only to regular files.
    """
    files = []
    for source in intake.inspect(paths):
        with intake.open_regular(source) as fh:
            data = fh.read()
        files.append(
            EvidenceFile(source.name, data, source.provenance, utcnow(), sensitive=sensitive)
        )
    return files


# --------------------------------------------------------------------------------------------
# Scanning: the one place that speaks to the redaction engine.


class Meter(Protocol):
    """Progress of long evidence work: ``meter(label, total)`` starts a task and returns the
    function told how many more bytes are done."""

    def __call__(self, label: str, total: int) -> Callable[[int], None]: ...


def quiet(label: str, total: int) -> Callable[[int], None]:
    """A meter that shows nothing (scripts, CI, ``--json``)."""
    del label, total
    return _ignore


def _ignore(_n: int) -> None:
    return None


def metered(files: Sequence[EvidenceFile], meter: Meter) -> list[EvidenceFile]:
    """``files`` whose reads (the upload, whichever tracker does it) advance ``meter``."""
    if meter is quiet:
        return list(files)
    return [
        replace(f, blob=replace(f.blob, on_read=meter(f"Uploading {f.name}", f.size)))
        for f in files
    ]


def _unscanned(name: str, reason: str) -> UsageError:
    return UsageError(
        f"evidence {name} cannot be scanned for secrets ({reason}); unscanned evidence is refused.",
        hint="Attach it uncompressed so it can be scanned, or allow it: --allow-unscanned for "
        'this call, or [evidence] unscanned = "allow". Nothing was created.',
    )


def check_sources(sources: Sequence[Source], limits: Limits, *, redact: bool = True) -> None:
    """Refuse, before anything runs, what ``stage`` would refuse: sizes, and content that cannot
    be scanned (judged on each file's head) unless ``limits`` allow it."""
    intake.check_sizes([(s.label, s.size) for s in sources], limits)
    if not redact or limits.allow_unscanned:
        return
    for source in sources:
        with intake.open_regular(source) as fh:
            found = classify(fh.read(HEAD_BYTES))
        if not found.scannable:
            raise _unscanned(source.label, found.reason)


def stage(
    sources: Sequence[Source],
    staging: Staging,
    *,
    limits: Limits,
    redact: bool = True,
    sensitive: bool = False,
    meter: Meter = quiet,
) -> list[EvidenceFile]:
    """Read ``sources`` in chunks, scrubbed (unless not ``redact``) into private files."""
    files = []
    for source in sources:
        with intake.open_regular(source) as fh:
            files.append(
                _stage(
                    fh,
                    EvidenceFile(
                        source.name, b"", source.provenance, utcnow(), sensitive=sensitive
                    ),
                    source.size,
                    staging,
                    limits=limits,
                    redact=redact,
                    meter=meter,
                )
            )
    return files


def scrub(
    files: Sequence[EvidenceFile],
    *,
    redact: bool = True,
    staging: Staging | None = None,
    limits: Limits | None = None,
    meter: Meter = quiet,
) -> list[EvidenceFile]:
    """Replace secrets by ``[REDACTED:kind]`` markers.

    With ``staging`` each file is streamed into a scrubbed private copy; without, it is scrubbed
    in memory. Content that cannot be scanned (compressed, encrypted) comes back with
    ``scanned=False``, or, when ``limits`` are given and do not allow it, is refused.
    """
    if staging is not None:
        chosen = limits or Limits(allow_unscanned=True)
        out = []
        for item in files:
            with item.open() as fh:
                out.append(
                    _stage(fh, item, item.size, staging, limits=chosen, redact=redact, meter=meter)
                )
        return out
    if not redact:
        return [replace(f, scanned=False) for f in files]
    scrubbed = []
    for item in files:
        result = redact_bytes(item.data)
        if not result.scanned and limits is not None and not limits.allow_unscanned:
            reason = result.classification.reason if result.classification else "unscannable"
            raise _unscanned(item.name, reason)
        scrubbed.append(
            replace(
                item,
                blob=Blob.of_bytes(result.data),
                redactions=result.counts,
                scanned=result.scanned,
            )
        )
    return scrubbed


def _stage(
    reader: BinaryIO,
    item: EvidenceFile,
    total: int,
    staging: Staging,
    *,
    limits: Limits,
    redact: bool,
    meter: Meter,
) -> EvidenceFile:
    """Copy ``reader`` into a private file, scrubbed on the way, hashing what is written."""
    writer = staging.writer()
    advance = meter(f"{'Scanning' if redact else 'Copying'} {item.name}", total)
    stream = StreamRedactor() if redact else None
    read = 0
    try:
        while chunk := reader.read(CHUNK_BYTES):
            read += len(chunk)
            if read > limits.max_file:  # it grew past the limit while being read
                intake.check_sizes([(item.name, read)], limits)
            if stream is None:
                writer.write(chunk)
            else:
                writer.write(stream.feed(chunk))
                _refuse_unscanned(stream, item.name, limits)
            advance(len(chunk))
        if stream is not None:
            writer.write(stream.finish())
            _refuse_unscanned(stream, item.name, limits)
    except BaseException:
        writer.discard()
        raise
    blob = writer.close()
    if stream is None:
        return replace(item, blob=blob, scanned=False)
    scan = stream.result()
    return replace(item, blob=blob, redactions=scan.counts, scanned=scan.scanned)


def _refuse_unscanned(stream: StreamRedactor, name: str, limits: Limits) -> None:
    found = stream.classification
    if found is not None and not found.scannable and not limits.allow_unscanned:
        raise _unscanned(name, found.reason)


def fit(files: Sequence[EvidenceFile], limit: int | None) -> list[EvidenceFile]:
    """Compress files over the tracker's upload limit when that brings them under it.

    A file-backed file is compressed in chunks into a file beside it (its private staging
    directory). Raises ``UsageError`` naming the file and the limit when even compressed it is
    too large.
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
        if item.size <= limit:
            out.append(item)
            continue
        packed = item.gzipped()
        if packed.size > limit:
            raise UsageError(
                f"evidence {item.name} is {humanize.size(item.size)}, over the tracker's upload "
                f"limit of {humanize.size(limit)} even compressed ({humanize.size(packed.size)}).",
                hint="Attach an excerpt instead; nothing was created.",
            )
        out.append(packed)
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
