"""The lifecycle workflows on the memory tracker: plans, refusals, ranking, what the matcher learns."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from support.contract import evidence, new_defect, new_observation
from tracker_bridge.domain.conventions import Conventions
from tracker_bridge.domain.fingerprint import fingerprint
from tracker_bridge.domain.links import delegate_link_id
from tracker_bridge.domain.tickets import Kind, NewTicket, RemoteLink
from tracker_bridge.errors import FinalisationError, NotFoundError, UsageError
from tracker_bridge.trackers.local import LocalTracker
from tracker_bridge.workflows import evidence as ev
from tracker_bridge.workflows import listing, merge, move, resolve

CONV = Conventions()
NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


@pytest.fixture
def tracker() -> Iterator[LocalTracker]:
    made = LocalTracker(":memory:")
    yield made
    made.close()


def fp(message: str) -> str:
    return fingerprint(message).key


def defect(tracker: LocalTracker, message: str) -> str:
    return tracker.create(new_defect(CONV, message, fp=fp(message))).key


def sighting(tracker: LocalTracker, parent: str, message: str, instance: str, days_ago: int) -> str:
    obs = new_observation(CONV, parent, message, instance)
    when = NOW - timedelta(days=days_ago)
    return tracker.create(
        NewTicket(**{**{f: getattr(obs, f) for f in obs.__dataclass_fields__}, "observed_at": when})
    ).key


def test_list_ranks_recent_sightings_first(tracker: LocalTracker) -> None:
    old = defect(tracker, "Old trouble")
    hot = defect(tracker, "Hot trouble")
    quiet = defect(tracker, "Never seen")
    for day in (40, 41, 42, 43):
        sighting(tracker, old, "Old trouble", "a", day)
    for day in (1, 2):
        sighting(tracker, hot, "Hot trouble", "b", day)
    rows = listing.run(tracker, CONV, listing.Filter(), now=NOW)
    assert [r.key for r in rows] == [hot, old, quiet]
    assert (rows[0].recent, rows[0].sightings) == (2, 2)
    assert rows[1].last_seen == NOW - timedelta(days=40)
    assert rows[2].sightings == 0 and rows[2].last_seen is None
    on_a = listing.run(tracker, CONV, listing.Filter(instance="a"), now=NOW)
    assert [r.key for r in on_a] == [old]
    recent = listing.run(tracker, CONV, listing.Filter(since=NOW - timedelta(days=10)), now=NOW)
    assert [r.key for r in recent] == [hot]


def test_move_refuses_what_is_not_an_observation(tracker: LocalTracker) -> None:
    one, two = defect(tracker, "one"), defect(tracker, "two")
    obs = sighting(tracker, one, "one", "h", 1)
    with pytest.raises(UsageError, match="not an observation") as caught:
        move.run(tracker, CONV, [two], one)
    assert f"bridge merge {two} --into {one}" in str(caught.value)
    with pytest.raises(UsageError, match="not a defect"):
        move.run(tracker, CONV, [obs], obs)
    with pytest.raises(NotFoundError):
        move.run(tracker, CONV, ["OPS-999"], one)


def test_move_keeps_a_fingerprint_another_observation_still_has(tracker: LocalTracker) -> None:
    source, target = defect(tracker, "Disk full"), defect(tracker, "Disk trouble")
    first = sighting(tracker, source, "Disk full", "a", 1)
    sighting(tracker, source, "Disk full", "b", 1)
    outcome = move.run(tracker, CONV, [first], target)
    assert ("remove-fingerprint", source) not in [(c.action, c.key) for c in outcome.changes]
    assert fp("Disk full") in tracker.get(source).fingerprints
    assert fp("Disk full") in tracker.get(target).fingerprints


def test_dry_runs_change_nothing(tracker: LocalTracker) -> None:
    one, two = defect(tracker, "one"), defect(tracker, "two")
    obs = sighting(tracker, one, "one", "h", 1)
    before = [(t.key, t.parent, t.status, t.fingerprints) for t in tracker.scan("Handle")]
    assert move.run(tracker, CONV, [obs], two, dry_run=True).changes
    assert merge.run(tracker, [two], one, dry_run=True).changes
    assert resolve.run(tracker, obs, dry_run=True).changes
    with pytest.raises(FinalisationError):
        resolve.run(tracker, one, dry_run=True)
    after = [(t.key, t.parent, t.status, t.fingerprints) for t in tracker.scan("Handle")]
    assert after == before


def test_merge_refuses_itself_and_observations(tracker: LocalTracker) -> None:
    one = defect(tracker, "one")
    obs = sighting(tracker, one, "one", "h", 1)
    with pytest.raises(UsageError, match="into itself"):
        merge.run(tracker, [one], one)
    with pytest.raises(UsageError, match="not a defect") as caught:
        merge.run(tracker, [obs], one)
    assert f"bridge move {obs} --to {one}" in str(caught.value)


def test_merge_carries_remediations_and_delegations(tracker: LocalTracker) -> None:
    survivor, dup = defect(tracker, "one"), defect(tracker, "two")
    rem = tracker.create(
        NewTicket(kind=Kind.REMEDIATION, title="Alert earlier", parent=dup, labels=())
    ).key
    link = RemoteLink(
        url="https://plat.example/PLAT-7",
        title="PLAT-7",
        global_id=delegate_link_id("plat", "PLAT-7"),
    )
    tracker.link_remote(dup, link)
    merge.run(tracker, [dup], survivor)
    assert [t.key for t in tracker.tree(survivor).remediations] == [rem]
    assert link in tracker.get(survivor).links
    # with a remediation, the survivor may now be resolved without a reason
    assert resolve.run(tracker, survivor).changes


def test_resolve_closes_open_observations_with_the_defect(tracker: LocalTracker) -> None:
    one = defect(tracker, "one")
    obs = [sighting(tracker, one, "one", h, 1) for h in ("a", "b")]
    tracker.resolve(obs[0])
    outcome = resolve.run(tracker, one, without_remediation="decommissioned", note="gone")
    resolved = [c.key for c in outcome.changes if c.action == "resolve"]
    assert resolved == [obs[1], one]
    assert all(tracker.get(k).is_done for k in (*obs, one))
    assert tracker.comments(one) == ["gone", "Resolved without remediation: decommissioned"]


def test_evidence_cat_by_name_or_hash(tracker: LocalTracker) -> None:
    one = defect(tracker, "one")
    obs = sighting(tracker, one, "one", "h", 1)
    tracker.attach(obs, [evidence("log.txt", "first"), evidence("log.txt", "second")])
    with pytest.raises(UsageError, match="2 items named"):
        ev.cat(tracker, obs, "log.txt")
    second = evidence("x", "second").sha256
    ref, data = ev.cat(tracker, obs, second[:10])
    assert (ref.name, data) == ("log.txt", b"second")
    assert ev.terminal_safe(b"red \x1b[31m!\n\xe2\x80\xae") == b"red \\x1b[31m!\n\\x202e"


def test_undefined_template_values_point_at_vars(tmp_path: object) -> None:
    from pathlib import Path

    from tracker_bridge.errors import TemplateError
    from tracker_bridge.templating import render

    where = Path(str(tmp_path))
    (where / "bare.md.j2").write_text(
        "{% block title %}t{% endblock %}{% block body %}{{ value }}{% endblock %}"
    )
    (where / "under.md.j2").write_text(
        "{% block title %}t{% endblock %}{% block body %}{{ vars.value }}{% endblock %}"
    )
    with pytest.raises(TemplateError) as bare:
        render("bare", {"vars": {}}, where)
    assert "{{ vars.value }}" in str(bare.value) and "--var value=VALUE" in str(bare.value)
    with pytest.raises(TemplateError) as under:
        render("under", {"vars": {}}, where)
    assert "--var value=VALUE" in str(under.value)


def test_move_that_empties_a_defect_says_how_to_merge_it(tracker: LocalTracker) -> None:
    source, target = defect(tracker, "Disk full"), defect(tracker, "Disk trouble")
    only = sighting(tracker, source, "Disk full", "a", 1)
    outcome = move.run(tracker, CONV, [only], target)
    assert any(f"bridge merge {source} --into {target}" in note for note in outcome.notes)
    assert fp("Disk full") not in tracker.get(source).fingerprints
