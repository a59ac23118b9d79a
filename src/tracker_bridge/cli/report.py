"""`bridge report`: the case for fixing each defect."""

from __future__ import annotations

from pathlib import Path

import click

from tracker_bridge.cli.base import (
    cli,
    config_option,
    open_bridge,
    require_output_dir,
    write_output,
)


@cli.command()
@click.argument("defect", required=False)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json", "csv", "md", "html"]),
    default="table",
    show_default=True,
    help="Output format.",
)
@click.option(
    "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write the report here."
)
@config_option
@click.option("--json", "as_json", is_flag=True, help="Same as --format json.")
def report(
    defect: str | None, fmt: str, output: Path | None, config_path: Path | None, as_json: bool
) -> None:
    """How often each defect strikes, where, with what impact, and when it will strike again.

    Without DEFECT, every defect, most pressing first (sightings in the last 30 days, then in
    all); with DEFECT, that one. The forecast is the last sighting plus the median interval,
    given only with three or more sightings over at least a day.

    \b
    Example:
      bridge report --format md --output defects.md
    """
    from tracker_bridge.cli import render, report_formats

    if as_json:
        fmt = "json"
    require_output_dir(output)
    with (
        open_bridge(config_path) as bridge,
        render.progress("Reading tickets", enabled=fmt == "table" and output is None) as tick,
    ):
        reports = list(bridge.report(defect, progress=tick))
    text = report_formats.render(reports, fmt)
    if output is None:
        click.echo(text)
    else:
        write_output(output, text + "\n")
        click.echo(f"{len(reports)} defect(s) reported to {output}.", err=True)
