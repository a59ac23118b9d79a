"""The durable journal of sightings on their way to a tracker (see ``journal.base``).

``open_journal(settings)`` gives the configured journal (the embedded SQLite one at
``[queue] path``, or PostgreSQL at ``[queue] url`` for several replicas); ``binding(settings)`` names the tracker the configuration points to, which every
entry records so that it is never delivered anywhere else.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from tracker_bridge.journal.base import (
    LEASE_SECONDS,
    OPS,
    Binding,
    Entry,
    Item,
    Journal,
    NewEntry,
    State,
    current_owner,
    entry_id,
    owner_alive,
)

if TYPE_CHECKING:
    from tracker_bridge.settings import Settings

__all__ = [
    "LEASE_SECONDS",
    "OPS",
    "Binding",
    "Entry",
    "Item",
    "Journal",
    "NewEntry",
    "State",
    "binding",
    "current_owner",
    "entry_id",
    "open_journal",
    "owner_alive",
]

_GITHUB_API = "https://api.github.com"


def open_journal(settings: Settings, *, inline_evidence: bool = False) -> Journal:
    """The journal the configuration names: PostgreSQL when ``[queue] url`` is set (shared by
    replicas), else the embedded SQLite one. The driver is imported only now.

    ``inline_evidence`` (``bridge serve``): small evidence is kept in the database rather than
    in files of its own (PostgreSQL always does)."""
    if settings.queue.url is not None:
        from tracker_bridge.journal.postgres import PostgresJournal

        return PostgresJournal(
            settings.queue.url.get_secret_value(), lease=settings.queue.lease_seconds
        )
    from tracker_bridge.journal.sqlite import SqliteJournal

    return SqliteJournal(
        settings.queue.path, lease=settings.queue.lease_seconds, inline_evidence=inline_evidence
    )


def binding(settings: Settings) -> Binding:
    """The tracker ``settings`` point to, as entries record it."""
    conf = settings.tracker
    if conf.kind == "local":
        return Binding("local", str(Path(conf.path).resolve()), conf.project)
    if conf.kind == "memory":
        return Binding("memory", "", conf.project)
    if conf.kind == "github":
        return Binding("github", (conf.url or _GITHUB_API).rstrip("/"), conf.repository)
    return Binding(conf.kind, conf.url.rstrip("/"), conf.project)
