"""Prometheus Alertmanager webhook payloads, version 4.

The format is ``notify/webhook/webhook.go`` (``Message``: ``template.Data`` plus ``version``,
``groupKey`` and ``truncatedAlerts``) and the ``webhook_config`` section of Alertmanager's
configuration docs. Unknown fields are ignored. ``truncatedAlerts`` counts alerts the receiver's
``max_alerts`` dropped from this notification: they are reported (response, log, metric), and
Alertmanager sends them again on the group's next notification.
"""

from __future__ import annotations

from typing import Any, Final, Literal

from pydantic import Field, TypeAdapter

from tracker_bridge.errors import AlertPayloadError
from tracker_bridge.serve.alerts import Alert, Link, fingerprint_of
from tracker_bridge.serve.mapping import AlertMapping
from tracker_bridge.serve.sources.common import (
    Intake,
    Payload,
    load_json,
    map_alert,
    time_field,
    validate,
)

NAME: Final = "alertmanager"
VERSION = "4"


class AlertmanagerAlert(Payload):
    status: Literal["firing", "resolved"]
    labels: dict[str, str]
    annotations: dict[str, str] = Field(default_factory=dict)
    startsAt: str | None = None
    endsAt: str | None = None
    generatorURL: str = ""
    fingerprint: str = ""


class AlertmanagerMessage(Payload):
    version: str
    groupKey: str = ""
    truncatedAlerts: int = Field(default=0, ge=0)
    status: Literal["firing", "resolved"] = "firing"
    receiver: str = ""
    groupLabels: dict[str, str] = Field(default_factory=dict)
    commonLabels: dict[str, str] = Field(default_factory=dict)
    commonAnnotations: dict[str, str] = Field(default_factory=dict)
    externalURL: str = ""
    alerts: list[AlertmanagerAlert]


_ADAPTER = TypeAdapter(AlertmanagerMessage)


def parse(body: bytes, mapping: AlertMapping) -> Intake:
    """Read one webhook notification into alerts; ``AlertPayloadError`` if it is not one."""
    message = validate(_ADAPTER, load_json(body), "Alertmanager webhook")
    if message.version != VERSION:
        raise AlertPayloadError(
            f"Alertmanager webhook version {message.version!r} is not supported (expected "
            f"{VERSION!r}).",
            hint="Alertmanager 0.x sends version 4; check what posts to /alerts/alertmanager.",
            status=422,
        )
    alerts = [
        alert_of(
            NAME,
            index,
            item,
            mapping,
            receiver=message.receiver,
            external_url=message.externalURL,
            links=(Link(item.generatorURL, "source"),),
        )
        for index, item in enumerate(message.alerts)
    ]
    return Intake(alerts=tuple(alerts), truncated=message.truncatedAlerts)


def alert_of(
    source: str,
    index: int,
    item: AlertmanagerAlert,
    mapping: AlertMapping,
    *,
    receiver: str,
    external_url: str,
    links: tuple[Link, ...],
    values: dict[str, Any] | None = None,
) -> Alert:
    """One alert of Alertmanager's notification shape (Grafana sends the same, extended)."""
    context = {
        "source": source,
        "status": item.status,
        "labels": item.labels,
        "annotations": item.annotations,
        "fingerprint": item.fingerprint,
        "starts_at": item.startsAt or "",
        "ends_at": item.endsAt or "",
        "generator_url": item.generatorURL,
        "values": values or {},
        "receiver": receiver,
        "external_url": external_url,
    }
    starts_at = time_field(item.startsAt, f"alerts.{index}.startsAt")
    ends_at = time_field(item.endsAt, f"alerts.{index}.endsAt")
    return map_alert(
        source=source,
        index=index,
        status=item.status,
        context=context,
        mapping=mapping,
        fingerprint=item.fingerprint or fingerprint_of(item.labels),
        starts_at=starts_at,
        ends_at=ends_at if item.status == "resolved" else None,
        labels=item.labels,
        annotations=item.annotations,
        links=links,
        values=values,
    )
