"""A stateful fake GitHub REST API served over HTTP on 127.0.0.1, under ``/api/v3`` like GHES.

It implements the slice of the REST API that the GitHub tracker and PyGithub use: repositories,
issues (create with labels and ``type``, get, edit, list with ``labels``/``state``/``sort``/
``direction``/``since`` and ``Link`` paging), comments, labels (auto-created on use, grey and
undescribed, as GitHub does), issue types, sub-issues (``sub_issue_id`` is the database id; at
most 100 per parent, closed ones included; one parent per child unless ``replace_parent``;
``DELETE .../sub_issue`` detaches), ``/parent``, the contents API (a PUT answers 422 without
``sha`` when the file exists, 409 when ``sha`` is not that of the file there, 200 when it replaces
the file and 201 when it creates one; unknown branch 404; a GET of a file over 1 MB answers
``content: ""`` and ``encoding: "none"``, as GitHub does without the raw media type), git blobs
(base64, up to 100 MB) and git refs.

Every request and response is checked against ``tests/specs/github.slice.json`` (cut by
``scripts/cut_github_spec.py``), requests even when a fault is injected for them; problems land
in ``FakeGitHub.violations`` and the request is answered 400, so a tracker drifting from the API
fails its tests.

Modes and faults:

- ``push_access = False``: labels and type sent on create are silently dropped, as GitHub does
  for users without push access; label edits answer 403.
- ``owner_has_types = False``: ``/issue-types`` answers 404 (a user-owned repository).
- ``latency`` seconds per request; ``fail(status, retry_after=..., reset=..., message=...)``
  answers without touching state (403/429 rate limits with ``Retry-After`` or
  ``x-ratelimit-reset``, 5xx); ``drop_after_commit()`` stores the write, then closes the
  connection without a response; ``drop_before()`` closes it before anything happens.
- ``requests`` records every request; ``count(method, contains)`` counts them; ``received(b)``
  tells whether some bytes ever reached the server (query, body, or decoded contents PUT).

Leniencies (where the published description is wrong about GitHub): see ``LENIENCIES``.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlencode

from werkzeug.wrappers import Request, Response

from fakes.graphql import GraphQL
from fakes.openapi import Leniency, Operation, SpecValidator, load_spec
from fakes.profiles import GitHubProfile, github_profile
from fakes.server import FakeServer, Fault, HttpError

SPEC = Path(__file__).resolve().parent.parent / "specs" / "github.slice.json"
PREFIX = "/api/v3"
GRAPHQL_PATH = "/api/graphql"
"""Where GitHub Enterprise Server (and PyGithub for a ``/api/v3`` base URL) puts GraphQL."""
TOKEN = "ghp_fake-token-for-tests"
SUB_ISSUE_LIMIT = 100
BODY_LIMIT = 65_536
CONTENTS_INLINE_LIMIT = 1024 * 1024
"""Largest file the contents API returns inline with the default media type (1 MB)."""

LENIENCIES = (
    Leniency(
        "/paths/~1repos~1{owner}~1{repo}~1issues~1{issue_number}~1labels/post/requestBody/"
        "content/application~1json/schema",
        {
            "oneOf": [
                {
                    "type": "object",
                    "properties": {"labels": {"type": "array", "items": {"type": "string"}}},
                },
                {"type": "array", "items": {"type": "string"}},
            ]
        },
        "GitHub accepts a bare array of label names (PyGithub's add_to_labels sends one); the "
        "description lists only the object form.",
    ),
    Leniency(
        "/paths/~1repos~1{owner}~1{repo}~1contents~1{path}/put/responses/409/content/"
        "application~1json/schema",
        {"anyOf": [{"$ref": "#/components/schemas/basic-error"}]},
        "The description offers a basic error or a rule violation as oneOf, and an error with "
        "just a message is both; GitHub answers a stale sha with the basic error.",
    ),
)

ANY_OPERATION = (401, 403, 429, 500, 502, 503)
"""Authentication failures, (secondary) rate limits and outages, documented once for the API."""


@dataclass
class FakeIssue:
    id: int
    number: int
    title: str
    body: str | None
    labels: list[str]
    type: str | None
    created: datetime
    updated: datetime
    state: str = "open"
    state_reason: str | None = None
    closed: datetime | None = None
    parent: int | None = None
    """Number of the parent issue (same repository in this fake)."""
    children: list[int] = field(default_factory=list)
    comments: list[dict[str, Any]] = field(default_factory=list)
    visible_at: float = 0.0
    """``time.monotonic()`` from which label listings show it (``search_lag`` after create)."""


@dataclass
class _Repository:
    """One repository's state: its issues by number, its labels, its next issue number."""

    issues: dict[int, FakeIssue]
    labels: dict[str, dict[str, Any]]
    numbers: itertools.count[int]


class ApiError(HttpError):
    def __init__(self, status: int, message: str, errors: list[dict[str, Any]] | None = None):
        super().__init__(message)
        self.status = status
        self.body: dict[str, Any] = {
            "message": message,
            "documentation_url": "https://docs.github.com/rest",
        }
        if errors is not None:
            self.body["errors"] = errors


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.strftime("%Y-%m-%dT%H:%M:%SZ")


class FakeGitHub(FakeServer):
    """The fake server for one owner's repositories. Use as a context manager."""

    url_prefix = PREFIX
    """``url`` is the API base URL as for GitHub Enterprise Server: ``http://host/api/v3``."""
    json_type = "application/json; charset=utf-8"

    def __init__(
        self,
        repository: str = "acme/ops",
        *,
        latency: float = 0.0,
        profile: GitHubProfile | str | None = None,
    ) -> None:
        self.profile = github_profile(profile or "github")
        super().__init__(
            GitHubSpecValidator(
                load_spec(SPEC),
                leniencies=LENIENCIES,
                base_path=PREFIX,
                any_operation_statuses=ANY_OPERATION,
            ),
            latency=latency,
        )
        self.owner, self.repo = repository.split("/")
        self.home = repository
        self.push_access = True
        self.owner_has_types = self.profile.owner_has_types
        self.issue_types: list[dict[str, Any]] = [
            {
                "id": 1,
                "node_id": "IT_1",
                "name": "Bug",
                "description": "A defect",
                "is_enabled": True,
            },
            {
                "id": 2,
                "node_id": "IT_2",
                "name": "Task",
                "description": "A task",
                "is_enabled": True,
            },
            {
                "id": 3,
                "node_id": "IT_3",
                "name": "Feature",
                "description": None,
                "is_enabled": True,
            },
        ]
        self.issues: dict[int, FakeIssue] = {}
        self.labels: dict[str, dict[str, Any]] = {}
        self.branches: dict[str, dict[str, bytes]] = {"main": {"README.md": b"# ops\n"}}
        self.refs: dict[str, str] = {"main": "a" * 40}
        self.payloads: list[bytes] = []
        """Everything the client sent: query string and body of each request, raw."""
        self._ids = itertools.count(7_000_001, 7)
        self._numbers = itertools.count(1)
        self._comment_ids = itertools.count(900_001)
        self._clock = datetime.now(UTC).replace(microsecond=0)
        self.repositories: dict[str, _Repository] = {
            repository.lower(): _Repository(self.issues, self.labels, self._numbers)
        }
        for other in self.profile.repositories:
            self.add_repository(other)
        self.graphql = GraphQL(self)
        self.tick = timedelta(seconds=1)
        """How far the clock moves per change; ``timedelta(0)``: every issue has one timestamp."""

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.repo}"

    def add_repository(self, full_name: str) -> None:
        """Another repository on this host (another team's, maybe another owner's)."""
        self.repositories.setdefault(full_name.lower(), _Repository({}, {}, itertools.count(1)))

    def repository(self, full_name: str) -> _Repository:
        """The issues and labels of one repository on this host (for assertions)."""
        return self.repositories[full_name.lower()]

    def use(self, full_name: str) -> None:
        """Serve ``full_name``: its issues, labels and numbers become ``issues`` & co."""
        state = self.repositories[full_name.lower()]
        self.owner, self.repo = full_name.split("/")
        self.issues, self.labels, self._numbers = state.issues, state.labels, state.numbers

    # -- test controls -----------------------------------------------------------------------

    def fail(
        self,
        status: int = 503,
        *,
        times: int = 1,
        method: str | None = None,
        path: str | None = None,
        retry_after: str | None = None,
        reset: float | None = None,
        message: str | None = None,
    ) -> None:
        """Answer the next ``times`` matching requests with ``status`` and change nothing.

        ``reset`` is an epoch time sent as ``x-ratelimit-reset`` with ``x-ratelimit-remaining: 0``.
        """
        headers: dict[str, str] = {}
        if retry_after is not None:
            headers["Retry-After"] = retry_after
        if reset is not None:
            headers["x-ratelimit-reset"] = str(int(reset))
            headers["x-ratelimit-remaining"] = "0"
        if message is None:
            message = {
                403: "You have exceeded a secondary rate limit. Please wait a few minutes before "
                "you try again.",
                429: "API rate limit exceeded for user ID 1.",
            }.get(status, "Service unavailable")
        self.faults.append(Fault("status", method, path, times, status, headers, message))

    def add_issue(
        self,
        title: str,
        *,
        labels: tuple[str, ...] = (),
        body: str | None = None,
        closed: bool = False,
    ) -> int:
        """Create an issue directly (as a person would in the UI); returns its number."""
        with self._lock:
            issue = self._new_issue(title, body, list(labels), None)
            if closed:
                issue.state, issue.closed = "closed", self._tick()
            return issue.number

    def add_sub_issue(self, parent: int, child: int) -> None:
        """Link directly, bypassing the API (fills a parent quickly in tests)."""
        with self._lock:
            self.issues[parent].children.append(child)
            self.issues[child].parent = parent

    def files(self, branch: str) -> dict[str, bytes]:
        return dict(self.branches.get(branch, {}))

    def received(self, needle: bytes) -> bool:
        """Whether ``needle`` reached the server in any request: in a query or body as sent, or
        inside the base64 ``content`` of a contents PUT."""
        for payload in self.payloads:
            if needle in payload:
                return True
            try:
                content = json.loads(payload.split(b"\n", 1)[1] or b"{}").get("content")
            except (ValueError, AttributeError):
                continue
            if isinstance(content, str) and needle in base64.b64decode(content):
                return True
        return False

    # -- HTTP --------------------------------------------------------------------------------

    def _record(self, request: Request) -> None:
        super()._record(request)
        self.payloads.append(
            request.query_string + b"\n" + request.get_data(cache=True, parse_form_data=False)
        )

    def _screen(self, request: Request) -> Response | None:
        """Every request is checked against the spec slice, even one a fault is injected for
        (GraphQL requests against the schema slice, when they are answered)."""
        if request.path == GRAPHQL_PATH:
            return None
        problems = self._check_request(request)
        if problems:
            return self._json(ApiError(400, "; ".join(problems)).body, 400)
        return None

    def _error_body(self, status: int, message: str) -> Any:
        return ApiError(status, message).body

    def _fault_response(self, request: Request, fault: Fault) -> Response:
        if self.profile.html_errors and fault.status >= 500:
            page = (
                f"<html><head><title>{fault.status} Bad Gateway</title></head>"
                f"<body><h1>{fault.message}</h1></body></html>"
            )
            return Response(page, fault.status, content_type="text/html")
        response = super()._fault_response(request, fault)
        if not self.profile.retry_after:
            for name in ("Retry-After", "x-ratelimit-reset", "x-ratelimit-remaining"):
                response.headers.pop(name, None)
        if request.path != GRAPHQL_PATH:
            self._check_response(request.method, request.path, response)
        return response

    def _answer(self, request: Request) -> Response:
        if request.path == GRAPHQL_PATH:
            try:
                self._authenticate(request)
            except ApiError as exc:
                return self._json(exc.body, exc.status)
            with self._lock:
                return self._json(self.graphql.execute(request.get_json(silent=True) or {}))
        response = self._respond(request)
        response.headers.update(self._rate_headers())
        self._check_response(request.method, request.path, response)
        return response

    def _rate_headers(self) -> dict[str, str]:
        return {
            "x-ratelimit-limit": "5000",
            "x-ratelimit-remaining": str(max(0, 5000 - len(self.requests))),
            "x-ratelimit-reset": str(int(time.time()) + 3600),
            "x-ratelimit-resource": "core",
        }

    def _authenticate(self, request: Request) -> None:
        header = request.headers.get("Authorization", "")
        if header not in (f"token {TOKEN}", f"Bearer {TOKEN}"):
            raise ApiError(401, "Bad credentials")

    def _route(self, request: Request, method: str, path: str) -> Response:
        parts = [unquote(p) for p in path.strip("/").split("/")]
        if parts == ["user"] and method == "GET":
            return self._json(self._me())
        if len(parts) < 3 or parts[0] != "repos":
            raise ApiError(404, "Not Found")
        owner, repo, rest = parts[1], parts[2], parts[3:]
        full = f"{owner}/{repo}".lower()
        if full in self.repositories:
            self.use(f"{owner}/{repo}")
            try:
                return self._route_repository(request, method, repo, rest)
            finally:
                self.use(self.home)
        if owner != self.owner or not (rest and rest[0] in ("contents", "git")):
            raise ApiError(404, "Not Found")
        return self._route_repository(request, method, repo, rest)

    def _route_repository(
        self, request: Request, method: str, repo: str, rest: list[str]
    ) -> Response:
        data = request.get_json(silent=True) if request.data else None
        match method, rest:
            case "GET", []:
                return self._json(self._repository_json(repo))
            case "GET", ["issues"]:
                return self._list_issues(request)
            case "POST", ["issues"]:
                return self._json(self._issue_json(self._create(data or {})), 201)
            case "GET", ["issues", number]:
                return self._json(self._issue_json(self._issue(number)))
            case "PATCH", ["issues", number]:
                return self._json(self._issue_json(self._edit(self._issue(number), data or {})))
            case "GET", ["issues", number, "comments"]:
                return self._list_comments(request, self._issue(number))
            case "POST", ["issues", number, "comments"]:
                return self._json(self._comment(self._issue(number), data or {}), 201)
            case "POST", ["issues", number, "labels"]:
                issue = self._issue(number)
                names = data if isinstance(data, list) else (data or {}).get("labels", [])
                self._add_labels(issue, names)
                return self._json([self._label_json(n) for n in issue.labels])
            case "DELETE", ["issues", number, "labels", name]:
                issue = self._issue(number)
                kept = [n for n in issue.labels if n.lower() != name.lower()]
                if len(kept) == len(issue.labels):
                    raise ApiError(404, "Label does not exist")
                issue.labels = kept
                return self._json([self._label_json(n) for n in issue.labels])
            case "GET", ["issues", number, "sub_issues"]:
                issue = self._issue(number)
                children = [self._issue_json(self.issues[c]) for c in issue.children]
                return self._paged(request, children)
            case "POST", ["issues", number, "sub_issues"]:
                return self._json(
                    self._issue_json(self._add_child(self._issue(number), data or {})), 201
                )
            case "DELETE", ["issues", number, "sub_issue"]:
                return self._json(
                    self._issue_json(self._remove_child(self._issue(number), data or {}))
                )
            case "GET", ["issues", number, "parent"]:
                issue = self._issue(number)
                if issue.parent is None:
                    raise ApiError(404, "Not Found")
                return self._json(self._issue_json(self.issues[issue.parent]))
            case "POST", ["labels"]:
                return self._json(self._create_label(data or {}), 201)
            case "GET", ["labels", name]:
                return self._json(self._label_json(self._existing_label(name)["name"]))
            case "PATCH", ["labels", name]:
                return self._json(self._edit_label(self._existing_label(name), data or {}))
            case "GET", ["issue-types"]:
                if not self.owner_has_types:
                    raise ApiError(404, "Not Found")
                return self._json(self.issue_types)
            case "GET", ["contents", *segments]:
                return self._get_content(repo, "/".join(segments), request.args.get("ref", "main"))
            case "PUT", ["contents", *segments]:
                return self._put_content(repo, "/".join(segments), data or {})
            case "GET", ["git", "blobs", sha]:
                return self._get_blob(repo, sha)
            case "GET", ["git", "ref", "heads", branch]:
                if branch not in self.refs:
                    raise ApiError(404, "Not Found")
                return self._json(self._ref_json(repo, branch))
            case "POST", ["git", "refs"]:
                ref = str((data or {}).get("ref", "")).removeprefix("refs/heads/")
                if ref in self.refs:
                    raise ApiError(422, "Reference already exists")
                self.refs[ref] = str((data or {}).get("sha"))
                self.branches[ref] = dict(self.branches["main"])
                return self._json(self._ref_json(repo, ref), 201)
        raise ApiError(404, "Not Found")

    # -- state -------------------------------------------------------------------------------

    def _tick(self) -> datetime:
        self._clock += self.tick
        return self._clock

    def _issue(self, number: str) -> FakeIssue:
        if not number.isdigit() or int(number) not in self.issues:
            raise ApiError(404, "Not Found")
        return self.issues[int(number)]

    def _new_issue(
        self, title: str, body: str | None, labels: list[str], type_name: str | None
    ) -> FakeIssue:
        now = self._tick()
        number = next(self._numbers)
        issue = FakeIssue(next(self._ids), number, title, body, [], type_name, now, now)
        issue.visible_at = time.monotonic() + self.search_lag
        self._add_labels(issue, labels)
        self.issues[number] = issue
        return issue

    def _check_text(self, data: dict[str, Any]) -> None:
        title = data.get("title")
        if title is not None and (not str(title).strip() or len(str(title)) > 256):
            raise ApiError(
                422,
                "Validation Failed",
                [
                    {
                        "resource": "Issue",
                        "code": "custom",
                        "field": "title",
                        "message": "title is too long (maximum is 256 characters)",
                    }
                ],
            )
        body = data.get("body")
        if isinstance(body, str) and len(body) > BODY_LIMIT:
            raise ApiError(
                422,
                "Validation Failed",
                [
                    {
                        "resource": "Issue",
                        "code": "custom",
                        "field": "body",
                        "message": "body is too long (maximum is 65536 characters)",
                    }
                ],
            )

    def _create(self, data: dict[str, Any]) -> FakeIssue:
        self._check_text(data)
        if not data.get("title"):
            raise ApiError(
                422,
                "Validation Failed",
                [{"resource": "Issue", "code": "missing_field", "field": "title"}],
            )
        labels = [str(x) for x in data.get("labels") or []]
        type_name = data.get("type")
        if type_name is not None:
            type_name = self._type_named(str(type_name))
        for label in labels:
            if len(label) > 50:
                raise ApiError(
                    422,
                    "Validation Failed",
                    [{"resource": "Label", "code": "invalid", "field": "name"}],
                )
        if not self.push_access:
            labels, type_name = [], None
        return self._new_issue(str(data["title"]), data.get("body"), labels, type_name)

    def _type_named(self, name: str) -> str:
        if not self.owner_has_types:
            raise ApiError(
                422,
                "Validation Failed",
                [{"resource": "Issue", "code": "invalid", "field": "type"}],
            )
        for issue_type in self.issue_types:
            if issue_type["name"].lower() == name.lower() and issue_type["is_enabled"]:
                return str(issue_type["name"])
        raise ApiError(
            422, "Validation Failed", [{"resource": "Issue", "code": "invalid", "field": "type"}]
        )

    def _edit(self, issue: FakeIssue, data: dict[str, Any]) -> FakeIssue:
        self._check_text(data)
        if "title" in data:
            issue.title = str(data["title"])
        if "body" in data:
            issue.body = data["body"]
        if "state" in data:
            if data["state"] == "closed" and issue.state != "closed":
                issue.closed = self._tick()
                issue.state_reason = data.get("state_reason") or "completed"
            elif data["state"] == "open" and issue.state == "closed":
                issue.closed, issue.state_reason = None, "reopened"
            issue.state = data["state"]
        if "labels" in data and self.push_access:
            issue.labels = []
            self._add_labels(issue, [str(x) for x in data["labels"]])
        issue.updated = self._tick()
        return issue

    def _add_labels(self, issue: FakeIssue, names: list[str]) -> None:
        if not self.push_access:
            return
        for name in names:
            label = self.labels.get(name.lower())
            if label is None:
                label = self._make_label(name, "ededed", None)
            if label["name"] not in issue.labels:
                issue.labels.append(label["name"])

    def _make_label(self, name: str, color: str, description: str | None) -> dict[str, Any]:
        label = {"name": name, "color": color, "description": description, "id": next(self._ids)}
        self.labels[name.lower()] = label
        return label

    def _create_label(self, data: dict[str, Any]) -> dict[str, Any]:
        name = str(data.get("name", ""))
        if name.lower() in self.labels:
            raise ApiError(
                422,
                "Validation Failed",
                [{"resource": "Label", "code": "already_exists", "field": "name"}],
            )
        label = self._make_label(name, str(data.get("color", "ededed")), data.get("description"))
        return self._label_json(label["name"])

    def _existing_label(self, name: str) -> dict[str, Any]:
        label = self.labels.get(name.lower())
        if label is None:
            raise ApiError(404, "Not Found")
        return label

    def _edit_label(self, label: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
        if not self.push_access:
            raise ApiError(403, "Must have admin rights to Repository.")
        for key in ("color", "description"):
            if key in data:
                label[key] = data[key]
        return self._label_json(label["name"])

    def _comment(self, issue: FakeIssue, data: dict[str, Any]) -> dict[str, Any]:
        body = str(data.get("body", ""))
        if not body or len(body) > BODY_LIMIT:
            raise ApiError(
                422,
                "Validation Failed",
                [{"resource": "IssueComment", "code": "custom", "field": "body"}],
            )
        now = self._tick()
        comment = {"id": next(self._comment_ids), "body": body, "created": now}
        issue.comments.append(comment)
        issue.updated = now
        return self._comment_json(issue, comment)

    def _add_child(self, parent: FakeIssue, data: dict[str, Any]) -> FakeIssue:
        child = next((i for i in self.issues.values() if i.id == data.get("sub_issue_id")), None)
        if child is None:
            raise ApiError(404, "Not Found")
        if child.parent is not None and not data.get("replace_parent"):
            raise ApiError(
                422,
                "Validation Failed",
                [
                    {
                        "resource": "Issue",
                        "code": "custom",
                        "message": "Sub issue may only have one parent",
                    }
                ],
            )
        if len(parent.children) >= SUB_ISSUE_LIMIT:
            raise ApiError(
                422,
                "Validation Failed",
                [
                    {
                        "resource": "Issue",
                        "code": "custom",
                        "message": "Parent cannot have more than 100 sub-issues",
                    }
                ],
            )
        if child.parent is not None:
            self.issues[child.parent].children.remove(child.number)
        child.parent = parent.number
        parent.children.append(child.number)
        return child

    def _remove_child(self, parent: FakeIssue, data: dict[str, Any]) -> FakeIssue:
        child = next((i for i in self.issues.values() if i.id == data.get("sub_issue_id")), None)
        if child is None or child.parent != parent.number:
            raise ApiError(404, "Not Found")
        parent.children.remove(child.number)
        child.parent = None
        return child

    def _put_content(self, repo: str, path: str, data: dict[str, Any]) -> Response:
        branch = str(data.get("branch") or "main")
        if branch not in self.branches:
            raise ApiError(404, f"Branch {branch} not found")
        files = self.branches[branch]
        if path in files and "sha" not in data:
            raise ApiError(422, 'Invalid request.\n\n"sha" wasn\'t supplied.')
        if path in files and data["sha"] != _blob_sha(files[path]):
            raise ApiError(409, f"{path} does not match {data['sha']}")
        created = path not in files  # a "sha" for a path that does not exist is ignored
        content = base64.b64decode(str(data.get("content", "")))
        files[path] = content
        sha = hashlib.sha1(b"blob %d\0" % len(content) + content).hexdigest()
        base = f"{self.url}/repos/{self.owner}/{repo}"
        html = f"https://github.example/{self.owner}/{repo}/blob/{quote(branch)}/{quote(path)}"
        commit_sha = hashlib.sha1(path.encode() + content).hexdigest()
        return self._json(
            {
                "content": {
                    "name": path.rsplit("/", 1)[-1],
                    "path": path,
                    "sha": sha,
                    "size": len(content),
                    "url": f"{base}/contents/{quote(path)}?ref={quote(branch)}",
                    "html_url": html,
                    "git_url": f"{base}/git/blobs/{sha}",
                    "download_url": f"https://raw.example/{self.owner}/{repo}/{branch}/{path}",
                    "type": "file",
                    "_links": {
                        "self": f"{base}/contents/{quote(path)}",
                        "git": f"{base}/git/blobs/{sha}",
                        "html": html,
                    },
                },
                "commit": {
                    "sha": commit_sha,
                    "node_id": "C_" + commit_sha[:8],
                    "url": f"{base}/git/commits/{commit_sha}",
                    "html_url": f"https://github.example/{self.owner}/{repo}/commit/{commit_sha}",
                    "message": str(data.get("message", "")),
                },
            },
            201 if created else 200,
        )

    def _get_content(self, repo: str, path: str, branch: str) -> Response:
        files = self.branches.get(branch)
        if files is None or path not in files:
            raise ApiError(404, "Not Found")
        content = files[path]
        sha = hashlib.sha1(b"blob %d\0" % len(content) + content).hexdigest()
        base = f"{self.url}/repos/{self.owner}/{repo}"
        html = f"https://github.example/{self.owner}/{repo}/blob/{quote(branch)}/{quote(path)}"
        inline = len(content) <= CONTENTS_INLINE_LIMIT
        return self._json(
            {
                "type": "file",
                "encoding": "base64" if inline else "none",
                "size": len(content),
                "name": path.rsplit("/", 1)[-1],
                "path": path,
                "content": base64.b64encode(content).decode("ascii") if inline else "",
                "sha": sha,
                "url": f"{base}/contents/{quote(path)}?ref={quote(branch)}",
                "git_url": f"{base}/git/blobs/{sha}",
                "html_url": html,
                "download_url": f"https://raw.example/{self.owner}/{repo}/{branch}/{path}",
                "_links": {
                    "self": f"{base}/contents/{quote(path)}",
                    "git": f"{base}/git/blobs/{sha}",
                    "html": html,
                },
            }
        )

    def _get_blob(self, repo: str, sha: str) -> Response:
        for files in self.branches.values():
            for content in files.values():
                if hashlib.sha1(b"blob %d\0" % len(content) + content).hexdigest() == sha:
                    return self._json(
                        {
                            "sha": sha,
                            "node_id": f"B_{sha[:8]}",
                            "url": f"{self.url}/repos/{self.owner}/{repo}/git/blobs/{sha}",
                            "size": len(content),
                            "content": base64.b64encode(content).decode("ascii"),
                            "encoding": "base64",
                        }
                    )
        raise ApiError(404, "Not Found")

    # -- listing -----------------------------------------------------------------------------

    def _list_issues(self, request: Request) -> Response:
        state = request.args.get("state", "open")
        wanted = [x.strip().lower() for x in request.args.get("labels", "").split(",") if x.strip()]
        since = request.args.get("since")
        found = []
        now = time.monotonic()
        for issue in self.issues.values():
            if state not in ("all", issue.state):
                continue
            if wanted and issue.visible_at > now:  # label filters lag behind writes
                continue
            names = {x.lower() for x in issue.labels}
            if any(w not in names for w in wanted):
                continue
            if since and _iso(issue.updated) < since:  # type: ignore[operator]
                continue
            found.append(issue)
        sort = request.args.get("sort", "created")
        key: Callable[[FakeIssue], Any] = {
            "created": lambda i: (i.created, i.number),
            "updated": lambda i: (i.updated, i.number),
            "comments": lambda i: (len(i.comments), i.number),
        }[sort]
        found.sort(key=key, reverse=request.args.get("direction", "desc") == "desc")
        return self._paged(request, [self._issue_json(i) for i in found])

    def _list_comments(self, request: Request, issue: FakeIssue) -> Response:
        since = request.args.get("since")
        rows = [c for c in issue.comments if not since or _iso(c["created"]) >= since]  # type: ignore[operator]
        return self._paged(request, [self._comment_json(issue, c) for c in rows])

    def _paged(self, request: Request, rows: list[Any]) -> Response:
        per_page = min(100, int(request.args.get("per_page", "30")))
        page = int(request.args.get("page", "1"))
        chunk = rows[(page - 1) * per_page : page * per_page]
        headers = {}
        if page * per_page < len(rows):
            args = {k: v for k, v in request.args.items() if k != "page"}
            args["page"] = str(page + 1)
            base = f"http://{request.host}{request.path}"
            last = dict(args, page=str((len(rows) + per_page - 1) // per_page))
            headers["Link"] = (
                f'<{base}?{urlencode(args)}>; rel="next", <{base}?{urlencode(last)}>; rel="last"'
            )
        return self._json(chunk, 200, headers)

    # -- JSON --------------------------------------------------------------------------------

    def _user_json(self) -> dict[str, Any]:
        base = f"{self.url}/users/bridge-bot"
        return {
            "login": "bridge-bot",
            "id": 42,
            "node_id": "U_42",
            "avatar_url": "https://avatars.example/u/42",
            "gravatar_id": "",
            "url": base,
            "html_url": "https://github.example/bridge-bot",
            "followers_url": f"{base}/followers",
            "following_url": f"{base}/following{{/other_user}}",
            "gists_url": f"{base}/gists{{/gist_id}}",
            "starred_url": f"{base}/starred{{/owner}}{{/repo}}",
            "subscriptions_url": f"{base}/subscriptions",
            "organizations_url": f"{base}/orgs",
            "repos_url": f"{base}/repos",
            "events_url": f"{base}/events{{/privacy}}",
            "received_events_url": f"{base}/received_events",
            "type": "User",
            "site_admin": False,
        }

    def _label_json(self, name: str) -> dict[str, Any]:
        label = self.labels[name.lower()]
        return {
            "id": label["id"],
            "node_id": f"LA_{label['id']}",
            "url": f"{self.url}/repos/{self.full_name}/labels/{quote(label['name'], safe='')}",
            "name": label["name"],
            "description": label["description"],
            "color": label["color"],
            "default": False,
        }

    def _type_json(self, name: str | None) -> dict[str, Any] | None:
        for issue_type in self.issue_types:
            if issue_type["name"] == name:
                return dict(issue_type)
        return None

    def _issue_json(self, issue: FakeIssue) -> dict[str, Any]:
        base = f"{self.url}/repos/{self.full_name}/issues/{issue.number}"
        closed_children = sum(1 for c in issue.children if self.issues[c].state == "closed")
        total = len(issue.children)
        return {
            "id": issue.id,
            "node_id": f"I_{issue.id}",
            "url": base,
            "repository_url": f"{self.url}/repos/{self.full_name}",
            "labels_url": f"{base}/labels{{/name}}",
            "comments_url": f"{base}/comments",
            "events_url": f"{base}/events",
            "html_url": f"https://github.example/{self.full_name}/issues/{issue.number}",
            "number": issue.number,
            "state": issue.state,
            "state_reason": issue.state_reason,
            "title": issue.title,
            "body": issue.body,
            "user": self._user_json(),
            "labels": [self._label_json(n) for n in issue.labels],
            "assignee": None,
            "assignees": [],
            "milestone": None,
            "locked": False,
            "active_lock_reason": None,
            "comments": len(issue.comments),
            "closed_at": _iso(issue.closed),
            "created_at": _iso(issue.created),
            "updated_at": _iso(issue.updated),
            "author_association": "OWNER",
            "type": self._type_json(issue.type),
            "sub_issues_summary": {
                "total": total,
                "completed": closed_children,
                "percent_completed": (100 * closed_children // total) if total else 0,
            },
            "parent_issue_url": (
                f"{self.url}/repos/{self.full_name}/issues/{issue.parent}" if issue.parent else None
            ),
        }

    def _comment_json(self, issue: FakeIssue, comment: dict[str, Any]) -> dict[str, Any]:
        base = f"{self.url}/repos/{self.full_name}/issues"
        return {
            "id": comment["id"],
            "node_id": f"IC_{comment['id']}",
            "url": f"{base}/comments/{comment['id']}",
            "html_url": f"https://github.example/{self.full_name}/issues/{issue.number}#issuecomment-{comment['id']}",
            "issue_url": f"{base}/{issue.number}",
            "body": comment["body"],
            "user": self._user_json(),
            "created_at": _iso(comment["created"]),
            "updated_at": _iso(comment["created"]),
            "author_association": "OWNER",
        }

    def _ref_json(self, repo: str, branch: str) -> dict[str, Any]:
        base = f"{self.url}/repos/{self.owner}/{repo}/git"
        return {
            "ref": f"refs/heads/{branch}",
            "node_id": f"REF_{branch}",
            "url": f"{base}/refs/heads/{branch}",
            "object": {
                "type": "commit",
                "sha": self.refs[branch],
                "url": f"{base}/commits/{self.refs[branch]}",
            },
        }

    def _me(self) -> dict[str, Any]:
        schema = self.spec.spec["components"]["schemas"]["private-user"]
        data: dict[str, Any] = {
            n: _placeholder(schema["properties"][n]) for n in schema["required"]
        }
        data.update(self._user_json())
        data.update(login="bridge-bot", name="Bridge Bot", email=None, type="User")
        return data

    def _repository_json(self, repo: str) -> dict[str, Any]:
        schema = self.spec.spec["components"]["schemas"]["full-repository"]
        data: dict[str, Any] = {}
        for name in schema["required"]:
            data[name] = _placeholder(schema["properties"][name])
        base = f"{self.url}/repos/{self.owner}/{repo}"
        data.update(
            id=1296269,
            node_id="R_1",
            name=repo,
            full_name=f"{self.owner}/{repo}",
            owner=self._user_json(),
            url=base,
            html_url=f"https://github.example/{self.owner}/{repo}",
            default_branch="main",
            private=True,
            fork=False,
            has_issues=True,
            license=None,
            description=None,
            homepage=None,
            language=None,
            mirror_url=None,
            permissions={
                "admin": False,
                "maintain": False,
                "push": self.push_access,
                "triage": self.push_access,
                "pull": True,
            },
        )
        return data


class GitHubSpecValidator(SpecValidator):
    """``SpecValidator`` for GitHub, whose ``{path}`` (contents API: ``ab/abcd.../shot.png``) and
    ``{ref}`` (``heads/main``) parameters span ``/``.

    The generic matcher takes one segment per parameter and offers no hook for wider ones, so this
    subclass extends its public ``match``: a request the generic matcher finds no operation for is
    tried against the templates ending in one of those parameters, with that parameter matching
    across segments. Nothing private of the validator is touched.
    """

    WIDE = ("path", "ref")

    def __init__(self, spec: dict[str, Any], **options: Any) -> None:
        super().__init__(spec, **options)
        self._wide: list[tuple[re.Pattern[str], str, list[str]]] = []
        for template in self.spec.get("paths", {}):
            names = re.findall(r"\{([^}]+)\}", template)
            if not names or names[-1] not in self.WIDE or not template.endswith("}"):
                continue
            regex = re.escape(template)
            for name in names:
                wide = name == names[-1]
                regex = regex.replace(re.escape("{" + name + "}"), "(.+)" if wide else "([^/]+)")
            self._wide.append((re.compile(f"^{regex}$"), template, names))

    def match(self, method: str, path: str) -> Operation | None:
        found = super().match(method, path)
        if found is not None:
            return found
        for prefix, target in self.aliases.items():  # as the generic matcher applies them
            if path.startswith(prefix):
                path = target + path[len(prefix) :]
                break
        if not path.startswith(self.base_path + "/"):
            return None
        spec_path = path[len(self.base_path) :]
        for regex, template, names in self._wide:
            hit = regex.match(spec_path)
            op = self.spec["paths"][template].get(method.lower()) if hit else None
            if hit is None or op is None:
                continue
            pointer_path = template.replace("~", "~0").replace("/", "~1")
            return Operation(
                method=method.lower(),
                template=template,
                pointer=f"/paths/{pointer_path}/{method.lower()}",
                path_params=dict(zip(names, hit.groups(), strict=True)),
                spec=op,
            )
        return None


def _placeholder(schema: dict[str, Any]) -> Any:
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    if kind == "string" or ("$ref" not in schema and kind is None and "anyOf" not in schema):
        fmt = schema.get("format")
        return "2026-01-05T09:00:00Z" if fmt == "date-time" else "https://github.example/x"
    if kind == "integer":
        return 0
    if kind == "boolean":
        return False
    if kind == "array":
        return []
    return None


def _blob_sha(content: bytes) -> str:
    """Git's blob id of ``content``, as the contents API reports it in ``sha``."""
    return hashlib.sha1(b"blob %d\0" % len(content) + content).hexdigest()
