"""Delegating remediation: context, links both ways, idempotency, templates, dry runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from support.cli import run
from support.contract import evidence, new_defect, new_observation
from tracker_bridge.domain.conventions import Conventions
from tracker_bridge.domain.teams import Team
from tracker_bridge.domain.tickets import Kind
from tracker_bridge.errors import TemplateError, UsageError
from tracker_bridge.trackers.local import LocalTracker
from tracker_bridge.workflows import delegate
from tracker_bridge.workflows.delegate import Request

CONV = Conventions()
TEAM = Team(name="platform", project="PLAT", issue_type="Story", labels=("from-ops",))


def seeded(tracker: LocalTracker) -> str:
    defect = tracker.create(new_defect(CONV, "No space left on device")).key
    for i, host in enumerate(["replica-1", "replica-2", "replica-1"]):
        obs = tracker.create(
            new_observation(
                CONV,
                defect,
                "No space left on device",
                host,
                actions=("wiped /tmp",),
                impact=f"writes failed {i + 1} min",
            )
        ).key
        tracker.attach(obs, [evidence(f"df-{i}.txt", f"{i}00%")])
    return defect


def test_same_site_files_child_with_context_and_note() -> None:
    tracker = LocalTracker(":memory:")
    defect = seeded(tracker)
    result = delegate.run(
        tracker,
        tracker,
        team=TEAM,
        conventions=CONV,
        request=Request(defect=defect, team="platform"),
        same_site=True,
    )
    made = tracker.get(result.ticket or "")
    assert made.kind is Kind.REMEDIATION and made.parent == defect and made.team == "platform"
    assert made.labels == ("bridge-remediation", "from-ops")
    for section in (
        "why it matters to you",
        "Business value",
        "no deadline",
        "How often",
        "Impact",
        "Evidence",
        "already tried",
        "Links",
        "Finalisation",
    ):
        assert section in made.description, section
    assert "Seen **3** time(s)" in made.description
    assert "replica-1 (2), replica-2 (1)" in made.description
    assert "writes failed 2 min" in made.description and "wiped /tmp" in made.description
    assert "df-1.txt" in made.description
    assert [t.key for t in tracker.tree(defect).remediations] == [made.key]
    assert any(made.key in c for c in tracker.comments(defect))


def test_twice_returns_existing_unless_again() -> None:
    tracker = LocalTracker(":memory:")
    defect = seeded(tracker)
    req = Request(defect=defect, team="platform")
    first = delegate.run(tracker, tracker, team=TEAM, conventions=CONV, request=req, same_site=True)
    second = delegate.run(
        tracker, tracker, team=TEAM, conventions=CONV, request=req, same_site=True
    )
    assert second.existing and second.ticket == first.ticket
    third = delegate.run(
        tracker,
        tracker,
        team=TEAM,
        conventions=CONV,
        request=Request(defect=defect, team="platform", again=True),
        same_site=True,
    )
    assert not third.existing and third.ticket != first.ticket
    assert len(tracker.tree(defect).remediations) == 2


def test_cross_tracker_links_both_ways_without_duplicates() -> None:
    ours, theirs = LocalTracker(":memory:", project="OPS"), LocalTracker(":memory:", project="PLAT")
    defect = seeded(ours)
    req = Request(defect=defect, team="platform")
    first = delegate.run(ours, theirs, team=TEAM, conventions=CONV, request=req, same_site=False)
    made = theirs.get(first.ticket or "")
    assert made.parent is None
    assert [(l.global_id, l.url) for l in made.links] == [
        (f"bridge-defect:{defect}", ours.get(defect).url)
    ]
    back = ours.get(defect).links
    assert [l.global_id for l in back] == [f"bridge-delegate:platform:{made.key}"]
    again = delegate.run(ours, theirs, team=TEAM, conventions=CONV, request=req, same_site=False)
    assert again.existing and len(ours.get(defect).links) == 1
    assert len(list(theirs.scan("Handle"))) == 1


def test_dry_run_renders_and_validates_without_creating() -> None:
    tracker = LocalTracker(":memory:")
    defect = seeded(tracker)
    before = len(list(tracker.scan("Handle")))
    result = delegate.run(
        tracker,
        tracker,
        team=TEAM,
        conventions=CONV,
        request=Request(
            defect=defect,
            team="platform",
            dry_run=True,
            variables={"value": "30 min of on-call a week"},
        ),
        same_site=True,
    )
    assert result.dry_run and result.ticket is None and result.problems == ()
    assert "30 min of on-call a week" in result.body
    assert len(list(tracker.scan("Handle"))) == before


def test_only_a_defect_can_be_delegated() -> None:
    tracker = LocalTracker(":memory:")
    defect = seeded(tracker)
    obs = tracker.tree(defect).observations[0].key
    with pytest.raises(UsageError, match="not a defect"):
        delegate.run(
            tracker,
            tracker,
            team=TEAM,
            conventions=CONV,
            request=Request(defect=obs, team="platform"),
            same_site=True,
        )


def test_user_template_overrides_and_errors_name_the_line(tmp_path: Path) -> None:
    tracker = LocalTracker(":memory:")
    defect = seeded(tracker)
    (tmp_path / "remediation.md.j2").write_text(
        "{% block title %}Fix {{ defect.key }} for {{ team.project }}{% endblock %}\n"
        "{% block body %}Seen {{ stats.count }} times.{% endblock %}\n"
    )
    result = delegate.run(
        tracker,
        tracker,
        team=TEAM,
        conventions=CONV,
        request=Request(defect=defect, team="platform", dry_run=True),
        same_site=True,
        templates_dir=tmp_path,
    )
    assert result.title == f"Fix {defect} for PLAT" and result.body == "Seen 3 times.\n"
    (tmp_path / "broken.md.j2").write_text(
        "{% block title %}x{% endblock %}\n{% block body %}\nline two\n{{ vars.owner }}\n{% endblock %}\n"
    )
    with pytest.raises(TemplateError, match=r"broken.md.j2 line 4: .*owner"):
        delegate.run(
            tracker,
            tracker,
            team=TEAM,
            conventions=CONV,
            request=Request(defect=defect, team="platform", template="broken", dry_run=True),
            same_site=True,
            templates_dir=tmp_path,
        )
    (tmp_path / "syntax.md.j2").write_text(
        "{% block title %}x{% endblock %}\n{% block body %}{% if %}"
    )
    with pytest.raises(TemplateError, match=r"syntax\.md\.j2 line 2"):
        delegate.run(
            tracker,
            tracker,
            team=TEAM,
            conventions=CONV,
            request=Request(defect=defect, team="platform", template="syntax", dry_run=True),
            same_site=True,
            templates_dir=tmp_path,
        )
    (tmp_path / "evil.md.j2").write_text(
        "{% block title %}{{ defect.__class__.__mro__ }}{% endblock %}{% block body %}b{% endblock %}"
    )
    with pytest.raises(TemplateError):
        delegate.run(
            tracker,
            tracker,
            team=TEAM,
            conventions=CONV,
            request=Request(defect=defect, team="platform", template="evil", dry_run=True),
            same_site=True,
            templates_dir=tmp_path,
        )


def test_cli_delegate_story(capsys: pytest.CaptureFixture[str]) -> None:
    Path("bridge.toml").write_text('[teams.platform]\nproject = "PLAT"\nissue_type = "Story"\n')
    Path("df.txt").write_text("100%\n")
    obs = json.loads(
        run(capsys, "observe", "Disk full", "-i", "db-1", "--evidence", "df.txt", "--json")[1]
    )
    code, out, _ = run(
        capsys,
        "delegate",
        obs["defect"],
        "--to",
        "platform",
        "--dry-run",
        "--var",
        "value=saves an hour a week",
    )
    assert code == 0 and "Title: Remediate: Disk full" in out and "saves an hour a week" in out
    code, out, _ = run(capsys, "delegate", obs["defect"], "--to", "platform", "--json")
    made = json.loads(out)
    assert code == 0 and made["ticket"].startswith("PLAT-") and not made["existing"]
    code, out, _ = run(capsys, "delegate", obs["defect"], "--to", "platform")
    assert code == 0 and "Already delegated" in out
    shown = json.loads(run(capsys, "show", obs["defect"], "--json")[1])
    assert [(r["key"], r["status"], r["team"]) for r in shown["remediations"]] == [
        (made["ticket"], "open", "platform")
    ]
    code, _, err = run(capsys, "delegate", obs["defect"], "--to", "nobody")
    assert code == 2 and "unknown team 'nobody' (known: platform)" in err
    code, _, err = run(capsys, "delegate", obs["defect"], "--to", "platform", "--var", "novalue")
    assert code == 2 and "not KEY=VALUE" in err
