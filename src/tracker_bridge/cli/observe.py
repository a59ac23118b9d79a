"""`bridge observe`: record a sighting (kept in the journal first, then delivered)."""

from __future__ import annotations

from pathlib import Path

import click

from tracker_bridge.cli.base import (
    EvidencePath,
    allow_unscanned_option,
    cli,
    config_option,
    emit,
    json_option,
    open_bridge,
)


def _finite(ctx: click.Context, param: click.Parameter, value: float) -> float:
    """``nan`` and ``inf`` pass a range check but mean "never stop": refuse them."""
    import math

    if not math.isfinite(value):
        raise click.BadParameter(
            f"{value} is not a number of seconds, e.g. 30 or 120.", ctx=ctx, param=param
        )
    return value


@cli.command()
@click.argument("message")
@click.option("--instance", "-i", required=True, help="Where it happened: host, pod, replica.")
@click.option(
    "--evidence",
    "-e",
    "evidence_paths",
    multiple=True,
    type=EvidencePath(),
    help="A file or directory to attach (repeatable); - reads it from stdin. Secrets are "
    "scrubbed before upload.",
)
@click.option(
    "--capture",
    "-c",
    "captures",
    multiple=True,
    metavar="CMD",
    help="A shell command run FIRST, before anything else; its output, exit status and time "
    "become evidence (repeatable). Use it to record state before a destructive action.",
)
@click.option(
    "--capture-timeout",
    type=click.FloatRange(min=0, min_open=True),
    callback=_finite,
    default=120.0,
    show_default=True,
    metavar="SECONDS",
    help="Stop a --capture command (its whole process group) after this long; what it printed "
    "so far is kept.",
)
@click.option(
    "--action", "-a", "actions", multiple=True, help="What you did about it (repeatable)."
)
@click.option(
    "--at",
    "observed_at",
    metavar="ISO8601",
    help="When it was observed (default: now). A time without zone is read as UTC.",
)
@click.option("--impact", default="", help="What it cost, in words: users affected, what failed.")
@click.option(
    "--duration",
    metavar="SPAN",
    help="How long the effect lasted, e.g. 20m, 1h30m, 45s: impact as data that reports total.",
)
@click.option(
    "--event-id",
    default="",
    help="An id for this event (an alert id): observing it again returns the same observation.",
)
@click.option("--defect", metavar="KEY", help="File it under this defect, skipping the match.")
@click.option("--new-defect", is_flag=True, help="Open a new defect even if one matches.")
@click.option("--sensitive", is_flag=True, help="Mark the evidence sensitive: never copied out.")
@click.option("--no-redact", is_flag=True, help="Upload evidence unscrubbed (logged; not advised).")
@allow_unscanned_option
@click.option("--dry-run", is_flag=True, help="Decide and validate, but create nothing.")
@config_option
@json_option
def observe(
    message: str,
    instance: str,
    evidence_paths: tuple[Path, ...],
    captures: tuple[str, ...],
    capture_timeout: float,
    actions: tuple[str, ...],
    observed_at: str | None,
    impact: str,
    duration: str | None,
    event_id: str,
    defect: str | None,
    new_defect: bool,
    sensitive: bool,
    no_redact: bool,
    allow_unscanned: bool,
    dry_run: bool,
    config_path: Path | None,
    as_json: bool,
) -> None:
    """Record a sighting of an error MESSAGE on an instance (MESSAGE - reads it from stdin).

    The bridge finds the known defect whose messages match (or opens a new one), creates an
    observation titled  Handle: "MESSAGE" on "INSTANCE"  under it, attaches the scrubbed
    evidence, and reopens the defect if it had been done. A sighting without evidence is
    recorded, but `bridge check` reports it as an error: attach at least one file or capture.
    The sighting and its evidence are kept in the journal (.bridge/journal.db) before anything
    is sent: when the tracker is down (exit 3) or refuses (exit 2) nothing is lost, and
    `bridge replay` sends it later.

    \b
    Examples:
      bridge observe "No space left on device" --instance replica-2 \\
          --capture "df -h" --capture "ls -lah /tmp" --action "wiped /tmp" --evidence app.log
      tail -1 app.log | bridge observe - --instance web-1 --evidence app.log
      journalctl -u app -n 200 | bridge observe "app crashed" -i web-1 --evidence -
      bridge observe "backup hung" -i db-1 --capture "ps auxf" --capture-timeout 30
    """
    from tracker_bridge.cli import render
    from tracker_bridge.errors import Interrupted, UsageError
    from tracker_bridge.workflows.evidence import CaptureInterrupted

    piped = None
    if Path("-") in evidence_paths and message == "-":
        raise UsageError(
            "stdin can be the message (MESSAGE -) or evidence (--evidence -), not both.",
            hint="Put the evidence in a file and pass --evidence FILE.",
        )
    with (
        open_bridge(config_path) as bridge,
        render.intake_progress(capture_timeout, enabled=not as_json) as (tick, meter),
    ):
        limit = int(bridge.settings.evidence.max_file)
        if Path("-") in evidence_paths:
            piped = _stdin_bytes("--evidence -", limit)
        if message == "-":
            message = _stdin_bytes("MESSAGE -", limit).decode("utf-8", "replace").strip()
        try:
            result = bridge.observe(
                message,
                instance=instance,
                evidence=[p for p in evidence_paths if p != Path("-")],
                capture=captures,
                actions=actions,
                at=observed_at,
                impact=impact,
                duration=duration,
                event_id=event_id,
                defect=defect,
                new_defect=new_defect,
                sensitive=sensitive,
                redact=not no_redact,
                allow_unscanned=allow_unscanned,
                dry_run=dry_run,
                meter=meter,
                piped=piped,
                capture_timeout=capture_timeout,
                capture_progress=tick,
            )
        except CaptureInterrupted as exc:
            finished = ", ".join(f"`{c}`" for c in exc.finished) or "none"
            raise Interrupted(
                f"interrupted during --capture `{exc.command}` after {exc.seconds:.0f}s; its "
                "process group was stopped. Nothing was recorded: no ticket was created or "
                f"changed, and the output of the captures that had finished ({finished}) was "
                "discarded.",
                hint="Run the command again; --capture-timeout bounds a slow capture.",
            ) from None
        except KeyboardInterrupt:
            raise Interrupted(
                f"interrupted while recording on {bridge.tracker.name}: the sighting is kept in "
                "the journal if it got that far (`bridge replay --list` shows it).",
                hint="`bridge replay` finishes it from where it stopped; nothing is duplicated.",
            ) from None
    if not result.evidence:
        what = "would be" if dry_run else "is"
        click.echo(
            f"bridge: warning: {result.observation or 'the observation'} {what} recorded "
            "without evidence, which `bridge check` reports as an error "
            "(observation-without-evidence). Attach some: bridge evidence add "
            f"{result.observation or 'KEY'} FILE",
            err=True,
        )
    if as_json:
        emit(result.to_json())
    else:
        render.observation(result, result.captures)


def _stdin_bytes(what: str, limit: int) -> bytes:
    """stdin, read whole but never more than ``limit`` bytes ([evidence] max_file)."""
    import sys

    from tracker_bridge.errors import UsageError

    if sys.stdin.isatty():
        raise UsageError(
            f"{what} reads stdin, but stdin is a terminal.",
            hint="Pipe it in, e.g.: tail -1 app.log | bridge observe - --instance web-1",
        )
    stream = getattr(sys.stdin, "buffer", None)
    data = stream.read(limit + 1) if stream is not None else sys.stdin.read().encode("utf-8")
    if len(data) > limit:
        from tracker_bridge.domain import humanize

        raise UsageError(
            f"{what}: stdin holds more than {humanize.size(limit)}, the limit per file "
            "([evidence] max_file).",
            hint="Pipe an excerpt (e.g. `tail -n 1000`), or raise [evidence] max_file "
            "(BRIDGE_EVIDENCE__MAX_FILE). Nothing was run or created.",
        )
    if not data.strip():
        raise UsageError(f"{what} reads stdin, but stdin was empty.")
    return data
