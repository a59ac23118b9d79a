"""`bridge fingerprint`: how messages group."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from tracker_bridge.cli.base import (
    cli,
    config_option,
    emit,
    json_option,
    open_bridge,
)


@cli.command()
@click.argument("message", required=False)
@click.option("--stream", is_flag=True, help="Read messages from stdin; print one group key each.")
@click.option(
    "--explain",
    is_flag=True,
    help="Show how MESSAGE was masked, and the decision observe would take on it against the "
    "tracker's defects: candidates, scores, the slots that differed. Writes nothing.",
)
@click.option(
    "--threshold",
    type=click.FloatRange(0, 1, min_open=True),
    help="Similarity threshold (default: [matching] threshold, else built-in).",
)
@config_option
@json_option
def fingerprint(
    message: str | None,
    stream: bool,
    explain: bool,
    threshold: float | None,
    config_path: Path | None,
    as_json: bool,
) -> None:
    """Show how error messages group: the fingerprint and template of MESSAGE.

    With --stream, reads messages on stdin (one per line) and prints one group key per line,
    deciding online in input order with exactly the logic `observe` uses to match defects.

    \b
    Example:
      bridge fingerprint "Connection to 10.0.0.7:5432 timed out after 30s"
      journalctl -o cat | bridge fingerprint --stream | sort | uniq -c | sort -rn
    """
    from tracker_bridge.errors import UsageError

    with open_bridge(config_path) as bridge:
        if stream:
            if message is not None:
                raise UsageError("pass MESSAGE or --stream, not both.")
            grouper = bridge.grouper(threshold=threshold)
            out = sys.stdout
            for line in sys.stdin:
                text = line.rstrip("\n")
                out.write((grouper.group(text) if text.strip() else "") + "\n")
            return
        if not message or not message.strip():
            raise UsageError("give a MESSAGE to fingerprint, or --stream to read stdin.")
        fp = bridge.fingerprint(message)
        explained = bridge.explain(message, threshold=threshold) if explain else None
    lines = list(explained.lines) if explained else []
    if as_json:
        shown: dict[str, object] = {
            "fingerprint": fp.key,
            "template": fp.template,
            "explain": lines,
        }
        if explained:
            shown["decision"] = explained.data
        emit(shown)
        return
    click.echo(f"fingerprint: {fp.key}")
    click.echo(f"template:    {fp.template}")
    for line in lines:
        click.echo(f"  {line}")
