"""`bridge list`: the tickets the bridge tends, most pressing first."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click

from tracker_bridge.cli.base import cli, config_option, emit, json_option, open_bridge


def _since(_ctx: click.Context, _param: click.Parameter, value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not a date; use YYYY-MM-DD or an ISO 8601 time."
        ) from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


@cli.command("list")
@click.option(
    "--kind",
    type=click.Choice(["defect", "observation", "remediation", "all"]),
    default="defect",
    show_default=True,
    help="Which tickets to list.",
)
@click.option(
    "--status",
    type=click.Choice(["open", "done", "all"]),
    default="open",
    show_default=True,
    help="open: not done yet (in progress counts as open).",
)
@click.option("--instance", metavar="NAME", help="Only sightings on this instance.")
@click.option(
    "--since",
    metavar="DATE",
    callback=_since,
    help="Only sightings at or after DATE (YYYY-MM-DD, UTC, or ISO 8601).",
)
@config_option
@json_option
def list_(
    kind: str,
    status: str,
    instance: str | None,
    since: datetime | None,
    config_path: Path | None,
    as_json: bool,
) -> None:
    """List open defects, most pressing first, with sightings, last seen and instances.

    Most pressing: most sightings in the last 30 days, then most sightings, then seen last.
    With --instance or --since only the matching sightings count, and defects with none are
    left out.

    \b
    Examples:
      bridge list
      bridge list --instance replica-2 --since 2026-11-01
      bridge list --kind observation --status open     # sightings nobody closed yet
      bridge list --status done --json | jq -r '.[].key'

    --json prints an array of objects: key, title, kind, status, sightings, last_30_days,
    last_seen, instances, parent, duplicate_of, url.
    """
    from typing import cast

    from tracker_bridge.cli import render
    from tracker_bridge.workflows import listing as flow

    wanted = flow.Filter(
        kind=cast(flow.KindFilter, kind),
        status=cast(flow.StatusFilter, status),
        instance=instance,
        since=since,
    )
    with (
        open_bridge(config_path) as bridge,
        render.progress("Reading tickets", enabled=not as_json) as tick,
    ):
        rows = bridge.list(wanted, progress=tick)
    if as_json:
        emit([row.to_json() for row in rows])
    else:
        render.listing(rows, wanted)
