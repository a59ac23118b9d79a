"""`bridge resolve` and `bridge reopen`: close and open tickets, finalisation enforced."""

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
@click.argument("key")
@click.option("--note", metavar="TEXT", help="A comment to leave on the ticket.")
@click.option(
    "--without-remediation",
    "reason",
    metavar="REASON",
    help="Close a defect that has no remediation; REASON is recorded on it.",
)
@dry_run_option
@config_option
@json_option
def resolve(
    key: str,
    note: str | None,
    reason: str | None,
    dry_run: bool,
    config_path: Path | None,
    as_json: bool,
) -> None:
    """Close an observation, a remediation or a finalised defect.

    A defect is finalised, not just fixed: it closes only when it has a remediation (one more
    why: how are similar defects elsewhere prevented?), or with --without-remediation REASON.
    Otherwise the exit status is 1 and nothing changes. Its open observations close with it.
    Closing what is closed changes nothing.

    \b
    Examples:
      bridge resolve OPS-3 --note "disk replaced"             # an observation
      bridge delegate OPS-1 --to platform && bridge resolve OPS-1
      bridge resolve OPS-1 --without-remediation "host retired"
    """
    from tracker_bridge.cli import render

    if reason is not None and not reason.strip():
        from tracker_bridge.errors import UsageError

        raise UsageError("--without-remediation needs a reason.", hint='e.g. "host retired".')
    with open_bridge(config_path) as bridge:
        outcome = bridge.resolve(
            key, note=note or "", without_remediation=reason or "", dry_run=dry_run
        )
    if as_json:
        emit(outcome.to_json())
    else:
        render.outcome(outcome)


@cli.command()
@click.argument("key")
@click.option("--note", metavar="TEXT", help="A comment to leave on the ticket: why it reopens.")
@dry_run_option
@config_option
@json_option
def reopen(
    key: str, note: str | None, dry_run: bool, config_path: Path | None, as_json: bool
) -> None:
    """Open a closed ticket again. Reopening what is open changes nothing.

    \b
    Example:
      bridge reopen OPS-1 --note "seen again after the fix"
    """
    from tracker_bridge.cli import render

    with open_bridge(config_path) as bridge:
        outcome = bridge.reopen(key, note=note or "", dry_run=dry_run)
    if as_json:
        emit(outcome.to_json())
    else:
        render.outcome(outcome)
