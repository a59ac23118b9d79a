"""`bridge delegate`: remediation for another team."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from tracker_bridge.cli.base import (
    EXIT_FINDINGS,
    cli,
    config_option,
    emit,
    json_option,
    open_bridge,
    parse_vars,
)


@cli.command()
@click.argument("defect")
@click.option(
    "--to", "team", required=True, metavar="TEAM", help="A team declared as [teams.TEAM]."
)
@click.option(
    "--template", metavar="NAME", help="Template name (default: the team's, else 'remediation')."
)
@click.option(
    "--var",
    "variables",
    multiple=True,
    metavar="KEY=VALUE",
    help="A template variable (repeatable): relevance, value, expectation, impact, title, ...",
)
@click.option("--again", is_flag=True, help="File a new ticket even if one was delegated before.")
@click.option(
    "--dry-run",
    is_flag=True,
    help="Render the ticket exactly as it would be filed and validate it; create nothing.",
)
@config_option
@json_option
def delegate(
    defect: str,
    team: str,
    template: str | None,
    variables: tuple[str, ...],
    again: bool,
    dry_run: bool,
    config_path: Path | None,
    as_json: bool,
) -> None:
    """Hand remediation of DEFECT to another team, with the context they need.

    Files a ticket in the team's project from a template (relevance, business value, what is and
    is not expected, how often and where, impact, evidence, what was tried, links back), setting
    only what the team's configuration asks for: no sprint, assignee, priority or due date. The
    ticket and the defect are linked both ways and the defect gets a note. Delegating the same
    defect to the same team again returns the existing ticket unless --again is given.

    \b
    Example:
      bridge delegate OPS-1 --to platform --var value="30 min of on-call a week" --dry-run
    """
    from tracker_bridge.cli import render

    pairs = parse_vars(variables)
    with open_bridge(config_path) as bridge:
        result = bridge.delegate(
            defect, to=team, template=template, variables=pairs, again=again, dry_run=dry_run
        )
    if as_json:
        emit(result.to_json())
    else:
        render.delegation(result)
    if result.problems:
        sys.exit(EXIT_FINDINGS)
