"""``bridge postmortem``: a washup draft written from the tickets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from support.cli import run
from support.contract import evidence, new_defect
from tracker_bridge.domain.conventions import Conventions, format_title
from tracker_bridge.domain.tickets import Kind, NewTicket
from tracker_bridge.errors import TemplateError, UsageError
from tracker_bridge.trackers.local import LocalTracker
from tracker_bridge.workflows import postmortem

CONV = Conventions()
T0 = datetime(2026, 10, 1, 3, 0, tzinfo=UTC)


def seeded() -> tuple[LocalTracker, str]:
    t = LocalTracker(":memory:")
    defect = t.create(new_defect(CONV, "No space left on device")).key
    for days, host, action, impact in (
        (0, "db-1", "wiped /tmp", "uploads failed 12 min"),
        (14, "db-2", "rotated logs", ""),
    ):
        obs = t.create(
            NewTicket(
                kind=Kind.OBSERVATION,
                title=format_title("m", host),
                message="m",
                parent=defect,
                instance=host,
                observed_at=T0 + timedelta(days=days),
                actions=(action,),
                impact=impact,
            )
        ).key
        t.attach(obs, [evidence(f"df-{host}.txt", f"{host} 100%")])
    rem = t.create(
        NewTicket(kind=Kind.REMEDIATION, title="Alert at 90% disk", parent=defect, team="platform")
    ).key
    t.resolve(rem)
    return t, defect


def test_draft_has_every_section_in_order() -> None:
    tracker, defect = seeded()
    draft = postmortem.run(tracker, defect)
    assert draft.title == "Washup: No space left on device"
    sections = [line for line in draft.body.splitlines() if line.startswith("## ")]
    assert sections == [
        "## Summary",
        "## Impact",
        "## Timeline",
        "## Actions taken",
        "## Evidence",
        "## Remediation",
        "## What would have told us earlier?",
        "## How do we stop similar defects elsewhere?",
    ]
    body = draft.body
    assert "Seen **2** time(s)" in body and "db-1 (1), db-2 (1)" in body
    assert "- uploads failed 12 min" in body
    assert "df-db-2.txt" in body and "Alert at 90% disk (done, team platform)" in body
    rows = [line for line in body.splitlines() if line.startswith("| 2026-10")]
    assert [r.split(" | ")[1] for r in rows] == [
        "seen on db-1 (uploads failed 12 min)",
        "action: wiped /tmp",
        "seen on db-2",
        "action: rotated logs",
    ]


def test_vars_fill_the_questions_and_templates_can_be_overridden(tmp_path: Path) -> None:
    tracker, defect = seeded()
    draft = postmortem.run(tracker, defect, variables={"earlier": "The 95% disk alert."})
    assert "The 95% disk alert." in draft.body
    (tmp_path / "postmortem.md.j2").write_text(
        "{% block title %}PM {{ defect.key }}{% endblock %}{% block body %}{{ stats.count }}{% endblock %}"
    )
    mine = postmortem.run(tracker, defect, templates_dir=tmp_path)
    assert (mine.title, mine.body) == (f"PM {defect}", "2\n")
    (tmp_path / "bad.md.j2").write_text(
        "{% block title %}x{% endblock %}{% block body %}{{ nope }}{% endblock %}"
    )
    with pytest.raises(TemplateError, match=r"bad\.md\.j2"):
        postmortem.run(tracker, defect, templates_dir=tmp_path, template="bad")


def test_only_for_defects() -> None:
    tracker, defect = seeded()
    obs = tracker.tree(defect).observations[0].key
    with pytest.raises(UsageError, match="not a defect"):
        postmortem.run(tracker, obs)


def test_cli_postmortem(capsys: pytest.CaptureFixture[str]) -> None:
    created = run(capsys, "observe", "Disk full", "-i", "db-1", "--action", "wiped /tmp", "--json")
    import json

    defect = json.loads(created[1])["defect"]
    code, out, _ = run(capsys, "postmortem", defect)
    assert code == 0 and out.startswith("# Washup: Disk full") and "action: wiped /tmp" in out
    code, out, err = run(
        capsys,
        "postmortem",
        defect,
        "--output",
        "washup.md",
        "--var",
        "similar=Quota every volume.",
    )
    assert code == 0 and out == "" and "washup.md" in err
    assert "Quota every volume." in Path("washup.md").read_text()
    code, _, err = run(capsys, "postmortem", defect, "--var", "oops")
    assert code == 2 and "KEY=VALUE" in err
