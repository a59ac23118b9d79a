"""`bridge report`: the case for fixing each defect."""

from __future__ import annotations

from pathlib import Path

import click

from tracker_bridge.cli.base import (
    cli,
    config_option,
    emit,
    open_bridge,
    require_output_dir,
    write_output,
)


@cli.command()
@click.argument("defect", required=False)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json", "csv", "md", "html", "png"]),
    default="table",
    show_default=True,
    help="Output format (png: one defect's charts, with --output or --attach).",
)
@click.option(
    "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write the report here."
)
@click.option(
    "--attach",
    is_flag=True,
    help="Attach the report (html, or png with --format png) to DEFECT, replacing the last one.",
)
@config_option
@click.option("--json", "as_json", is_flag=True, help="Same as --format json.")
def report(
    defect: str | None,
    fmt: str,
    output: Path | None,
    attach: bool,
    config_path: Path | None,
    as_json: bool,
) -> None:
    """How often each defect strikes, where, with what impact, and when it will strike again.

    Without DEFECT, every defect, most pressing first (sightings in the last 30 days, then in
    all); with DEFECT, that one. The forecast is a gamma-Poisson rate over the time since the
    first sighting, quiet time included: the expected sightings in the next 30 days with an 80%
    range, and "overdue" once the silence outlasts what the sightings before it make likely
    (docs/report.md). Impact totals come from observe --duration.

    \b
    Examples:
      bridge report --format html --output defects.html
      bridge report OPS-12 --attach
    """
    from tracker_bridge.cli import render, report_charts, report_formats
    from tracker_bridge.errors import UsageError
    from tracker_bridge.workflows import report as report_flow

    if attach:
        fmt = fmt if fmt == "png" else "html"
        if defect is None:
            raise UsageError("--attach needs a DEFECT to attach the report to.")
    elif as_json:
        fmt = "json"
    if fmt == "png" and (defect is None or (output is None and not attach)):
        raise UsageError(
            "--format png draws one defect's charts into a file.",
            hint="Give a DEFECT and --output FILE (or --attach).",
        )
    require_output_dir(output)
    attached = None
    with open_bridge(config_path) as bridge:
        with render.progress("Reading tickets", enabled=fmt == "table" and output is None) as tick:
            reports = list(bridge.report(defect, progress=tick))
        if fmt == "png":
            data = report_charts.png(reports[0], *report_charts.span(reports, reports[0].generated))
        else:
            data = (report_formats.render(reports, fmt) + "\n").encode("utf-8")
        if attach and defect is not None:
            name = report_flow.attachment_name(defect, fmt)
            attached = bridge.attach_report(defect, name, data)
    if output is not None:
        write_output(output, data)
        click.echo(f"{len(reports)} defect(s) reported to {output}.", err=True)
    if attached is not None:
        if as_json:
            emit(attached.to_json())
        else:
            what = (
                "unchanged, already attached"
                if attached.unchanged
                else "replacing the earlier report"
                if attached.replaced
                else "attached"
            )
            click.echo(f"{attached.ref.name} on {attached.defect}: {what}.")
    elif output is None:
        click.echo(data.decode("utf-8"), nl=False)
