"""Evidence on Jira: attachments named by content hash, uploaded together, never twice.

Each file is an attachment named ``<stem>.<sha256><suffix>``; the hash in the name makes re-adding
the same content a no-op without downloading anything. All new files of one call go in one
multipart request (at most ``BATCH_FILES`` per request; Jira refuses more than 60).

Provenance (source, capture time, redactions, whether it was scanned, whether it is sensitive)
goes into the evidence index in the description's data block, by content hash, so reading the
issue (or a search page) yields it with no extra request. The index is written (one PUT) *before*
the upload: an entry whose file never arrived is ignored by readers, while a file without its
entry could lose its "sensitive" mark and be copied where it must not go.

A file that replaces its earlier versions (``replace``: the report ``report --attach`` keeps on
its defect) is named the same way, so the same report again is recognised by its name alone; a
changed one is uploaded first and its older copies deleted after (``DELETE /attachment/{id}``),
so the ticket never lacks it, not even for a moment.

What a ticket holds (its evidence by hash, its description) is remembered only for the tickets
this run created, uploaded to, or read one by one (``get``, ``tree``, a lookup), never for the
tickets a scan streams past, and at most ``CACHE_LIMIT`` of them (least recently used dropped):
memory stays flat however large the project. A ticket no longer remembered costs one GET before
its next write.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from tracker_bridge.domain.tickets import EvidenceFile, EvidenceRef
from tracker_bridge.errors import NotFoundError, TrackerRefused, UsageError
from tracker_bridge.trackers.jira import markup
from tracker_bridge.trackers.jira.markup import index_entry
from tracker_bridge.trackers.jira.session import JiraSession, Part, path

BATCH_FILES = 50
"""Files per multipart request (Jira rejects more than 60)."""
FILENAME_LIMIT = 255
CACHE_LIMIT = 256
"""Tickets whose attachments and description one run remembers at most."""
MANIFEST_PREFIX = "bridge-manifest-"
"""Provenance files of earlier versions; not evidence themselves."""
_EVIDENCE_NAME = re.compile(r"^(?P<stem>.*)\.(?P<sha>[0-9a-f]{64})(?P<suffix>\.[^.]*)?$")


def evidence_filename(name: str, sha256: str) -> str:
    """The attachment name for a piece of evidence: ``<stem>.<sha256><suffix>``, clipped."""
    # one line: a file name is data, and Jira shows attachment names as they are
    base = " ".join(name.replace("/", "_").replace("\\", "_").split()) or "evidence"
    stem, dot, suffix = base.rpartition(".")
    if not dot or not stem or len(suffix) > 16:
        stem, suffix = base, ""
    else:
        suffix = "." + suffix
    room = FILENAME_LIMIT - len(sha256) - 1 - len(suffix)
    return f"{stem[:room]}.{sha256}{suffix}"


def split_filename(filename: str) -> tuple[str, str] | None:
    """``(name, sha256)`` of an evidence attachment's file name, or None for other files."""
    if filename == markup.MESSAGE_FILE or filename.startswith(MANIFEST_PREFIX):
        return None
    match = _EVIDENCE_NAME.match(filename)
    if not match:
        return (filename, "")
    return (match["stem"] + (match["suffix"] or ""), match["sha"])


def _name_of(record: Mapping[str, Any]) -> str:
    split = split_filename(str(record.get("filename", "")))
    return split[0] if split else ""


def size_text(count: int) -> str:
    """A byte count for people: ``2.0 KiB``."""
    value = float(count)
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{count} bytes"


@dataclass
class _Held:
    """What one ticket holds, as this run last read or wrote it."""

    evidence: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Evidence attachments by sha256."""
    description: str | None = None
    read: bool = False
    """Whether ``description`` (and the attachments) are known, not only this run's uploads."""


class EvidenceStore:
    """The attachments of the tickets one run touches: what they hold, by content hash."""

    def __init__(
        self, session: JiraSession, before_write: Callable[[], None], limit: int = CACHE_LIMIT
    ) -> None:
        """``before_write`` runs before every upload (the once-per-run set-up check)."""
        self.session = session
        self._before_write = before_write
        self._limit = limit
        self._held: OrderedDict[str, _Held] = OrderedDict()
        """Tickets this run created, wrote to or read one by one; least recently used first."""

    def __len__(self) -> int:
        """How many tickets are remembered (at most the limit)."""
        return len(self._held)

    def _entry(self, key: str) -> _Held:
        held = self._held.get(key)
        if held is None:
            held = self._held[key] = _Held()
            while len(self._held) > self._limit:
                self._held.popitem(last=False)
        else:
            self._held.move_to_end(key)
        return held

    def created(self, key: str, description: str) -> None:
        """``key`` was just created by this run with ``description``: it holds nothing yet."""
        self._held.pop(key, None)
        held = self._entry(key)
        held.description, held.read = description, True

    def remember(
        self,
        key: str,
        attachments: Sequence[Mapping[str, Any]],
        fields: Mapping[str, Any] | None = None,
    ) -> None:
        """Note the attachments (and, from ``fields``, the description) of ``key`` as read."""
        held = self._entry(key)
        if fields is not None and "description" in fields:
            held.description, held.read = fields["description"], True
        for attachment in attachments:
            match = _EVIDENCE_NAME.match(str(attachment.get("filename", "")))
            if match:
                held.evidence[match["sha"]] = dict(attachment)

    def _check_sizes(self, key: str, files: Sequence[EvidenceFile], limit: int | None) -> None:
        if files and limit == 0:
            raise UsageError(
                f"attachments are disabled on {self.session.url}; nothing was uploaded to {key}.",
                hint="Ask a Jira admin to enable attachments, or keep the evidence elsewhere.",
            )
        for item in files:
            if limit and item.size > limit:
                raise UsageError(
                    f"evidence {item.name!r} is {size_text(item.size)}; {self.session.url} "
                    f"accepts at most {size_text(limit)} per file (uploadLimit). Nothing was "
                    f"uploaded to {key}.",
                    hint="Compress or split the file, or attach an excerpt.",
                )

    def attach(
        self, key: str, files: Sequence[EvidenceFile], limit: int | None
    ) -> list[EvidenceRef]:
        """All new files in one multipart request; content already on the ticket is skipped."""
        self._check_sizes(key, files, limit)
        stored = self._stored_evidence(key)
        refs: dict[str, EvidenceRef] = {}
        pending: list[EvidenceFile] = []
        for item in files:
            if item.sha256 in stored or item.sha256 in refs:
                record = stored.get(item.sha256)
                refs[item.sha256] = item.ref(str(record.get("content", "")) if record else "")
            elif all(p.sha256 != item.sha256 for p in pending):
                pending.append(item)
        if pending:
            self._index(key, pending)
        for start in range(0, len(pending), BATCH_FILES):
            batch = pending[start : start + BATCH_FILES]
            parts: list[Part] = [
                (evidence_filename(f.name, f.sha256), f.open, "application/octet-stream")
                for f in batch
            ]
            names = {p[0] for p in parts}
            uploaded = self.upload(
                key,
                parts,
                f"uploading {len(batch)} evidence file(s) to {key}",
                lambda have, names=names: names <= have,  # type: ignore[misc]
            )
            for item in batch:
                record = uploaded.get(evidence_filename(item.name, item.sha256), {})
                refs[item.sha256] = item.ref(str(record.get("content", "")))
        return [refs[item.sha256] for item in files]

    def replace(self, key: str, file: EvidenceFile, limit: Callable[[], int | None]) -> EvidenceRef:
        """``file`` as the only attachment of its name on ``key``.

        One upload unless the ticket holds this content under this name already, then one DELETE
        per older copy of that name: two requests for a changed file, none for the same one (the
        ticket's attachments as this run last read them, else one GET). Not indexed in the
        description: the file is made from the tickets themselves, so it has no provenance to keep.
        """
        target = evidence_filename(file.name, file.sha256)
        held = self._stored_evidence(key)
        record = held.get(file.sha256)
        if record is None or record.get("filename") != target:
            self._check_sizes(key, [file], limit())  # the limit is asked only when needed
            uploaded = self.upload(
                key,
                [(target, file.data, "application/octet-stream")],
                f"attaching {file.name} to {key}",
                lambda have: target in have,
            )
            record = uploaded.get(target, {})
        stale = [
            (sha, r)
            for sha, r in held.items()
            if sha != file.sha256 and _name_of(r) == file.name and r.get("id") is not None
        ]
        for sha, old in stale:
            self._delete(key, file.name, old)
            held.pop(sha, None)
        return file.ref(str(record.get("content", "")))

    def _delete(self, key: str, name: str, record: Mapping[str, Any]) -> None:
        """Delete one attachment; one already gone is as good as deleted."""
        what = f"removing the earlier {name} from {key}"
        try:
            self.session.send(
                "DELETE",
                f"attachment/{path(str(record['id']))}",
                what,
                permission="DELETE_OWN_ATTACHMENTS",
            )
        except NotFoundError:
            return
        except TrackerRefused as exc:
            if exc.status != 403:
                raise
            raise TrackerRefused(
                f"the new {name} is attached to {key}, but Jira refused to delete the earlier "
                f"copy {record.get('filename')} ({exc.message}).",
                hint="Ask a Jira admin for the 'Delete own attachments' permission, or delete "
                "the older copy by hand; attaching again retries the removal.",
                status=403,
                url=self.session.url,
            ) from exc

    def _index(self, key: str, files: Sequence[EvidenceFile]) -> None:
        """Add the provenance of ``files`` to the index in the description of ``key`` (one PUT)."""
        self._before_write()

        def indexed(text: str | None) -> str:
            data = dict(markup.parse(text).data) or {"v": 1}
            index = dict(data.get("evidence") or {})
            for item in files:
                index[item.sha256] = index_entry(item)
            data["evidence"] = index
            updated = markup.with_data(text, data)
            if len(updated) > markup.DESCRIPTION_LIMIT:
                # keep what protects the evidence (sensitive, redactions) over where it came from
                data["evidence"] = {
                    sha: {k: v for k, v in entry.items() if k not in ("source", "captured_at")}
                    for sha, entry in index.items()
                }
                updated = markup.with_data(text, data)
            if len(updated) > markup.DESCRIPTION_LIMIT:
                raise UsageError(
                    f"{key} holds too much evidence to index in its description; nothing was "
                    "uploaded.",
                    hint="Attach the files to a new observation, or bundle them into one archive.",
                )
            return updated

        self.rewrite_description(key, indexed, f"indexing the evidence of {key}")

    def rewrite_description(
        self, key: str, rewrite: Callable[[str | None], str | None], what: str
    ) -> None:
        """One PUT of ``rewrite(description)``; none when it is None or changes nothing.

        The description is the one this run last read or wrote, else one GET reads it.
        """
        text = self._read(key).description
        updated = rewrite(text)
        if updated is None or updated == text:
            return
        self.session.send(
            "PUT",
            f"issue/{path(key)}",
            what,
            body={"fields": {"description": updated}},
            not_found=key,
            permission="EDIT_ISSUES",
        )
        self._entry(key).description = updated

    def fetch(self, key: str, ref: EvidenceRef) -> bytes:
        """The bytes of one attachment: one GET (plus one to find it if ``ref`` has no URL)."""
        url = ref.url
        if not url:
            record = self._stored_evidence(key).get(ref.sha256)
            if record is None or not record.get("content"):
                raise NotFoundError(f"{key} holds no evidence {ref.name!r} ({ref.sha256[:12]}).")
            url = str(record["content"])
        return self.session.download(url, f"downloading {ref.name} from {key}", not_found=key)

    def _stored_evidence(self, key: str) -> dict[str, dict[str, Any]]:
        return self._read(key).evidence

    def _read(self, key: str) -> _Held:
        held = self._held.get(key)
        if held is None or not held.read:
            raw = self.session.get(
                f"issue/{path(key)}",
                f"reading the attachments of {key}",
                params={"fields": "attachment,description"},
                not_found=key,
            )
            self.remember(key, raw["fields"].get("attachment") or [], raw["fields"])
        return self._entry(key)

    def upload(
        self,
        key: str,
        parts: list[Part],
        what: str,
        landed: Callable[[set[str]], bool],
    ) -> dict[str, dict[str, Any]]:
        """One multipart POST; a lost response is checked against the ticket before re-sending."""
        self._before_write()
        session = self.session

        def send() -> dict[str, dict[str, Any]]:
            answer = session.request(
                "POST",
                f"issue/{path(key)}/attachments",
                what=what,
                files=parts,
                not_found=key,
                permission="CREATE_ATTACHMENTS",
            )
            records = answer if isinstance(answer, list) else [answer]
            return {str(r.get("filename")): r for r in records}

        def recover() -> dict[str, dict[str, Any]] | None:
            raw = session.request(
                "GET", f"issue/{path(key)}", what=what, params={"fields": "attachment"}
            )
            records = {str(a.get("filename")): a for a in raw["fields"].get("attachment") or []}
            return records if landed(set(records)) else None

        uploaded = session.call(what, send, recover=recover)
        self.remember(key, list(uploaded.values()))
        return uploaded
