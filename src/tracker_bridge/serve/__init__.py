"""``bridge serve``: the HTTP intake of alerts (Alertmanager, Grafana, generic webhooks).

``app`` is the ASGI application (auth, health, metrics); ``sources`` read each sender's payload
into ``alerts.Alert`` values through the per-source ``mapping``; ``intake`` keeps them in the
journal before the 202; ``worker`` delivers them to the tracker at the pace it allows. Starlette, uvicorn and prometheus-client are
imported only inside this package.
"""
