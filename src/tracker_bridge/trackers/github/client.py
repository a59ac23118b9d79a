"""The GitHub tracker's one road to the API: PyGithub's requester, our retries, counted.

Every request goes through ``GitHubClient.send``: PyGithub's ``Requester`` (authentication, base
URL, JSON) with its own retries and throttling sleeps turned off, wrapped in
``trackers.retry.with_retries``. Vendor errors are translated here and nowhere else:

- 403/429 rate limits (primary: ``x-ratelimit-remaining: 0``; secondary: ``Retry-After`` or
  GitHub's wording) and 5xx become ``Retryable`` with the wait the server asked for;
- connection errors and timeouts (``requests`` exceptions, ``RetryError`` included) become
  ``Retryable``; a write that may have landed is checked by the caller's ``recover`` first;
- other statuses become errors through ``errors.error_for_status`` (the table every backend shares).

Talking to the requester directly (not PyGithub's object model) keeps lazy objects from
completing themselves with hidden GETs, and gives one place to count round trips.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
from github import Auth, Github, GithubException

from tracker_bridge.errors import HTTP_STATUS_ERRORS, error_for_status
from tracker_bridge.trackers.retry import (
    UNANSWERED_STATUSES,
    Retryable,
    server_wait,
    unanswered,
    with_retries,
)


@dataclass(frozen=True, slots=True)
class Response:
    """Status, headers and decoded JSON of one answer."""

    status: int
    headers: Mapping[str, Any]
    data: Any


class GitHubClient:
    """PyGithub's requester with bounded retries, error translation and a round-trip count."""

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        timeout: float,
        budget: float,
        search_lag: float = 0.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.round_trips = 0
        self.search_lag = search_lag
        """Seconds a new issue may take to show in label listings (a lost create is looked for
        that long before it counts as not made)."""
        self._budget = budget
        self._sleep = sleep
        # retry=None and zero sleeps: our retries take over; PyGithub's would re-send POSTs
        # blindly, skip PATCH, and hide secondary limits in a RetryError.
        self.github = Github(
            base_url=self.base_url,
            auth=Auth.Token(token),
            per_page=100,
            timeout=max(1, math.ceil(timeout)),
            retry=None,
            seconds_between_requests=0,
            seconds_between_writes=0,
            lazy=True,
        )
        self._requester = self.github.requester
        self.graphql_url: str = self._requester.graphql_url
        """The GraphQL endpoint (``/graphql`` on github.com, ``/api/graphql`` on GHES)."""

    def send(
        self,
        verb: str,
        url: str,
        *,
        what: str,
        params: dict[str, Any] | None = None,
        body: Any = None,
        allow: Collection[int] = (),
        recover: Callable[[], Any] | None = None,
        body_file: Path | None = None,
        searched: bool = False,
    ) -> Response:
        """One request through PyGithub's requester, retried per ``trackers.retry``.

        Statuses in ``allow`` come back as a response instead of an error. ``recover`` (for
        non-idempotent writes) returns what an earlier attempt made, as response data, or None;
        ``searched``: it looks in a listing that lags writes, so after a write without an answer
        it is polled for ``search_lag`` seconds before the write counts as not made.
        ``body_file`` is a file holding the JSON body, streamed from disk (large evidence).
        """

        def attempt() -> Response:
            self.round_trips += 1
            try:
                if body_file is not None:
                    headers, data = self._requester.requestBlobAndCheck(
                        verb,
                        url,
                        parameters=params,
                        headers={"Content-Type": "application/json"},
                        input=str(body_file),
                    )
                else:
                    headers, data = self._requester.requestJsonAndCheck(
                        verb, url, parameters=params, input=body
                    )
                return Response(200, headers, data)
            except GithubException as exc:
                if exc.status in allow:
                    return Response(exc.status, exc.headers or {}, exc.data)
                raise translate(exc, what, self.base_url + url) from exc
            except requests.exceptions.RequestException as exc:
                raise Retryable(f"{type(exc).__name__}: {exc}", unanswered=unanswered(exc)) from exc

        def recovered() -> Response | None:
            found = recover() if recover is not None else None
            return None if found is None else Response(200, {}, found)

        return with_retries(
            attempt,
            what=what,
            budget=self._budget,
            recover=recovered if recover is not None else None,
            settle=self.search_lag if searched else 0.0,
            sleep=self._sleep,
        )

    def pages(self, url: str, params: dict[str, Any], *, pages: int | None = None) -> Iterator[Any]:
        """Items of a listing, 100 per page, following ``Link: rel=next``."""
        next_url: str | None = url
        query: dict[str, Any] | None = {**params, "per_page": 100}
        count = 0
        while next_url is not None and (pages is None or count < pages):
            response = self.send("GET", next_url, what="listing", params=query)
            count += 1
            yield from response.data
            next_url, query = self.next_link(response.headers), None

    def next_link(self, headers: Mapping[str, Any]) -> str | None:
        """The ``rel="next"`` URL of a page, relative to the base URL."""
        return _next_link(headers, self.base_url)

    def close(self) -> None:
        """Close PyGithub's connection pools."""
        self.github.close()


def translate(exc: GithubException, what: str, url: str) -> Exception:
    """A vendor error as a ``Retryable`` (rate limits, 5xx) or a ``TrackerError``."""
    status = exc.status
    headers = {str(k): str(v) for k, v in (exc.headers or {}).items()}
    data = exc.data if isinstance(exc.data, dict) else {}
    message = str(data.get("message", "")) or _html_title(data) or exc.__class__.__name__
    lower = {k.lower(): v for k, v in headers.items()}
    limited = status == 429 or (
        status == 403
        and (
            "retry-after" in lower
            or lower.get("x-ratelimit-remaining") == "0"
            or "rate limit" in message.lower()
        )
    )
    if limited or status >= 500:
        return Retryable(
            f"{what}: HTTP {status} {message}",
            server_wait(headers),
            status=status,
            unanswered=status in UNANSWERED_STATUSES,
        )
    if status == 401:
        return error_for_status(status, f"{what}: GitHub rejected the token ({message}).", url=url)
    if status in (404, 410):
        return error_for_status(status, f"{what}: not found on GitHub ({message}).", url=url)
    errors = "; ".join(
        str(e.get("message") or e.get("code"))
        for e in data.get("errors", [])
        if isinstance(e, dict)
    )
    return error_for_status(
        status,
        f"{what}: GitHub refused (HTTP {status}: {message}{'; ' + errors if errors else ''}).",
        hint=None
        if status in HTTP_STATUS_ERRORS
        else "Check the token's access to the repository.",
        url=url,
    )


def _html_title(data: Mapping[str, Any]) -> str:
    """What an HTML error page (a proxy's, not GitHub's JSON) says in its title."""
    raw = data.get("data")
    if not isinstance(raw, str) or not raw.lstrip().startswith("<"):
        return ""
    found = re.search(r"<title[^>]*>(.*?)</title>", raw, re.I | re.S)
    title = " ".join(found.group(1).split()) if found else "an HTML page"
    return f"{title} (an HTML page from a proxy, not GitHub's JSON)"


def _next_link(headers: Mapping[str, Any], base: str) -> str | None:
    link = next((str(v) for k, v in headers.items() if k.lower() == "link"), "")
    for part in link.split(","):
        match = re.search(r'<([^>]+)>\s*;\s*rel="next"', part)
        if match:
            url = match.group(1)
            return url[len(base) :] if url.startswith(base) else url
    return None
