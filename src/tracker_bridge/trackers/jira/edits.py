"""Changing existing Jira issues: labels, summary, parent, status and comments.

Each change is one request after the once-per-run set-up check. Edits that are idempotent (a label
added, a summary set, a link Jira keeps only once, a remote link upserted) are simply retried;
a transition or comment whose response was lost is looked up before it is sent again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tracker_bridge.domain.conventions import Conventions
from tracker_bridge.domain.tickets import Status, Ticket
from tracker_bridge.errors import ConfigError, NotFoundError
from tracker_bridge.trackers.jira import fields, markup
from tracker_bridge.trackers.jira.fields import label
from tracker_bridge.trackers.jira.session import JiraSession, path
from tracker_bridge.trackers.jira.setup import ProjectSetup


class IssueEditor:
    """The edits the bridge makes to issues that already exist."""

    def __init__(
        self,
        session: JiraSession,
        conventions: Conventions,
        *,
        setup: ProjectSetup,
        read: Callable[[str], Ticket],
    ) -> None:
        """``setup`` is checked before every edit; ``read`` reads a ticket back when needed."""
        self._session = session
        self.conventions = conventions
        self._setup = setup
        self._read = read

    def add_fingerprint(self, key: str, fingerprint: str) -> None:
        """Add the fingerprint label (idempotent, one PUT)."""
        self._setup.check(needs=("EDIT_ISSUES",))
        fp_label = label(self.conventions.fingerprint_label(fingerprint))
        self._session.send(
            "PUT",
            f"issue/{path(key)}",
            f"adding fingerprint {fingerprint} to {key}",
            body={"update": {"labels": [{"add": fp_label}]}},
            not_found=key,
            permission="EDIT_ISSUES",
        )

    def remove_fingerprint(self, key: str, fingerprint: str) -> None:
        """Remove the fingerprint label (idempotent: Jira ignores removing a missing label)."""
        self._setup.check(needs=("EDIT_ISSUES",))
        fp_label = label(self.conventions.fingerprint_label(fingerprint))
        self._session.send(
            "PUT",
            f"issue/{path(key)}",
            f"removing fingerprint {fingerprint} from {key}",
            body={"update": {"labels": [{"remove": fp_label}]}},
            not_found=key,
        )

    def retitle(self, key: str, title: str) -> None:
        """One PUT of the summary (clipped to 255, line breaks removed); repeating it is harmless."""
        self._setup.check(needs=("EDIT_ISSUES",))
        self._session.send(
            "PUT",
            f"issue/{path(key)}",
            f"retitling {key}",
            body={"fields": {"summary": fields.clipped_summary(title)}},
            not_found=key,
            permission="EDIT_ISSUES",
        )

    def set_parent(self, key: str, parent: str) -> None:
        """Put ``key`` under ``parent`` and let go of any earlier parent (``move``).

        The ticket's links are read first (one GET). A hierarchy or sub-task parent is replaced
        with one PUT of ``parent``; otherwise an issue link of ``link_type`` is made (Jira keeps
        a link only once, so this is idempotent) and the ``link_type`` links to an earlier
        parent are deleted, one DELETE each. Other links are never touched.
        """
        for ref in (key, parent):
            if not fields.is_key(ref):
                raise NotFoundError(f"{ref!r} is not a Jira issue key.")
        what = f"putting {key} under {parent}"
        raw = self._session.get(
            f"issue/{path(key)}",
            what,
            params={"fields": "parent,issuelinks"},
            not_found=key,
        )
        current = raw.get("fields") or {}
        hierarchy = isinstance(current.get("parent"), dict) and current["parent"].get("key")
        if self.conventions.link == "parent" or hierarchy:
            self._setup.check(needs=("EDIT_ISSUES",))
            if hierarchy != parent:
                self._session.send(
                    "PUT",
                    f"issue/{path(key)}",
                    what,
                    body={"fields": {"parent": {"key": parent}}},
                    not_found=f"{key} or {parent}",
                )
            return
        self._setup.check(needs=("LINK_ISSUES",), linking=True)
        body = {
            "type": {"name": self.conventions.link_type},
            "inwardIssue": {"key": parent},
            "outwardIssue": {"key": key},
        }
        self._session.send("POST", "issueLink", what, body=body, not_found=f"{key} or {parent}")
        for link in current.get("issuelinks") or []:
            other = (link.get("inwardIssue") or {}).get("key")
            named = (link.get("type") or {}).get("name") == self.conventions.link_type
            if named and other and other != parent and link.get("id"):
                self.delete_link(str(link["id"]), f"unlinking {key} from {other}")

    def delete_link(self, link_id: str, what: str) -> None:
        """Delete one issue link; one already gone (a retry after a lost answer) is success."""
        try:
            self._session.send("DELETE", f"issueLink/{path(link_id)}", what, not_found=link_id)
        except NotFoundError:
            return

    def link_duplicate(self, key: str, of: str) -> bool:
        """Link ``key`` as duplicating ``of`` with the site's duplicate link type; False when the
        site has none (the record in the description then stands alone)."""
        self._setup.check(needs=("LINK_ISSUES",))
        link_type = self._setup.duplicate_link_type
        if link_type is None:
            return False
        body = {
            "type": {"name": link_type},
            "inwardIssue": {"key": key},
            "outwardIssue": {"key": of},
        }
        what = f"linking {key} as a duplicate of {of}"
        self._session.send("POST", "issueLink", what, body=body, not_found=f"{key} or {of}")
        return True

    def reopen(self, key: str) -> None:
        """Apply ``[conventions] reopen_transition`` (by name); a no-op when not done.

        Workflows rename transitions ("To Reopened", "Back to To Do"): when the named one is
        not offered, the first transition into a to-do status category is taken instead.
        """
        self._transition(
            key,
            choose=lambda ts: reopening(ts, self.conventions.reopen_transition),
            done_after=False,
            missing=(
                f"neither the transition {self.conventions.reopen_transition!r} nor any into a "
                f"to-do status is available on {key}",
                "Set [conventions] reopen_transition to one of the transitions listed.",
            ),
        )

    def resolve(self, key: str) -> None:
        """Apply the first transition into a Done-category status; a no-op when done."""
        self._transition(
            key,
            choose=lambda ts: next(
                (t for t in ts if fields.category(t.get("to")) is Status.DONE), None
            ),
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
        self._setup.check(needs=("TRANSITION_ISSUES",))
        session = self._session
        what = f"changing the status of {key}"
        answer = session.get(f"issue/{path(key)}/transitions", what, not_found=key)
        transitions: list[dict[str, Any]] = answer.get("transitions", [])
        chosen = choose(transitions)
        if chosen is None:
            if self._read(key).is_done is done_after:
                return
            names = ", ".join(str(t.get("name")) for t in transitions) or "none"
            raise ConfigError(f"{missing[0]} (available: {names}).", hint=missing[1])
        body = {"transition": {"id": str(chosen["id"])}}

        def send() -> bool:
            session.request(
                "POST",
                f"issue/{path(key)}/transitions",
                what=what,
                body=body,
                permission="TRANSITION_ISSUES",
            )
            return True

        def recover() -> bool | None:
            raw = session.request(
                "GET", f"issue/{path(key)}", what=what, params={"fields": "status"}
            )
            done = fields.category(raw["fields"].get("status")) is Status.DONE
            return True if done is done_after else None

        session.call(what, send, recover=recover)

    def comment(self, key: str, text: str) -> None:
        """One POST; a lost response is checked against the latest comments before re-sending."""
        self._setup.check(needs=("ADD_COMMENTS",))
        limit = markup.DESCRIPTION_LIMIT
        body_text = text if len(text) <= limit else text[: limit - 1] + "…"
        session = self._session
        what = f"commenting on {key}"

        def send() -> bool:
            session.request(
                "POST",
                f"issue/{path(key)}/comment",
                what=what,
                body={"body": body_text},
                not_found=key,
                permission="ADD_COMMENTS",
            )
            return True

        def recover() -> bool | None:
            page = session.request(
                "GET",
                f"issue/{path(key)}/comment",
                what=what,
                params={"orderBy": "-created", "maxResults": "20"},
            )
            bodies = [c.get("body") for c in page.get("comments", [])]
            return True if body_text in bodies else None

        session.call(what, send, recover=recover)


def reopening(transitions: list[dict[str, Any]], name: str) -> dict[str, Any] | None:
    """The transition that reopens: the one named ``name``, else the first into a to-do
    (``new``) status category, else None."""
    wanted = name.casefold()
    named = next((t for t in transitions if str(t.get("name", "")).casefold() == wanted), None)
    if named is not None:
        return named
    return next((t for t in transitions if fields.category(t.get("to")) is Status.OPEN), None)
