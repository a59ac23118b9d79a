"""Retries shared by the HTTP trackers: bounded, honouring the server's wait, never duplicating.

Backends translate their vendor errors into ``Retryable`` (with the wait the server asked for, if
any) and hand the operation to ``with_retries``. A write that is not idempotent passes
``recover``: before each re-send it asks the tracker whether the first attempt landed (by the
idempotency marker) and returns that instead of sending again.

A write that got **no answer** (a timeout, a connection dropped after the request went out, a
gateway's 502/504) may have landed, and a marker search may not show it yet: trackers' searches
lag their writes (Jira Cloud by seconds). So ``recover`` is then polled, with backoff, for
``settle`` seconds (the tracker's write-to-search delay); when the write is still not found it is
*not* sent again, and ``WriteInDoubt`` says so: the caller keeps the request for a later replay,
which looks the marker up again before sending anything.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TypeVar

import requests
import tenacity
import urllib3

from tracker_bridge.errors import TrackerUnavailable, WriteInDoubt

T = TypeVar("T")

MAX_SINGLE_WAIT = 60.0


class Retryable(Exception):
    """A failure worth retrying: connection error, timeout, 429, 503, other 5xx.

    ``unanswered``: the request may have reached the tracker and been carried out, but no answer
    came back (see ``unanswered``), so a write must be looked for before it is sent again.
    """

    def __init__(
        self,
        reason: str,
        wait: float | None = None,
        *,
        status: int | None = None,
        unanswered: bool = False,
    ):
        super().__init__(reason)
        self.reason = reason
        self.wait = wait
        self.status = status
        self.unanswered = unanswered


UNANSWERED_STATUSES = frozenset({500, 502, 504})
"""Statuses after which a write may have been carried out (a gateway gave up waiting)."""


def unanswered(exc: BaseException) -> bool:
    """Whether a ``requests`` failure may have left a write carried out without an answer:
    a read timeout or a connection dropped after sending; not a connection that never opened."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return False
    if isinstance(exc, requests.exceptions.ConnectionError):
        seen: set[int] = set()
        todo: list[object] = [exc]
        while todo:  # urllib3 wraps "could not connect" a few levels down
            item = todo.pop()
            if id(item) in seen:
                continue
            seen.add(id(item))
            if isinstance(item, urllib3.exceptions.NewConnectionError):
                return False
            if isinstance(item, BaseException):
                todo += [*item.args, item.__cause__, item.__context__]
                todo.append(getattr(item, "reason", None))
        return True
    return isinstance(exc, requests.exceptions.Timeout)


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` value: delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def parse_reset(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds until a rate-limit reset given as epoch seconds (GitHub) or ISO 8601 (Jira)."""
    if not value:
        return None
    now = now or datetime.now(UTC)
    value = value.strip()
    try:
        return max(0.0, float(value) - now.timestamp())
    except ValueError:
        pass
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


def server_wait(headers: Mapping[str, str], now: datetime | None = None) -> float | None:
    """The wait a response asks for: ``Retry-After``, else a rate-limit reset header."""
    lower = {k.lower(): v for k, v in headers.items()}
    wait = parse_retry_after(lower.get("retry-after"), now)
    if wait is None:
        wait = parse_reset(lower.get("x-ratelimit-reset"), now)
    return wait


def with_retries(
    operation: Callable[[], T],
    *,
    what: str,
    budget: float,
    attempts: int = 6,
    recover: Callable[[], T | None] | None = None,
    settle: float = 0.0,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Run ``operation``, retrying ``Retryable`` failures within ``budget`` seconds of waiting.

    ``recover`` is called before every re-send of a non-idempotent write; when it finds the
    result of an earlier attempt, that result is returned and nothing is sent again. After a
    failure without an answer it is polled for ``settle`` seconds (when ``settle`` > 0: the
    lookup is a search that lags writes); still not found, the write is not re-sent:
    ``WriteInDoubt``. Raises ``TrackerUnavailable`` naming ``what`` when the
    retries run out.
    """
    waited = 0.0
    tries = 0
    last: Retryable | None = None

    def attempt() -> T:
        nonlocal tries, last
        tries += 1
        if tries > 1 and recover is not None:
            found: T | None
            if last is not None and last.unanswered and settle > 0:
                found = _settle(recover, what=what, settle=settle, reason=last.reason, sleep=sleep)
            else:
                found = recover()
            if found is not None:
                return found
        try:
            return operation()
        except Retryable as exc:
            last = exc
            raise

    def wait(state: tenacity.RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        asked = exc.wait if isinstance(exc, Retryable) else None
        backoff = min(MAX_SINGLE_WAIT, 0.5 * 2 ** (state.attempt_number - 1))
        return min(MAX_SINGLE_WAIT, asked if asked is not None else backoff)

    def out_of_budget(state: tenacity.RetryCallState) -> bool:
        return state.attempt_number >= attempts or waited + wait(state) > budget

    def track_sleep(seconds: float) -> None:
        nonlocal waited
        waited += seconds
        sleep(seconds)

    retrying = tenacity.Retrying(
        retry=tenacity.retry_if_exception_type(Retryable),
        stop=out_of_budget,
        wait=wait,
        sleep=track_sleep,
        reraise=True,
    )
    try:
        return retrying(attempt)
    except Retryable as exc:
        raise TrackerUnavailable(
            f"{what} failed after {tries} attempt(s) and {waited:.0f}s of waiting: {exc.reason}.",
            hint="The tracker may be down or rate-limiting; try again later.",
            status=exc.status,
            retry_after=exc.wait,
        ) from exc


def _settle(
    recover: Callable[[], T | None],
    *,
    what: str,
    settle: float,
    reason: str,
    sleep: Callable[[float], None],
) -> T:
    """Poll ``recover`` with backoff until it finds the write or ``settle`` seconds have passed."""
    deadline = time.monotonic() + settle
    pause = 0.25
    while True:
        try:
            found = recover()
        except Retryable as exc:
            raise WriteInDoubt(
                f"{what}: no answer ({reason}), and the tracker could not be asked whether it "
                f"landed ({exc.reason}); it was not sent again, so that it cannot be duplicated.",
                hint="It is kept: replay it when the tracker is back (it looks for it first).",
                status=exc.status,
            ) from exc
        if found is not None:
            return found
        left = deadline - time.monotonic()
        if left <= 0:
            raise WriteInDoubt(
                f"{what}: no answer ({reason}), and its marker was not found within "
                f"{settle:g}s (the tracker's search delay); it was not sent again, as it may "
                "still land.",
                hint="It is kept: replay it later (it looks for it first). If searches on this "
                "tracker lag writes longer, raise [tracker] search_lag.",
            )
        sleep(min(pause, left))
        pause = min(pause * 2, 4.0)
