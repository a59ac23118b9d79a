"""Retries shared by the HTTP trackers: bounded, honouring the server's wait, never duplicating.

Backends translate their vendor errors into ``Retryable`` (with the wait the server asked for, if
any) and hand the operation to ``with_retries``. A write that is not idempotent passes
``recover``: before each re-send it asks the tracker whether the first attempt landed (by the
idempotency marker) and returns that instead of sending again.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TypeVar

import tenacity

from tracker_bridge.errors import TrackerUnavailable

T = TypeVar("T")

MAX_SINGLE_WAIT = 60.0


class Retryable(Exception):
    """A failure worth retrying: connection error, timeout, 429, 503, other 5xx."""

    def __init__(self, reason: str, wait: float | None = None, *, status: int | None = None):
        super().__init__(reason)
        self.reason = reason
        self.wait = wait
        self.status = status


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
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Run ``operation``, retrying ``Retryable`` failures within ``budget`` seconds of waiting.

    ``recover`` is called before every re-send of a non-idempotent write; when it finds the
    result of an earlier attempt, that result is returned and nothing is sent again.
    Raises ``TrackerUnavailable`` naming ``what`` when the retries run out.
    """
    waited = 0.0
    tries = 0

    def attempt() -> T:
        nonlocal tries
        tries += 1
        if tries > 1 and recover is not None:
            found = recover()
            if found is not None:
                return found
        return operation()

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
