"""Real components in tests: skip with a clear reason where they are absent, fail in CI.

CI (``.ci/run``) sets ``BRIDGE_REQUIRE_COMPONENTS=1``: then a missing component is a failure, so
an end-to-end test can never pass by being skipped. The variable is read at import, because the
autouse ``_clean_env`` fixture removes every ``BRIDGE_*`` variable before each test.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pytest

REQUIRED = os.environ.get("BRIDGE_REQUIRE_COMPONENTS") == "1"

T = TypeVar("T")


def component_missing(reason: str) -> None:
    """Skip the test for ``reason``, or fail it when components are required."""
    if REQUIRED:
        pytest.fail(f"{reason} (BRIDGE_REQUIRE_COMPONENTS=1: required here)", pytrace=False)
    pytest.skip(reason)


def need_binary(path: str, package: str) -> str:
    """``path`` if it is an executable, else skip (or fail) naming the package to install."""
    if os.access(path, os.X_OK):
        return path
    component_missing(f"{path} is not installed (Debian package {package}; .ci/run installs it)")
    raise AssertionError("unreachable")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for(check: Callable[[], T | None], timeout: float, what: str, every: float = 0.1) -> T:
    """Poll ``check`` until it returns something truthy; fail naming ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:g}s waiting for {what}", pytrace=False)
        time.sleep(every)


def read_log(path: Path) -> str:
    return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""
