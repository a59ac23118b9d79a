"""`bridge replay` and `bridge queue`: what the journal holds, sent or handled by hand."""

from __future__ import annotations

from pathlib import Path

import click

from tracker_bridge.cli.base import cli, config_option, emit, json_option, open_bridge


@cli.command()
@click.argument("entries", nargs=-1, metavar="[ENTRY]...")
@click.option("--list", "as_list", is_flag=True, help="Show what is waiting and why; send nothing.")
@config_option
@json_option
def replay(
    entries: tuple[str, ...], as_list: bool, config_path: Path | None, as_json: bool
) -> None:
    """Send what the journal holds for the configured tracker (default: every waiting entry).

    Each entry carries on from its last recorded step, so replaying is safe to repeat and to
    interrupt: nothing reaches the tracker twice. Entries kept for another tracker are refused
    (run replay with that tracker's configuration). Refused entries are tried again too: run
    replay once the cause (a token, a permission) is fixed.

    \b
    Examples:
      bridge replay --list          # what waits, and why
      bridge replay                 # send it all; safe to interrupt and repeat
      bridge replay 3f1c9a0b7d22    # one entry (the ID bridge replay --list shows)
    """
    from tracker_bridge.cli import render

    with open_bridge(config_path) as bridge:
        if as_list:
            waiting = bridge.pending(entries)
            if as_json:
                emit([dict(e.to_json(), bound_here=e.binding == bridge.binding) for e in waiting])
            else:
                render.backlog(waiting, bridge.binding)
            return
        replayed = bridge.replay(entries)
    if as_json:
        emit([r.to_json() for r in replayed.sent])
    elif replayed.nothing:
        click.echo("Nothing to replay.")
    else:
        for result in replayed.sent:
            render.observation(result, [])
        for entry in replayed.busy:
            click.echo(f"{entry.short}: being delivered by another process right now; left to it.")
    replayed.raise_for_problems()


@cli.group(invoke_without_command=True)
@config_option
@json_option
@click.pass_context
def queue(ctx: click.Context, config_path: Path | None, as_json: bool) -> None:
    """The journal's backlog: entries waiting for a tracker, and those it refused, with reasons.

    \b
    bridge queue               list them (also: bridge replay --list)
    bridge queue retry ID      make a refused entry pending again
    bridge queue drop ID       forget an entry and delete its evidence
    """
    if ctx.invoked_subcommand is not None:
        return
    from tracker_bridge.cli import render

    with open_bridge(config_path) as bridge:
        waiting = bridge.pending()
        if as_json:
            emit([dict(e.to_json(), bound_here=e.binding == bridge.binding) for e in waiting])
        else:
            render.backlog(waiting, bridge.binding)


@queue.command("retry")
@click.argument("entry_id", metavar="ID")
@config_option
@json_option
def queue_retry(entry_id: str, config_path: Path | None, as_json: bool) -> None:
    """Make entry ID pending and due now (after fixing what the tracker refused).

    \b
    Example:
      bridge queue retry 3f1c9a0b7d22 && bridge replay
    """
    with open_bridge(config_path) as bridge:
        entry = bridge.queue_retry(entry_id)
    if as_json:
        emit(entry.to_json())
    else:
        click.echo(
            f"Entry {entry.short} ({entry.event_id}) is {entry.state.value}; "
            "`bridge replay` sends it now."
        )


@queue.command("drop")
@click.argument("entry_id", metavar="ID")
@config_option
@json_option
def queue_drop(entry_id: str, config_path: Path | None, as_json: bool) -> None:
    """Forget entry ID and delete its evidence files (what reached the tracker stays there).

    \b
    Example:
      bridge queue drop 3f1c9a0b7d22
    """
    with open_bridge(config_path) as bridge:
        entry = bridge.queue_drop(entry_id)
    if as_json:
        emit(dict(entry.to_json(), dropped=True))
    else:
        click.echo(
            f"Dropped entry {entry.short} ({entry.event_id}, {entry.state.value}); "
            f"its {len(entry.evidence)} evidence file(s) are deleted from the journal."
        )
