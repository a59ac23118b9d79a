"""Wiring for ``bridge serve``: the journal, the app, the worker, and uvicorn."""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import time
from collections.abc import Callable

from starlette.applications import Starlette

from tracker_bridge.errors import BridgeError
from tracker_bridge.journal.base import Binding, Journal
from tracker_bridge.serve.app import create_app
from tracker_bridge.serve.intake import JournalIntake
from tracker_bridge.serve.logs import LOGGER
from tracker_bridge.serve.metrics import ServeMetrics
from tracker_bridge.settings import Settings
from tracker_bridge.trackers.base import Tracker

log = logging.getLogger(LOGGER)

# uvicorn stops accepting on SIGTERM and waits for requests in flight; an accept is a local
# commit, so this bound only matters for a disk that hangs
GRACEFUL_SHUTDOWN_SECONDS = 30

PROBE_CACHE_SECONDS = 10.0
"""How long a tracker reachability answer is reused by ``/readyz`` (probes come often)."""

PROBE_EVENT = "bridge-serve-readiness-probe"


class TrackerProbe:
    """Whether the tracker answers: one cheap read, cached a few seconds, on its own connection."""

    def __init__(self, tracker: Tracker, ttl: float = PROBE_CACHE_SECONDS) -> None:
        self.tracker = tracker
        self.ttl = ttl
        self._lock = threading.Lock()
        self._at = -ttl
        self._ok = False

    def __call__(self) -> bool:
        with self._lock:
            if time.monotonic() - self._at < self.ttl:
                return self._ok
            try:
                self.tracker.find_by_event(PROBE_EVENT)
                self._ok = True
            except BridgeError as exc:
                log.warning("tracker not reachable", extra={"fields": {"error": exc.message}})
                self._ok = False
            self._at = time.monotonic()
            return self._ok


def build_app(
    settings: Settings,
    journal: Journal,
    binding: Binding,
    *,
    tracker_ready: Callable[[], bool] | None = None,
    insecure_no_auth: bool = False,
    metrics: ServeMetrics | None = None,
) -> Starlette:
    """The intake app on ``journal``: 202 once alerts are entries there, synced."""
    intake = JournalIntake(journal, binding, close_on_resolve=settings.serve.close_on_resolve)
    metrics = metrics or ServeMetrics(intake.depth)

    def ready() -> bool:
        return intake.ready() and (tracker_ready is None or tracker_ready())

    app = create_app(
        settings.serve,
        intake.accept,
        ready,
        insecure_no_auth=insecure_no_auth,
        metrics=metrics,
    )
    app.state.intake = intake
    return app


def run(settings: Settings, *, insecure_no_auth: bool = False) -> None:
    """Serve until SIGTERM or SIGINT: requests in flight finish, then the worker stops after
    the entry in hand (or releases it), then the process exits."""
    import uvicorn

    from tracker_bridge import trackers
    from tracker_bridge.bridge import Bridge
    from tracker_bridge.journal import open_journal
    from tracker_bridge.serve.logs import log_config
    from tracker_bridge.serve.worker import Worker

    bridge = Bridge(settings)
    journal = open_journal(settings, inline_evidence=True)
    binding = bridge.binding
    probe_tracker = trackers.build(settings.tracker, settings.conventions_value())
    metrics_intake = JournalIntake(journal, binding, close_on_resolve=False)
    metrics = ServeMetrics(metrics_intake.depth)
    app = build_app(
        settings,
        journal,
        binding,
        tracker_ready=TrackerProbe(probe_tracker),
        insecure_no_auth=insecure_no_auth,
        metrics=metrics,
    )
    serve = settings.serve
    drain = Worker(
        bridge.tracker,
        journal,
        settings.conventions_value(),
        binding,
        rate=serve.tracker_requests_per_second,
        metrics=metrics,
        threshold=bridge.threshold,
    )
    config = uvicorn.Config(
        app,
        host=serve.host,
        port=serve.port,
        log_config=log_config(),
        access_log=False,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
        server_header=False,
    )

    class Server(uvicorn.Server):
        """uvicorn re-raises SIGTERM once it has shut down, so the worker stops inside."""

        async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
            await super().shutdown(sockets)
            if not await asyncio.to_thread(drain.stop, GRACEFUL_SHUTDOWN_SECONDS):
                log.warning("worker still busy at exit; its entry is taken over after a restart")

    server = Server(config)
    log.info(
        "bridge serve starting",
        extra={
            "fields": {
                "host": serve.host,
                "port": serve.port,
                "auth": serve.token is not None,
                "journal": journal.location,
                "tracker": binding.describe(),
                "worker": serve.worker,
                "tracker_requests_per_second": serve.tracker_requests_per_second,
            }
        },
    )
    if serve.worker:
        drain.start()
    try:
        server.run()
    finally:
        drain.stop(GRACEFUL_SHUTDOWN_SECONDS)  # already stopped, unless startup failed
        probe_tracker.close()
        bridge.close()
        journal.close()
