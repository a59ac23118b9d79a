"""Accept rate and latency of one `bridge serve` replica on the embedded store, beside a baseline.

    python benchmarks/serve_accept.py [SECONDS_PER_ROUND] [CLIENTS] [ROUNDS]

Starts a real `bridge serve` (uvicorn, SQLite intake with synchronous=FULL) on a loopback port and
posts Alertmanager version-4 payloads of 1 and of 50 alerts from CLIENTS concurrent keep-alive
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

import httpx2 as httpx

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
    url: str, seconds: float, clients: int, send: Callable[[httpx.Client], None]
) -> list[float]:
    latencies: list[float] = []
    lock = threading.Lock()
    stop_at = time.perf_counter() + seconds

    def worker() -> None:
        mine: list[float] = []
        with httpx.Client(base_url=url, timeout=30) as client:
            while time.perf_counter() < stop_at:
                start = time.perf_counter()
                send(client)
                mine.append(time.perf_counter() - start)
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies


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
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    counter_lock = threading.Lock()
    count = [0]

    def counter() -> int:
        with counter_lock:
            count[0] += 1
            return count[0]

    with tempfile.TemporaryDirectory() as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith("BRIDGE_")}
        env.update(BRIDGE_SERVE__TOKEN=TOKEN, BRIDGE_SERVE__INTAKE_PATH=f"{tmp}/intake.db")
        proc = subprocess.Popen(
            [str(Path(sys.executable).with_name("bridge")), "serve", "--port", str(port)],
            cwd=tmp,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            for _ in range(200):
                try:
                    if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.05)
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
                f"one replica, embedded SQLite store, {clients} clients, {rounds} rounds of "
                f"{seconds:g}s per case, "
                f"{os.cpu_count()} CPUs\n"
            )
            print(
                f"{'case':<34}{'req/s':>9}{'alerts/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'x Jira':>9}"
                f"{'srv CPU ms/req':>16}{'alerts/s per core':>19}"
            )
            cases: list[tuple[str, Callable[[httpx.Client], None], int]] = [
                ("baseline: GET /healthz", health, 0),
                ("Alertmanager payload, 1 alert", alerts(1), 1),
                ("Alertmanager payload, 50 alerts", alerts(50), 50),
            ]
            results: dict[str, tuple[list[float], list[float], list[float]]] = {
                name: ([], [], []) for name, _, _ in cases
            }
            for _ in range(rounds):
                for name, send, _ in cases:
                    rates, cpu, lat = results[name]
                    cpu_before = cpu_seconds(proc.pid)
                    got = run_case(url, seconds, clients, send)
                    cpu.append((cpu_seconds(proc.pid) - cpu_before) * 1000 / len(got))
                    rates.append(len(got) / seconds)
                    lat.extend(got)
            for name, _, size in cases:
                rates, cpu, lat = results[name]
                rps = statistics.median(rates)
                cpu_ms = statistics.median(cpu)
                aps = rps * size
                ratio = f"{aps / JIRA_WRITES_PER_SECOND:,.0f}" if size else "-"
                per_core = f"{size * 1000 / cpu_ms:,.0f}" if size else "-"
                print(
                    f"{name:<34}{rps:>9,.0f}{aps if size else 0:>10,.0f}"
                    f"{p(lat, 50):>9.1f}{p(lat, 99):>9.1f}{ratio:>9}{cpu_ms:>16.2f}{per_core:>19}"
                )
            print(
                f"\nJira Cloud, one user: {JIRA_WRITES_PER_SECOND:g} writes/s (see the docstring). "
                "'x Jira' = alerts accepted per second / that.\n'srv CPU ms/req' is the server "
                "process's CPU time per request; 'alerts/s per core' = what one core given to the "
                "server would accept (the client shares this machine's cores)."
            )
        finally:
            proc.terminate()
            proc.wait(timeout=30)


if __name__ == "__main__":
    main()
