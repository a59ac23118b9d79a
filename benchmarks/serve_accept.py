"""Accept rate and latency of `bridge serve`: one replica on the embedded journal, and two replicas
sharing one PostgreSQL journal, beside baselines.

    python benchmarks/serve_accept.py [SECONDS_PER_ROUND] [CLIENTS] [ROUNDS]

Starts a real `bridge serve` (uvicorn, the embedded SQLite journal, synchronous=FULL) and, when
PostgreSQL is installed, a throwaway PostgreSQL cluster (as tests/support/postgres.py does) with
two more `bridge serve` replicas on it (BRIDGE_QUEUE__URL), each on a loopback port, workers off
(this measures accepting; delivery is paced by the tracker). The two-replica cases spread the
clients over both replicas, as a load balancer would. It posts Alertmanager version-4 payloads of 1 and of 50 alerts from CLIENTS concurrent keep-alive
clients (default 4), ROUNDS rounds (default 3) of SECONDS_PER_ROUND (default 3) per case, rounds
of the cases interleaved so that load from elsewhere on the machine falls on all of them; rates
are the median over rounds. Every alert is new (its own
fingerprint), so each request is a real durable insert. Prints requests/s, alerts/s and the
p50/p99 latency each client saw, beside two baselines measured in the same run: GET /healthz on
the same server (the HTTP floor) and the write rate one Jira Cloud user is allowed. Because the
clients share the machine's cores with the server, it also prints the server's own CPU time per
request (from /proc), and what one core would accept at that cost.

The Jira figure: Atlassian does not publish its burst limits; its rate-limiting page
(developer.atlassian.com/cloud/jira/platform/rate-limiting/) works its sizing example with a
cost budget of 10 REST calls per second for one app or user, and API-token traffic stays on those
burst limits. Each new sighting costs at least one write, so 10 alerts/s is what a tracker can
take from one user; the issue asks accepting to be at least 100 times faster (1,000 alerts/s).
"""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx2 as httpx

sys.path.insert(0, str(Path(__file__).parents[1] / "tests"))
from support.postgres import Postgres, start_postgres, stop_postgres

JIRA_WRITES_PER_SECOND = 10.0
TOKEN = "bench-token"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def payload(size: int, counter: Callable[[], int]) -> dict[str, object]:
    alerts = []
    for _ in range(size):
        n = counter()
        alerts.append(
            {
                "status": "firing",
                "labels": {"alertname": "DiskFull", "instance": f"replica-{n}", "job": "node"},
                "annotations": {"summary": "No space left on device"},
                "startsAt": "2026-05-01T10:00:00.123456789Z",
                "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "http://prometheus.example:9090/graph?g0.expr=disk_free",
                "fingerprint": f"{n:016x}",
            }
        )
    return {
        "version": "4",
        "groupKey": '{}:{alertname="DiskFull"}',
        "truncatedAlerts": 0,
        "status": "firing",
        "receiver": "bridge",
        "groupLabels": {"alertname": "DiskFull"},
        "commonLabels": {"alertname": "DiskFull"},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager.example:9093",
        "alerts": alerts,
    }


def run_case(
    urls: list[str], seconds: float, clients: int, send: Callable[[httpx.Client], None]
) -> list[float]:
    latencies: list[float] = []
    lock = threading.Lock()
    stop_at = time.perf_counter() + seconds

    def worker(n: int) -> None:
        mine: list[float] = []
        with httpx.Client(base_url=urls[n % len(urls)], timeout=30) as client:
            while time.perf_counter() < stop_at:
                start = time.perf_counter()
                send(client)
                mine.append(time.perf_counter() - start)
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies


def start_server(workdir: str, **env_extra: str) -> tuple[str, subprocess.Popen[bytes]]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRIDGE_")}
    env.update(BRIDGE_SERVE__TOKEN=TOKEN, BRIDGE_SERVE__WORKER="false", **env_extra)
    proc = subprocess.Popen(
        [str(Path(sys.executable).with_name("bridge")), "serve", "--port", str(port)],
        cwd=workdir,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(400):
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return url, proc
        except httpx.TransportError:
            time.sleep(0.05)
    raise RuntimeError("bridge serve did not start")


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time the server process has used (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def p(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] * 1000


def main() -> None:
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 3.0
    clients = int(sys.argv[2]) if len(sys.argv) > 2 else 4
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    counter_lock = threading.Lock()
    count = [0]

    def counter() -> int:
        with counter_lock:
            count[0] += 1
            return count[0]

    procs: list[subprocess.Popen[bytes]] = []
    pg: Postgres | None = None
    with tempfile.TemporaryDirectory() as tmp:
        try:
            url, proc = start_server(tmp)
            procs.append(proc)
            replicas: list[str] = []
            replica_procs: list[subprocess.Popen[bytes]] = []
            try:
                pg = start_postgres()
            except BaseException as exc:
                print(f"PostgreSQL cases skipped: {exc}")
            if pg is not None:
                shared = pg.database()
                for n in range(2):
                    work = Path(tmp, f"replica-{n}")
                    work.mkdir()
                    r_url, r_proc = start_server(str(work), BRIDGE_QUEUE__URL=shared)
                    replicas.append(r_url)
                    replica_procs.append(r_proc)
                procs.extend(replica_procs)
            headers = {"Authorization": f"Bearer {TOKEN}"}

            def health(client: httpx.Client) -> None:
                client.get("/healthz").raise_for_status()

            def alerts(size: int) -> Callable[[httpx.Client], None]:
                def send(client: httpx.Client) -> None:
                    r = client.post(
                        "/alerts/alertmanager", json=payload(size, counter), headers=headers
                    )
                    if r.status_code != 202:
                        raise RuntimeError(f"{r.status_code} {r.text}")

                return send

            print(
                f"{clients} clients, {rounds} rounds of {seconds:g}s per case, "
                f"{os.cpu_count()} CPUs\n"
            )
            print(
                f"{'case':<44}{'req/s':>9}{'alerts/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'x Jira':>9}"
                f"{'srv CPU ms/req':>16}{'alerts/s per core':>19}"
            )
            single = ([url], [proc])
            two = (replicas, replica_procs)
            cases: list[tuple[str, Callable[[httpx.Client], None], int, Any]] = [
                ("baseline: GET /healthz", health, 0, single),
                ("embedded journal, 1 replica, 1 alert", alerts(1), 1, single),
                ("embedded journal, 1 replica, 50 alerts", alerts(50), 50, single),
            ]
            if replicas:
                cases += [
                    ("PostgreSQL journal, 2 replicas, 1 alert", alerts(1), 1, two),
                    ("PostgreSQL journal, 2 replicas, 50 alerts", alerts(50), 50, two),
                ]
            results: dict[str, tuple[list[float], list[float], list[float]]] = {
                name: ([], [], []) for name, _, _, _ in cases
            }
            for _ in range(rounds):
                for name, send, _, (urls, servers) in cases:
                    rates, cpu, lat = results[name]
                    cpu_before = sum(cpu_seconds(s.pid) for s in servers)
                    got = run_case(urls, seconds, clients, send)
                    used = sum(cpu_seconds(s.pid) for s in servers) - cpu_before
                    cpu.append(used * 1000 / len(got))
                    rates.append(len(got) / seconds)
                    lat.extend(got)
            for name, _, size, _ in cases:
                rates, cpu, lat = results[name]
                rps = statistics.median(rates)
                cpu_ms = statistics.median(cpu)
                aps = rps * size
                ratio = f"{aps / JIRA_WRITES_PER_SECOND:,.0f}" if size else "-"
                per_core = f"{size * 1000 / cpu_ms:,.0f}" if size else "-"
                print(
                    f"{name:<44}{rps:>9,.0f}{aps if size else 0:>10,.0f}"
                    f"{p(lat, 50):>9.1f}{p(lat, 99):>9.1f}{ratio:>9}{cpu_ms:>16.2f}{per_core:>19}"
                )
            print(
                f"\nJira Cloud, one user: {JIRA_WRITES_PER_SECOND:g} writes/s (see the docstring). "
                "'x Jira' = alerts accepted per second / that.\n'srv CPU ms/req' is the bridge "
                "processes' CPU time per request (PostgreSQL's own CPU not included); 'alerts/s "
                "per core' = what one core given to the server would accept (the clients and "
                "PostgreSQL share this machine's cores)."
            )
        finally:
            for proc in procs:
                proc.terminate()
                proc.wait(timeout=30)
            if pg is not None:
                stop_postgres(pg)


if __name__ == "__main__":
    main()
