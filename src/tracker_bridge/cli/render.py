"""Human-readable output for the CLI (JSON output is the workflows' ``to_json``)."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING

import click

from tracker_bridge.domain import durations, humanize

if TYPE_CHECKING:
    from tracker_bridge.domain.tickets import Ticket, Tree
    from tracker_bridge.workflows.delegate import Result as DelegateResult
    from tracker_bridge.workflows.evidence import Added, Capture
    from tracker_bridge.workflows.observe import Result
    from tracker_bridge.workflows.show import Elsewhere
    from tracker_bridge.workflows.sync import Synced


def observation(result: Result, captured: Sequence[Capture]) -> None:
    """What observe did, in a few lines."""
    if result.dry_run:
        head = "Would record"
    elif result.replayed:
        head = "Already recorded (same event id), nothing created:"
    else:
        head = "Recorded"
    click.echo(f"{head} {result.observation or ''} {result.title}".replace("  ", " "))
    how = {
        "fingerprint": "known defect (same fingerprint)",
        "similar": "known defect (similar message)",
        "explicit": "defect given with --defect",
        "new": "new defect",
    }[result.matched_by]
    defect = result.defect or "(new)"
    created = ", created" if result.defect_created and not result.dry_run else ""
    click.echo(f"  defect:   {defect} - {how}{created}")
    if result.recurrence:
        click.echo(f"  recurrence: the defect was done; {result.recurrence}")
    status = {c.evidence.name: c.exit_status for c in captured}
    for ref in result.evidence:
        extra = ""
        if ref.name in status:
            code = status[ref.name]
            extra = f", exit status {code}" if code is not None else ", timed out"
        redacted = ", ".join(f"{n} {kind}" for kind, n in ref.redactions)
        if redacted:
            extra += f", redacted: {redacted}"
        if not ref.scanned:
            extra += ", not scanned for secrets"
        click.echo(f"  evidence: {ref.name} ({humanize.size(ref.size)}{extra})")
    if result.candidates and (result.close_call or result.matched_by == "new"):
        click.echo(
            "  seen before? "
            + "; ".join(f"{c.key} `{c.template}` {c.score:.0%}" for c in result.candidates[:3])
        )
        click.echo("  (re-run with --defect KEY to file it under one of these)")
    for note in result.notes:
        click.echo(f"  note: {note}")
    if result.url:
        click.echo(f"  {result.url}")


def delegation(result: DelegateResult) -> None:
    """A delegation, or with --dry-run the ticket exactly as it would be filed."""
    if result.dry_run:
        click.echo(f"Would file for team {result.team} (linked by {result.linked}):\n")
        click.echo(f"Title: {result.title}\n")
        click.echo(result.body)
        if result.problems:
            click.echo("The target project would refuse it:", err=True)
            for problem in result.problems:
                click.echo(f"  - {problem}", err=True)
        else:
            click.echo("Validated against the target project: it would be accepted.")
        return
    if result.existing:
        click.echo(f"Already delegated to {result.team}: {result.ticket} {result.title}")
        click.echo("  (nothing new filed; use --again for another ticket)")
    else:
        click.echo(f"Delegated to {result.team}: {result.ticket} {result.title}")
        click.echo(f"  linked by {result.linked}; the defect has a note naming it")
    if result.url:
        click.echo(f"  {result.url}")


def added(result: Added) -> None:
    """What ``evidence add`` stored and skipped."""
    for ref in result.stored:
        redacted = ", ".join(f"{n} {kind}" for kind, n in ref.redactions)
        extra = f", redacted: {redacted}" if redacted else ""
        extra += "" if ref.scanned else ", not scanned for secrets"
        click.echo(f"Added {ref.name} to {result.key} ({humanize.size(ref.size)}{extra})")
    for ref in result.already:
        click.echo(f"Already on {result.key}: {ref.name} (same content)")


def synced(result: Synced) -> None:
    """What ``evidence sync`` did."""
    if result.index is not None:
        click.echo(
            f"Evidence index of {result.defect}: {result.entries} item(s) in {result.index.name}"
        )
        return
    click.echo(f"Copied {len(result.copied)} item(s) of {result.defect} to {result.target}")
    for name in result.already:
        click.echo(f"  already there: {name}")
    for name in result.referenced:
        click.echo(f"  sensitive, referenced only: {name}")


def tree(data: Tree, elsewhere: Sequence[Elsewhere] = ()) -> None:
    """A defect and its children as a tree (rich)."""
    from rich.console import Console
    from rich.tree import Tree as RichTree

    root = RichTree(_line(data.ticket))
    if data.ticket.message and data.ticket.message != data.ticket.title:
        root.add(f"[dim]message:[/] {_esc(data.ticket.message[:300])}")
    for ref in data.ticket.evidence:
        root.add(f"[dim]evidence:[/] {_esc(ref.name)} ({humanize.size(ref.size)})")
    if data.observations:
        branch = root.add(f"observations ({len(data.observations)})")
        for t in data.observations:
            when = t.observed_at.isoformat() if t.observed_at else "?"
            lasted = f", lasted {durations.format(t.duration)}" if t.duration is not None else ""
            node = branch.add(f"{_line(t)}  [dim]{when}{lasted}, {len(t.evidence)} evidence[/]")
            for action in t.actions:
                node.add(f"[dim]action:[/] {_esc(action)}")
    if data.remediations or elsewhere:
        branch = root.add(f"remediations ({len(data.remediations) + len(elsewhere)})")
        for t in data.remediations:
            branch.add(_line(t) + (f"  [dim]team {t.team}[/]" if t.team else ""))
        for e in elsewhere:
            branch.add(
                f"[bold]{_esc(e.key)}[/] {_esc(e.title)}  [dim]remediation, {_esc(e.status)}, "
                f"team {_esc(e.team)}, {_esc(e.url)}[/]"
            )
    for t in data.related:
        root.add(f"[dim]related:[/] {_line(t)}")
    # Piped output keeps whole lines: scripts grep it, and there is no terminal width to fit.
    Console(width=None if sys.stdout.isatty() else 4096).print(root)


def _line(t: Ticket) -> str:
    kind = t.kind.value if t.kind else "ticket"
    return f"[bold]{t.key}[/] {_esc(t.title)}  [dim]{kind}, {t.status.value}[/]"


def _esc(text: str) -> str:
    from rich.markup import escape

    return escape(text)


@contextmanager
def progress(label: str, *, enabled: bool) -> Iterator[Callable[[int], None]]:
    """A progress line on an interactive terminal; silent in CI, in pipes and for machine output."""
    if not enabled or not sys.stderr.isatty() or os.environ.get("CI"):
        yield lambda _n: None
        return
    from rich.progress import Progress, SpinnerColumn, TextColumn

    with Progress(
        SpinnerColumn(), TextColumn("{task.description} {task.completed}"), transient=True
    ) as bar:
        task = bar.add_task(label, total=None)
        yield lambda n: bar.update(task, completed=n)
