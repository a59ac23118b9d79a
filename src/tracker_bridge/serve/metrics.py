"""Prometheus metrics of the intake, in a registry of their own (one per app, so tests and
several apps in one process never collide)."""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

__all__ = ["CONTENT_TYPE_LATEST", "ServeMetrics"]

# accept latency is a local fsync plus parsing: most of it sits between 1 ms and 100 ms
_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class ServeMetrics:
    """Counters the app updates; ``tracker_requests``/``tracker_errors`` are for the worker."""

    def __init__(self, depth: Callable[[], float] | None = None) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.received = Counter(
            "bridge_alerts_received", "Alerts read from valid payloads.", ["source"], registry=r
        )
        self.accepted = Counter(
            "bridge_alerts_accepted", "Alerts made durable (answered 202).", ["source"], registry=r
        )
        self.rejected = Counter(
            "bridge_alerts_rejected",
            "Alert requests refused, nothing recorded (auth, signature, payload, size, journal).",
            ["source", "reason"],
            registry=r,
        )
        self.truncated = Counter(
            "bridge_alerts_truncated",
            "Alerts the sender left out of a notification (Alertmanager max_alerts).",
            ["source"],
            registry=r,
        )
        self.ignored = Counter(
            "bridge_alerts_ignored",
            "Events that are not sightings (PagerDuty acknowledge).",
            ["source"],
            registry=r,
        )
        self.latency = Histogram(
            "bridge_intake_seconds",
            "Time from request to answer on the alert endpoints.",
            ["source"],
            buckets=_BUCKETS,
            registry=r,
        )
        self.tracker_requests = Counter(
            "bridge_tracker_requests", "Requests sent to the tracker.", ["tracker"], registry=r
        )
        self.tracker_errors = Counter(
            "bridge_tracker_errors",
            "Tracker requests that failed (after which the entry stays in the journal).",
            ["tracker"],
            registry=r,
        )
        self.depth = Gauge(
            "bridge_journal_depth", "Accepted alerts not yet delivered to the tracker.", registry=r
        )
        if depth is not None:
            self.depth.set_function(depth)

    def render(self) -> bytes:
        return generate_latest(self.registry)
