"""The intake app: auth, 202 only after accept, malformed payloads, 503, health and metrics."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Sequence
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr
from starlette.testclient import TestClient

from tracker_bridge.errors import ConfigError, JournalUnavailable
from tracker_bridge.journal.base import Binding
from tracker_bridge.journal.sqlite import SqliteJournal
from tracker_bridge.serve.alerts import Alert
from tracker_bridge.serve.app import auth_token, create_app
from tracker_bridge.serve.server import build_app
from tracker_bridge.settings import GrafanaSettings, ServeSettings, Settings

DATA = Path(__file__).parents[1] / "data" / "alerts"
TOKEN = "t0ken-for-tests"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
BINDING = Binding("memory", "", "OPS")


class Recorder:
    """An accept() that records what it was given, or fails like a journal that is down."""

    def __init__(self) -> None:
        self.batches: list[list[Alert]] = []
        self.down = False

    def accept(self, alerts: Sequence[Alert]) -> None:
        if self.down:
            raise JournalUnavailable("journal is down for the test.")
        self.batches.append(list(alerts))

    def ready(self) -> bool:
        return not self.down

    @property
    def alerts(self) -> list[Alert]:
        return [a for batch in self.batches for a in batch]


def settings(**kw: object) -> ServeSettings:
    return ServeSettings(token=SecretStr(TOKEN), **kw)  # type: ignore[arg-type]


@pytest.fixture
def rec() -> Recorder:
    return Recorder()


@pytest.fixture
def client(rec: Recorder) -> TestClient:
    return TestClient(create_app(settings(), rec.accept, rec.ready, depth=lambda: 7))


def body(name: str) -> bytes:
    return (DATA / name).read_bytes()


def metric(client: TestClient, name: str, **labels: str) -> float:
    """One sample of the app's /metrics, parsed by prometheus-client's own text parser."""
    for family in text_string_to_metric_families(client.get("/metrics").text):
        for sample in family.samples:
            if sample.name == name and sample.labels == labels:
                return float(sample.value)
    return 0.0


def test_alertmanager_accepted_with_202_after_accept(client: TestClient, rec: Recorder) -> None:
    r = client.post("/alerts/alertmanager", content=body("alertmanager_docs.json"), headers=AUTH)
    assert r.status_code == 202
    assert r.json()["accepted"] == 2
    assert [a.instance for a in rec.alerts] == ["db-1:9100", "web-7d9f"]
    assert r.json()["event_ids"] == [a.event_id for a in rec.alerts]


def test_truncated_alerts_are_reported(client: TestClient) -> None:
    r = client.post(
        "/alerts/alertmanager", content=body("alertmanager_firing_truncated.json"), headers=AUTH
    )
    assert r.status_code == 202 and r.json()["truncated"] == 1
    assert metric(client, "bridge_alerts_truncated_total", source="alertmanager") == 1


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong"},
        {"Authorization": TOKEN},
        {"Authorization": f"Basic {TOKEN}"},
        {"Authorization": f"Bearer {TOKEN}x"},
    ],
)
def test_missing_or_wrong_token_is_401_and_nothing_recorded(
    client: TestClient, rec: Recorder, headers: dict[str, str]
) -> None:
    r = client.post("/alerts/alertmanager", content=body("alertmanager_docs.json"), headers=headers)
    assert r.status_code == 401
    assert r.headers["www-authenticate"] == "Bearer"
    assert rec.batches == []
    assert metric(client, "bridge_alerts_rejected_total", source="alertmanager", reason="auth") == 1


@pytest.mark.parametrize(
    ("source", "payload", "status"),
    [
        ("alertmanager", b"{", 400),
        ("alertmanager", b'{"version": "4", "alerts": "none"}', 422),
        ("grafana", b'{"alerts": [{"status": "firing"}]}', 422),
        ("generic", b'{"message": "no instance"}', 422),
    ],
)
def test_malformed_payload_is_4xx_json_and_nothing_recorded(
    client: TestClient, rec: Recorder, source: str, payload: bytes, status: int
) -> None:
    r = client.post(f"/alerts/{source}", content=payload, headers=AUTH)
    assert r.status_code == status
    assert r.json()["error"]
    assert isinstance(r.json()["details"], list)
    assert rec.batches == []
    # the service keeps running
    ok = client.post("/alerts/generic", json={"message": "m", "instance": "i"}, headers=AUTH)
    assert ok.status_code == 202


def test_one_bad_alert_refuses_the_whole_batch(client: TestClient, rec: Recorder) -> None:
    r = client.post(
        "/alerts/generic",
        json=[{"message": "m", "instance": "i"}, {"message": "no instance"}],
        headers=AUTH,
    )
    assert r.status_code == 422 and rec.batches == []


def test_journal_unavailable_is_503_with_retry_after(client: TestClient, rec: Recorder) -> None:
    rec.down = True
    r = client.post("/alerts/alertmanager", content=body("alertmanager_docs.json"), headers=AUTH)
    assert r.status_code == 503
    assert r.headers["retry-after"].isdigit()
    assert "journal is down" in r.json()["error"]
    assert client.get("/readyz").status_code == 503
    assert metric(client, "bridge_alerts_accepted_total", source="alertmanager") == 0
    assert (
        metric(client, "bridge_alerts_rejected_total", source="alertmanager", reason="journal") == 1
    )


def test_health_ready_and_unknown_source(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json()["status"] == "ready"
    assert client.post("/alerts/nagios", content=b"{}", headers=AUTH).status_code == 404


def test_body_size_limit(rec: Recorder) -> None:
    client = TestClient(create_app(settings(max_body_bytes=100), rec.accept, rec.ready))
    r = client.post("/alerts/alertmanager", content=body("alertmanager_docs.json"), headers=AUTH)
    assert r.status_code == 413 and rec.batches == []


def test_metrics_count_per_source_and_depth(client: TestClient) -> None:
    client.post("/alerts/alertmanager", content=body("alertmanager_docs.json"), headers=AUTH)
    client.post("/alerts/grafana", content=body("grafana_docs.json"), headers=AUTH)
    client.post("/alerts/generic", content=body("pagerduty_acknowledge.json"), headers=AUTH)
    client.post("/alerts/grafana", content=b"[]", headers=AUTH)
    assert metric(client, "bridge_alerts_received_total", source="alertmanager") == 2
    assert metric(client, "bridge_alerts_accepted_total", source="grafana") == 2
    assert metric(client, "bridge_alerts_ignored_total", source="generic") == 1
    assert metric(client, "bridge_alerts_rejected_total", source="grafana", reason="payload") == 1
    assert metric(client, "bridge_journal_depth") == 7
    assert metric(client, "bridge_intake_seconds_count", source="alertmanager") == 1
    assert "# TYPE bridge_tracker_requests_total counter" in client.get("/metrics").text


def test_grafana_signature_checked_when_a_secret_is_set(rec: Recorder) -> None:
    grafana = GrafanaSettings(secret=SecretStr("hmac-key"), signature_header="X-Sig")
    client = TestClient(create_app(settings(grafana=grafana), rec.accept, rec.ready))
    payload = body("grafana_docs.json")
    signature = hmac.new(b"hmac-key", payload, hashlib.sha256).hexdigest()
    bad = client.post("/alerts/grafana", content=payload, headers={**AUTH, "X-Sig": "0" * 64})
    assert bad.status_code == 401 and rec.batches == []
    good = client.post("/alerts/grafana", content=payload, headers={**AUTH, "X-Sig": signature})
    assert good.status_code == 202 and len(rec.alerts) == 2


def test_auth_policy() -> None:
    with pytest.raises(ConfigError, match="BRIDGE_SERVE__TOKEN"):
        auth_token(ServeSettings())
    with pytest.raises(ConfigError, match="loopback"):
        auth_token(ServeSettings(host="0.0.0.0"), insecure_no_auth=True)
    assert auth_token(ServeSettings(host="127.0.0.1"), insecure_no_auth=True) is None
    assert auth_token(ServeSettings(host="::1"), insecure_no_auth=True) is None
    assert auth_token(settings(host="0.0.0.0")) == TOKEN


def test_insecure_no_auth_on_loopback_accepts_without_token(rec: Recorder) -> None:
    app = create_app(ServeSettings(), rec.accept, rec.ready, insecure_no_auth=True)
    r = TestClient(app).post("/alerts/generic", json={"message": "m", "instance": "i"})
    assert r.status_code == 202


def journal_app(tmp_path: Path) -> tuple[TestClient, SqliteJournal]:
    journal = SqliteJournal(tmp_path / "journal.db")
    app = build_app(Settings(serve=settings()), journal, BINDING)
    return TestClient(app), journal


def test_repeats_are_one_entry_and_a_resolve_is_another(tmp_path: Path) -> None:
    client, journal = journal_app(tmp_path)
    firing = body("alertmanager_firing_truncated.json")
    for _ in range(3):  # repeat interval, and the HA twin, deliver the same firing
        assert client.post("/alerts/alertmanager", content=firing, headers=AUTH).status_code == 202
    resolved = body("alertmanager_resolved_truncated.json")
    assert client.post("/alerts/alertmanager", content=resolved, headers=AUTH).status_code == 202
    entries = journal.entries()
    event = "alertmanager-27ecd6a1c9c6b724-20261130T004609Z"
    assert [(e.op, e.event_id) for e in entries] == [("observe", event), ("resolve", event)]
    assert entries[1].payload["ended_at"] == "2026-11-30T00:46:14+00:00"
    [item] = entries[0].evidence
    alert = json.loads(journal.read_evidence(entries[0], item))
    assert alert["labels"]["severity"] == "page"
    assert journal.depth() == 2
    assert client.get("/readyz").status_code == 200
    journal.close()


def test_journal_unwritable_is_503_and_records_none(tmp_path: Path) -> None:
    client, journal = journal_app(tmp_path)
    event = {"message": "m", "instance": "i", "event_id": "e-1"}
    assert client.post("/alerts/generic", json=event, headers=AUTH).status_code == 202
    journal._db.execute("PRAGMA query_only = 1")  # the disk refuses writes from now on
    r = client.post(
        "/alerts/generic",
        json=[{**event, "event_id": "e-2"}, {**event, "event_id": "e-3"}],
        headers=AUTH,
    )
    assert r.status_code == 503 and "cannot take alerts" in r.json()["error"]
    assert r.headers["retry-after"]
    journal._db.execute("PRAGMA query_only = 0")
    assert [e.event_id for e in journal.entries()] == ["e-1"]
    assert client.post("/alerts/generic", json=event, headers=AUTH).status_code == 202
    journal.close()


def test_readyz_is_503_when_the_tracker_does_not_answer(tmp_path: Path) -> None:
    journal = SqliteJournal(tmp_path / "journal.db")
    up = [True]
    app = build_app(Settings(serve=settings()), journal, BINDING, tracker_ready=lambda: up[0])
    client = TestClient(app)
    assert client.get("/readyz").status_code == 200
    up[0] = False
    assert client.get("/readyz").status_code == 503
    journal.close()


def test_accepts_run_concurrently_without_losing_any(tmp_path: Path) -> None:
    client, journal = journal_app(tmp_path)

    def send(n: int) -> None:
        for i in range(10):
            event = {"message": "m", "instance": f"i{n}", "event_id": f"e{n}-{i}"}
            assert client.post("/alerts/generic", json=event, headers=AUTH).status_code == 202

    threads = [threading.Thread(target=send, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert journal.depth() == 40
    journal.close()


def test_serve_settings_from_file_and_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = tmp_path / "bridge.toml"
    cfg.write_text(
        "[serve]\nport = 9000\nclose_on_resolve = true\n"
        '[serve.mapping.grafana]\ninstance = "labels.zone"\n'
    )
    monkeypatch.setenv("BRIDGE_SERVE__TOKEN", "from-env")
    monkeypatch.setenv("BRIDGE_SERVE__HOST", "0.0.0.0")
    s = Settings.load(cfg)
    assert (s.serve.host, s.serve.port, s.serve.close_on_resolve) == ("0.0.0.0", 9000, True)
    assert s.serve.token is not None and s.serve.token.get_secret_value() == "from-env"
    assert s.serve.mapping_for("grafana").instance == "labels.zone"
    assert "from-env" not in repr(s)


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ('[serve]\ntoken = "x"\n', "BRIDGE_SERVE__TOKEN"),
        ('[serve.grafana]\nsecret = "x"\n', "BRIDGE_SERVE__GRAFANA__SECRET"),
        ('[serve.mapping.nagios]\nmessage = "x"\n', "serve.mapping"),
        ("[serve]\nport = 70000\n", "port"),
    ],
)
def test_bad_serve_settings_are_refused_at_load(tmp_path: Path, text: str, needle: str) -> None:
    cfg = tmp_path / "bridge.toml"
    cfg.write_text(text)
    with pytest.raises(ConfigError, match=needle):
        Settings.load(cfg)


def test_bad_mapping_expression_stops_the_app_at_start(rec: Recorder) -> None:
    from tracker_bridge.settings import AlertMappingSettings

    bad = settings(mapping={"alertmanager": AlertMappingSettings(message="labels[")})
    with pytest.raises(ConfigError, match=r"alertmanager message"):
        create_app(bad, rec.accept, rec.ready)
