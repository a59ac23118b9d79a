"""The one error tree and the one table from HTTP statuses to errors."""

from __future__ import annotations

import pytest

from tracker_bridge import errors
from tracker_bridge.errors import (
    HTTP_STATUS_ERRORS,
    BridgeError,
    ConfigError,
    CredentialsRejected,
    IncompleteScan,
    NotFoundError,
    TrackerError,
    TrackerRefused,
    error_for_status,
)


@pytest.mark.parametrize(
    ("status", "cls", "exit_code"),
    [
        (401, CredentialsRejected, 2),
        (403, TrackerRefused, 3),
        (404, NotFoundError, 2),
        (410, NotFoundError, 2),
        (413, TrackerRefused, 3),
        (400, TrackerRefused, 3),
        (422, TrackerRefused, 3),
    ],
)
def test_each_status_is_one_error(status: int, cls: type[BridgeError], exit_code: int) -> None:
    err = error_for_status(status, "reading X-1: refused.", url="https://x.example")
    assert type(err) is cls and err.exit_code == exit_code
    assert bool(err.hint) == (status in HTTP_STATUS_ERRORS), "the table's rows say what to do"
    if isinstance(err, TrackerError):
        assert (err.status, err.url) == (status, "https://x.example")


def test_a_given_hint_replaces_the_tables() -> None:
    err = error_for_status(403, "no.", hint="Ask Ana.")
    assert str(err) == "no. Ask Ana."


def test_the_tree() -> None:
    assert issubclass(CredentialsRejected, ConfigError)
    assert issubclass(IncompleteScan, TrackerError) and IncompleteScan.exit_code == 3
    assert set(HTTP_STATUS_ERRORS) == {401, 403, 404, 410, 413}
    documented = errors.__doc__ or ""
    for name in ("CredentialsRejected", "IncompleteScan", "LocalStoreError"):
        assert name in documented
