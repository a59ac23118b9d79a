"""Accepted alerts become journal entries, durably, before the 202.

Each firing alert is an ``observe`` entry keyed by its event id (repeats and HA pairs sending the
same firing are the same entry, so they add nothing). A resolved alert is a ``resolve`` entry
beside it (and its ``observe`` entry too, when the firing itself never arrived: the sighting
happened). A whole payload is one ``put_many``: one synced commit, all or nothing.

Senders that reuse one id across firing periods (PagerDuty's ``dedup_key``, a generic
``event_id``) would make a re-trigger after a resolve look like a repeat. For those sources the
firing after a resolve gets the next *generation* of the id (``<id>~2``, ``~3``...), so it is a
new sighting. Alertmanager and Grafana ids carry the firing's start time, so a re-fire is new by
itself, and a late firing from an HA peer after the resolve is still the same firing.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import UTC, datetime

from tracker_bridge.domain.tickets import EvidenceFile
from tracker_bridge.errors import JournalError, JournalUnavailable
from tracker_bridge.journal.base import Binding, Journal, NewEntry, entry_id
from tracker_bridge.serve.alerts import Alert
from tracker_bridge.workflows.deliver import Sighting
from tracker_bridge.workflows.ended import Resolution

REUSED_IDS = frozenset({"generic"})
"""Sources whose event ids may be reused after a resolve (see the module docstring)."""

EVIDENCE_NAME = "alert.json"


class _Pending:
    """One ``accept`` call waiting for a commit that includes its alerts."""

    __slots__ = ("alerts", "done", "error")

    def __init__(self, alerts: Sequence[Alert]) -> None:
        self.alerts = alerts
        self.done = False
        self.error: JournalError | None = None


class JournalIntake:
    """``accept``/``ready``/``depth`` for the HTTP app, on a ``Journal``."""

    def __init__(self, journal: Journal, binding: Binding, *, close_on_resolve: bool) -> None:
        self.journal = journal
        self.binding = binding
        self.close_on_resolve = close_on_resolve
        self._commit_lock = threading.Lock()
        self._queue_lock = threading.Lock()
        self._pending: list[_Pending] = []

    def accept(self, alerts: Sequence[Alert]) -> None:
        """Keep ``alerts`` in the journal, synced, all or none; ``JournalUnavailable`` if not.

        Group commit: requests arriving while a commit is under way are kept together by the
        next one (one transaction, one sync); a failed commit fails every request in it.
        """
        mine = _Pending(alerts)
        with self._queue_lock:
            self._pending.append(mine)
        with self._commit_lock:
            if not mine.done:
                with self._queue_lock:
                    batch, self._pending = self._pending, []
                self._commit(batch)
        if mine.error is not None:
            raise JournalUnavailable(
                f"the journal at {self.journal.location} cannot take alerts: {mine.error.message}",
                hint="Senders retry on 503; check disk space and permissions (or the database).",
            ) from mine.error

    def _commit(self, batch: list[_Pending]) -> None:
        error: JournalError | None = None
        try:
            # entries are made here, under the commit lock, so that generations (see the
            # module docstring) see every earlier alert of the same id
            news = [new for p in batch for alert in p.alerts for new in self.entries(alert)]
            self.journal.put_many(news)
        except JournalError as exc:
            error = exc
        except Exception as exc:  # never a 202 for a request whose commit did not happen
            error = JournalError(f"keeping the alerts failed: {exc!r}")
        for pending in batch:
            pending.error = error
            pending.done = True

    def entries(self, alert: Alert) -> list[NewEntry]:
        now = datetime.now(UTC).replace(microsecond=0)
        event_id = self.generation(alert)
        firing = NewEntry(
            event_id=event_id,
            binding=self.binding,
            payload={
                **Sighting(
                    message=alert.message,
                    instance=alert.instance,
                    actions=(),
                    observed_at=alert.starts_at or now,
                    impact=alert.impact,
                    defect=None,
                    new_defect=False,
                ).payload(),
                "source": alert.source,
                # alerts reach the tracker only through the journal: a first attempt needs no
                # marker lookups (a retry after a crash still does them)
                "journal_only": True,
                "links": [{"url": link.url, "title": link.title} for link in alert.links],
            },
            evidence=(alert_evidence(alert, now),),
        )
        if alert.status == "firing":
            return [firing]
        ended = Resolution(ended_at=alert.ends_at or now, close=self.close_on_resolve)
        resolve = NewEntry(
            event_id=event_id, binding=self.binding, payload=ended.payload(), op="resolve"
        )
        return [firing, resolve]

    def generation(self, alert: Alert) -> str:
        """The event id of this alert's current firing period (see the module docstring)."""
        base = alert.event_id
        if alert.source not in REUSED_IDS:
            return base
        n = 1
        while True:
            current = base if n == 1 else f"{base}~{n}"
            fired = self.journal.get(entry_id(current))
            ended = self.journal.get(entry_id(current, "resolve"))
            if fired is None or ended is None:
                return current  # not seen, or firing and not resolved: this period
            if alert.status == "resolved":
                later = f"{base}~{n + 1}"
                if self.journal.get(entry_id(later)) is None:
                    return current  # a repeat of the last resolve
            n += 1

    def ready(self) -> bool:
        """Whether the journal answers (a read; a write that fails is answered 503)."""
        try:
            self.journal.depth()
        except JournalError:
            return False
        return True

    def depth(self) -> float:
        try:
            return float(self.journal.depth())
        except JournalError:
            return float("nan")


def alert_evidence(alert: Alert, now: datetime) -> EvidenceFile:
    """The alert's labels, annotations, links and values (scrubbed), as evidence."""
    return EvidenceFile(
        name=EVIDENCE_NAME,
        data=alert.evidence_text().encode("utf-8"),
        source=f"alert:{alert.source}",
        captured_at=now,
    )
