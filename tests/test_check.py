"""Convention rules: each one firing and not firing, and the report's exit decision."""

from __future__ import annotations

import pytest

from contract import evidence, new_defect, new_observation
from tracker_bridge.domain.conventions import Conventions
from tracker_bridge.domain.rules import RULES, Severity
from tracker_bridge.domain.tickets import Kind
from tracker_bridge.errors import ConfigError
from tracker_bridge.trackers.local import LocalTracker
from tracker_bridge.workflows import check

CONV = Conventions()


@pytest.fixture
def tracker() -> LocalTracker:
    return LocalTracker(":memory:")


def healthy(tracker: LocalTracker) -> tuple[str, str]:
    defect = tracker.create(new_defect(CONV, "Disk full")).key
    obs = tracker.create(new_observation(CONV, defect, "Disk full", "db-1")).key
    tracker.attach(obs, [evidence("df.txt", "100%")])
    return defect, obs


def rules_fired(tracker: LocalTracker, **kw: object) -> set[tuple[str, str]]:
    report = check.run(tracker, CONV, **kw)  # type: ignore[arg-type]
    return {(f.rule, f.key) for f in report.findings}


def test_clean_tracker_has_no_findings(tracker: LocalTracker) -> None:
    healthy(tracker)
    report = check.run(tracker, CONV)
    assert report.findings == () and not report.failed and report.checked == 2


def test_bad_title_fires_with_canonical_fix(tracker: LocalTracker) -> None:
    defect, _ = healthy(tracker)
    tracker.insert_raw('Handle: Disk full on db-2"', kind=Kind.OBSERVATION, parent=defect)
    report = check.run(tracker, CONV)
    [finding] = [f for f in report.findings if f.rule == "observation-title"]
    assert finding.fix == 'retitle to \'Handle: "Disk full" on "db-2"\''
    assert report.failed


def test_orphan_observation_fires(tracker: LocalTracker) -> None:
    healthy(tracker)
    key = tracker.insert_raw('Handle: "Disk full" on "db-3"', kind=Kind.OBSERVATION)
    assert ("observation-without-defect", key) in rules_fired(tracker)


def test_defect_without_observations_fires(tracker: LocalTracker) -> None:
    healthy(tracker)
    lonely = tracker.create(new_defect(CONV, "Permission denied", fp="ffffffffffffffff")).key
    fired = rules_fired(tracker)
    assert ("defect-without-observations", lonely) in fired
    assert len([f for f in fired if f[0] == "defect-without-observations"]) == 1


def test_observation_without_evidence_fires(tracker: LocalTracker) -> None:
    defect, obs = healthy(tracker)
    bare = tracker.create(new_observation(CONV, defect, "Disk full", "db-9")).key
    fired = rules_fired(tracker)
    assert ("observation-without-evidence", bare) in fired
    assert ("observation-without-evidence", obs) not in fired


def test_unmarked_observation_title_is_in_scope(tracker: LocalTracker) -> None:
    healthy(tracker)
    key = tracker.insert_raw('handle: "Disk full" on db-4')
    tracker.insert_raw("Upgrade the kernel")
    report = check.run(tracker, CONV)
    assert ("unmarked-observation", key) in {(f.rule, f.key) for f in report.findings}
    assert report.checked == 3
    assert not report.failed  # a warning does not fail the run


def test_rules_can_be_regraded_disabled_or_selected(tracker: LocalTracker) -> None:
    defect, _ = healthy(tracker)
    tracker.create(new_observation(CONV, defect, "Disk full", "db-9"))
    levels = check.severities({"observation-without-evidence": "warning"})
    report = check.run(tracker, CONV, levels=levels)
    assert not report.failed and report.counts()["warning"] == 1
    off = check.severities({"observation-without-evidence": "off"})
    assert check.run(tracker, CONV, levels=off).findings == ()
    only = check.severities({}, ("defect-without-observations",))
    assert check.run(tracker, CONV, levels=only).findings == ()


def test_unknown_rule_id_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="no-such-rule"):
        check.severities({"no-such-rule": "off"})


def test_catalogue_is_complete() -> None:
    assert len({r.id for r in RULES}) == len(RULES)
    assert all(r.rationale and isinstance(r.severity, Severity) for r in RULES)
