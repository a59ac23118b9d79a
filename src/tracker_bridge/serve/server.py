"""Wiring for ``bridge serve``: the durable store, the app, and uvicorn."""

from __future__ import annotations

import logging

from starlette.applications import Starlette

from tracker_bridge.serve.app import create_app
from tracker_bridge.serve.logs import LOGGER
from tracker_bridge.serve.store import SqliteIntakeStore
from tracker_bridge.settings import Settings

log = logging.getLogger(LOGGER)

# uvicorn stops accepting on SIGTERM and waits for requests in flight; an accept is a local
# commit, so this bound only matters for a disk that hangs
GRACEFUL_SHUTDOWN_SECONDS = 30


def build_app(settings: Settings, *, insecure_no_auth: bool = False) -> Starlette:
    """The intake app on the embedded store (``[serve] intake_path``).

    The seam for the journal (issue 12): replace ``SqliteIntakeStore`` by the journal's enqueue,
    readiness and depth; the app does not change.
    """
    store = SqliteIntakeStore(settings.serve.intake_path)
    app = create_app(
        settings.serve,
        store.accept,
        store.ready,
        depth=store.depth,
        insecure_no_auth=insecure_no_auth,
    )
    app.state.store = store
    return app


def run(settings: Settings, *, insecure_no_auth: bool = False) -> None:
    """Serve until SIGTERM or SIGINT; requests in flight finish before the process exits."""
    import uvicorn

    from tracker_bridge.serve.logs import log_config

    app = build_app(settings, insecure_no_auth=insecure_no_auth)
    serve = settings.serve
    config = uvicorn.Config(
        app,
        host=serve.host,
        port=serve.port,
        log_config=log_config(),
        access_log=False,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
        server_header=False,
    )
    server = uvicorn.Server(config)
    log.info(
        "bridge serve starting",
        extra={
            "fields": {
                "host": serve.host,
                "port": serve.port,
                "auth": serve.token is not None,
                "intake": str(serve.intake_path),
            }
        },
    )
    try:
        server.run()
    finally:
        app.state.store.close()
