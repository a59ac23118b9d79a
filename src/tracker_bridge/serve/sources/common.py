"""What every source shares: the result of reading a payload, validation errors, alert mapping."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError

from tracker_bridge.errors import AlertPayloadError
from tracker_bridge.serve.alerts import Alert, Link, Status, event_id_for, parse_time
from tracker_bridge.serve.mapping import AlertMapping

T = TypeVar("T")


class Payload(BaseModel):
    """Base of payload models: unknown fields are tolerated (senders add fields over time)."""

    model_config = ConfigDict(extra="ignore", frozen=True)


@dataclass(frozen=True)
class Intake:
    """A payload read: the alerts to accept, and what the sender said it left out or we skipped."""

    alerts: tuple[Alert, ...]
    truncated: int = 0
    """Alerts the sender dropped from this notification (Alertmanager ``max_alerts``)."""
    ignored: int = 0
    """Events that are not sightings (PagerDuty ``acknowledge``)."""


def load_json(body: bytes) -> Any:
    """The body as JSON; 400 when it is not JSON at all."""
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise AlertPayloadError(
            f"the body is not JSON: {exc}.",
            hint="Send Content-Type: application/json with a JSON body.",
            status=400,
        ) from None


def validate(adapter: TypeAdapter[T], data: Any, what: str) -> T:
    """Validate ``data``; 422 naming every problem and where it is."""
    try:
        return adapter.validate_python(data)
    except ValidationError as exc:
        details = tuple(
            f"{'.'.join(str(p) for p in err['loc']) or '(body)'}: {err['msg']}"
            for err in exc.errors()[:20]
        )
        raise AlertPayloadError(
            f"the body is not a valid {what} payload ({exc.error_count()} problem(s)).",
            hint="See details; nothing from this request was recorded.",
            status=422,
            details=details,
        ) from None


def time_field(value: str | None, where: str) -> datetime | None:
    try:
        return parse_time(value)
    except ValueError:
        raise AlertPayloadError(
            f"{where}: {value!r} is not an RFC 3339 time.", status=422, details=(where,)
        ) from None


def map_alert(
    *,
    source: str,
    index: int,
    status: Status,
    context: Mapping[str, Any],
    mapping: AlertMapping,
    fingerprint: str,
    starts_at: datetime | None,
    ends_at: datetime | None,
    labels: Mapping[str, str],
    annotations: Mapping[str, str],
    links: tuple[Link, ...],
    values: Mapping[str, Any] | None = None,
    event_id: str = "",
    require_message: bool = True,
) -> Alert:
    """Apply the mapping to one alert; 422 when it yields no message (and one is required)."""
    where = f"alerts.{index}"
    message = mapping.message(context)
    if not message and require_message:
        raise AlertPayloadError(
            f"{where}: the mapping gave no message for this alert.",
            hint="Give it an annotations.summary or alertname label, or set "
            f"[serve.mapping.{source}] message.",
            status=422,
            details=(where,),
        )
    if mapping.event_id is not None:
        event_id = mapping.event_id(context)
    if not event_id:
        event_id = event_id_for(source, fingerprint, starts_at)
    return Alert(
        source=source,
        status=status,
        message=message,
        instance=mapping.instance(context) or "unknown",
        event_id=event_id,
        starts_at=starts_at,
        ends_at=ends_at,
        impact=mapping.impact(context),
        labels=dict(labels),
        annotations=dict(annotations),
        links=tuple(link for link in links if link.url),
        values=dict(values or {}),
    )
