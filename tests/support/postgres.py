"""A real PostgreSQL server for the tests of the shared journal, started and stopped by fixtures.

Debian's ``postgresql`` package puts ``initdb`` and ``pg_ctl`` under
``/usr/lib/postgresql/<version>/bin``. The cluster lives in a temporary directory, listens on a
free loopback port (and a unix socket in that directory), trusts local connections, and is
stopped with ``-m immediate`` at the end. PostgreSQL refuses to run as root, so when the tests
run as root the cluster belongs to the ``postgres`` user and its commands run through
``runuser``. Without the package the tests skip, or fail when components are required.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

from support.components import component_missing, free_port


@dataclass
class Postgres:
    """A running cluster: ``url(db)`` to connect, ``database()`` for a fresh empty one."""

    port: int
    base: Path

    def url(self, db: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{db}"

    def database(self) -> str:
        """A new empty database; its URL."""
        import psycopg

        name = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


def _bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


def _as_owner(argv: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv


def start_postgres() -> Postgres:
    """Start a throwaway cluster (skip or fail when PostgreSQL is not installed)."""
    bindir = _bin()
    if bindir is None:
        component_missing(
            "PostgreSQL is not installed (Debian package postgresql; .ci/run installs it)"
        )
        raise AssertionError("unreachable")
    try:
        import psycopg  # noqa: F401
    except ImportError:
        component_missing("psycopg is not installed (pip install 'tracker-bridge[postgres]')")
    base = Path(tempfile.mkdtemp(prefix="bridge-pg-"))
    if os.geteuid() == 0:
        try:
            owner = pwd.getpwnam("postgres")
        except KeyError:
            component_missing("there is no postgres user to run PostgreSQL as (we are root)")
            raise AssertionError("unreachable") from None
        os.chown(base, owner.pw_uid, owner.pw_gid)
    os.chmod(base, 0o700)
    data = base / "data"
    port = free_port()
    initdb = [str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres"]
    subprocess.run(_as_owner([*initdb, "-E", "UTF8"]), check=True, capture_output=True, timeout=120)
    options = f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c max_connections=200"
    result = subprocess.run(
        _as_owner(
            [
                str(bindir / "pg_ctl"),
                "-D",
                str(data),
                "-l",
                str(base / "postgres.log"),
                "-o",
                options,
                "-w",
                "start",
            ]
        ),
        check=False,
        capture_output=True,
        timeout=120,
    )
    if result.returncode != 0:
        log = (base / "postgres.log").read_text(errors="replace")
        raise RuntimeError(f"PostgreSQL did not start: {result.stderr.decode()}\n{log}")
    return Postgres(port, base)


def stop_postgres(pg: Postgres) -> None:
    bindir = _bin()
    if bindir is not None:
        subprocess.run(
            _as_owner(
                [str(bindir / "pg_ctl"), "-D", str(pg.base / "data"), "-m", "immediate", "stop"]
            ),
            check=False,
            capture_output=True,
            timeout=60,
        )
    shutil.rmtree(pg.base, ignore_errors=True)
