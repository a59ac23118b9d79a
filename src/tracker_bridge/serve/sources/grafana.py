"""Grafana alerting webhook payloads (contact point of type webhook).

The body is Alertmanager's notification data extended by Grafana (``receivers/webhook`` in
grafana/alerting: ``orgId``, ``title``, ``state``, ``message``, and per alert ``values``,
``valueString``, ``dashboardURL``, ``panelURL``, ``silenceURL``); its ``version`` is "1".

Signatures (grafana/alerting ``http/hmac.go``): when the contact point has an HMAC secret, Grafana
sends the lowercase hex HMAC-SHA256 of the raw body in ``X-Grafana-Alert-Signature`` (header name
configurable); with a timestamp header configured, what is signed is ``<unix seconds>:<body>``.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping
from typing import Any, Final, Literal

from pydantic import Field, TypeAdapter

from tracker_bridge.errors import AlertPayloadError
from tracker_bridge.serve.alerts import Link
from tracker_bridge.serve.mapping import AlertMapping
from tracker_bridge.serve.sources.alertmanager import AlertmanagerAlert, alert_of
from tracker_bridge.serve.sources.common import (
    Intake,
    Payload,
    load_json,
    validate,
)

NAME: Final = "grafana"


class GrafanaAlert(AlertmanagerAlert):
    silenceURL: str = ""
    dashboardURL: str = ""
    panelURL: str = ""
    values: dict[str, float | int | str | None] | None = None
    valueString: str = ""


class GrafanaMessage(Payload):
    receiver: str = ""
    status: Literal["firing", "resolved"] = "firing"
    orgId: int | None = None
    alerts: list[GrafanaAlert]
    truncatedAlerts: int = Field(default=0, ge=0)
    externalURL: str = ""
    title: str = ""


_ADAPTER = TypeAdapter(GrafanaMessage)


class SignatureError(AlertPayloadError):
    """A Grafana request whose HMAC signature is missing, wrong or too old (401)."""


def verify_signature(
    body: bytes,
    headers: Mapping[str, str],
    *,
    secret: str,
    header: str,
    timestamp_header: str = "",
    max_skew: float = 300.0,
    now: float | None = None,
) -> None:
    """Raise ``SignatureError`` unless ``headers`` carry Grafana's signature of ``body``."""
    signature = headers.get(header.lower(), "").strip().lower()
    if not signature:
        raise SignatureError(f"missing signature header {header}.", status=401)
    signed = body
    if timestamp_header:
        stamp = headers.get(timestamp_header.lower(), "").strip()
        try:
            sent = int(stamp)
        except ValueError:
            raise SignatureError(
                f"missing or invalid timestamp header {timestamp_header}.", status=401
            ) from None
        if abs((time.time() if now is None else now) - sent) > max_skew:
            raise SignatureError(
                f"signature timestamp is more than {max_skew:g}s away from now (replayed or "
                "clock skew).",
                status=401,
            )
        signed = stamp.encode("ascii") + b":" + body
    expected = hmac.new(secret.encode("utf-8"), signed, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected.encode("ascii"), signature.encode("ascii", "replace")):
        raise SignatureError(f"signature in {header} does not match the body.", status=401)


def parse(body: bytes, mapping: AlertMapping) -> Intake:
    """Read one Grafana webhook notification into alerts."""
    message = validate(_ADAPTER, load_json(body), "Grafana webhook")
    alerts = []
    for index, item in enumerate(message.alerts):
        values: dict[str, Any] = dict(item.values or {})
        if item.valueString:
            values.setdefault("valueString", item.valueString)
        links = (
            Link(item.generatorURL, "rule"),
            Link(item.dashboardURL, "dashboard"),
            Link(item.panelURL, "panel"),
        )
        alerts.append(
            alert_of(
                NAME,
                index,
                item,
                mapping,
                receiver=message.receiver,
                external_url=message.externalURL,
                links=links,
                values=values,
            )
        )
    return Intake(alerts=tuple(alerts), truncated=message.truncatedAlerts)
