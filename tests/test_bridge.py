"""The library's face: ``tracker_bridge.__all__``, the package docstring's example, ``Bridge``."""

from __future__ import annotations

import dataclasses
import doctest
import subprocess
import sys
from pathlib import Path

import pytest

import tracker_bridge
from tracker_bridge import Bridge, Settings
from tracker_bridge.errors import BridgeError, ConfigError, UsageError

PUBLIC = {
    "__version__",
    # the facade and its settings
    "Bridge",
    "Settings",
    # results
    "ObserveResult",
    "Capture",
    "Shown",
    "Elsewhere",
    "CheckReport",
    "Finding",
    "Rule",
    "Severity",
    "DefectReport",
    "Draft",
    "DelegateResult",
    "Added",
    "Synced",
    "Replayed",
    "JournalEntry",
    "Fingerprint",
    "Outcome",
    "Change",
    "ListFilter",
    "ListRow",
    # tickets and conventions
    "Ticket",
    "Tree",
    "Kind",
    "Status",
    "NewTicket",
    "RemoteLink",
    "EvidenceFile",
    "EvidenceRef",
    "Conventions",
    "Team",
    # the error tree
    "BridgeError",
    "UsageError",
    "ConfigError",
    "CredentialsRejected",
    "TemplateError",
    "NotFoundError",
    "CaptureError",
    "LocalStoreError",
    "TrackerError",
    "TrackerUnavailable",
    "TrackerRefused",
    "IncompleteScan",
    "NoTrackerError",
    "FinalisationError",
    "Interrupted",
    "JournalError",
    "LeaseLost",
    "DeliveryDeferred",
    "DeliveryRefused",
    "EntryBusy",
}


def test_all_is_the_public_api_and_every_name_imports() -> None:
    assert set(tracker_bridge.__all__) == PUBLIC
    assert len(tracker_bridge.__all__) == len(PUBLIC), "a name is listed twice"
    for name in tracker_bridge.__all__:
        assert getattr(tracker_bridge, name) is not None, name
    errors = [getattr(tracker_bridge, n) for n in PUBLIC if n.endswith(("Error", "Scan"))]
    errors += [tracker_bridge.CredentialsRejected, tracker_bridge.TrackerUnavailable]
    errors += [tracker_bridge.LeaseLost, tracker_bridge.DeliveryDeferred]
    errors += [tracker_bridge.DeliveryRefused, tracker_bridge.EntryBusy]
    assert all(issubclass(e, BridgeError) for e in errors)


def test_star_import_gives_exactly_all() -> None:
    namespace: dict[str, object] = {}
    exec("from tracker_bridge import *", namespace)
    assert set(namespace) - {"__builtins__"} == PUBLIC


def test_unknown_names_are_attribute_errors() -> None:
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        _ = tracker_bridge.Nope  # type: ignore[attr-defined]


def test_importing_the_package_loads_no_heavy_library() -> None:
    probe = (
        "import sys, tracker_bridge\n"
        "heavy = ('jira', 'github', 'pydantic', 'requests', 'rich', 'sqlite3', 'jinja2')\n"
        "print(','.join(m for m in heavy if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_the_package_docstring_example_runs() -> None:
    """The example in ``tracker_bridge.__doc__``, run as written on the embedded tracker."""
    Path("df.txt").write_text("Filesystem Size Used Avail Use%\n/dev/sda1 20G 20G 0 100% /\n")
    Path("app.log").write_text("12:00:01 ERROR write failed: No space left on device\n")
    Path("bridge.toml").write_text('[teams.platform]\nproject = "PLAT"\n')
    finder = doctest.DocTestFinder(recurse=False)
    [test] = finder.find(tracker_bridge, "tracker_bridge")
    assert len(test.examples) >= 5
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.failed == 0 and result.attempted == len(test.examples)


def test_results_are_immutable_and_typed() -> None:
    with Bridge.from_config() as bridge:
        result = bridge.observe("Disk full on /var", instance="db-1", actions=["rotated logs"])
        shown = bridge.show(result.defect or "")
        report = bridge.check()
    assert isinstance(result, tracker_bridge.ObserveResult)
    assert isinstance(shown, tracker_bridge.Shown)
    assert isinstance(report, tracker_bridge.CheckReport)
    assert [t.actions for t in shown.observations] == [("rotated logs",)]
    for value in (result, shown, report, shown.ticket):
        first = dataclasses.fields(value)[0].name
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(value, first, None)


def test_bridge_from_settings_and_closing_twice(tmp_path: Path) -> None:
    settings = Settings.load()
    bridge = Bridge(settings)
    with bridge:
        first = bridge.observe("Disk full", instance="a", event_id="ev-1")
    bridge.close()  # closing again is harmless
    with bridge:  # and the bridge can be used again: the tracker is reopened
        again = bridge.observe("Disk full", instance="a", event_id="ev-1")
    assert again.replayed and again.observation == first.observation


def test_observe_refuses_before_any_capture_runs() -> None:
    marker = Path("ran")
    with Bridge.from_config() as bridge:
        with pytest.raises(UsageError, match="contradict"):
            bridge.observe(
                "x", instance="h", defect="OPS-1", new_defect=True, capture=["touch ran"]
            )
        with pytest.raises(UsageError, match="outside the range"):
            bridge.observe("x", instance="h", at="9999-12-31T23:59:59-05:00", capture=["touch ran"])
        with pytest.raises(UsageError, match="not an ISO 8601"):
            bridge.observe("x", instance="h", at="yesterday", capture=["touch ran"])
    assert not marker.exists()


def test_delegating_to_an_unknown_team_names_the_known_ones() -> None:
    Path("bridge.toml").write_text('[teams.platform]\nproject = "PLAT"\n')
    with Bridge.from_config() as bridge:
        result = bridge.observe("Disk full", instance="a")
        with pytest.raises(ConfigError, match="known: platform"):
            bridge.delegate(result.defect or "", to="nobody")


def test_evidence_sync_to_a_ticket_delegated_elsewhere_uses_the_link() -> None:
    """The link id (bridge-delegate:TEAM:KEY) is parsed by the library, not the CLI."""
    Path("bridge.toml").write_text(
        '[teams.platform]\ntracker = "local"\nurl = "elsewhere"\nproject = "PLAT"\n'
    )
    Path("df.txt").write_text("100%\n")
    with Bridge.from_config() as bridge:
        seen = bridge.observe("Disk full", instance="a", evidence=["df.txt"])
        defect = seen.defect or ""
        delegated = bridge.delegate(defect, to="platform")
        assert delegated.linked == "remote" and delegated.ticket
        synced = bridge.evidence_sync(defect, to=delegated.ticket)
        shown = bridge.show(defect)
    assert [c.name for c in synced.copied] == [f"{seen.observation}-df.txt"]
    assert [(e.team, e.key) for e in shown.elsewhere] == [("platform", delegated.ticket)]
