"""Jira Cloud and Jira Data Center behind the ``Tracker`` protocol.

The tracker is assembled from four parts, each one idea:

- ``session``: authentication, requests, retries, error mapping, search paging;
- ``setup``: what the project must offer, checked once per run before the first write;
- ``fields``: issue JSON to ``Ticket`` and ``NewTicket`` to create bodies (what is stored
  where on an ordinary Jira issue);
- ``evidence``: attachments named by content hash, uploaded together, never twice;

plus ``markup`` (the description) and ``jql`` (queries built from data).
``deployment = "auto"`` means Cloud for ``*.atlassian.net`` / ``*.jira.com`` and otherwise asks
``/serverInfo`` once.

Round trips. Issue types, link types and permissions are checked once per run, before the first
write (three GETs); misconfiguration is one ``ConfigError`` listing every problem. Upload limits
come from ``/attachment/meta`` once. After that: a search per lookup (exactly the fields needed,
100 per page), one POST per create (already linked, no re-GET), per attach one PUT of the
evidence index and one multipart POST (plus one GET of the ticket's attachments unless this run
created the ticket or read it); nothing at all when the ticket already holds every file. A remote
link is one POST plus, when the ticket's data block does not record it yet, one PUT of the
description (so that search pages, which cannot return remote links, carry it).

Memory. ``scan`` and ``defects`` stream: nothing is kept per ticket they yield. Only tickets this
run created or read one by one are remembered (``evidence``, bounded).

Failures. Connection errors, timeouts, 429, 503 and other 5xx are retried within
``max_retry_wait`` seconds, honouring ``Retry-After``; a create, attachment, transition or
comment whose response was lost is looked up before it is re-sent.
"""

from __future__ import annotations

import itertools
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from tracker_bridge.domain.conventions import Conventions, is_observation_title, normalize
from tracker_bridge.domain.tickets import (
    EvidenceFile,
    EvidenceRef,
    Kind,
    NewTicket,
    RemoteLink,
    Ticket,
    Tree,
)
from tracker_bridge.errors import (
    BridgeError,
    ConfigError,
    NotFoundError,
    TrackerRefused,
    UsageError,
)
from tracker_bridge.trackers.base import UNVERIFIED, Capabilities, Finding
from tracker_bridge.trackers.jira import doctor, fields, jql, markup, setup
from tracker_bridge.trackers.jira.edits import IssueEditor
from tracker_bridge.trackers.jira.evidence import EvidenceStore, evidence_filename
from tracker_bridge.trackers.jira.fields import label
from tracker_bridge.trackers.jira.session import PAGE_SIZE, JiraSession, path
from tracker_bridge.trackers.jira.setup import ProjectSetup

if TYPE_CHECKING:
    from tracker_bridge.settings import TrackerSettings

FINGERPRINT_PAGE = 20
"""Matches one lookup (fingerprint, event marker) reads and checks: a correct site returns one or
a few; a site that ignores the clause returns others first, which are checked out."""


def build(settings: TrackerSettings, conventions: Conventions) -> JiraTracker:
    """The Jira tracker described by ``[tracker]`` and ``[conventions]``."""
    tracker = settings
    if not tracker.url:
        raise ConfigError(
            "[tracker] url is empty.",
            hint="Set it to the Jira site, e.g. https://example.atlassian.net.",
        )
    return JiraTracker(
        url=tracker.url,
        project=tracker.project,
        conventions=conventions,
        deployment=tracker.deployment,
        email=tracker.email,
        token=tracker.secret(),
        timeout=tracker.timeout,
        max_retry_wait=tracker.max_retry_wait,
        search_lag=tracker.lag(),
    )


class JiraTracker:
    """A Jira project (Cloud or Data Center) as a ``Tracker``."""

    markup = "jira-wiki"
    """What descriptions and comments are written in (REST v2): data is escaped for it."""

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
        search_lag: float = 0.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        """Connect lazily: nothing is sent until the first call.

        ``search_lag``: seconds a write may take to show in JQL searches (Jira Cloud: seconds);
        a create that got no answer is looked for that long before it counts as not made.
        """
        self._session = JiraSession(
            url=url,
            deployment=deployment,
            email=email,
            token=token,
            timeout=timeout,
            max_retry_wait=max_retry_wait,
            search_lag=search_lag,
            sleep=sleep,
        )
        self._timeout = timeout
        self.url = self._session.url
        self.project = project
        self.conventions = conventions
        self.name = f"jira:{project}@{self._session.host or self.url}"
        self._setup = ProjectSetup(self._session, project, conventions)
        self._evidence = EvidenceStore(
            self._session,
            lambda: self._setup.check(needs=("CREATE_ATTACHMENTS", "EDIT_ISSUES")),
        )
        self._edits = IssueEditor(self._session, conventions, setup=self._setup, read=self.get)
        self._created: dict[str, Ticket] = {}

    def check_setup(self, *, explicit_type: str = "") -> None:
        """Check project, issue types, link type and permissions once; raise one ``ConfigError``.

        With ``explicit_type`` (a team's own issue type for delegated work), the conventional
        issue types need not exist in this project; that one must.
        """
        self._setup.check(explicit_type=explicit_type)

    def diagnose(self, *, issue_type: str = "") -> list[Finding]:
        """What works on this site and what does not (``bridge doctor``); reads only."""
        return doctor.diagnose(
            self._session, self._setup, self.conventions, self.project, issue_type=issue_type
        )

    def degradations(self) -> dict[str, str]:
        """What this site does not answer (by endpoint) and what that costs, found so far."""
        found = dict(self._setup.degraded)
        if self._session.search_by_get:
            found["search"] = "POST /search is refused: searches use GET (long queries may fail)"
        if self._session.server_info_missing:
            found["serverInfo"] = "the deployment is unknown: Data Center was assumed"
        return found

    def capabilities(self) -> Capabilities:
        """Upload limit from ``/attachment/meta`` (asked once; None when the site hides it); how
        soon a write is searchable."""
        return replace(
            self._setup.capabilities(),
            search_lag=self._session.search_lag,
            write_timeout=self._timeout,
        )

    def close(self) -> None:
        """Close the HTTP session."""
        self._session.close()

    # -- reading ---------------------------------------------------------------------------

    def get(self, key: str) -> Ticket:
        """One ticket, with its full message even when it went to an attachment."""
        raw = self._session.get(
            f"issue/{path(key)}",
            f"reading {key}",
            params={"fields": ",".join(fields.FIELDS)},
            not_found=key,
        )
        ticket = self._ticket(raw, remember=True)
        remote = self._remote_links(key)
        if remote is not None:
            # the remote links themselves are the truth; the data block's copy is for search pages
            ticket = replace(ticket, links=tuple(fields.remote_link(r) for r in remote))
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
            full = self._session.download(content, f"reading the full message of {key}")
            ticket = replace(ticket, message=full.decode("utf-8", "replace"))
        return ticket

    def _remote_links(self, key: str) -> list[dict[str, Any]] | None:
        """The remote links of ``key``; None where the site hides them (the data block's copy
        then stands in)."""
        try:
            remote = self._session.get(
                f"issue/{path(key)}/remotelink", f"reading the links of {key}"
            )
        except (NotFoundError, TrackerRefused) as exc:
            if isinstance(exc, TrackerRefused) and exc.status != 403:
                raise
            self._setup.degraded["remotelink"] = (
                "remote links cannot be read or made: links to other sites come from the "
                "bridge's own record, and delegating to another site cannot link back"
            )
            return None
        return list(remote or ())

    def tree(self, key: str) -> Tree:
        """The ticket, its children and related tickets: two requests (plus pages).

        What the search returns is checked: a site that ignores ``linkedIssues`` answers the
        whole project, so only tickets really linked to ``key`` (or parented by it) are kept.
        """
        ticket = self.get(key)
        query = f"issue in linkedIssues({jql.quote(key)}) OR parent = {jql.quote(key)}"
        observations, remediations, related = [], [], []
        for raw in self._session.search(
            f"{query} ORDER BY created ASC", fields.FIELDS, what=f"reading the tree of {key}"
        ):
            if not fields.links_to(raw, key):
                continue
            other = self._ticket(raw, remember=True)
            if other.parent == key and other.kind is Kind.OBSERVATION:
                observations.append(other)
            elif other.parent == key and other.kind is Kind.REMEDIATION:
                remediations.append(other)
            else:
                related.append(other)
        return Tree(ticket, tuple(observations), tuple(remediations), tuple(related))

    def find_by_fingerprint(self, fingerprint: str) -> Ticket | None:
        """The defect labelled with this fingerprint, an open one first, else the newest: one
        search request.

        ``created`` alone cannot order them (a site may give every issue the same timestamp):
        among a page of matches an open defect wins, then the highest issue number.
        """
        conv = self.conventions
        query = self._in_project(
            jql.equals("labels", conv.defect_label),
            jql.equals("labels", conv.fingerprint_label(fingerprint)),
        )
        found = list(
            itertools.islice(
                self._search(
                    f"{query} ORDER BY created DESC",
                    what="looking up a fingerprint",
                    page_size=FINGERPRINT_PAGE,
                    remember=True,
                ),
                FINGERPRINT_PAGE,
            )
        )
        return preferred(
            [t for t in found if t.kind is Kind.DEFECT and fingerprint in t.fingerprints]
        )

    def find_by_event(self, event_id: str) -> Ticket | None:
        """The ticket labelled with this event's idempotency marker: one search request."""
        if event_id in self._created:
            return self._created[event_id]
        marker = label(self.conventions.event_label(event_id))
        query = self._in_project(jql.equals("labels", marker))
        # checked: a site that ignored the clause must not pass another ticket off as this
        # event, nor hide it behind others (one page of a few, one request either way)
        found = self._search(
            f"{query} ORDER BY created ASC",
            what="looking up an event id",
            page_size=FINGERPRINT_PAGE,
            remember=True,
        )
        return next(
            (t for t in itertools.islice(found, FINGERPRINT_PAGE) if marker in t.labels), None
        )

    def marked_defects(self, fingerprint: str) -> list[Ticket]:
        """Every defect labelled with this fingerprint (closed ones too), oldest first: one
        search request (a fingerprint carried by more than a page of defects is not looked at
        past it)."""
        conv = self.conventions
        query = self._in_project(
            jql.equals("labels", conv.defect_label),
            jql.equals("labels", conv.fingerprint_label(fingerprint)),
        )
        found = self._search(
            f"{query} ORDER BY created ASC", what="looking up a fingerprint", remember=True
        )
        # checked: a site may ignore the label clauses and answer with other tickets
        return [
            t
            for t in itertools.islice(found, PAGE_SIZE)
            if t.kind is Kind.DEFECT and fingerprint in t.fingerprints
        ]

    def defects(self) -> Iterator[Ticket]:
        """Every defect in the project, 100 per request; nothing is kept per defect."""
        query = self._in_project(jql.equals("labels", self.conventions.defect_label))
        found = self._search(f"{query} ORDER BY created DESC", what="listing defects")
        return (t for t in found if t.kind is Kind.DEFECT)

    def scan(self, title_prefix: str) -> Iterator[Ticket]:
        """Marked tickets and tickets titled like observations, page by page, no extra requests.

        Titles are found by their words, not a phrase (some sites find nothing for a phrase with
        escaped quotes) and checked here. Streams with flat memory: nothing is remembered per ticket. Remote links come from the
        data block's copy (search cannot return remote links).
        """
        conv = self.conventions
        marked = jql.one_of(
            "labels", [conv.defect_label, conv.observation_label, conv.remediation_label]
        )
        titled = jql.contains_words("summary", title_prefix)
        query = f"{jql.equals('project', self.project)} AND ({marked} OR {titled}) ORDER BY key ASC"
        for ticket in self._search(query, what="scanning the project"):
            if ticket.kind is not None or is_observation_title(ticket.title, title_prefix):
                yield ticket

    def _in_project(self, *clauses: str) -> str:
        return " AND ".join([jql.equals("project", self.project), *clauses])

    def _first(self, query: str, what: str) -> Ticket | None:
        for ticket in self._search(query, what=what, page_size=1, remember=True):
            return ticket
        return None

    def _search(
        self, query: str, *, what: str, page_size: int = PAGE_SIZE, remember: bool = False
    ) -> Iterator[Ticket]:
        """Tickets page by page; ``remember`` keeps what they hold (only for bounded lookups)."""
        try:
            for raw in self._session.search(query, fields.FIELDS, what=what, page_size=page_size):
                yield self._ticket(raw, remember=remember)
        except TrackerRefused as exc:
            if exc.status == 400 and "project" in exc.message:
                self.check_setup()  # a clearer error when the project itself is wrong
            raise

    def _ticket(self, raw: Mapping[str, Any], *, remember: bool) -> Ticket:
        issue_fields = raw.get("fields") or {}
        if remember:
            key = str(raw["key"])
            self._evidence.remember(key, issue_fields.get("attachment") or [], issue_fields)
        return fields.ticket(raw, self.conventions, self.url)

    # -- creating --------------------------------------------------------------------------

    def create(self, new: NewTicket) -> Ticket:
        """One POST, already linked; a lost response is looked up by its marker, not re-sent.

        ``new.links`` are recorded in the data block of that POST; the remote links themselves
        follow (one POST each, no PUT).
        """
        if new.event_id and new.event_id in self._created:
            return self._created[new.event_id]
        self._setup.check(explicit_type=new.issue_type, linked=_linked(new))
        for ref in (new.parent, new.related):
            if ref is not None and not fields.is_key(ref):
                raise NotFoundError(f"{ref!r} is not a Jira issue key.")
        event_id = new.event_id or uuid.uuid4().hex
        body, rendered = fields.create_body(
            new,
            event_id,
            conventions=self.conventions,
            project=self.project,
            project_id=self._setup.project_id,
            type_ids=self._setup.type_ids,
        )
        sent = body["fields"]
        what = f"creating {new.kind.value} {sent['summary']!r} in {self.project}"

        def send() -> Ticket:
            answer = self._session.request(
                "POST", "issue", what=what, body=body, permission="CREATE_ISSUES"
            )
            made_in = fields.project_of(str(answer["key"]))
            if made_in != self.project.upper():
                raise TrackerRefused(
                    f"{what}: Jira created {answer['key']} in project {made_in}, not "
                    f"{self.project}; the site ignores the project asked for (a plugin or "
                    "default project). Nothing more was written to it.",
                    hint=f"Move or delete {answer['key']} in Jira, and ask a Jira admin why "
                    f"creates in {self.project} land elsewhere.",
                    url=self.url,
                )
            return fields.made(
                new,
                str(answer["key"]),
                sent,
                event_id,
                conventions=self.conventions,
                site=self.url,
            )

        ticket = self._session.call(
            what, send, recover=lambda: self._find_event_fresh(event_id), searched=True
        )
        self._created[event_id] = ticket
        self._evidence.created(ticket.key, rendered.text)
        if rendered.overflow is not None:
            self._evidence.upload(
                ticket.key,
                [(markup.MESSAGE_FILE, rendered.overflow.encode("utf-8"), "text/plain")],
                f"storing the full message of {ticket.key}",
                lambda stored: markup.MESSAGE_FILE in stored,
            )
        for link in new.links:
            self.link_remote(ticket.key, link)
        return ticket

    def _find_event_fresh(self, event_id: str) -> Ticket | None:
        query = self._in_project(jql.equals("labels", self.conventions.event_label(event_id)))
        what = "checking whether the create landed"
        marker = label(self.conventions.event_label(event_id))
        for raw in self._session.search_once(query, fields.FIELDS, what, FINGERPRINT_PAGE):
            found = self._ticket(raw, remember=True)
            if marker in found.labels:
                return found
        return None

    def validate(self, new: NewTicket) -> tuple[str, ...]:
        """What Jira would refuse about ``new``, found with reads only (for ``--dry-run``).

        Besides the set-up, the project's create screen for the ticket's issue type is read: a
        required field the ticket would not set, a field not on the screen, or a value outside
        a field's allowed values is a problem, as Jira would refuse the create for it.
        """
        problems = self._setup.problems(explicit_type=new.issue_type, linked=_linked(new))
        if not normalize(new.title):
            problems.append("the title is empty")
        type_name = fields.issue_type(new, self.conventions)
        body, _ = fields.create_body(
            new,
            new.event_id or "dry-run",
            conventions=self.conventions,
            project=self.project,
            project_id=self._setup.project_id,
            type_ids=self._setup.type_ids,
        )
        if not problems:
            screen = self._setup.screen(type_name)
            if screen is None:
                problems.append(
                    f"{UNVERIFIED}the required fields of {type_name} in {self.project} could not "
                    "be verified on this site (it does not publish create screens); Jira decides "
                    "at the create"
                )
            else:
                problems += setup.screen_problems(body, screen, f"{self.project}/{type_name}")
        for ref in (new.parent, new.related):
            if ref is None:
                continue
            if not fields.is_key(ref):
                problems.append(f"{ref!r} is not a Jira issue key")
                continue
            try:
                self._session.get(
                    f"issue/{path(ref)}",
                    f"reading {ref}",
                    params={"fields": "summary"},
                    not_found=ref,
                )
            except NotFoundError:
                problems.append(f"{ref} does not exist (or this account cannot see it)")
        return tuple(problems)

    # -- changing --------------------------------------------------------------------------

    def attach(self, key: str, files: Sequence[EvidenceFile]) -> list[EvidenceRef]:
        """All new files in one multipart request; content already on the ticket is skipped.

        Where the site does not tell its upload limit, the upload's own 413 decides: the files
        are sent once more gzip-compressed, and refused clearly if Jira still says no.
        """
        limit = self.capabilities().upload_limit
        try:
            return self._evidence.attach(key, files, limit)
        except TrackerRefused as exc:
            if exc.status != 413 or limit is not None:
                raise
        packed = [f.gzipped() for f in files]
        try:
            return self._evidence.attach(key, packed, limit)
        except TrackerRefused as exc:
            if exc.status != 413:
                raise
            raise UsageError(
                f"{self._session.url} refused the evidence for {key} as too large (413), even "
                "gzip-compressed; nothing more was uploaded.",
                hint="Attach an excerpt, or split the file.",
            ) from exc

    def fetch_evidence(self, key: str, ref: EvidenceRef) -> bytes:
        """The bytes of one attachment: one GET (plus one to find it if ``ref`` has no URL)."""
        return self._evidence.fetch(key, ref)

    def replace_attachment(self, key: str, file: EvidenceFile) -> EvidenceRef:
        """Upload ``file``, then delete the older attachments of its name; the same content
        again sends nothing (``ReplacesAttachments``)."""
        return self._evidence.replace(key, file, lambda: self.capabilities().upload_limit)

    def link_remote(self, key: str, link: RemoteLink) -> None:
        """One POST to ``/remotelink`` (``globalId`` makes it an upsert, so retries are safe),
        then the link recorded in the data block (one PUT, none when it is there already).

        The copy in the data block is what ``scan`` and the other searches see, as Jira search
        cannot return remote links. Without permission to edit the ticket the copy is skipped:
        the remote link stands, and ``get`` shows it.
        """
        self._setup.check(needs=("LINK_ISSUES",))
        what = f"linking {key} to {link.url}"
        try:
            self._session.send(
                "POST",
                f"issue/{path(key)}/remotelink",
                what,
                body=fields.remote_link_body(link),
                not_found=key,
                permission="LINK_ISSUES",
            )
        except TrackerRefused as exc:
            if exc.status not in (403, 404, 405):
                raise
            raise TrackerRefused(
                f"{what}: this Jira site does not allow remote links (HTTP {exc.status}); "
                f"{key} is not linked to {link.url}. Everything else was recorded.",
                hint="Ask a Jira admin to allow remote links (Link Issues permission, remote "
                "links enabled), or delegate to a team on this same site.",
                status=exc.status,
                url=self.url,
            ) from exc
        try:
            self._evidence.rewrite_description(
                key, lambda text: markup.with_link(text, link), f"recording the link: {what}"
            )
        except TrackerRefused as exc:
            if exc.status != 403:
                raise

    def add_fingerprint(self, key: str, fingerprint: str) -> None:
        """Add the fingerprint label (idempotent, one PUT)."""
        self._edits.add_fingerprint(key, fingerprint)

    def remove_fingerprint(self, key: str, fingerprint: str) -> None:
        """Remove the fingerprint label (idempotent, one PUT)."""
        self._edits.remove_fingerprint(key, fingerprint)

    def retitle(self, key: str, title: str) -> None:
        """One PUT of the summary (clipped to 255, line breaks removed); repeating it is harmless."""
        self._edits.retitle(key, title)

    def set_parent(self, key: str, parent: str) -> None:
        """Put ``key`` under ``parent`` the way the configured link style does, letting go of an
        earlier parent: one GET, then one PUT or one POST plus a DELETE per old parent link."""
        self._edits.set_parent(key, parent)

    def reopen(self, key: str) -> None:
        """Apply ``[conventions] reopen_transition`` (by name); a no-op when not done.

        A duplicate or a defect finalised without remediation stops being one: its record in the
        description is cleared (one PUT, none when there is nothing to clear).
        """
        self._edits.reopen(key)
        self._evidence.rewrite_description(
            key,
            _cleared,
            f"clearing the resolution record of {key}",
        )

    def resolve(self, key: str, *, without_remediation: str = "") -> None:
        """Apply the first transition into a Done-category status; a no-op when done.

        ``without_remediation`` is recorded in the description's data block first (one PUT).
        """
        if without_remediation:
            self._setup.check(needs=("EDIT_ISSUES",))
            self._evidence.rewrite_description(
                key,
                lambda text: markup.with_entries(text, without_remediation=without_remediation),
                f"recording why {key} has no remediation",
            )
        self._edits.resolve(key)

    def mark_duplicate(self, key: str, of: str) -> None:
        """Record ``duplicate_of`` in the data block (one PUT), link ``key`` to ``of`` with the
        site's duplicate link type where it has one (one POST), then resolve ``key``."""
        if not fields.is_key(of):
            raise NotFoundError(f"{of!r} is not a Jira issue key.")
        self._setup.check(needs=("EDIT_ISSUES",))
        self._evidence.rewrite_description(
            key,
            lambda text: markup.with_entries(text, duplicate_of=of),
            f"recording {key} as a duplicate of {of}",
        )
        self._edits.link_duplicate(key, of)
        self._edits.resolve(key)

    def comment(self, key: str, text: str) -> None:
        """One POST; a lost response is checked against the latest comments before re-sending."""
        self._edits.comment(key, text)


def _cleared(text: str | None) -> str | None:
    data = markup.parse(text).data
    if not data.get("duplicate_of") and not data.get("without_remediation"):
        return None
    return markup.with_entries(text, duplicate_of=None, without_remediation=None)


def preferred(found: Sequence[Ticket]) -> Ticket | None:
    """Among defects sharing a fingerprint: an open one first, then the highest issue number."""
    if not found:
        return None
    return max(found, key=lambda t: (not t.is_done, _number(t.key)))


def _number(key: str) -> int:
    tail = key.rsplit("-", 1)[-1]
    return int(tail) if tail.isdigit() else -1


def _linked(new: NewTicket) -> bool:
    """Whether creating ``new`` makes an issue link on this site (to its parent or a relative)."""
    return new.related is not None or (new.parent is not None and new.kind is not Kind.DEFECT)


__all__ = ["BridgeError", "JiraTracker", "build", "evidence_filename", "label"]
