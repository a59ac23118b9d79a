"""A private directory for the scrubbed copies of one call's evidence, removed when it ends.

Evidence is streamed through the redactor into files here (directory 0700, files 0600, under
``.bridge/tmp/``) and every tracker uploads from those files, so memory does not grow with the
size of the evidence and nothing unscrubbed is written anywhere.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

from tracker_bridge.domain.tickets import Blob
from tracker_bridge.errors import UsageError


class Staging:
    """Temporary files for one call's evidence; use it in a with-block."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._dir: Path | None = None

    @property
    def dir(self) -> Path:
        if self._dir is None:
            try:
                self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
                self._dir = Path(tempfile.mkdtemp(prefix="intake-", dir=self.root))
            except OSError as exc:
                raise UsageError(
                    f"cannot make a private directory for evidence under {self.root}: "
                    f"{exc.strerror}.",
                    hint="Make .bridge/ writable (and not full); nothing was created.",
                ) from None
        return self._dir

    def __enter__(self) -> Staging:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Remove every file made here."""
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    def writer(self, suffix: str = "") -> Writer:
        """A new private file (0600) that hashes what is written to it."""
        fd, name = tempfile.mkstemp(dir=self.dir, suffix=suffix)
        return Writer(Path(name), os.fdopen(fd, "wb"))


class Writer:
    """A file being written, with the sha256 and size of its content so far."""

    def __init__(self, path: Path, fh: BinaryIO) -> None:
        self.path = path
        self._fh = fh
        self._hash = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> None:
        if data:
            try:
                self._fh.write(data)
            except OSError as exc:
                self._fh.close()
                raise UsageError(
                    f"cannot write the scrubbed copy of evidence to {self.path.parent}: "
                    f"{exc.strerror}.",
                    hint="Free disk space under .bridge/; nothing was created.",
                ) from None
            self._hash.update(data)
            self.size += len(data)

    def flush(self) -> None:
        self._fh.flush()

    def close(self) -> Blob:
        """Finish the file; its content as a file-backed blob."""
        self._fh.close()
        return Blob.of_file(self.path, size=self.size, sha256=self._hash.hexdigest())

    def discard(self) -> None:
        self._fh.close()
        self.path.unlink(missing_ok=True)
