"""Alert sources: one module each, every one a ``parse(body, mapping) -> Intake`` function.

Registered in one explicit table, ``SOURCES``; the URL path is ``/alerts/<name>``.
"""

from __future__ import annotations

from collections.abc import Callable

from tracker_bridge.serve.mapping import AlertMapping, Defaults
from tracker_bridge.serve.sources import alertmanager, generic, grafana
from tracker_bridge.serve.sources.common import Intake
from tracker_bridge.settings import AlertSource

Parser = Callable[[bytes, AlertMapping], Intake]

SOURCES: dict[AlertSource, tuple[Parser, Defaults]] = {
    alertmanager.NAME: (alertmanager.parse, Defaults()),
    grafana.NAME: (grafana.parse, Defaults()),
    generic.NAME: (generic.parse, generic.DEFAULTS),
}

__all__ = ["SOURCES", "Intake", "Parser"]
