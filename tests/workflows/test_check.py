"""Convention rules: each one firing and not firing, fixes, and the report's exit decision."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from support.contract import evidence, new_defect, new_observation
from support.trackers import FailingTracker
from tracker_bridge.domain.conventions import Conventions, format_title
from tracker_bridge.domain.rules import (
    CATALOGUE,
    REMEDIATION_SECTIONS,
    RULES,
    Checker,
    Finding,
    Fix,
    Severity,
)
from tracker_bridge.domain.tickets import (
    EvidenceRef,
    Kind,
    NewTicket,
    RemoteLink,
    Status,
    Ticket,
)
from tracker_bridge.errors import ConfigError, IncompleteScan, TrackerUnavailable, UsageError
from tracker_bridge.trackers.local import LocalTracker
from tracker_bridge.workflows import check

CONV = Conventions()
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)
FP = "0123456789abcdef"
REF = EvidenceRef(name="df.txt", sha256="0" * 64, size=4)
CONTEXT = "\n\n".join(f"## {s}\n\ntext" for s in REMEDIATION_SECTIONS)


# -- pure rules: tickets in, findings out ---------------------------------------------------


def defect(key: str = "OPS-1", **kw: object) -> Ticket:
    base: dict[str, object] = {
        "title": "Disk full",
        "kind": Kind.DEFECT,
        "status": Status.OPEN,
        "created": NOW - DAY,
        "message": "Disk full",
        "fingerprints": (FP,),
        "url": f"https://jira.example/browse/{key}",
    }
    return Ticket(key=key, **{**base, **kw})  # type: ignore[arg-type]


def observation(key: str = "OPS-2", parent: str | None = "OPS-1", **kw: object) -> Ticket:
    base: dict[str, object] = {
        "title": format_title("Disk full", "db-1"),
        "kind": Kind.OBSERVATION,
        "status": Status.OPEN,
        "created": NOW - DAY,
        "message": "Disk full",
        "instance": "db-1",
        "evidence": (REF,),
        "actions": ("wiped /tmp",),
        "parent": parent,
    }
    return Ticket(key=key, **{**base, **kw})  # type: ignore[arg-type]


def remediation(key: str = "OPS-3", parent: str | None = "OPS-1", **kw: object) -> Ticket:
    base: dict[str, object] = {
        "title": "Remediate: Disk full",
        "kind": Kind.REMEDIATION,
        "status": Status.OPEN,
        "created": NOW - DAY,
        "parent": parent,
    }
    return Ticket(key=key, **{**base, **kw})  # type: ignore[arg-type]


def findings(*tickets: Ticket, conventions: Conventions = CONV, **kw: object) -> list[Finding]:
    checker = Checker(now=NOW, conventions=conventions, **kw)  # type: ignore[arg-type]
    out: list[Finding] = []
    for t in tickets:
        out += checker.feed(t)
    return out + checker.finish()


def fired(*tickets: Ticket, **kw: object) -> set[tuple[str, str]]:
    return {(f.rule, f.key) for f in findings(*tickets, **kw)}


def test_a_healthy_defect_has_no_findings() -> None:
    assert findings(defect(), observation(), remediation()) == []


@pytest.mark.parametrize(
    ("rule", "bad", "good"),
    [
        (
            "observation-title",
            [defect(), observation(title='Handle: Disk full on db-1"')],
            [defect(), observation()],
        ),
        (
            "observation-without-defect",
            [defect(), observation(parent=None)],
            [defect(), observation()],
        ),
        (
            "unmarked-observation",
            [Ticket("OPS-9", 'handle: "Disk full" on db-4', None, Status.OPEN, NOW)],
            [Ticket("OPS-9", "Upgrade the kernel", None, Status.OPEN, NOW)],
        ),
        (
            "wrong-issue-type",
            [defect(issue_type="Story"), observation(), remediation()],
            [defect(issue_type="Bug"), observation(issue_type="Task"), remediation()],
        ),
        (
            "defect-without-observations",
            [defect(), remediation()],
            [defect(), observation(), remediation()],
        ),
        (
            "observation-without-evidence",
            [defect(), observation(evidence=())],
            [defect(), observation()],
        ),
        (
            "unscanned-evidence",
            [defect(), observation(evidence=(REF, dataclasses.replace(REF, scanned=False)))],
            [defect(), observation()],
        ),
        (
            "observation-without-action",
            [defect(), observation(actions=())],
            [defect(), observation()],
        ),
        (
            "defect-closed-without-remediation",
            [defect(status=Status.DONE), observation()],
            [defect(status=Status.DONE), observation(), remediation()],
        ),
        (
            "remediation-without-link-back",
            [
                defect(),
                observation(),
                remediation(parent=None, team="platform", description=CONTEXT),
            ],
            [
                defect(),
                observation(),
                remediation(
                    parent=None,
                    team="platform",
                    description=CONTEXT,
                    links=(RemoteLink("u", "OPS-1", "bridge-defect:OPS-1"),),
                ),
            ],
        ),
        (
            "remediation-missing-context",
            [defect(), observation(), remediation(team="platform", description="Please fix.")],
            [defect(), observation(), remediation(team="platform", description=CONTEXT)],
        ),
        (
            "duplicate-defects",
            [defect(), defect("OPS-5"), observation(), observation("OPS-6", parent="OPS-5")],
            [
                defect(),
                defect("OPS-5", status=Status.DONE),
                observation(),
                observation("OPS-6", parent="OPS-5"),
                remediation("OPS-7", parent="OPS-5"),
            ],
        ),
        (
            "stale-observation",
            [defect(), observation(created=NOW - 15 * DAY)],
            [defect(), observation(created=NOW - 13 * DAY)],
        ),
    ],
)
def test_each_rule_fires_and_does_not(rule: str, bad: list[Ticket], good: list[Ticket]) -> None:
    assert rule in {r for r, _ in fired(*bad)}
    assert rule not in {r for r, _ in fired(*good)}


def test_every_rule_has_a_firing_test() -> None:
    tested = test_each_rule_fires_and_does_not.pytestmark[0].args[1]  # type: ignore[attr-defined]
    assert {case[0] for case in tested} == set(CATALOGUE)


def test_unscanned_evidence_names_the_files() -> None:
    packed = dataclasses.replace(REF, name="core.gz", sha256="1" * 64, scanned=False)
    [finding] = findings(defect(), observation(evidence=(REF, packed)))
    assert finding.rule == "unscanned-evidence" and finding.severity is Severity.WARNING
    assert finding.message == "OPS-2 holds evidence not scanned for secrets: core.gz."
    assert finding.defect == "OPS-1"


def test_title_fix_is_the_canonical_form() -> None:
    [finding] = findings(defect(), observation(title='Handle: Disk full on db-1"'))
    assert finding.fix == Fix("retitle", 'Handle: "Disk full" on "db-1"')
    assert finding.fix.describe() == 'retitle to \'Handle: "Disk full" on "db-1"\''
    assert finding.defect == "OPS-1"


def test_title_without_message_or_instance_is_unfixable() -> None:
    [finding] = findings(defect(), observation(title="Handle: something", message="", instance=""))
    assert finding.rule == "observation-title" and finding.fix is None
    assert "no message" in finding.unfixable


def test_orphan_gets_the_one_defect_carrying_its_fingerprint() -> None:
    from tracker_bridge.domain.fingerprint import fingerprint

    fp = fingerprint("Disk full").key
    [finding] = findings(defect(fingerprints=(fp,)), observation(parent=None), observation("OPS-4"))
    assert finding.rule == "observation-without-defect"
    assert finding.fix == Fix("set-parent", "OPS-1")


def test_orphan_is_unfixable_with_two_or_no_matching_defects() -> None:
    from tracker_bridge.domain.fingerprint import fingerprint

    fp = fingerprint("Disk full").key
    two = findings(
        defect(fingerprints=(fp,)),
        defect("OPS-5", fingerprints=(fp,), status=Status.DONE),
        observation(parent=None),
        observation("OPS-6"),
        remediation("OPS-7", parent="OPS-5"),
    )
    [orphan] = [f for f in two if f.rule == "observation-without-defect"]
    assert orphan.fix is None and "2 defects" in orphan.unfixable and "OPS-5" in orphan.unfixable
    lonely = findings(defect(), observation(parent=None, message="Permission denied"))
    [none] = [f for f in lonely if f.rule == "observation-without-defect"]
    assert none.fix is None and "no defect" in none.unfixable


def test_wrong_type_ignores_unset_types_and_delegated_work() -> None:
    tickets = (
        defect(issue_type=""),
        observation(issue_type=""),
        remediation(issue_type="Story", team="platform", description=CONTEXT),
    )
    assert fired(*tickets) == set()
    assert fired(defect(), observation(issue_type="Bug")) == {("wrong-issue-type", "OPS-2")}


def test_sub_task_link_style_expects_sub_task_observations() -> None:
    sub = dataclasses.replace(CONV, link="sub-task")
    assert fired(defect(), observation(issue_type="Sub-task"), conventions=sub) == set()
    assert fired(defect(), observation(issue_type="Task"), conventions=sub) == {
        ("wrong-issue-type", "OPS-2")
    }


def test_a_delegated_link_counts_as_remediation() -> None:
    elsewhere = RemoteLink("https://plat/PLAT-1", "PLAT-1", "bridge-delegate:platform:PLAT-1")
    assert fired(defect(status=Status.DONE, links=(elsewhere,)), observation()) == set()


def test_remediation_seen_before_its_closed_defect_still_counts() -> None:
    assert fired(remediation(), observation(), defect(status=Status.DONE)) == set()


def test_context_sections_in_jira_markup_count() -> None:
    wiki = "\n".join(f"h2. {s}\ntext" for s in REMEDIATION_SECTIONS)
    assert fired(defect(), observation(), remediation(team="p", description=wiki)) == set()
    partial = "\n".join(f"## {s}" for s in REMEDIATION_SECTIONS[:-1])
    [finding] = findings(defect(), observation(), remediation(team="p", description=partial))
    assert "'Finalisation'" in finding.message and finding.defect == "OPS-1"


def test_duplicates_name_both_defects() -> None:
    out = findings(defect(), observation(), defect("OPS-5"), observation("OPS-6", parent="OPS-5"))
    [dup] = [f for f in out if f.rule == "duplicate-defects"]
    assert dup.key == "OPS-5" and dup.related == ("OPS-1",)
    assert "OPS-5" in dup.message and "OPS-1" in dup.message


def test_stale_limit_is_configurable_and_done_observations_are_never_stale() -> None:
    old = observation(created=NOW - 5 * DAY)
    assert ("stale-observation", "OPS-2") in fired(defect(), old, stale_days=3)
    assert ("stale-observation", "OPS-2") not in fired(defect(), old, stale_days=7)
    done = observation(created=NOW - 50 * DAY, status=Status.DONE)
    assert ("stale-observation", "OPS-2") not in fired(defect(), done)


def test_severities_regrade_and_disable() -> None:
    bare = (defect(), observation(evidence=()))
    [f] = findings(*bare, severities={"observation-without-evidence": Severity.INFO})
    assert f.severity is Severity.INFO
    assert findings(*bare, severities={"observation-without-evidence": None}) == []


def test_checker_keeps_only_keys_between_tickets() -> None:
    checker = Checker(now=NOW)
    for i in range(0, 200, 2):
        checker.feed(defect(f"OPS-{i}", fingerprints=(f"{i:016x}",)))
        checker.feed(observation(f"OPS-{i + 1}", parent=f"OPS-{i}"))
    state = [v for k, v in vars(checker).items() if k.startswith("_") and isinstance(v, dict | set)]
    for container in state:
        items = container.values() if isinstance(container, dict) else container
        assert not any(isinstance(x, Ticket) for x in items)


def test_catalogue_is_complete() -> None:
    assert len({r.id for r in RULES}) == len(RULES)
    assert all(r.rationale and isinstance(r.severity, Severity) for r in RULES)
    assert {r.id for r in RULES if r.fixable} == {
        "observation-title",
        "observation-without-defect",
    }
    assert CATALOGUE["observation-without-action"].severity is Severity.WARNING


# -- the workflow, on the local tracker -----------------------------------------------------


@pytest.fixture
def tracker() -> Iterator[LocalTracker]:
    t = LocalTracker(":memory:")
    yield t
    t.close()


def healthy(tracker: LocalTracker) -> tuple[str, str]:
    defect_key = tracker.create(new_defect(CONV, "Disk full")).key
    obs = tracker.create(
        new_observation(CONV, defect_key, "Disk full", "db-1", actions=("wiped /tmp",))
    ).key
    tracker.attach(obs, [evidence("df.txt", "100%")])
    return defect_key, obs


def rules_fired(tracker: LocalTracker, **kw: object) -> set[tuple[str, str]]:
    report = check.run(tracker, CONV, **kw)  # type: ignore[arg-type]
    return {(f.rule, f.key) for f in report.findings}


def test_clean_tracker_has_no_findings(tracker: LocalTracker) -> None:
    healthy(tracker)
    report = check.run(tracker, CONV)
    assert report.findings == () and not report.failed and report.checked == 2
    assert report.source == "memory"


def test_bad_title_fires_with_canonical_fix(tracker: LocalTracker) -> None:
    defect_key, _ = healthy(tracker)
    tracker.insert_raw('Handle: Disk full on db-2"', kind=Kind.OBSERVATION, parent=defect_key)
    report = check.run(tracker, CONV)
    [finding] = [f for f in report.findings if f.rule == "observation-title"]
    assert finding.fix == Fix("retitle", 'Handle: "Disk full" on "db-2"')
    assert report.failed


def test_unmarked_observation_title_is_in_scope(tracker: LocalTracker) -> None:
    healthy(tracker)
    key = tracker.insert_raw('handle: "Disk full" on db-4')
    tracker.insert_raw("Upgrade the kernel")
    report = check.run(tracker, CONV)
    assert ("unmarked-observation", key) in {(f.rule, f.key) for f in report.findings}
    assert report.checked == 3
    assert not report.failed  # a warning does not fail the run


def test_closed_defect_needs_a_remediation(tracker: LocalTracker) -> None:
    defect_key, _ = healthy(tracker)
    tracker.resolve(defect_key)
    assert ("defect-closed-without-remediation", defect_key) in rules_fired(tracker)
    tracker.create(NewTicket(kind=Kind.REMEDIATION, title="Alert on disk", parent=defect_key))
    assert ("defect-closed-without-remediation", defect_key) not in rules_fired(tracker)


def test_stale_uses_the_injected_now(tracker: LocalTracker) -> None:
    _, obs = healthy(tracker)
    assert ("stale-observation", obs) not in rules_fired(tracker)
    later = datetime.now(UTC) + timedelta(days=30)
    assert ("stale-observation", obs) in rules_fired(tracker, now=later)
    assert ("stale-observation", obs) not in rules_fired(tracker, now=later, stale_days=60)


def test_rules_can_be_regraded_disabled_or_selected(tracker: LocalTracker) -> None:
    defect_key, _ = healthy(tracker)
    tracker.create(new_observation(CONV, defect_key, "Disk full", "db-9", actions=("x",)))
    levels = check.severities({"observation-without-evidence": "warning"})
    report = check.run(tracker, CONV, levels=levels)
    assert not report.failed and report.counts()["warning"] == 1
    assert dict(report.levels)["observation-without-evidence"] is Severity.WARNING
    off = check.severities({"observation-without-evidence": "off"})
    assert check.run(tracker, CONV, levels=off).findings == ()
    only = check.severities({}, ("defect-without-observations",))
    report = check.run(tracker, CONV, levels=only)
    assert report.findings == ()
    assert [r for r, level in report.levels if level] == ["defect-without-observations"]


def test_unknown_rule_id_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="no-such-rule"):
        check.severities({"no-such-rule": "off"})


def test_a_failed_scan_gives_no_report_and_says_how_far_it_got() -> None:
    tracker = FailingTracker(":memory:")
    healthy(tracker)
    healthy(tracker)
    with pytest.raises(IncompleteScan) as caught:
        check.run(tracker, CONV)
    assert caught.value.exit_code == 3
    assert "after reading 3 ticket(s)" in str(caught.value)
    assert "No report was written" in str(caught.value)
    assert isinstance(caught.value.__cause__, TrackerUnavailable)


def test_progress_is_told_the_count(tracker: LocalTracker) -> None:
    healthy(tracker)
    seen: list[int] = []
    check.run(tracker, CONV, progress=seen.append)
    assert seen[-1] == 2


# -- fixes ------------------------------------------------------------------------------------


def test_fix_retitles_and_reparents_and_deletes_nothing(tracker: LocalTracker) -> None:
    defect_key, _ = healthy(tracker)
    bad = tracker.insert_raw('Handle: Disk full on db-2"', kind=Kind.OBSERVATION, parent=defect_key)
    orphan = tracker.create(
        dataclasses.replace(new_observation(CONV, defect_key, "Disk full", "db-3"), parent=None)
    ).key
    report = check.run(tracker, CONV)

    dry = check.fix(tracker, report, CONV, dry_run=True)
    assert {(a.key, a.fix.action, a.done) for a in dry.fixes} == {
        (bad, "retitle", False),
        (orphan, "set-parent", False),
    }
    assert tracker.get(bad).title == 'Handle: Disk full on db-2"'
    assert tracker.get(orphan).parent is None

    done = check.fix(tracker, report, CONV)
    assert all(a.done for a in done.fixes) and len(done.fixes) == 2
    assert tracker.get(bad).title == 'Handle: "Disk full" on "db-2"'
    assert tracker.get(orphan).parent == defect_key
    assert {(f.rule, f.key) for f in done.outstanding}.isdisjoint(
        {("observation-title", bad), ("observation-without-defect", orphan)}
    )
    after = check.run(tracker, CONV)
    assert {(f.rule, f.key) for f in after.findings}.isdisjoint(
        {("observation-title", bad), ("observation-without-defect", orphan)}
    )
    assert after.checked == report.checked  # nothing deleted


def test_fix_matches_orphans_by_similarity_when_no_fingerprint_matches(
    tracker: LocalTracker,
) -> None:
    defect_key = tracker.create(
        new_defect(CONV, "Connection refused for user alice", fp="aaaaaaaaaaaaaaaa")
    ).key
    tracker.create(new_observation(CONV, defect_key, "Connection refused for user alice", "a"))
    orphan = tracker.insert_raw(
        'Handle: "Connection refused for user bob" on "b"', kind=Kind.OBSERVATION
    )
    report = check.run(tracker, CONV)
    [finding] = [f for f in report.findings if f.rule == "observation-without-defect"]
    assert finding.fix is None  # no defect carries that fingerprint ...
    fixed = check.fix(tracker, report, CONV, dry_run=True)
    [again] = [f for f in fixed.findings if f.rule == "observation-without-defect"]
    assert again.fix == Fix("set-parent", defect_key)  # ... but one defect is similar
    assert (orphan, "set-parent") in {(a.key, a.fix.action) for a in fixed.fixes}


def test_fix_leaves_ambiguous_orphans_alone(tracker: LocalTracker) -> None:
    from tracker_bridge.domain.fingerprint import fingerprint

    fp = fingerprint("Disk full").key
    for _ in range(2):
        key = tracker.create(new_defect(CONV, "Disk full", fp=fp)).key
        tracker.create(new_observation(CONV, key, "Disk full", "x"))
    orphan = tracker.insert_raw('Handle: "Disk full" on "y"', kind=Kind.OBSERVATION)
    fixed = check.fix(tracker, check.run(tracker, CONV), CONV)
    assert orphan not in {a.key for a in fixed.fixes}
    assert tracker.get(orphan).parent is None


def test_fix_refuses_a_tracker_that_cannot_fix() -> None:
    class ReadOnly:
        name = "read-only"

    report = check.Report(findings=(), checked=0)
    with pytest.raises(UsageError, match="cannot apply fixes"):
        check.fix(ReadOnly(), report, CONV)  # type: ignore[arg-type]
