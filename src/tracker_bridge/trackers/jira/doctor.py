"""What works on a Jira site, for ``bridge doctor``: reads only, about a dozen requests.

Each check says ``ok``, ``degraded`` (it works, at a cost the finding names) or ``failed`` (the
bridge cannot work there until the configuration or the site changes), and where a bridge.toml
change helps, which one. Transitions are per issue in Jira: they are read on a done defect and an
open one when the project has them, else reported as not checked.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tracker_bridge.domain.conventions import Conventions
from tracker_bridge.domain.tickets import Kind, NewTicket
from tracker_bridge.errors import (
    BridgeError,
    ConfigError,
    NotFoundError,
    TrackerRefused,
    TrackerUnavailable,
)
from tracker_bridge.trackers.base import Finding
from tracker_bridge.trackers.jira import fields, jql
from tracker_bridge.trackers.jira.edits import reopening
from tracker_bridge.trackers.jira.session import JiraSession, path
from tracker_bridge.trackers.jira.setup import (
    DELEGATED,
    PERMISSIONS,
    ProjectSetup,
    screen_problems,
)


def diagnose(
    session: JiraSession,
    setup: ProjectSetup,
    conventions: Conventions,
    project: str,
    *,
    issue_type: str = "",
) -> list[Finding]:
    """Every check on the site, in the order a user would fix them; with ``issue_type``, for a
    team's delegated work of that type (filed and linked, never transitioned by the bridge)."""
    out: list[Finding] = []
    try:
        me = session.get("myself", "reading who this account is")
    except TrackerUnavailable as exc:
        return [
            Finding("reachable", "failed", str(exc), fix="Check [tracker] url and the network.")
        ]
    except ConfigError as exc:  # 401: CredentialsRejected
        return [
            Finding("reachable", "ok", f"Jira answers at {session.url}"),
            Finding("authenticated", "failed", exc.message, fix=exc.hint or ""),
        ]
    except BridgeError as exc:
        me = None
        out.append(Finding("reachable", "ok", f"Jira answers at {session.url}"))
        out.append(
            Finding("authenticated", "degraded", f"who this account is is hidden ({exc.message})")
        )
    if me is not None:
        who = me.get("displayName") or me.get("name") or me.get("accountId") or "?"
        mail = me.get("emailAddress") or me.get("name") or ""
        out.append(Finding("reachable", "ok", f"Jira answers at {session.url}"))
        out.append(Finding("authenticated", "ok", f"as {who}" + (f" ({mail})" if mail else "")))
    out.append(_deployment(session))
    out += _setup(setup, conventions, project, issue_type)
    if any(f.check == "project" and f.health == "failed" for f in out):
        return out  # everything else asks about the project
    out.append(_search(session, project, conventions))
    if issue_type:
        out.append(Finding("transitions", "ok", "not needed: the team moves its own tickets"))
    else:
        out += _transitions(session, project, conventions)
        out.append(_attachments(setup))
    out.append(_screen(setup, conventions, project, issue_type))
    out.append(_labels(session))
    out.append(_remote_links(session, project))
    return out


def _guard(check: str, probe: Callable[[], Finding]) -> Finding:
    try:
        return probe()
    except TrackerUnavailable as exc:
        return Finding(check, "failed", str(exc), fix="Run bridge doctor again when Jira answers.")
    except BridgeError as exc:
        return Finding(check, "failed", exc.message, fix=exc.hint or "")


def _deployment(session: JiraSession) -> Finding:
    def probe() -> Finding:
        try:
            info = session.get("serverInfo", "reading Jira's server info")
        except (NotFoundError, TrackerRefused) as exc:
            if isinstance(exc, TrackerRefused) and exc.status != 403:
                raise
            cloud = session.is_cloud()
            return Finding(
                "deployment",
                "degraded",
                f"/serverInfo is hidden; taken for {'Cloud' if cloud else 'Data Center'}",
                cost="the version is unknown",
                fix=f'[tracker] deployment = "{"cloud" if cloud else "datacenter"}"',
            )
        kind = "Cloud" if str(info.get("deploymentType", "")).lower() == "cloud" else "Data Center"
        return Finding("deployment", "ok", f"Jira {kind} {info.get('version', '')}".rstrip())

    return _guard("deployment", probe)


def _setup(
    setup: ProjectSetup, conventions: Conventions, project: str, issue_type: str
) -> list[Finding]:
    try:
        parts = setup.parts()
    except BridgeError as exc:
        return [Finding("project", "failed", exc.message, fix=exc.hint or "")]
    out: list[Finding] = []
    if parts["project"]:
        fix = '[tracker] project = "KEY" (a project this account can see)'
        return [Finding("project", "failed", p, fix=fix) for p in parts["project"]]
    out.append(Finding("project", "ok", f"{project} ({len(setup.type_ids)} issue types)"))
    types = {
        "defect": conventions.defect_type,
        "observation": conventions.observation_type
        if conventions.link != "sub-task"
        else conventions.subtask_type,
        "remediation": conventions.remediation_type,
    }
    available = ", ".join(sorted(setup.type_ids))
    if issue_type:
        if issue_type in setup.type_ids:
            out.append(Finding("issue types", "ok", f"{issue_type!r} for delegated work"))
        else:
            out.append(
                Finding(
                    "issue types",
                    "failed",
                    f"issue type {issue_type!r} is not available in {project}",
                    fix=f"[team] issue_type = one of: {available}",
                )
            )
    elif parts["issue types"]:
        out += [
            Finding("issue types", "failed", p, fix=f"one of: {available}")
            for p in parts["issue types"]
        ]
    else:
        shown = ", ".join(f"{k} {v!r}" for k, v in types.items())
        out.append(Finding("issue types", "ok", shown))
    style = f"link = {conventions.link!r}, link type {conventions.link_type!r}"
    if parts["link type"]:
        out += [
            Finding("link style", "failed", p, fix="[conventions] link_type = one the site has")
            for p in parts["link type"]
        ]
    elif "issueLinkType" in setup.degraded:
        out.append(
            Finding(
                "link style",
                "degraded",
                f"{style}; /issueLinkType is hidden",
                cost=setup.degraded["issueLinkType"],
            )
        )
    else:
        out.append(Finding("link style", "ok", style))
    granted = setup.granted
    if granted is None:
        out.append(
            Finding(
                "permissions",
                "degraded",
                "/mypermissions is hidden",
                cost=setup.degraded.get("mypermissions", ""),
            )
        )
    else:
        missing = [p for p in (DELEGATED if issue_type else PERMISSIONS) if p not in granted]
        if missing:
            out.append(
                Finding(
                    "permissions",
                    "failed",
                    f"this account lacks {', '.join(missing)} in {project}",
                    fix="ask a Jira admin to grant them in the project's permission scheme",
                )
            )
        else:
            out.append(Finding("permissions", "ok", "every permission the bridge uses here"))
    return out


def _search(session: JiraSession, project: str, conventions: Conventions) -> Finding:
    def probe() -> Finding:
        query = (
            f"{jql.equals('project', project)} AND {jql.equals('labels', conventions.defect_label)}"
        )
        body: dict[str, Any] = {"jql": query, "fields": ["summary"], "maxResults": 1}
        cloud = session.is_cloud()
        api = "search/jql" if cloud else "search"
        page = session.call(
            "searching",
            lambda: session.search_page(
                api, body if cloud else {**body, "startAt": 0}, "searching"
            ),
        )
        notes = []
        if session.search_by_get:
            notes.append("POST /search is refused (405): searches use GET")
        if not cloud and "total" not in page:
            notes.append("pages carry no total: paging reads until a short page")
        if notes:
            return Finding(
                "search",
                "degraded",
                "; ".join(notes),
                cost="very long queries may not fit in a URL; nothing else",
            )
        return Finding("search", "ok", f"{'/search/jql' if cloud else '/search'} with POST")

    return _guard("search", probe)


def _transitions(session: JiraSession, project: str, conventions: Conventions) -> list[Finding]:
    def sample(done: bool) -> str | None:
        query = (
            f"{jql.equals('project', project)} AND {jql.equals('labels', conventions.defect_label)}"
            f" AND statusCategory {'=' if done else '!='} {jql.quote('Done')}"
        )
        for raw in session.search(query, ["status"], what="finding a defect", page_size=1):
            return str(raw["key"])
        return None

    def to_done() -> Finding:
        key = sample(done=False)
        if key is None:
            return Finding("transition to done", "ok", "not checked: no open defect yet")
        answer = session.get(f"issue/{path(key)}/transitions", f"reading transitions of {key}")
        names = [
            str(t.get("name"))
            for t in answer.get("transitions", [])
            if fields.category(t.get("to")).value == "done"
        ]
        if not names:
            return Finding(
                "transition to done",
                "failed",
                f"no transition leads {key} to a Done status",
                fix="ask a Jira admin for one in the workflow",
            )
        return Finding("transition to done", "ok", f"{names[0]!r} (on {key})")

    def back() -> Finding:
        key = sample(done=True)
        if key is None:
            return Finding("transition back to to-do", "ok", "not checked: no done defect yet")
        answer = session.get(f"issue/{path(key)}/transitions", f"reading transitions of {key}")
        offered = answer.get("transitions", [])
        chosen = reopening(offered, conventions.reopen_transition)
        if chosen is None:
            names = ", ".join(str(t.get("name")) for t in offered) or "none"
            return Finding(
                "transition back to to-do",
                "failed",
                f"no {conventions.reopen_transition!r} and none into a to-do status on {key} "
                f"(offered: {names})",
                cost="a recurrence is recorded with a warning, the defect stays done",
                fix='[conventions] on_recurrence = "new-defect" (or "comment")',
            )
        name = str(chosen.get("name"))
        if name.casefold() != conventions.reopen_transition.casefold():
            return Finding(
                "transition back to to-do",
                "degraded",
                f"reopen falls back to {name!r} (no {conventions.reopen_transition!r} on {key})",
                cost="none; say it to skip the search for it",
                fix=f'[conventions] reopen_transition = "{name}"',
            )
        return Finding("transition back to to-do", "ok", f"{name!r} (on {key})")

    return [_guard("transition to done", to_done), _guard("transition back to to-do", back)]


def _attachments(setup: ProjectSetup) -> Finding:
    def probe() -> Finding:
        limit = setup.capabilities().upload_limit
        if limit is None:
            return Finding(
                "attachments",
                "degraded",
                "/attachment/meta is hidden: the upload limit is unknown",
                cost=setup.degraded.get("attachment/meta", ""),
            )
        if limit == 0:
            return Finding(
                "attachments",
                "failed",
                "attachments are disabled on this site",
                cost="evidence cannot be stored",
                fix="ask a Jira admin to enable attachments",
            )
        return Finding("attachments", "ok", f"up to {limit:,} bytes per file")

    return _guard("attachments", probe)


def _screen(
    setup: ProjectSetup, conventions: Conventions, project: str, issue_type: str
) -> Finding:
    def probe() -> Finding:
        if issue_type:
            new = NewTicket(kind=Kind.REMEDIATION, title="x", issue_type=issue_type)
        else:
            new = NewTicket(kind=Kind.OBSERVATION, title="x", parent=f"{project}-1", message="x")
        type_name = fields.issue_type(new, conventions)
        screen = setup.screen(type_name)
        if screen is None:
            return Finding(
                "create screens",
                "degraded",
                "create screens are not published",
                cost=setup.degraded.get("createmeta", ""),
            )
        if not screen:
            return Finding("create screens", "ok", "not checked: the issue type is missing")
        body, _ = fields.create_body(
            new,
            "doctor",
            conventions=conventions,
            project=project,
            project_id=setup.project_id,
            type_ids=setup.type_ids,
        )
        problems = screen_problems(body, screen, f"{project}/{type_name}")
        if problems:
            return Finding(
                "create screens",
                "failed",
                "; ".join(problems),
                fix="ask a project admin to change the create screen",
            )
        return Finding("create screens", "ok", f"{type_name} takes what the bridge sets")

    return _guard("create screens", probe)


def _labels(session: JiraSession) -> Finding:
    def probe() -> Finding:
        known = {str(f.get("id")) for f in session.get("field", "reading the fields") or []}
        if "labels" not in known:
            return Finding(
                "labels",
                "failed",
                "the labels field is not available",
                cost="kinds, fingerprints and idempotency markers are labels",
                fix="ask a Jira admin to put Labels back on the project's screens",
            )
        return Finding("labels", "ok", "created on use (kinds, fingerprints, event markers)")

    return _guard("labels", probe)


def _remote_links(session: JiraSession, project: str) -> Finding:
    def probe() -> Finding:
        query = jql.equals("project", project)
        key = next(
            (
                str(r["key"])
                for r in session.search(query, ["summary"], what="finding an issue", page_size=1)
            ),
            None,
        )
        if key is None:
            return Finding("remote links", "ok", "not checked: the project has no issue yet")
        try:
            session.get(f"issue/{path(key)}/remotelink", f"reading the links of {key}")
        except (NotFoundError, TrackerRefused) as exc:
            if isinstance(exc, TrackerRefused) and exc.status != 403:
                raise
            return Finding(
                "remote links",
                "degraded",
                f"remote links are hidden on this site (on {key})",
                cost="delegating to another site cannot link back; the bridge's record keeps "
                "the link",
            )
        return Finding("remote links", "ok", f"readable (on {key})")

    return _guard("remote links", probe)
