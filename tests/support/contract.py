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
from tracker_bridge.errors import NotFoundError
from tracker_bridge.trackers.base import Tracker

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
