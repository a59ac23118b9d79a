"""Talking to one Jira site: authentication, requests, retries, error mapping and search paging.

``jira.JIRA`` provides authentication (Cloud: e-mail + API token as basic auth; Data Center:
personal access token as bearer) and its HTTP session, made with ``get_server_info=False`` (no
request at start) and ``max_retries=0`` (its retries repeat POSTs and mishandle ``Retry-After``;
ours are ``trackers.retry``). Every call goes straight to REST v2 through that session, because the
library's helpers cost extra round trips or use the search endpoint Cloud removed.

Errors. Connection errors, timeouts, 429, 503 and other 5xx become ``Retryable`` (with the wait
the server asked for); everything else becomes a ``tracker_bridge.errors`` exception, with the
library's error (which keeps the request headers, credentials included) scrubbed before chaining.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, BinaryIO, TypeVar
from urllib.parse import quote as quote_path
from urllib.parse import urlsplit

import requests
from jira import JIRA, JIRAError
from requests_toolbelt import MultipartEncoder  # type: ignore[import-untyped]

from tracker_bridge.errors import (
    HTTP_STATUS_ERRORS,
    ConfigError,
    NotFoundError,
    TrackerRefused,
    error_for_status,
)
from tracker_bridge.trackers.retry import (
    UNANSWERED_STATUSES,
    Retryable,
    server_wait,
    unanswered,
    with_retries,
)

T = TypeVar("T")

PAGE_SIZE = 100
_CLOUD_HOSTS = (".atlassian.net", ".jira.com", ".jira-dev.com")

Part = tuple[str, bytes | Callable[[], BinaryIO], str]
"""One file of a multipart upload: name, bytes or a function opening a reader of them (called
once per attempt, so a retry reads the file again from its start), content type."""


def path(key: str) -> str:
    """An issue key or project key as one URL path segment."""
    return quote_path(key, safe="")


class JiraSession:
    """One authenticated Jira site; knows whether it is Cloud or Data Center."""

    def __init__(
        self,
        *,
        url: str,
        deployment: str = "auto",
        email: str = "",
        token: str | None = None,
        timeout: float = 30.0,
        max_retry_wait: float = 120.0,
        search_lag: float = 0.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        """Check the credentials are complete; nothing is sent until the first request."""
        if not token:
            raise ConfigError(
                "no Jira token is set.",
                hint="Set BRIDGE_TRACKER__TOKEN (Cloud: an API token; Data Center: a personal "
                "access token) or point [tracker] token_file at a file holding it.",
            )
        if deployment == "cloud" and not email:
            raise ConfigError(
                "Jira Cloud needs the account e-mail that goes with the API token.",
                hint="Set [tracker] email or BRIDGE_TRACKER__EMAIL.",
            )
        if deployment not in ("cloud", "datacenter", "auto"):
            raise ConfigError(f"[tracker] deployment {deployment!r} is not cloud|datacenter|auto.")
        self.url = url.rstrip("/")
        self.host = urlsplit(url).hostname or ""
        self._budget = max_retry_wait
        self.search_lag = search_lag
        """Seconds a write may take to show in searches (a lost create is looked for that long)."""
        self._sleep = sleep
        self._cloud: bool | None = {"cloud": True, "datacenter": False}.get(deployment)
        if self._cloud is None and self.host.endswith(_CLOUD_HOSTS):
            self._cloud = True
        use_basic = bool(email) and self._cloud is not False
        self.search_by_get = False
        """True once ``POST /search`` was refused (405): every search then uses GET."""
        self.server_info_missing = False
        """True when ``/serverInfo`` is missing or forbidden (Data Center was assumed)."""
        self._client = JIRA(
            server=self.url,
            basic_auth=(email, token) if use_basic else None,
            token_auth=None if use_basic else token,
            get_server_info=False,
            max_retries=0,
            timeout=timeout,
            options={"rest_api_version": "2"},
        )

    def close(self) -> None:
        """Close the HTTP session."""
        self._client.close()  # type: ignore[no-untyped-call]

    def is_cloud(self) -> bool:
        """Cloud or Data Center, from the configuration or (once) from ``/serverInfo``.

        A site that hides ``/serverInfo`` (404 or 403) and is not on a Cloud host is taken for
        Data Center: only Cloud hosts can be Cloud.
        """
        if self._cloud is None:
            try:
                info = self.get("serverInfo", "reading Jira's server info")
            except (NotFoundError, TrackerRefused) as exc:
                if isinstance(exc, TrackerRefused) and exc.status != 403:
                    raise
                self.server_info_missing = True
                info = {"deploymentType": "Server"}
            self._cloud = str(info.get("deploymentType", "")).lower() == "cloud"
        return self._cloud

    # -- one request -----------------------------------------------------------------------

    def request(
        self,
        method: str,
        api_path: str,
        *,
        what: str,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
        files: Sequence[Part] | None = None,
        not_found: str | None = None,
        absolute: bool = False,
        permission: str | None = None,
    ) -> Any:
        """One request; parsed JSON (or raw bytes for downloads, None for no content).

        ``files`` are sent as one multipart request, each in the field ``file``. Raises
        ``Retryable`` for what is worth retrying, a ``BridgeError`` otherwise. ``permission``
        names the Jira permission a write needs: a 403 then says which one is missing (sites
        that hide ``/mypermissions`` are only found out by the write itself).
        """
        url = api_path if absolute else self._client._get_url(api_path)
        kwargs: dict[str, Any] = {"params": params}
        opened: list[BinaryIO] = []
        if files is not None:
            # A streaming encoder: the body is read from the files as it is sent, never built
            # in memory (requests' own ``files=`` would build it whole).
            fields = []
            for name, content, kind in files:
                reader = content() if callable(content) else content
                if not isinstance(reader, bytes):
                    opened.append(reader)
                fields.append(("file", (name, reader, kind)))
            encoder = MultipartEncoder(fields=fields)
            kwargs["data"] = encoder
            kwargs["headers"] = {
                "Content-Type": encoder.content_type,
                "X-Atlassian-Token": "no-check",
            }
        elif body is not None:
            kwargs["data"] = json.dumps(body)
        try:
            response = self._client._session.request(method, url, **kwargs)
        except JIRAError as exc:
            raise self._failure(exc, what, not_found, permission) from _scrubbed(exc)
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise Retryable(
                f"{what}: no answer from {self.url} ({type(exc).__name__})",
                unanswered=unanswered(exc),
            ) from exc
        except requests.RequestException as exc:
            raise Retryable(f"{what}: {type(exc).__name__} talking to {self.url}") from exc
        finally:
            for reader in opened:
                reader.close()
        if absolute:
            return response.content
        if response.status_code == 204 or not response.content:
            return None
        try:
            return response.json()
        except ValueError as exc:
            raise TrackerRefused(
                f"{what}: Jira answered {response.status_code} with something that is not JSON.",
                hint="Check [tracker] url: it must be the site root, e.g. https://x.atlassian.net.",
                status=response.status_code,
                url=self.url,
            ) from exc

    def _failure(
        self, exc: JIRAError, what: str, not_found: str | None, permission: str | None = None
    ) -> Exception:
        status = exc.status_code
        response = exc.response
        headers = dict(response.headers) if response is not None else {}
        detail = _jira_messages(response)
        if status is None or status in (429, 503) or status >= 500:
            wait = server_wait(headers) if status in (429, 503) else None
            return Retryable(
                f"{what}: Jira answered {status or 'nothing'}",
                wait,
                status=status,
                unanswered=status is None or status in UNANSWERED_STATUSES,
            )
        if status == 401:
            return error_for_status(
                status, f"Jira at {self.url} did not accept the credentials ({what}).", url=self.url
            )
        if status == 404 and not_found:
            return NotFoundError(
                f"{not_found} does not exist on {self.url} (or you cannot see it)."
            )
        if status == 400 and _names_missing_issue(response):
            return NotFoundError(f"{what}: {detail}", hint="Check the ticket key.")
        if status == 403 and "XSRF check failed" in detail:
            return TrackerRefused(
                f"{what}: Jira refused it as a cross-site request (XSRF check failed): the "
                "X-Atlassian-Token header the bridge sends did not reach Jira.",
                hint="A proxy between here and Jira drops that header; let it through (uploads "
                "need it), or point [tracker] url past the proxy.",
                status=status,
                url=self.url,
            )
        if status == 403 and permission:
            return TrackerRefused(
                f"{what}: Jira answered 403 ({detail}); this account lacks the Jira permission "
                f"{permission} there.",
                hint=f"Ask a Jira admin to grant {permission} to this account in the project's "
                "permission scheme.",
                status=status,
                url=self.url,
            )
        hint = None if status in HTTP_STATUS_ERRORS else ""
        return error_for_status(
            status, f"{what}: Jira answered {status}: {detail}", hint=hint, url=self.url
        )

    # -- with retries ----------------------------------------------------------------------

    def call(
        self,
        what: str,
        operation: Callable[[], T],
        recover: Callable[[], T | None] | None = None,
        *,
        searched: bool = False,
    ) -> T:
        """``operation`` with retries; ``recover`` finds a write that landed before a re-send.
        ``searched``: ``recover`` is a search, so after a write without an answer it is polled
        for ``search_lag`` seconds before the write counts as not made (and is not re-sent)."""
        return with_retries(
            operation,
            what=what,
            budget=self._budget,
            recover=recover,
            settle=self.search_lag if searched else 0.0,
            sleep=self._sleep,
        )

    def get(self, api_path: str, what: str, **kw: Any) -> Any:
        """A GET, retried."""
        return self.call(what, lambda: self.request("GET", api_path, what=what, **kw))

    def send(self, method: str, api_path: str, what: str, **kw: Any) -> Any:
        """An idempotent write (PUT, upserting POST), retried as it is."""
        return self.call(what, lambda: self.request(method, api_path, what=what, **kw))

    def download(self, url: str, what: str, not_found: str | None = None) -> bytes:
        """The bytes at an absolute URL on this site (attachment content), retried."""
        data: bytes = self.call(
            what,
            lambda: self.request("GET", url, what=what, absolute=True, not_found=not_found),
        )
        return data

    # -- search ----------------------------------------------------------------------------

    def search(
        self, query: str, fields: Sequence[str], *, what: str, page_size: int = PAGE_SIZE
    ) -> Iterator[dict[str, Any]]:
        """Raw issues matching ``query``, page by page (each page retried).

        Cloud: ``/search/jql`` with ``nextPageToken``; Data Center: ``/search`` with ``startAt``.
        With ``page_size == 1`` only the first page is read.
        """
        if self.is_cloud():
            token: str | None = None
            while True:
                body: dict[str, Any] = {
                    "jql": query,
                    "fields": list(fields),
                    "maxResults": page_size,
                }
                if token:
                    body["nextPageToken"] = token
                page = self._page("search/jql", body, what)
                yield from page.get("issues", [])
                token = page.get("nextPageToken")
                if not token or page.get("isLast") or page_size == 1:
                    return
        start = 0
        while True:
            body = {
                "jql": query,
                "fields": list(fields),
                "maxResults": page_size,
                "startAt": start,
            }
            page = self._page("search", body, what)
            issues = page.get("issues", [])
            yield from issues
            start += len(issues)
            if not issues or page_size == 1:
                return
            # Some Data Center versions leave ``total`` out: then only a short page ends the scan.
            if "total" in page and start >= int(page["total"]):
                return
            asked = min(page_size, int(page.get("maxResults") or page_size))
            if "total" not in page and len(issues) < asked:
                return

    def _page(self, api_path: str, body: dict[str, Any], what: str) -> Any:
        return self.call(what, lambda: self.search_page(api_path, body, what))

    def search_page(self, api_path: str, body: dict[str, Any], what: str) -> Any:
        """One search page: POST (the JQL may be long), or GET with the same query on sites
        whose proxy or version refuses POST (405; remembered for the run)."""
        if not self.search_by_get:
            try:
                return self.request("POST", api_path, what=what, body=body)
            except TrackerRefused as exc:
                if exc.status != 405:
                    raise
                self.search_by_get = True
        params = {k: ",".join(v) if isinstance(v, list) else v for k, v in body.items()}
        return self.request("GET", api_path, what=what, params=params)

    def search_once(
        self, query: str, fields: Sequence[str], what: str, size: int = 1
    ) -> list[dict[str, Any]]:
        """The first ``size`` matches of ``query``, without retries (inside a retry's recovery)."""
        body: dict[str, Any] = {"jql": query, "fields": list(fields), "maxResults": size}
        if self.is_cloud():
            page = self.search_page("search/jql", body, what)
        else:
            page = self.search_page("search", {**body, "startAt": 0}, what)
        issues: list[dict[str, Any]] = page.get("issues", [])
        return issues


def _scrubbed(exc: JIRAError) -> JIRAError:
    """The library keeps request headers (with the credentials) on its errors: drop them."""
    exc.headers = None
    exc.request = None
    if exc.response is not None:
        exc.response.request = None  # type: ignore[assignment]
    return exc


def _jira_messages(response: requests.Response | None) -> str:
    if response is None:
        return "no details"
    try:
        body = response.json()
    except ValueError:
        text = (response.text or "").strip()
        if text.startswith("<"):
            # a proxy's or login page's HTML: its title says more than its markup
            title = re.search(r"<title[^>]*>(.*?)</title>", text, re.I | re.S)
            shown = " ".join(title.group(1).split()) if title else "an HTML page"
            return f"{shown} (an HTML page, not Jira's JSON: a proxy or login page answered)"
        return text[:300] or "no details"
    if not isinstance(body, dict):
        return str(body)[:300]
    parts = [str(m) for m in body.get("errorMessages") or []]
    parts += [f"{k}: {v}" for k, v in (body.get("errors") or {}).items()]
    return "; ".join(parts)[:1000] or "no details"


def _names_missing_issue(response: requests.Response | None) -> bool:
    if response is None:
        return False
    try:
        errors = (response.json() or {}).get("errors") or {}
    except (ValueError, AttributeError):
        return False
    return any(
        field in ("parent", "issuelinks")
        and ("not find issue" in str(text) or "does not exist" in str(text))
        for field, text in errors.items()
    )
