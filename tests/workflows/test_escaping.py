"""Data never becomes structure: error messages, instances and file names in what the bridge
writes to Jira (wiki markup) and GitHub (Markdown and HTML), on a site profile each."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from markdown_it import MarkdownIt

from fakes.github import TOKEN, FakeGitHub
from fakes.jira import FakeJira
from support.trackers import make_tracker
from tracker_bridge import templating
from tracker_bridge.domain.conventions import Conventions
from tracker_bridge.domain.markup import ZWSP, escape
from tracker_bridge.domain.tickets import EvidenceFile, Kind, Status, Ticket, Tree
from tracker_bridge.trackers.github import GitHubTracker
from tracker_bridge.workflows import context, observe

WHEN = datetime(2026, 11, 2, 3, 4, 5, tzinfo=UTC)
HOSTILE = (
    "boom !http://x/pixel.png! [reset|http://x/login] [~admin] @security-team #1 "
    '<img src="http://x/p.png"> <details open><summary>x</summary> ![p](http://x/q.png)\n'
    "# not a heading\n- not a list"
)
INSTANCE = "db-1 @ops-oncall #2 <b>"
NAME = "report\n\n# pwned <img src=x>.txt"


def _request(**kw: object) -> observe.Request:
    return observe.Request(
        message=HOSTILE,
        instance=INSTANCE,
        evidence=(EvidenceFile(NAME, b"log line\n", f"file:{NAME}", WHEN),),
        **kw,  # type: ignore[arg-type]
    )


def _wiki_structure(text: str) -> list[str]:
    """Wiki markup that would render as structure: unescaped images, links, mentions, macros."""
    unescaped = r"(?<!\\)"
    text = re.sub(r"\{noformat\}.*?\{noformat\}", "", text, flags=re.S)  # literal by design
    patterns = [
        unescaped + r"!http[^!\s]*" + unescaped + "!",
        unescaped + r"\[[^\]\\]*\|[^\]]*" + unescaped + r"\]",
        unescaped + r"\[~",
        r"^\s*#\s*(not a heading|pwned)",
        r"^\s*-\s*not a list",
    ]
    return [p for p in patterns if re.search(p, text, re.M)]


def _jira_text(description: str) -> str:
    """The human part of a description (the data block is a noformat macro, inert)."""
    return description.split("{noformat:title=tracker-bridge data", maxsplit=1)[0]


def test_escape_is_inline_and_inert() -> None:
    assert escape("a\n\n# b", "jira-wiki") == "a \\# b"
    assert escape("@team #1 <img>", "github-markdown") == f"@{ZWSP}team #{ZWSP}1 &lt;img&gt;"
    assert escape("https://x.example/a_b", "github-markdown") == "https://x.example/a_b"
    assert escape("plain\nkept", "plain") == "plain\nkept"


def test_jira_descriptions_and_comments_keep_data_inert() -> None:
    with FakeJira(profile="jira-dc-8.20") as site:
        tracker = make_tracker(site, Conventions())
        first = observe.run(tracker, tracker.conventions, _request())
        defect = site.issues[first.defect or ""]
        site.issues[defect.key].status = "Done"
        again = observe.run(make_tracker(site, Conventions()), Conventions(), _request())
        assert again.recurrence == "reopened"
        texts = [
            _jira_text(site.issues[first.observation or ""].description or ""),
            _jira_text(defect.description or ""),
            *(c["body"] for c in defect.comments),
        ]
        for text in texts:
            assert _wiki_structure(text) == [], text
        names = list(site.attachment_bytes(first.observation or ""))
        assert all("\n" not in n for n in names)
        assert site.violations == []


def _html(markdown: str) -> str:
    return MarkdownIt("commonmark", {"html": True}).render(markdown)


def _github_structure(body: str) -> list[str]:
    """What would notify someone or change the page: mentions, refs, raw HTML, images, headings.

    Code blocks and spans are literal on GitHub (no mentions, no references), so only the text
    outside them is searched."""
    html = _html(body)
    prose = re.sub(r"<pre>.*?</pre>|<code>.*?</code>|<!--.*?-->", "", html, flags=re.S)
    # the bridge's own reference to the parent defect is meant to link
    prose = re.sub(r"Tracked by tracker-bridge as a <strong>\w+</strong> of #\d+\.", "", prose)
    found = []
    if re.search(r"(?<![\w`])@[A-Za-z]", prose):
        found.append("mention")
    if re.search(r"(?<![\w/&])#\d", prose):
        found.append("issue reference")
    for tag in ("<img", "<details open", "<b>", "<h1"):
        if tag in prose:
            found.append(tag)
    return found


def test_github_bodies_and_comments_keep_data_inert() -> None:
    with FakeGitHub(profile="github-same-host") as fake:

        def hub() -> GitHubTracker:
            return GitHubTracker(repository=fake.full_name, token=TOKEN, base_url=fake.url)

        tracker = hub()
        first = observe.run(tracker, tracker.conventions, _request())
        tracker.close()
        number = int((first.defect or "").rsplit("#", 1)[1])
        fake.issues[number].state = "closed"
        again = hub()
        second = observe.run(again, again.conventions, _request(event_id="two"))
        again.close()
        assert second.recurrence == "reopened"
        for issue in fake.issues.values():
            assert _github_structure(issue.body or "") == [], issue.body
            for comment in issue.comments:
                assert _github_structure(comment["body"]) == [], comment["body"]
        assert fake.violations == []


@pytest.mark.parametrize("markup", ["jira-wiki", "github-markdown"])
def test_a_delegated_template_escapes_every_value(markup: str) -> None:
    defect = Ticket(
        key="OPS-1",
        title=HOSTILE,
        kind=Kind.DEFECT,
        status=Status.OPEN,
        created=WHEN,
        url="https://x.example/OPS-1",
        message=HOSTILE,
    )
    sighting = Ticket(
        key="OPS-2",
        title="Handle",
        kind=Kind.OBSERVATION,
        status=Status.OPEN,
        created=WHEN,
        url="https://x.example/OPS-2",
        parent="OPS-1",
        instance=INSTANCE,
        observed_at=WHEN,
        impact=HOSTILE,
        actions=(HOSTILE,),
        evidence=(EvidenceFile(NAME, b"log line\n", f"file:{NAME}", WHEN).ref("https://x/a"),),
    )
    ctx = context.of_defect(Tree(defect, (sighting,)), {}, now=WHEN)
    ctx["team"] = {"name": "platform", "project": "PLAT"}
    title, body = templating.render(
        "remediation",
        ctx,
        escape=lambda t: escape(t, markup),  # type: ignore[arg-type]
    )
    assert "pwned" in body and "security" in body
    if markup == "jira-wiki":
        assert _wiki_structure(body) == [], body
        assert "\\!http://x/pixel.png\\!" in body
    else:
        assert _github_structure(body) == [], body
    assert title.startswith("Remediate: ") and "\\" not in title
