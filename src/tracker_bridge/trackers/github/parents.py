"""Parent and child on GitHub: the parent label, the body reference, and the sub-issue.

A child (observation, remediation) is tied to its defect ``#n`` three ways:

- the label ``bridge-parent-<n>``, by which ``tree`` lists children (one listing, no cap);
- ``parent`` in the body's hidden record, which ``get`` reads, shown to people as ``#n``;
- a **sub-issue** link (``sub_issue_id`` is the child's database id, not its number) while the
  defect has fewer than 100 sub-issues, closed ones included. Past that cap GitHub answers 422 and
  the label and reference alone tie the child; the bridge knows the count from
  ``sub_issues_summary`` and stops asking. ``conventions.link = "label"`` skips sub-issues.

A child has one parent: ``set_parent`` to another defect moves all three (the old parent label is
dropped, the record rewritten, the sub-issue moved with ``replace_parent`` or, when the new parent
is full, removed from the old one), so nothing points at the old parent afterwards.
"""

from __future__ import annotations

import re
from typing import Any

from tracker_bridge.domain.conventions import Conventions
from tracker_bridge.errors import UsageError
from tracker_bridge.trackers.github import body as gb
from tracker_bridge.trackers.github.client import GitHubClient
from tracker_bridge.trackers.github.issues import IssueStore
from tracker_bridge.trackers.github.mapping import PARENT_PREFIX, IssueMapper, label_name
from tracker_bridge.trackers.github.marks import missing, no_push_access

SUB_ISSUE_LIMIT = 100
_ISSUE_PATH = re.compile(r"/repos/[^/]+/[^/]+/issues/\d+$")


class Parents:
    """Ties children to their defects in one repository."""

    def __init__(
        self,
        client: GitHubClient,
        issues: IssueStore,
        mapper: IssueMapper,
        conventions: Conventions,
    ) -> None:
        self._client = client
        self._issues = issues
        self._map = mapper
        self.conventions = conventions

    @property
    def uses_sub_issues(self) -> bool:
        return self.conventions.link != "label"

    def has_room(self, parent: dict[str, Any]) -> bool:
        """Whether ``parent`` may take another sub-issue (as far as this run knows)."""
        summary = parent.get("sub_issues_summary") or {}
        return int(summary.get("total", 0)) < SUB_ISSUE_LIMIT

    def linked(self, parent: dict[str, Any], child: dict[str, Any], *, ok: bool) -> None:
        """Note a sub-issue link made elsewhere (a GraphQL batch): counted, or the parent full."""
        summary = parent.get("sub_issues_summary") or {}
        if not ok:
            parent["sub_issues_summary"] = {**summary, "total": SUB_ISSUE_LIMIT}
            return
        parent["sub_issues_summary"] = {**summary, "total": int(summary.get("total", 0)) + 1}
        child["parent_issue_url"] = parent.get("url")

    def link(self, parent: dict[str, Any], child: dict[str, Any], *, replace: bool = False) -> bool:
        """Make ``child`` a sub-issue of ``parent`` unless the parent is full; True when it is one.

        ``replace`` moves a child that has another parent (GitHub's ``replace_parent``).
        """
        summary = parent.get("sub_issues_summary") or {}
        if int(summary.get("total", 0)) >= SUB_ISSUE_LIMIT:
            return False
        body: dict[str, Any] = {"sub_issue_id": child["id"]}
        if replace:
            body["replace_parent"] = True

        def recover() -> dict[str, Any] | None:
            got = self._client.send(
                "GET",
                f"{self._issues.path}/issues/{child['number']}/parent",
                what="checking the parent",
                allow=(404,),
            )
            landed = got.status == 200 and got.data.get("id") == parent["id"]
            return got.data if landed else None

        response = self._client.send(
            "POST",
            f"{self._issues.path}/issues/{parent['number']}/sub_issues",
            what=f"linking {self._map.key(child['number'])} under {self._map.key(parent['number'])}",
            body=body,
            allow=(422,),
            recover=recover,
        )
        if response.status == 422:
            # Full (100 sub-issues, closed included) or otherwise refused: the parent label and
            # the body reference already link the child, which is what the bridge reads.
            parent["sub_issues_summary"] = {**summary, "total": SUB_ISSUE_LIMIT}
            return False
        parent["sub_issues_summary"] = {**summary, "total": int(summary.get("total", 0)) + 1}
        child["parent_issue_url"] = parent.get("url")
        return True

    def set_parent(self, number: int, parent_number: int) -> None:
        """Tie issue ``number`` to defect ``parent_number`` in the fewest requests; idempotent.

        One GET of the child (fresh: its labels are replaced as a whole), one of the parent unless
        seen this run or proven by the child's sub-issue link, at most one PATCH for label and
        record together, and one sub-issue request when the sub-issue is not already right.
        """
        if number == parent_number:
            raise UsageError(f"{self._map.key(number)} cannot be its own parent.")
        child = self._issues.fetch(number)
        target = self._map.key(parent_number)
        label = self._map.label(f"{PARENT_PREFIX}{parent_number}")
        names = [label_name(x) for x in child.get("labels", [])]
        labels = [n for n in names if not _is_parent_label(n) or n.lower() == label.lower()]
        if label.lower() not in {n.lower() for n in labels}:
            labels.append(label)
        block = gb.load_block(child.get("body"))
        change: dict[str, Any] = {}
        if labels != names:
            change["labels"] = labels
        if block.get("parent") != target:
            change["body"] = self._issues.render(child, {**block, "parent": target})
        under = _sub_issue_parent(child)
        here = f"{self._issues.path}/issues/{parent_number}"
        if not change and under == here:
            return  # already so; GitHub's own link proves the parent exists
        parent = self._issues.cached(parent_number)
        if change:
            what = f"putting {self._map.key(number)} under {target}"
            child = self._issues.edit(number, change, what=what)
            if missing(child, [label]):
                fate = "its body names the new parent but its labels do not"
                raise no_push_access(self._map.key(number), "labels", self._map.repository, fate)
        if under == here:
            return
        if self.uses_sub_issues and self.link(parent, child, replace=under is not None):
            if under is not None:
                self._forget_child(under)  # GitHub moved it
            return
        if under is not None:
            self._unlink(under, child)

    def _unlink(self, parent_path: str, child: dict[str, Any]) -> None:
        """Remove ``child`` from the sub-issues of the issue at ``parent_path`` (idempotent)."""
        self._client.send(
            "DELETE",
            f"{parent_path}/sub_issue",
            what=f"detaching {self._map.key(child['number'])} from its old parent",
            body={"sub_issue_id": child["id"]},
            allow=(404,),  # already detached
        )
        child["parent_issue_url"] = None
        self._forget_child(parent_path)

    def _forget_child(self, parent_path: str) -> None:
        """Count one sub-issue fewer on a parent seen this run (it has room again)."""
        prefix = f"{self._issues.path}/issues/"
        if not parent_path.startswith(prefix):
            return
        old = self._issues.remembered(int(parent_path[len(prefix) :]))
        summary = (old or {}).get("sub_issues_summary")
        if old is not None and isinstance(summary, dict):
            total = max(0, int(summary.get("total", 0)) - 1)
            old["sub_issues_summary"] = {**summary, "total": total}


def _is_parent_label(name: str) -> bool:
    return name.lower().startswith(PARENT_PREFIX)


def _sub_issue_parent(issue: dict[str, Any]) -> str | None:
    """The API path (``/repos/o/r/issues/n``) of the issue's sub-issue parent, if it has one."""
    found = _ISSUE_PATH.search(str(issue.get("parent_issue_url") or ""))
    return found.group(0) if found else None
