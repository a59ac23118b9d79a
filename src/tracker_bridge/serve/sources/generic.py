"""Generic JSON alerts, and PagerDuty Events API v2 events.

The body is one JSON object or an array of them. Generic fields: ``message``, ``instance``, and
optionally ``event_id``, ``status`` (``firing`` | ``resolved``), ``at``, ``ended_at``, ``impact``,
``labels``, ``links``. PagerDuty Events v2 fields (developer.pagerduty.com, "Send an Alert Event")
are read too: ``dedup_key`` is the event id, ``event_action`` ``trigger``/``resolve`` the status
(``acknowledge`` is not a sighting and is skipped), ``payload.summary`` the message,
``payload.source`` the instance, ``payload.timestamp`` the time, ``links`` the links.
``routing_key`` is a credential and is never kept.

Without ``event_id`` or ``dedup_key`` each event is a new sighting; send one of them so that
repeats add nothing and a resolve finds its firing.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Final, Literal

from pydantic import Field, TypeAdapter

from tracker_bridge.errors import AlertPayloadError
from tracker_bridge.serve.alerts import Alert, Link, Status, fingerprint_of
from tracker_bridge.serve.mapping import AlertMapping, Defaults
from tracker_bridge.serve.sources.common import (
    Intake,
    Payload,
    load_json,
    map_alert,
    time_field,
    validate,
)

NAME: Final = "generic"
DEFAULTS = Defaults(message="message", instance="instance", impact="impact")


class PagerDutyPayload(Payload):
    summary: str = ""
    source: str = ""
    timestamp: str | None = None
    severity: str = ""
    component: str = ""
    group: str = ""
    class_: str = Field(default="", alias="class")
    custom_details: dict[str, Any] | str | None = None


class GenericEvent(Payload):
    message: str = ""
    instance: str = ""
    event_id: str = Field(default="", max_length=255)
    status: Literal["firing", "resolved"] | None = None
    at: str | None = None
    ended_at: str | None = None
    impact: str = ""
    labels: dict[str, str] = Field(default_factory=dict)
    links: list[str | dict[str, str]] = Field(default_factory=list)
    dedup_key: str = Field(default="", max_length=255)
    event_action: Literal["trigger", "resolve", "acknowledge"] | None = None
    payload: PagerDutyPayload | None = None
    client: str = ""
    client_url: str = ""


_ADAPTER = TypeAdapter(list[GenericEvent])


def parse(body: bytes, mapping: AlertMapping, *, now: datetime | None = None) -> Intake:
    """Read a generic or PagerDuty body (one object or an array) into alerts."""
    data = load_json(body)
    events = validate(_ADAPTER, [data] if isinstance(data, dict) else data, "generic alert")
    if not events:
        raise AlertPayloadError("the body is an empty array; send at least one alert.", status=422)
    received = now or datetime.now(UTC)
    alerts = []
    ignored = 0
    for index, event in enumerate(events):
        if event.event_action == "acknowledge":
            ignored += 1
            continue
        alerts.append(_alert(index, event, mapping, received))
    return Intake(alerts=tuple(alerts), ignored=ignored)


def _alert(index: int, event: GenericEvent, mapping: AlertMapping, received: datetime) -> Alert:
    where = f"{index}"
    pd = event.payload or PagerDutyPayload()
    status: Status = event.status or ("resolved" if event.event_action == "resolve" else "firing")
    message = event.message or pd.summary
    instance = event.instance or pd.source
    event_id = event.event_id or (f"pd-{event.dedup_key}" if event.dedup_key else "")
    if status == "firing" and not (message and instance):
        missing = " and ".join(
            n for n, v in (("message", message), ("instance", instance)) if not v
        )
        raise AlertPayloadError(
            f"alert {where}: {missing} missing.",
            hint="A firing alert needs message and instance (PagerDuty: payload.summary and "
            "payload.source).",
            status=422,
            details=(f"{where}: {missing} missing",),
        )
    if status == "resolved" and not event_id:
        raise AlertPayloadError(
            f"alert {where}: a resolved alert needs event_id (or PagerDuty dedup_key) to find "
            "its firing.",
            status=422,
            details=(f"{where}.event_id: missing",),
        )
    at = time_field(event.at or pd.timestamp, f"{where}.at")
    ended_at = time_field(event.ended_at, f"{where}.ended_at")
    if status == "resolved" and ended_at is None:
        ended_at = at or received
    links = [Link(event.client_url, event.client or "source")] if event.client_url else []
    for link in event.links:
        if isinstance(link, str):
            links.append(Link(link))
        else:
            links.append(Link(link.get("href") or link.get("url", ""), link.get("text", "")))
    labels = dict(event.labels)
    for key in ("severity", "component", "group"):
        if getattr(pd, key):
            labels.setdefault(key, getattr(pd, key))
    if pd.class_:
        labels.setdefault("class", pd.class_)
    values: dict[str, Any] = {}
    if isinstance(pd.custom_details, dict):
        values = dict(pd.custom_details)
    elif pd.custom_details:
        values = {"details": pd.custom_details}
    context = {
        "source": NAME,
        "status": status,
        "message": message,
        "instance": instance,
        "impact": event.impact,
        "event_id": event_id,
        "labels": labels,
        "annotations": {},
        "at": event.at or pd.timestamp or "",
        "payload": pd.model_dump(by_alias=True),
        "values": values,
    }
    return map_alert(
        source=NAME,
        index=index,
        status=status,
        context=context,
        mapping=mapping,
        fingerprint=fingerprint_of({"message": message, "instance": instance}),
        # without an id there is nothing to tie repeats together: each event is its own sighting
        starts_at=at or received,
        ends_at=ended_at if status == "resolved" else None,
        labels=labels,
        annotations={},
        links=tuple(links),
        values=values,
        event_id=event_id,
        require_message=status == "firing",
    )
