"""How issues and tickets map onto each other: keys, labels, titles and the body block.

Pure translation, no requests: see ``trackers.github`` for where each piece of a ticket lives.
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime
from typing import Any

from tracker_bridge.domain import durations
from tracker_bridge.domain.conventions import Conventions, clip, format_title
from tracker_bridge.domain.tickets import Kind, NewTicket, RemoteLink, Status, Ticket
from tracker_bridge.errors import NotFoundError, UsageError
from tracker_bridge.trackers.github import body as gb

LABEL_LIMIT = 50
TITLE_LIMIT = 255
PARENT_PREFIX = "bridge-parent-"
RELATED_PREFIX = "bridge-related-"
_KEY = re.compile(r"^\s*(?:(?P<repo>[\w.-]+/[\w.-]+))?#?(?P<number>\d+)\s*$")


class IssueMapper:
    """Translation between GitHub issue JSON and domain tickets for one repository."""

    def __init__(self, repository: str, conventions: Conventions) -> None:
        self.repository = repository
        self.conventions = conventions

    def kind_labels(self) -> dict[Kind, str]:
        return {
            Kind.DEFECT: self.conventions.defect_label,
            Kind.OBSERVATION: self.conventions.observation_label,
            Kind.REMEDIATION: self.conventions.remediation_label,
        }

    def labels_for(
        self,
        new: NewTicket,
        event_label: str,
        parent: dict[str, Any] | None,
        related: int | None,
    ) -> list[str]:
        wanted = [self.kind_labels()[new.kind], *new.labels, *new.components]
        wanted += [self.conventions.fingerprint_label(fp) for fp in new.fingerprints]
        wanted.append(event_label)
        if parent is not None:
            wanted.append(f"{PARENT_PREFIX}{parent['number']}")
        if related is not None:
            wanted.append(f"{RELATED_PREFIX}{related}")
        out: dict[str, str] = {}
        for label in wanted:
            clean = self.label(label)
            out.setdefault(clean.lower(), clean)
        return list(out.values())

    def block_for(
        self, new: NewTicket, marker: str, parent: dict[str, Any] | None
    ) -> dict[str, Any]:
        block: dict[str, Any] = {"kind": str(new.kind)}
        values: dict[str, Any] = {
            "message": new.message,
            "instance": new.instance,
            "observed_at": new.observed_at.isoformat() if new.observed_at else "",
            "impact": new.impact,
            "duration_seconds": round(new.duration.total_seconds()) if new.duration else 0,
            "actions": list(new.actions),
            "fingerprints": list(new.fingerprints),
            "event_id": new.event_id,
            "marker": marker,
            "team": new.team,
            "parent": self.key(parent["number"]) if parent is not None else "",
            "related": self.key(self.number(new.related)) if new.related else "",
            "links": [link_json(link) for link in new.links],
        }
        block.update({k: v for k, v in values.items() if v})
        return block

    def title(self, new: NewTicket) -> str:
        """The title to create ``new`` with: an over-long observation title is rebuilt with its
        message clipped (never its instance); any other is clipped at the end."""
        title = clean_title(new.title)
        if len(" ".join(new.title.split())) <= TITLE_LIMIT:
            return title
        if new.kind is Kind.OBSERVATION and new.message and new.instance:
            try:
                return format_title(new.message, new.instance, self.conventions.observation_prefix)
            except ValueError as exc:
                raise UsageError(f"cannot title the observation: {exc}.") from exc
        return title

    def label(self, label: str) -> str:
        """A label GitHub accepts: at most 50 characters, cut ones kept distinct by a hash."""
        label = label.strip()
        if len(label) <= LABEL_LIMIT:
            return label
        digest = hashlib.sha256(label.encode("utf-8")).hexdigest()[:8]
        return f"{label[: LABEL_LIMIT - 9]}-{digest}"

    def fingerprints_of(self, issue: dict[str, Any]) -> list[str]:
        prefix = self.conventions.fingerprint_label_prefix.lower()
        found = list(gb.load_block(issue.get("body")).get("fingerprints", []))
        for raw in issue.get("labels", []):
            name = label_name(raw)
            if name.lower().startswith(prefix):
                fp = name[len(prefix) :]
                if fp not in found:
                    found.append(fp)
        return found

    def ticket(self, issue: dict[str, Any]) -> Ticket:
        """The ticket an issue stands for, from the issue JSON alone (no further request)."""
        body = issue.get("body") or ""
        block = gb.load_block(body)
        labels = tuple(label_name(x) for x in issue.get("labels", []))
        lower = {x.lower() for x in labels}
        kind: Kind | None = None
        if block.get("kind") in {k.value for k in Kind}:
            kind = Kind(block["kind"])
        else:
            kind = next((k for k, v in self.kind_labels().items() if v.lower() in lower), None)
        parent = block.get("parent") or None
        if parent is None:
            numbers = [x[len(PARENT_PREFIX) :] for x in lower if x.startswith(PARENT_PREFIX)]
            parent = self.key(int(numbers[0])) if numbers and numbers[0].isdigit() else None
        issue_type = issue.get("type") or {}
        observed = block.get("observed_at")
        return Ticket(
            key=self.key(issue["number"]),
            title=issue.get("title", ""),
            kind=kind,
            status=Status.DONE if issue.get("state") == "closed" else Status.OPEN,
            created=parse_time(issue["created_at"]) or datetime.now(UTC),
            url=issue.get("html_url", ""),
            parent=parent,
            issue_type=issue_type.get("name", "") if isinstance(issue_type, dict) else "",
            labels=labels,
            description=gb.description_of(body),
            message=str(block.get("message", "")),
            instance=str(block.get("instance", "")),
            observed_at=parse_time(observed) if isinstance(observed, str) else None,
            impact=str(block.get("impact", "")),
            duration=durations.from_seconds(block.get("duration_seconds")),
            actions=tuple(str(a) for a in block.get("actions", [])),
            fingerprints=tuple(self.fingerprints_of(issue)),
            evidence=tuple(gb.ref_from_json(e) for e in block.get("evidence", [])),
            event_id=str(block.get("event_id", "")),
            team=str(block.get("team", "")),
            related=str(block["related"]) if block.get("related") else None,
            duplicate_of=str(block["duplicate_of"]) if block.get("duplicate_of") else None,
            without_remediation=str(block.get("without_remediation") or ""),
            links=tuple(link_from_json(x) for x in block.get("links", []) if isinstance(x, dict)),
            updated=parse_time(issue.get("updated_at")),
            resolved=parse_time(issue.get("closed_at")),
        )

    def number(self, key: str | None) -> int:
        match = _KEY.match(key or "")
        if match is None or (
            match.group("repo") and match.group("repo").lower() != self.repository.lower()
        ):
            raise NotFoundError(
                f"{key!r} is not an issue of {self.repository}.",
                hint=f"Use a key like {self.repository}#12 (or #12).",
            )
        return int(match.group("number"))

    def key(self, number: int) -> str:
        return f"{self.repository}#{number}"

    def short(self, issue: dict[str, Any] | None) -> str:
        return "" if issue is None else f"#{issue['number']}"


def clean_title(text: str) -> str:
    """``text`` as a title: one line, at most 255 characters (GitHub allows more; 255 keeps
    titles portable to Jira), clipped with ``…``. ``UsageError`` when nothing is left."""
    title = " ".join(text.split())
    if not title:
        raise UsageError("the ticket title is empty.", hint="Give the error message or a title.")
    return clip(title, TITLE_LIMIT)


def link_json(link: RemoteLink) -> dict[str, str]:
    return {"url": link.url, "title": link.title, "gid": link.global_id, "rel": link.relationship}


def link_from_json(data: dict[str, Any]) -> RemoteLink:
    return RemoteLink(
        url=str(data.get("url", "")),
        title=str(data.get("title", "")),
        global_id=str(data.get("gid", "")),
        relationship=str(data.get("rel", "relates to")),
    )


def label_name(raw: Any) -> str:
    return str(raw.get("name", "")) if isinstance(raw, dict) else str(raw)


def parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return when if when.tzinfo else when.replace(tzinfo=UTC)
