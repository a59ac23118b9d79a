"""The ASGI app of ``bridge serve``: alert endpoints, health, readiness and metrics.

``create_app`` takes the ``[serve]`` settings and two callables, so that what makes alerts
durable is injected: ``accept(alerts)`` must return only once the alerts are durable, or raise
``JournalUnavailable`` (answered 503, which Alertmanager retries); ``ready()`` says whether it
would work now. The app answers 202 only after ``accept`` returned; 400/422 for a payload it
cannot read (nothing recorded; Alertmanager never retries 4xx); 401 for a missing or wrong token.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tracker_bridge.errors import AlertPayloadError, ConfigError, JournalUnavailable
from tracker_bridge.serve.alerts import Alert
from tracker_bridge.serve.logs import LOGGER
from tracker_bridge.serve.mapping import AlertMapping
from tracker_bridge.serve.metrics import CONTENT_TYPE_LATEST, ServeMetrics
from tracker_bridge.serve.sources import SOURCES, Intake, Parser
from tracker_bridge.serve.sources.grafana import verify_signature
from tracker_bridge.settings import ServeSettings

Accept = Callable[[Sequence[Alert]], None]
Ready = Callable[[], bool]

log = logging.getLogger(LOGGER)

RETRY_AFTER_SECONDS = 5


def is_loopback(host: str) -> bool:
    """Whether ``host`` only listens on this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def auth_token(settings: ServeSettings, *, insecure_no_auth: bool = False) -> str | None:
    """The bearer token to require, or None when auth is knowingly off; ``ConfigError`` otherwise.

    Without a token the service refuses to start, except with ``--insecure-no-auth`` on a
    loopback address, where only this machine can reach it.
    """
    token = settings.token.get_secret_value() if settings.token is not None else ""
    if token:
        return token
    if insecure_no_auth and is_loopback(settings.host):
        return None
    if insecure_no_auth:
        raise ConfigError(
            f"--insecure-no-auth is only allowed on a loopback address, not {settings.host}.",
            hint="Set BRIDGE_SERVE__TOKEN, or listen on 127.0.0.1.",
        )
    raise ConfigError(
        "bridge serve needs a bearer token for its alert endpoints.",
        hint="Set BRIDGE_SERVE__TOKEN (senders pass it as Authorization: Bearer <token>), or for "
        "local trials use --insecure-no-auth on 127.0.0.1.",
    )


class AlertIntake:
    """``POST /alerts/{source}``: authenticate, read, map, accept; one answer per outcome."""

    def __init__(
        self, settings: ServeSettings, accept: Accept, metrics: ServeMetrics, token: str | None
    ) -> None:
        self.settings = settings
        self.accept = accept
        self.metrics = metrics
        self.expected = f"Bearer {token}".encode() if token else None
        self.parsers: dict[str, tuple[Parser, AlertMapping]] = {
            name: (
                parse,
                AlertMapping.build(settings.mapping_for(name), name, defaults),
            )
            for name, (parse, defaults) in SOURCES.items()
        }
        secret = settings.grafana.secret
        self.grafana_secret = secret.get_secret_value() if secret is not None else ""

    async def handle(self, request: Request) -> Response:
        source = request.path_params["source"]
        if source not in self.parsers:
            return JSONResponse(
                {"error": f"unknown source {source!r}; use one of {sorted(self.parsers)}."},
                status_code=404,
            )
        started = time.perf_counter()
        if self.expected is not None:
            given = request.headers.get("authorization", "").encode("utf-8", "replace")
            if not hmac.compare_digest(given, self.expected):
                return self.refuse(source, "auth", 401, "missing or wrong bearer token.")
        limit = self.settings.max_body_bytes
        body = await _read_body(request, limit)
        if body is None:
            return self.refuse(source, "size", 413, f"the body is larger than {limit} bytes.")
        try:
            parsed = self.read(source, body, request.headers)
        except AlertPayloadError as exc:
            reason = "signature" if exc.status == 401 else "payload"
            return self.refuse(source, reason, exc.status, str(exc), details=list(exc.details))
        self.count(source, parsed)
        try:
            if parsed.alerts:
                await run_in_threadpool(self.accept, parsed.alerts)
        except JournalUnavailable as exc:
            return self.refuse(source, "journal", 503, str(exc))
        return self.accepted(source, parsed, time.perf_counter() - started)

    def read(self, source: str, body: bytes, headers: Mapping[str, str]) -> Intake:
        """Check the signature where one is configured, then parse and map the payload."""
        grafana = self.settings.grafana
        if source == "grafana" and self.grafana_secret:
            verify_signature(
                body,
                headers,
                secret=self.grafana_secret,
                header=grafana.signature_header,
                timestamp_header=grafana.timestamp_header,
                max_skew=grafana.max_skew,
            )
        parse, mapping = self.parsers[source]
        return parse(body, mapping)

    def count(self, source: str, parsed: Intake) -> None:
        self.metrics.received.labels(source).inc(len(parsed.alerts))
        if parsed.truncated:
            self.metrics.truncated.labels(source).inc(parsed.truncated)
        if parsed.ignored:
            self.metrics.ignored.labels(source).inc(parsed.ignored)

    def accepted(self, source: str, parsed: Intake, elapsed: float) -> JSONResponse:
        alerts = parsed.alerts
        self.metrics.accepted.labels(source).inc(len(alerts))
        self.metrics.latency.labels(source).observe(elapsed)
        event_ids = [a.event_id for a in alerts]
        counts = {"accepted": len(alerts), "truncated": parsed.truncated, "ignored": parsed.ignored}
        answer = {**counts, "event_ids": event_ids}
        fields = {"source": source, **counts, "event_ids": event_ids[:50]}
        fields["ms"] = round(elapsed * 1000, 2)
        if parsed.truncated:
            log.warning("sender truncated alerts", extra={"fields": fields})
        log.info("alerts accepted", extra={"fields": fields})
        return JSONResponse(answer, status_code=202)

    def refuse(self, source: str, reason: str, status: int, error: str, **extra: Any) -> Response:
        self.metrics.rejected.labels(source, reason).inc()
        log.warning(
            "alert request refused",
            extra={"fields": {"source": source, "reason": reason, "status": status, **extra}},
        )
        headers = None
        if status == 401:
            headers = {"WWW-Authenticate": "Bearer"}
        elif status == 503:
            headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
        return JSONResponse({"error": error, **extra}, status_code=status, headers=headers)


def create_app(
    settings: ServeSettings,
    accept: Accept,
    ready: Ready,
    *,
    depth: Callable[[], float] | None = None,
    insecure_no_auth: bool = False,
    metrics: ServeMetrics | None = None,
) -> Starlette:
    """The intake app; mappings compile and the auth policy is checked now, not per request."""
    token = auth_token(settings, insecure_no_auth=insecure_no_auth)
    metrics = metrics or ServeMetrics(depth)
    intake = AlertIntake(settings, accept, metrics, token)

    async def healthz(_: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(_: Request) -> Response:
        ok = await run_in_threadpool(ready)
        return JSONResponse(
            {"status": "ready" if ok else "unavailable", "journal": ok},
            status_code=200 if ok else 503,
        )

    async def prometheus(_: Request) -> Response:
        return Response(metrics.render(), media_type=CONTENT_TYPE_LATEST)

    app = Starlette(
        routes=[
            Route("/alerts/{source}", intake.handle, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", readyz, methods=["GET"]),
            Route("/metrics", prometheus, methods=["GET"]),
        ]
    )
    app.state.metrics = metrics
    return app


async def _read_body(request: Request, limit: int) -> bytes | None:
    """The body, or None as soon as it is larger than ``limit`` (without reading the rest)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)
