"""`bridge evidence add`, `bridge evidence sync` and `bridge evidence cat`."""

from __future__ import annotations

from pathlib import Path

import click

from tracker_bridge.cli.base import (
    EvidencePath,
    allow_unscanned_option,
    cli,
    config_option,
    emit,
    json_option,
    open_bridge,
)


@cli.group()
def evidence() -> None:
    """Attach evidence to tickets and roll it up to defects.

    \b
    Examples:
      bridge evidence add OPS-7 app.log screenshots/      # idempotent: same content, no upload
      bridge evidence sync OPS-1                          # index of every observation's evidence
      bridge evidence sync OPS-1 --to PLAT-42             # copy it into the delegated ticket
      bridge evidence cat OPS-7 capture-1-df.txt          # read it back, as stored
    """


@evidence.command("cat")
@click.argument("key")
@click.argument("name")
@config_option
@json_option
def cat(key: str, name: str, config_path: Path | None, as_json: bool) -> None:
    """Print evidence NAME of ticket KEY as stored (scrubbed of secrets).

    NAME is the name `bridge show` lists, or the start of its SHA-256 when two items share a
    name. On a terminal, control characters (escape sequences) are shown, not obeyed; piped or
    redirected, the bytes come out unchanged. With --json: its record (name, size, sha256,
    source, redactions) and, for text, the text.

    \b
    Examples:
      bridge evidence cat OPS-7 capture-1-df.txt
      bridge evidence cat OPS-7 screenshot.png > screenshot.png
    """
    import sys

    from tracker_bridge.workflows import evidence as flow

    with open_bridge(config_path) as bridge:
        ref, data = bridge.evidence_cat(key, name)
    if as_json:
        record = flow.ref_json(ref)
        try:
            record["text"] = data.decode("utf-8")
        except UnicodeDecodeError:
            record["text"] = None
        emit(record)
        return
    if sys.stdout.isatty():
        # a terminal would obey escape sequences hidden in a log: show them, do not run them
        data = flow.terminal_safe(data)
    sys.stdout.buffer.write(data)
    sys.stdout.flush()


@evidence.command("add")
@click.argument("key")
@click.argument("paths", nargs=-1, required=True, type=EvidencePath())
@click.option("--sensitive", is_flag=True, help="Mark it sensitive: never copied to other teams.")
@click.option("--no-redact", is_flag=True, help="Upload unscrubbed (logged; not advised).")
@click.option("--dry-run", is_flag=True, help="Say what would be added; add nothing.")
@allow_unscanned_option
@config_option
@json_option
def add(
    key: str,
    paths: tuple[Path, ...],
    sensitive: bool,
    no_redact: bool,
    dry_run: bool,
    allow_unscanned: bool,
    config_path: Path | None,
    as_json: bool,
) -> None:
    """Attach files or directories to ticket KEY, scrubbed and size-checked.

    Adding content the ticket already holds is a no-op (by content hash); a changed file is added.

    \b
    Examples:
      bridge evidence add OPS-7 app.log dmesg.txt
      bridge evidence add OPS-7 screenshots/ --sensitive   # every file below it, never copied out
      bridge evidence add OPS-7 app.log --dry-run
    """
    from tracker_bridge.cli import render

    with open_bridge(config_path) as bridge, render.meter(enabled=not as_json) as meter:
        result = bridge.evidence_add(
            key,
            paths,
            sensitive=sensitive,
            redact=not no_redact,
            dry_run=dry_run,
            allow_unscanned=allow_unscanned,
            meter=meter,
        )
    if as_json:
        emit(result.to_json())
    else:
        render.added(result)


@evidence.command("sync")
@click.argument("defect")
@click.option(
    "--to",
    "target_key",
    metavar="KEY",
    help="Copy the evidence into this ticket (a delegated ticket may live on another tracker).",
)
@config_option
@json_option
def sync(defect: str, target_key: str | None, config_path: Path | None, as_json: bool) -> None:
    """Roll the evidence of DEFECT's observations up into one index on the defect.

    The index names each observation's files with hashes, sizes, provenance and links, without
    copying the files. With --to KEY the files are copied into that ticket once, skipping what it
    already holds; sensitive evidence is only referenced when KEY belongs to another team.

    \b
    Examples:
      bridge evidence sync OPS-1                # evidence-index.md on the defect
      bridge evidence sync OPS-1 --to PLAT-42   # copy the files into the delegated ticket
    """
    from tracker_bridge.cli import render

    with open_bridge(config_path) as bridge:
        result = bridge.evidence_sync(defect, to=target_key)
    if as_json:
        emit(result.to_json())
    else:
        render.synced(result)
