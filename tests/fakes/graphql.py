"""The GraphQL endpoint of the fake GitHub: the mutations the bridge sends, on the fake's state.

The schema below is a slice of GitHub's public GraphQL schema (``schema.docs.graphql``, types and
arguments as published, only the fields used), executed by ``graphql-core``: a document that would
not validate against GitHub's schema (unknown field, wrong argument type, missing ``input``) gets
GitHub's answer, HTTP 200 with ``errors``, and lands in ``FakeGitHub.violations``. Root mutations
of one document run one after another, as GitHub runs them; a failing one answers ``null`` with an
error naming its ``path`` and the others still run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from graphql import GraphQLError, build_schema, graphql_sync

if TYPE_CHECKING:
    from fakes.github import FakeGitHub, FakeIssue

SCHEMA = build_schema(
    """
    scalar URI

    interface Node {
      id: ID!
    }

    type Issue implements Node {
      id: ID!
      databaseId: Int
      number: Int!
      title: String!
      body: String!
      url: URI!
      parent: Issue
    }

    type IssueComment implements Node {
      id: ID!
      databaseId: Int
      body: String!
      url: URI!
    }

    type IssueCommentEdge {
      cursor: String!
      node: IssueComment
    }

    input AddSubIssueInput {
      clientMutationId: String
      issueId: ID!
      subIssueId: ID
      subIssueUrl: String
      replaceParent: Boolean
    }

    type AddSubIssuePayload {
      clientMutationId: String
      issue: Issue
      subIssue: Issue
    }

    input AddCommentInput {
      body: String!
      clientMutationId: String
      subjectId: ID!
    }

    type AddCommentPayload {
      clientMutationId: String
      commentEdge: IssueCommentEdge
      subject: Node
    }

    input UpdateIssueInput {
      assigneeIds: [ID!]
      body: String
      clientMutationId: String
      id: ID!
      issueTypeId: ID
      labelIds: [ID!]
      milestoneId: ID
      projectIds: [ID!]
      title: String
    }

    type UpdateIssuePayload {
      clientMutationId: String
      issue: Issue
    }

    type Query {
      node(id: ID!): Node
    }

    type Mutation {
      addSubIssue(input: AddSubIssueInput!): AddSubIssuePayload
      addComment(input: AddCommentInput!): AddCommentPayload
      updateIssue(input: UpdateIssueInput!): UpdateIssuePayload
    }
    """
)


class GraphQL:
    """Executes documents against ``SCHEMA`` with the fake's issues as data."""

    def __init__(self, fake: FakeGitHub) -> None:
        self.fake = fake
        self.documents: list[str] = []
        """Every document received, in order (for assertions)."""

    def execute(self, payload: dict[str, Any]) -> dict[str, Any]:
        """GitHub's answer to one POST /graphql body (``query`` and ``variables``)."""
        query = str(payload.get("query") or "")
        self.documents.append(query)
        result = graphql_sync(
            SCHEMA,
            query,
            root_value=_Root(self.fake),
            variable_values=payload.get("variables") or {},
        )
        answer: dict[str, Any] = {"data": result.data}
        if result.errors:
            answer["errors"] = [_error(e) for e in result.errors]
            if result.data is None:  # not even executed: the document itself is wrong
                self.fake.violations.extend(str(e.message) for e in result.errors)
        return answer


def _error(error: GraphQLError) -> dict[str, Any]:
    out: dict[str, Any] = {"message": error.message}
    if error.path:
        out["path"] = list(error.path)
    kind = (error.extensions or {}).get("type")
    if kind:
        out["type"] = kind
    return out


class _Unprocessable(GraphQLError):
    def __init__(self, message: str) -> None:
        super().__init__(message, extensions={"type": "UNPROCESSABLE"})


class _Root:
    """Root mutation fields, resolved by graphql-core's default resolver (methods with args)."""

    def __init__(self, fake: FakeGitHub) -> None:
        self.fake = fake

    def _find(self, node_id: str) -> tuple[str, FakeIssue]:
        for full, repo in self.fake.repositories.items():
            for issue in repo.issues.values():
                if f"I_{issue.id}" == node_id:
                    return full, issue
        raise GraphQLError(
            f"Could not resolve to a node with the global id of '{node_id}'",
            extensions={"type": "NOT_FOUND"},
        )

    def _issue(self, full: str, issue: FakeIssue) -> dict[str, Any]:
        fake = self.fake
        name = next(k for k in fake.repositories if k == full)
        owner, repo = name.split("/")
        return {
            "id": f"I_{issue.id}",
            "databaseId": issue.id,
            "number": issue.number,
            "title": issue.title,
            "body": issue.body or "",
            "url": f"https://github.example/{owner}/{repo}/issues/{issue.number}",
            "parent": None,
        }

    def _in(self, full: str) -> _Serving:
        return _Serving(self.fake, full)

    def addSubIssue(self, _info: Any, input: dict[str, Any]) -> dict[str, Any]:
        parent_repo, parent = self._find(str(input["issueId"]))
        child_repo, child = self._find(str(input.get("subIssueId") or ""))
        if parent_repo.split("/")[0] != child_repo.split("/")[0]:
            raise _Unprocessable("Sub-issues must belong to the same owner as their parent.")
        if parent_repo != child_repo:
            raise _Unprocessable("Cross-repository sub-issues are not modelled by this fake.")
        from fakes.github import ApiError

        with self._in(parent_repo):
            try:
                self.fake._add_child(
                    parent,
                    {"sub_issue_id": child.id, "replace_parent": bool(input.get("replaceParent"))},
                )
            except ApiError as exc:
                reasons = [str(e.get("message", "")) for e in exc.body.get("errors", [])]
                raise _Unprocessable("; ".join(reasons) or exc.body["message"]) from None
        return {
            "clientMutationId": input.get("clientMutationId"),
            "issue": self._issue(parent_repo, parent),
            "subIssue": self._issue(child_repo, child),
        }

    def addComment(self, _info: Any, input: dict[str, Any]) -> dict[str, Any]:
        full, issue = self._find(str(input["subjectId"]))
        from fakes.github import ApiError

        with self._in(full):
            try:
                comment = self.fake._comment(issue, {"body": input["body"]})
            except ApiError as exc:
                raise _Unprocessable(f"Body is invalid ({exc.body['message']}).") from None
        return {
            "clientMutationId": input.get("clientMutationId"),
            "commentEdge": {
                "cursor": str(comment["id"]),
                "node": {
                    "id": comment["node_id"],
                    "databaseId": comment["id"],
                    "body": comment["body"],
                    "url": comment["html_url"],
                },
            },
            "subject": {"__typename": "Issue", **self._issue(full, issue)},
        }

    def updateIssue(self, _info: Any, input: dict[str, Any]) -> dict[str, Any]:
        full, issue = self._find(str(input["id"]))
        from fakes.github import ApiError

        change = {k: input[k] for k in ("body", "title") if input.get(k) is not None}
        with self._in(full):
            try:
                self.fake._edit(issue, change)
            except ApiError as exc:
                raise _Unprocessable(exc.body["message"]) from None
        return {
            "clientMutationId": input.get("clientMutationId"),
            "issue": self._issue(full, issue),
        }


class _Serving:
    """Serve one repository for the length of a ``with`` block."""

    def __init__(self, fake: FakeGitHub, full: str) -> None:
        self.fake = fake
        self.full = full

    def __enter__(self) -> None:
        owner_repo = next(k for k in self.fake.repositories if k == self.full)
        self.fake.use(owner_repo)

    def __exit__(self, *exc: object) -> None:
        self.fake.use(self.fake.home)
