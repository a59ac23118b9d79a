"""`bridge check`: the convention check."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from tracker_bridge.cli.base import (
    EXIT_FINDINGS,
    cli,
    config_option,
    emit,
    json_option,
    load_settings,
)


@cli.command()
@click.option(
    "--rule",
    "rules",
    multiple=True,
    metavar="ID",
    help="Check only this rule (repeatable). See --list-rules.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Report format.",
)
@click.option(
    "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write the report here."
)
@click.option("--list-rules", is_flag=True, help="Print the rule catalogue and exit.")
@config_option
@json_option
def check(
    rules: tuple[str, ...],
    fmt: str,
    output: Path | None,
    list_rules: bool,
    config_path: Path | None,
    as_json: bool,
) -> None:
    """Check that the tracker follows the conventions; exit 1 on any error-level finding.

    In scope: tickets the bridge marked as defects, observations or remediations, plus any
    ticket whose title starts with the observation prefix.
    """
    from tracker_bridge import render
    from tracker_bridge.domain.rules import RULES
    from tracker_bridge.workflows import check as check_flow

    if as_json:
        fmt = "json"
    if list_rules:
        if fmt == "json":
            emit([render.rule_json(r) for r in RULES])
        else:
            render.rules(RULES)
        return
    settings = load_settings(config_path)
    levels = check_flow.severities(dict(settings.check.rules), rules)
    tracker = settings.build_tracker()
    try:
        with render.progress("Checking tickets", enabled=fmt == "text" and output is None) as tick:
            report = check_flow.run(
                tracker, settings.conventions_value(), levels=levels, progress=tick
            )
    finally:
        tracker.close()
    text = json.dumps(report.to_json(), indent=2) if fmt == "json" else render.report_text(report)
    if output is not None:
        output.write_text(text + "\n", encoding="utf-8")
        click.echo(render.report_summary(report) + f" Report written to {output}.", err=True)
    else:
        click.echo(text)
    if report.failed:
        sys.exit(EXIT_FINDINGS)
