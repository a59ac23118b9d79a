"""What evidence paths name, decided before anything is read, run or created.

One rule for a path given on the command line and for a file found inside a directory:

* a regular file is evidence;
* a symlink is followed only when it ends at a regular file, and the evidence says where it led
  (``df.txt -> /var/tmp/df.txt``), so a link to ``/etc/shadow`` never travels unnoticed;
* a directory (given, not reached through a symlink) contributes every entry below it, sorted,
  each under this same rule;
* anything else (character or block device, FIFO, socket, a dangling symlink, a symlink to a
  directory or device) is refused with exit 2, naming the path and what it is.

Everything here works on ``lstat``/``stat`` results: no path is opened, so a FIFO cannot block
and ``/dev/zero`` cannot be read. ``open_regular`` opens a source non-blocking and checks that it
is still the regular file that was inspected (a path swapped for a FIFO in between is refused).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from tracker_bridge.domain import humanize
from tracker_bridge.errors import UsageError

_NOTHING_MADE = "Nothing was run or created."


@dataclass(frozen=True, slots=True)
class Limits:
    """Evidence limits and policy from ``[evidence]`` (and ``--allow-unscanned``)."""

    max_file: int = 100_000_000
    max_observation: int = 250_000_000
    allow_unscanned: bool = False


@dataclass(frozen=True, slots=True)
class Source:
    """One regular file to read as evidence, as inspected."""

    path: Path
    """The path as given or found (the link itself when it is a symlink)."""
    name: str
    """The evidence name: the file name, or ``dir/relative/path`` for a file in a directory."""
    size: int
    target: Path | None = None
    """Where a symlink led (resolved), None for a plain file."""
    device: int = 0
    inode: int = 0

    @property
    def label(self) -> str:
        """How output names it: ``df.txt`` or ``df.txt -> /var/tmp/df.txt``."""
        return f"{self.name} -> {self.target}" if self.target is not None else self.name

    @property
    def provenance(self) -> str:
        """The evidence's ``source``: ``file:PATH``, with the symlink's target when there is one."""
        return f"file:{self.path}" + (f" -> {self.target}" if self.target is not None else "")


def _what(mode: int) -> str:
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISDIR(mode):
        return "a directory"
    return "not a regular file"


def _refuse(path: Path, why: str) -> UsageError:
    return UsageError(
        f"evidence {path} {why}; only regular files are read as evidence.",
        hint=f"Copy what you need into a file (e.g. `cmd > out.txt`) or use --capture. "
        f"{_NOTHING_MADE}",
    )


def _regular(path: Path, name: str) -> Source:
    """``path`` as a Source when it is a regular file or a symlink to one; else refused."""
    try:
        link = os.lstat(path)
    except FileNotFoundError:
        raise UsageError(
            f"evidence file {path} does not exist.", hint=f"Check the path. {_NOTHING_MADE}"
        ) from None
    except OSError as exc:
        raise UsageError(f"cannot inspect evidence {path}: {exc.strerror}.") from None
    if stat.S_ISREG(link.st_mode):
        return Source(path, name, link.st_size, None, link.st_dev, link.st_ino)
    if not stat.S_ISLNK(link.st_mode):
        raise _refuse(path, f"is {_what(link.st_mode)}")
    try:
        target = path.resolve(strict=True)
        final = os.stat(path)
    except (OSError, RuntimeError):
        raise _refuse(path, f"is a symlink to {os.readlink(path)}, which does not exist") from None
    if not stat.S_ISREG(final.st_mode):
        raise _refuse(path, f"is a symlink to {target}, which is {_what(final.st_mode)}")
    return Source(path, name, final.st_size, target, final.st_dev, final.st_ino)


def _walk(root: Path) -> Iterator[Path]:
    """Every entry below ``root`` but its directories, sorted; symlinks are not descended."""
    try:
        entries = sorted(os.scandir(root), key=lambda e: e.name)
    except OSError as exc:
        raise UsageError(f"cannot list evidence directory {root}: {exc.strerror}.") from None
    for entry in entries:
        if entry.is_dir(follow_symlinks=False):
            yield from _walk(Path(entry.path))
        else:
            yield Path(entry.path)


def inspect(paths: Iterable[Path | str]) -> list[Source]:
    """The regular files that ``paths`` name (directories expanded); ``UsageError`` otherwise."""
    sources: list[Source] = []
    for raw in paths:
        path = Path(raw)
        try:
            is_dir = stat.S_ISDIR(os.lstat(path).st_mode)
        except OSError:
            is_dir = False
        if not is_dir:
            sources.append(_regular(path, path.name))
            continue
        members = [
            _regular(member, f"{path.name}/{member.relative_to(path).as_posix()}")
            for member in _walk(path)
        ]
        if not members:
            raise UsageError(f"evidence directory {path} holds no files.")
        sources.extend(members)
    return sources


def check_sizes(sizes: Sequence[tuple[str, int]], limits: Limits) -> None:
    """Refuse a file over ``max_file`` or a total over ``max_observation`` (exit 2)."""
    for name, size in sizes:
        if size > limits.max_file:
            raise UsageError(
                f"evidence {name} is {humanize.size(size)}, over the limit of "
                f"{humanize.size(limits.max_file)} per file ([evidence] max_file).",
                hint="Attach an excerpt, or raise [evidence] max_file (BRIDGE_EVIDENCE__MAX_FILE). "
                + _NOTHING_MADE,
            )
    total = sum(size for _, size in sizes)
    if total > limits.max_observation:
        raise UsageError(
            f"the evidence totals {humanize.size(total)} in {len(sizes)} file(s), over the limit "
            f"of {humanize.size(limits.max_observation)} per observation "
            "([evidence] max_observation).",
            hint="Attach fewer or smaller files, or raise [evidence] max_observation "
            f"(BRIDGE_EVIDENCE__MAX_OBSERVATION). {_NOTHING_MADE}",
        )


def open_regular(source: Source) -> BinaryIO:
    """Open ``source`` for reading without blocking; refuse it if it is no longer what was seen.

    ``O_NONBLOCK`` makes opening a FIFO that replaced the file return at once instead of waiting
    for a writer; the ``fstat`` after opening then refuses it.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    try:
        fd = os.open(source.path, flags)
    except OSError as exc:
        raise UsageError(f"cannot read evidence {source.path}: {exc.strerror}.") from None
    try:
        seen = os.fstat(fd)
        if not stat.S_ISREG(seen.st_mode):
            raise _refuse(source.path, f"is now {_what(seen.st_mode)}")
        if (seen.st_dev, seen.st_ino) != (source.device, source.inode):
            raise UsageError(
                f"evidence {source.path} was replaced while it was being read.",
                hint="Run the command again once the file has settled.",
            )
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
