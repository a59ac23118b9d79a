"""The worker of ``bridge serve``: drains the journal to the tracker, at the pace it allows.

One thread per service. It claims the oldest due entry bound for this tracker (a lease, so a
killed service loses nothing: its entries are taken over after a restart, or by another replica
of a shared journal), delivers it step by step (``workflows.deliver`` for firings,
``workflows.ended`` for resolutions) and repeats. Every tracker call goes through a token
bucket (``[serve] tracker_requests_per_second``); a ``Retry-After`` from the tracker pauses the
bucket for that long. On stop (SIGTERM) it finishes the entry in hand; a wait for the bucket is
cut short and the entry released, to be picked up again from its last recorded step.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any, cast

from tracker_bridge.domain.conventions import Conventions
from tracker_bridge.errors import (
    BridgeError,
    DeliveryDeferred,
    DeliveryRefused,
    EntryBusy,
    LeaseLost,
    TrackerError,
)
from tracker_bridge.journal.base import Binding, Entry, Journal, current_owner
from tracker_bridge.serve.logs import LOGGER
from tracker_bridge.serve.metrics import ServeMetrics
from tracker_bridge.trackers.base import Tracker
from tracker_bridge.workflows.deliver import deliver
from tracker_bridge.workflows.ended import deliver_resolve

log = logging.getLogger(LOGGER)

IDLE_SECONDS = 0.25
"""How long the worker sleeps when nothing is due (the journal is polled, not notified)."""


class Stopping(Exception):
    """The service is shutting down while the worker waited for the request budget."""


class TokenBucket:
    """At most ``rate`` requests a second on average, bursts up to ``burst``; thread-safe."""

    def __init__(
        self,
        rate: float,
        burst: float | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rate = rate
        self.burst = burst if burst is not None else max(1.0, rate)
        self._clock = clock
        self._tokens = self.burst
        self._last = clock()
        self._paused_until = 0.0
        self._lock = threading.Lock()

    def pause(self, seconds: float) -> None:
        """Send nothing for ``seconds`` (the tracker said ``Retry-After``)."""
        with self._lock:
            self._paused_until = max(self._paused_until, self._clock() + seconds)
            self._tokens = 0.0

    def wait_time(self) -> float:
        """Take a token if one is there (0.0), else how long until one will be."""
        with self._lock:
            now = self._clock()
            if now < self._paused_until:
                return self._paused_until - now
            self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
            self._last = now
            if self._tokens >= 1.0 - 1e-9:  # float sums of waits land just under 1
                self._tokens = max(self._tokens - 1.0, 0.0)
                return 0.0
            return (1.0 - self._tokens) / self.rate

    def take(self, stop: threading.Event) -> None:
        """Block until a request may be sent; ``Stopping`` when ``stop`` is set meanwhile."""
        while True:
            wait = self.wait_time()
            if wait <= 0.0:
                return
            if stop.wait(wait):
                raise Stopping("the service is stopping")


class Metered:
    """A tracker whose every call waits for the bucket and is counted in the metrics.

    A call is counted as one request: most are; a listing that reads further pages, or an
    upload of several files, sends a few more, so the budget is a slight underestimate there.
    """

    def __init__(
        self,
        tracker: Tracker,
        bucket: TokenBucket,
        stop: threading.Event,
        metrics: ServeMetrics | None = None,
    ) -> None:
        self._tracker = tracker
        self._bucket = bucket
        self._stop = stop
        self._metrics = metrics
        self.name = tracker.name

    def __getattr__(self, attr: str) -> Any:
        target = getattr(self._tracker, attr)
        if not callable(target) or attr in ("capabilities", "close"):
            return target  # local answers, no request

        def call(*args: Any, **kwargs: Any) -> Any:
            self._bucket.take(self._stop)
            if self._metrics is not None:
                self._metrics.tracker_requests.labels(self.name).inc()
            try:
                result = target(*args, **kwargs)
            except TrackerError as exc:
                if self._metrics is not None:
                    self._metrics.tracker_errors.labels(self.name).inc()
                if exc.retry_after:
                    self._bucket.pause(exc.retry_after)
                raise
            return result

        return call


class Worker:
    """Delivers journal entries bound for ``binding`` until stopped; see the module docstring."""

    def __init__(
        self,
        tracker: Tracker,
        journal: Journal,
        conventions: Conventions,
        binding: Binding,
        *,
        rate: float,
        metrics: ServeMetrics | None = None,
        threshold: float | None = None,
        name: str = "worker",
        idle: float = IDLE_SECONDS,
    ) -> None:
        self.stop_event = threading.Event()
        self.bucket = TokenBucket(rate)
        self.tracker = cast(Tracker, Metered(tracker, self.bucket, self.stop_event, metrics))
        self.journal = journal
        self.conventions = conventions
        self.binding = binding
        self.metrics = metrics
        self.threshold = threshold
        self.owner = current_owner(worker=name)
        self.idle = idle
        self.delivered = 0
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run, name="bridge-worker", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> bool:
        """Stop after the entry in hand; True when the thread ended within ``timeout``."""
        self.stop_event.set()
        if self._thread is None:
            return True
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def run(self) -> None:
        log.info("worker started", extra={"fields": {"owner": self.owner}})
        while not self.stop_event.is_set():
            try:
                if not self.step():
                    self.stop_event.wait(self.idle)
            except Stopping:
                break
            except BridgeError as exc:  # the journal itself failed: say so, wait, go on
                log.error("worker: %s", exc.message, extra={"fields": {"hint": exc.hint or ""}})
                self.stop_event.wait(5 * self.idle)
        log.info("worker stopped", extra={"fields": {"delivered": self.delivered}})

    def step(self) -> bool:
        """Deliver one due entry; False when none was due."""
        entry = self.journal.claim_next(self.owner, binding=self.binding)
        if entry is None:
            return False
        self.handle(entry)
        return True

    def handle(self, entry: Entry) -> None:
        fields: dict[str, Any] = {"entry": entry.short, "op": entry.op, "event_id": entry.event_id}
        try:
            if entry.op == "resolve":
                done = deliver_resolve(self.tracker, self.journal, entry.id, owner=self.owner)
                fields["observation"] = done.observation
            else:
                delivered = deliver(
                    self.tracker,
                    self.journal,
                    self.conventions,
                    entry.id,
                    owner=self.owner,
                    threshold=self.threshold,
                    wait=0.0,
                )
                fields["observation"] = delivered.observation.key
                fields["defect"] = delivered.decision.defect
        except EntryBusy:
            return  # another worker has it, or its firing goes first
        except DeliveryDeferred as exc:
            fields.update(reason=exc.message, retry_after=exc.retry_after)
            log.warning("delivery deferred", extra={"fields": fields})
            return
        except DeliveryRefused as exc:
            fields.update(reason=exc.message, status=exc.status)
            log.error("delivery refused; kept in the journal", extra={"fields": fields})
            return
        except LeaseLost as exc:
            log.warning("lease lost: %s", exc.message, extra={"fields": fields})
            return
        self.delivered += 1
        log.info("delivered", extra={"fields": fields})
