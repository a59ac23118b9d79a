"""`bridge move` and `bridge merge`: correct the matcher, and it learns."""

from __future__ import annotations

from pathlib import Path

import click

from tracker_bridge.cli.base import (
    cli,
    config_option,
    dry_run_option,
    emit,
    json_option,
    open_bridge,
)


@cli.command()
@click.argument("observations", nargs=-1, required=True, metavar="OBSERVATION...")
@click.option("--to", "to", required=True, metavar="DEFECT", help="The defect they belong to.")
@dry_run_option
@config_option
@json_option
def move(
    observations: tuple[str, ...], to: str, dry_run: bool, config_path: Path | None, as_json: bool
) -> None:
    """Move observations filed under the wrong defect to DEFECT; the matcher learns.

    DEFECT gets the fingerprint of each observation's message, and the defect each one leaves
    forgets that fingerprint unless another of its observations has it: the next sighting of
    that message lands on DEFECT. Links follow [conventions] link. Running it again changes
    nothing.

    \b
    Examples:
      bridge move OPS-7 --to OPS-4
      bridge move OPS-7 OPS-9 --to OPS-4 --dry-run      # what would change
    """
    from tracker_bridge.cli import render

    with open_bridge(config_path) as bridge:
        outcome = bridge.move(observations, to=to, dry_run=dry_run)
    if as_json:
        emit(outcome.to_json())
    else:
        render.outcome(outcome)


@cli.command()
@click.argument("duplicates", nargs=-1, required=True, metavar="DUPLICATE...")
@click.option("--into", "into", required=True, metavar="DEFECT", help="The defect that stays.")
@dry_run_option
@config_option
@json_option
def merge(
    duplicates: tuple[str, ...],
    into: str,
    dry_run: bool,
    config_path: Path | None,
    as_json: bool,
) -> None:
    """Fold duplicate defects into DEFECT: one defect, the duplicates closed and linked.

    Observations, remediations and fingerprints move to DEFECT, so the next sighting of a
    duplicate's message lands there. Each duplicate is closed as a duplicate of DEFECT (Jira:
    the site's Duplicate link type where it has one; GitHub: closed as duplicate). `bridge
    check` warns about likely duplicates (rule duplicate-defects). Running it again changes
    nothing.

    \b
    Examples:
      bridge merge OPS-9 --into OPS-4
      bridge merge OPS-9 OPS-12 --into OPS-4 --dry-run
    """
    from tracker_bridge.cli import render

    with open_bridge(config_path) as bridge:
        outcome = bridge.merge(duplicates, into=into, dry_run=dry_run)
    if as_json:
        emit(outcome.to_json())
    else:
        render.outcome(outcome)
