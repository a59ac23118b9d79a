"""Several GitHub writes in one request: a GraphQL document of root mutations.

GitHub runs the root mutations of one document one after another and answers them together, so
linking a sub-issue, posting evidence comments and rewriting the body's evidence index cost one
request (and one content-creating request against the secondary limit of about 80 a minute)
instead of three. Each mutation is sent with its ``input`` as a variable; the answer's ``errors``
name the mutation that failed by its alias, and the others still ran.

Node ids (``node_id`` in REST answers) identify issues here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from tracker_bridge.errors import TrackerRefused
from tracker_bridge.trackers.github.client import GitHubClient

SELECTIONS = {
    "addSubIssue": ("AddSubIssueInput", "subIssue { id }"),
    "addComment": ("AddCommentInput", "commentEdge { node { url databaseId } }"),
    "updateIssue": ("UpdateIssueInput", "issue { id }"),
}
"""The mutations the bridge sends: input type and what it reads back."""


@dataclass(frozen=True, slots=True)
class Mutation:
    """One root mutation: its name (a key of ``SELECTIONS``) and its input."""

    name: str
    input: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Answer:
    """What each mutation answered (by position), and the errors of those that failed."""

    data: tuple[dict[str, Any] | None, ...]
    errors: dict[int, str] = field(default_factory=dict)


def document(mutations: Sequence[Mutation]) -> tuple[str, dict[str, Any]]:
    """The GraphQL document and its variables for ``mutations``, aliased ``m0``, ``m1``, ..."""
    params, fields, variables = [], [], {}
    for i, m in enumerate(mutations):
        input_type, selection = SELECTIONS[m.name]
        params.append(f"$i{i}: {input_type}!")
        fields.append(f"m{i}: {m.name}(input: $i{i}) {{ {selection} }}")
        variables[f"i{i}"] = m.input
    return f"mutation({', '.join(params)}) {{ {' '.join(fields)} }}", variables


def run(
    client: GitHubClient,
    mutations: Sequence[Mutation],
    *,
    what: str,
    recover: Callable[[], Answer | None] | None = None,
) -> Answer:
    """Send ``mutations`` in one request (retried as one; ``recover`` finds a lost answer)."""
    query, variables = document(mutations)

    def recovered() -> dict[str, Any] | None:
        found = recover() if recover is not None else None
        return None if found is None else {"data": _by_alias(found)}

    response = client.send(
        "POST",
        client.graphql_url,
        what=what,
        body={"query": query, "variables": variables},
        recover=recovered if recover is not None else None,
    )
    payload = response.data if isinstance(response.data, dict) else {}
    data = payload.get("data") or {}
    if payload.get("errors") and not data:
        messages = "; ".join(str(e.get("message")) for e in payload["errors"])
        raise TrackerRefused(
            f"{what}: GitHub refused the GraphQL request ({messages}).",
            hint="Check the token's access to the repository (Issues: read and write).",
        )
    errors: dict[int, str] = {}
    for error in payload.get("errors") or []:
        path = error.get("path") or []
        if path and str(path[0]).startswith("m") and str(path[0])[1:].isdigit():
            errors[int(str(path[0])[1:])] = str(error.get("message", ""))
    return Answer(tuple(data.get(f"m{i}") for i in range(len(mutations))), errors)


def _by_alias(answer: Answer) -> dict[str, Any]:
    return {f"m{i}": value for i, value in enumerate(answer.data)}
