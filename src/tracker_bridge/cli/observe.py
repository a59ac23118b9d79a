"""`bridge observe` and `bridge replay`: record sightings."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from tracker_bridge.settings import Settings

from tracker_bridge.cli.base import (
    cli,
    config_option,
    emit,
    json_option,
    load_settings,
)


@cli.command()
@click.argument("message")
@click.option("--instance", "-i", required=True, help="Where it happened: host, pod, replica.")
@click.option(
    "--evidence",
    "-e",
    "evidence_paths",
    multiple=True,
    type=click.Path(path_type=Path),
    help="A file or directory to attach (repeatable). Secrets are scrubbed before upload.",
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
    "--action", "-a", "actions", multiple=True, help="What you did about it (repeatable)."
)
@click.option(
    "--at",
    "observed_at",
    metavar="ISO8601",
    help="When it was observed (default: now). A time without zone is read as UTC.",
)
@click.option("--impact", default="", help="What it cost: users affected, minutes down.")
@click.option(
    "--event-id",
    default="",
    help="An id for this event (an alert id): observing it again returns the same observation.",
)
@click.option("--defect", metavar="KEY", help="File it under this defect, skipping the match.")
@click.option("--new-defect", is_flag=True, help="Open a new defect even if one matches.")
@click.option("--sensitive", is_flag=True, help="Mark the evidence sensitive: never copied out.")
@click.option("--no-redact", is_flag=True, help="Upload evidence unscrubbed (logged; not advised).")
@click.option("--dry-run", is_flag=True, help="Decide and validate, but create nothing.")
@config_option
@json_option
def observe(
    message: str,
    instance: str,
    evidence_paths: tuple[Path, ...],
    captures: tuple[str, ...],
    actions: tuple[str, ...],
    observed_at: str | None,
    impact: str,
    event_id: str,
    defect: str | None,
    new_defect: bool,
    sensitive: bool,
    no_redact: bool,
    dry_run: bool,
    config_path: Path | None,
    as_json: bool,
) -> None:
    """Record a sighting of an error MESSAGE on an instance.

    The bridge finds the known defect whose messages match (or opens a new one), creates an
    observation titled  Handle: "MESSAGE" on "INSTANCE"  under it, attaches the scrubbed
    evidence, and reopens the defect if it had been done.

    \b
    Example:
      bridge observe "No space left on device" --instance replica-2 \\
          --capture "df -h" --capture "ls -lah /tmp" --action "wiped /tmp" --evidence app.log
    """
    from tracker_bridge import render
    from tracker_bridge.errors import UsageError
    from tracker_bridge.workflows import evidence, observe

    if defect and new_defect:
        raise UsageError("--defect and --new-defect contradict each other; pass one.")
    # everything that can be refused is refused before a --capture command runs
    when = _parse_when(observed_at)
    settings = load_settings(config_path)
    observe.check_input(message, instance, settings.conventions_value())
    for command in captures:
        evidence.check_capture(command)
    files = evidence.read_paths(evidence_paths, sensitive=sensitive)
    captured = [evidence.capture(cmd, i) for i, cmd in enumerate(captures, start=1)]
    if no_redact:
        log_line(
            settings,
            f"observe --no-redact: {len(files) + len(captured)} evidence item(s) unscrubbed",
        )
    items = evidence.scrub([c.evidence for c in captured] + files, redact=not no_redact)
    request = observe.Request(
        message=message,
        instance=instance,
        evidence=tuple(items),
        actions=actions,
        observed_at=when,
        impact=impact,
        event_id=event_id,
        defect=defect,
        new_defect=new_defect,
        dry_run=dry_run,
    )
    tracker = settings.build_tracker()
    try:
        result = observe.run(
            tracker,
            settings.conventions_value(),
            request,
            threshold=settings.matching.threshold,
            spool_dir=settings.spool_dir,
        )
    finally:
        tracker.close()
    if as_json:
        out = result.to_json()
        out["captures"] = [
            {"command": c.command, "exit_status": c.exit_status, "seconds": round(c.seconds, 3)}
            for c in captured
        ]
        emit(out)
    else:
        render.observation(result, captured)


@cli.command()
@click.argument("spooled", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@config_option
@json_option
def replay(spooled: tuple[Path, ...], config_path: Path | None, as_json: bool) -> None:
    """Send observations kept while the tracker was down (default: all in the spool).

    Replaying is safe to repeat: each observation keeps its event id, so whatever already
    reached the tracker is found and not created twice. Sent files are removed from the spool.
    """
    from tracker_bridge import render
    from tracker_bridge.workflows import observe, spool

    settings = load_settings(config_path)
    paths = list(spooled) or spool.pending(settings.spool_dir)
    tracker = settings.build_tracker()
    results = []
    try:
        for path in paths:
            result = observe.run(
                tracker,
                settings.conventions_value(),
                spool.load(path),
                threshold=settings.matching.threshold,
            )
            path.unlink()
            results.append(result)
    finally:
        tracker.close()
    if as_json:
        emit([r.to_json() for r in results])
    elif not results:
        click.echo("Nothing to replay.")
    else:
        for result in results:
            render.observation(result, [])


def _parse_when(value: str | None) -> Any:
    from datetime import UTC, datetime

    from tracker_bridge.errors import UsageError

    if value is None:
        return None
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(
            f"--at {value!r} is not an ISO 8601 time.", hint="Example: --at 2026-11-21T09:30:00Z"
        ) from None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def log_line(settings: Settings, line: str) -> None:
    """Append a line to .bridge/bridge.log (opt-outs such as --no-redact are recorded there)."""
    from tracker_bridge.domain.tickets import utcnow

    path = settings.spool_dir.parent / "bridge.log"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as fh:
        fh.write(f"{utcnow().isoformat()} {line}\n")
