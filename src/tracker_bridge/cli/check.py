"""`bridge check`: the convention check, in the formats CI systems read."""

from __future__ import annotations

import os
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
    write_output,
)

_FORMATS = ("text", "json", "junit", "sarif", "github")


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
    type=click.Choice(_FORMATS),
    default="text",
    show_default=True,
    help="Report format. github: annotations on stdout, and a Markdown summary appended to "
    "$GITHUB_STEP_SUMMARY when it is set.",
)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the report to FILE (only after a complete scan); a one-line summary still goes "
    "to the terminal.",
)
@click.option(
    "--write",
    "extra",
    multiple=True,
    metavar="FORMAT=FILE",
    callback=lambda _ctx, _param, value: _parse_writes(value),
    help="Also write the report in FORMAT to FILE, from the same scan (repeatable), e.g. "
    "--write junit=bridge-check.xml.",
)
@click.option("--fix", "apply_fixes", is_flag=True, help="Apply the safe fixes (never deletes).")
@click.option("--dry-run", is_flag=True, help="With --fix: show the fixes, change nothing.")
@click.option("--list-rules", is_flag=True, help="Print the rule catalogue and exit.")
@config_option
@json_option
def check(
    rules: tuple[str, ...],
    fmt: str,
    output: Path | None,
    extra: tuple[tuple[str, Path], ...],
    apply_fixes: bool,
    dry_run: bool,
    list_rules: bool,
    config_path: Path | None,
    as_json: bool,
) -> None:
    """Check that the tracker follows the conventions.

    In scope: tickets the bridge marked as defects, observations or remediations, plus any
    ticket whose title starts with the observation prefix. Rules are re-graded or turned off in
    [check] rules of the configuration; [check] stale_days sets when an observation is stale.

    \b
    Exit status: 0 no error-level finding, 1 error-level findings, 2 bad usage or
    configuration, 3 the tracker could not be read completely (no report is written then).

    \b
    Examples:
      bridge check                                   # findings as text, worst first
      bridge check --rule observation-without-evidence --format json
      bridge check --format junit --output check.xml --write sarif=check.sarif   # in CI
      bridge check --fix --dry-run                   # the safe fixes it would make
      bridge check --list-rules
    """
    from tracker_bridge.cli import check_formats as formats
    from tracker_bridge.cli import render

    if as_json:
        fmt = "json"
    if dry_run and not apply_fixes:
        raise click.UsageError("--dry-run only makes sense with --fix.")
    if list_rules:
        _list_rules(fmt, config_path)
        return
    with (
        open_bridge(config_path) as bridge,
        render.progress("Checking tickets", enabled=fmt == "text") as tick,
    ):
        report = bridge.check(rules=rules, fix=apply_fixes, dry_run=dry_run, progress=tick)
    rendered = formats.render(report, fmt)
    for extra_fmt, path in extra:
        _write(path, formats.render(report, extra_fmt) + "\n")
    if fmt == "github":
        _step_summary(formats.github_summary(report))
    if output is not None:
        _write(output, rendered + "\n")
        written = ", ".join(str(p) for p in (output, *(path for _, path in extra)))
        click.echo(f"{formats.summary(report)} Report written to {written}.", err=True)
    else:
        click.echo(rendered)
    if report.failed:
        sys.exit(EXIT_FINDINGS)


def _parse_writes(values: tuple[str, ...]) -> tuple[tuple[str, Path], ...]:
    out = []
    for value in values:
        fmt, sep, path = value.partition("=")
        if not sep or fmt not in _FORMATS or not path:
            raise click.BadParameter(
                f"{value!r} is not FORMAT=FILE with FORMAT one of {', '.join(_FORMATS)}.",
                param_hint="'--write'",
            )
        out.append((fmt, Path(path)))
    return tuple(out)


def _list_rules(fmt: str, config_path: Path | None) -> None:
    from tracker_bridge.cli import check_formats as formats

    with open_bridge(config_path) as bridge:
        in_force = bridge.rules()
    if fmt == "text":
        click.echo(formats.catalogue(in_force))
    else:
        emit([formats.rule_json(rule, level) for rule, level in in_force])


def _write(path: Path, text: str) -> None:
    write_output(path, text)


def _step_summary(markdown: str) -> None:
    target = os.environ.get("GITHUB_STEP_SUMMARY")
    if not target:
        return
    try:
        with open(target, "a", encoding="utf-8") as fh:
            fh.write(markdown)
    except OSError as exc:
        click.echo(f"bridge: warning: cannot write the step summary {target}: {exc}", err=True)
