"""Two ``bridge serve`` replicas sharing one journal in a real PostgreSQL.

Both deliver to one embedded tracker file (as replicas behind a load balancer deliver to one
Jira). At-least-once with no duplicate: an alert both receive is one entry and one observation;
a brand-new message arriving at both at the same moment is one defect; a replica killed -9 in
the middle of its work leaves entries that the other one finishes. (That the advisory lock
keeps one defect per fingerprint on trackers without an atomic find-or-create is shown against
a racy tracker in ``tests/journal/test_journal_postgres.py``.)
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx2 as httpx
import psycopg
import pytest

from support.components import free_port, read_log, wait_for

TOKEN = "replica-token-4c1d"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
BRIDGE = (sys.executable, "-c", "from tracker_bridge.cli import main; main()")


@dataclass
class Replica:
    port: int
    proc: subprocess.Popen[bytes]
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def post(self, events: list[dict[str, str]]) -> None:
        r = httpx.post(f"{self.url}/alerts/generic", json=events, headers=AUTH, timeout=10)
        assert r.status_code == 202, r.text


class Cluster:
    """Replicas started in one working directory, on one database and one tracker file."""

    def __init__(self, workdir: Path, pg_url: str) -> None:
        self.workdir = workdir
        self.pg_url = pg_url
        self.tracker = workdir / "tracker.db"
        self.replicas: list[Replica] = []

    def start(self, *, rate: float = 1000.0, lease: float = 300.0) -> Replica:
        port = free_port()
        log = self.workdir / f"replica-{port}.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith("BRIDGE_")}
        env.update(
            BRIDGE_SERVE__TOKEN=TOKEN,
            BRIDGE_QUEUE__URL=self.pg_url,
            BRIDGE_QUEUE__LEASE_SECONDS=str(lease),
            BRIDGE_TRACKER__KIND="local",
            BRIDGE_TRACKER__PATH=str(self.tracker),
            BRIDGE_SERVE__TRACKER_REQUESTS_PER_SECOND=str(rate),
        )
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [*BRIDGE, "serve", "--port", str(port)],
                cwd=self.workdir,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        replica = Replica(port, proc, log)
        self.replicas.append(replica)

        def ready() -> bool:
            if proc.poll() is not None:
                pytest.fail(f"bridge serve exited {proc.returncode}:\n{read_log(log)}")
            try:
                return httpx.get(f"{replica.url}/readyz", timeout=2).status_code == 200
            except httpx.TransportError:
                return False

        wait_for(ready, 30, "the replica to be ready")
        return replica

    def tickets(self, kind: str) -> list[tuple[str, str]]:
        if not self.tracker.exists():
            return []
        db = sqlite3.connect(f"file:{self.tracker}?mode=ro", uri=True, timeout=10)
        try:
            rows = db.execute(
                "SELECT key, COALESCE(event_id, '') FROM tickets WHERE kind = ? ORDER BY seq",
                (kind,),
            ).fetchall()
        except sqlite3.OperationalError:
            return []
        finally:
            db.close()
        return [(str(k), str(e)) for k, e in rows]

    def journal(self, sql: str) -> list[tuple[object, ...]]:
        with psycopg.connect(self.pg_url) as conn:
            return list(conn.execute(sql).fetchall())

    def stop(self) -> None:
        for r in self.replicas:
            if r.proc.poll() is None:
                r.proc.terminate()
                try:
                    r.proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    r.proc.kill()
                    r.proc.wait()


@pytest.fixture
def cluster(tmp_path: Path, pg_url: str) -> Iterator[Cluster]:
    c = Cluster(tmp_path, pg_url)
    yield c
    c.stop()


def test_same_new_message_at_both_replicas_at_once_is_one_defect(cluster: Cluster) -> None:
    a, b = cluster.start(), cluster.start()
    message = "quokka shard rebalance stalled on vexil"
    same = {"message": message, "instance": "db-1", "event_id": "ha-pair-1"}
    start = threading.Barrier(2)

    def send(replica: Replica, events: list[dict[str, str]]) -> None:
        start.wait()
        replica.post(events)

    alone_a = {"message": message, "instance": "db-2", "event_id": "only-a"}
    alone_b = {"message": message, "instance": "db-3", "event_id": "only-b"}
    threads = [
        threading.Thread(target=send, args=(a, [same, alone_a])),
        threading.Thread(target=send, args=(b, [same, alone_b])),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    wait_for(lambda: len(cluster.tickets("observation")) >= 3, 60, "three observations")
    observations = cluster.tickets("observation")
    assert sorted(e for _, e in observations) == ["ha-pair-1", "only-a", "only-b"]
    assert len(cluster.tickets("defect")) == 1
    [(pending,)] = cluster.journal("SELECT count(*) FROM bridge_entries WHERE state != 'done'")
    assert pending == 0


def test_a_replica_killed_mid_work_has_its_entries_finished_by_the_other(
    cluster: Cluster,
) -> None:
    slow = cluster.start(rate=4)  # a few deliveries a second: it is mid-work when killed
    kinds = ["kestrel cache evicted under load", "osprey queue wedged", "heron socket leaked"]
    events = [
        {"message": kinds[n % 3], "instance": f"web-{n}", "event_id": f"kill-{n}"}
        for n in range(30)
    ]
    slow.post(events)
    wait_for(lambda: len(cluster.tickets("observation")) >= 2, 60, "the replica to deliver some")

    def held_by_slow() -> list[tuple[object, ...]]:
        return cluster.journal(
            "SELECT id FROM bridge_entries WHERE lease_owner LIKE "
            f"'%/{slow.proc.pid}/%' AND state = 'pending'"
        )

    in_hand = wait_for(held_by_slow, 30, "an entry in the slow replica's hands", every=0.01)
    slow.proc.kill()
    slow.proc.wait(10)
    other = cluster.start()
    wait_for(lambda: len(cluster.tickets("observation")) >= 30, 120, "the other to finish all")
    observations = [e for _, e in cluster.tickets("observation")]
    assert sorted(observations) == sorted(e["event_id"] for e in events)  # 0 lost, 0 twice
    assert len(cluster.tickets("defect")) == 3
    [(state, owner)] = cluster.journal(
        f"SELECT state, lease_owner FROM bridge_entries WHERE id = '{in_hand[0][0]}'"
    )
    assert state == "done" and owner is None
    assert "delivered" in read_log(other.log)
