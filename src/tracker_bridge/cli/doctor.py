"""`bridge doctor`: what works on the configured trackers, what is degraded, what to change."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from tracker_bridge.cli.base import (
    EXIT_FINDINGS,
    cli,
    config_option,
    emit,
    json_option,
    open_bridge,
)

if TYPE_CHECKING:
    from tracker_bridge.workflows.doctor import Result

MARKS = {"ok": "ok", "degraded": "degraded", "failed": "FAILED"}


@cli.command()
@config_option
@json_option
def doctor(config_path: Path | None, as_json: bool) -> None:
    """Check the configured tracker and every team's, once each.

    Reachable, authenticated (as whom), project or repository, issue types, link style,
    transitions to done and back to to-do, search, attachments and upload limit, permissions,
    labels: what works, what is degraded and what that costs, and what to change in
    bridge.toml. Reads only. Exit status 0 when every tracker is usable, 1 otherwise.

    \b
    Example:
      bridge doctor --json
    """
    with open_bridge(config_path) as bridge:
        result = bridge.doctor()
    if as_json:
        emit(result.to_json())
    else:
        _render(result)
    if not result.usable:
        sys.exit(EXIT_FINDINGS)


def _render(result: Result) -> None:
    changes: list[str] = []
    for site in result.sites:
        click.echo(f"{site.name}  (used by: {', '.join(site.used_by)})")
        for f in site.findings:
            click.echo(f"  {MARKS[f.health]:<9} {f.check:<25} {f.detail}")
            if f.cost:
                click.echo(f"  {'':<9} {'':<25} costs: {f.cost}")
            if f.fix:
                click.echo(f"  {'':<9} {'':<25} change: {f.fix}")
                if f.fix.startswith("[") and f.fix not in changes:
                    changes.append(f.fix)
        click.echo("")
    degraded = sum(f.health == "degraded" for s in result.sites for f in s.findings)
    failed = sum(f.health == "failed" for s in result.sites for f in s.findings)
    if changes:
        click.echo("In bridge.toml:")
        for line in changes:
            click.echo(f"  {line}")
        click.echo("")
    verdict = "usable" if result.usable else "NOT usable"
    click.echo(f"{verdict}: {failed} failed, {degraded} degraded check(s).")
