"""tracker-bridge: a disciplined workflow for operational defects on the tracker you already use.

``Bridge`` is the library's one entry object; the ``bridge`` CLI is a thin shell over it. With no
configuration it works on the embedded local tracker under ``./.bridge/``:

>>> from tracker_bridge import Bridge
>>> with Bridge.from_config() as bridge:  # --config's lookup; or from_config("bridge.toml")
...     result = bridge.observe("No space left on device", instance="replica-2",
...                             evidence=["df.txt"], capture=["ls -lah /tmp"],
...                             actions=["wiped /tmp"])
...     tree = bridge.show(result.defect)
...     findings = bridge.check().findings
...     reports = bridge.report()
...     draft = bridge.postmortem(result.defect)
...     plan = bridge.delegate(result.defect, to="platform", dry_run=True)
...     added = bridge.evidence_add(result.observation, ["app.log"])
...     index = bridge.evidence_sync(result.defect)
>>> result.defect, result.observation, result.matched_by
('OPS-1', 'OPS-2', 'new')
>>> [t.key for t in tree.observations], tree.remediations
(['OPS-2'], ())
>>> [r.key for r in reports], draft.title
(['OPS-1'], 'Washup: No space left on device')
>>> plan.dry_run, plan.title
(True, 'Remediate: No space left on device')
>>> [ref.name for ref in added.stored], index.entries
(['app.log'], 3)

Every result is an immutable typed value; every failure a user can meet is a ``BridgeError``
whose message says what to do next.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tracker_bridge.bridge import Bridge
    from tracker_bridge.domain.conventions import Conventions
    from tracker_bridge.domain.fingerprint import Fingerprint
    from tracker_bridge.domain.rules import Finding, Rule, Severity
    from tracker_bridge.domain.teams import Team
    from tracker_bridge.domain.tickets import (
        EvidenceFile,
        EvidenceRef,
        Kind,
        NewTicket,
        RemoteLink,
        Status,
        Ticket,
        Tree,
    )
    from tracker_bridge.errors import (
        BridgeError,
        CaptureError,
        ConfigError,
        CredentialsRejected,
        DeliveryDeferred,
        DeliveryRefused,
        EntryBusy,
        FinalisationError,
        IncompleteScan,
        Interrupted,
        JournalError,
        LeaseLost,
        LocalStoreError,
        NotFoundError,
        NoTrackerError,
        TemplateError,
        TrackerError,
        TrackerRefused,
        TrackerUnavailable,
        UsageError,
    )
    from tracker_bridge.journal.base import Entry as JournalEntry
    from tracker_bridge.settings import Settings
    from tracker_bridge.workflows.changes import Change, Outcome
    from tracker_bridge.workflows.check import Report as CheckReport
    from tracker_bridge.workflows.delegate import Result as DelegateResult
    from tracker_bridge.workflows.evidence import Added, Capture
    from tracker_bridge.workflows.listing import Filter as ListFilter
    from tracker_bridge.workflows.listing import Row as ListRow
    from tracker_bridge.workflows.observe import Result as ObserveResult
    from tracker_bridge.workflows.postmortem import Draft
    from tracker_bridge.workflows.replay import Replayed
    from tracker_bridge.workflows.report import DefectReport
    from tracker_bridge.workflows.show import Elsewhere, Shown
    from tracker_bridge.workflows.sync import Synced

__version__ = "0.1.0"

# Loaded on first use (PEP 562) so `import tracker_bridge` (and `bridge --help`) stays cheap.
_PUBLIC: dict[str, tuple[str, str]] = {
    "Bridge": ("tracker_bridge.bridge", "Bridge"),
    "Settings": ("tracker_bridge.settings", "Settings"),
    # results
    "ObserveResult": ("tracker_bridge.workflows.observe", "Result"),
    "Capture": ("tracker_bridge.workflows.evidence", "Capture"),
    "Shown": ("tracker_bridge.workflows.show", "Shown"),
    "Elsewhere": ("tracker_bridge.workflows.show", "Elsewhere"),
    "CheckReport": ("tracker_bridge.workflows.check", "Report"),
    "Finding": ("tracker_bridge.domain.rules", "Finding"),
    "Rule": ("tracker_bridge.domain.rules", "Rule"),
    "Severity": ("tracker_bridge.domain.rules", "Severity"),
    "DefectReport": ("tracker_bridge.workflows.report", "DefectReport"),
    "Draft": ("tracker_bridge.workflows.postmortem", "Draft"),
    "DelegateResult": ("tracker_bridge.workflows.delegate", "Result"),
    "Added": ("tracker_bridge.workflows.evidence", "Added"),
    "Synced": ("tracker_bridge.workflows.sync", "Synced"),
    "Replayed": ("tracker_bridge.workflows.replay", "Replayed"),
    "JournalEntry": ("tracker_bridge.journal.base", "Entry"),
    "Fingerprint": ("tracker_bridge.domain.fingerprint", "Fingerprint"),
    "Outcome": ("tracker_bridge.workflows.changes", "Outcome"),
    "Change": ("tracker_bridge.workflows.changes", "Change"),
    "ListFilter": ("tracker_bridge.workflows.listing", "Filter"),
    "ListRow": ("tracker_bridge.workflows.listing", "Row"),
    # tickets and conventions
    "Ticket": ("tracker_bridge.domain.tickets", "Ticket"),
    "Tree": ("tracker_bridge.domain.tickets", "Tree"),
    "Kind": ("tracker_bridge.domain.tickets", "Kind"),
    "Status": ("tracker_bridge.domain.tickets", "Status"),
    "NewTicket": ("tracker_bridge.domain.tickets", "NewTicket"),
    "RemoteLink": ("tracker_bridge.domain.tickets", "RemoteLink"),
    "EvidenceFile": ("tracker_bridge.domain.tickets", "EvidenceFile"),
    "EvidenceRef": ("tracker_bridge.domain.tickets", "EvidenceRef"),
    "Conventions": ("tracker_bridge.domain.conventions", "Conventions"),
    "Team": ("tracker_bridge.domain.teams", "Team"),
    # the error tree
    "BridgeError": ("tracker_bridge.errors", "BridgeError"),
    "UsageError": ("tracker_bridge.errors", "UsageError"),
    "ConfigError": ("tracker_bridge.errors", "ConfigError"),
    "CredentialsRejected": ("tracker_bridge.errors", "CredentialsRejected"),
    "TemplateError": ("tracker_bridge.errors", "TemplateError"),
    "NotFoundError": ("tracker_bridge.errors", "NotFoundError"),
    "CaptureError": ("tracker_bridge.errors", "CaptureError"),
    "LocalStoreError": ("tracker_bridge.errors", "LocalStoreError"),
    "TrackerError": ("tracker_bridge.errors", "TrackerError"),
    "TrackerUnavailable": ("tracker_bridge.errors", "TrackerUnavailable"),
    "TrackerRefused": ("tracker_bridge.errors", "TrackerRefused"),
    "IncompleteScan": ("tracker_bridge.errors", "IncompleteScan"),
    "NoTrackerError": ("tracker_bridge.errors", "NoTrackerError"),
    "FinalisationError": ("tracker_bridge.errors", "FinalisationError"),
    "Interrupted": ("tracker_bridge.errors", "Interrupted"),
    "JournalError": ("tracker_bridge.errors", "JournalError"),
    "LeaseLost": ("tracker_bridge.errors", "LeaseLost"),
    "DeliveryDeferred": ("tracker_bridge.errors", "DeliveryDeferred"),
    "DeliveryRefused": ("tracker_bridge.errors", "DeliveryRefused"),
    "EntryBusy": ("tracker_bridge.errors", "EntryBusy"),
}

__all__ = [
    "Added",
    "Bridge",
    "BridgeError",
    "Capture",
    "CaptureError",
    "Change",
    "CheckReport",
    "ConfigError",
    "Conventions",
    "CredentialsRejected",
    "DefectReport",
    "DelegateResult",
    "DeliveryDeferred",
    "DeliveryRefused",
    "Draft",
    "Elsewhere",
    "EntryBusy",
    "EvidenceFile",
    "EvidenceRef",
    "FinalisationError",
    "Finding",
    "Fingerprint",
    "IncompleteScan",
    "Interrupted",
    "JournalEntry",
    "JournalError",
    "Kind",
    "LeaseLost",
    "ListFilter",
    "ListRow",
    "LocalStoreError",
    "NewTicket",
    "NoTrackerError",
    "NotFoundError",
    "ObserveResult",
    "Outcome",
    "RemoteLink",
    "Replayed",
    "Rule",
    "Settings",
    "Severity",
    "Shown",
    "Status",
    "Synced",
    "Team",
    "TemplateError",
    "Ticket",
    "TrackerError",
    "TrackerRefused",
    "TrackerUnavailable",
    "Tree",
    "UsageError",
    "__version__",
]


def __getattr__(name: str) -> Any:
    try:
        module, attr = _PUBLIC[name]
    except KeyError:
        raise AttributeError(f"module 'tracker_bridge' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module), attr)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_PUBLIC))
