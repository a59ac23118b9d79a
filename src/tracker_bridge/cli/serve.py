"""`bridge serve`: the HTTP intake of alerts."""

from __future__ import annotations

from pathlib import Path

import click

from tracker_bridge.cli.base import cli, config_option, open_bridge


@cli.command()
@click.option("--host", help="Address to listen on (default: [serve] host, 127.0.0.1).")
@click.option("--port", type=click.IntRange(0, 65535), help="Port (default: [serve] port, 8787).")
@click.option(
    "--insecure-no-auth",
    is_flag=True,
    help="Run without a bearer token; only allowed on a loopback address.",
)
@config_option
def serve(
    host: str | None, port: int | None, insecure_no_auth: bool, config_path: Path | None
) -> None:
    """Receive alerts over HTTP: Alertmanager, Grafana and generic (PagerDuty-style) webhooks.

    Endpoints: POST /alerts/alertmanager, /alerts/grafana, /alerts/generic (Authorization: Bearer
    $BRIDGE_SERVE__TOKEN; 202 once the alerts are durable), GET /healthz, /readyz, /metrics.
    Logs are JSON lines on stderr. SIGTERM stops accepting and finishes requests in flight.

    \b
    Example:
      BRIDGE_SERVE__TOKEN=$(cat /run/secrets/bridge-token) bridge serve --host 0.0.0.0 --port 8787
    """
    from tracker_bridge.serve import server

    with open_bridge(config_path) as bridge:
        settings = bridge.settings
    update = {k: v for k, v in (("host", host), ("port", port)) if v is not None}
    if update:
        settings = settings.model_copy(update={"serve": settings.serve.model_copy(update=update)})
    server.run(settings, insecure_no_auth=insecure_no_auth)
