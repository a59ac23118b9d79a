"""The contract every ``Tracker`` must keep, whatever its backend.

Subclass ``TrackerContract`` in a backend's test module and provide two fixtures: ``tracker``
(a fresh, empty tracker) and ``conventions`` (the ``Conventions`` it was built with). The same
tests then run against memory, local SQLite, Jira-on-fake and GitHub-on-fake.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tracker_bridge.domain.conventions import Conventions, format_title
from tracker_bridge.domain.tickets import EvidenceFile, Kind, NewTicket, Status
from tracker_bridge.errors import FinalisationError, NotFoundError
from tracker_bridge.trackers.base import ReplacesAttachments, Tracker

WHEN = datetime(2026, 11, 2, 3, 4, 5, tzinfo=UTC)


def new_defect(conventions: Conventions, message: str, fp: str = "0123456789abcdef", **kw: object):
    return NewTicket(
        kind=Kind.DEFECT,
        title=message,
        message=message,
        fingerprints=(fp,),
        labels=(conventions.defect_label, conventions.fingerprint_label(fp)),
        **kw,  # type: ignore[arg-type]
    )


def new_observation(
    conventions: Conventions, parent: str, message: str, instance: str, **kw: object
):
    return NewTicket(
        kind=Kind.OBSERVATION,
        title=format_title(message, instance, conventions.observation_prefix),
        message=message,
        parent=parent,
        instance=instance,
        observed_at=WHEN,
        labels=(conventions.observation_label,),
        **kw,  # type: ignore[arg-type]
    )


def evidence(name: str, text: str) -> EvidenceFile:
    return EvidenceFile(name=name, data=text.encode(), source=f"file:{name}", captured_at=WHEN)


class TrackerContract:
    """Behaviour every tracker backend must show."""

    def test_is_a_tracker(self, tracker: Tracker) -> None:
        assert isinstance(tracker, Tracker)
        assert tracker.name

    def test_create_and_get_defect(self, tracker: Tracker, conventions: Conventions) -> None:
        made = tracker.create(new_defect(conventions, "No space left on device"))
        got = tracker.get(made.key)
        assert got.key == made.key
        assert got.kind is Kind.DEFECT
        assert got.title == "No space left on device"
        assert got.message == "No space left on device"
        assert got.status is Status.OPEN
        assert "0123456789abcdef" in got.fingerprints
        assert got.created.tzinfo is not None

    def test_unknown_key_is_not_found(self, tracker: Tracker) -> None:
        with pytest.raises(NotFoundError):
            tracker.get("NOPE-999999")

    def test_observation_is_child_of_defect(
        self, tracker: Tracker, conventions: Conventions
    ) -> None:
        defect = tracker.create(new_defect(conventions, "Disk full"))
        obs = tracker.create(
            new_observation(
                conventions,
                defect.key,
                "Disk full",
                "replica-2",
                actions=("wiped /tmp",),
                impact="writes failed for 5 min",
                duration=timedelta(minutes=5, seconds=30),
            )
        )
        assert obs.duration == timedelta(minutes=5, seconds=30)
        got = tracker.get(obs.key)
        assert got.kind is Kind.OBSERVATION
        assert got.parent == defect.key
        assert got.title == 'Handle: "Disk full" on "replica-2"'
        assert got.instance == "replica-2"
        assert got.observed_at == WHEN
        assert got.actions == ("wiped /tmp",)
        assert got.impact == "writes failed for 5 min"
        assert got.duration == timedelta(minutes=5, seconds=30)
        tree = tracker.tree(defect.key)
        assert [t.key for t in tree.observations] == [obs.key]
        assert [t.duration for t in tree.observations] == [got.duration]
        assert tree.remediations == ()

    def test_remediation_is_listed_apart(self, tracker: Tracker, conventions: Conventions) -> None:
        defect = tracker.create(new_defect(conventions, "Disk full"))
        rem = tracker.create(
            NewTicket(
                kind=Kind.REMEDIATION,
                title="Alert on disk usage",
                parent=defect.key,
                labels=(conventions.remediation_label,),
            )
        )
        tree = tracker.tree(defect.key)
        assert [t.key for t in tree.remediations] == [rem.key]
        assert tree.observations == ()

    def test_fingerprint_lookup(self, tracker: Tracker, conventions: Conventions) -> None:
        defect = tracker.create(new_defect(conventions, "Disk full", fp="aaaaaaaaaaaaaaaa"))
        assert tracker.find_by_fingerprint("bbbbbbbbbbbbbbbb") is None
        found = tracker.find_by_fingerprint("aaaaaaaaaaaaaaaa")
        assert found is not None and found.key == defect.key
        tracker.add_fingerprint(defect.key, "bbbbbbbbbbbbbbbb")
        again = tracker.find_by_fingerprint("bbbbbbbbbbbbbbbb")
        assert again is not None and again.key == defect.key
        assert set(tracker.get(defect.key).fingerprints) >= {"aaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbb"}

    def test_defects_lists_only_defects(self, tracker: Tracker, conventions: Conventions) -> None:
        one = tracker.create(new_defect(conventions, "one", fp="1111111111111111"))
        two = tracker.create(new_defect(conventions, "two", fp="2222222222222222"))
        tracker.create(new_observation(conventions, one.key, "one", "host"))
        assert sorted(t.key for t in tracker.defects()) == sorted([one.key, two.key])

    def test_create_is_idempotent_on_event_id(
        self, tracker: Tracker, conventions: Conventions
    ) -> None:
        defect = tracker.create(new_defect(conventions, "Disk full"))
        first = tracker.create(
            new_observation(conventions, defect.key, "Disk full", "h", event_id="ev-1")
        )
        second = tracker.create(
            new_observation(conventions, defect.key, "Disk full", "h", event_id="ev-1")
        )
        assert second.key == first.key
        assert len(tracker.tree(defect.key).observations) == 1
        found = tracker.find_by_event("ev-1")
        assert found is not None and found.key == first.key
        assert tracker.find_by_event("ev-2") is None

    def test_attach_many_and_dedupe(self, tracker: Tracker, conventions: Conventions) -> None:
        defect = tracker.create(new_defect(conventions, "Disk full"))
        obs = tracker.create(new_observation(conventions, defect.key, "Disk full", "h"))
        refs = tracker.attach(obs.key, [evidence("df.txt", "100%"), evidence("ls.txt", "a\nb\n")])
        assert [r.name for r in refs] == ["df.txt", "ls.txt"]
        assert refs[0].size == 4
        again = tracker.attach(obs.key, [evidence("df.txt", "100%"), evidence("df2.txt", "99%")])
        assert {r.name for r in again} >= {"df2.txt"}
        stored = tracker.get(obs.key).evidence
        assert sorted(r.sha256 for r in stored) == sorted(
            {evidence("x", t).sha256 for t in ("100%", "a\nb\n", "99%")}
        )

    def test_replace_attachment_keeps_one_file_of_a_name(
        self, tracker: Tracker, conventions: Conventions
    ) -> None:
        """``report --attach``: a new version replaces the old one; the same one changes nothing."""
        assert isinstance(tracker, ReplacesAttachments)
        defect = tracker.create(new_defect(conventions, "Disk full"))
        tracker.attach(defect.key, [evidence("df.txt", "100%")])
        first = tracker.replace_attachment(defect.key, evidence("report.html", "<p>one</p>"))
        same = tracker.replace_attachment(defect.key, evidence("report.html", "<p>one</p>"))
        assert (same.name, same.sha256, same.size) == ("report.html", first.sha256, 10)
        second = tracker.replace_attachment(defect.key, evidence("report.html", "<p>two</p>"))
        assert second.sha256 != first.sha256
        stored = tracker.get(defect.key).evidence
        assert sorted((r.name, r.sha256) for r in stored) == [
            ("df.txt", evidence("df.txt", "100%").sha256),
            ("report.html", second.sha256),
        ]
        [kept] = [r for r in stored if r.name == "report.html"]
        assert tracker.fetch_evidence(defect.key, kept) == b"<p>two</p>"
        with pytest.raises(NotFoundError):
            tracker.replace_attachment("NOPE-424242", evidence("report.html", "x"))

    def test_resolve_and_reopen(self, tracker: Tracker, conventions: Conventions) -> None:
        defect = tracker.create(new_defect(conventions, "Disk full"))
        tracker.resolve(defect.key)
        assert tracker.get(defect.key).status is Status.DONE
        tracker.reopen(defect.key)
        assert tracker.get(defect.key).status is not Status.DONE

    def test_comment(self, tracker: Tracker, conventions: Conventions) -> None:
        defect = tracker.create(new_defect(conventions, "Disk full"))
        tracker.comment(defect.key, "Seen again on replica-3.")

    def test_missing_parent_creates_nothing(
        self, tracker: Tracker, conventions: Conventions
    ) -> None:
        with pytest.raises(NotFoundError):
            tracker.create(new_observation(conventions, "NOPE-424242", "Disk full", "h"))
        assert list(tracker.scan(conventions.observation_prefix)) == []

    def test_scan_streams_marked_tickets(self, tracker: Tracker, conventions: Conventions) -> None:
        defect = tracker.create(new_defect(conventions, "Disk full"))
        obs = tracker.create(new_observation(conventions, defect.key, "Disk full", "h"))
        tracker.attach(obs.key, [evidence("df.txt", "100%")])
        seen = {t.key: t for t in tracker.scan(conventions.observation_prefix)}
        assert set(seen) == {defect.key, obs.key}
        assert seen[obs.key].parent == defect.key
        assert len(seen[obs.key].evidence) == 1

    def test_related_defect(self, tracker: Tracker, conventions: Conventions) -> None:
        old = tracker.create(new_defect(conventions, "Disk full", fp="aaaaaaaaaaaaaaaa"))
        new = tracker.create(
            new_defect(conventions, "Disk full", fp="aaaaaaaaaaaaaaaa", related=old.key)
        )
        assert old.key in [t.key for t in tracker.tree(new.key).related]

    @pytest.mark.parametrize(
        "message",
        [
            'x" OR project = SECRET OR summary ~ "y',
            "path C:\\temp\\x (denied) [code=5] {a} ~*?",
            "ошибка: диск заполнен — שגיאה בדיסק 🚒",
            "and or not empty null order by",
        ],
    )
    def test_awkward_messages_round_trip(
        self, tracker: Tracker, conventions: Conventions, message: str
    ) -> None:
        defect = tracker.create(new_defect(conventions, message))
        obs = tracker.create(new_observation(conventions, defect.key, message, "db-1"))
        got = tracker.get(obs.key)
        assert got.message == message
        assert got.title == format_title(message, "db-1")
        assert tracker.get(defect.key).message == message

    # -- the lifecycle (issue 16): what move, merge, resolve and reopen need ----------------

    def test_set_parent_replaces_the_earlier_parent(
        self, tracker: Tracker, conventions: Conventions
    ) -> None:
        old = tracker.create(new_defect(conventions, "Disk full", fp="aaaaaaaaaaaaaaaa"))
        new = tracker.create(new_defect(conventions, "Inode table full", fp="bbbbbbbbbbbbbbbb"))
        obs = tracker.create(new_observation(conventions, old.key, "Inode table full", "db-1"))
        tracker.set_parent(obs.key, new.key)
        tracker.set_parent(obs.key, new.key)
        assert tracker.get(obs.key).parent == new.key
        assert [t.key for t in tracker.tree(new.key).observations] == [obs.key]
        assert tracker.tree(old.key).observations == ()
        scanned = {t.key: t for t in tracker.scan(conventions.observation_prefix)}
        assert scanned[obs.key].parent == new.key

    def test_remove_fingerprint(self, tracker: Tracker, conventions: Conventions) -> None:
        defect = tracker.create(new_defect(conventions, "Disk full", fp="aaaaaaaaaaaaaaaa"))
        tracker.add_fingerprint(defect.key, "cccccccccccccccc")
        tracker.remove_fingerprint(defect.key, "cccccccccccccccc")
        tracker.remove_fingerprint(defect.key, "cccccccccccccccc")
        assert tracker.find_by_fingerprint("cccccccccccccccc") is None
        assert tracker.get(defect.key).fingerprints == ("aaaaaaaaaaaaaaaa",)

    def test_resolve_without_remediation_is_recorded(
        self, tracker: Tracker, conventions: Conventions
    ) -> None:
        defect = tracker.create(new_defect(conventions, "Disk full"))
        tracker.resolve(defect.key, without_remediation="hardware retired")
        got = tracker.get(defect.key)
        assert got.is_done
        assert got.without_remediation == "hardware retired"
        tracker.reopen(defect.key)
        again = tracker.get(defect.key)
        assert not again.is_done
        assert again.without_remediation == ""

    def test_mark_duplicate(self, tracker: Tracker, conventions: Conventions) -> None:
        survivor = tracker.create(new_defect(conventions, "Disk full", fp="aaaaaaaaaaaaaaaa"))
        dup = tracker.create(new_defect(conventions, "Disk is full", fp="bbbbbbbbbbbbbbbb"))
        tracker.mark_duplicate(dup.key, survivor.key)
        tracker.mark_duplicate(dup.key, survivor.key)
        got = tracker.get(dup.key)
        assert got.is_done
        assert got.duplicate_of == survivor.key
        scanned = {t.key: t for t in tracker.scan(conventions.observation_prefix)}
        assert scanned[dup.key].duplicate_of == survivor.key
        assert scanned[survivor.key].duplicate_of is None

    def test_lifecycle(self, tracker: Tracker, conventions: Conventions) -> None:
        """Move, merge, resolve, reopen through the workflows; then check flags nothing."""
        from tracker_bridge.domain.fingerprint import fingerprint
        from tracker_bridge.domain.rules import Checker
        from tracker_bridge.workflows import merge, move, resolve

        def fp(message: str) -> str:
            return fingerprint(message).key

        disk, inode, dup = "Disk full on /var", "Inode table full on /var", "No space left on /var"
        a = tracker.create(new_defect(conventions, disk, fp=fp(disk)))
        b = tracker.create(new_defect(conventions, dup, fp=fp(dup)))
        kept = tracker.create(new_observation(conventions, a.key, disk, "db-1", **_HANDLED))
        wrong = tracker.create(new_observation(conventions, a.key, inode, "db-2", **_HANDLED))
        seen = tracker.create(new_observation(conventions, b.key, dup, "db-3", **_HANDLED))
        for obs in (kept, wrong, seen):
            tracker.attach(obs.key, [evidence(f"{obs.key}.txt", f"df for {obs.key}")])

        # move: a new defect for the inode sighting, which the matcher then files there
        c = tracker.create(new_defect(conventions, inode, fp="dddddddddddddddd"))
        tracker.add_fingerprint(a.key, fp(inode))  # the matcher's earlier mistake
        moved = move.run(tracker, conventions, [wrong.key], c.key)
        assert moved.changes
        assert tracker.get(wrong.key).parent == c.key
        assert fp(inode) in tracker.get(c.key).fingerprints
        assert fp(inode) not in tracker.get(a.key).fingerprints
        assert fp(disk) in tracker.get(a.key).fingerprints
        found = tracker.find_by_fingerprint(fp(inode))
        assert found is not None and found.key == c.key
        assert move.run(tracker, conventions, [wrong.key], c.key).changes == ()

        # merge: b folds into a; b's message now finds a
        dry = merge.run(tracker, [b.key], a.key, dry_run=True)
        assert dry.changes and tracker.get(b.key).duplicate_of is None
        merged = merge.run(tracker, [b.key], a.key)
        assert merged.changes
        assert tracker.get(seen.key).parent == a.key
        assert tracker.get(b.key).duplicate_of == a.key
        assert tracker.get(b.key).is_done
        found = tracker.find_by_fingerprint(fp(dup))
        assert found is not None and found.key == a.key
        assert merge.run(tracker, [b.key], a.key).changes == (), merge.plan(tracker, [b.key], a.key)

        # resolve: the rule refuses a defect without remediation, a reason lets it close
        with pytest.raises(FinalisationError):
            resolve.run(tracker, c.key)
        assert not tracker.get(c.key).is_done
        resolve.run(tracker, c.key, without_remediation="inode limit raised fleet-wide")
        assert tracker.get(c.key).is_done
        assert tracker.get(wrong.key).is_done
        assert resolve.run(tracker, c.key).changes == ()
        tracker.create(
            NewTicket(
                kind=Kind.REMEDIATION,
                title="Alert at 80% disk",
                parent=a.key,
                labels=(conventions.remediation_label,),
            )
        )
        resolve.run(tracker, a.key, note="fixed by log rotation")
        assert tracker.get(a.key).is_done and tracker.get(kept.key).is_done
        resolve.reopen(tracker, a.key)
        assert not tracker.get(a.key).is_done
        assert resolve.reopen(tracker, a.key).changes == ()
        resolve.run(tracker, a.key)

        checker = Checker(now=WHEN, conventions=conventions)
        findings = [
            f for t in tracker.scan(conventions.observation_prefix) for f in checker.feed(t)
        ]
        findings += checker.finish()
        assert [(f.rule, f.key) for f in findings if f.rule != "wrong-issue-type"] == []

    def test_corrections_teach_observe(self, tracker: Tracker, conventions: Conventions) -> None:
        """After move and merge, observe (which rebuilds its matcher from the tracker alone)
        files the corrected messages where the person put them."""
        from tracker_bridge.workflows import merge, move, observe

        def seen(message: str, instance: str) -> observe.Result:
            request = observe.Request(message=message, instance=instance)
            return observe.run(tracker, conventions, request)

        event = (
            "ledger.service: Main process exited, code=exited, status=1/FAILURE\n"
            "ledger.service: Failed with result 'exit-code'.\n"
            "Failed to start Ledger writer."
        )
        target = seen("ledger writer will not start after the deploy", "ledger-1").defect
        wrong = seen(event, "ledger-2")
        assert wrong.defect_created and target
        move.run(tracker, conventions, [wrong.observation or ""], target)
        for line in event.splitlines():
            assert seen(line, "ledger-3").defect == target, line

        dup = seen("backup job failed for user alice while writing archive 17", "backup-1")
        assert dup.defect_created and dup.defect
        merge.run(tracker, [dup.defect], target)
        variant = seen("backup job failed for user bob while writing archive 18", "backup-2")
        assert (variant.defect, variant.matched_by) == (target, "similar")
        assert variant.recurrence is None and tracker.get(dup.defect).is_done


_HANDLED: dict[str, object] = {"actions": ("wiped /tmp",), "impact": "writes failed"}
