"""Alert sources: payloads from the projects' own docs and a real Alertmanager, read into alerts."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tracker_bridge.errors import AlertPayloadError, ConfigError
from tracker_bridge.serve.alerts import event_id_for, parse_time
from tracker_bridge.serve.mapping import AlertMapping, Defaults
from tracker_bridge.serve.sources import alertmanager, generic, grafana
from tracker_bridge.settings import AlertMappingSettings

DATA = Path(__file__).parents[1] / "data" / "alerts"


def fixture(name: str) -> bytes:
    return (DATA / name).read_bytes()


PROMETHEUS = Defaults()


def mapping(defaults: Defaults = PROMETHEUS, **expressions: str) -> AlertMapping:
    return AlertMapping.build(AlertMappingSettings(**expressions), "test", defaults)


GENERIC = mapping(generic.DEFAULTS)


# Alertmanager


def test_real_alertmanager_payload_reports_truncated_alerts() -> None:
    intake = alertmanager.parse(fixture("alertmanager_firing_truncated.json"), mapping())
    assert intake.truncated == 1
    (alert,) = intake.alerts
    assert alert.status == "firing"
    assert alert.message == "No space left on device"
    assert alert.instance == "replica-2"
    assert alert.event_id == "alertmanager-27ecd6a1c9c6b724-20261130T004609Z"
    assert alert.ends_at is None  # Go's zero time means "not ended"
    assert alert.generator_url.startswith("http://prometheus.example:9090/graph")


def test_resolved_notification_carries_the_event_id_of_its_firing() -> None:
    firing = alertmanager.parse(fixture("alertmanager_firing_truncated.json"), mapping())
    resolved = alertmanager.parse(fixture("alertmanager_resolved_truncated.json"), mapping())
    assert resolved.alerts[0].status == "resolved"
    assert resolved.alerts[0].event_id == firing.alerts[0].event_id
    assert resolved.alerts[0].ends_at == datetime(2026, 11, 30, 0, 46, 14, tzinfo=UTC)


def test_docs_payload_defaults_and_unknown_fields() -> None:
    intake = alertmanager.parse(fixture("alertmanager_docs.json"), mapping())
    first, second = intake.alerts
    assert (first.message, first.instance) == ("Instance db-1:9100 down", "db-1:9100")
    assert first.starts_at == datetime(2024, 5, 1, 10, 0, 0, 123456, tzinfo=UTC)
    # no summary: the alert name; no instance label: the pod
    assert (second.message, second.instance) == ("InstanceDown", "web-7d9f")
    assert second.status == "resolved"
    assert intake.truncated == 0


def test_refire_after_resolve_is_a_new_event_id() -> None:
    start = parse_time("2024-05-01T10:00:00Z")
    later = parse_time("2024-05-01T11:00:00Z")
    assert event_id_for("alertmanager", "fp", start) != event_id_for("alertmanager", "fp", later)
    assert event_id_for("alertmanager", "fp", start) == event_id_for(
        "alertmanager", "fp", parse_time("2024-05-01T12:00:00+02:00")
    )


def test_evidence_keeps_labels_annotations_links_and_is_scrubbed() -> None:
    body = json.loads(fixture("alertmanager_docs.json"))
    body["alerts"][0]["annotations"]["runbook"] = "https://bot:hunter2pass@wiki.example/run"
    intake = alertmanager.parse(json.dumps(body).encode(), mapping())
    text = intake.alerts[0].evidence_text()
    doc = json.loads(text)
    assert doc["labels"]["job"] == "node"
    assert doc["annotations"]["summary"] == "Instance db-1:9100 down"
    assert doc["links"][0]["url"].startswith("http://prometheus.example:9090/")
    assert "hunter2pass" not in text and "[REDACTED:" in text


def test_configured_mapping_expressions() -> None:
    m = mapping(
        message="labels.alertname ~ ': ' ~ annotations.description",
        instance="labels.job ~ '/' ~ labels.instance",
        event_id="'custom-' ~ fingerprint",
    )
    first = alertmanager.parse(fixture("alertmanager_docs.json"), m).alerts[0]
    assert first.message.startswith("InstanceDown: db-1:9100 of job node")
    assert first.instance == "node/db-1:9100"
    assert first.event_id == "custom-5ef77f1f8a3ecfa5"


def test_mapping_is_sandboxed_and_checked_at_start() -> None:
    with pytest.raises(ConfigError, match="not a valid expression"):
        mapping(message="labels.alertname +")
    sneaky = mapping(message="labels.__class__.__mro__[1].__subclasses__()")
    with pytest.raises(AlertPayloadError) as err:
        alertmanager.parse(fixture("alertmanager_docs.json"), sneaky)
    assert err.value.status == 422


@pytest.mark.parametrize(
    ("body", "status", "needle"),
    [
        (b"{not json", 400, "not JSON"),
        (b'{"version": "4"}', 422, "alerts"),
        (b'{"version": "3", "alerts": []}', 422, "version '3'"),
        (
            b'{"version": "4", "alerts": [{"status": "pending", "labels": {}}]}',
            422,
            "alerts.0.status",
        ),
        (
            b'{"version": "4", "alerts": [{"status": "firing", "labels": {"alertname": "A"},'
            b' "startsAt": "yesterday"}]}',
            422,
            "startsAt",
        ),
        (b'{"version": "4", "alerts": [{"status": "firing", "labels": {}}]}', 422, "no message"),
    ],
)
def test_malformed_alertmanager_payloads(body: bytes, status: int, needle: str) -> None:
    with pytest.raises(AlertPayloadError) as err:
        alertmanager.parse(body, mapping())
    assert err.value.status == status
    assert needle in str(err.value) + " ".join(err.value.details)


# Grafana


def test_grafana_docs_payload() -> None:
    intake = grafana.parse(fixture("grafana_docs.json"), mapping())
    first, second = intake.alerts
    assert first.message == "This alert was triggered for zone us-1"
    assert first.instance == "unknown"  # the docs' alerts carry no instance/pod/host/node label
    assert first.values == {"B": 44.23943737541908, "C": 1}
    assert first.event_id == "grafana-c6eadffa33fcdf37-20211012T075103Z"
    assert [link.url for link in first.links] == [
        "https://play.grafana.org/alerting/1afz29v7z/edit"
    ]
    assert second.labels["zone"] == "eu-1"


def test_grafana_instance_mapping_from_a_label() -> None:
    intake = grafana.parse(fixture("grafana_docs.json"), mapping(instance="labels.zone"))
    assert [a.instance for a in intake.alerts] == ["us-1", "eu-1"]


def _sign(secret: str, body: bytes, stamp: str = "") -> str:
    signed = (stamp + ":").encode() + body if stamp else body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def test_grafana_signature_without_timestamp() -> None:
    body = fixture("grafana_docs.json")
    header = "X-Grafana-Alert-Signature"
    good = {header.lower(): _sign("s3", body)}
    grafana.verify_signature(body, good, secret="s3", header=header)
    for headers in ({}, {header.lower(): _sign("other", body)}, {header.lower(): "zz"}):
        with pytest.raises(grafana.SignatureError) as err:
            grafana.verify_signature(body, headers, secret="s3", header=header)
        assert err.value.status == 401
    with pytest.raises(grafana.SignatureError):
        grafana.verify_signature(body + b" ", good, secret="s3", header=header)


def test_grafana_signature_with_timestamp_and_replay_window() -> None:
    body = b'{"alerts": []}'
    headers = {"x-sig": _sign("k", body, "1700000000"), "x-ts": "1700000000"}
    opts = {"secret": "k", "header": "X-Sig", "timestamp_header": "X-Ts"}
    grafana.verify_signature(body, headers, now=1700000100, **opts)  # type: ignore[arg-type]
    with pytest.raises(grafana.SignatureError, match="away from now"):
        grafana.verify_signature(body, headers, now=1700001000, **opts)  # type: ignore[arg-type]
    with pytest.raises(grafana.SignatureError, match="timestamp"):
        grafana.verify_signature(body, {"x-sig": headers["x-sig"]}, now=1700000000, **opts)  # type: ignore[arg-type]


# generic and PagerDuty


def test_pagerduty_trigger_from_its_docs() -> None:
    intake = generic.parse(fixture("pagerduty_trigger.json"), GENERIC)
    (alert,) = intake.alerts
    assert alert.status == "firing"
    assert alert.message == "Example alert on host1.example.com"
    assert alert.instance.startswith("monitoringtool:cloudvendor:central-region-dc-01")
    assert alert.event_id == "pd-samplekeyhere"
    assert alert.starts_at == datetime(2015, 7, 17, 8, 42, 58, 315000, tzinfo=UTC)
    assert alert.labels["severity"] == "info" and alert.labels["class"] == "deploy"
    assert alert.values["load avg"] == 0.75
    assert [link.url for link in alert.links] == [
        "https://monitoring.example.com",
        "https://example.com/",
    ]
    assert "samplekeyhere" not in json.dumps(alert.evidence()).replace("pd-samplekeyhere", "")


def test_pagerduty_resolve_and_acknowledge() -> None:
    (resolved,) = generic.parse(fixture("pagerduty_resolve.json"), GENERIC).alerts
    assert (resolved.status, resolved.event_id, resolved.message) == (
        "resolved",
        "pd-dedupkeyhere",
        "",
    )
    assert resolved.ends_at is not None
    ack = generic.parse(fixture("pagerduty_acknowledge.json"), GENERIC)
    assert ack.alerts == () and ack.ignored == 1


def test_generic_object_and_array() -> None:
    one = {
        "message": "Disk quota exceeded",
        "instance": "nfs-1",
        "event_id": "ev-1",
        "at": "2024-05-01T10:00:00Z",
        "impact": "uploads fail",
        "labels": {"team": "storage"},
        "links": ["https://grafana.example/d/abc", {"url": "https://runbook", "title": "rb"}],
    }
    resolved = {**one, "status": "resolved", "ended_at": "2024-05-01T10:20:00Z"}
    (a,) = generic.parse(json.dumps(one).encode(), GENERIC).alerts
    assert (a.message, a.instance, a.event_id, a.impact) == (
        "Disk quota exceeded",
        "nfs-1",
        "ev-1",
        "uploads fail",
    )
    assert [link.url for link in a.links] == ["https://grafana.example/d/abc", "https://runbook"]
    both = generic.parse(json.dumps([one, resolved]).encode(), GENERIC).alerts
    assert [x.status for x in both] == ["firing", "resolved"]
    assert both[1].ends_at == datetime(2024, 5, 1, 10, 20, tzinfo=UTC)


def test_generic_without_event_id_derives_one_from_message_instance_and_time() -> None:
    body = b'{"message": "m", "instance": "i", "at": "2024-05-01T10:00:00Z"}'
    first = generic.parse(body, GENERIC).alerts[0]
    again = generic.parse(body, GENERIC).alerts[0]
    assert first.event_id == again.event_id and first.event_id.startswith("generic-")


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        (b"[]", "empty array"),
        (b'{"instance": "i"}', "message missing"),
        (b'{"message": "m"}', "instance missing"),
        (b'{"status": "resolved", "message": "m", "instance": "i"}', "needs event_id"),
        (b'{"message": "m", "instance": "i", "status": "open"}', "status"),
        (b'{"message": "m", "instance": "i", "labels": {"a": 1}}', "labels.a"),
        (b'"just a string"', "problem"),
        (b'{"message": "m", "instance": "i", "at": "soon"}', "RFC 3339"),
    ],
)
def test_malformed_generic_payloads(body: bytes, needle: str) -> None:
    with pytest.raises(AlertPayloadError) as err:
        generic.parse(body, GENERIC)
    assert err.value.status == 422
    assert needle in str(err.value) + " ".join(err.value.details)
