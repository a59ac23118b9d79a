"""`bridge evidence add` and `bridge evidence sync`."""

from __future__ import annotations

from pathlib import Path

import click

from tracker_bridge.cli.base import cli, config_option, emit, json_option, load_settings


@cli.group()
def evidence() -> None:
    """Attach evidence to tickets and roll it up to defects.

    \b
    Examples:
      bridge evidence add OPS-7 app.log screenshots/      # idempotent: same content, no upload
      bridge evidence sync OPS-1                          # index of every observation's evidence
      bridge evidence sync OPS-1 --to PLAT-42             # copy it into the delegated ticket
    """


@evidence.command("add")
@click.argument("key")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--sensitive", is_flag=True, help="Mark it sensitive: never copied to other teams.")
@click.option("--no-redact", is_flag=True, help="Upload unscrubbed (logged; not advised).")
@config_option
@json_option
def add(
    key: str,
    paths: tuple[Path, ...],
    sensitive: bool,
    no_redact: bool,
    config_path: Path | None,
    as_json: bool,
) -> None:
    """Attach files or directories to ticket KEY, scrubbed and size-checked.

    Adding content the ticket already holds is a no-op (by content hash); a changed file is added.
    """
    from tracker_bridge import render
    from tracker_bridge.cli.observe import log_line
    from tracker_bridge.workflows import evidence as flow

    files = flow.read_paths(paths, sensitive=sensitive)
    settings = load_settings(config_path)
    if no_redact:
        log_line(settings, f"evidence add {key} --no-redact: {len(files)} file(s) unscrubbed")
    files = flow.scrub(files, redact=not no_redact)
    tracker = settings.build_tracker()
    try:
        result = flow.add(tracker, key, files)
    finally:
        tracker.close()
    if as_json:
        emit(result.to_json())
    else:
        render.added(result)


@evidence.command("sync")
@click.argument("defect")
@click.option(
    "--to",
    "target_key",
    metavar="KEY",
    help="Copy the evidence into this ticket (a delegated ticket may live on another tracker).",
)
@config_option
@json_option
def sync(defect: str, target_key: str | None, config_path: Path | None, as_json: bool) -> None:
    """Roll the evidence of DEFECT's observations up into one index on the defect.

    The index names each observation's files with hashes, sizes, provenance and links, without
    copying the files. With --to KEY the files are copied into that ticket once, skipping what it
    already holds; sensitive evidence is only referenced when KEY belongs to another team.
    """
    from tracker_bridge import render
    from tracker_bridge.workflows import sync as flow
    from tracker_bridge.workflows.show import DELEGATE_LINK

    settings = load_settings(config_path)
    tracker = settings.build_tracker()
    try:
        if target_key is None:
            result = flow.roll_up(tracker, defect)
        else:
            team = next(
                (
                    link.global_id[len(DELEGATE_LINK) :].partition(":")[0]
                    for link in tracker.get(defect).links
                    if link.global_id.startswith(DELEGATE_LINK)
                    and link.global_id.endswith(f":{target_key}")
                ),
                None,
            )
            if team is None:
                target_ticket = tracker.get(target_key)
                result = flow.copy_to(
                    tracker, defect, tracker, target_key, other_team=bool(target_ticket.team)
                )
            else:
                target, _ = settings.build_team_tracker(team)
                try:
                    result = flow.copy_to(tracker, defect, target, target_key, other_team=True)
                finally:
                    target.close()
    finally:
        tracker.close()
    if as_json:
        emit(result.to_json())
    else:
        render.synced(result)
