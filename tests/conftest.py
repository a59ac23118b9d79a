"""Shared test set-up: tests never reach beyond loopback, and each runs in its own directory.

``tests/`` is on the import path (``pythonpath`` in pyproject.toml): helpers come from
``support`` and the fake servers from ``fakes``.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from support.postgres import Postgres, start_postgres, stop_postgres

_LOOPBACK = ("127.", "::1", "localhost")
_real_connect = socket.socket.connect


def _guarded_connect(self: socket.socket, address: object) -> None:
    host = address[0] if isinstance(address, tuple) else str(address)
    if self.family in (socket.AF_INET, socket.AF_INET6) and not str(host).startswith(_LOOPBACK):
        raise RuntimeError(f"tests must not reach the network (tried {host})")
    _real_connect(self, address)  # type: ignore[arg-type]


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket.socket, "connect", _guarded_connect)


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Each test runs in its own directory with no BRIDGE_* settings from the developer's shell."""
    import os

    for name in list(os.environ):
        if name.startswith("BRIDGE_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    """A real PostgreSQL for the whole session (skips, or fails in CI, when not installed)."""
    pg = start_postgres()
    yield pg
    stop_postgres(pg)


@pytest.fixture
def pg_url(postgres: Postgres) -> str:
    """A fresh empty database on the session's PostgreSQL."""
    return postgres.database()
