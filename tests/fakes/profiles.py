"""Site profiles: named bundles of the ways a real Jira or GitHub differs from its published spec.

A fake started with a profile (``FakeJira(profile="jira-dc-8.20")``, ``FakeGitHub(profile=...)``)
answers the way that kind of site does: endpoints missing or forbidden, other methods refused,
pages without totals, renamed transitions, equal timestamps, JQL functions ignored, proxies that
answer in HTML and drop headers. Each deviation cites where it was seen. The ``standard`` profiles
answer as the official OpenAPI descriptions say and keep the fakes' full spec checks; the others
still check every *request* against the spec (the bridge must send valid requests everywhere) but
not the answers, which deviate on purpose.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal

Flavour = Literal["cloud", "datacenter"]

TRANSITIONS = (
    # id, name, from statuses, to
    ("11", "Start Progress", ("To Do",), "In Progress"),
    ("31", "Done", ("To Do", "In Progress"), "Done"),
    ("41", "Reopen", ("Done",), "To Do"),
)
RENAMED_TRANSITIONS = (
    # A customised Data Center workflow: no "Reopen"; a Reopened status (category To Do) instead.
    ("11", "Start Progress", ("To Do", "Reopened"), "In Progress"),
    ("31", "Resolve Issue", ("To Do", "In Progress", "Reopened"), "Done"),
    ("51", "Back to In Progress", ("Done",), "In Progress"),
    ("41", "To Reopened", ("Done",), "Reopened"),
    ("61", "Back to To Do", ("In Progress",), "To Do"),
)

JiraEndpoint = Literal[
    "serverInfo", "issueLinkType", "mypermissions", "attachment/meta", "createmeta", "remotelink"
]


@dataclass(frozen=True)
class JiraProfile:
    """How one kind of Jira site answers."""

    name: str
    flavour: Flavour = "cloud"
    missing: frozenset[str] = frozenset()
    """Endpoints (``JiraEndpoint``) that answer 404: older versions, plugins that remove them."""
    forbidden: frozenset[str] = frozenset()
    """Endpoints that answer 403: permission schemes or proxies that hide them."""
    search_post: bool = True
    """False: ``POST /search`` answers 405 (a proxy or WAF allowing only GET)."""
    page_total: bool = True
    """False: search pages carry no ``total``."""
    transitions: tuple[tuple[str, str, tuple[str, ...], str], ...] = TRANSITIONS
    same_created: bool = False
    """Every issue reports the same ``created`` (a migrated or restored site)."""
    ignores_unknown_functions: bool = False
    """``issue in linkedIssues(...)`` is ignored: the clause holds for every issue."""
    phrase_search: bool = True
    """False: a phrase search with escaped quotes (``summary ~ "\\"Handle\\""``) finds nothing."""
    html_errors: bool = False
    """Errors the proxy makes (injected faults) come as HTML pages, never JSON."""
    retry_after: bool = True
    """False: 429 and 503 come without ``Retry-After`` (the proxy strips it)."""
    strips_headers: frozenset[str] = frozenset()
    """Request headers a proxy drops before Jira sees them (``X-Atlassian-Token``: every upload
    then fails Jira's XSRF check; pycontribs/jira#44, floralvikings/jira-connector#161)."""
    creates_in: str = ""
    """A project every create lands in, whatever was asked (a misrouting create plugin)."""
    ignores_label_clauses: bool = False
    """``labels = "x"`` holds for every issue (a search index that lost the labels field)."""
    version: str = "10.3.4"
    """What ``/serverInfo`` says (Data Center)."""
    sources: tuple[str, ...] = field(default=())
    """Where each deviation was reported."""

    @property
    def standard(self) -> bool:
        return self.name in ("jira-cloud", "jira-dc")


JIRA_PROFILES = {
    p.name: p
    for p in (
        JiraProfile("jira-cloud", "cloud"),
        JiraProfile("jira-dc", "datacenter"),
        JiraProfile(
            "jira-dc-8.20",
            "datacenter",
            version="8.20.10",
            missing=frozenset({"attachment/meta", "mypermissions", "createmeta"}),
            search_post=False,
            page_total=False,
            transitions=RENAMED_TRANSITIONS,
            same_created=True,
            ignores_unknown_functions=True,
            phrase_search=False,
            sources=(
                "issue 13 of this project: a third-party Jira Data Center 8.20 emulator",
                "https://github.com/jira-node/node-jira-client/issues/368 (only GET /search "
                "gets through; POST is refused)",
                "https://github.com/rhevm-qe-automation/pytest_jira/issues/111 (mypermissions "
                "changed under clients)",
            ),
        ),
        JiraProfile(
            "jira-locked-down",
            "datacenter",
            missing=frozenset({"serverInfo"}),
            forbidden=frozenset({"issueLinkType", "remotelink"}),
            sources=("issue 13 of this project: permission schemes that hide endpoints",),
        ),
        JiraProfile(
            "jira-behind-proxy",
            "datacenter",
            html_errors=True,
            retry_after=False,
            creates_in="",
            sources=(
                "https://github.com/OSidorenkov/zabbix-jira/issues/14 (502 Proxy Error pages "
                "from Jira 8.4 behind Apache)",
                "https://github.com/vesln/sourcery/pull/3 (Jira answering an HTML page "
                "instead of JSON)",
                "https://github.com/pycontribs/jira/issues/1805 (Data Center 9.12: 429 with "
                "Retry-After 0 or none)",
            ),
        ),
    )
}


def standard(flavour: Flavour) -> JiraProfile:
    """The profile that answers as the official description of ``flavour`` says."""
    return JIRA_PROFILES["jira-cloud" if flavour == "cloud" else "jira-dc"]


def jira_profile(profile: JiraProfile | str) -> JiraProfile:
    """A profile by name (or itself)."""
    if isinstance(profile, JiraProfile):
        return profile
    try:
        return JIRA_PROFILES[profile]
    except KeyError:
        raise ValueError(f"no Jira profile {profile!r}; known: {sorted(JIRA_PROFILES)}") from None


def with_changes(profile: str, **changes: object) -> JiraProfile:
    """A named profile with some deviations changed (for one test)."""
    return replace(jira_profile(profile), **changes)  # type: ignore[arg-type]


@dataclass(frozen=True)
class GitHubProfile:
    """How one kind of GitHub site answers."""

    name: str
    repositories: tuple[str, ...] = ("acme/ops",)
    """Repositories on this host (the first is the one the fake's ``full_name`` names)."""
    owner_has_types: bool = True
    html_errors: bool = False
    """5xx the proxy makes (injected faults) come as HTML pages; GitHub's own errors pass."""
    retry_after: bool = True
    """False: rate limits come without ``Retry-After``/``x-ratelimit-reset`` (stripped)."""
    sources: tuple[str, ...] = field(default=())


GITHUB_PROFILES = {
    p.name: p
    for p in (
        GitHubProfile("github"),
        GitHubProfile(
            "github-same-host",
            repositories=("acme/ops", "acme/platform", "other/infra"),
            sources=(
                "issue 13 of this project: delegating to a team's repository on the same "
                "GitHub ('o/a#5' is not an issue of o/b)",
            ),
        ),
        GitHubProfile(
            "github-user-owned",
            owner_has_types=False,
            sources=("a user-owned repository: /issue-types answers 404, create refuses type",),
        ),
        GitHubProfile(
            "ghes-behind-proxy",
            html_errors=True,
            retry_after=False,
            sources=(
                "no GitHub-specific thread found: the reverse-proxy behaviour reported for Jira "
                "(https://github.com/OSidorenkov/zabbix-jira/issues/14, 502 pages in HTML) "
                "applied to a GitHub Enterprise Server behind the same kind of proxy",
                "/work/shared/API_NOTES.md: secondary rate limits may come as 403 with only a "
                "message",
            ),
        ),
    )
}


def github_profile(profile: GitHubProfile | str) -> GitHubProfile:
    """A profile by name (or itself)."""
    if isinstance(profile, GitHubProfile):
        return profile
    try:
        return GITHUB_PROFILES[profile]
    except KeyError:
        raise ValueError(
            f"no GitHub profile {profile!r}; known: {sorted(GITHUB_PROFILES)}"
        ) from None
