"""`bridge observe` and `bridge replay`: record sightings."""

from __future__ import annotations

from pathlib import Path

import click

from tracker_bridge.cli.base import cli, config_option, emit, json_option, open_bridge


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
    duration: str | None,
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
    from tracker_bridge.cli import render

    with open_bridge(config_path) as bridge:
        result = bridge.observe(
            message,
            instance=instance,
            evidence=evidence_paths,
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
            dry_run=dry_run,
        )
    if as_json:
        emit(result.to_json())
    else:
        render.observation(result, result.captures)


@cli.command()
@click.argument("spooled", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@config_option
@json_option
def replay(spooled: tuple[Path, ...], config_path: Path | None, as_json: bool) -> None:
    """Send observations kept while the tracker was down (default: all in the spool).

    Replaying is safe to repeat: each observation keeps its event id, so whatever already
    reached the tracker is found and not created twice. Sent files are removed from the spool.
    """
    from tracker_bridge.cli import render

    with open_bridge(config_path) as bridge:
        results = bridge.replay(list(spooled) or None)
    if as_json:
        emit([r.to_json() for r in results])
    elif not results:
        click.echo("Nothing to replay.")
    else:
        for result in results:
            render.observation(result, [])
