"""The ``bridge`` command: parse, call one ``Bridge`` method, render. Nothing else lives here.

One module per command (``cli/observe.py``, ...), registered on the group in ``cli/base.py``;
output lives beside them (``render``, ``check_formats``, ``report_formats``). The facade,
settings and tracker libraries are imported inside commands so ``bridge --help`` stays fast.
``main`` is the one error boundary: a ``BridgeError`` prints one line and exits with its code
(2 bad input or config, 3 tracker unavailable), Ctrl-C exits 130, and an unexpected error exits
70 with the traceback written to ``.bridge/last-error.log``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from tracker_bridge.cli import (
    check,
    delegate,
    doctor,
    evidence,
    fingerprint,
    listing,
    move,
    observe,
    postmortem,
    queue,
    report,
    resolve,
    serve,
    show,
)
from tracker_bridge.cli.base import EXIT_INTERNAL, cli

__all__ = [
    "check",
    "cli",
    "delegate",
    "doctor",
    "evidence",
    "fingerprint",
    "listing",
    "main",
    "move",
    "observe",
    "postmortem",
    "queue",
    "report",
    "resolve",
    "serve",
    "show",
]


INTERRUPTED = (
    "interrupted (Ctrl-C): the command stopped where it was, and what it had already written "
    "stays written. Run it again to finish (commands that write are idempotent: done work is not "
    "repeated), or `bridge check` to see anything left incomplete."
)


SAID_LIMIT = 1000
"""Characters of an error message shown; the rest of a 100 kB key or message is cut."""


def _said(text: str) -> str:
    """An error message fit for a terminal: what came from the user (keys, messages, paths) is
    shown, not obeyed (escape sequences, bidi overrides), and an enormous one is cut."""
    from tracker_bridge.cli.render import visible

    text = visible(text)
    if len(text) <= SAID_LIMIT:
        return text
    cut = len(text) - SAID_LIMIT
    return f"{text[: SAID_LIMIT * 2 // 3]} …[{cut} characters cut]… {text[-SAID_LIMIT // 3 :]}"


def main() -> None:
    """Entry point: the one place errors become exit statuses."""
    from tracker_bridge.errors import BridgeError

    try:
        _refuse_undecodable(sys.argv[1:])
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo(f"bridge: error: {INTERRUPTED}", err=True)
        sys.exit(130)
    except click.UsageError as exc:
        click.echo(f"bridge: error: {_usage_line(exc)}", err=True)
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except BridgeError as exc:
        click.echo(f"bridge: error: {_said(str(exc))}", err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        click.echo(f"bridge: error: {INTERRUPTED}", err=True)
        sys.exit(130)
    except Exception:  # the boundary for bugs: keep the traceback, not on the user's screen
        import traceback

        log = Path(".bridge") / "last-error.log"
        try:
            log.parent.mkdir(parents=True, exist_ok=True)
            log.write_text(traceback.format_exc(), encoding="utf-8")
            where = f"details in {log}"
        except OSError:
            where = "traceback:\n" + traceback.format_exc()
        click.echo(f"bridge: internal error; {where}. Please report it.", err=True)
        sys.exit(EXIT_INTERNAL)


def _usage_line(exc: click.UsageError) -> str:
    """Click's usage error as one line, like every other error, pointing at the examples."""
    message = " ".join(exc.format_message().split())
    command = exc.ctx.command_path if exc.ctx is not None else "bridge"
    return f"{message.rstrip('.')}. See `{command} --help` for examples."


def _refuse_undecodable(args: list[str]) -> None:
    """Refuse an argument whose bytes are not UTF-8 before anything runs.

    Python keeps such bytes as lone surrogates, which no tracker can store: the write would fail
    half-way (or, over HTTP, send garbage). Stdin is decoded leniently instead; argv is refused.
    """
    from tracker_bridge.errors import UsageError

    for position, arg in enumerate(args, start=1):
        try:
            arg.encode("utf-8")
        except UnicodeEncodeError as exc:
            shown = arg.encode("utf-8", "surrogateescape")[:60].decode("utf-8", "replace")
            raise UsageError(
                f"argument {position} ({shown!r}) is not UTF-8 text: byte "
                f"0x{ord(arg[exc.start]) & 0xFF:02x} at position {exc.start}.",
                hint="Convert it (iconv -f latin1 -t utf-8), rename the file, or pipe the text "
                "in (MESSAGE - or --evidence -), which is read leniently; nothing was recorded.",
            ) from None
