"""GitHub Issues as a tracker (github.com, or GitHub Enterprise Server through its API base URL).

Keys are ``owner/repo#number`` (``#12`` alone would start a shell comment); ``get`` and friends
also accept ``#12`` and ``12`` for the configured repository.

Where the bridge keeps its data (see ``github_body`` for the body layout):

- **Labels** say what must be found by listing, never by the search API: the kind
  (``bridge-defect``/``-observation``/``-remediation``), one ``bridge-fp-<fingerprint>`` per
  fingerprint, the idempotency marker ``bridge-ev-<hash of event id>``, ``bridge-parent-<n>`` on
  every child and ``bridge-related-<n>`` on a defect opened for a recurrence of ``#n``. Labels are
  at most 50 characters; longer ones are cut and suffixed with a hash so they stay distinct.
- **The body** holds the facts for people and a hidden JSON block with message, instance,
  observed_at, impact, actions, event id, parent, related, team and the evidence index, so
  ``scan`` and ``tree`` read everything from the issues listing, 100 per page, with no request per
  issue.
- **Kinds** are labels, plus GitHub issue types (``Bug``/``Task`` from the conventions) when the
  repository's owner has them (read once per run from ``/repos/{o}/{r}/issue-types``). PyGithub
  cannot send ``type``; creates go through its requester. Without push (triage) access GitHub
  silently drops labels and type: the bridge sees that in the created issue, closes it as not
  planned and raises ``TrackerRefused`` rather than leave an unmarked ticket behind.
- **Parent and child**: children are sub-issues of their defect (``sub_issue_id`` is the child's
  database id), *and* carry the parent label and a reference in the body. GitHub caps a parent at
  100 sub-issues, closed ones included; past the cap the child is linked by label and reference
  alone. ``tree`` lists children by the parent label, so the 101st observation is found like the
  first. ``conventions.link = "label"`` skips sub-issues altogether.
- **Evidence**: see ``github_evidence``.
- **Missing convention labels** are created by GitHub on first use; the bridge then gives them a
  colour and description once (GitHub's fresh labels are grey and undescribed), so a steady-state
  run spends no request on labels. Marker labels (fingerprint, event, parent) keep the default.

Module map: ``github_client`` (the one request path: PyGithub's requester, retries, error
translation, round-trip count), ``github_mapping`` (issue JSON <-> ``Ticket``, keys, labels,
titles), ``github_body`` (body layout and limits), ``github_evidence`` (evidence comments and
the evidence branch).

Round trips are counted in ``round_trips`` (every HTTP attempt, retries included). Rate limits
(403 or 429, primary or secondary) and 5xx are retried with ``trackers.retry`` honouring
``Retry-After`` / ``x-ratelimit-reset`` within ``max_retry_wait``; PyGithub's own retries and
throttling sleeps are off. A create that may have landed is looked up by its event label before
it is sent again; a comment by its hidden marker. Defect lookups by fingerprint are cached per run.
"""

from __future__ import annotations

import base64
import hashlib
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
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
    ConfigError,
    NotFoundError,
    TrackerError,
    TrackerRefused,
    UsageError,
)
from tracker_bridge.trackers import github_body as gb
from tracker_bridge.trackers import github_evidence as ge
from tracker_bridge.trackers.base import Capabilities
from tracker_bridge.trackers.github_client import GitHubClient
from tracker_bridge.trackers.github_mapping import (
    LABEL_LIMIT,
    PARENT_PREFIX,
    RELATED_PREFIX,
    TITLE_LIMIT,
    IssueMapper,
    label_name,
    link_json,
)

if TYPE_CHECKING:
    from tracker_bridge.settings import Settings

DEFAULT_API = "https://api.github.com"
SUB_ISSUE_LIMIT = 100
UPLOAD_LIMIT = 100 * 1024 * 1024
_LABEL_STYLE = {
    Kind.DEFECT: ("d73a4a", "tracker-bridge: a defect in the machinery"),
    Kind.OBSERVATION: ("fbca04", "tracker-bridge: one sighting of a defect"),
    Kind.REMEDIATION: ("0e8a16", "tracker-bridge: fireproofing for a defect"),
}


def build(settings: Settings) -> GitHubTracker:
    """The GitHub tracker for ``[tracker] repository`` at ``[tracker] url`` (default github.com)."""
    conf = settings.tracker
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
        conventions=settings.conventions_value(),
        timeout=conf.timeout,
        max_retry_wait=conf.max_retry_wait,
        evidence_repository=conf.evidence_repository or conf.repository,
        evidence_branch=conf.evidence_branch,
        issue_types=conf.issue_types,
    )


class GitHubTracker:
    """The ``Tracker`` protocol on one GitHub repository."""

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
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.conventions = conventions or Conventions()
        self._map = IssueMapper(repository, self.conventions)
        for label in self._map.kind_labels().values():
            if len(label) > LABEL_LIMIT:
                raise ConfigError(
                    f"label {label!r} is longer than GitHub's {LABEL_LIMIT} characters."
                )
        self.repository = repository
        self.name = f"github:{repository}"
        self._client = GitHubClient(
            base_url, token, timeout=timeout, budget=max_retry_wait, sleep=sleep
        )
        self._repo_path = f"/repos/{repository}"
        self._evidence_repo = evidence_repository or repository
        self._evidence_branch = evidence_branch
        self._use_types = issue_types
        self._issues: dict[int, dict[str, Any]] = {}
        self._by_fingerprint: dict[str, int | None] = {}
        self._by_event: dict[str, int | None] = {}
        self._types: dict[str, str] | None = None
        self._styled: set[str] = set()
        self._branch_ready = False

    @property
    def round_trips(self) -> int:
        """HTTP requests sent so far, retries included."""
        return self._client.round_trips

    # -- the protocol ---------------------------------------------------------------------------

    def capabilities(self) -> Capabilities:
        """GitHub's limits: titles kept to 255 for portability, labels to 50, files to 100 MB."""
        return Capabilities(
            upload_limit=UPLOAD_LIMIT, title_limit=TITLE_LIMIT, label_limit=LABEL_LIMIT
        )

    def get(self, key: str) -> Ticket:
        """One issue, read fresh; over-long fields are joined back from their part comments."""
        number = self._map.number(key)
        issue = self._fetch(number)
        return self._complete(issue)

    def tree(self, key: str) -> Tree:
        """A ticket, its children (by parent label, past the sub-issue cap too) and related ones."""
        ticket = self.get(key)
        number = self._map.number(key)
        children = [
            self._map.ticket(i)
            for i in self._list({"labels": f"{PARENT_PREFIX}{number}", "state": "all"})
            if i["number"] != number
        ]
        related: dict[str, Ticket] = {}
        block = gb.load_block(self._issues[number].get("body"))
        if isinstance(block.get("related"), str):
            try:
                found = self.get(block["related"])
                related[found.key] = found
            except NotFoundError:
                pass
        for issue in self._list({"labels": f"{RELATED_PREFIX}{number}", "state": "all"}):
            found = self._map.ticket(issue)
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
            first = next(iter(self._list(params, pages=1)), None)
            if first is not None:
                self._remember(first)
            self._by_fingerprint[fingerprint] = None if first is None else first["number"]
        number = self._by_fingerprint[fingerprint]
        return None if number is None else self._map.ticket(self._issues[number])

    def defects(self) -> Iterator[Ticket]:
        """Every defect, streamed 100 per page (and remembered for fingerprint lookups)."""
        for issue in self._list({"labels": self.conventions.defect_label, "state": "all"}):
            ticket = self._map.ticket(issue)
            for fingerprint in ticket.fingerprints:
                if fingerprint not in self._by_fingerprint:
                    self._by_fingerprint[fingerprint] = issue["number"]
                    self._remember(issue)
            yield ticket

    def find_by_event(self, event_id: str) -> Ticket | None:
        """The issue carrying this event's idempotency label, if any (remembered per run)."""
        if event_id not in self._by_event:
            issue = self._find_marked(self._map.label(self.conventions.event_label(event_id)))
            self._by_event[event_id] = None if issue is None else issue["number"]
        number = self._by_event[event_id]
        return None if number is None else self._map.ticket(self._issues[number])

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
        parent = self._fetch_cached(self._map.number(new.parent)) if new.parent else None
        related = self._map.number(new.related) if new.related else None
        marker = new.event_id or f"auto:{uuid.uuid4()}"
        event_label = self._map.label(self.conventions.event_label(marker))
        labels = self._map.labels_for(new, event_label, parent, related)
        block = self._map.block_for(new, marker, parent)
        rendered = gb.render_issue(block, new.description, self._map.short(parent))
        payload: dict[str, Any] = {"title": title, "body": rendered.body, "labels": labels}
        issue_type = self._type_for(new)
        if issue_type:
            payload["type"] = issue_type
        issue = self._client.send(
            "POST",
            f"{self._repo_path}/issues",
            what=f"creating {new.kind} {title!r}",
            body=payload,
            recover=lambda: self._find_marked(event_label),
        ).data
        self._check_kept(issue, labels, issue_type)
        self._remember(issue)
        if new.event_id:
            self._by_event[new.event_id] = issue["number"]
        self._style_labels(issue)
        for part in rendered.parts:
            self._post_comment(issue["number"], part.render())
        if parent is not None and self.conventions.link != "label":
            self._link(parent, issue)
        if new.kind is Kind.DEFECT:
            for fingerprint in self._map.fingerprints_of(issue):
                self._by_fingerprint[fingerprint] = issue["number"]
        ticket = self._map.ticket(issue)
        return ticket if not rendered.parts else _with_full_text(ticket, new)

    def attach(self, key: str, files: Sequence[EvidenceFile]) -> list[EvidenceRef]:
        """Store evidence: text inline in comments, binaries in the evidence branch; index in body."""
        number = self._map.number(key)
        issue = self._fetch_cached(number)
        block = gb.load_block(issue.get("body"))
        stored = {r.sha256: r for r in map(gb.ref_from_json, block.get("evidence", []))}
        result: dict[str, EvidenceRef] = {}
        sections: list[tuple[str, str]] = []
        fresh: list[EvidenceFile] = []
        urls: dict[str, str] = {}
        for file in files:
            sha = file.sha256
            if sha in stored or any(f.sha256 == sha for f in fresh):
                continue
            text = ge.as_text(file)
            if ge.needs_commit(file):
                urls[sha] = self._store_file(file)
                sections.append((sha, ge.linked_section(file.ref(urls[sha]), urls[sha], text)))
            else:
                sections.extend((sha, s) for s in ge.inline_sections(file.ref(), text or ""))
            fresh.append(file)
        if fresh:
            batch = uuid.uuid4().hex[:16]
            for body, shas in ge.pack(sections, batch):
                posted = self._post_comment(number, body)
                for sha in shas:
                    urls.setdefault(sha, str(posted.get("html_url", "")))
            refs = [f.ref(urls[f.sha256]) for f in fresh]
            result.update((r.sha256, r) for r in refs)
            block["evidence"] = [*block.get("evidence", []), *map(gb.ref_to_json, refs)]
            self._rewrite(issue, block)
        result.update((sha, ref) for sha, ref in stored.items() if sha not in result)
        return [result[f.sha256] for f in files]

    def validate(self, new: NewTicket) -> tuple[str, ...]:
        """What ``create`` would refuse: reads the parent and the issue types, creates nothing."""
        problems: list[str] = []
        if not " ".join(new.title.split()):
            problems.append("the title is empty")
        if new.parent:
            try:
                self._fetch_cached(self._map.number(new.parent))
            except NotFoundError:
                problems.append(f"parent {new.parent} does not exist in {self.repository}")
        try:
            self._type_for(new)
        except TrackerRefused as exc:
            problems.append(exc.message)
        problems.extend(
            f"GitHub issues have no field {name!r} (only labels, type and body)"
            for name, _ in new.fields
        )
        return tuple(problems)

    def link_remote(self, key: str, link: RemoteLink) -> None:
        """Record a link to a ticket elsewhere in the body; the same ``global_id`` replaces it."""
        issue = self._fetch_cached(self._map.number(key))
        block = gb.load_block(issue.get("body"))
        links = [x for x in block.get("links", []) if x.get("gid") != link.global_id]
        block["links"] = [*links, link_json(link)]
        self._rewrite(issue, block)

    def fetch_evidence(self, key: str, ref: EvidenceRef) -> bytes:
        """The bytes of one piece of evidence: from its comments, else from the evidence branch."""
        number = self._map.number(key)
        bodies = (str(c.get("body", "")) for c in self._comments(number))
        text = ge.find_inline(bodies, ref.sha256)
        if text is not None and hashlib.sha256(text.encode("utf-8")).hexdigest() == ref.sha256:
            return text.encode("utf-8")
        path = ge.content_path(ref.name, ref.sha256)
        response = self._client.send(
            "GET",
            f"/repos/{self._evidence_repo}/contents/{quote(path)}",
            what=f"reading evidence {ref.name}",
            params={"ref": self._evidence_branch},
            allow=(404,),
        )
        data = response.data if response.status == 200 and isinstance(response.data, dict) else {}
        if data.get("encoding") == "base64" and data.get("content"):
            content = base64.b64decode(str(data["content"]))
            if hashlib.sha256(content).hexdigest() == ref.sha256:
                return content
        raise NotFoundError(
            f"evidence {ref.name} ({ref.sha256[:12]}) is not stored on {self._map.key(number)}.",
            hint=f"Look for it in the {self._evidence_branch} branch of {self._evidence_repo}.",
        )

    def add_fingerprint(self, key: str, fingerprint: str) -> None:
        """Label the defect with another fingerprint (adding labels is idempotent)."""
        number = self._map.number(key)
        label = self._map.label(self.conventions.fingerprint_label(fingerprint))
        response = self._client.send(
            "POST",
            f"{self._repo_path}/issues/{number}/labels",
            what=f"labelling {self._map.key(number)}",
            body={"labels": [label]},
        )
        names = {label_name(x).lower() for x in response.data}
        if label.lower() not in names:
            raise self._dropped(number, "labels")
        if number in self._issues:
            self._issues[number]["labels"] = response.data
        self._by_fingerprint[fingerprint] = number

    def reopen(self, key: str) -> None:
        """Open the issue again (PATCH state: idempotent)."""
        self._set_state(self._map.number(key), {"state": "open"})

    def resolve(self, key: str) -> None:
        """Close the issue as completed."""
        self._set_state(self._map.number(key), {"state": "closed", "state_reason": "completed"})

    def comment(self, key: str, text: str) -> None:
        """Add a comment; text beyond one body continues in further comments."""
        number = self._map.number(key)
        if not text.strip():
            raise UsageError("the comment is empty.")
        pieces = ge.chunks(text)
        for i, piece in enumerate(pieces, 1):
            suffix = f"\n\n(part {i} of {len(pieces)})" if len(pieces) > 1 else ""
            self._post_comment(number, piece + suffix)

    def scan(self, title_prefix: str) -> Iterator[Ticket]:
        """Marked issues and unmarked ones titled like observations, one listing, 100 per page."""
        kinds = {label.lower() for label in self._map.kind_labels().values()}
        for issue in self._list({"state": "all", "sort": "created", "direction": "asc"}):
            names = {label_name(x).lower() for x in issue.get("labels", [])}
            marked = bool(names & kinds) or bool(gb.load_block(issue.get("body")).get("kind"))
            if marked or is_observation_title(issue.get("title", ""), title_prefix):
                yield self._map.ticket(issue)

    def close(self) -> None:
        """Close PyGithub's connection pools."""
        self._client.close()

    # -- requests -------------------------------------------------------------------------------

    def _list(
        self, params: dict[str, Any], *, pages: int | None = None
    ) -> Iterator[dict[str, Any]]:
        """Issues of the repository (pull requests left out), 100 per page."""
        for issue in self._client.pages(f"{self._repo_path}/issues", params, pages=pages):
            if "pull_request" not in issue:
                yield issue

    def _fetch(self, number: int) -> dict[str, Any]:
        response = self._client.send(
            "GET",
            f"{self._repo_path}/issues/{number}",
            what=f"reading {self._map.key(number)}",
            allow=(404, 410),
        )
        if response.status != 200 or "pull_request" in response.data:
            raise NotFoundError(
                f"{self._map.key(number)} does not exist.",
                hint=f"Check the issue number; it must be an issue of {self.repository}.",
            )
        self._remember(response.data)
        issue: dict[str, Any] = response.data
        return issue

    def _fetch_cached(self, number: int) -> dict[str, Any]:
        return self._issues.get(number) or self._fetch(number)

    def _find_marked(self, label: str) -> dict[str, Any] | None:
        found = next(iter(self._list({"labels": label, "state": "all"}, pages=1)), None)
        if found is not None:
            self._remember(found)
        return found

    def _post_comment(self, number: int, body: str) -> dict[str, Any]:
        """Post a comment; before a re-send, look for it (by its content) among recent ones."""
        marker = f"<!-- bridge:note {uuid.uuid4().hex} -->"
        full = body if body.startswith("<!-- bridge:") else f"{body}\n\n{marker}"
        # ten minutes of slack for clock skew between this machine and GitHub
        since = (datetime.now(UTC) - timedelta(minutes=10)).strftime("%Y-%m-%dT%H:%M:%SZ")
        url = f"{self._repo_path}/issues/{number}/comments"

        def recover() -> dict[str, Any] | None:
            listed = self._client.send(
                "GET", url, what="checking comments", params={"since": since}
            )
            return next((c for c in listed.data if c.get("body") == full), None)

        data: dict[str, Any] = self._client.send(
            "POST",
            url,
            what=f"commenting on {self._map.key(number)}",
            body={"body": full},
            recover=recover,
        ).data
        return data

    def _comments(self, number: int) -> Iterator[dict[str, Any]]:
        yield from self._client.pages(f"{self._repo_path}/issues/{number}/comments", {})

    def _rewrite(self, issue: dict[str, Any], block: dict[str, Any]) -> None:
        parent = block.get("parent")
        parent_ref = f"#{parent.rsplit('#', 1)[1]}" if isinstance(parent, str) else ""
        rendered = gb.render_issue(block, gb.description_of(issue.get("body")), parent_ref)
        if rendered.parts:
            raise TrackerRefused(
                f"{self._map.key(issue['number'])}: its evidence index no longer fits in the body.",
                hint="Attach further evidence to a new observation of the same defect.",
            )
        response = self._client.send(
            "PATCH",
            f"{self._repo_path}/issues/{issue['number']}",
            what=f"updating {self._map.key(issue['number'])}",
            body={"body": rendered.body},
        )
        self._remember(response.data)

    def _set_state(self, number: int, change: dict[str, str]) -> None:
        response = self._client.send(
            "PATCH",
            f"{self._repo_path}/issues/{number}",
            what=f"changing the state of {self._map.key(number)}",
            body=change,
            allow=(404, 410),
        )
        if response.status != 200:
            raise NotFoundError(f"{self._map.key(number)} does not exist.")
        self._remember(response.data)

    def _link(self, parent: dict[str, Any], child: dict[str, Any]) -> None:
        """Make ``child`` a sub-issue of ``parent`` unless the parent is full (label link only)."""
        summary = parent.get("sub_issues_summary") or {}
        if int(summary.get("total", 0)) >= SUB_ISSUE_LIMIT:
            return
        url = f"{self._repo_path}/issues/{parent['number']}/sub_issues"

        def recover() -> dict[str, Any] | None:
            got = self._client.send(
                "GET",
                f"{self._repo_path}/issues/{child['number']}/parent",
                what="checking the parent",
                allow=(404,),
            )
            return got.data if got.status == 200 else None

        response = self._client.send(
            "POST",
            url,
            what=f"linking {self._map.key(child['number'])} under {self._map.key(parent['number'])}",
            body={"sub_issue_id": child["id"]},
            allow=(422,),
            recover=recover,
        )
        if response.status == 422:
            # Full (100 sub-issues, closed included) or otherwise refused: the parent label and
            # the body reference already link the child, which is what the bridge reads.
            summary = {**summary, "total": SUB_ISSUE_LIMIT}
        else:
            summary = {**summary, "total": int(summary.get("total", 0)) + 1}
        parent["sub_issues_summary"] = summary

    def _store_file(self, file: EvidenceFile) -> str:
        """Commit ``file`` to the evidence branch once per content; return its web URL."""
        path = ge.content_path(file.name, file.sha256)
        url = f"/repos/{self._evidence_repo}/contents/{quote(path)}"
        payload = {
            "message": f"tracker-bridge evidence {file.name} ({file.sha256[:12]})",
            "content": base64.b64encode(file.data).decode("ascii"),
            "branch": self._evidence_branch,
        }
        for _ in range(2):
            response = self._client.send(
                "PUT", url, what=f"storing {file.name}", body=payload, allow=(404, 409, 422)
            )
            if response.status == 200:
                return str(response.data["content"]["html_url"])
            message = str((response.data or {}).get("message", "")).lower()
            if response.status == 422 and "sha" in message:
                return self._blob_url(path)  # already stored: same path means same bytes
            if "branch" in message and not self._branch_ready:
                self._create_branch()
                continue
            raise TrackerRefused(
                f"GitHub refused to store {file.name} in {self._evidence_repo}: {message}",
                status=response.status,
                hint="Check [tracker] evidence_repository and the token's Contents write access.",
            )
        raise TrackerRefused(f"could not create the evidence branch {self._evidence_branch}.")

    def _create_branch(self) -> None:
        repo = f"/repos/{self._evidence_repo}"
        info = self._client.send("GET", repo, what=f"reading {self._evidence_repo}").data
        head = self._client.send(
            "GET",
            f"{repo}/git/ref/heads/{quote(info['default_branch'])}",
            what="reading the default branch",
        ).data
        self._client.send(
            "POST",
            f"{repo}/git/refs",
            what=f"creating the branch {self._evidence_branch}",
            body={"ref": f"refs/heads/{self._evidence_branch}", "sha": head["object"]["sha"]},
            allow=(422,),  # already exists: someone else made it first
        )
        self._branch_ready = True

    def _blob_url(self, path: str) -> str:
        root = self._html_root()
        return f"{root}/{self._evidence_repo}/blob/{quote(self._evidence_branch)}/{quote(path)}"

    def _html_root(self) -> str:
        for issue in self._issues.values():
            html_url = str(issue.get("html_url", ""))
            if f"/{self.repository}/" in html_url:
                return html_url.split(f"/{self.repository}/", 1)[0]
        return self._client.base_url.removesuffix("/api/v3").replace("://api.", "://")

    def _types_available(self) -> dict[str, str]:
        if self._types is None:
            self._types = {}
            if self._use_types:
                response = self._client.send(
                    "GET",
                    f"{self._repo_path}/issue-types",
                    what="reading issue types",
                    allow=(404, 403),
                )
                if response.status == 200 and isinstance(response.data, list):
                    self._types = {
                        t["name"].lower(): t["name"]
                        for t in response.data
                        if t.get("is_enabled", True)
                    }
        return self._types

    def _type_for(self, new: NewTicket) -> str | None:
        """The issue type to send: the ticket's own, else the convention's, when the owner has it.

        An explicitly asked type the owner lacks is refused; a conventional one is just skipped
        (the kind label still says what the issue is).
        """
        if not self._use_types:
            return None
        wanted = (
            new.issue_type
            or {
                Kind.DEFECT: self.conventions.defect_type,
                Kind.OBSERVATION: self.conventions.observation_type,
                Kind.REMEDIATION: self.conventions.remediation_type,
            }[new.kind]
        )
        available = self._types_available()
        found = available.get(wanted.lower())
        if found is None and new.issue_type and available:
            raise TrackerRefused(
                f"{self.repository} has no issue type {new.issue_type!r} "
                f"(it has: {', '.join(sorted(available.values()))}).",
                hint="Set the team's issue_type to one of those.",
            )
        return found

    def _style_labels(self, issue: dict[str, Any]) -> None:
        """Give convention labels GitHub just created a colour and description, once per run."""
        styles = {
            label.lower(): _LABEL_STYLE[kind] for kind, label in self._map.kind_labels().items()
        }
        for raw in issue.get("labels", []):
            name = label_name(raw)
            lower = name.lower()
            if lower not in styles or lower in self._styled:
                continue
            self._styled.add(lower)
            if isinstance(raw, dict) and not raw.get("description"):
                color, description = styles[lower]
                self._client.send(
                    "PATCH",
                    f"{self._repo_path}/labels/{quote(name, safe='')}",
                    what=f"describing the label {name}",
                    body={"color": color, "description": description},
                    allow=(403, 404),
                )

    def _check_kept(self, issue: dict[str, Any], labels: list[str], issue_type: str | None) -> None:
        kept = {label_name(x).lower() for x in issue.get("labels", [])}
        lost = [label for label in labels if label.lower() not in kept]
        type_lost = bool(issue_type) and not issue.get("type")
        if lost or type_lost:
            what = ", ".join(filter(None, ["labels" if lost else "", "type" if type_lost else ""]))
            raise self._dropped(issue["number"], what)

    def _dropped(self, number: int, what: str) -> TrackerError:
        """Close an issue GitHub stripped of its marks; the error says why and what to do."""
        try:
            self._set_state(number, {"state": "closed", "state_reason": "not_planned"})
            fate = "it was closed as not planned"
        except TrackerError:
            fate = "close it by hand"
        return TrackerRefused(
            f"GitHub dropped the {what} of {self._map.key(number)} without an error: the token has no "
            f"push (triage) access to {self.repository}; {fate}.",
            hint="Give the token's account at least Triage access (fine-grained tokens: Issues "
            "read and write) and run the command again.",
            status=403,
        )

    def _complete(self, issue: dict[str, Any]) -> Ticket:
        """``_ticket`` plus over-long fields joined back from their part comments."""
        ticket = self._map.ticket(issue)
        overflow = gb.load_block(issue.get("body")).get("overflow") or {}
        if not overflow:
            return ticket
        bodies = [str(c.get("body", "")) for c in self._comments(issue["number"])]
        message = (
            gb.join_parts(bodies, "message", overflow["message"]) if "message" in overflow else None
        )
        description = (
            gb.join_parts(bodies, "description", overflow["description"])
            if "description" in overflow
            else None
        )
        return _replace(ticket, message=message, description=description)

    def _remember(self, issue: dict[str, Any]) -> None:
        if isinstance(issue, dict) and isinstance(issue.get("number"), int):
            self._issues[issue["number"]] = issue


def _replace(ticket: Ticket, *, message: str | None, description: str | None) -> Ticket:
    return replace(
        ticket,
        message=message if message is not None else ticket.message,
        description=description if description is not None else ticket.description,
    )


def _with_full_text(ticket: Ticket, new: NewTicket) -> Ticket:
    return _replace(ticket, message=new.message, description=new.description)
