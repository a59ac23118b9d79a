"""What works on a GitHub repository, for ``bridge doctor``: reads only, about eight requests.

Checks the token (and whose it is), the repository and this token's access to it (without push
access GitHub silently drops labels and types), issue types, the link style, the listing the
bridge searches with, the evidence branch, the kind labels, and the GraphQL endpoint that batches
evidence writes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from tracker_bridge.domain.conventions import Conventions
from tracker_bridge.errors import BridgeError, ConfigError, TrackerUnavailable
from tracker_bridge.trackers.base import Finding
from tracker_bridge.trackers.github.client import GitHubClient
from tracker_bridge.trackers.github.mapping import IssueMapper


def diagnose(
    client: GitHubClient,
    mapper: IssueMapper,
    conventions: Conventions,
    *,
    issue_type: str = "",
    use_types: bool,
    evidence_repository: str,
    evidence_branch: str,
) -> list[Finding]:
    """Every check on the repository, in the order a user would fix them."""
    repository = mapper.repository
    try:
        me = client.send("GET", "/user", what="reading who this token is", allow=(403, 404))
    except TrackerUnavailable as exc:
        return [
            Finding("reachable", "failed", str(exc), fix="Check [tracker] url and the network.")
        ]
    except ConfigError as exc:
        return [
            Finding("reachable", "ok", f"GitHub answers at {client.base_url}"),
            Finding("authenticated", "failed", exc.message, fix=exc.hint or ""),
        ]
    out = [Finding("reachable", "ok", f"GitHub answers at {client.base_url}")]
    if me.status == 200:
        out.append(Finding("authenticated", "ok", f"as {me.data.get('login', '?')}"))
    else:  # a GitHub App installation token cannot read /user
        out.append(Finding("authenticated", "ok", "as an installation (no user)"))
    repo = _guard_repo(client, repository, out)
    if repo is None:
        return out
    out.append(_types(client, repository, use_types, issue_type))
    style = (
        "labels only"
        if conventions.link == "label"
        else "sub-issues (up to 100 per defect, then labels alone), plus labels"
    )
    out.append(Finding("link style", "ok", f"link = {conventions.link!r}: {style}"))
    out.append(
        Finding("transitions", "ok", "open and closed (reopen and resolve are state changes)")
    )
    out.append(
        _guard(
            "search",
            lambda: _listing(client, repository, conventions),
        )
    )
    out.append(_guard("attachments", lambda: _branch(client, evidence_repository, evidence_branch)))
    out.append(_guard("labels", lambda: _labels(client, repository, mapper)))
    out.append(_guard("batched writes", lambda: _graphql(client)))
    return out


def _guard(check: str, probe: Callable[[], Finding]) -> Finding:
    try:
        return probe()
    except TrackerUnavailable as exc:
        return Finding(
            check, "failed", str(exc), fix="Run bridge doctor again when GitHub answers."
        )
    except BridgeError as exc:
        return Finding(check, "failed", exc.message, fix=exc.hint or "")


def _guard_repo(
    client: GitHubClient, repository: str, out: list[Finding]
) -> dict[str, object] | None:
    try:
        answer = client.send(
            "GET", f"/repos/{repository}", what=f"reading {repository}", allow=(404,)
        )
    except BridgeError as exc:
        out.append(Finding("repository", "failed", exc.message, fix=exc.hint or ""))
        return None
    if answer.status == 404:
        out.append(
            Finding(
                "repository",
                "failed",
                f"{repository} does not exist or this token cannot see it",
                fix='[tracker] repository = "OWNER/NAME" (and the token\'s repository access)',
            )
        )
        return None
    data: dict[str, Any] = answer.data
    if not data.get("has_issues", True):
        out.append(
            Finding(
                "repository",
                "failed",
                f"{repository} has issues turned off",
                fix="turn Issues on in the repository settings",
            )
        )
        return None
    out.append(Finding("repository", "ok", f"{repository}"))
    permissions = data.get("permissions") or {}
    if permissions and not (permissions.get("push") or permissions.get("triage")):
        out.append(
            Finding(
                "permissions",
                "failed",
                "the token has no triage or push access: GitHub drops labels and issue types "
                "on create without an error",
                fix="give the token's account Triage access (fine-grained: Issues read/write)",
            )
        )
    elif permissions:
        contents = "push" if permissions.get("push") else "triage only (no binary evidence)"
        out.append(Finding("permissions", "ok", f"issues, labels and types kept ({contents})"))
    else:
        out.append(Finding("permissions", "degraded", "not reported for this token"))
    return data


def _types(client: GitHubClient, repository: str, use_types: bool, wanted: str) -> Finding:
    if not use_types:
        return Finding("issue types", "ok", "off ([tracker] issue_types = false): kind labels only")
    try:
        answer = client.send(
            "GET", f"/repos/{repository}/issue-types", what="reading issue types", allow=(403, 404)
        )
    except BridgeError as exc:
        return Finding("issue types", "failed", exc.message)
    if answer.status != 200 or not answer.data:
        return Finding(
            "issue types",
            "degraded",
            "the owner has no issue types (a user account, or none enabled)",
            cost="each run's first create is refused for its type (422) and sent again",
            fix="" if wanted else "[tracker] issue_types = false",
        )
    names = [str(t.get("name")) for t in answer.data if t.get("is_enabled", True)]
    if wanted and wanted.lower() not in {n.lower() for n in names}:
        return Finding(
            "issue types",
            "failed",
            f"{repository} has no issue type {wanted!r}",
            fix=f"[team] issue_type = one of: {', '.join(names)}",
        )
    return Finding(
        "issue types", "ok", f"{wanted} (of {', '.join(names)})" if wanted else ", ".join(names)
    )


def _listing(client: GitHubClient, repository: str, conventions: Conventions) -> Finding:
    client.send(
        "GET",
        f"/repos/{repository}/issues",
        what="listing defects",
        params={"labels": conventions.defect_label, "state": "all", "per_page": 1},
    )
    return Finding("search", "ok", "issue listings by label (no search API needed)")


def _branch(client: GitHubClient, repository: str, branch: str) -> Finding:
    answer = client.send(
        "GET",
        f"/repos/{repository}/git/ref/heads/{quote(branch, safe='')}",
        what="reading the evidence branch",
        allow=(404,),
    )
    text = "text inline in comments (65,536 characters each), files up to 100 MB in "
    if answer.status == 404:
        return Finding("attachments", "ok", text + f"{repository}@{branch} (made on first use)")
    return Finding("attachments", "ok", text + f"{repository}@{branch}")


def _labels(client: GitHubClient, repository: str, mapper: IssueMapper) -> Finding:
    missing = []
    for label in mapper.kind_labels().values():
        answer = client.send(
            "GET",
            f"/repos/{repository}/labels/{quote(label, safe='')}",
            what=f"reading the label {label}",
            allow=(404,),
        )
        if answer.status == 404:
            missing.append(label)
    if missing:
        return Finding("labels", "ok", f"{', '.join(missing)} made on first use")
    return Finding("labels", "ok", "kind labels present")


def _graphql(client: GitHubClient) -> Finding:
    answer = client.send(
        "POST",
        client.graphql_url,
        what="asking the GraphQL endpoint",
        body={"query": "query { __typename }", "variables": {}},
        allow=(401, 403, 404),
    )
    if answer.status != 200:
        return Finding(
            "batched writes",
            "degraded",
            f"GraphQL answered {answer.status}",
            cost="evidence costs two requests more (comments and index sent one by one)",
        )
    return Finding("batched writes", "ok", "GraphQL: evidence, index and sub-issue in one request")
