"""GitHub Issues as a tracker (github.com, or GitHub Enterprise Server through its API base URL).

Keys are ``owner/repo#number`` (``#12`` alone would start a shell comment); ``get`` and friends
also accept ``#12`` and ``12`` for the configured repository. ``docs/github.md`` tells the design;
in short, labels carry what must be *found* by listing, never by the search API (kind,
``bridge-fp-<fingerprint>``, the idempotency marker ``bridge-ev-<hash>``, ``bridge-parent-<n>``,
``bridge-related-<n>``; at most 50 characters), and the body's hidden record carries the rest, so
``scan`` and ``tree`` read everything from the issues listing with no request per issue.

This module is the ``Tracker`` facade; each of the others is one idea:

- ``client``: the one request path (PyGithub's requester with its retries and sleeps off,
  our retries honouring ``Retry-After``/``x-ratelimit-reset``, error translation, round trips);
- ``issues``: issue requests and the issue JSON remembered for the run;
- ``mapping``: issue JSON <-> ``Ticket``, keys, labels, titles (pure);
- ``body``: body layout, the hidden record, GitHub's size limits (pure);
- ``marks``: issue types, kind label styling, labels and types GitHub silently dropped;
- ``parents``: parent label, body reference and sub-issue (the 100 cap), ``set_parent``;
- ``evidence``: evidence comments (pure); ``branch``: the evidence branch.

A create whose answer was lost is looked up by its event label before it is sent again, a comment
by its hidden marker; defect lookups by fingerprint and event are remembered for the run.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from tracker_bridge.domain.conventions import Conventions, is_observation_title
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
from tracker_bridge.trackers.base import Capabilities, Finding
from tracker_bridge.trackers.github import body as gb
from tracker_bridge.trackers.github import doctor
from tracker_bridge.trackers.github import evidence as ge
from tracker_bridge.trackers.github import graphql as gq
from tracker_bridge.trackers.github.branch import EvidenceBranch, report_path
from tracker_bridge.trackers.github.client import GitHubClient
from tracker_bridge.trackers.github.issues import IssueStore
from tracker_bridge.trackers.github.mapping import (
    LABEL_LIMIT,
    PARENT_PREFIX,
    RELATED_PREFIX,
    TITLE_LIMIT,
    IssueMapper,
    clean_title,
    label_name,
    link_json,
)
from tracker_bridge.trackers.github.marks import Marks
from tracker_bridge.trackers.github.parents import SUB_ISSUE_LIMIT, Parents

if TYPE_CHECKING:
    from tracker_bridge.settings import TrackerSettings

__all__ = ["DEFAULT_API", "SUB_ISSUE_LIMIT", "UPLOAD_LIMIT", "GitHubTracker", "build"]

DEFAULT_API = "https://api.github.com"
UPLOAD_LIMIT = 100 * 1024 * 1024


def build(settings: TrackerSettings, conventions: Conventions) -> GitHubTracker:
    """The GitHub tracker for ``[tracker] repository`` at ``[tracker] url`` (default github.com)."""
    conf = settings
    token = conf.secret()
    if not conf.repository or conf.repository.count("/") != 1:
        raise ConfigError(
            "[tracker] repository must be OWNER/NAME for kind = github.",
            hint='Set e.g. repository = "acme/ops" in bridge.toml or BRIDGE_TRACKER__REPOSITORY.',
        )
    if not token:
        raise ConfigError(
            "no GitHub token: set BRIDGE_TRACKER__TOKEN or [tracker] token_file.",
            hint="Use a token with Issues read/write (and Contents write for binary evidence).",
        )
    return GitHubTracker(
        repository=conf.repository,
        token=token,
        base_url=conf.url or DEFAULT_API,
        conventions=conventions,
        timeout=conf.timeout,
        max_retry_wait=conf.max_retry_wait,
        search_lag=conf.lag(),
        evidence_repository=conf.evidence_repository or conf.repository,
        evidence_branch=conf.evidence_branch,
        issue_types=conf.issue_types,
    )


class GitHubTracker:
    """The ``Tracker`` protocol on one GitHub repository."""

    markup = "github-markdown"
    """What bodies and comments are written in: data is escaped for it."""

    def __init__(
        self,
        *,
        repository: str,
        token: str,
        base_url: str = DEFAULT_API,
        conventions: Conventions | None = None,
        timeout: float = 30.0,
        max_retry_wait: float = 120.0,
        evidence_repository: str = "",
        evidence_branch: str = "bridge-evidence",
        issue_types: bool = True,
        search_lag: float = 0.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.conventions = conventions or Conventions()
        self._timeout = timeout
        self._map = IssueMapper(repository, self.conventions)
        for label in self._map.kind_labels().values():
            if len(label) > LABEL_LIMIT:
                raise ConfigError(
                    f"label {label!r} is longer than GitHub's {LABEL_LIMIT} characters."
                )
        self.repository = repository
        self.name = f"github:{repository}"
        self._client = GitHubClient(
            base_url,
            token,
            timeout=timeout,
            budget=max_retry_wait,
            search_lag=search_lag,
            sleep=sleep,
        )
        self._issues = IssueStore(self._client, self._map)
        self._marks = Marks(
            self._client, self._issues, self._map, self.conventions, use_types=issue_types
        )
        self._parents = Parents(self._client, self._issues, self._map, self.conventions)
        self._branch = EvidenceBranch(
            self._client,
            repository=evidence_repository or repository,
            branch=evidence_branch,
            html_root=self._issues.html_root,
        )
        self._doctor = (evidence_repository or repository, evidence_branch, issue_types)
        self._by_fingerprint: dict[str, int | None] = {}
        self._by_event: dict[str, int | None] = {}
        self._unlinked: dict[int, tuple[dict[str, Any], dict[str, Any]]] = {}
        """Sub-issue links ``create`` held back, by child number: (parent, child) issue JSON."""

    @property
    def round_trips(self) -> int:
        """HTTP requests sent so far, retries included."""
        return self._client.round_trips

    # -- reading --------------------------------------------------------------------------------

    def diagnose(self, *, issue_type: str = "") -> list[Finding]:
        """What works on this repository and what does not (``bridge doctor``); reads only."""
        evidence_repository, branch, use_types = self._doctor
        return doctor.diagnose(
            self._client,
            self._map,
            self.conventions,
            issue_type=issue_type,
            use_types=use_types,
            evidence_repository=evidence_repository,
            evidence_branch=branch,
        )

    def capabilities(self) -> Capabilities:
        """GitHub's limits: titles kept to 255 for portability, labels to 50, files to 100 MB."""
        return Capabilities(
            upload_limit=UPLOAD_LIMIT,
            title_limit=TITLE_LIMIT,
            label_limit=LABEL_LIMIT,
            search_lag=self._client.search_lag,
            write_timeout=self._timeout,
        )

    def get(self, key: str) -> Ticket:
        """One issue, read fresh; over-long fields are joined back from their part comments."""
        return self._issues.ticket(self._issues.fetch(self._map.number(key)))

    def tree(self, key: str) -> Tree:
        """A ticket, its children (by parent label, past the sub-issue cap too; oldest first, as
        on every tracker) and related ones."""
        number = self._map.number(key)
        issue = self._issues.fetch(number)
        ticket = self._issues.ticket(issue)
        oldest_first = {"state": "all", "sort": "created", "direction": "asc"}
        children = [
            self._map.ticket(i)
            for i in self._issues.list({"labels": f"{PARENT_PREFIX}{number}", **oldest_first})
            if i["number"] != number
        ]
        related: dict[str, Ticket] = {}
        block = gb.load_block(issue.get("body"))
        if isinstance(block.get("related"), str):
            try:
                found = self.get(block["related"])
                related[found.key] = found
            except NotFoundError:
                pass
        for other in self._issues.list({"labels": f"{RELATED_PREFIX}{number}", **oldest_first}):
            found = self._map.ticket(other)
            related.setdefault(found.key, found)
        return Tree(
            ticket=ticket,
            observations=tuple(c for c in children if c.kind is Kind.OBSERVATION),
            remediations=tuple(c for c in children if c.kind is Kind.REMEDIATION),
            related=tuple(related.values()),
        )

    def find_by_fingerprint(self, fingerprint: str) -> Ticket | None:
        """The newest defect labelled with this fingerprint: one listing request, cached per run."""
        if fingerprint not in self._by_fingerprint:
            label = self._map.label(self.conventions.fingerprint_label(fingerprint))
            params = {
                "labels": f"{self.conventions.defect_label},{label}",
                "state": "all",
                "sort": "created",
                "direction": "desc",
            }
            first = next(iter(self._issues.list(params, pages=1)), None)
            if first is not None:
                self._issues.remember(first)
            self._by_fingerprint[fingerprint] = None if first is None else first["number"]
        return self._known(self._by_fingerprint[fingerprint])

    def marked_defects(self, fingerprint: str) -> list[Ticket]:
        """Every defect labelled with this fingerprint (closed ones too), oldest first: one
        listing request, never cached (another machine may have made one since)."""
        label = self._map.label(self.conventions.fingerprint_label(fingerprint))
        params = {
            "labels": f"{self.conventions.defect_label},{label}",
            "state": "all",
            "sort": "created",
            "direction": "asc",
        }
        found = []
        for issue in self._issues.list(params, pages=1):
            ticket = self._map.ticket(issue)
            if ticket.kind is Kind.DEFECT and fingerprint in ticket.fingerprints:
                self._issues.remember(issue)
                found.append(ticket)
        return found

    def defects(self) -> Iterator[Ticket]:
        """Every defect, streamed 100 per page (and remembered for fingerprint lookups)."""
        for issue in self._issues.list({"labels": self.conventions.defect_label, "state": "all"}):
            ticket = self._map.ticket(issue)
            for fingerprint in ticket.fingerprints:
                if fingerprint not in self._by_fingerprint:
                    self._by_fingerprint[fingerprint] = issue["number"]
                    self._issues.remember(issue)
            yield ticket

    def find_by_event(self, event_id: str) -> Ticket | None:
        """The issue carrying this event's idempotency label, if any (remembered per run)."""
        if event_id not in self._by_event:
            label = self._map.label(self.conventions.event_label(event_id))
            issue = self._issues.find_marked(label)
            self._by_event[event_id] = None if issue is None else issue["number"]
        return self._known(self._by_event[event_id])

    def scan(self, title_prefix: str) -> Iterator[Ticket]:
        """Marked issues and unmarked ones titled like observations, one listing, 100 per page."""
        kinds = {label.lower() for label in self._map.kind_labels().values()}
        for issue in self._issues.list({"state": "all", "sort": "created", "direction": "asc"}):
            names = {label_name(x).lower() for x in issue.get("labels", [])}
            marked = bool(names & kinds) or bool(gb.load_block(issue.get("body")).get("kind"))
            if marked or is_observation_title(issue.get("title", ""), title_prefix):
                yield self._map.ticket(issue)

    def validate(self, new: NewTicket) -> tuple[str, ...]:
        """What ``create`` would refuse: reads the parent and the issue types, creates nothing."""
        problems: list[str] = []
        if not " ".join(new.title.split()):
            problems.append("the title is empty")
        if new.parent:
            try:
                self._issues.cached(self._map.number(new.parent))
            except NotFoundError:
                problems.append(f"parent {new.parent} does not exist in {self.repository}")
        try:
            self._marks.type_for(new)
        except TrackerRefused as exc:
            problems.append(exc.message)
        problems.extend(
            f"GitHub issues have no field {name!r} (only labels, type and body)"
            for name, _ in new.fields
        )
        return tuple(problems)

    def fetch_evidence(self, key: str, ref: EvidenceRef) -> bytes:
        """The bytes of one piece of evidence: from the evidence branch when it links there (one
        request, two over 1 MB), else from its comments (one listing), else from the branch."""
        number = self._map.number(key)
        if self._branch.holds(ref):
            stored = self._branch.read(ref)
            if stored is not None:
                return stored
        bodies = (str(c.get("body", "")) for c in self._issues.comments(number))
        text = ge.find_inline(bodies, ref.sha256)
        if text is not None and hashlib.sha256(text.encode("utf-8")).hexdigest() == ref.sha256:
            return text.encode("utf-8")
        stored = self._branch.read(ref)
        if stored is not None:
            return stored
        raise NotFoundError(
            f"evidence {ref.name} ({ref.sha256[:12]}) is not stored on {self._map.key(number)}.",
            hint=f"Look for it in the {self._branch.branch} branch of {self._branch.repository}.",
        )

    # -- writing --------------------------------------------------------------------------------

    def create(self, new: NewTicket) -> Ticket:
        """Create an issue with its labels, type and body in one request, then link it.

        Idempotent on ``new.event_id``; a missing parent raises ``NotFoundError`` before anything
        is written.
        """
        if new.event_id:
            existing = self.find_by_event(new.event_id)
            if existing is not None:
                return existing
        if new.fields:
            names = ", ".join(name for name, _ in new.fields)
            raise UsageError(
                f"GitHub issues have no fields {names}: only labels, an issue type and the body.",
                hint="Remove 'fields' from this team's configuration, or use labels.",
            )
        title = self._map.title(new)
        parent = self._issues.cached(self._map.number(new.parent)) if new.parent else None
        related = self._map.number(new.related) if new.related else None
        marker = new.event_id or f"auto:{uuid.uuid4()}"
        event_label = self._map.label(self.conventions.event_label(marker))
        labels = self._map.labels_for(new, event_label, parent, related)
        block = self._map.block_for(new, marker, parent)
        if new.evidence:  # about to be attached: refuse now rather than leave it half-made
            issue_url = f"{self._issues.html_root()}/{self.repository}/issues/{'0' * 9}"
            self._check_index_room(
                f"the new {new.kind} {title!r}",
                block,
                [(ref, self._longest_url(ref, issue_url)) for ref in new.evidence],
            )
        rendered = gb.render_issue(block, new.description, self._map.short(parent))
        payload: dict[str, Any] = {"title": title, "body": rendered.body, "labels": labels}
        issue, issue_type = self._post_issue(new, payload, event_label)
        self._marks.check_kept(issue, labels, issue_type)
        self._issues.remember(issue)
        if new.event_id:
            self._by_event[new.event_id] = issue["number"]
        self._marks.style_labels(issue)
        for part in rendered.parts:
            self._issues.post_comment(issue["number"], part.render())
        if parent is not None and self._parents.uses_sub_issues:
            if new.evidence:
                # evidence follows (``attach``): the link rides in its request, one request less
                self._unlinked[issue["number"]] = (parent, issue)
            else:
                self._parents.link(parent, issue)
        if new.kind is Kind.DEFECT:
            for fingerprint in self._map.fingerprints_of(issue):
                self._by_fingerprint[fingerprint] = issue["number"]
        ticket = self._map.ticket(issue)
        if not rendered.parts:
            return ticket
        return replace(ticket, message=new.message, description=new.description)

    def _post_issue(
        self, new: NewTicket, payload: dict[str, Any], event_label: str
    ) -> tuple[dict[str, Any], str | None]:
        """POST the issue with its type by name; a type GitHub refuses (422) is dropped and the
        create sent once more, or refused when the team asked for it by name."""
        issue_type = self._marks.wanted(new)
        what = f"creating {new.kind} {payload['title']!r}"
        while True:
            body = {**payload, "type": issue_type} if issue_type else payload
            response = self._client.send(
                "POST",
                f"{self._issues.path}/issues",
                what=what,
                body=body,
                allow=(422,) if issue_type else (),
                recover=lambda: self._issues.find_marked(event_label),
                searched=True,
            )
            if response.status == 200:
                return response.data, issue_type
            if not _refuses_type(response.data):
                raise TrackerRefused(
                    f"{what}: GitHub refused (HTTP 422: {_messages(response.data)}).",
                    status=422,
                )
            refusal = self._marks.refused(new)
            if refusal is not None:
                raise refusal
            issue_type = None  # and from now on, for this run

    def _flush_links(self, only: int | None = None) -> None:
        """Send the sub-issue links ``create`` held back (all, or the one of issue ``only``)."""
        for number in [n for n in self._unlinked if only is None or n == only]:
            parent, child = self._unlinked.pop(number)
            self._parents.link(parent, child)

    def attach(self, key: str, files: Sequence[EvidenceFile]) -> list[EvidenceRef]:
        """Store evidence: text inline in comments, binaries in the evidence branch; index in body.

        Content the issue already holds is skipped without a request. ``UsageError`` before
        anything is sent when the index of the new files would not fit in the issue body.
        The comments, the rewritten index and a sub-issue link still held back from ``create``
        go in one GraphQL request; the index points at the issue (the comments' own URLs are
        not known before they exist), and ``fetch_evidence`` finds the text by its hash.
        """
        number = self._map.number(key)
        issue = self._issues.cached(number)
        block = gb.load_block(issue.get("body"))
        stored = {r.sha256: r for r in map(gb.ref_from_json, block.get("evidence", []))}
        fresh: list[EvidenceFile] = []
        for file in files:
            if file.sha256 not in stored and all(f.sha256 != file.sha256 for f in fresh):
                fresh.append(file)
        comment_url = f"{issue.get('html_url')}#issuecomment-{'0' * 12}"
        self._check_index_room(
            self._map.key(number),
            block,
            [
                (f.ref(), self._branch.url_for(f.ref()) if ge.needs_commit(f) else comment_url)
                for f in fresh
            ],
        )
        result: dict[str, EvidenceRef] = {}
        sections: list[tuple[str, str]] = []
        urls: dict[str, str] = {}
        for file in fresh:
            sha = file.sha256
            text = ge.as_text(file)
            if ge.needs_commit(file):
                urls[sha] = self._branch.store(file)
                shown = text if text is not None else ge.head_text(file)
                sections.append((sha, ge.linked_section(file.ref(urls[sha]), urls[sha], shown)))
            else:
                sections.extend((sha, s) for s in ge.inline_sections(file.ref(), text or ""))
        if fresh:
            batch = uuid.uuid4().hex[:16]
            bodies = [body for body, _ in ge.pack(sections, batch)]
            refs = [f.ref(urls.get(f.sha256) or str(issue.get("html_url", ""))) for f in fresh]
            result.update((r.sha256, r) for r in refs)
            block["evidence"] = [*block.get("evidence", []), *map(gb.ref_to_json, refs)]
            self._write_evidence(issue, bodies, block)
        else:
            self._flush_links(only=number)
        result.update((sha, ref) for sha, ref in stored.items() if sha not in result)
        return [result[f.sha256] for f in files]

    def _write_evidence(
        self, issue: dict[str, Any], bodies: list[str], block: dict[str, Any]
    ) -> None:
        """One GraphQL request: the held-back sub-issue link, the comments, the new index."""
        number = issue["number"]
        new_body = self._issues.render(issue, block)
        mutations: list[gq.Mutation] = []
        held = self._unlinked.pop(number, None)
        linking = held is not None and self._parents.has_room(held[0])
        if held is not None and linking:
            mutations.append(
                gq.Mutation(
                    "addSubIssue",
                    {"issueId": held[0]["node_id"], "subIssueId": issue["node_id"]},
                )
            )
        mutations += [
            gq.Mutation("addComment", {"subjectId": issue["node_id"], "body": b}) for b in bodies
        ]
        mutations.append(gq.Mutation("updateIssue", {"id": issue["node_id"], "body": new_body}))
        key = self._map.key(number)
        since = self._issues.since()

        def recover() -> gq.Answer | None:
            posted = {str(c.get("body", "")) for c in self._issues.comments_since(number, since)}
            if not all(b in posted for b in bodies):
                return None
            return gq.Answer(tuple({} for _ in mutations))

        answer = gq.run(self._client, mutations, what=f"storing evidence on {key}", recover=recover)
        first = 1 if linking else 0
        failed = {i: m for i, m in answer.errors.items() if i >= first}
        if failed:
            raise TrackerRefused(
                f"storing evidence on {key}: GitHub refused part of it "
                f"({'; '.join(failed.values())}).",
                hint="Run `bridge evidence add` again for the missing files; stored ones are "
                "skipped.",
            )
        if held is not None and linking:
            self._parents.linked(held[0], issue, ok=0 not in answer.errors)
        issue["body"] = new_body
        self._issues.remember(issue)

    def replace_attachment(self, key: str, file: EvidenceFile) -> EvidenceRef:
        """Keep ``file`` as the one file of its name on the issue (``ReplacesAttachments``).

        It is committed at a fixed path of the evidence branch, over its earlier version, and
        linked from the issue body (updated, never repeated): one PUT and one PATCH; none when
        the issue already holds this content under this name.
        """
        number = self._map.number(key)
        self._flush_links(only=number)
        issue = self._issues.cached(number)
        block = gb.load_block(issue.get("body"))
        entries = [e for e in block.get("evidence", []) if isinstance(e, dict)]
        same = [gb.ref_from_json(e) for e in entries if e.get("n") == file.name]
        if len(same) == 1 and same[0].sha256 == file.sha256:
            return same[0]
        others = [e for e in entries if e.get("n") != file.name]
        path = report_path(self.repository, number, file.name)
        self._check_index_room(
            self._map.key(number),
            {**block, "evidence": others},
            [(file.ref(), self._branch.url_at(path))],
        )
        reports = dict(block.get("reports") or {})
        url, blob = self._branch.replace(path, file, reports.get(file.name))
        ref = file.ref(url)
        block["evidence"] = [*others, gb.ref_to_json(ref)]
        block["reports"] = {**reports, file.name: blob}
        self._issues.rewrite(issue, block)
        return ref

    def link_remote(self, key: str, link: RemoteLink) -> None:
        """Record a link to a ticket elsewhere in the body; the same ``global_id`` replaces it."""
        issue = self._issues.cached(self._map.number(key))
        block = gb.load_block(issue.get("body"))
        if link_json(link) in block.get("links", []):
            return  # already there as asked: re-linking writes nothing
        links = [x for x in block.get("links", []) if x.get("gid") != link.global_id]
        block["links"] = [*links, link_json(link)]
        self._issues.rewrite(issue, block)

    def add_fingerprint(self, key: str, fingerprint: str) -> None:
        """Label the defect with another fingerprint (adding labels is idempotent)."""
        number = self._map.number(key)
        label = self._map.label(self.conventions.fingerprint_label(fingerprint))
        response = self._client.send(
            "POST",
            f"{self._issues.path}/issues/{number}/labels",
            what=f"labelling {self._map.key(number)}",
            body={"labels": [label]},
        )
        names = {label_name(x).lower() for x in response.data}
        if label.lower() not in names:
            raise self._marks.dropped(number, "labels")
        known = self._issues.remembered(number)
        if known is not None:
            known["labels"] = response.data
        self._by_fingerprint[fingerprint] = number

    def remove_fingerprint(self, key: str, fingerprint: str) -> None:
        """Remove the fingerprint label (one DELETE; a label already gone is success), and from
        the body's record when it was recorded there at create (one PATCH)."""
        number = self._map.number(key)
        issue = self._issues.cached(number)
        block = gb.load_block(issue.get("body"))
        if fingerprint in block.get("fingerprints", []):
            block["fingerprints"] = [x for x in block["fingerprints"] if x != fingerprint]
            self._issues.rewrite(issue, block)
        label = self._map.label(self.conventions.fingerprint_label(fingerprint))
        response = self._client.send(
            "DELETE",
            f"{self._issues.path}/issues/{number}/labels/{quote(label, safe='')}",
            what=f"removing fingerprint {fingerprint} from {self._map.key(number)}",
            allow=(404,),
        )
        known = self._issues.remembered(number)
        if known is not None and response.status == 200:
            known["labels"] = response.data
        if self._by_fingerprint.get(fingerprint) == number:
            del self._by_fingerprint[fingerprint]

    def reopen(self, key: str) -> None:
        """Open the issue again (PATCH state: idempotent); a duplicate or a defect finalised
        without remediation stops being one, in the same PATCH."""
        number = self._map.number(key)
        issue = self._issues.cached(number)
        block = gb.load_block(issue.get("body"))
        change: dict[str, Any] = {"state": "open"}
        if block.pop("duplicate_of", None) or block.pop("without_remediation", None):
            block.pop("without_remediation", None)
            change["body"] = self._issues.render(issue, block)
        self._issues.edit(number, change, what=f"reopening {self._map.key(number)}")

    def resolve(self, key: str, *, without_remediation: str = "") -> None:
        """Close the issue as completed (one PATCH); ``without_remediation`` goes into the
        body's record in the same PATCH."""
        number = self._map.number(key)
        change: dict[str, Any] = {"state": "closed", "state_reason": "completed"}
        if without_remediation:
            issue = self._issues.cached(number)
            block = gb.load_block(issue.get("body"))
            block["without_remediation"] = without_remediation
            change["body"] = self._issues.render(issue, block)
        self._issues.edit(number, change, what=f"closing {self._map.key(number)}")

    def mark_duplicate(self, key: str, of: str) -> None:
        """Close as a duplicate of ``of`` (state_reason ``duplicate``, GitHub's own link to the
        canonical issue), with ``duplicate_of`` in the body's record: one PATCH (plus a GET of
        ``of`` unless this run has read it). Idempotent."""
        number = self._map.number(key)
        survivor = self._issues.cached(self._map.number(of))
        issue = self._issues.cached(number)
        block = gb.load_block(issue.get("body"))
        if (
            issue.get("state") == "closed"
            and issue.get("state_reason") == "duplicate"
            and block.get("duplicate_of") == self._map.key(survivor["number"])
        ):
            return
        block["duplicate_of"] = self._map.key(survivor["number"])
        change: dict[str, Any] = {
            "state": "closed",
            "state_reason": "duplicate",
            "body": self._issues.render(issue, block),
        }
        if isinstance(survivor.get("id"), int):
            change["duplicate_issue_id"] = survivor["id"]
        self._issues.edit(
            number, change, what=f"closing {self._map.key(number)} as a duplicate of {of}"
        )

    def comment(self, key: str, text: str) -> None:
        """Add a comment; text beyond one body continues in further comments."""
        number = self._map.number(key)
        if not text.strip():
            raise UsageError("the comment is empty.")
        pieces = ge.chunks(text)
        for i, piece in enumerate(pieces, 1):
            suffix = f"\n\n(part {i} of {len(pieces)})" if len(pieces) > 1 else ""
            self._issues.post_comment(number, piece + suffix)

    def retitle(self, key: str, title: str) -> None:
        """One PATCH of the title (one line, clipped to 255); repeating it changes nothing.

        No read first: a PATCH to the current title is already a no-op on GitHub, and a title
        remembered from earlier in the run could be stale.
        """
        number = self._map.number(key)
        self._issues.edit(
            number, {"title": clean_title(title)}, what=f"retitling {self._map.key(number)}"
        )

    def set_parent(self, key: str, parent: str) -> None:
        """Tie ``key`` to defect ``parent`` as ``create`` does (label, body reference, sub-issue
        under the cap); a previous parent is let go. Idempotent; see ``parents``."""
        self._flush_links()
        self._parents.set_parent(self._map.number(key), self._map.number(parent))

    def close(self) -> None:
        """Send the sub-issue links still held back, then close PyGithub's connection pools.

        A link that cannot be sent now is let go: the parent label and the body's reference
        already tie the child (only GitHub's sub-issue view lacks it), and an error here would
        hide the one that ended the run.
        """
        try:
            self._flush_links()
        except BridgeError:
            self._unlinked.clear()
        finally:
            self._client.close()

    # -- internals ------------------------------------------------------------------------------

    def _check_index_room(
        self, what: str, block: dict[str, Any], planned: Sequence[tuple[EvidenceRef, str]]
    ) -> None:
        """Refuse, before anything is sent, evidence whose index would overflow the issue body.

        ``planned`` pairs each new record with the URL it will get (or one as long).
        """
        refs = [replace(ref, url=url) for ref, url in planned]
        room = gb.index_room(block, refs)
        if room < len(refs):
            raise UsageError(
                f"{what} can index only {room} more evidence file(s), not {len(refs)}: GitHub "
                f"keeps the bridge's evidence index in the issue body, at most "
                f"{gb.BODY_LIMIT:,} characters.",
                hint="Attach the files as one archive (e.g. tar czf logs.tgz logs/); "
                "nothing was uploaded.",
            )

    def _longest_url(self, ref: EvidenceRef, issue_url: str) -> str:
        """The longer of the URLs ``ref`` may get: a comment's, or the evidence branch's."""
        return max(f"{issue_url}#issuecomment-{'0' * 12}", self._branch.url_for(ref), key=len)

    def _known(self, number: int | None) -> Ticket | None:
        issue = None if number is None else self._issues.remembered(number)
        return None if issue is None else self._map.ticket(issue)


def _refuses_type(data: Any) -> bool:
    """Whether a 422 answer to a create names the issue type."""
    errors = data.get("errors", []) if isinstance(data, dict) else []
    return any(isinstance(e, dict) and e.get("field") == "type" for e in errors)


def _messages(data: Any) -> str:
    if not isinstance(data, dict):
        return "Validation Failed"
    parts = [
        str(e.get("message") or e.get("code"))
        for e in data.get("errors", [])
        if isinstance(e, dict)
    ]
    return "; ".join([str(data.get("message", "Validation Failed")), *parts])
