"""Jira issue JSON to domain values and back: ``Ticket`` from an issue, create bodies from ``NewTicket``.

Pure functions, no requests. What is stored where on an ordinary Jira issue:

- kind: a label (``Conventions.defect_label`` / ``observation_label`` / ``remediation_label``);
- fingerprints: one label each, ``Conventions.fingerprint_label(fp)``;
- idempotency marker: the label ``Conventions.event_label(event_id)``;
- message, instance, observed-at, impact, actions, event id, team, related ticket: the
  description, a human section plus a machine-readable block (``markup``);
- parent: depends on ``[conventions] link``: ``issue-link`` creates the child with
  ``update.issuelinks`` (type ``link_type``; the defect is the outward end) in the same POST,
  ``sub-task`` sets ``parent`` and the sub-task issue type, ``parent`` sets the hierarchy parent.
  A ticket for another project (delegated work) is always linked, never parented;
- related tickets (a new defect opened for a recurrence): an issue link of ``link_type`` in the
  create POST, the new ticket being the outward end;
- evidence: attachments (``evidence``);
- links to other trackers: remote links (``globalId`` upserts), copied into the data block so
  that a search page, which cannot return remote links, still yields them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from tracker_bridge.domain import durations
from tracker_bridge.domain.conventions import Conventions, format_title, normalize
from tracker_bridge.domain.tickets import (
    EvidenceRef,
    Kind,
    NewTicket,
    RemoteLink,
    Status,
    Ticket,
    utcnow,
)
from tracker_bridge.trackers.jira import markup
from tracker_bridge.trackers.jira.evidence import split_filename

SUMMARY_LIMIT = 255
LABEL_LIMIT = 255
FIELDS = (
    "summary",
    "status",
    "issuetype",
    "labels",
    "description",
    "created",
    "updated",
    "resolutiondate",
    "parent",
    "issuelinks",
    "attachment",
)
"""Exactly the fields a ``Ticket`` is made from: what every search and read asks for."""
_CATEGORY = {"new": Status.OPEN, "indeterminate": Status.IN_PROGRESS, "done": Status.DONE}
_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9_]*-[0-9]+$")


def is_key(ref: str) -> bool:
    """Whether ``ref`` looks like a Jira issue key (``OPS-12``)."""
    return bool(_KEY.match(ref))


def project_of(key: str) -> str:
    """The project key part of an issue key."""
    return key.rsplit("-", 1)[0].upper()


def label(text: str) -> str:
    """``text`` as a Jira label: no whitespace, at most 255 characters."""
    return re.sub(r"\s+", "_", text.strip())[:LABEL_LIMIT]


def category(status: Any) -> Status:
    """The domain status of a Jira status (by its status category)."""
    if not isinstance(status, Mapping):
        return Status.OPEN
    return _CATEGORY.get(str((status.get("statusCategory") or {}).get("key")), Status.OPEN)


def jira_time(value: Any) -> datetime | None:
    """A Jira timestamp (``2026-01-05T09:00:01.000+0000``) in UTC, or None."""
    if not isinstance(value, str) or not value:
        return None
    for pattern in ("%Y-%m-%dT%H:%M:%S.%f%z", "%Y-%m-%dT%H:%M:%S%z"):
        try:
            return datetime.strptime(value, pattern).astimezone(UTC)
        except ValueError:
            continue
    return None


# -- issue JSON -> Ticket ------------------------------------------------------------------


def ticket(raw: Mapping[str, Any], conventions: Conventions, site: str) -> Ticket:
    """The ``Ticket`` for an issue as search or ``GET /issue`` returns it with ``FIELDS``."""
    conv = conventions
    key = str(raw["key"])
    fields: Mapping[str, Any] = raw.get("fields") or {}
    labels = tuple(str(x) for x in fields.get("labels") or ())
    kind = (
        Kind.DEFECT
        if conv.defect_label in labels
        else Kind.OBSERVATION
        if conv.observation_label in labels
        else Kind.REMEDIATION
        if conv.remediation_label in labels
        else None
    )
    parsed = markup.parse(fields.get("description"))
    data = parsed.data
    return Ticket(
        key=key,
        title=str(fields.get("summary") or ""),
        kind=kind,
        status=category(fields.get("status")),
        created=jira_time(fields.get("created")) or datetime.fromtimestamp(0, UTC),
        url=f"{site}/browse/{key}",
        parent=None if kind is Kind.DEFECT else parent_of(fields, conv),
        issue_type=str((fields.get("issuetype") or {}).get("name", "")),
        labels=labels,
        description=parsed.description,
        message=str(data.get("message", "")),
        instance=str(data.get("instance", "")),
        observed_at=markup.parse_time(data.get("observed_at")),
        impact=str(data.get("impact", "")),
        duration=durations.from_seconds(data.get("duration_seconds")),
        actions=tuple(str(a) for a in data.get("actions", ())),
        fingerprints=tuple(
            x[len(conv.fingerprint_label_prefix) :]
            for x in labels
            if x.startswith(conv.fingerprint_label_prefix)
        ),
        evidence=evidence_refs(fields.get("attachment") or [], data.get("evidence")),
        event_id=str(data.get("event_id", "")),
        team=str(data.get("team", "")),
        related=str(data["related"]) if data.get("related") else None,
        duplicate_of=str(data["duplicate_of"]) if data.get("duplicate_of") else None,
        without_remediation=str(data.get("without_remediation") or ""),
        links=markup.links_of(data),
        updated=jira_time(fields.get("updated")),
        resolved=jira_time(fields.get("resolutiondate")),
    )


def parent_of(fields: Mapping[str, Any], conventions: Conventions) -> str | None:
    """The parent: the hierarchy/sub-task parent, else the inward end of a ``link_type`` link."""
    parent = fields.get("parent")
    if isinstance(parent, Mapping) and parent.get("key"):
        return str(parent["key"])
    for link in fields.get("issuelinks") or []:
        if (link.get("type") or {}).get("name") == conventions.link_type and link.get(
            "inwardIssue"
        ):
            return str(link["inwardIssue"]["key"])
    return None


def links_to(raw: Mapping[str, Any], key: str) -> bool:
    """Whether the issue ``raw`` (with ``parent`` and ``issuelinks``) is tied to ``key`` at all."""
    issue_fields: Mapping[str, Any] = raw.get("fields") or {}
    parent = issue_fields.get("parent")
    if isinstance(parent, Mapping) and parent.get("key") == key:
        return True
    for link in issue_fields.get("issuelinks") or []:
        for side in ("inwardIssue", "outwardIssue"):
            other = link.get(side)
            if isinstance(other, Mapping) and other.get("key") == key:
                return True
    return False


def evidence_refs(
    attachments: Sequence[Mapping[str, Any]], index: Any = None
) -> tuple[EvidenceRef, ...]:
    """The evidence among an issue's attachments, with its provenance from the evidence index.

    Only attachments count: an index entry whose upload never happened names nothing.
    """
    entries: Mapping[str, Any] = index if isinstance(index, Mapping) else {}
    refs = []
    for attachment in attachments:
        split = split_filename(str(attachment.get("filename", "")))
        if split is None:
            continue
        name, sha = split
        entry = entries.get(sha) if sha else None
        entry = entry if isinstance(entry, Mapping) else {}
        refs.append(
            EvidenceRef(
                name=name,
                sha256=sha,
                size=int(attachment.get("size", 0)),
                source=str(entry.get("source", "")),
                captured_at=markup.parse_time(entry.get("captured_at"))
                or jira_time(attachment.get("created")),
                redactions=tuple(
                    (str(kind), int(count))
                    for kind, count in entry.get("redactions", ())
                    if isinstance(count, int)
                ),
                scanned=bool(entry.get("scanned", True)),
                sensitive=bool(entry.get("sensitive", False)),
                url=str(attachment.get("content", "")),
            )
        )
    return tuple(refs)


def remote_link(raw: Mapping[str, Any]) -> RemoteLink:
    """A ``RemoteLink`` from one entry of ``GET /issue/{key}/remotelink``."""
    target = raw.get("object") or {}
    return RemoteLink(
        url=str(target.get("url", "")),
        title=str(target.get("title", "")),
        global_id=str(raw.get("globalId", "")),
        relationship=str(raw.get("relationship", "")),
    )


def remote_link_body(link: RemoteLink) -> dict[str, Any]:
    """The body of ``POST /issue/{key}/remotelink``; ``globalId`` makes it an upsert."""
    return {
        "globalId": link.global_id[:255],
        "relationship": link.relationship,
        "object": {"url": link.url, "title": link.title[:255] or link.url[:255]},
    }


# -- NewTicket -> create body --------------------------------------------------------------


def issue_type(new: NewTicket, conventions: Conventions) -> str:
    """The issue type name ``new`` is created with: its own, else the conventional one."""
    if new.issue_type:
        return new.issue_type
    if new.kind is Kind.DEFECT:
        return conventions.defect_type
    if conventions.link == "sub-task":
        return conventions.subtask_type
    if new.kind is Kind.OBSERVATION:
        return conventions.observation_type
    return conventions.remediation_type


def summary(new: NewTicket, conventions: Conventions) -> str:
    """The title as a summary: one line, at most 255 characters, an observation's instance whole."""
    title = normalize(new.title)
    if len(title) <= SUMMARY_LIMIT:
        return title
    if new.kind is Kind.OBSERVATION and new.message and new.instance:
        return format_title(new.message, new.instance, conventions.observation_prefix)
    return clipped_summary(title)


def clipped_summary(title: str) -> str:
    """``title`` on one line, clipped to the summary limit with an ellipsis."""
    text = normalize(title)
    return text if len(text) <= SUMMARY_LIMIT else text[: SUMMARY_LIMIT - 1] + "…"


def labels(new: NewTicket, event_id: str, conventions: Conventions) -> list[str]:
    """Kind, fingerprints, idempotency marker and the ticket's own labels, cleaned, no repeats."""
    conv = conventions
    kind_label = {
        Kind.DEFECT: conv.defect_label,
        Kind.OBSERVATION: conv.observation_label,
        Kind.REMEDIATION: conv.remediation_label,
    }[new.kind]
    wanted = [
        kind_label,
        *(conv.fingerprint_label(fp) for fp in new.fingerprints),
        conv.event_label(event_id),
        *new.labels,
    ]
    out: list[str] = []
    for text in wanted:
        cleaned = label(text)
        if cleaned and cleaned not in out:
            out.append(cleaned)
    return out


def create_body(
    new: NewTicket,
    event_id: str,
    *,
    conventions: Conventions,
    project: str,
    project_id: str,
    type_ids: Mapping[str, str],
) -> tuple[dict[str, Any], markup.Rendered]:
    """The body of ``POST /issue`` for ``new``, already linked, and its rendered description."""
    conv = conventions
    rendered = markup.render(replace(new, event_id=event_id))
    fields: dict[str, Any] = {
        "project": {"id": project_id},
        "issuetype": {"id": type_ids.get(issue_type(new, conv), "")},
        "summary": summary(new, conv),
        "labels": labels(new, event_id, conv),
        "description": rendered.text,
    }
    if new.components:
        fields["components"] = [{"name": c} for c in new.components]
    for name, value in new.fields:
        fields.setdefault(name, value)
    links: list[dict[str, Any]] = []
    if new.parent is not None and new.kind is not Kind.DEFECT:
        other_project = project_of(new.parent) != project.upper()
        if conv.link == "issue-link" or other_project or new.issue_type:
            # another team's project can only be linked, never parented
            links.append(
                {"add": {"type": {"name": conv.link_type}, "inwardIssue": {"key": new.parent}}}
            )
        else:
            fields["parent"] = {"key": new.parent}
    if new.related is not None:
        links.append(
            {"add": {"type": {"name": conv.link_type}, "outwardIssue": {"key": new.related}}}
        )
    body: dict[str, Any] = {"fields": fields}
    if links:
        body["update"] = {"issuelinks": links}
    return body, rendered


def made(
    new: NewTicket,
    key: str,
    fields: Mapping[str, Any],
    event_id: str,
    *,
    conventions: Conventions,
    site: str,
) -> Ticket:
    """The ``Ticket`` just created from ``new`` (no re-read: Jira answers only the key)."""
    return Ticket(
        key=key,
        title=fields["summary"],
        kind=new.kind,
        status=Status.OPEN,
        created=utcnow(),
        url=f"{site}/browse/{key}",
        parent=new.parent if new.kind is not Kind.DEFECT else None,
        issue_type=issue_type(new, conventions),
        labels=tuple(fields["labels"]),
        description=new.description,
        message=new.message,
        instance=new.instance,
        observed_at=new.observed_at,
        impact=new.impact,
        duration=new.duration,
        actions=new.actions,
        fingerprints=new.fingerprints,
        event_id=event_id,
        team=new.team,
        related=new.related,
        links=new.links,
        updated=None,
    )
