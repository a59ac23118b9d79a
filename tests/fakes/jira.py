"""A stateful fake Jira (Cloud or Data Center flavour) served over HTTP on 127.0.0.1.

It implements the slice of the REST API v2 that tracker-bridge and the ``jira`` library use:
projects and issue types, link types, permissions, attachment settings, issues (create with
``update.issuelinks``, get, edit labels), transitions, comments, attachments (multipart, several
files per request; deleting one takes DELETE_OWN_ATTACHMENTS for its author, else
DELETE_ALL_ATTACHMENTS), issue links and search -- ``/search/jql`` with ``nextPageToken`` on Cloud
(where ``/search`` answers 410 Gone), ``/search`` with ``startAt`` on Data Center. JQL is parsed
for real (quoting, escapes, reserved words, ``AND``/``OR``/``NOT``, ``~`` with Lucene escapes), so
an unescaped value changes what a search finds, as it would on Jira.

Every request and every response is checked against the committed slice of the official OpenAPI
description (``tests/specs``); problems are collected in ``FakeJira.violations`` and the request
is answered 400, so a bridge that drifts from the API fails its tests.

Faults are injected per request: a fixed ``latency``, ``fail(status, retry_after=...)`` answers
without touching state, ``drop_after_commit()`` stores the write and then closes the connection
without a response (a lost response), ``drop_before()`` closes it before anything is stored.

Scale. Every request costs about the same however many issues the site holds: issues are found
by key or id through dicts, issue links, children and attachments through indexes, only the
fields asked for are built, and a search evaluates its JQL once, on its first page; later pages
of that query are cut from the same result (a snapshot, as a cursor would). So the fake can hold
50,000 issues and answer 100,000 requests in minutes (``benchmarks/check_scale.py``).
``links`` is append-only (the index follows appends; tests and seeders may append directly).

Leniencies (each one is a place where the published description is wrong about Jira):
see ``CLOUD_LENIENCIES`` and ``DC_LENIENCIES``. Paths outside ``/rest/`` (Data Center attachment
content under ``/secure/attachment``) are not in either description and are not checked.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import re
import time
from collections import OrderedDict, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from werkzeug.datastructures import FileStorage
from werkzeug.wrappers import Request, Response

from fakes.jql import JqlError, Query, check_values, lucene_match, parse_jql
from fakes.openapi import Leniency, SpecValidator, load_spec
from fakes.profiles import JiraProfile, jira_profile, standard
from fakes.server import FakeServer, HttpError

SPECS = Path(__file__).resolve().parent.parent / "specs"
Flavour = Literal["cloud", "datacenter"]

_REMOTELINK_GET = "/paths/~1rest~1api~13~1issue~1{issueIdOrKey}~1remotelink/get/responses/200/content/application~1json/schema"
CLOUD_LENIENCIES = (
    Leniency(
        _REMOTELINK_GET,
        {"type": "array", "items": {"$ref": "#/components/schemas/RemoteIssueLink"}},
        "Without globalId, Jira answers the list of an issue's remote links, not one link.",
    ),
)
"""The Cloud description is served under ``/rest/api/3``; REST v2 serves the same resources
(``aliases`` maps them), with strings where v3 has ADF documents, which the v3 schemas leave
untyped (``description``, comment ``body``), so no schema patch is needed for that."""

DC_LENIENCIES = (
    Leniency(
        "/paths/~1api~12~1field/get/responses/200/content/application~1json/schema",
        {"type": "array", "items": {"$ref": "#/components/schemas/FieldBean"}},
        "DC 10.3 documents one field; Jira answers the list of all fields ('Returns a list of "
        "all fields', as the same operation's description says).",
    ),
    Leniency(
        "/paths/~1api~12~1issue~1createmeta~1{projectIdOrKey}~1issuetypes~1{issueTypeId}/get/"
        "responses/200/content/application~1json/schema",
        {
            "type": "object",
            "required": ["values"],
            "properties": {
                "values": {
                    "type": "array",
                    "items": {"$ref": "#/components/schemas/FieldMetaBean"},
                },
                "startAt": {"type": "integer"},
                "maxResults": {"type": "integer"},
                "total": {"type": "integer"},
                "isLast": {"type": "boolean"},
            },
        },
        "DC 10.3 documents one field; Jira answers a page of them under 'values' (with startAt, "
        "maxResults, total, isLast), as its own REST reference for 8.4+ shows.",
    ),
    Leniency(
        "/components/schemas/IssueUpdateBean/properties/fields/additionalProperties",
        {},
        "DC 10.3 types every issue field value as an object; Jira takes strings (summary), "
        "arrays (labels) and objects alike.",
    ),
    Leniency(
        "/components/schemas/IssueBean/properties/fields/additionalProperties",
        {},
        "DC 10.3 types every returned field value as an object; Jira returns strings, arrays "
        "and nulls (summary, labels, an empty description).",
    ),
    Leniency(
        "/paths/~1api~12~1issue~1{issueIdOrKey}~1attachments/post/responses/200/content/"
        "application~1json/schema",
        {"type": "array", "items": {"$ref": "#/components/schemas/AttachmentJsonBean"}},
        "DC 10.3 documents one attachment; Jira answers the list of attachments it stored.",
    ),
    Leniency(
        "/paths/~1api~12~1attachment~1{id}/delete/responses",
        {
            "204": {"description": "Removal was successful"},
            "403": {"description": "The calling user is not permitted to remove it."},
            "404": {"description": "There is no attachment with the requested id."},
        },
        "DC 10.3 leaves out 404 on deleting an attachment; Jira answers 404 for an unknown id, "
        "as it documents for reading one (and as Cloud documents for deleting one).",
    ),
    Leniency(
        "/paths/~1api~12~1issue~1{issueIdOrKey}/put/responses",
        {
            "204": {"description": "Updated."},
            "400": {"description": "The update failed."},
            "403": {"description": "No permission."},
            "404": {"description": "The issue does not exist or cannot be seen."},
        },
        "DC 10.3 leaves out 404 on editing an issue; Jira answers 404 for an unknown key, as it "
        "documents for reading one.",
    ),
    Leniency(
        "/paths/~1api~12~1issue~1{issueIdOrKey}~1remotelink/get/responses/200/content/"
        "application~1json/schema",
        {"type": "array", "items": {"type": "object"}},
        "Without globalId, Jira answers the list of an issue's remote links, not one object.",
    ),
)

ANY_OPERATION = (401, 429, 500, 502, 503)
"""Authentication failures, rate limits and outages, documented once for the whole API."""

STATUSES = {
    "To Do": ("1", "new", 2, "To Do"),
    "In Progress": ("3", "indeterminate", 4, "In Progress"),
    "Done": ("10001", "done", 3, "Done"),
    "Reopened": ("4", "new", 2, "To Do"),
}
ISSUE_TYPES = (
    {"id": "10000", "name": "Epic", "subtask": False, "hierarchyLevel": 1},
    {"id": "10001", "name": "Story", "subtask": False, "hierarchyLevel": 0},
    {"id": "10002", "name": "Task", "subtask": False, "hierarchyLevel": 0},
    {"id": "10003", "name": "Sub-task", "subtask": True, "hierarchyLevel": -1},
    {"id": "10004", "name": "Bug", "subtask": False, "hierarchyLevel": 0},
)
LINK_TYPES = (
    {"id": "10000", "name": "Blocks", "inward": "is blocked by", "outward": "blocks"},
    {"id": "10001", "name": "Cloners", "inward": "is cloned by", "outward": "clones"},
    {"id": "10002", "name": "Duplicate", "inward": "is duplicated by", "outward": "duplicates"},
    {"id": "10003", "name": "Relates", "inward": "relates to", "outward": "relates to"},
)
PERMISSIONS = (
    "BROWSE_PROJECTS",
    "CREATE_ISSUES",
    "EDIT_ISSUES",
    "LINK_ISSUES",
    "CREATE_ATTACHMENTS",
    "DELETE_OWN_ATTACHMENTS",
    "TRANSITION_ISSUES",
    "ADD_COMMENTS",
)
EMAIL, TOKEN = "bot@example.com", "s3cr3t-token-value"

SCREEN = (
    # field id, name, schema, required, has a default
    ("project", "Project", {"type": "project", "system": "project"}, True, False),
    ("issuetype", "Issue Type", {"type": "issuetype", "system": "issuetype"}, True, False),
    ("summary", "Summary", {"type": "string", "system": "summary"}, True, False),
    ("reporter", "Reporter", {"type": "user", "system": "reporter"}, True, True),
    ("description", "Description", {"type": "string", "system": "description"}, False, False),
    ("labels", "Labels", {"type": "array", "items": "string", "system": "labels"}, False, False),
    (
        "components",
        "Components",
        {"type": "array", "items": "component", "system": "components"},
        False,
        False,
    ),
    ("assignee", "Assignee", {"type": "user", "system": "assignee"}, False, False),
    ("priority", "Priority", {"type": "priority", "system": "priority"}, False, True),
    ("duedate", "Due date", {"type": "date", "system": "duedate"}, False, False),
    (
        "customfield_10020",
        "Sprint",
        {
            "type": "array",
            "items": "json",
            "custom": "com.pyxis.greenhopper.jira:gh-sprint",
            "customId": 10020,
        },
        False,
        False,
    ),
    ("parent", "Parent", {"type": "issuelink", "system": "parent"}, False, False),
    (
        "issuelinks",
        "Linked Issues",
        {"type": "array", "items": "issuelinks", "system": "issuelinks"},
        False,
        False,
    ),
)
"""The default create screen of every project and issue type; ``FakeJira.screen`` changes one."""


@dataclass
class FakeIssue:
    id: str
    key: str
    project: str
    summary: str
    issuetype: dict[str, Any]
    labels: list[str]
    description: str | None
    created: datetime
    status: str = "To Do"
    updated: datetime | None = None
    resolved: datetime | None = None
    parent: str | None = None
    attachments: list[dict[str, Any]] = field(default_factory=list)
    comments: list[dict[str, Any]] = field(default_factory=list)
    remote_links: list[dict[str, Any]] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    """Fields set on create beyond those modelled above (components, custom fields, ...)."""
    visible_at: float = 0.0
    """``time.monotonic()`` from which searches find it (``search_lag`` after its create)."""


@dataclass
class Link:
    id: str
    type: dict[str, str]
    source: str
    """``source`` <outward phrase> ``target``: the source shows it as ``outwardIssue``."""
    target: str


class ApiError(HttpError):
    def __init__(self, status: int, *messages: str, errors: dict[str, str] | None = None):
        super().__init__(status, messages)
        self.status = status
        self.body = {"errorMessages": list(messages), "errors": errors or {}}


def _when(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


class FakeJira(FakeServer):
    """The fake site. Use as a context manager or call ``start()``/``stop()``."""

    json_type = "application/json;charset=UTF-8"
    poll_interval = 0.02

    def __init__(
        self,
        flavour: Flavour = "cloud",
        *,
        project: str = "OPS",
        upload_limit: int = 10 * 1024 * 1024,
        latency: float = 0.0,
        profile: JiraProfile | str | None = None,
    ) -> None:
        chosen = jira_profile(profile) if profile is not None else None
        if chosen is not None:
            flavour = chosen.flavour
        self.profile = chosen or standard(flavour)
        spec_name, aliases, leniencies, base = (
            ("jira-cloud.slice.json", {"/rest/api/2/": "/rest/api/3/"}, CLOUD_LENIENCIES, None)
            if flavour == "cloud"
            else ("jira-dc.slice.json", {}, DC_LENIENCIES, "/rest")
        )
        super().__init__(
            SpecValidator(
                load_spec(SPECS / spec_name),
                aliases=aliases,
                leniencies=leniencies,
                base_path=base,
                any_operation_statuses=ANY_OPERATION,
            ),
            latency=latency,
        )
        self.flavour = flavour
        self.projects: dict[str, dict[str, Any]] = {
            project: {"id": "10100", "key": project, "name": "Operations"},
            "SECRET": {"id": "10200", "key": "SECRET", "name": "Secret stuff"},
        }
        self.issue_types = [dict(t) for t in ISSUE_TYPES]
        self.link_types = [dict(t) for t in LINK_TYPES]
        self.permissions = set(PERMISSIONS)
        """This account's permissions in every project without its own entry below."""
        self.project_permissions: dict[str, set[str]] = {}
        self.components: dict[str, list[str]] = {}
        """Components by project key (none by default)."""
        self.project_types: dict[str, list[str]] = {}
        """Issue type names by project key, where a project offers fewer than all of them."""
        self.screens: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}
        self.upload_limit = upload_limit
        self.attachments_enabled = True
        self.issues: dict[str, FakeIssue] = {}
        self.links: list[Link] = []
        self._by_id: dict[str, FakeIssue] = {}
        self._link_index: dict[str, list[tuple[Link, str]]] = defaultdict(list)
        self._link_indexed: tuple[int, int] = (0, 0)
        """``(id(links), how many of them are in _link_index)``."""
        self._attachment_index: dict[str, dict[str, Any]] = {}
        self._snapshots: OrderedDict[str, list[FakeIssue]] = OrderedDict()
        """The result of each recent JQL query, from its first page, for its later pages."""
        self.reject_invalid = True
        """False: record spec violations but answer anyway (to measure clients that drift)."""
        self._ids = itertools.count(10001)
        self._numbers: dict[str, itertools.count[int]] = {}
        self._clock = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
        self.transitions = self.profile.transitions
        self.tick = timedelta(seconds=1)
        """How far the clock moves per change; ``timedelta(0)``: every issue has one timestamp."""

    # -- test controls ---------------------------------------------------------------------

    def add_issue(
        self,
        summary: str,
        *,
        project: str = "OPS",
        issuetype: str = "Task",
        labels: tuple[str, ...] = (),
        description: str | None = None,
        status: str = "To Do",
    ) -> str:
        """Create an issue directly (as a person would in the UI); returns its key."""
        with self._lock:
            issue = self._new_issue(project, summary, self._type_named(issuetype), list(labels))
            issue.description = description
            issue.status = status
            return issue.key

    def add_project(
        self,
        key: str,
        name: str = "",
        *,
        issue_types: tuple[str, ...] | None = None,
        components: tuple[str, ...] = (),
    ) -> None:
        """Another project on this site (another team's), with its own types and components."""
        with self._lock:
            number = 10100 + 100 * len(self.projects)
            self.projects[key] = {"id": str(number), "key": key, "name": name or key.title()}
            if issue_types is not None:
                self.project_types[key] = list(issue_types)
            self.components[key] = list(components)

    def screen(self, project: str, issue_type: str) -> dict[str, dict[str, Any]]:
        """The create screen of one project and issue type, by field id (edit it in tests)."""
        with self._lock:
            return self.screens.setdefault(
                (project, issue_type),
                {
                    fid: {
                        "fieldId": fid,
                        "key": fid,
                        "name": name,
                        "schema": schema,
                        "required": required,
                        "hasDefaultValue": default,
                        "operations": ["set"],
                    }
                    for fid, name, schema, required, default in SCREEN
                },
            )

    def require_field(
        self, project: str, issue_type: str, field_id: str, name: str, allowed: tuple[str, ...] = ()
    ) -> None:
        """Put a required custom field (a select list when ``allowed``) on a create screen."""
        meta: dict[str, Any] = {
            "fieldId": field_id,
            "key": field_id,
            "name": name,
            "schema": {
                "type": "option" if allowed else "string",
                "custom": "com.atlassian.jira.plugin.system.customfieldtypes:select",
                "customId": int(field_id.rsplit("_", 1)[-1]),
            },
            "required": True,
            "hasDefaultValue": False,
            "operations": ["set"],
        }
        if allowed:
            meta["allowedValues"] = [
                {"id": str(20000 + i), "value": v} for i, v in enumerate(allowed)
            ]
        self.screen(project, issue_type)[field_id] = meta

    def can(self, permission: str, project: str) -> bool:
        """Whether this account holds ``permission`` in ``project``."""
        return permission in self.project_permissions.get(project, self.permissions)

    def types_of(self, project: str) -> list[dict[str, Any]]:
        """The issue types ``project`` offers."""
        names = self.project_types.get(project)
        return [t for t in self.issue_types if names is None or t["name"] in names]

    # -- HTTP ------------------------------------------------------------------------------

    def _error_body(self, status: int, message: str) -> Any:
        return {"errorMessages": [f"injected {status}"], "errors": {}}

    def _checks(self, path: str) -> bool:
        """Paths outside ``/rest/`` (DC attachment content) are in neither description."""
        return path.startswith("/rest/") and self.validate

    def _answer(self, request: Request) -> Response:
        problems = self._check_request(request)
        if problems and self.reject_invalid:
            return self._json({"errorMessages": problems, "errors": {}}, 400)
        response = self._respond(request)
        self._check_response(request.method, request.path, response)
        return response

    def _authenticate(self, request: Request) -> None:
        header = request.headers.get("Authorization", "")
        if self.flavour == "cloud":
            expected = "Basic " + base64.b64encode(f"{EMAIL}:{TOKEN}".encode()).decode()
        else:
            expected = f"Bearer {TOKEN}"
        if header != expected and not request.path.startswith("/secure/"):
            raise ApiError(401, "You are not authenticated. Authentication required.")

    def _route(self, request: Request, method: str, path: str) -> Response:
        if path.startswith("/secure/attachment/"):
            return self._content(path.split("/")[3])
        parts = path.strip("/").split("/")
        if len(parts) < 4 or parts[:2] != ["rest", "api"] or parts[2] not in ("2", "3"):
            raise ApiError(404, "Not found")
        if self.flavour == "datacenter" and parts[2] == "3":
            raise ApiError(404, "Not found")
        rest = parts[3:]
        data = request.get_json(silent=True) if request.is_json else None
        head = rest[0]
        self._gate(method, rest)
        if head == "serverInfo" and method == "GET":
            return self._json(self._server_info())
        if head == "myself" and method == "GET":
            return self._json(self._myself())
        if head == "field" and len(rest) == 1 and method == "GET":
            return self._json(
                [
                    {
                        "id": name,
                        "key": name,
                        "name": name.title(),
                        "custom": False,
                        "navigable": True,
                        "searchable": True,
                        "clauseNames": [name],
                    }
                    for name in (
                        "summary",
                        "description",
                        "labels",
                        "status",
                        "issuetype",
                        "parent",
                        "issuelinks",
                        "attachment",
                        "created",
                        "updated",
                    )
                ]
            )
        if head == "project" and len(rest) == 2 and method == "GET":
            return self._json(self._project(rest[1]))
        if head == "issueLinkType" and method == "GET":
            return self._json({"issueLinkTypes": [self._link_type(t) for t in self.link_types]})
        if head == "issueLink" and method == "POST":
            return self._create_link(data or {})
        if head == "issueLink" and len(rest) == 2 and method == "DELETE":
            return self._delete_link(rest[1])
        if head == "mypermissions" and method == "GET":
            return self._json(self._my_permissions(request))
        if head == "attachment" and rest[1:] == ["meta"] and method == "GET":
            return self._json(
                {"enabled": self.attachments_enabled, "uploadLimit": self.upload_limit}
            )
        if head == "attachment" and len(rest) == 3 and rest[1] == "content" and method == "GET":
            return self._content(rest[2])
        if head == "attachment" and len(rest) == 2 and method == "DELETE":
            self._delete_attachment(rest[1])
            return Response(b"", 204)
        if head == "search" and len(rest) == 1:
            if self.flavour == "cloud":
                raise ApiError(
                    410, "The requested API has been removed. Use /rest/api/3/search/jql."
                )
            return self._search_dc(request, data)
        if head == "search" and rest[1:] == ["jql"]:
            if self.flavour != "cloud":
                raise ApiError(404, "Not found")
            return self._search_cloud(request, data)
        if head == "issue" and len(rest) == 1 and method == "POST":
            return self._create(data or {})
        createmeta = len(rest) == 5 and rest[1:4:2] == ["createmeta", "issuetypes"]
        if head == "issue" and createmeta and method == "GET":
            return self._json(self._create_meta(request, rest[2], rest[4]))
        if head == "issue" and len(rest) >= 2:
            issue = self._issue(rest[1])
            sub = rest[2] if len(rest) > 2 else ""
            if sub == "" and method == "GET":
                fields = request.args.get("fields")
                return self._json(self._issue_json(issue, _field_list(fields), default="*all"))
            if sub == "" and method == "PUT":
                self._edit(issue, data or {})
                return Response(b"", 204)
            if sub == "transitions" and method == "GET":
                return self._json({"transitions": self._transitions(issue)})
            if sub == "transitions" and method == "POST":
                self._transition(issue, data or {})
                return Response(b"", 204)
            if sub == "comment" and method == "POST":
                return self._json(self._comment(issue, data or {}), 201)
            if sub == "comment" and method == "GET":
                return self._json(
                    {
                        "comments": issue.comments,
                        "startAt": 0,
                        "maxResults": len(issue.comments),
                        "total": len(issue.comments),
                    }
                )
            if sub == "attachments" and method == "POST":
                return self._json(self._attach(issue, request))
            if sub == "remotelink" and method == "GET":
                return self._json(issue.remote_links)
            if sub == "remotelink" and method == "POST":
                return self._remote_link(issue, data or {})
        raise ApiError(404, f"No fake for {method} {path}")

    def _gate(self, method: str, rest: list[str]) -> None:
        """The profile's missing, forbidden and refused endpoints."""
        profile = self.profile
        endpoint = (
            "attachment/meta"
            if rest[:2] == ["attachment", "meta"]
            else "createmeta"
            if rest[:2] == ["issue", "createmeta"]
            else "remotelink"
            if rest[:1] == ["issue"] and rest[2:3] == ["remotelink"]
            else rest[0]
        )
        if endpoint in profile.missing:
            raise ApiError(404, "null for uri: " + "/".join(rest))
        if endpoint in profile.forbidden:
            raise ApiError(403, "You do not have the permission to see the specified resource.")
        if rest == ["search"] and method == "POST" and not profile.search_post:
            raise ApiError(405, "Method Not Allowed")

    def _fault_response(self, request: Request, fault: Any) -> Response:
        if not self.profile.html_errors and self.profile.retry_after:
            return super()._fault_response(request, fault)
        if self.profile.html_errors:
            page = (
                f"<!DOCTYPE html><html><head><title>{fault.status} Proxy Error</title></head>"
                f"<body><h1>Proxy Error</h1><p>{fault.message}</p></body></html>"
            )
            response = Response(page, fault.status, content_type="text/html; charset=iso-8859-1")
        else:
            response = self._json(self._error_body(fault.status, fault.message), fault.status)
        if self.profile.retry_after:
            response.headers.update(fault.headers)
        return response

    def _check_response(self, method: str, path: str, response: Response) -> None:
        """Deviating profiles answer off-spec on purpose; only their requests are checked."""
        if self.profile.standard:
            super()._check_response(method, path, response)

    # -- resources -------------------------------------------------------------------------

    def _myself(self) -> dict[str, Any]:
        if self.flavour == "cloud":
            return {
                "self": f"{self.url}/rest/api/2/user?accountId=5b10a2844c20165700ede21g",
                "accountId": "5b10a2844c20165700ede21g",
                "accountType": "atlassian",
                "emailAddress": EMAIL,
                "displayName": "Bridge Bot",
                "active": True,
                "timeZone": "UTC",
            }
        return {
            "self": f"{self.url}/rest/api/2/user?username=bridge-bot",
            "key": "JIRAUSER10100",
            "name": "bridge-bot",
            "emailAddress": EMAIL,
            "displayName": "Bridge Bot",
            "active": True,
            "timeZone": "UTC",
        }

    def _server_info(self) -> dict[str, Any]:
        if self.flavour == "cloud":
            return {
                "baseUrl": self.url,
                "deploymentType": "Cloud",
                "version": "1001.0.0-SNAPSHOT",
                "versionNumbers": [1001, 0, 0],
                "buildNumber": 100280,
                "serverTitle": "Fake Jira",
            }
        version = self.profile.version
        return {
            "baseUrl": self.url,
            "deploymentType": "Server",
            "version": version,
            "versionNumbers": [int(n) for n in version.split(".")],
            "buildNumber": 10030004,
            "serverTitle": "Fake Jira DC",
        }

    def _find_project(self, key_or_id: str) -> dict[str, Any]:
        for project in self.projects.values():
            if key_or_id in (project["key"], project["id"]):
                return project
        raise ApiError(404, f"No project could be found with key '{key_or_id}'.")

    def _project(self, key_or_id: str) -> dict[str, Any]:
        project = self._find_project(key_or_id)
        return {
            "id": project["id"],
            "key": project["key"],
            "name": project["name"],
            "self": f"{self.url}/rest/api/2/project/{project['id']}",
            "issueTypes": [self._type_json(t) for t in self.types_of(project["key"])],
        }

    def _type_json(self, issue_type: dict[str, Any]) -> dict[str, Any]:
        out = {
            "id": issue_type["id"],
            "name": issue_type["name"],
            "subtask": issue_type["subtask"],
            "self": f"{self.url}/rest/api/2/issuetype/{issue_type['id']}",
        }
        if self.flavour == "cloud":
            out["hierarchyLevel"] = issue_type["hierarchyLevel"]
        return out

    def _type_named(self, name: str) -> dict[str, Any]:
        for issue_type in self.issue_types:
            if issue_type["name"] == name:
                return issue_type
        raise ApiError(400, errors={"issuetype": "Specify a valid issue type"})

    def _link_type(self, link_type: dict[str, str]) -> dict[str, str]:
        return {**link_type, "self": f"{self.url}/rest/api/2/issueLinkType/{link_type['id']}"}

    def _my_permissions(self, request: Request) -> dict[str, Any]:
        project = request.args.get("projectKey")
        if project is not None:
            self._find_project(project)
        wanted = request.args.get("permissions")
        if self.flavour == "cloud" and not wanted:
            raise ApiError(400, "The 'permissions' query parameter is required.")
        keys = wanted.split(",") if wanted else list(PERMISSIONS)
        held = (
            self.project_permissions.get(project, self.permissions) if project else self.permissions
        )
        return {
            "permissions": {
                k: {
                    "id": str(i),
                    "key": k,
                    "name": k.replace("_", " ").title(),
                    "type": "PROJECT",
                    "havePermission": k in held,
                }
                for i, k in enumerate(keys)
            }
        }

    def _issue(self, key_or_id: str) -> FakeIssue:
        issue = self.issues.get(key_or_id) or self._by_id.get(key_or_id)
        if issue is None:
            raise ApiError(404, "Issue does not exist or you do not have permission to see it.")
        return issue

    def links_of(self, key: str) -> list[tuple[Link, str]]:
        """The issue links of ``key``, each with the side the *other* issue is on for it."""
        indexed_list, indexed = self._link_indexed
        if indexed_list != id(self.links) or indexed > len(self.links):
            self._link_index.clear()
            indexed = 0
        for link in self.links[indexed:]:
            self._link_index[link.source].append((link, "outwardIssue"))
            self._link_index[link.target].append((link, "inwardIssue"))
        self._link_indexed = (id(self.links), len(self.links))
        return self._link_index.get(key, [])

    def _tick(self) -> datetime:
        self._clock += self.tick
        return self._clock

    def _new_issue(
        self, project: str, summary: str, issuetype: dict[str, Any], labels: list[str]
    ) -> FakeIssue:
        numbers = self._numbers.setdefault(project, itertools.count(1))
        now = self._tick()
        if self.profile.same_created:
            self._clock = now = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
        issue = FakeIssue(
            id=str(next(self._ids)),
            key=f"{project}-{next(numbers)}",
            project=project,
            summary=summary,
            issuetype=issuetype,
            labels=labels,
            description=None,
            created=now,
            updated=now,
            visible_at=time.monotonic() + self.search_lag,
        )
        self.issues[issue.key] = issue
        self._by_id[issue.id] = issue
        return issue

    def _create(self, data: dict[str, Any]) -> Response:
        fields = dict(data.get("fields") or {})
        errors: dict[str, str] = {}
        project_ref = fields.get("project") or {}
        try:
            project = self._find_project(str(project_ref.get("id") or project_ref.get("key") or ""))
        except ApiError:
            raise ApiError(400, errors={"project": "Specify a valid project ID or key"}) from None
        if not self.can("CREATE_ISSUES", project["key"]):
            raise ApiError(403, "You do not have permission to create issues in this project.")
        if self.profile.creates_in:
            project = self._find_project(self.profile.creates_in)
        type_ref = fields.get("issuetype") or {}
        issuetype = next(
            (
                t
                for t in self.types_of(project["key"])
                if t["id"] == type_ref.get("id") or t["name"] == type_ref.get("name")
            ),
            None,
        )
        if issuetype is None:
            errors["issuetype"] = "Specify a valid issue type"
        else:
            self._check_screen(project["key"], issuetype["name"], fields, data, errors)
        summary = fields.get("summary")
        if not isinstance(summary, str) or not summary.strip():
            errors["summary"] = "You must specify a summary of the issue."
        elif len(summary) > 255:
            errors["summary"] = "Summary can't exceed 255 characters."
        elif "\n" in summary or "\r" in summary:
            errors["summary"] = "The summary is invalid because it contains newline characters."
        labels = fields.get("labels") or []
        for label in labels:
            if not isinstance(label, str) or " " in label or not label or len(label) > 255:
                errors["labels"] = f"The label '{label}' contains spaces or is too long."
        description = fields.get("description")
        if description is not None and (
            not isinstance(description, str) or len(description) > 32767
        ):
            errors["description"] = "The entered text is too long. It exceeds the allowed limit."
        parent = self._parent_for(fields.get("parent"), issuetype, project["key"], errors)
        links = self._links_for(data.get("update") or {}, project["key"], errors)
        if issuetype is not None and issuetype["subtask"] and parent is None:
            errors.setdefault(
                "parent", "Given parent issue does not belong to appropriate hierarchy."
            )
        if errors:
            raise ApiError(400, errors=errors)
        assert issuetype is not None and isinstance(summary, str)
        issue = self._new_issue(project["key"], summary, issuetype, list(labels))
        issue.description = description
        issue.parent = parent
        issue.extra = {k: v for k, v in fields.items() if k not in _MODELLED}
        for type_, direction, other in links:
            link_id = str(next(self._ids))
            if direction == "outwardIssue":
                self.links.append(Link(link_id, type_, issue.key, other))
            else:
                self.links.append(Link(link_id, type_, other, issue.key))
        return self._json(
            {"id": issue.id, "key": issue.key, "self": f"{self.url}/rest/api/2/issue/{issue.id}"},
            201,
        )

    def _parent_for(
        self,
        ref: Any,
        issuetype: dict[str, Any] | None,
        project: str,
        errors: dict[str, str],
    ) -> str | None:
        if not ref:
            return None
        key = str(ref.get("key") or ref.get("id") or "")
        try:
            parent = self._issue(key)
        except ApiError:
            errors["parent"] = f"Could not find issue by id or key: {key}"
            return None
        if issuetype is None:
            return None
        if issuetype["subtask"]:
            if parent.project != project:
                errors["parent"] = "A sub-task must be in the same project as its parent."
        elif parent.issuetype["hierarchyLevel"] != issuetype["hierarchyLevel"] + 1:
            errors["parent"] = "Given parent issue does not belong to appropriate hierarchy."
        return parent.key

    def _check_screen(
        self,
        project: str,
        issue_type: str,
        fields: dict[str, Any],
        data: dict[str, Any],
        errors: dict[str, str],
    ) -> None:
        """Jira refuses fields that are not on the create screen and required ones left out."""
        screen = self.screen(project, issue_type)
        sent = set(fields) | {k for k in (data.get("update") or {}) if (data["update"][k] or [])}
        for name in sorted(sent - set(screen)):
            errors[name] = (
                f"Field '{name}' cannot be set. It is not on the appropriate screen, or unknown."
            )
        for fid, meta in screen.items():
            if meta["required"] and not meta["hasDefaultValue"] and fid not in fields:
                errors.setdefault(fid, f"{meta['name']} is required.")
            allowed = meta.get("allowedValues")
            if allowed and fid in fields:
                value = fields[fid]
                if not isinstance(value, dict) or value.get("value") not in [
                    a["value"] for a in allowed
                ]:
                    errors[fid] = f"Specify a valid value for {meta['name']}"
        known = self.components.get(project, [])
        for component in fields.get("components") or []:
            name = component.get("name") if isinstance(component, dict) else None
            if name not in known:
                errors["components"] = f"Component name '{name}' is not valid"

    def _create_meta(self, request: Request, project_key: str, type_id: str) -> dict[str, Any]:
        try:
            project = self._find_project(project_key)
        except ApiError:
            raise ApiError(400, f"No project could be found with key '{project_key}'.") from None
        if not self.can("CREATE_ISSUES", project["key"]):
            raise ApiError(400, "You do not have permission to create issues in this project.")
        issuetype = next((t for t in self.types_of(project["key"]) if t["id"] == type_id), None)
        if issuetype is None:
            raise ApiError(400, "The issue type is not valid for this project.")
        screen = self.screen(project["key"], issuetype["name"])
        entries = []
        for meta in screen.values():
            entry = dict(meta)
            if meta["fieldId"] == "components":
                entry["allowedValues"] = [
                    {"id": str(30000 + i), "name": n}
                    for i, n in enumerate(self.components.get(project["key"], []))
                ]
            entries.append(entry)
        start = int(request.args.get("startAt") or 0)
        size = min(int(request.args.get("maxResults") or 50), 200)
        page = entries[start : start + size]
        out: dict[str, Any] = {"startAt": start, "maxResults": size, "total": len(entries)}
        if self.flavour == "cloud":
            out["fields"] = page
        else:
            out["values"] = page
            out["isLast"] = start + size >= len(entries)
        return out

    def _links_for(
        self, update: dict[str, Any], project: str, errors: dict[str, str]
    ) -> list[tuple[dict[str, str], str, str]]:
        found = []
        for operation in update.get("issuelinks") or []:
            add = operation.get("add") or {}
            type_ref = add.get("type") or {}
            link_type = next(
                (
                    t
                    for t in self.link_types
                    if t["name"] == type_ref.get("name") or t["id"] == type_ref.get("id")
                ),
                None,
            )
            if link_type is None:
                errors["issuelinks"] = (
                    f"No issue link type with name '{type_ref.get('name')}' found."
                )
                continue
            for direction in ("outwardIssue", "inwardIssue"):
                if direction in add:
                    key = str(add[direction].get("key") or add[direction].get("id"))
                    try:
                        other = self._issue(key)
                    except ApiError:
                        errors["issuelinks"] = f"Could not find issue by id or key: {key}"
                        continue
                    found.append((link_type, direction, other.key))
        if found and not self.can("LINK_ISSUES", project):
            errors["issuelinks"] = "You do not have the permission to link issues."
        return found

    def _create_link(self, data: dict[str, Any]) -> Response:
        type_ref = data.get("type") or {}
        link_type = next((t for t in self.link_types if t["name"] == type_ref.get("name")), None)
        if link_type is None:
            raise ApiError(404, f"No issue link type with name '{type_ref.get('name')}' found.")
        inward = self._issue(str((data.get("inwardIssue") or {}).get("key")))
        outward = self._issue(str((data.get("outwardIssue") or {}).get("key")))
        if not self.can("LINK_ISSUES", inward.project):
            raise ApiError(403, "You do not have the permission to link issues.")
        exists = any(
            (x.type["name"], x.source, x.target) == (link_type["name"], inward.key, outward.key)
            for x, _ in self.links_of(inward.key)
        )
        if not exists:  # Jira answers 201 for a link that already exists, and keeps one
            self.links.append(Link(str(next(self._ids)), link_type, inward.key, outward.key))
        return Response(b"", 201)

    def _delete_link(self, link_id: str) -> Response:
        link = next((x for x in self.links if x.id == link_id), None)
        if link is None:
            raise ApiError(404, f"No issue link with id '{link_id}' exists.")
        if not self.can("LINK_ISSUES", self.issues[link.source].project):
            raise ApiError(403, "You do not have the permission to link issues.")
        # a new list, so the link index (built for appends only) is rebuilt
        self.links = [x for x in self.links if x.id != link_id]
        return Response(b"", 204)

    def _edit(self, issue: FakeIssue, data: dict[str, Any]) -> None:
        if not self.can("EDIT_ISSUES", issue.project):
            raise ApiError(403, "You do not have permission to edit issues.")
        for operation in (data.get("update") or {}).get("labels", []):
            if "add" in operation:
                label = operation["add"]
                if " " in label or len(label) > 255:
                    raise ApiError(400, errors={"labels": "Labels cannot contain spaces."})
                if label not in issue.labels:
                    issue.labels.append(label)
            if "remove" in operation and operation["remove"] in issue.labels:
                issue.labels.remove(operation["remove"])
        fields = data.get("fields") or {}
        if "summary" in fields:
            summary = fields["summary"]
            if not isinstance(summary, str) or not summary.strip() or len(summary) > 255:
                raise ApiError(400, errors={"summary": "Summary can't exceed 255 characters."})
            issue.summary = summary
        if "parent" in fields:
            errors: dict[str, str] = {}
            parent = self._parent_for(fields["parent"], issue.issuetype, issue.project, errors)
            if errors:
                raise ApiError(400, errors=errors)
            issue.parent = parent
        if "labels" in fields:
            issue.labels = list(fields["labels"])
        if "description" in fields:
            issue.description = fields["description"]
        issue.updated = self._tick()

    def _transitions(self, issue: FakeIssue) -> list[dict[str, Any]]:
        return [
            {"id": tid, "name": name, "to": self._status_json(to)}
            for tid, name, sources, to in self.transitions
            if issue.status in sources
        ]

    def _transition(self, issue: FakeIssue, data: dict[str, Any]) -> None:
        if not self.can("TRANSITION_ISSUES", issue.project):
            raise ApiError(403, "You do not have permission to transition this issue.")
        wanted = str((data.get("transition") or {}).get("id"))
        for tid, _name, sources, to in self.transitions:
            if tid == wanted and issue.status in sources:
                issue.status = to
                issue.updated = self._tick()
                issue.resolved = issue.updated if to == "Done" else None
                return
        raise ApiError(400, f"Transition id '{wanted}' is not valid for this issue.", errors={})

    def _comment(self, issue: FakeIssue, data: dict[str, Any]) -> dict[str, Any]:
        if not self.can("ADD_COMMENTS", issue.project):
            raise ApiError(403, "You do not have permission to comment on this issue.")
        body = data.get("body")
        if not isinstance(body, str) or not body.strip():
            raise ApiError(400, errors={"comment": "Comment body can not be empty!"})
        if len(body) > 32767:
            raise ApiError(400, errors={"comment": "The entered text is too long."})
        comment_id = str(next(self._ids))
        comment = {
            "id": comment_id,
            "body": body,
            "created": _when(self._tick()),
            "self": f"{self.url}/rest/api/2/issue/{issue.id}/comment/{comment_id}",
        }
        issue.comments.append(comment)
        return comment

    def _attach(self, issue: FakeIssue, request: Request) -> list[dict[str, Any]]:
        token = request.headers.get("X-Atlassian-Token")
        if token != "no-check" or "X-Atlassian-Token" in self.profile.strips_headers:
            raise ApiError(403, "XSRF check failed")
        if not self.can("CREATE_ATTACHMENTS", issue.project):
            raise ApiError(403, "You do not have permission to create attachments for this issue.")
        if not self.attachments_enabled:
            raise ApiError(403, "Attachments are disabled.")
        files: list[FileStorage] = request.files.getlist("file")
        if not files or set(request.files) != {"file"}:
            request.close()
            raise ApiError(400, "Upload the files in multipart field 'file'.")
        if len(files) > 60:
            raise ApiError(413, "Too many attachments in one request.")
        stored = []
        payloads = [(f.filename or "file", f.read(), f.mimetype) for f in files]
        for f in files:
            f.close()
        for name, payload, _ in payloads:
            if len(payload) > self.upload_limit:
                raise ApiError(413, f"The file '{name}' is too large to attach.")
        for name, payload, mime in payloads:
            attachment_id = str(next(self._ids))
            content = (
                f"{self.url}/rest/api/2/attachment/content/{attachment_id}"
                if self.flavour == "cloud"
                else f"{self.url}/secure/attachment/{attachment_id}/{name}"
            )
            record = {
                "id": attachment_id,
                "filename": name,
                "size": len(payload),
                "mimeType": mime or "application/octet-stream",
                "created": _when(self._tick()),
                "content": content,
                "self": f"{self.url}/rest/api/2/attachment/{attachment_id}",
                "_bytes": payload,
                "_author": EMAIL,
            }
            issue.attachments.append(record)
            self._attachment_index[attachment_id] = record
            stored.append(_public(record))
        return stored

    def _remote_link(self, issue: FakeIssue, data: dict[str, Any]) -> Response:
        if not self.can("LINK_ISSUES", issue.project):
            raise ApiError(403, "You do not have the permission to link issues.")
        target = data.get("object") or {}
        if not target.get("url") or not target.get("title"):
            raise ApiError(400, errors={"object": "A remote link needs an url and a title."})
        global_id = data.get("globalId")
        if global_id is not None and len(global_id) > 255:
            raise ApiError(400, errors={"globalId": "The global id is longer than 255."})
        for record in issue.remote_links:
            if global_id is not None and record.get("globalId") == global_id:
                record.update({"object": target, "relationship": data.get("relationship", "")})
                return self._json({"id": record["id"], "self": record["self"]}, 200)
        link_id = next(self._ids)
        record = {
            "id": link_id,
            "self": f"{self.url}/rest/api/2/issue/{issue.key}/remotelink/{link_id}",
            "object": target,
            "relationship": data.get("relationship", ""),
        }
        if global_id is not None:
            record["globalId"] = global_id
        issue.remote_links.append(record)
        status = 201 if self.flavour == "cloud" else 200
        return self._json({"id": link_id, "self": record["self"]}, status)

    def _content(self, attachment_id: str) -> Response:
        record = self._attachment_index.get(attachment_id)
        if record is None:  # attachments seeded straight into an issue: index them once
            self._attachment_index = {
                str(a["id"]): a for issue in self.issues.values() for a in issue.attachments
            }
            record = self._attachment_index.get(attachment_id)
        if record is None or "_bytes" not in record:
            raise ApiError(404, "The attachment does not exist.")
        return Response(record["_bytes"], 200, content_type=record["mimeType"])

    def _delete_attachment(self, attachment_id: str) -> None:
        """Jira's rules: the attachment's author needs DELETE_OWN_ATTACHMENTS, anyone else
        DELETE_ALL_ATTACHMENTS; an attachment already gone is 404."""
        owner = next(
            (
                i
                for i in self.issues.values()
                if any(a["id"] == attachment_id for a in i.attachments)
            ),
            None,
        )
        if owner is None:
            raise ApiError(404, f"The attachment with id '{attachment_id}' does not exist.")
        record = next(a for a in owner.attachments if a["id"] == attachment_id)
        own = record.get("_author", EMAIL) == EMAIL
        if not self.can("DELETE_ALL_ATTACHMENTS", owner.project) and not (
            own and self.can("DELETE_OWN_ATTACHMENTS", owner.project)
        ):
            raise ApiError(403, "You do not have permission to delete attachments for this issue.")
        owner.attachments.remove(record)
        self._attachment_index.pop(attachment_id, None)

    def attachment_bytes(self, key: str) -> dict[str, bytes]:
        """The stored files of an issue by file name (for assertions)."""
        return {a["filename"]: a["_bytes"] for a in self.issues[key].attachments}

    # -- issue JSON ------------------------------------------------------------------------

    def _status_json(self, name: str) -> dict[str, Any]:
        sid, cat_key, cat_id, cat_name = STATUSES[name]
        return {
            "id": sid,
            "name": name,
            "self": f"{self.url}/rest/api/2/status/{sid}",
            "statusCategory": {"id": cat_id, "key": cat_key, "name": cat_name},
        }

    def _stub(self, issue: FakeIssue) -> dict[str, Any]:
        return {
            "id": issue.id,
            "key": issue.key,
            "self": f"{self.url}/rest/api/2/issue/{issue.id}",
            "fields": {
                "summary": issue.summary,
                "status": self._status_json(issue.status),
                "issuetype": self._type_json(issue.issuetype),
            },
        }

    _FIELDS = (
        "summary",
        "issuetype",
        "project",
        "status",
        "labels",
        "description",
        "created",
        "updated",
        "resolutiondate",
        "parent",
        "subtasks",
        "issuelinks",
        "attachment",
        "comment",
    )

    def _field(self, issue: FakeIssue, name: str) -> Any:
        """One field of ``issue`` as Jira returns it (only what is asked for is built)."""
        if name == "summary":
            return issue.summary
        if name == "issuetype":
            return self._type_json(issue.issuetype)
        if name == "project":
            project = self.projects[issue.project]
            return {"id": project["id"], "key": project["key"], "name": project["name"]}
        if name == "status":
            return self._status_json(issue.status)
        if name == "labels":
            return list(issue.labels)
        if name == "description":
            return issue.description
        if name in ("created", "updated"):
            return _when(getattr(issue, name))
        if name == "resolutiondate":
            return _when(issue.resolved)
        if name == "parent":
            return self._stub(self.issues[issue.parent]) if issue.parent else None
        if name == "subtasks":
            return [self._stub(i) for i in self.issues.values() if i.parent == issue.key]
        if name == "issuelinks":
            return [
                {
                    "id": link.id,
                    "type": self._link_type(link.type),
                    side: self._stub(
                        self.issues[link.target if side == "outwardIssue" else link.source]
                    ),
                }
                for link, side in self.links_of(issue.key)
            ]
        if name == "attachment":
            return [_public(a) for a in issue.attachments]
        if name == "comment":
            return {"comments": issue.comments, "total": len(issue.comments)}
        return issue.extra.get(name)

    def _all_fields(self, issue: FakeIssue) -> dict[str, Any]:
        return {**{n: self._field(issue, n) for n in self._FIELDS}, **issue.extra}

    def _issue_json(
        self, issue: FakeIssue, wanted: list[str] | None, default: str
    ) -> dict[str, Any]:
        names = wanted if wanted else [default]
        out: dict[str, Any] = {
            "id": issue.id,
            "self": f"{self.url}/rest/api/2/issue/{issue.id}",
            "key": issue.key,
        }
        if names == ["id"]:
            return {"id": issue.id}
        if "*all" in names or "*navigable" in names:
            chosen = self._all_fields(issue)
        else:
            chosen = {
                n: self._field(issue, n) for n in names if n in self._FIELDS or n in issue.extra
            }
        if "parent" in chosen and chosen["parent"] is None:
            del chosen["parent"]
        out["fields"] = chosen
        return out

    # -- search ----------------------------------------------------------------------------

    def _found(self, jql: str, first_page: bool) -> list[FakeIssue]:
        """What ``jql`` finds: evaluated on a query's first page, reused for its later pages."""
        found = None if first_page else self._snapshots.get(jql)
        if found is None:
            found = self._snapshots[jql] = self._run_jql(jql)
            while len(self._snapshots) > 16:
                self._snapshots.popitem(last=False)
        return found

    def _run_jql(self, jql: str) -> list[FakeIssue]:
        if self.profile.ignores_label_clauses:
            jql = re.sub(
                r'labels (?:=|in) (?:"(?:[^"\\]|\\.)*"|\([^)]*\))', "project is not EMPTY", jql
            )
        try:
            query: Query = parse_jql(jql)
        except JqlError as exc:
            raise ApiError(400, f"Error in the JQL Query: {exc}") from None
        if query.where is None:
            raise ApiError(
                400, "Unbounded JQL queries are not allowed here. Add a search restriction."
            )
        try:
            check_values(query.where, _Row(self, None))
            now = time.monotonic()  # the index has not seen issues younger than search_lag
            found = [
                i
                for i in self.issues.values()
                if i.visible_at <= now and query.where.matches(_Row(self, i))
            ]
        except JqlError as exc:
            raise ApiError(400, str(exc)) from None
        for name, descending in reversed(query.order):
            same = self.profile.same_created
            found.sort(key=lambda i, n=name: _sort_key(i, n, same), reverse=descending)
        return found

    def _search_cloud(self, request: Request, data: Any) -> Response:
        if request.method == "POST":
            params = data or {}
            fields = params.get("fields")
        else:
            params = request.args.to_dict()
            fields = _field_list(",".join(request.args.getlist("fields")) or None)
        jql = params.get("jql") or ""
        only_ids = not fields or fields == ["id"]
        cap = 5000 if only_ids else 100
        size = min(int(params.get("maxResults") or 50), cap)
        start = 0
        token = params.get("nextPageToken")
        if token:
            try:
                start, digest = json.loads(base64.urlsafe_b64decode(token.encode()))
            except ValueError:
                raise ApiError(400, "Invalid nextPageToken.") from None
            if digest != hashlib.sha256(jql.encode()).hexdigest()[:12]:
                raise ApiError(400, "The nextPageToken does not belong to this query.")
        found = self._found(jql, first_page=not token)
        page = found[start : start + size]
        body: dict[str, Any] = {
            "issues": [self._issue_json(i, fields, default="id") for i in page],
            "isLast": start + size >= len(found),
        }
        if start + size < len(found):
            marker = [start + size, hashlib.sha256(jql.encode()).hexdigest()[:12]]
            body["nextPageToken"] = base64.urlsafe_b64encode(json.dumps(marker).encode()).decode()
        return self._json(body)

    def _search_dc(self, request: Request, data: Any) -> Response:
        if request.method == "POST":
            params = data or {}
            fields = params.get("fields")
        else:
            params = request.args.to_dict()
            fields = _field_list(params.get("fields"))
        jql = params.get("jql") or ""
        start = int(params.get("startAt") or 0)
        size = min(int(params.get("maxResults") or 50), 100)
        found = self._found(jql, first_page=start == 0)
        page = found[start : start + size]
        body: dict[str, Any] = {
            "startAt": start,
            "maxResults": size,
            "total": len(found),
            "issues": [self._issue_json(i, fields, default="*navigable") for i in page],
        }
        if not self.profile.page_total:
            del body["total"]
        return self._json(body)

    def iter_keys(self) -> Iterator[str]:
        return iter(list(self.issues))


class _Row:
    """One issue as the JQL evaluator sees it."""

    def __init__(self, fake: FakeJira, issue: FakeIssue | None) -> None:
        self.fake = fake
        self.issue = issue

    def values(self, name: str) -> list[str]:
        issue = self.issue
        assert issue is not None
        name = name.lower()
        if name == "project":
            project = self.fake.projects[issue.project]
            return [project["key"], project["id"]]
        if name == "labels":
            return list(issue.labels)
        if name in ("key", "issue", "issuekey", "id"):
            return [issue.key, issue.id]
        if name == "parent":
            return [issue.parent] if issue.parent else []
        if name in ("issuetype", "type"):
            return [issue.issuetype["name"], issue.issuetype["id"]]
        if name == "status":
            return [issue.status]
        if name == "statuscategory":
            return [STATUSES[issue.status][3]]
        if name == "summary":
            return [issue.summary]
        if name == "description":
            return [issue.description or ""]
        if name == "text":
            return [issue.summary, issue.description or ""]
        raise JqlError(f"Field '{name}' does not exist or you do not have permission to view it.")

    def check_value(self, name: str, value: str) -> None:
        """Jira refuses values that name nothing for fields that name things."""
        name = name.lower()
        if name == "project":
            try:
                self.fake._find_project(value)
            except ApiError:
                raise JqlError(
                    f"The value '{value}' does not exist for the field 'project'."
                ) from None
        if name in ("key", "issue", "issuekey", "parent"):
            try:
                self.fake._issue(value)
            except ApiError:
                raise JqlError(
                    f"An issue with key '{value}' does not exist for field '{name}'."
                ) from None

    def lucene_match(self, query: str, text: str) -> bool:
        """Jira's ``~``; on some sites a phrase (quoted) query finds nothing."""
        if not self.fake.profile.phrase_search and query.startswith('"'):
            return False
        return lucene_match(query, text)

    def linked(self, key: str) -> list[str]:
        if self.fake.profile.ignores_unknown_functions and self.issue is not None:
            return [self.issue.key]  # the function is dropped: the clause holds for every issue
        self.check_value("key", key)
        return [
            link.target if side == "outwardIssue" else link.source
            for link, side in self.fake.links_of(key)
        ]


def _sort_key(issue: FakeIssue, name: str, same_created: bool = False) -> Any:
    if name in ("created", "updated") and same_created:
        return getattr(issue, name)  # ties keep the order the issues were stored in
    if name in ("created", "updated"):
        return (getattr(issue, name), int(issue.id))
    if name in ("key", "issuekey", "id"):
        return (issue.project, int(issue.key.rsplit("-", 1)[1]))
    raise JqlError(f"Not able to sort using field '{name}'.")


def _field_list(raw: str | None) -> list[str] | None:
    if not raw:
        return None
    return [f.strip() for f in raw.split(",") if f.strip()]


_MODELLED = frozenset(
    ("project", "issuetype", "summary", "labels", "description", "parent", "reporter")
)


def _public(record: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if not k.startswith("_")}
