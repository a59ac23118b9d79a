"""End to end: a real Prometheus Alertmanager delivers to a running ``bridge serve``.

Alertmanager (Debian ``prometheus-alertmanager``) runs on a loopback port with a temporary config
whose webhook receiver points at ``bridge serve`` (uvicorn, in a subprocess) with the bearer token
in ``http_config.authorization``. Alerts are fired, repeated, resolved and re-fired through its
HTTP API (``POST /api/v2/alerts``); short group/repeat intervals keep each test to seconds.
Two Alertmanagers without clustering stand for an HA pair at its worst: both deliver everything.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx2 as httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from support.components import free_port, need_binary, read_log, wait_for

TOKEN = "e2e-token-9f8e7d"
ALERTMANAGER = "/usr/bin/prometheus-alertmanager"
BRIDGE = (sys.executable, "-c", "from tracker_bridge.cli import main; main()")


@dataclass
class Bridge:
    """A ``bridge serve`` process, its journal and the embedded tracker it delivers to."""

    port: int
    proc: subprocess.Popen[bytes]
    journal: Path
    tracker: Path
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def rows(self) -> list[tuple[str, str]]:
        """What the journal kept: (firing | resolved, event id), in order."""
        found = _read(
            self.journal, "SELECT op, event_id FROM entries ORDER BY created, op DESC, id"
        )
        return [("resolved" if op == "resolve" else "firing", event) for op, event in found]

    def observations(self) -> list[tuple[str, str | None]]:
        """The observations on the tracker: (event id, resolved_at)."""
        return [
            (event, json.loads(extra).get("resolved_at"))
            for event, extra in _read(
                self.tracker,
                "SELECT event_id, extra FROM tickets WHERE kind = 'observation' ORDER BY seq",
            )
        ]

    def defects(self) -> int:
        return len(_read(self.tracker, "SELECT key FROM tickets WHERE kind = 'defect'"))

    def metric(self, name: str, **labels: str) -> float:
        text = httpx.get(f"{self.url}/metrics", timeout=5).text
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.name == name and sample.labels == labels:
                    return float(sample.value)
        return 0.0


@dataclass
class Alertmanagers:
    urls: list[str] = field(default_factory=list)

    def post(self, alerts: list[dict[str, object]]) -> None:
        for url in self.urls:
            r = httpx.post(f"{url}/api/v2/alerts", json=alerts, timeout=5)
            assert r.status_code == 200, r.text


def _read(path: Path, sql: str) -> list[tuple[str, str]]:
    if not path.exists():
        return []
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
    try:
        return [tuple(row) for row in db.execute(sql).fetchall()]  # type: ignore[misc]
    except sqlite3.OperationalError:
        return []  # not created yet
    finally:
        db.close()


def start_bridge(
    tmp_path: Path,
    *args: str,
    token: str | None = TOKEN,
    port: int | None = None,
    rate: float = 1000.0,
) -> Bridge:
    port = port or free_port()
    log = tmp_path / f"bridge-{port}.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRIDGE_")}
    env["BRIDGE_TRACKER__KIND"] = "local"
    env["BRIDGE_SERVE__TRACKER_REQUESTS_PER_SECOND"] = str(rate)
    if token:
        env["BRIDGE_SERVE__TOKEN"] = token
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [*BRIDGE, "serve", "--port", str(port), *args],
            cwd=tmp_path,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    bridge = Bridge(
        port, proc, tmp_path / ".bridge/journal.db", tmp_path / ".bridge/bridge.db", log
    )

    def healthy() -> bool:
        if proc.poll() is not None:
            pytest.fail(f"bridge serve exited {proc.returncode}:\n{read_log(log)}")
        try:
            return httpx.get(f"{bridge.url}/healthz", timeout=1).status_code == 200
        except httpx.TransportError:
            return False

    wait_for(healthy, 20, "bridge serve to answer /healthz")
    return bridge


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def start_alertmanager(
    tmp_path: Path, bridge_port: int, *, token: str = TOKEN, max_alerts: int = 0
) -> tuple[str, subprocess.Popen[bytes]]:
    binary = need_binary(ALERTMANAGER, "prometheus-alertmanager")
    port = free_port()
    home = tmp_path / f"am-{port}"
    home.mkdir()
    config = home / "alertmanager.yml"
    # JSON is YAML: no YAML library needed to write the config
    config.write_text(
        json.dumps(
            {
                "route": {
                    "receiver": "bridge",
                    "group_by": ["alertname", "instance"],
                    "group_wait": "500ms",
                    "group_interval": "1s",
                    "repeat_interval": "2s",
                },
                "receivers": [
                    {
                        "name": "bridge",
                        "webhook_configs": [
                            {
                                "url": f"http://127.0.0.1:{bridge_port}/alerts/alertmanager",
                                "send_resolved": True,
                                "max_alerts": max_alerts,
                                "http_config": {
                                    "authorization": {"type": "Bearer", "credentials": token}
                                },
                            }
                        ],
                    }
                ],
            }
        )
    )
    log = home / "alertmanager.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                binary,
                f"--config.file={config}",
                f"--storage.path={home / 'data'}",
                f"--web.listen-address=127.0.0.1:{port}",
                "--cluster.listen-address=",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"

    def up() -> bool:
        if proc.poll() is not None:
            pytest.fail(f"alertmanager exited {proc.returncode}:\n{read_log(log)}")
        try:
            return httpx.get(f"{url}/-/ready", timeout=1).status_code == 200
        except httpx.TransportError:
            return False

    wait_for(up, 20, "alertmanager to be ready")
    return url, proc


@pytest.fixture
def bridge(tmp_path: Path) -> Iterator[Bridge]:
    need_binary(ALERTMANAGER, "prometheus-alertmanager")
    b = start_bridge(tmp_path)
    yield b
    stop(b.proc)


@pytest.fixture
def procs() -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for proc in started:
        stop(proc)


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def disk_full(starts: datetime, ends: datetime | None = None) -> dict[str, object]:
    alert: dict[str, object] = {
        "labels": {"alertname": "DiskFull", "instance": "replica-2", "severity": "page"},
        "annotations": {"summary": "No space left on device"},
        "startsAt": stamp(starts),
        "generatorURL": "http://prometheus.example:9090/graph?g0.expr=disk_free",
    }
    if ends is not None:
        alert["endsAt"] = stamp(ends)
    return alert


def test_fire_repeat_ha_pair_resolve_refire(
    tmp_path: Path, bridge: Bridge, procs: list[subprocess.Popen[bytes]]
) -> None:
    pair = Alertmanagers()
    for _ in range(2):
        url, proc = start_alertmanager(tmp_path, bridge.port)
        procs.append(proc)
        pair.urls.append(url)
    received = "bridge_alerts_received_total"

    first = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=30)
    pair.post([disk_full(first)])
    # both Alertmanagers deliver, and each repeats: at least 4 deliveries of the same firing
    wait_for(lambda: bridge.metric(received, source="alertmanager") >= 4, 30, "4 deliveries")
    first_id = f"alertmanager-{fingerprint(pair)}-{first.strftime('%Y%m%dT%H%M%SZ')}"
    assert bridge.rows() == [("firing", first_id)]

    pair.post([disk_full(first, datetime.now(UTC))])
    wait_for(lambda: len(bridge.rows()) == 2, 30, "the resolved notification")
    assert bridge.rows() == [("firing", first_id), ("resolved", first_id)]

    second = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=1)
    pair.post([disk_full(second)])
    wait_for(lambda: len(bridge.rows()) == 3, 30, "the re-fire")
    rows = bridge.rows()
    assert rows[2][0] == "firing" and rows[2][1] != first_id
    assert rows[2][1].endswith(second.strftime("%Y%m%dT%H%M%SZ"))
    seen = bridge.metric(received, source="alertmanager")
    wait_for(lambda: bridge.metric(received, source="alertmanager") >= seen + 2, 30, "repeats")
    assert len(bridge.rows()) == 3  # repeats of the re-fire add nothing
    assert bridge.metric("bridge_alerts_rejected_total", source="alertmanager", reason="auth") == 0
    logs = [json.loads(line) for line in read_log(bridge.log).splitlines() if line.startswith("{")]
    assert any(entry.get("msg") == "alerts accepted" for entry in logs)
    # the worker delivered: one observation per firing period, the first one ended
    wait_for(lambda: len(bridge.observations()) == 2, 30, "two observations on the tracker")
    wait_for(lambda: bridge.observations()[0][1], 30, "resolved_at on the first observation")
    [(event_1, ended), (event_2, still)] = bridge.observations()
    assert (event_1, event_2) == (first_id, rows[2][1])
    assert ended is not None and still is None
    assert bridge.defects() == 1


def fingerprint(pair: Alertmanagers) -> str:
    alerts = httpx.get(f"{pair.urls[0]}/api/v2/alerts", timeout=5).json()
    fp: str = alerts[0]["fingerprint"]
    return fp


def test_truncated_alerts_reported_and_wrong_token_refused(
    tmp_path: Path, bridge: Bridge, procs: list[subprocess.Popen[bytes]]
) -> None:
    truncating, proc = start_alertmanager(tmp_path, bridge.port, max_alerts=1)
    procs.append(proc)
    wrong, proc = start_alertmanager(tmp_path, bridge.port, token="not-the-token")
    procs.append(proc)
    now = datetime.now(UTC)
    two = [disk_full(now), {**disk_full(now), "labels": {"alertname": "DiskFull", "instance": "replica-2", "severity": "ticket"}}]  # fmt: skip
    Alertmanagers([truncating, wrong]).post(two)
    wait_for(
        lambda: bridge.metric("bridge_alerts_truncated_total", source="alertmanager") >= 1,
        30,
        "a truncated notification",
    )
    wait_for(
        lambda: (
            bridge.metric("bridge_alerts_rejected_total", source="alertmanager", reason="auth") >= 1
        ),
        30,
        "the wrong token to be refused",
    )
    # only what the truncating Alertmanager sent with the right token was recorded (the truncation
    # is counted while parsing, before the accepted alert is committed: wait for the commit)
    wait_for(lambda: bool(bridge.rows()), 30, "the truncated notification to be stored")
    assert [status for status, _ in bridge.rows()] == ["firing"]


def test_refuses_to_start_without_a_token(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRIDGE_")}
    result = subprocess.run(
        [*BRIDGE, "serve", "--host", "0.0.0.0", "--port", str(free_port())],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 2
    assert "BRIDGE_SERVE__TOKEN" in result.stderr


def test_sigterm_finishes_accepts_in_flight(tmp_path: Path) -> None:
    """Every request answered 202 is stored; SIGTERM mid-burst leaves no half-answered accept."""
    b = start_bridge(tmp_path)
    accepted: list[str] = []
    failures: list[str] = []
    unanswered: list[str] = []
    lock = threading.Lock()

    def sender(n: int) -> None:
        with httpx.Client(timeout=10) as client:
            for i in range(200):
                events = [
                    {"message": "m", "instance": f"i{n}", "event_id": f"e{n}-{i}-{k}"}
                    for k in range(20)
                ]
                try:
                    r = client.post(
                        f"{b.url}/alerts/generic",
                        json=events,
                        headers={"Authorization": f"Bearer {TOKEN}"},
                    )
                except httpx.ConnectError:
                    return  # the server stopped accepting: expected after SIGTERM
                except httpx.TransportError as exc:
                    # a keep-alive connection closed under a request that was never read: the
                    # server never saw it, or answered it; either way at most one per sender
                    with lock:
                        unanswered.append(type(exc).__name__)
                    return
                with lock:
                    if r.status_code == 202:
                        accepted.extend(r.json()["event_ids"])
                    else:
                        failures.append(f"{r.status_code} {r.text}")

    threads = [threading.Thread(target=sender, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    wait_for(lambda: len(accepted) >= 200, 30, "some accepts before SIGTERM", every=0.01)
    b.proc.send_signal(signal.SIGTERM)
    for t in threads:
        t.join(timeout=30)
    # uvicorn re-raises the signal once it has shut down, so the exit is "terminated by SIGTERM"
    assert b.proc.wait(timeout=30) in (0, -signal.SIGTERM), read_log(b.log)
    assert "Application shutdown complete" in read_log(b.log)
    assert '"msg": "worker stopped"' in read_log(b.log)  # before the process ended
    assert failures == []
    stored = {event_id for _, event_id in b.rows()}
    assert set(accepted) <= stored
    assert len(stored - set(accepted)) <= 20 * len(unanswered)
    assert len(accepted) < 4 * 200 * 20  # the signal really arrived mid-burst


def test_kill_9_loses_no_accepted_alert(tmp_path: Path) -> None:
    """SIGKILL mid-burst, the worker mid-delivery: every alert answered 202 is kept, and after
    a restart each reaches the tracker exactly once."""
    b = start_bridge(tmp_path, rate=40)
    accepted: list[str] = []
    lock = threading.Lock()

    def sender(n: int) -> None:
        with httpx.Client(timeout=10) as client:
            for i in range(40):
                events = [
                    {"message": "m", "instance": f"i{n}", "event_id": f"k{n}-{i}-{k}"}
                    for k in range(5)
                ]
                try:
                    r = client.post(
                        f"{b.url}/alerts/generic",
                        json=events,
                        headers={"Authorization": f"Bearer {TOKEN}"},
                    )
                except httpx.TransportError:
                    return
                if r.status_code == 202:
                    with lock:
                        accepted.extend(r.json()["event_ids"])

    threads = [threading.Thread(target=sender, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    wait_for(lambda: len(accepted) >= 100, 30, "some accepts before the kill", every=0.01)
    wait_for(lambda: len(b.observations()) >= 3, 30, "the worker to deliver some", every=0.01)
    b.proc.kill()
    b.proc.wait(timeout=10)
    for t in threads:
        t.join(timeout=30)
    entries = b.journal
    db = sqlite3.connect(entries)
    try:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    finally:
        db.close()
    stored = {event for _, event in b.rows()}
    assert set(accepted) <= stored
    # a restarted service takes alerts again on the same store
    again = start_bridge(tmp_path, rate=1000)
    try:
        r = httpx.post(
            f"{again.url}/alerts/generic",
            json={"message": "m", "instance": "i", "event_id": "after-restart"},
            headers={"Authorization": f"Bearer {TOKEN}"},
            timeout=10,
        )
        assert r.status_code == 202
        assert ("firing", "after-restart") in again.rows()
        wanted = stored | {"after-restart"}
        wait_for(
            lambda: len(again.observations()) >= len(wanted), 180, "the backlog to be delivered"
        )
        delivered = [event for event, _ in again.observations()]
        assert len(delivered) == len(set(delivered)) == len(wanted)  # 0 duplicated
        assert set(delivered) == wanted  # 0 lost
        assert again.defects() == 1
    finally:
        stop(again.proc)


def test_alertmanager_retries_cover_a_service_that_was_down(
    tmp_path: Path, procs: list[subprocess.Popen[bytes]]
) -> None:
    need_binary(ALERTMANAGER, "prometheus-alertmanager")
    port = free_port()
    url, proc = start_alertmanager(tmp_path, port)
    procs.append(proc)
    started = datetime.now(UTC).replace(microsecond=0)
    Alertmanagers([url]).post([disk_full(started)])
    # nothing listens yet: Alertmanager's notifications fail and it keeps the alert pending
    am_log = tmp_path / f"am-{url.rsplit(':', 1)[1]}" / "alertmanager.log"
    wait_for(lambda: "Notify for alerts failed" in read_log(am_log), 30, "a failed delivery")
    bridge = start_bridge(tmp_path, token=TOKEN, port=port)
    try:
        wait_for(bridge.rows, 30, "the retried delivery")
        assert [status for status, _ in bridge.rows()] == ["firing"]
        wait_for(lambda: "Notify success" in read_log(am_log), 10, "Alertmanager to log success")
    finally:
        stop(bridge.proc)
