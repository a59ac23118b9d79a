"""The fake Jira itself: it checks exchanges against the spec slices and parses JQL like Jira."""

from __future__ import annotations

import json

import pytest
import requests
from hypothesis import given
from hypothesis import strategies as st

from fakes.jira import EMAIL, SPECS, TOKEN, FakeIssue, FakeJira, Link
from fakes.jql import Clause, JqlError, lucene_match, parse_jql
from fakes.openapi import SpecValidator, load_spec
from tracker_bridge.trackers.jira import jql


@pytest.fixture
def cloud() -> SpecValidator:
    return SpecValidator(
        load_spec(SPECS / "jira-cloud.slice.json"), aliases={"/rest/api/2/": "/rest/api/3/"}
    )


def test_validator_accepts_a_documented_search(cloud: SpecValidator) -> None:
    body = json.dumps({"jql": 'project = "OPS"', "fields": ["summary"], "maxResults": 100})
    assert (
        cloud.check_request("POST", "/rest/api/2/search/jql", {}, "application/json", body.encode())
        == []
    )


@pytest.mark.parametrize(
    ("method", "path", "query", "body", "problem"),
    [
        ("POST", "/rest/api/2/search", {}, {"jql": "x"}, "no such operation"),
        ("GET", "/rest/api/2/search/jql", {"startAt": ["0"]}, None, "undocumented query"),
        ("GET", "/rest/api/2/search/jql", {"maxResults": ["ten"]}, None, "not an integer"),
        ("POST", "/rest/api/2/search/jql", {}, {"jql": "x", "startAt": 0}, "startAt"),
        ("POST", "/rest/api/2/issue", {}, {"fields": "summary"}, "not of type 'object'"),
    ],
)
def test_validator_catches_drift(
    cloud: SpecValidator,
    method: str,
    path: str,
    query: dict[str, list[str]],
    body: object,
    problem: str,
) -> None:
    raw = json.dumps(body).encode() if body is not None else b""
    problems = cloud.check_request(method, path, query, "application/json", raw)
    assert any(problem in p for p in problems), problems


def test_validator_checks_responses(cloud: SpecValidator) -> None:
    bad = json.dumps({"id": 1, "key": "OPS-1"}).encode()
    assert any(
        "is not of type 'string'" in p
        for p in cloud.check_response("POST", "/rest/api/2/issue", 201, "application/json", bad)
    )
    assert any(
        "not documented" in p
        for p in cloud.check_response("POST", "/rest/api/2/issue", 418, "application/json", b"{}")
    )


def test_the_fake_answers_what_it_validates() -> None:
    with FakeJira("cloud") as site:
        session = requests.Session()
        session.auth = (EMAIL, TOKEN)
        removed = session.post(f"{site.url}/rest/api/2/search", json={"jql": 'project = "OPS"'})
        assert removed.status_code == 400  # not in the description: a violation, recorded
        assert site.violations and "no such operation" in site.violations[0]
        site.violations.clear()
        site.validate = False
        assert session.post(f"{site.url}/rest/api/2/search", json={"jql": "x"}).status_code == 410
        session.close()


def test_the_fake_indexes_lookups_and_evaluates_a_query_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """What keeps a request's cost flat at 50,000 issues: lookups by id, links appended by
    hand still indexed, and a query's JQL evaluated on its first page only."""
    with FakeJira("cloud") as site:
        keys = [site.add_issue(f"issue {i}", labels=("bulk",)) for i in range(250)]
        relates = site.link_types[3]
        site.links.append(Link("1", relates, keys[0], keys[1]))  # seeded straight in
        evaluated: list[str] = []
        real = site._run_jql

        def counted(query: str) -> list[FakeIssue]:
            evaluated.append(query)
            return real(query)

        monkeypatch.setattr(site, "_run_jql", counted)
        session = requests.Session()
        session.auth = (EMAIL, TOKEN)
        api = f"{site.url}/rest/api/2"
        got = session.get(f"{api}/issue/{site.issues[keys[1]].id}", params={"fields": "issuelinks"})
        [link] = got.json()["fields"]["issuelinks"]
        assert link["inwardIssue"]["key"] == keys[0]
        body: dict[str, object] = {"jql": 'labels = "bulk"', "fields": ["summary"]}
        found: list[str] = []
        token = None
        while True:
            more = {"nextPageToken": token} if token else {}
            page = session.post(
                f"{api}/search/jql", json={**body, "maxResults": 100, **more}
            ).json()
            found += [i["key"] for i in page["issues"]]
            token = page.get("nextPageToken")
            if not token:
                break
        assert found == keys and evaluated == ['labels = "bulk"']  # 3 pages, 1 evaluation
        linked = session.post(
            f"{api}/search/jql",
            json={"jql": f'issue in linkedIssues("{keys[0]}")', "fields": ["summary"]},
        ).json()
        assert [i["key"] for i in linked["issues"]] == [keys[1]]
        session.close()
        assert site.violations == []


@given(st.text(max_size=200))
def test_any_value_quotes_into_exactly_one_clause(value: str) -> None:
    query = parse_jql(f"labels = {jql.quote(value)} AND project = {jql.quote('OPS')}")
    first = query.where.parts[0]
    assert isinstance(first, Clause) and first.values == (value,)


@given(st.text(min_size=1, max_size=200).filter(lambda s: s.split()))
def test_any_text_search_finds_itself(text: str) -> None:
    query = parse_jql(jql.contains_text("summary", text))
    assert isinstance(query.where, Clause)
    assert lucene_match(query.where.values[0], text)


@pytest.mark.parametrize(
    "bad", ['summary ~ "a\\+b"', "project = OR", "labels = empty", 'summary = "open']
)
def test_jql_is_refused_like_jira(bad: str) -> None:
    with pytest.raises(JqlError):
        parse_jql(bad)


def test_an_unescaped_value_would_widen_the_search() -> None:
    injected = 'x" OR project = SECRET OR summary ~ "y'
    naive = parse_jql(f'project = "OPS" AND summary ~ "{injected}"')
    safe = parse_jql(f'project = "OPS" AND {jql.contains_text("summary", injected)}')
    assert type(naive.where).__name__ == "Bool" and naive.where.op == "or"
    assert safe.where.op == "and"
