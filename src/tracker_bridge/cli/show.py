"""`bridge show`: a defect and its children."""

from __future__ import annotations

from pathlib import Path

import click

from tracker_bridge.cli.base import (
    cli,
    config_option,
    emit,
    json_option,
    load_settings,
)


@cli.command()
@click.argument("key")
@config_option
@json_option
def show(key: str, config_path: Path | None, as_json: bool) -> None:
    """Show a defect (or any ticket) with its observations and remediations as a tree."""
    from tracker_bridge import render
    from tracker_bridge.workflows import show as show_flow

    settings = load_settings(config_path)
    tracker = settings.build_tracker()
    try:
        tree = show_flow.run(tracker, key)
        elsewhere = show_flow.remote_remediations(tree.ticket, settings)
    finally:
        tracker.close()
    if as_json:
        data = show_flow.tree_json(tree)
        data["remediations"] += [r.to_json() for r in elsewhere]
        emit(data)
    else:
        render.tree(tree, elsewhere)
