"""Alert storms through `bridge serve`: tracker writes, duplicates and drain time under a budget;
then kill -9 of the service every few seconds while the storm arrives.

    python benchmarks/serve_storm.py storm [--alerts 10000] [--instances 300] [--defects 3]
                                           [--rate 20]
    python benchmarks/serve_storm.py kill  [--alerts 2000] [--instances 60] [--defects 3]
                                           [--every 2] [--batch 5]

storm: ``--defects`` alerts (distinct messages), each firing on every one of ``--instances``
instances, are sent as ``--alerts`` Alertmanager notifications in payloads of up to 50: every
firing once, the rest repeats of firings already sent (repeat interval, an HA pair), shuffled.
They are accepted through the real HTTP app into the embedded journal, then the worker drains
them into the embedded tracker under a budget of ``--rate`` tracker requests a second. Every call
the worker makes on the tracker is counted by method. Beside it, in the same run, the baseline:
what a bridge that made one observation per notification would write (one ticket per alert
received). The audit: observations == distinct firings, defects == ``--defects``, no event id
twice, nothing left in the journal.

kill: a real `bridge serve` (worker on, budget ``--rate`` 100/s) takes the storm, in payloads of ``--batch``
alerts, from 4 senders that retry
each payload until it is answered 202, as Alertmanager does; the service is killed with SIGKILL
every ``--every`` seconds and started again on the same port and files, while the alerts arrive
and then on while the worker delivers them, until the journal is empty. The
audit: every firing appears exactly once on the tracker (0 lost, 0 duplicated), whatever the
kills interrupted.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any, cast

import httpx2 as httpx
from pydantic import SecretStr
from starlette.testclient import TestClient

from tracker_bridge.journal.base import Binding
from tracker_bridge.journal.sqlite import SqliteJournal
from tracker_bridge.serve.server import build_app
from tracker_bridge.serve.worker import Worker
from tracker_bridge.settings import ServeSettings, Settings
from tracker_bridge.trackers.base import Tracker
from tracker_bridge.trackers.local import LocalTracker

TOKEN = "storm-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
MESSAGES = [
    "No space left on device on /var/lib/postgresql",
    "upstream connect error or disconnect/reset before headers",
    "OOMKilled: container exceeded its memory limit",
    "TLS handshake timeout talking to the payment gateway",
    "replication lag above threshold on the standby",
]
WRITES = {
    "create",
    "attach",
    "comment",
    "reopen",
    "resolve",
    "add_fingerprint",
    "set_resolved_at",
    "find_or_create_defect",
}
START = "2026-11-30T03:00:00Z"


def storm(alerts: int, instances: int, defects: int, seed: int = 7) -> list[dict[str, Any]]:
    """Alertmanager alerts: every firing once, then repeats of them, shuffled."""
    firings = [
        {
            "status": "firing",
            "labels": {"alertname": f"Alert{d}", "instance": f"node-{i:03d}", "job": "node"},
            "annotations": {"summary": MESSAGES[d % len(MESSAGES)]},
            "startsAt": START,
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": f"http://prometheus.example:9090/graph?g0.expr=alert{d}",
            "fingerprint": f"{d:04x}{i:012x}",
        }
        for d in range(defects)
        for i in range(instances)
    ]
    rng = random.Random(seed)
    repeats = [rng.choice(firings) for _ in range(max(alerts - len(firings), 0))]
    sent = firings[:alerts] + repeats
    rng.shuffle(sent)
    return sent


def payloads(alerts: list[dict[str, Any]], size: int = 50) -> list[dict[str, Any]]:
    return [
        {"version": "4", "status": "firing", "receiver": "bridge", "alerts": alerts[i : i + size]}
        for i in range(0, len(alerts), size)
    ]


class Counting:
    """The tracker as the worker sees it: every call counted by method name."""

    def __init__(self, tracker: LocalTracker) -> None:
        self.tracker = tracker
        self.name = tracker.name
        self.calls: Counter[str] = Counter()

    def __getattr__(self, attr: str) -> Any:
        target = getattr(self.tracker, attr)
        if not callable(target):
            return target

        def call(*args: Any, **kwargs: Any) -> Any:
            self.calls[attr] += 1
            return target(*args, **kwargs)

        return call


def audit(tracker_path: Path) -> tuple[int, int, int]:
    """(observations, distinct event ids among them, defects) on the embedded tracker."""
    db = sqlite3.connect(f"file:{tracker_path}?mode=ro", uri=True)
    try:
        events = [
            r[0] for r in db.execute("SELECT event_id FROM tickets WHERE kind = 'observation'")
        ]
        defects = db.execute("SELECT count(*) FROM tickets WHERE kind = 'defect'").fetchone()[0]
    finally:
        db.close()
    return len(events), len(set(events)), int(defects)


def run_storm(args: argparse.Namespace) -> None:
    sent = storm(args.alerts, args.instances, args.defects)
    distinct = len({a["fingerprint"] for a in sent})
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(serve=ServeSettings(token=SecretStr(TOKEN)))
        journal = SqliteJournal(Path(tmp, "journal.db"), inline_evidence=True)
        binding = Binding("local", str(Path(tmp, "bridge.db")), "OPS")
        client = TestClient(build_app(settings, journal, binding))
        started = time.perf_counter()
        for body in payloads(sent):
            r = client.post("/alerts/alertmanager", json=body, headers=AUTH)
            assert r.status_code == 202, r.text
        accept_s = time.perf_counter() - started
        entries = journal.depth()
        tracker = Counting(LocalTracker(Path(tmp, "bridge.db")))
        worker = Worker(
            cast(Tracker, tracker),
            journal,
            settings.conventions_value(),
            binding,
            rate=args.rate,
        )
        started = time.perf_counter()
        while worker.step():
            pass
        drain_s = time.perf_counter() - started
        observations, unique, defects = audit(Path(tmp, "bridge.db"))
        left = journal.depth()
        journal.close()
    requests = sum(n for k, n in tracker.calls.items() if k != "capabilities")  # local answer
    writes = {k: v for k, v in tracker.calls.items() if k in WRITES}
    creates = tracker.calls["create"] + tracker.calls["find_or_create_defect"]
    print(
        f"storm: {args.alerts:,} alerts sent ({distinct:,} distinct firings: {args.defects} "
        f"alerts x {args.instances} instances; the rest repeats), payloads of 50, "
        f"budget {args.rate:g} tracker requests/s, {os.cpu_count()} CPUs\n"
    )
    print(f"accepted: {args.alerts:,} alerts in {accept_s:.1f}s -> {entries:,} journal entries")
    print(
        f"drained:  {drain_s:.1f}s ({drain_s / 60:.1f} min), {requests:,} tracker requests "
        f"({requests / max(distinct, 1):.2f} per firing, {requests / drain_s:.1f}/s)"
    )
    print(f"tracker calls by method: {dict(sorted(tracker.calls.items()))}")
    print(f"tracker writes: {dict(sorted(writes.items()))}")
    print(
        f"tickets created: {creates:,} (distinct firings + defects = "
        f"{distinct + args.defects:,}); baseline, one ticket per alert received: {args.alerts:,}"
    )
    print(
        f"audit: {observations:,} observations, {unique:,} distinct event ids, {defects} "
        f"defects, {left} entries left in the journal -> "
        + (
            "OK"
            if observations == unique == distinct and defects == args.defects and not left
            else "FAILED"
        )
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start(workdir: Path, port: int, rate: float) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRIDGE_")}
    env.update(
        BRIDGE_SERVE__TOKEN=TOKEN,
        BRIDGE_TRACKER__KIND="local",
        BRIDGE_SERVE__TRACKER_REQUESTS_PER_SECOND=str(rate),
    )
    proc = subprocess.Popen(
        [str(Path(sys.executable).with_name("bridge")), "serve", "--port", str(port)],
        cwd=workdir,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc
        except httpx.TransportError:
            time.sleep(0.05)
    raise RuntimeError("bridge serve did not start")


def run_kill(args: argparse.Namespace) -> None:
    sent = storm(args.alerts, args.instances, args.defects)
    firings = {a["fingerprint"] for a in sent}
    bodies = payloads(sent, args.batch)
    port = free_port()
    url = f"http://127.0.0.1:{port}/alerts/alertmanager"
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        proc = start(work, port, args.rate)
        queue = list(enumerate(bodies))
        lock = threading.Lock()
        retries = [0]

        def sender() -> None:
            with httpx.Client(timeout=10) as client:
                while True:
                    with lock:
                        if not queue:
                            return
                        _, body = queue.pop(0)
                    while True:  # as Alertmanager does: until answered 2xx
                        try:
                            if client.post(url, json=body, headers=AUTH).status_code == 202:
                                break
                        except httpx.TransportError:
                            pass
                        with lock:
                            retries[0] += 1
                        time.sleep(0.2)

        threads = [threading.Thread(target=sender) for _ in range(4)]
        started = time.perf_counter()
        for t in threads:
            t.start()
        kills = 0
        journal = work / ".bridge/journal.db"

        def waiting() -> int:
            db = sqlite3.connect(f"file:{journal}?mode=ro", uri=True, timeout=30)
            try:
                row = db.execute("SELECT count(*) FROM entries WHERE state != 'done'").fetchone()
                return int(row[0])
            except sqlite3.OperationalError:
                return 1  # not created yet
            finally:
                db.close()

        # kill while alerts arrive, then on while the worker delivers them
        mid_delivery = 0
        while any(t.is_alive() for t in threads) or waiting():
            time.sleep(args.every)
            sending = any(t.is_alive() for t in threads)
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            kills += 1
            mid_delivery += 0 if sending else 1
            proc = start(work, port, args.rate)
        for t in threads:
            t.join()
        send_s = time.perf_counter() - started
        left = waiting()
        proc.terminate()
        proc.wait(30)
        observations, unique, defects = audit(work / ".bridge/bridge.db")
        events = set()
        db = sqlite3.connect(work / ".bridge/bridge.db")
        for (event_id,) in db.execute("SELECT event_id FROM tickets WHERE kind = 'observation'"):
            events.add(event_id.split("-")[1])
        db.close()
    lost = len(firings - events)
    duplicated = observations - unique
    print(
        f"kill -9 every {args.every:g}s during a storm of {args.alerts:,} alerts "
        f"({len(firings):,} distinct firings, {args.defects} defects), 4 senders retrying "
        f"until 202, budget {args.rate:g} requests/s: {kills} kills ({mid_delivery} after the "
        f"last alert was accepted, while delivering), {retries[0]} retried posts, all sent and "
        f"delivered in {send_s:.1f}s"
    )
    print(
        f"audit: {observations:,} observations, {lost} lost, {duplicated} duplicated, "
        f"{defects} defects, {left} entries left -> "
        + (
            "OK"
            if not lost and not duplicated and defects == args.defects and not left
            else "FAILED"
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="mode", required=True)
    s = sub.add_parser("storm")
    s.add_argument("--alerts", type=int, default=10_000)
    s.add_argument("--instances", type=int, default=300)
    s.add_argument("--defects", type=int, default=3)
    s.add_argument("--rate", type=float, default=20.0)
    k = sub.add_parser("kill")
    k.add_argument("--alerts", type=int, default=2_000)
    k.add_argument("--instances", type=int, default=60)
    k.add_argument("--defects", type=int, default=3)
    k.add_argument("--every", type=float, default=2.0)
    k.add_argument("--batch", type=int, default=5, help="alerts per payload")
    k.add_argument("--rate", type=float, default=100.0)
    args = parser.parse_args()
    if args.mode == "storm":
        run_storm(args)
    else:
        run_kill(args)


if __name__ == "__main__":
    main()
