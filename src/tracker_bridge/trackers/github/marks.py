"""The marks that say what an issue is: kind labels, issue types, and whether GitHub kept them.

- **Issue types** (``Bug``/``Task`` from the conventions, or a team's own) are sent when the
  repository's owner has them, read once per run from ``/repos/{o}/{r}/issue-types``; a
  user-owned repository has none and the kind label alone says what an issue is.
- **Kind labels** that GitHub created on first use are grey and undescribed; they get a colour and
  a description once per run, so a repository that already has them costs no request.
- Without push (triage) access GitHub **silently drops** labels and type on create. ``check_kept``
  notices, closes the half-marked issue as not planned and raises ``TrackerRefused``, rather than
  leave an unmarked ticket behind.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from tracker_bridge.domain.conventions import Conventions
from tracker_bridge.domain.tickets import Kind, NewTicket
from tracker_bridge.errors import TrackerError, TrackerRefused
from tracker_bridge.trackers.github.client import GitHubClient
from tracker_bridge.trackers.github.issues import IssueStore
from tracker_bridge.trackers.github.mapping import IssueMapper, label_name

LABEL_STYLE = {
    Kind.DEFECT: ("d73a4a", "tracker-bridge: a defect in the machinery"),
    Kind.OBSERVATION: ("fbca04", "tracker-bridge: one sighting of a defect"),
    Kind.REMEDIATION: ("0e8a16", "tracker-bridge: fireproofing for a defect"),
}


class Marks:
    """Issue types and kind labels of one repository, read or fixed at most once per run."""

    def __init__(
        self,
        client: GitHubClient,
        issues: IssueStore,
        mapper: IssueMapper,
        conventions: Conventions,
        *,
        use_types: bool = True,
    ) -> None:
        self._client = client
        self._issues = issues
        self._map = mapper
        self.conventions = conventions
        self.use_types = use_types
        self._types: dict[str, str] | None = None
        self._styled: set[str] = set()
        self.types_refused = False
        """True once a create was refused for its type: the owner has no issue types."""

    def types(self) -> dict[str, str]:
        """Enabled issue types of the owner, by lower-case name (one request per run)."""
        if self._types is None:
            self._types = {}
            if self.use_types:
                response = self._client.send(
                    "GET",
                    f"{self._issues.path}/issue-types",
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

    def wanted(self, new: NewTicket) -> str | None:
        """The issue type a create sends without asking first: the ticket's own, else the
        convention's (by name, which GitHub takes); None when types are off or were refused.

        Asking ``/issue-types`` before every create would cost a request per run; GitHub
        refuses an unknown type with a 422, and ``create`` then retries once without it.
        """
        if not self.use_types or (self.types_refused and not new.issue_type):
            return None
        if self._types is not None:
            return self.type_for(new)
        return (
            new.issue_type
            or {
                Kind.DEFECT: self.conventions.defect_type,
                Kind.OBSERVATION: self.conventions.observation_type,
                Kind.REMEDIATION: self.conventions.remediation_type,
            }[new.kind]
        )

    def refused(self, new: NewTicket) -> TrackerRefused | None:
        """After GitHub refused the type of ``new``: the error for a type the team asked for
        (naming those the owner has), or None for a conventional one (dropped from now on)."""
        self.types_refused = True
        if not new.issue_type:
            return None
        self._types = None
        available = self.types()
        if not available:  # an owner without types: the kind label says what the issue is
            return None
        return TrackerRefused(
            f"{self._map.repository} has no issue type {new.issue_type!r}"
            + (f" (it has: {', '.join(sorted(available.values()))})." if available else "."),
            hint="Set the team's issue_type to one of those, or leave it out.",
        )

    def type_for(self, new: NewTicket) -> str | None:
        """The issue type to send: the ticket's own, else the convention's, when the owner has it.

        An explicitly asked type the owner lacks is refused; a conventional one is just skipped
        (the kind label still says what the issue is). Reads ``/issue-types`` (once per run).
        """
        if not self.use_types:
            return None
        wanted = (
            new.issue_type
            or {
                Kind.DEFECT: self.conventions.defect_type,
                Kind.OBSERVATION: self.conventions.observation_type,
                Kind.REMEDIATION: self.conventions.remediation_type,
            }[new.kind]
        )
        available = self.types()
        found = available.get(wanted.lower())
        if found is None and new.issue_type and available:
            raise TrackerRefused(
                f"{self._map.repository} has no issue type {new.issue_type!r} "
                f"(it has: {', '.join(sorted(available.values()))}).",
                hint="Set the team's issue_type to one of those.",
            )
        return found

    def style_labels(self, issue: dict[str, Any]) -> None:
        """Give convention labels GitHub just created a colour and description, once per run."""
        styles = {
            label.lower(): LABEL_STYLE[kind] for kind, label in self._map.kind_labels().items()
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
                    f"{self._issues.path}/labels/{quote(name, safe='')}",
                    what=f"describing the label {name}",
                    body={"color": color, "description": description},
                    allow=(403, 404),
                )

    def check_kept(self, issue: dict[str, Any], labels: list[str], issue_type: str | None) -> None:
        """Raise (after closing it) when GitHub dropped labels or the type of a new issue."""
        lost = missing(issue, labels)
        type_lost = bool(issue_type) and not issue.get("type")
        if lost or type_lost:
            what = ", ".join(filter(None, ["labels" if lost else "", "type" if type_lost else ""]))
            raise self.dropped(issue["number"], what)

    def dropped(self, number: int, what: str) -> TrackerError:
        """Close an issue GitHub stripped of its marks; the error says why and what to do."""
        try:
            self._issues.set_state(number, {"state": "closed", "state_reason": "not_planned"})
            fate = "it was closed as not planned"
        except TrackerError:
            fate = "close it by hand"
        return no_push_access(self._map.key(number), what, self._map.repository, fate)


def missing(issue: dict[str, Any], labels: list[str]) -> list[str]:
    """Those of ``labels`` that ``issue`` does not carry (case-insensitive, as GitHub compares)."""
    kept = {label_name(x).lower() for x in issue.get("labels", [])}
    return [label for label in labels if label.lower() not in kept]


def no_push_access(key: str, what: str, repository: str, fate: str) -> TrackerRefused:
    """The error for marks GitHub dropped without saying so."""
    return TrackerRefused(
        f"GitHub dropped the {what} of {key} without an error: the token has no "
        f"push (triage) access to {repository}; {fate}.",
        hint="Give the token's account at least Triage access (fine-grained tokens: Issues "
        "read and write) and run the command again.",
        status=403,
    )
