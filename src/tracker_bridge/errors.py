"""The one error tree of tracker-bridge.

Every failure a user can meet is a ``BridgeError``; its message says what happened and what to do
next. The CLI maps each branch to an exit status in one place (``cli.main``)::

    BridgeError                      exit 2 unless a subclass says otherwise
    ├── UsageError                   bad input on the command line (empty message, missing file)
    ├── ConfigError                  configuration that cannot be loaded or is invalid
    │   └── CredentialsRejected      the tracker answered 401: the token (or e-mail) is wrong
    ├── TemplateError                a template that does not render
    ├── NotFoundError                a ticket key that the tracker does not know
    ├── NoTrackerError               no embedded tracker where a command that only reads runs
    ├── CaptureError                 a --capture command that could not be started
    ├── LocalStoreError              the local tracker's file cannot be written (read-only, damaged)
    ├── AlertPayloadError            an alert webhook body that cannot be read (HTTP 400/422)
    ├── JournalError                 the journal under .bridge/ cannot be read or written
    │   ├── JournalUnavailable       exit 3: it cannot take alerts now (bridge serve answers 503)
    │   └── LeaseLost                another worker took over an entry this one was delivering
    ├── FinalisationError            exit 1: a defect closed with no remediation and no reason
    ├── Interrupted                  exit 130: Ctrl-C, with what was and was not recorded
    └── TrackerError                 exit 3: the tracker is unreachable or refused after retries
        ├── TrackerUnavailable       connection failures, 5xx, rate limits past the retry budget
        │   ├── WriteInDoubt         a write without an answer, not found past the search lag
        │   └── DeliveryDeferred     ... and the sighting is kept in the journal for replay
        │       └── EntryBusy        another live worker is delivering that entry right now
        ├── TrackerRefused           the tracker answered but will not do it (permission, validation)
        │   └── DeliveryRefused      exit 2: ... the sighting is kept with the tracker's answer
        └── IncompleteScan           a scan (check, report) failed part-way; no partial result given

Vendor exceptions never cross the ``trackers`` package: they are re-raised as ``TrackerError``
with ``from exc`` so the cause stays in the log. Every backend turns an HTTP status it does not
retry into an error through the one table here (``error_for_status``), so the same answer is the
same error class and exit status on Jira and on GitHub.
"""

from __future__ import annotations

from collections.abc import Mapping


class BridgeError(Exception):
    """Base of every error the bridge reports to a user."""

    exit_code = 2

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} {self.hint}" if self.hint else self.message


class UsageError(BridgeError):
    """The command line asked for something that cannot be done as given."""


class ConfigError(BridgeError):
    """The configuration file or environment is invalid; the message names file, key and fix."""


class TemplateError(BridgeError):
    """A ticket template failed to render; the message names the template and line."""


class NotFoundError(BridgeError):
    """A ticket key that the tracker does not know."""


class NoTrackerError(BridgeError):
    """No tracker where the command runs: the embedded tracker's file does not exist, and a
    command that only reads or changes tickets does not create one."""


class CaptureError(BridgeError):
    """A ``--capture`` command could not be started at all (not found, not executable)."""


class LocalStoreError(BridgeError):
    """The embedded tracker's SQLite file refused a write: read-only, damaged, or disk full."""


class AlertPayloadError(BridgeError):
    """An alert webhook body that is not valid JSON or not the source's format; nothing recorded.

    ``status`` is the HTTP answer: 400 for a body that is not JSON, 422 for JSON of the wrong shape.
    ``details`` lists the problems found, each with where in the payload it is.
    """

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        status: int = 422,
        details: tuple[str, ...] = (),
    ) -> None:
        super().__init__(message, hint=hint)
        self.status = status
        self.details = details


class JournalError(BridgeError):
    """The journal (``.bridge/journal.db`` and its evidence files) cannot be read or written."""


class JournalUnavailable(JournalError):
    """The durable store behind ``bridge serve`` cannot take alerts now; the sender should retry."""

    exit_code = 3


class FinalisationError(BridgeError):
    """A defect asked to close with no remediation and no recorded reason (exit 1: the command
    ran and the finalisation rule refused)."""

    exit_code = 1


class Interrupted(BridgeError):
    """Ctrl-C: the message says what was recorded and what was not."""

    exit_code = 130


class TrackerError(BridgeError):
    """The tracker could not be used; nothing was half-made (see ``kept`` for what was saved)."""

    exit_code = 3

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        status: int | None = None,
        url: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.status = status
        self.url = url
        self.retry_after = retry_after
        """Seconds the tracker asked to wait before the next request (``Retry-After``)."""


class TrackerUnavailable(TrackerError):
    """Connection failures, timeouts, 5xx or rate limits that outlasted the retry budget."""


class WriteInDoubt(TrackerUnavailable):
    """A write got no answer and, looked for past the tracker's search delay, was not found: it
    was not sent again (it may still land); whoever keeps the request replays it later, looking
    for it first."""


class TrackerRefused(TrackerError):
    """The tracker answered and refused: no permission, unknown project, invalid field."""


class CredentialsRejected(ConfigError):
    """The tracker did not accept the credentials (HTTP 401): fix the token in the environment."""


class IncompleteScan(TrackerError):
    """The tracker failed part-way through a scan; no report is given, since a partial one
    could look clean. Re-run when the tracker is reachable again."""


HTTP_STATUS_ERRORS: Mapping[int, tuple[type[BridgeError], str]] = {
    401: (
        CredentialsRejected,
        "Check BRIDGE_TRACKER__TOKEN (and BRIDGE_TRACKER__EMAIL for Jira Cloud; a personal "
        "access token for Jira Data Center): it may be wrong, expired or revoked.",
    ),
    403: (
        TrackerRefused,
        "The account lacks a permission on this project or repository; ask its admin.",
    ),
    404: (
        NotFoundError,
        "Check the key, the project or repository, and that the account can see it.",
    ),
    410: (NotFoundError, "It was deleted or moved; check the key."),
    413: (TrackerRefused, "The tracker refused the size; split the evidence or compress it."),
}
"""HTTP statuses a tracker answers with that are not retried, and the error each one becomes.
Statuses that are retried (429, 5xx) never reach this table; any status not in it is a
``TrackerRefused``."""


def error_for_status(
    status: int, message: str, *, url: str = "", hint: str | None = None
) -> BridgeError:
    """The ``BridgeError`` for a tracker's HTTP ``status``; ``hint`` overrides the table's."""
    cls, default_hint = HTTP_STATUS_ERRORS.get(status, (TrackerRefused, ""))
    chosen = hint if hint is not None else (default_hint or None)
    if issubclass(cls, TrackerError):
        return cls(message, hint=chosen, status=status, url=url or None)
    return cls(message, hint=chosen)


class LeaseLost(JournalError):
    """Another worker took over a journal entry this one was delivering (its lease expired)."""


class DeliveryDeferred(TrackerUnavailable):
    """The tracker is unavailable: the sighting is kept in the journal for ``bridge replay``."""

    def __init__(
        self,
        message: str,
        *,
        entry_id: str,
        hint: str | None = None,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, hint=hint, status=status, retry_after=retry_after)
        self.entry_id = entry_id


class DeliveryRefused(TrackerRefused):
    """The tracker refused a kept sighting (bad token, no permission, invalid field, missing
    transition): it stays in the journal with the tracker's answer until retried or dropped."""

    exit_code = 2

    def __init__(
        self, message: str, *, entry_id: str, hint: str | None = None, status: int | None = None
    ) -> None:
        super().__init__(message, hint=hint, status=status)
        self.entry_id = entry_id


class EntryBusy(DeliveryDeferred):
    """Another live worker is delivering this journal entry right now; it will finish it."""
