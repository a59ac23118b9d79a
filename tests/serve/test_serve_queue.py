"""`bridge queue` shows what `bridge serve` accepted and has not delivered, with why."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from pydantic import SecretStr
from starlette.testclient import TestClient

from support.cli import run
from tracker_bridge.domain.tickets import NewTicket, Ticket
from tracker_bridge.errors import TrackerRefused
from tracker_bridge.journal import binding, open_journal
from tracker_bridge.serve.server import build_app
from tracker_bridge.serve.worker import Worker
from tracker_bridge.settings import Settings
from tracker_bridge.trackers.local import LocalTracker

TOKEN = "queue-test-token"


class Refusing(LocalTracker):
    def create(self, new: NewTicket) -> Ticket:
        raise TrackerRefused("403 Forbidden: the account may not create issues", status=403)


def test_queue_lists_serve_backlog_with_reasons(capsys: pytest.CaptureFixture[str]) -> None:
    settings = Settings.load()  # defaults: .bridge/journal.db and .bridge/bridge.db here
    settings = settings.model_copy(
        update={"serve": settings.serve.model_copy(update={"token": SecretStr(TOKEN)})}
    )
    journal = open_journal(settings)
    here = binding(settings)
    client = TestClient(build_app(settings, journal, here))
    start = datetime(2026, 11, 30, 3, tzinfo=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    alert = {
        "labels": {"alertname": "DiskFull", "instance": "db-1"},
        "annotations": {"summary": "No space left on device"},
        "startsAt": start,
        "fingerprint": "abc123",
    }
    for status, end in (("firing", "0001-01-01T00:00:00Z"), ("resolved", "2026-11-30T03:10:00Z")):
        body = {"version": "4", "status": status, "alerts": [{**alert, "status": status, "endsAt": end}]}  # fmt: skip
        r = client.post("/alerts/alertmanager", json=body, headers={"Authorization": f"Bearer {TOKEN}"})  # fmt: skip
        assert r.status_code == 202

    code, out, _ = run(capsys, "queue", "--json")
    assert code == 0
    listed = json.loads(out)
    assert [(e["op"], e["state"], e["bound_here"]) for e in listed] == [
        ("observe", "pending", True),
        ("resolve", "pending", True),
    ]
    assert listed[0]["event_id"] == "alertmanager-abc123-20261130T030000Z"

    tracker = Refusing(settings.tracker.path)
    worker = Worker(tracker, journal, settings.conventions_value(), here, rate=1000.0)
    assert worker.step()  # the firing: refused, kept with the answer
    code, out, _ = run(capsys, "queue")
    assert code == 0
    assert "refused (403): 403 Forbidden" in out and "resolve  alertmanager-abc123" in out
    firing = listed[0]["id"][:12]
    code, out, _ = run(capsys, "queue", "retry", firing)
    assert code == 0
    code, out, _ = run(capsys, "queue", "--json")
    assert [e["state"] for e in json.loads(out)] == ["pending", "pending"]
    tracker.close()
    journal.close()
