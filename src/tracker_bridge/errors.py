"""The one error tree of tracker-bridge.

Every failure a user can meet is a ``BridgeError``; its message says what happened and what to do
next. The CLI maps each branch to an exit status in one place (``cli.main``)::

    BridgeError                      exit 2 unless a subclass says otherwise
    ├── UsageError                   bad input on the command line (empty message, missing file)
    ├── ConfigError                  configuration that cannot be loaded or is invalid
    ├── TemplateError                a template that does not render
    ├── NotFoundError                a ticket key that the tracker does not know
    ├── CaptureError                 a --capture command that could not be started
    ├── AlertPayloadError            an alert webhook body that cannot be read (HTTP 400/422)
    ├── JournalUnavailable           the durable intake store cannot take alerts now (HTTP 503)
    └── TrackerError                 exit 3: the tracker is unreachable or refused after retries
        ├── TrackerUnavailable       connection failures, 5xx, rate limits past the retry budget
        └── TrackerRefused           the tracker answered but will not do it (permission, validation)

Vendor exceptions never cross the ``trackers`` package: they are re-raised as ``TrackerError``
with ``from exc`` so the cause stays in the log.
"""

from __future__ import annotations


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


class CaptureError(BridgeError):
    """A ``--capture`` command could not be started at all (not found, not executable)."""


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


class JournalUnavailable(BridgeError):
    """The durable store behind ``bridge serve`` cannot take alerts now; the sender should retry."""

    exit_code = 3


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
    ) -> None:
        super().__init__(message, hint=hint)
        self.status = status
        self.url = url


class TrackerUnavailable(TrackerError):
    """Connection failures, timeouts, 5xx or rate limits that outlasted the retry budget."""


class TrackerRefused(TrackerError):
    """The tracker answered and refused: no permission, unknown project, invalid field."""
