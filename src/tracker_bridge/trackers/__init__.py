"""Trackers: the ``Tracker`` protocol (``base``), and the registry that builds one by kind.

Each backend is a module or package exposing ``build(settings, conventions)``; the registry maps
``[tracker] kind`` to it and imports it only when asked, so ``bridge --help`` never loads a
tracker library. Only the backend packages import ``jira``, ``github`` or ``sqlite3``; vendor
objects and exceptions never leave them (see ``.importlinter`` contracts in pyproject.toml).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from tracker_bridge.errors import ConfigError

if TYPE_CHECKING:
    from tracker_bridge.domain.conventions import Conventions
    from tracker_bridge.settings import TrackerSettings
    from tracker_bridge.trackers.base import Tracker

__all__ = ["BACKENDS", "build"]

BACKENDS = {
    "local": "tracker_bridge.trackers.local",
    "memory": "tracker_bridge.trackers.local",
    "jira": "tracker_bridge.trackers.jira",
    "github": "tracker_bridge.trackers.github",
}
"""``[tracker] kind`` -> the module whose ``build(settings, conventions)`` makes that tracker."""


def build(settings: TrackerSettings, conventions: Conventions) -> Tracker:
    """The tracker described by ``settings``; its library is imported only now."""
    if settings.kind not in BACKENDS:
        known = ", ".join(sorted(BACKENDS))
        raise ConfigError(f"[tracker] kind {settings.kind!r} is unknown (known: {known}).")
    module = importlib.import_module(BACKENDS[settings.kind])
    tracker: Tracker = module.build(settings, conventions)
    return tracker
