"""What a Jira project must offer before the bridge writes to it, checked once per run.

Three GETs (the project with its issue types, the site's link types, this account's permissions in
the project) answer every question the configuration raises; all problems are reported together
as one ``ConfigError`` before anything is created. The answers are kept: the project id and issue
type ids go into create requests, so a create never costs a lookup. The upload limit
(``/attachment/meta``) is asked separately, once, the first time evidence is handled.

What is required depends on the write. The bridge's own tickets need the conventional issue types,
the link type and every permission the workflow uses. Work delegated into another team's project
needs only that team's issue type and the right to browse, create and link there. A single edit of
an existing issue (an upload, a comment) needs only its own permission. For ``--dry-run`` the
project's create screen (``/issue/createmeta``) says which fields are required and which may be set.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from tracker_bridge.domain.conventions import Conventions
from tracker_bridge.errors import ConfigError, NotFoundError, TrackerRefused
from tracker_bridge.trackers.base import Capabilities
from tracker_bridge.trackers.jira.fields import LABEL_LIMIT, SUMMARY_LIMIT
from tracker_bridge.trackers.jira.session import JiraSession, path

PERMISSIONS = (
    "BROWSE_PROJECTS",
    "CREATE_ISSUES",
    "EDIT_ISSUES",
    "LINK_ISSUES",
    "CREATE_ATTACHMENTS",
    "TRANSITION_ISSUES",
    "ADD_COMMENTS",
)
DELEGATED = ("BROWSE_PROJECTS", "CREATE_ISSUES", "LINK_ISSUES")
"""What filing and linking work in another team's project needs (remote links need LINK_ISSUES)."""
META_PAGE = 200


class ProjectSetup:
    """The checked set-up of one project: ids to create with, problems to report."""

    def __init__(self, session: JiraSession, project: str, conventions: Conventions) -> None:
        """Nothing is asked until ``check`` or ``capabilities``."""
        self.session = session
        self.project = project
        self.conventions = conventions
        self.project_id = ""
        self.type_ids: dict[str, str] = {}
        self._checked = False
        self._project_problems: list[str] = []
        self._link_problems: list[str] = []
        self._type_findings: list[str] = []
        self._granted: set[str] | None = None
        self._capabilities: Capabilities | None = None
        self._screens: dict[str, dict[str, dict[str, Any]] | None] = {}
        self.duplicate_link_type: str | None = None
        """The site's link type for duplicates (``duplicates`` / ``is duplicated by``), if any."""
        self.degraded: dict[str, str] = {}
        """What this site does not answer, by endpoint, with what that costs (for ``doctor``)."""

    def check(
        self,
        *,
        explicit_type: str = "",
        linked: bool = True,
        needs: Sequence[str] | None = None,
        linking: bool = False,
    ) -> None:
        """Check project, issue types, link type and permissions once; raise one ``ConfigError``.

        See ``problems`` for what each combination of arguments requires.
        """
        problems = self.problems(
            explicit_type=explicit_type, linked=linked, needs=needs, linking=linking
        )
        if problems:
            raise ConfigError(
                f"Jira {self.session.url} is not set up the way the configuration expects; "
                "nothing was created:\n  - " + "\n  - ".join(problems),
                hint="Fix [tracker] / [conventions] / [teams] in bridge.toml, or ask a Jira admin.",
            )

    def problems(
        self,
        *,
        explicit_type: str = "",
        linked: bool = True,
        needs: Sequence[str] | None = None,
        linking: bool = False,
    ) -> list[str]:
        """Every set-up problem for one kind of write, as sentences (empty: it may go ahead).

        - ``needs``: one edit of an existing issue that takes these permissions (and the link
          type when ``linking``);
        - ``explicit_type`` (a team's own issue type for delegated work): that type, and the
          right to browse, create and link; the link type only when ``linked`` to a ticket on
          this site;
        - neither: the bridge's own tickets, with the conventional issue types, the link type and
          every permission the workflow uses.
        """
        if not self._checked:
            self._read_setup()
            self._checked = True
        problems = list(self._project_problems)
        if needs is not None:
            if linking:
                problems.extend(self._link_problems)
            return problems + self._missing(needs)
        if explicit_type:
            if explicit_type not in self.type_ids:
                available = ", ".join(sorted(self.type_ids))
                problems.append(
                    f"issue type {explicit_type!r} is not available in {self.project} "
                    f"(available: {available})"
                )
            if linked:
                problems.extend(self._link_problems)
            return problems + self._missing(DELEGATED)
        needed = [
            p for p in PERMISSIONS if p != "LINK_ISSUES" or self.conventions.link == "issue-link"
        ]
        return problems + self._link_problems + self._missing(needed) + self._type_findings

    def parts(self) -> dict[str, list[str]]:
        """The set-up problems by subject (project, issue types, link type), read once."""
        self.problems()
        return {
            "project": list(self._project_problems),
            "issue types": list(self._type_findings),
            "link type": list(self._link_problems),
        }

    @property
    def granted(self) -> set[str] | None:
        """The permissions this account holds in the project; None when the site hides them."""
        self.problems()
        return None if self._granted is None else set(self._granted)

    def _missing(self, needed: Sequence[str]) -> list[str]:
        if self._granted is None:
            return []
        missing = [p for p in needed if p not in self._granted]
        if missing:
            return [f"this account lacks the permission(s) {', '.join(missing)} in {self.project}"]
        return []

    def screen(self, type_name: str) -> dict[str, dict[str, Any]] | None:
        """The create screen of ``type_name`` in this project, by field id (asked once per type).

        Empty when the type does not exist here (``problems`` already says so); None when the
        site does not tell (older Data Center has no create-meta per issue type, or hides it).
        """
        type_id = self.type_ids.get(type_name)
        if type_id is None:
            return {}
        if type_name not in self._screens:
            found: dict[str, dict[str, Any]] = {}
            start = 0
            while True:
                try:
                    page = self.session.get(
                        f"issue/createmeta/{path(self.project)}/issuetypes/{path(type_id)}",
                        f"reading the create screen of {type_name} in {self.project}",
                        params={"startAt": start, "maxResults": META_PAGE},
                    )
                except (NotFoundError, TrackerRefused) as exc:
                    if not _hidden(exc):
                        raise
                    self.degraded["createmeta"] = (
                        "required fields cannot be checked before a create (delegate --dry-run "
                        "says so instead of 'would be accepted')"
                    )
                    self._screens[type_name] = None
                    return None
                # Cloud names the list "fields" (newer sites "results"), Data Center "values"
                entries = page.get("fields") or page.get("results") or page.get("values") or []
                for entry in entries:
                    found[str(entry.get("fieldId") or entry.get("key"))] = entry
                start += len(entries)
                if not entries or page.get("isLast") or start >= int(page.get("total", 0)):
                    break
            self._screens[type_name] = found
        return self._screens[type_name]

    def capabilities(self) -> Capabilities:
        """Upload limit from ``/attachment/meta`` (asked once); 0 when attachments are off.

        None (unknown) when the site does not have or hides the endpoint: the upload itself
        then finds out (413).
        """
        if self._capabilities is None:
            try:
                meta = self.session.get("attachment/meta", "reading the attachment settings")
            except (NotFoundError, TrackerRefused) as exc:
                if not _hidden(exc):
                    raise
                self.degraded["attachment/meta"] = (
                    "the upload limit is unknown: evidence is sent as it is, and compressed "
                    "once if Jira answers 413"
                )
                self._capabilities = Capabilities(
                    upload_limit=None, title_limit=SUMMARY_LIMIT, label_limit=LABEL_LIMIT
                )
                return self._capabilities
            limit = int(meta.get("uploadLimit", 0)) if meta.get("enabled", True) else 0
            self._capabilities = Capabilities(
                upload_limit=limit, title_limit=SUMMARY_LIMIT, label_limit=LABEL_LIMIT
            )
        return self._capabilities

    def _read_setup(self) -> None:
        conv = self.conventions
        try:
            project = self.session.get(
                f"project/{path(self.project)}",
                f"reading project {self.project}",
                not_found=f"project {self.project}",
            )
        except NotFoundError:
            self._project_problems.append(
                f"project {self.project!r} does not exist or this account cannot see it "
                "([tracker] project)"
            )
            project = {}
        types = {t.get("name", ""): t for t in project.get("issueTypes", [])}
        self.project_id = str(project.get("id", ""))
        self.type_ids = {name: str(t.get("id")) for name, t in types.items()}
        self._type_findings = self._type_problems(types) if project else []
        try:
            link_types = self.session.get("issueLinkType", "reading issue link types").get(
                "issueLinkTypes", []
            )
        except (NotFoundError, TrackerRefused) as exc:
            if not _hidden(exc):
                raise
            self.degraded["issueLinkType"] = (
                f"link type {conv.link_type!r} cannot be checked beforehand; a wrong one shows "
                "at the first create"
            )
            link_types = None
        names = sorted(str(t.get("name")) for t in link_types or ())
        self.duplicate_link_type = duplicate_type(link_types or [])
        if link_types is not None and conv.link_type not in names:
            self._link_problems.append(
                f"issue link type {conv.link_type!r} does not exist on this site "
                f"([conventions] link_type; the site has: {', '.join(names)})"
            )
        if project:
            try:
                self._granted = self._granted_permissions()
            except (NotFoundError, TrackerRefused) as exc:
                if not _hidden(exc):
                    raise
                self.degraded["mypermissions"] = (
                    "permissions are unknown until a write: a refused write names the "
                    "permission it lacked"
                )
                self._granted = None

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

    def _granted_permissions(self) -> set[str]:
        params: dict[str, str] = {"projectKey": self.project}
        if self.session.is_cloud():
            # Cloud requires the list; Data Center's API has no such parameter and returns all.
            params["permissions"] = ",".join(PERMISSIONS)
        granted = self.session.get("mypermissions", "reading your permissions", params=params)
        have = granted.get("permissions", {})
        return {p for p in PERMISSIONS if have.get(p, {}).get("havePermission", False)}


def _hidden(exc: NotFoundError | TrackerRefused) -> bool:
    """Whether an error means the endpoint is missing (404) or hidden (403) on this site."""
    return isinstance(exc, NotFoundError) or exc.status in (403, 404, 405)


def screen_problems(body: Mapping[str, Any], screen: Mapping[str, Any], where: str) -> list[str]:
    """What Jira would refuse about a create ``body`` on a create ``screen`` (see ``screen``)."""
    if not screen:
        return []
    fields: Mapping[str, Any] = body.get("fields") or {}
    sent = set(fields) | set(body.get("update") or {})
    problems = [
        f"the field {name!r} is not on the create screen of {where}, so Jira would refuse it "
        "(take it out of the team's fields, or ask a project admin to add it to the screen)"
        for name in sorted(sent - set(screen))
    ]
    for field_id, meta in screen.items():
        name = str(meta.get("name") or field_id)
        allowed = meta.get("allowedValues") or []
        choices = ", ".join(_choice(a) for a in allowed)
        if meta.get("required") and not meta.get("hasDefaultValue") and field_id not in fields:
            problems.append(
                f"{where} requires the field {name!r} ({field_id}); set it under the team's "
                "fields in bridge.toml" + (f" (one of: {choices})" if choices else "")
            )
        elif allowed and field_id in fields:
            values = fields[field_id]
            for value in values if isinstance(values, list) else [values]:
                if not any(_matches(value, a) for a in allowed):
                    problems.append(
                        f"{_choice(value)!r} is not a valid {name} in {where} (one of: {choices})"
                    )
    return problems


def _choice(value: Any) -> str:
    if isinstance(value, Mapping):
        return str(value.get("value") or value.get("name") or value.get("id") or "")
    return str(value)


def _matches(value: Any, allowed: Mapping[str, Any]) -> bool:
    wanted = {str(v) for v in allowed.values() if isinstance(v, str | int)}
    if isinstance(value, Mapping):
        return any(str(value[k]) in wanted for k in ("value", "name", "id") if k in value)
    return str(value) in wanted


def duplicate_type(link_types: Sequence[Mapping[str, Any]]) -> str | None:
    """The name of the site's duplicate link type: named ``Duplicate``, else any whose outward
    phrase is ``duplicates`` (sites rename types; the phrases usually survive)."""
    for field, wanted in (("name", "duplicate"), ("outward", "duplicates")):
        for link_type in link_types:
            if str(link_type.get(field, "")).casefold() == wanted:
                return str(link_type.get("name"))
    return None
