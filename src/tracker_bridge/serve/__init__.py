"""``bridge serve``: the HTTP intake of alerts (Alertmanager, Grafana, generic webhooks).

``app`` is the ASGI application (auth, health, metrics); ``sources`` read each sender's payload
into ``alerts.Alert`` values through the per-source ``mapping``; ``store`` makes them durable
before the 202 (the seam the journal replaces). Starlette, uvicorn and prometheus-client are
imported only inside this package.
"""
