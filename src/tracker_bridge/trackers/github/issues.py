"""The repository's issues over HTTP, remembered for the run.

Every request the GitHub tracker makes about issues themselves (listing, reading, editing,
commenting) goes through ``IssueStore``, which also keeps the issue JSON it saw, so a run that
created or read an issue does not read it again (``cached``). ``fetch`` always asks GitHub.

Writes that are not idempotent carry a way to find what a lost response made: a comment is looked
up by its content (with a hidden marker) among recent comments before it is sent again.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from tracker_bridge.domain.tickets import Ticket
from tracker_bridge.errors import NotFoundError, TrackerRefused
from tracker_bridge.trackers.github import body as gb
from tracker_bridge.trackers.github.client import GitHubClient
from tracker_bridge.trackers.github.mapping import IssueMapper


class IssueStore:
    """Issue requests for one repository, plus the issue JSON seen so far in this run."""

    def __init__(self, client: GitHubClient, mapper: IssueMapper) -> None:
        self._client = client
        self._map = mapper
        self.repository = mapper.repository
        self.path = f"/repos/{mapper.repository}"
        self._seen: dict[int, dict[str, Any]] = {}

    # -- the run's memory ---------------------------------------------------------------------

    def remember(self, issue: dict[str, Any]) -> None:
        """Keep ``issue`` (the latest JSON GitHub sent for it) for the rest of the run."""
        if isinstance(issue, dict) and isinstance(issue.get("number"), int):
            self._seen[issue["number"]] = issue

    def remembered(self, number: int) -> dict[str, Any] | None:
        """The issue as last seen in this run, without a request."""
        return self._seen.get(number)

    # -- reading ------------------------------------------------------------------------------

    def list(self, params: dict[str, Any], *, pages: int | None = None) -> Iterator[dict[str, Any]]:
        """Issues of the repository (pull requests left out), 100 per page."""
        for issue in self._client.pages(f"{self.path}/issues", params, pages=pages):
            if "pull_request" not in issue:
                yield issue

    def ticket(self, issue: dict[str, Any]) -> Ticket:
        """The ticket ``issue`` stands for, over-long message or description joined back from
        their part comments (a request only for such issues)."""
        ticket = self._map.ticket(issue)
        overflow = gb.load_block(issue.get("body")).get("overflow") or {}
        if not overflow:
            return ticket
        bodies = [str(c.get("body", "")) for c in self.comments(issue["number"])]
        joined = {
            name: gb.join_parts(bodies, name, int(overflow[name]))
            for name in ("message", "description")
            if name in overflow
        }
        message, description = joined.get("message"), joined.get("description")
        return replace(
            ticket,
            message=ticket.message if message is None else message,
            description=ticket.description if description is None else description,
        )

    def html_root(self) -> str:
        """The web root (``https://github.com``), from an issue seen, else from the API URL."""
        for issue in self._seen.values():
            html_url = str(issue.get("html_url", ""))
            if f"/{self.repository}/" in html_url:
                return html_url.split(f"/{self.repository}/", 1)[0]
        return self._client.base_url.removesuffix("/api/v3").replace("://api.", "://")

    def fetch(self, number: int) -> dict[str, Any]:
        """The issue, read fresh; ``NotFoundError`` for an unknown number or a pull request."""
        response = self._client.send(
            "GET",
            f"{self.path}/issues/{number}",
            what=f"reading {self._map.key(number)}",
            allow=(404, 410),
        )
        if response.status != 200 or "pull_request" in response.data:
            raise NotFoundError(
                f"{self._map.key(number)} does not exist.",
                hint=f"Check the issue number; it must be an issue of {self.repository}.",
            )
        self.remember(response.data)
        issue: dict[str, Any] = response.data
        return issue

    def cached(self, number: int) -> dict[str, Any]:
        """The issue as seen in this run, else read (one request)."""
        return self._seen.get(number) or self.fetch(number)

    def find_marked(self, label: str) -> dict[str, Any] | None:
        """The first issue (open or closed) carrying ``label``: one listing request."""
        found = next(iter(self.list({"labels": label, "state": "all"}, pages=1)), None)
        if found is not None:
            self.remember(found)
        return found

    def comments(self, number: int) -> Iterator[dict[str, Any]]:
        """The issue's comments, oldest first, 100 per page."""
        yield from self._client.pages(f"{self.path}/issues/{number}/comments", {})

    # -- writing ------------------------------------------------------------------------------

    def edit(self, number: int, change: dict[str, Any], *, what: str) -> dict[str, Any]:
        """PATCH the issue (idempotent) and remember the answer; ``NotFoundError`` if unknown.

        ``what`` names the change for error messages (``"retitling owner/repo#12"``).
        """
        response = self._client.send(
            "PATCH",
            f"{self.path}/issues/{number}",
            what=what,
            body=change,
            allow=(404, 410),
        )
        if response.status != 200:
            raise NotFoundError(
                f"{self._map.key(number)} does not exist.",
                hint=f"Check the issue number; it must be an issue of {self.repository}.",
            )
        self.remember(response.data)
        issue: dict[str, Any] = response.data
        return issue

    def render(self, issue: dict[str, Any], block: dict[str, Any]) -> str:
        """The body of ``issue`` with ``block`` as its record; its description is kept.

        Raises ``TrackerRefused`` when the record no longer fits in one body (an issue body has
        no room for part comments after creation).
        """
        parent = block.get("parent")
        parent_ref = f"#{parent.rsplit('#', 1)[1]}" if isinstance(parent, str) else ""
        rendered = gb.render_issue(block, gb.description_of(issue.get("body")), parent_ref)
        if rendered.parts or gb.units(rendered.body) > gb.BODY_LIMIT:
            raise TrackerRefused(
                f"{self._map.key(issue['number'])}: the bridge's record (evidence index, links) "
                f"no longer fits in the issue body (GitHub allows {gb.BODY_LIMIT:,} characters).",
                hint="Attach further evidence to a new observation of the same defect, or "
                "shorten the issue's description.",
            )
        return rendered.body

    def rewrite(self, issue: dict[str, Any], block: dict[str, Any]) -> None:
        """Replace the record in the body of ``issue`` (one PATCH)."""
        key = self._map.key(issue["number"])
        self.edit(issue["number"], {"body": self.render(issue, block)}, what=f"updating {key}")

    def set_state(self, number: int, change: dict[str, str]) -> None:
        """Open or close the issue (PATCH: idempotent)."""
        self.edit(number, change, what=f"changing the state of {self._map.key(number)}")

    @staticmethod
    def since() -> str:
        """A ``since`` for finding what this run is about to write (ten minutes of slack for
        clock skew between this machine and GitHub)."""
        return (datetime.now(UTC) - timedelta(minutes=10)).strftime("%Y-%m-%dT%H:%M:%SZ")

    def comments_since(self, number: int, since: str) -> tuple[dict[str, Any], ...]:
        """The issue's comments updated since ``since`` (one page: a lost write's recovery)."""
        listed = self._client.send(
            "GET",
            f"{self.path}/issues/{number}/comments",
            what="checking comments",
            params={"since": since, "per_page": 100},
        )
        return tuple(listed.data)

    def post_comment(self, number: int, body: str) -> dict[str, Any]:
        """Post a comment; before a re-send, look for it (by its content) among recent ones."""
        marker = f"<!-- bridge:note {uuid.uuid4().hex} -->"
        full = body if body.startswith("<!-- bridge:") else f"{body}\n\n{marker}"
        # ten minutes of slack for clock skew between this machine and GitHub
        since = (datetime.now(UTC) - timedelta(minutes=10)).strftime("%Y-%m-%dT%H:%M:%SZ")
        url = f"{self.path}/issues/{number}/comments"

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
