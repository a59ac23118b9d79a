"""The one shape every alert source is read into, before anything is made durable.

An ``Alert`` is a sighting on its way in: what broke (``message``), where (``instance``), the
``event_id`` that makes delivery idempotent, and the source's own data kept as evidence.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

Status = Literal["firing", "resolved"]


@dataclass(frozen=True)
class Link:
    """A link back to where the alert came from (generator URL, dashboard, runbook)."""

    url: str
    title: str = ""


@dataclass(frozen=True)
class Alert:
    """One alert, mapped; ``evidence_text`` is what is kept of the source's own data."""

    source: str
    status: Status
    message: str
    instance: str
    event_id: str
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    impact: str = ""
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)
    links: tuple[Link, ...] = ()
    values: Mapping[str, Any] = field(default_factory=dict)

    @property
    def generator_url(self) -> str:
        return self.links[0].url if self.links else ""

    def evidence(self) -> dict[str, Any]:
        """Labels, annotations, links and values as a small JSON-ready document."""
        doc: dict[str, Any] = {
            "source": self.source,
            "status": self.status,
            "labels": dict(sorted(self.labels.items())),
            "annotations": dict(sorted(self.annotations.items())),
        }
        if self.links:
            doc["links"] = [{"url": link.url, "title": link.title} for link in self.links]
        if self.values:
            doc["values"] = dict(self.values)
        if self.starts_at is not None:
            doc["starts_at"] = iso(self.starts_at)
        if self.ends_at is not None:
            doc["ends_at"] = iso(self.ends_at)
        return doc

    def evidence_text(self) -> str:
        """The evidence document as text, scrubbed of secrets like any evidence."""
        from tracker_bridge.domain.redaction import redact_text

        text, _ = redact_text(json.dumps(self.evidence(), indent=2, ensure_ascii=False))
        return text

    def to_record(self) -> dict[str, Any]:
        """Everything the delivery side needs, as JSON-ready data (the journal's payload)."""
        return {
            "source": self.source,
            "status": self.status,
            "message": self.message,
            "instance": self.instance,
            "event_id": self.event_id,
            "starts_at": iso(self.starts_at) if self.starts_at else None,
            "ends_at": iso(self.ends_at) if self.ends_at else None,
            "impact": self.impact,
            "links": [{"url": link.url, "title": link.title} for link in self.links],
            "evidence": self.evidence_text(),
        }


def iso(moment: datetime) -> str:
    """UTC, to the second, with a Z: the form event ids and records use."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def fingerprint_of(labels: Mapping[str, str]) -> str:
    """A stable fingerprint from labels, for senders that do not send one."""
    canonical = json.dumps(dict(sorted(labels.items())), separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]


def event_id_for(source: str, fingerprint: str, starts_at: datetime | None) -> str:
    """``<source>-<fingerprint>-<start>``: one id per alert and firing period.

    Alertmanager repeats and both members of an HA pair send the same fingerprint and start, so
    they map to one id; the resolved notification keeps the start, so it maps to its firing; a
    re-fire after resolving starts later, so it is a new sighting.
    """
    start = starts_at.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ") if starts_at else "unstarted"
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in fingerprint)[:128]
    return f"{source}-{safe}-{start}"


def parse_time(value: str | None) -> datetime | None:
    """An RFC 3339 time, or None for absent and Go's zero time (``0001-01-01T00:00:00Z``).

    Raises ``ValueError`` for text that is not a time.
    """
    if not value or value.startswith("0001-01-01"):
        return None
    moment = datetime.fromisoformat(value.strip())
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
