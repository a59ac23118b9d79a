"""`bridge show`: a defect and its children."""

from __future__ import annotations

from pathlib import Path

import click

from tracker_bridge.cli.base import cli, config_option, emit, json_option, open_bridge


@cli.command()
@click.argument("key")
@config_option
@json_option
def show(key: str, config_path: Path | None, as_json: bool) -> None:
    """Show a defect (or any ticket) with its observations and remediations as a tree.

    \b
    Examples:
      bridge show OPS-1           # each sighting: instance, time, impact, actions, evidence
      bridge show OPS-2           # an observation: its message, defect and evidence
      bridge show OPS-1 --json    # key, kind, title, status, created, observations, ...
    """
    from tracker_bridge.cli import render

    with open_bridge(config_path) as bridge:
        shown = bridge.show(key)
    if as_json:
        emit(shown.to_json())
    else:
        render.tree(shown.tree, shown.elsewhere)
