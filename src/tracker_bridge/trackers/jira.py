"""Jira Cloud and Jira Data Center behind the ``Tracker`` protocol.

Connection. ``jira.JIRA`` provides authentication (Cloud: e-mail + API token as basic auth;
Data Center: personal access token as bearer) and its HTTP session, made with
``get_server_info=False`` (no request at start) and ``max_retries=0`` (its retries repeat POSTs and
mishandle ``Retry-After``; ours are ``trackers.retry``). Every call goes straight to REST v2
through that session, because the library's helpers cost extra round trips (``create_issue``
looks up the project and issue type and re-GETs the issue, ``create_issue_link`` lists link types
each time, ``add_attachment`` sends one file per request) or use the search endpoint Cloud removed.
``deployment = "auto"`` means Cloud for ``*.atlassian.net`` / ``*.jira.com`` and otherwise asks
``/serverInfo`` once.

What is stored where, on an ordinary Jira issue:

- kind: a label (``Conventions.defect_label`` / ``observation_label`` / ``remediation_label``);
- fingerprints: one label each, ``Conventions.fingerprint_label(fp)``;
- idempotency marker: the label ``Conventions.event_label(event_id)``, searched before a create
  whose response was lost is re-sent;
- message, instance, observed-at, impact, actions, event id, team: the description, a human
  section plus a machine-readable block (``jira_markup``); a message too long for the 32,767
  character description goes whole to the attachment ``bridge-message.txt``;
- parent: depends on ``[conventions] link``: ``issue-link`` creates the child with
  ``update.issuelinks`` (type ``link_type``; the defect is the outward end) in the same POST,
  ``sub-task`` sets ``parent`` and the sub-task issue type, ``parent`` sets the hierarchy parent;
- related tickets (a new defect opened for a recurrence): an issue link of ``link_type`` in the
  create POST, the new ticket being the outward end;
- evidence: attachments named ``<stem>.<sha256><suffix>``, all files of one call in one multipart
  request; the hash in the name makes re-adding the same content a no-op without downloading.
  When files carry redactions or were not scanned, a small ``bridge-manifest-*.json`` saying so
  rides in the same request.

Round trips. Issue types, link types and permissions are checked once per run, before the first
write (three GETs); misconfiguration is one ``ConfigError`` listing every problem. Upload limits
come from ``/attachment/meta`` once. After that: a search per lookup (exactly the fields needed,
100 per page; Cloud ``/search/jql`` with ``nextPageToken``, Data Center ``/search`` with
``startAt``), one POST per create (already linked, no re-GET), one multipart POST per attach
(plus one GET of the ticket's attachments unless this run created the ticket or saw them).

Failures. Connection errors, timeouts, 429, 503 and other 5xx are retried within
``max_retry_wait`` seconds, honouring ``Retry-After``; a create, attachment, transition or
comment whose response was lost is looked up before it is re-sent. Every vendor error becomes a
``tracker_bridge.errors`` exception; credentials are scrubbed from the chained cause.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import quote as quote_path
from urllib.parse import urlsplit

import requests
from jira import JIRA, JIRAError

from tracker_bridge.domain.conventions import Conventions, format_title, normalize
from tracker_bridge.domain.tickets import (
    EvidenceFile,
    EvidenceRef,
    Kind,
    NewTicket,
    RemoteLink,
    Status,
    Ticket,
    Tree,
    utcnow,
)
from tracker_bridge.errors import (
    BridgeError,
    ConfigError,
    NotFoundError,
    TrackerRefused,
    UsageError,
)
from tracker_bridge.trackers import jira_jql as jql
from tracker_bridge.trackers import jira_markup as markup
from tracker_bridge.trackers.base import Capabilities
from tracker_bridge.trackers.retry import Retryable, server_wait, with_retries

if TYPE_CHECKING:
    from tracker_bridge.settings import Settings

T = TypeVar("T")

PAGE_SIZE = 100
BATCH_FILES = 50
"""Files per multipart request (Jira rejects more than 60)."""
SUMMARY_LIMIT = 255
LABEL_LIMIT = 255
FILENAME_LIMIT = 255
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
PERMISSIONS = (
    "BROWSE_PROJECTS",
    "CREATE_ISSUES",
    "EDIT_ISSUES",
    "LINK_ISSUES",
    "CREATE_ATTACHMENTS",
    "TRANSITION_ISSUES",
    "ADD_COMMENTS",
)
_CATEGORY = {"new": Status.OPEN, "indeterminate": Status.IN_PROGRESS, "done": Status.DONE}
_EVIDENCE_NAME = re.compile(r"^(?P<stem>.*)\.(?P<sha>[0-9a-f]{64})(?P<suffix>\.[^.]*)?$")
_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9_]*-[0-9]+$")
_CLOUD_HOSTS = (".atlassian.net", ".jira.com", ".jira-dev.com")


def build(settings: Settings) -> JiraTracker:
    """The Jira tracker described by ``[tracker]`` and ``[conventions]``."""
    tracker = settings.tracker
    if not tracker.url:
        raise ConfigError(
            "[tracker] url is empty.",
            hint="Set it to the Jira site, e.g. https://example.atlassian.net.",
        )
    return JiraTracker(
        url=tracker.url,
        project=tracker.project,
        conventions=settings.conventions_value(),
        deployment=tracker.deployment,
        email=tracker.email,
        token=tracker.secret(),
        timeout=tracker.timeout,
        max_retry_wait=tracker.max_retry_wait,
    )


def evidence_filename(name: str, sha256: str) -> str:
    """The attachment name for a piece of evidence: ``<stem>.<sha256><suffix>``, clipped."""
    base = name.replace("/", "_").replace("\\", "_") or "evidence"
    stem, dot, suffix = base.rpartition(".")
    if not dot or not stem or len(suffix) > 16:
        stem, suffix = base, ""
    else:
        suffix = "." + suffix
    room = FILENAME_LIMIT - len(sha256) - 1 - len(suffix)
    return f"{stem[:room]}.{sha256}{suffix}"


def label(text: str) -> str:
    """``text`` as a Jira label: no whitespace, at most 255 characters."""
    return re.sub(r"\s+", "_", text.strip())[:LABEL_LIMIT]


class JiraTracker:
    """A Jira project (Cloud or Data Center) as a ``Tracker``."""

    def __init__(
        self,
        *,
        url: str,
        project: str,
        conventions: Conventions,
        deployment: str = "auto",
        email: str = "",
        token: str | None = None,
        timeout: float = 30.0,
        max_retry_wait: float = 120.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        """Connect lazily: nothing is sent until the first call."""
        if not token:
            raise ConfigError(
                "no Jira token is set.",
                hint="Set BRIDGE_TRACKER__TOKEN (Cloud: an API token; Data Center: a personal "
                "access token) or point [tracker] token_file at a file holding it.",
            )
        host = urlsplit(url).hostname or ""
        cloud_host = host.endswith(_CLOUD_HOSTS)
        if deployment == "cloud" and not email:
            raise ConfigError(
                "Jira Cloud needs the account e-mail that goes with the API token.",
                hint="Set [tracker] email or BRIDGE_TRACKER__EMAIL.",
            )
        if deployment not in ("cloud", "datacenter", "auto"):
            raise ConfigError(f"[tracker] deployment {deployment!r} is not cloud|datacenter|auto.")
        self.url = url.rstrip("/")
        self.project = project
        self.conventions = conventions
        self.name = f"jira:{project}@{host or self.url}"
        self._budget = max_retry_wait
        self._sleep = sleep
        self._cloud: bool | None = {"cloud": True, "datacenter": False}.get(deployment)
        if self._cloud is None and cloud_host:
            self._cloud = True
        use_basic = bool(email) and self._cloud is not False
        self._client = JIRA(
            server=self.url,
            basic_auth=(email, token) if use_basic else None,
            token_auth=None if use_basic else token,
            get_server_info=False,
            max_retries=0,
            timeout=timeout,
            options={"rest_api_version": "2"},
        )
        self._checked = False
        self._setup_problems: list[str] = []
        self._type_findings: list[str] = []
        self._project_id = ""
        self._type_ids: dict[str, str] = {}
        self._capabilities: Capabilities | None = None
        self._created: dict[str, Ticket] = {}
        self._stored: dict[str, dict[str, dict[str, Any]]] = {}
        """Evidence already on a ticket, by sha256, for tickets this run created or read."""

    # -- HTTP ------------------------------------------------------------------------------

    def _request(
        self,
        method: str,
        path: str,
        *,
        what: str,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
        files: list[tuple[str, tuple[str, bytes, str]]] | None = None,
        not_found: str | None = None,
        absolute: bool = False,
    ) -> Any:
        """One request; parsed JSON (or raw bytes for downloads, None for no content).

        Raises ``Retryable`` for what is worth retrying, a ``BridgeError`` otherwise.
        """
        url = path if absolute else self._client._get_url(path)
        kwargs: dict[str, Any] = {"params": params}
        if files is not None:
            kwargs["files"] = files
            kwargs["headers"] = {"Content-Type": None, "X-Atlassian-Token": "no-check"}
        elif body is not None:
            kwargs["data"] = json.dumps(body)
        try:
            response = self._client._session.request(method, url, **kwargs)
        except JIRAError as exc:
            raise self._failure(exc, what, not_found) from _scrubbed(exc)
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise Retryable(f"{what}: no answer from {self.url} ({type(exc).__name__})") from exc
        except requests.RequestException as exc:
            raise Retryable(f"{what}: {type(exc).__name__} talking to {self.url}") from exc
        if absolute:
            return response.content
        if response.status_code == 204 or not response.content:
            return None
        try:
            return response.json()
        except ValueError as exc:
            raise TrackerRefused(
                f"{what}: Jira answered {response.status_code} with something that is not JSON.",
                hint="Check [tracker] url: it must be the site root, e.g. https://x.atlassian.net.",
                status=response.status_code,
                url=self.url,
            ) from exc

    def _failure(self, exc: JIRAError, what: str, not_found: str | None) -> Exception:
        status = exc.status_code
        response = exc.response
        headers = dict(response.headers) if response is not None else {}
        detail = _jira_messages(response)
        if status is None or status in (429, 503) or status >= 500:
            wait = server_wait(headers) if status in (429, 503) else None
            return Retryable(f"{what}: Jira answered {status or 'nothing'}", wait, status=status)
        if status == 401:
            return ConfigError(
                f"Jira at {self.url} did not accept the credentials ({what}).",
                hint="Check BRIDGE_TRACKER__EMAIL and BRIDGE_TRACKER__TOKEN (Cloud: e-mail + API "
                "token; Data Center: a personal access token) and [tracker] deployment.",
            )
        if status == 404 and not_found:
            return NotFoundError(
                f"{not_found} does not exist on {self.url} (or you cannot see it)."
            )
        if status == 400 and _names_missing_issue(response):
            return NotFoundError(f"{what}: {detail}", hint="Check the ticket key.")
        hint = {
            403: "The Jira account lacks a permission in this project; ask a project admin.",
            413: "Jira refused the size; split the evidence or compress it.",
        }.get(status or 0)
        return TrackerRefused(
            f"{what}: Jira answered {status}: {detail}", hint=hint, status=status, url=self.url
        )

    def _call(
        self, what: str, operation: Callable[[], T], recover: Callable[[], T | None] | None = None
    ) -> T:
        return with_retries(
            operation, what=what, budget=self._budget, recover=recover, sleep=self._sleep
        )

    def _get(self, path: str, what: str, **kw: Any) -> Any:
        return self._call(what, lambda: self._request("GET", path, what=what, **kw))

    # -- start-up checks -------------------------------------------------------------------

    def _is_cloud(self) -> bool:
        if self._cloud is None:
            info = self._get("serverInfo", "reading Jira's server info")
            self._cloud = str(info.get("deploymentType", "")).lower() == "cloud"
        return self._cloud

    def check_setup(self, *, explicit_type: str = "") -> None:
        """Check project, issue types, link type and permissions once; raise one ``ConfigError``.

        With ``explicit_type`` (a team's own issue type for delegated work), the conventional
        issue types need not exist in this project; that one must.
        """
        if not self._checked:
            self._setup_problems, self._type_findings = self._find_setup_problems()
            self._checked = True
        problems = list(self._setup_problems)
        if explicit_type:
            if explicit_type not in self._type_ids:
                available = ", ".join(sorted(self._type_ids))
                problems.append(
                    f"issue type {explicit_type!r} is not available in {self.project} "
                    f"(available: {available})"
                )
        else:
            problems.extend(self._type_findings)
        if problems:
            raise ConfigError(
                f"Jira {self.url} is not set up the way the configuration expects; nothing was "
                "created:\n  - " + "\n  - ".join(problems),
                hint="Fix [tracker] / [conventions] / [teams] in bridge.toml, or ask a Jira admin.",
            )

    def _find_setup_problems(self) -> tuple[list[str], list[str]]:
        conv = self.conventions
        problems: list[str] = []
        try:
            project = self._get(
                f"project/{_path(self.project)}",
                f"reading project {self.project}",
                not_found=f"project {self.project}",
            )
        except NotFoundError:
            problems.append(
                f"project {self.project!r} does not exist or this account cannot see it "
                "([tracker] project)"
            )
            project = {}
        types = {t.get("name", ""): t for t in project.get("issueTypes", [])}
        self._project_id = str(project.get("id", ""))
        self._type_ids = {name: str(t.get("id")) for name, t in types.items()}
        type_findings = self._type_problems(types) if project else []
        link_types = self._get("issueLinkType", "reading issue link types").get(
            "issueLinkTypes", []
        )
        names = sorted(str(t.get("name")) for t in link_types)
        if conv.link_type not in names:
            problems.append(
                f"issue link type {conv.link_type!r} does not exist on this site "
                f"([conventions] link_type; the site has: {', '.join(names)})"
            )
        if project:
            problems.extend(self._permission_problems())
        return problems, type_findings

    def _type_problems(self, types: Mapping[str, Mapping[str, Any]]) -> list[str]:
        conv = self.conventions
        problems = []
        available = ", ".join(sorted(types))
        wanted = {"defect_type": conv.defect_type}
        if conv.link == "sub-task":
            wanted["subtask_type"] = conv.subtask_type
        else:
            wanted["observation_type"] = conv.observation_type
            wanted["remediation_type"] = conv.remediation_type
        for key, name in wanted.items():
            if name not in types:
                problems.append(
                    f"issue type {name!r} is not available in {self.project} "
                    f"([conventions] {key}; available: {available})"
                )
        subtask = types.get(conv.subtask_type)
        if conv.link == "sub-task" and subtask is not None and not subtask.get("subtask"):
            problems.append(
                f"issue type {conv.subtask_type!r} is not a sub-task type "
                '([conventions] subtask_type, needed by link = "sub-task")'
            )
        if conv.link == "parent":
            top = types.get(conv.defect_type, {}).get("hierarchyLevel")
            for key in ("observation_type", "remediation_type"):
                child = types.get(wanted[key], {}).get("hierarchyLevel")
                if top is None or child is None:
                    problems.append(
                        'link = "parent" needs issue type hierarchy levels, which this site does '
                        'not report; use link = "sub-task" or "issue-link"'
                    )
                    break
                if top != child + 1:
                    problems.append(
                        f"issue type {wanted[key]!r} is not one level below {conv.defect_type!r} "
                        f'in the hierarchy ([conventions] {key} with link = "parent")'
                    )
        if conv.link not in ("issue-link", "sub-task", "parent"):
            problems.append(
                f"[conventions] link = {conv.link!r} is for GitHub; Jira takes issue-link, "
                "sub-task or parent"
            )
        return problems

    def _permission_problems(self) -> list[str]:
        params: dict[str, str] = {"projectKey": self.project}
        if self._is_cloud():
            # Cloud requires the list; Data Center's API has no such parameter and returns all.
            params["permissions"] = ",".join(PERMISSIONS)
        granted = self._get("mypermissions", "reading your permissions", params=params)
        have = granted.get("permissions", {})
        needed = [
            p for p in PERMISSIONS if p != "LINK_ISSUES" or self.conventions.link == "issue-link"
        ]
        missing = [p for p in needed if not have.get(p, {}).get("havePermission", False)]
        if missing:
            return [f"this account lacks the permission(s) {', '.join(missing)} in {self.project}"]
        return []

    # -- reading ---------------------------------------------------------------------------

    def capabilities(self) -> Capabilities:
        """Upload limit from ``/attachment/meta`` (asked once)."""
        if self._capabilities is None:
            meta = self._get("attachment/meta", "reading the attachment settings")
            limit = int(meta.get("uploadLimit", 0)) if meta.get("enabled", True) else 0
            self._capabilities = Capabilities(
                upload_limit=limit, title_limit=SUMMARY_LIMIT, label_limit=LABEL_LIMIT
            )
        return self._capabilities

    def get(self, key: str) -> Ticket:
        """One ticket, with its full message even when it went to an attachment."""
        raw = self._get(
            f"issue/{_path(key)}",
            f"reading {key}",
            params={"fields": ",".join(FIELDS)},
            not_found=key,
        )
        ticket = self._ticket(raw)
        remote = self._get(f"issue/{_path(key)}/remotelink", f"reading the links of {key}")
        if remote:
            ticket = _replace(ticket, links=tuple(_remote_link(r) for r in remote))
        data = markup.parse(raw["fields"].get("description")).data
        message_file = data.get("message_file")
        content = next(
            (
                str(a["content"])
                for a in raw["fields"].get("attachment") or []
                if message_file and a.get("filename") == message_file and a.get("content")
            ),
            None,
        )
        if content is not None:
            what = f"reading the full message of {key}"
            full: bytes = self._call(
                what, lambda: self._request("GET", content, what=what, absolute=True)
            )
            ticket = _replace(ticket, message=full.decode("utf-8", "replace"))
        return ticket

    def tree(self, key: str) -> Tree:
        """The ticket, its children and related tickets: two requests (plus pages)."""
        ticket = self.get(key)
        query = f"issue in linkedIssues({jql.quote(key)}) OR parent = {jql.quote(key)}"
        observations, remediations, related = [], [], []
        for other in self._search(
            f"{query} ORDER BY created ASC", what=f"reading the tree of {key}"
        ):
            if other.parent == key and other.kind is Kind.OBSERVATION:
                observations.append(other)
            elif other.parent == key and other.kind is Kind.REMEDIATION:
                remediations.append(other)
            else:
                related.append(other)
        return Tree(ticket, tuple(observations), tuple(remediations), tuple(related))

    def find_by_fingerprint(self, fingerprint: str) -> Ticket | None:
        """The newest defect labelled with this fingerprint: one search request."""
        conv = self.conventions
        query = " AND ".join(
            [
                jql.equals("project", self.project),
                jql.equals("labels", conv.defect_label),
                jql.equals("labels", conv.fingerprint_label(fingerprint)),
            ]
        )
        return self._first(f"{query} ORDER BY created DESC", "looking up a fingerprint")

    def find_by_event(self, event_id: str) -> Ticket | None:
        """The ticket labelled with this event's idempotency marker: one search request."""
        if event_id in self._created:
            return self._created[event_id]
        query = " AND ".join(
            [
                jql.equals("project", self.project),
                jql.equals("labels", self.conventions.event_label(event_id)),
            ]
        )
        return self._first(f"{query} ORDER BY created ASC", "looking up an event id")

    def defects(self) -> Iterator[Ticket]:
        """Every defect in the project, 100 per request."""
        query = " AND ".join(
            [
                jql.equals("project", self.project),
                jql.equals("labels", self.conventions.defect_label),
            ]
        )
        return self._search(f"{query} ORDER BY created DESC", what="listing defects")

    def scan(self, title_prefix: str) -> Iterator[Ticket]:
        """Marked tickets and tickets titled like observations, page by page, no extra requests."""
        conv = self.conventions
        marked = jql.one_of(
            "labels", [conv.defect_label, conv.observation_label, conv.remediation_label]
        )
        titled = jql.contains_text("summary", title_prefix)
        query = f"{jql.equals('project', self.project)} AND ({marked} OR {titled}) ORDER BY key ASC"
        from tracker_bridge.domain.conventions import is_observation_title

        for ticket in self._search(query, what="scanning the project"):
            if ticket.kind is not None or is_observation_title(ticket.title, title_prefix):
                yield ticket

    def _first(self, query: str, what: str) -> Ticket | None:
        for ticket in self._search(query, what=what, page_size=1):
            return ticket
        return None

    def _search(self, query: str, *, what: str, page_size: int = PAGE_SIZE) -> Iterator[Ticket]:
        if self._is_cloud():
            token: str | None = None
            while True:
                body: dict[str, Any] = {
                    "jql": query,
                    "fields": list(FIELDS),
                    "maxResults": page_size,
                }
                if token:
                    body["nextPageToken"] = token
                page = self._search_page("search/jql", body, what)
                for raw in page.get("issues", []):
                    yield self._ticket(raw)
                token = page.get("nextPageToken")
                if not token or page.get("isLast") or page_size == 1:
                    return
        start = 0
        while True:
            body = {"jql": query, "fields": list(FIELDS), "maxResults": page_size, "startAt": start}
            page = self._search_page("search", body, what)
            issues = page.get("issues", [])
            for raw in issues:
                yield self._ticket(raw)
            start += len(issues)
            if not issues or start >= int(page.get("total", 0)) or page_size == 1:
                return

    def _search_page(self, path: str, body: dict[str, Any], what: str) -> Any:
        try:
            return self._call(what, lambda: self._request("POST", path, what=what, body=body))
        except TrackerRefused as exc:
            if exc.status == 400 and "project" in exc.message:
                self.check_setup()  # a clearer error when the project itself is wrong
            raise

    # -- writing ---------------------------------------------------------------------------

    def create(self, new: NewTicket) -> Ticket:
        """One POST, already linked; a lost response is looked up by its marker, not re-sent."""
        if new.event_id and new.event_id in self._created:
            return self._created[new.event_id]
        self.check_setup(explicit_type=new.issue_type)
        for ref in (new.parent, new.related):
            if ref is not None and not _KEY.match(ref):
                raise NotFoundError(f"{ref!r} is not a Jira issue key.")
        event_id = new.event_id or uuid.uuid4().hex
        body, rendered = self._create_body(new, event_id)
        fields = body["fields"]
        what = f"creating {new.kind.value} {fields['summary']!r} in {self.project}"

        def send() -> Ticket:
            made = self._request("POST", "issue", what=what, body=body)
            return self._made(new, str(made["key"]), fields, event_id)

        ticket = self._call(what, send, recover=lambda: self._find_event_fresh(event_id))
        self._created[event_id] = ticket
        self._stored.setdefault(ticket.key, {})
        if rendered.overflow is not None:
            self._upload(
                ticket.key,
                [(markup.MESSAGE_FILE, rendered.overflow.encode("utf-8"), "text/plain")],
                f"storing the full message of {ticket.key}",
                lambda stored: markup.MESSAGE_FILE in stored,
            )
        for link in new.links:
            self.link_remote(ticket.key, link)
        return ticket

    def _create_body(self, new: NewTicket, event_id: str) -> tuple[dict[str, Any], markup.Rendered]:
        conv = self.conventions
        rendered = markup.render(_with_event(new, event_id))
        type_name = new.issue_type or self._issue_type(new.kind)
        fields: dict[str, Any] = {
            "project": {"id": self._project_id},
            "issuetype": {"id": self._type_ids.get(type_name, "")},
            "summary": self._summary(new),
            "labels": self._labels(new, event_id),
            "description": rendered.text,
        }
        if new.components:
            fields["components"] = [{"name": c} for c in new.components]
        for name, value in new.fields:
            fields.setdefault(name, value)
        links: list[dict[str, Any]] = []
        if new.parent is not None and new.kind is not Kind.DEFECT:
            other_project = new.parent.rsplit("-", 1)[0].upper() != self.project.upper()
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

    def validate(self, new: NewTicket) -> tuple[str, ...]:
        """What Jira would refuse about ``new``, found with reads only (for ``--dry-run``)."""
        problems: list[str] = []
        try:
            self.check_setup(explicit_type=new.issue_type)
        except ConfigError as exc:
            problems.extend(line.strip()[2:] for line in exc.message.splitlines()[1:])
        if not normalize(new.title):
            problems.append("the title is empty")
        for ref in (new.parent, new.related):
            if ref is None:
                continue
            if not _KEY.match(ref):
                problems.append(f"{ref!r} is not a Jira issue key")
                continue
            try:
                self._get(
                    f"issue/{_path(ref)}",
                    f"reading {ref}",
                    params={"fields": "summary"},
                    not_found=ref,
                )
            except NotFoundError:
                problems.append(f"{ref} does not exist (or this account cannot see it)")
        return tuple(problems)

    def link_remote(self, key: str, link: RemoteLink) -> None:
        """One POST to ``/remotelink``; ``globalId`` makes it an upsert, so retries are safe."""
        what = f"linking {key} to {link.url}"
        body = {
            "globalId": link.global_id[:255],
            "relationship": link.relationship,
            "object": {"url": link.url, "title": link.title[:255] or link.url[:255]},
        }
        self._call(
            what,
            lambda: self._request(
                "POST", f"issue/{_path(key)}/remotelink", what=what, body=body, not_found=key
            ),
        )

    def _find_event_fresh(self, event_id: str) -> Ticket | None:
        query = " AND ".join(
            [
                jql.equals("project", self.project),
                jql.equals("labels", self.conventions.event_label(event_id)),
            ]
        )
        what = "checking whether the create landed"
        for raw in self._raw_search(query, what):
            return self._ticket(raw)
        return None

    def _raw_search(self, query: str, what: str) -> list[dict[str, Any]]:
        if self._is_cloud():
            body: dict[str, Any] = {"jql": query, "fields": list(FIELDS), "maxResults": 1}
            page = self._request("POST", "search/jql", what=what, body=body)
        else:
            body = {"jql": query, "fields": list(FIELDS), "maxResults": 1, "startAt": 0}
            page = self._request("POST", "search", what=what, body=body)
        issues: list[dict[str, Any]] = page.get("issues", [])
        return issues

    def _issue_type(self, kind: Kind) -> str:
        conv = self.conventions
        if kind is Kind.DEFECT:
            return conv.defect_type
        if conv.link == "sub-task":
            return conv.subtask_type
        return conv.observation_type if kind is Kind.OBSERVATION else conv.remediation_type

    def _summary(self, new: NewTicket) -> str:
        title = normalize(new.title)
        if len(title) <= SUMMARY_LIMIT:
            return title
        if new.kind is Kind.OBSERVATION and new.message and new.instance:
            return format_title(new.message, new.instance, self.conventions.observation_prefix)
        return title[: SUMMARY_LIMIT - 1] + "…"

    def _labels(self, new: NewTicket, event_id: str) -> list[str]:
        conv = self.conventions
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

    def _made(self, new: NewTicket, key: str, fields: Mapping[str, Any], event_id: str) -> Ticket:
        return Ticket(
            key=key,
            title=fields["summary"],
            kind=new.kind,
            status=Status.OPEN,
            created=utcnow(),
            url=f"{self.url}/browse/{key}",
            parent=new.parent if new.kind is not Kind.DEFECT else None,
            issue_type=self._issue_type(new.kind),
            labels=tuple(fields["labels"]),
            description=new.description,
            message=new.message,
            instance=new.instance,
            observed_at=new.observed_at,
            impact=new.impact,
            actions=new.actions,
            fingerprints=new.fingerprints,
            event_id=event_id,
            team=new.team,
            related=new.related,
            links=new.links,
            updated=None,
        )

    def attach(self, key: str, files: Sequence[EvidenceFile]) -> list[EvidenceRef]:
        """All new files in one multipart request; content already on the ticket is skipped."""
        limit = self.capabilities().upload_limit
        if files and limit == 0:
            raise UsageError(
                f"attachments are disabled on {self.url}; nothing was uploaded to {key}.",
                hint="Ask a Jira admin to enable attachments, or keep the evidence elsewhere.",
            )
        for item in files:
            if limit and len(item.data) > limit:
                raise UsageError(
                    f"evidence {item.name!r} is {_size(len(item.data))}; {self.url} accepts at "
                    f"most {_size(limit)} per file (uploadLimit). Nothing was uploaded to {key}.",
                    hint="Compress or split the file, or attach an excerpt.",
                )
        stored = self._stored_evidence(key)
        refs: dict[str, EvidenceRef] = {}
        pending: list[EvidenceFile] = []
        for item in files:
            if item.sha256 in stored or item.sha256 in refs:
                record = stored.get(item.sha256)
                refs[item.sha256] = item.ref(str(record.get("content", "")) if record else "")
            elif all(p.sha256 != item.sha256 for p in pending):
                pending.append(item)
        for start in range(0, len(pending), BATCH_FILES):
            batch = pending[start : start + BATCH_FILES]
            parts = [
                (evidence_filename(f.name, f.sha256), f.data, "application/octet-stream")
                for f in batch
            ]
            manifest = _manifest(batch)
            if manifest is not None:
                parts.append(manifest)
            names = {p[0] for p in parts}
            uploaded = self._upload(
                key,
                parts,
                f"uploading {len(batch)} evidence file(s) to {key}",
                lambda have, names=names: names <= have,  # type: ignore[misc]
            )
            for item in batch:
                record = uploaded.get(evidence_filename(item.name, item.sha256), {})
                refs[item.sha256] = item.ref(str(record.get("content", "")))
        return [refs[item.sha256] for item in files]

    def fetch_evidence(self, key: str, ref: EvidenceRef) -> bytes:
        """The bytes of one attachment: one GET (plus one to find it if ``ref`` has no URL)."""
        url = ref.url
        if not url:
            record = self._stored_evidence(key).get(ref.sha256)
            if record is None or not record.get("content"):
                raise NotFoundError(f"{key} holds no evidence {ref.name!r} ({ref.sha256[:12]}).")
            url = str(record["content"])
        what = f"downloading {ref.name} from {key}"
        data: bytes = self._call(
            what, lambda: self._request("GET", url, what=what, absolute=True, not_found=key)
        )
        return data

    def _stored_evidence(self, key: str) -> dict[str, dict[str, Any]]:
        if key not in self._stored:
            raw = self._get(
                f"issue/{_path(key)}",
                f"reading the attachments of {key}",
                params={"fields": "attachment"},
                not_found=key,
            )
            self._remember(key, raw["fields"].get("attachment") or [])
        return self._stored[key]

    def _remember(self, key: str, attachments: Sequence[Mapping[str, Any]]) -> None:
        known = self._stored.setdefault(key, {})
        for attachment in attachments:
            match = _EVIDENCE_NAME.match(str(attachment.get("filename", "")))
            if match:
                known[match["sha"]] = dict(attachment)

    def _upload(
        self,
        key: str,
        parts: list[tuple[str, bytes, str]],
        what: str,
        landed: Callable[[set[str]], bool],
    ) -> dict[str, dict[str, Any]]:
        """One multipart POST; a lost response is checked against the ticket before re-sending."""
        self.check_setup()

        def send() -> dict[str, dict[str, Any]]:
            answer = self._request(
                "POST",
                f"issue/{_path(key)}/attachments",
                what=what,
                files=[("file", part) for part in parts],
                not_found=key,
            )
            records = answer if isinstance(answer, list) else [answer]
            return {str(r.get("filename")): r for r in records}

        def recover() -> dict[str, dict[str, Any]] | None:
            raw = self._request(
                "GET", f"issue/{_path(key)}", what=what, params={"fields": "attachment"}
            )
            records = {str(a.get("filename")): a for a in raw["fields"].get("attachment") or []}
            return records if landed(set(records)) else None

        uploaded = self._call(what, send, recover=recover)
        self._remember(key, list(uploaded.values()))
        return uploaded

    def add_fingerprint(self, key: str, fingerprint: str) -> None:
        """Add the fingerprint label (idempotent, one PUT)."""
        self.check_setup()
        fp_label = label(self.conventions.fingerprint_label(fingerprint))
        what = f"adding fingerprint {fingerprint} to {key}"
        body = {"update": {"labels": [{"add": fp_label}]}}
        self._call(
            what,
            lambda: self._request(
                "PUT", f"issue/{_path(key)}", what=what, body=body, not_found=key
            ),
        )

    def retitle(self, key: str, title: str) -> None:
        """One PUT of the summary (clipped to 255, line breaks removed); repeating it is harmless."""
        self.check_setup()
        summary = normalize(title)
        summary = summary if len(summary) <= SUMMARY_LIMIT else summary[: SUMMARY_LIMIT - 1] + "…"
        what = f"retitling {key}"
        body = {"fields": {"summary": summary}}
        self._call(
            what,
            lambda: self._request(
                "PUT", f"issue/{_path(key)}", what=what, body=body, not_found=key
            ),
        )

    def set_parent(self, key: str, parent: str) -> None:
        """Link ``key`` under ``parent``: the hierarchy parent with ``link = "parent"``, else an
        issue link of ``link_type`` (Jira will not re-parent an existing issue as a sub-task).

        Jira accepts a link that already exists as success, so this is idempotent.
        """
        self.check_setup()
        for ref in (key, parent):
            if not _KEY.match(ref):
                raise NotFoundError(f"{ref!r} is not a Jira issue key.")
        what = f"putting {key} under {parent}"
        if self.conventions.link == "parent":
            body: dict[str, Any] = {"fields": {"parent": {"key": parent}}}
            self._call(
                what,
                lambda: self._request(
                    "PUT",
                    f"issue/{_path(key)}",
                    what=what,
                    body=body,
                    not_found=f"{key} or {parent}",
                ),
            )
            return
        body = {
            "type": {"name": self.conventions.link_type},
            "inwardIssue": {"key": parent},
            "outwardIssue": {"key": key},
        }
        self._call(
            what,
            lambda: self._request(
                "POST", "issueLink", what=what, body=body, not_found=f"{key} or {parent}"
            ),
        )

    def reopen(self, key: str) -> None:
        """Apply ``[conventions] reopen_transition`` (by name); a no-op when not done."""
        wanted = self.conventions.reopen_transition.casefold()
        self._transition(
            key,
            choose=lambda ts: next(
                (t for t in ts if str(t.get("name", "")).casefold() == wanted), None
            ),
            done_after=False,
            missing=(
                f"the transition {self.conventions.reopen_transition!r} is not available on {key}",
                "Set [conventions] reopen_transition to one of the transitions listed.",
            ),
        )

    def resolve(self, key: str) -> None:
        """Apply the first transition into a Done-category status; a no-op when done."""
        self._transition(
            key,
            choose=lambda ts: next((t for t in ts if _category(t.get("to")) is Status.DONE), None),
            done_after=True,
            missing=(f"no transition leads {key} to a Done status", "Resolve it in Jira."),
        )

    def _transition(
        self,
        key: str,
        *,
        choose: Callable[[list[dict[str, Any]]], dict[str, Any] | None],
        done_after: bool,
        missing: tuple[str, str],
    ) -> None:
        self.check_setup()
        what = f"changing the status of {key}"
        answer = self._get(f"issue/{_path(key)}/transitions", what, not_found=key)
        transitions: list[dict[str, Any]] = answer.get("transitions", [])
        chosen = choose(transitions)
        if chosen is None:
            if self.get(key).is_done is done_after:
                return
            names = ", ".join(str(t.get("name")) for t in transitions) or "none"
            raise ConfigError(f"{missing[0]} (available: {names}).", hint=missing[1])
        body = {"transition": {"id": str(chosen["id"])}}

        def recover() -> bool | None:
            raw = self._request(
                "GET", f"issue/{_path(key)}", what=what, params={"fields": "status"}
            )
            return (
                True
                if (_category(raw["fields"].get("status")) is Status.DONE) is done_after
                else None
            )

        self._call(
            what,
            lambda: bool(
                self._request("POST", f"issue/{_path(key)}/transitions", what=what, body=body)
                or True
            ),
            recover=recover,
        )

    def comment(self, key: str, text: str) -> None:
        """One POST; a lost response is checked against the latest comments before re-sending."""
        self.check_setup()
        body_text = (
            text
            if len(text) <= markup.DESCRIPTION_LIMIT
            else text[: markup.DESCRIPTION_LIMIT - 1] + "…"
        )
        what = f"commenting on {key}"

        def send() -> bool:
            self._request(
                "POST",
                f"issue/{_path(key)}/comment",
                what=what,
                body={"body": body_text},
                not_found=key,
            )
            return True

        def recover() -> bool | None:
            page = self._request(
                "GET",
                f"issue/{_path(key)}/comment",
                what=what,
                params={"orderBy": "-created", "maxResults": "20"},
            )
            bodies = [c.get("body") for c in page.get("comments", [])]
            return True if body_text in bodies else None

        self._call(what, send, recover=recover)

    def close(self) -> None:
        """Close the HTTP session."""
        self._client.close()  # type: ignore[no-untyped-call]

    # -- issue JSON -> Ticket --------------------------------------------------------------

    def _ticket(self, raw: Mapping[str, Any]) -> Ticket:
        conv = self.conventions
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
        attachments = fields.get("attachment") or []
        self._remember(key, attachments)
        return Ticket(
            key=key,
            title=str(fields.get("summary") or ""),
            kind=kind,
            status=_category(fields.get("status")),
            created=_jira_time(fields.get("created")) or datetime.fromtimestamp(0, UTC),
            url=f"{self.url}/browse/{key}",
            parent=None if kind is Kind.DEFECT else self._parent_of(fields),
            issue_type=str((fields.get("issuetype") or {}).get("name", "")),
            labels=labels,
            description=parsed.description,
            message=str(data.get("message", "")),
            instance=str(data.get("instance", "")),
            observed_at=markup.parse_time(data.get("observed_at")),
            impact=str(data.get("impact", "")),
            actions=tuple(str(a) for a in data.get("actions", ())),
            fingerprints=tuple(
                x[len(conv.fingerprint_label_prefix) :]
                for x in labels
                if x.startswith(conv.fingerprint_label_prefix)
            ),
            evidence=tuple(_evidence(a) for a in attachments if _is_evidence(a)),
            event_id=str(data.get("event_id", "")),
            team=str(data.get("team", "")),
            related=str(data["related"]) if data.get("related") else None,
            updated=_jira_time(fields.get("updated")),
            resolved=_jira_time(fields.get("resolutiondate")),
        )

    def _parent_of(self, fields: Mapping[str, Any]) -> str | None:
        parent = fields.get("parent")
        if isinstance(parent, Mapping) and parent.get("key"):
            return str(parent["key"])
        for link in fields.get("issuelinks") or []:
            if (link.get("type") or {}).get("name") == self.conventions.link_type and link.get(
                "inwardIssue"
            ):
                return str(link["inwardIssue"]["key"])
        return None


# -- helpers -------------------------------------------------------------------------------


def _path(key: str) -> str:
    return quote_path(key, safe="")


def _scrubbed(exc: JIRAError) -> JIRAError:
    """The library keeps request headers (with the credentials) on its errors: drop them."""
    exc.headers = None
    exc.request = None
    if exc.response is not None:
        exc.response.request = None  # type: ignore[assignment]
    return exc


def _jira_messages(response: requests.Response | None) -> str:
    if response is None:
        return "no details"
    try:
        body = response.json()
    except ValueError:
        return (response.text or "no details").strip()[:300]
    if not isinstance(body, dict):
        return str(body)[:300]
    parts = [str(m) for m in body.get("errorMessages") or []]
    parts += [f"{k}: {v}" for k, v in (body.get("errors") or {}).items()]
    return "; ".join(parts)[:1000] or "no details"


def _names_missing_issue(response: requests.Response | None) -> bool:
    if response is None:
        return False
    try:
        errors = (response.json() or {}).get("errors") or {}
    except (ValueError, AttributeError):
        return False
    return any(
        field in ("parent", "issuelinks")
        and ("not find issue" in str(text) or "does not exist" in str(text))
        for field, text in errors.items()
    )


def _category(status: Any) -> Status:
    if not isinstance(status, Mapping):
        return Status.OPEN
    return _CATEGORY.get(str((status.get("statusCategory") or {}).get("key")), Status.OPEN)


def _jira_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    for pattern in ("%Y-%m-%dT%H:%M:%S.%f%z", "%Y-%m-%dT%H:%M:%S%z"):
        try:
            return datetime.strptime(value, pattern).astimezone(UTC)
        except ValueError:
            continue
    return None


def _is_evidence(attachment: Mapping[str, Any]) -> bool:
    name = str(attachment.get("filename", ""))
    return name != markup.MESSAGE_FILE and not name.startswith("bridge-manifest-")


def _evidence(attachment: Mapping[str, Any]) -> EvidenceRef:
    filename = str(attachment.get("filename", ""))
    match = _EVIDENCE_NAME.match(filename)
    name, sha = (match["stem"] + (match["suffix"] or ""), match["sha"]) if match else (filename, "")
    return EvidenceRef(
        name=name,
        sha256=sha,
        size=int(attachment.get("size", 0)),
        source="",
        captured_at=_jira_time(attachment.get("created")),
        url=str(attachment.get("content", "")),
    )


def _remote_link(raw: Mapping[str, Any]) -> RemoteLink:
    target = raw.get("object") or {}
    return RemoteLink(
        url=str(target.get("url", "")),
        title=str(target.get("title", "")),
        global_id=str(raw.get("globalId", "")),
        relationship=str(raw.get("relationship", "")),
    )


def _manifest(batch: Sequence[EvidenceFile]) -> tuple[str, bytes, str] | None:
    if not any(f.redactions or not f.scanned or f.sensitive for f in batch):
        return None
    entries = [
        {
            "name": f.name,
            "sha256": f.sha256,
            "size": len(f.data),
            "source": f.source,
            "captured_at": f.captured_at.isoformat(),
            "redactions": [list(r) for r in f.redactions],
            "scanned": f.scanned,
            "sensitive": f.sensitive,
        }
        for f in batch
    ]
    data = json.dumps({"v": 1, "evidence": entries}, indent=1, ensure_ascii=False).encode()
    digest = hashlib.sha256(data).hexdigest()[:16]
    return (f"bridge-manifest-{digest}.json", data, "application/json")


def _size(count: int) -> str:
    value = float(count)
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{count} bytes"


def _with_event(new: NewTicket, event_id: str) -> NewTicket:
    from dataclasses import replace

    return replace(new, event_id=event_id)


def _replace(ticket: Ticket, **changes: Any) -> Ticket:
    from dataclasses import replace

    return replace(ticket, **changes)


__all__ = ["BridgeError", "JiraTracker", "build", "evidence_filename", "label"]
