"""Small evidence kept in the embedded journal's database (``bridge serve``): one synced commit
per payload, read, delivered and deleted like evidence in files."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from tracker_bridge.domain.tickets import EvidenceFile
from tracker_bridge.journal.base import Binding, NewEntry, State
from tracker_bridge.journal.sqlite import INLINE_EVIDENCE_BYTES, SqliteJournal

BINDING = Binding("memory", "", "OPS")
WHEN = datetime(2026, 11, 30, tzinfo=UTC)


def entry(event_id: str, data: bytes, *, unredacted: bool = False) -> NewEntry:
    return NewEntry(
        event_id=event_id,
        binding=BINDING,
        payload={"message": "m"},
        evidence=(EvidenceFile("alert.json", data, "alert:alertmanager", WHEN),),
        unredacted=unredacted,
    )


def blobs(path: Path) -> int:
    with sqlite3.connect(path) as db:
        return int(db.execute("SELECT count(*) FROM inline_evidence").fetchone()[0])


def test_small_evidence_is_kept_in_the_database_and_deleted_once_delivered(
    tmp_path: Path,
) -> None:
    journal = SqliteJournal(tmp_path / "journal.db", inline_evidence=True)
    big = b"x" * (INLINE_EVIDENCE_BYTES + 1)
    results = journal.put_many(
        [entry("small", b'{"labels": {}}'), entry("big", big), entry("raw", b"s", unredacted=True)]
    )
    small, large, raw = (e for e, _ in results)
    assert not (tmp_path / "journal" / small.id).exists()  # no file, no fsync of its own
    assert (tmp_path / "journal" / large.id).is_dir() and (tmp_path / "journal" / raw.id).is_dir()
    assert blobs(tmp_path / "journal.db") == 1
    reader = SqliteJournal(tmp_path / "journal.db")  # bridge replay reads it too
    assert reader.read_evidence(small, small.evidence[0]) == b'{"labels": {}}'
    assert reader.read_evidence(large, large.evidence[0]) == big
    assert reader.evidence_file(small, small.evidence[0]).data == b'{"labels": {}}'
    assert reader.evidence_file(large, large.evidence[0]).data == big
    journal.claim(small.id, "w")
    assert journal.finish(small.id, "w").state is State.DONE
    assert blobs(tmp_path / "journal.db") == 0
    journal.drop(large.id)
    reader.close()
    journal.close()


def test_without_the_option_evidence_stays_in_files(tmp_path: Path) -> None:
    journal = SqliteJournal(tmp_path / "journal.db")
    kept, _ = journal.put(entry("small", b"{}"))
    assert (tmp_path / "journal" / kept.id).is_dir()
    assert blobs(tmp_path / "journal.db") == 0
    journal.close()
