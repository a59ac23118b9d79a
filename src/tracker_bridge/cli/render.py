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
    from rich.progress import TaskID
    from rich.tree import Tree as RichTree

    from tracker_bridge.domain.tickets import EvidenceRef, Ticket, Tree
    from tracker_bridge.journal.base import Binding, Entry
    from tracker_bridge.workflows.changes import Outcome
    from tracker_bridge.workflows.delegate import Result as DelegateResult
    from tracker_bridge.workflows.evidence import Added, Capture, Meter
    from tracker_bridge.workflows.listing import Filter, Row
    from tracker_bridge.workflows.observe import Result
    from tracker_bridge.workflows.show import Elsewhere
    from tracker_bridge.workflows.sync import Synced


def observation(result: Result, captured: Sequence[Capture]) -> None:
    """What observe did, in a few lines."""
    if result.dry_run:
        head = "Would record"
    elif result.replayed:
        head = "Already recorded (same event id), nothing created:"
    elif result.resumed:
        head = "Recorded (carried on from an interrupted attempt)"
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
    status = {c.evidence.name: (c.exit_status, c.seconds) for c in captured}
    for ref in result.evidence:
        extra = ""
        if ref.name in status:
            code, seconds = status[ref.name]
            extra = (
                f", exit status {code}"
                if code is not None
                else f", stopped after {seconds:.0f}s (--capture-timeout)"
            )
        redacted = ", ".join(f"{n} {kind}" for kind, n in ref.redactions)
        if redacted:
            extra += f", redacted: {redacted}"
        if not ref.scanned:
            extra += ", not scanned for secrets"
        click.echo(f"  evidence: {evidence_label(ref)} ({humanize.size(ref.size)}{extra})")
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


def backlog(entries: Sequence[Entry], here: Binding) -> None:
    """The journal's waiting entries, one line each, with why they wait."""
    if not entries:
        click.echo("The journal holds nothing waiting.")
        return
    for entry in entries:
        where = "" if entry.binding == here else f"  [kept for {entry.binding.describe()}]"
        marks = ", unredacted evidence" if entry.unredacted else ""
        op = "" if entry.op == "observe" else f"{entry.op}  "
        click.echo(
            f"{entry.short}  {entry.state.value:<7}  {op}{entry.event_id}  "
            f"{len(entry.evidence)} evidence{marks}, {entry.attempts} attempt(s){where}"
        )
        click.echo(f"    {entry.why()}")
    pending = sum(1 for e in entries if e.state.value == "pending")
    click.echo(
        f"{len(entries)} waiting: {pending} pending, {len(entries) - pending} refused. "
        "`bridge replay` sends them; `bridge queue retry|drop ID` handles one."
    )


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
        elif result.unverified:
            click.echo("Not fully verified on the target project (nothing refused it):")
            for gap in result.unverified:
                click.echo(f"  - {gap}")
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


def evidence_label(ref: EvidenceRef) -> str:
    """The evidence's name, with the target when it was read through a symlink."""
    _, arrow, target = ref.source.partition(" -> ")
    return f"{ref.name} -> {target}" if arrow and ref.source.startswith("file:") else ref.name


def added(result: Added) -> None:
    """What ``evidence add`` stored and skipped."""
    for ref in result.stored:
        redacted = ", ".join(f"{n} {kind}" for kind, n in ref.redactions)
        extra = f", redacted: {redacted}" if redacted else ""
        extra += "" if ref.scanned else ", not scanned for secrets"
        verb = "Would add" if result.dry_run else "Added"
        click.echo(
            f"{verb} {evidence_label(ref)} to {result.key} ({humanize.size(ref.size)}{extra})"
        )
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
    """A defect and its children as a tree (rich): per observation its instance, time, impact,
    actions and evidence; remediations with their status; the defect's fingerprints."""
    from rich.console import Console
    from rich.tree import Tree as RichTree

    ticket = data.ticket
    root = RichTree(_line(ticket))
    if ticket.message and ticket.message != ticket.title:
        root.add(f"[dim]message:[/] {_esc(ticket.message[:300])}")
    if ticket.fingerprints:
        root.add(f"[dim]fingerprints:[/] {', '.join(ticket.fingerprints)}")
    if ticket.duplicate_of:
        root.add(f"[dim]duplicate of:[/] {_esc(ticket.duplicate_of)}")
    if ticket.without_remediation:
        root.add(f"[dim]resolved without remediation:[/] {_esc(ticket.without_remediation)}")
    if ticket.parent:
        root.add(f"[dim]defect:[/] {_esc(ticket.parent)}")
    _facts(root, ticket)
    if data.observations:
        branch = root.add(f"observations ({len(data.observations)})")
        for t in data.observations:
            _facts(branch.add(_line(t)), t)
    if data.remediations or elsewhere:
        branch = root.add(f"remediations ({len(data.remediations) + len(elsewhere)})")
        for t in data.remediations:
            branch.add(_line(t) + (f"  [dim]team {_esc(t.team)}[/]" if t.team else ""))
        for e in elsewhere:
            branch.add(
                f"[bold]{_esc(e.key)}[/] {_esc(e.title)}  [dim]remediation, {_esc(e.status)}, "
                f"team {_esc(e.team)}, {_esc(e.url)}[/]"
            )
    elif ticket.kind is not None and ticket.kind.value == "defect" and not ticket.duplicate_of:
        root.add(
            f"[dim]remediations: none yet (bridge delegate {_esc(ticket.key)} --to TEAM files one)[/]"
        )
    for t in data.related:
        root.add(f"[dim]related:[/] {_line(t)}")
    # Piped output keeps whole lines: scripts grep it, and there is no terminal width to fit.
    Console(width=None if sys.stdout.isatty() else 4096).print(root)


def _facts(node: RichTree, t: Ticket) -> None:
    """An observation's instance, time, impact, actions and evidence, under its line."""
    if t.instance or t.observed_at:
        when = t.observed_at.isoformat() if t.observed_at else "time unknown"
        node.add(f"[dim]on[/] {_esc(t.instance or '?')} [dim]at[/] {when}")
    if t.impact:
        node.add(f"[dim]impact:[/] {_esc(t.impact)}")
    if t.duration is not None:
        node.add(f"[dim]lasted:[/] {durations.format(t.duration)}")
    for action in t.actions:
        node.add(f"[dim]action:[/] {_esc(action)}")
    for ref in t.evidence:
        node.add(f"[dim]evidence:[/] {_esc(ref.name)} ({humanize.size(ref.size)})")
    if t.kind is not None and t.kind.value == "observation" and not t.evidence:
        node.add(f"[dim]evidence: none (bridge evidence add {_esc(t.key)} FILE)[/]")


def listing(rows: Sequence[Row], wanted: Filter) -> None:
    """``bridge list`` as an aligned table, or one line saying there is nothing."""
    if not rows:
        status = "" if wanted.status == "all" else f"{wanted.status} "
        kinds = "tickets" if wanted.kind == "all" else f"{wanted.kind}s"
        where = f" on {wanted.instance}" if wanted.instance else ""
        since = f" since {wanted.since.date().isoformat()}" if wanted.since else ""
        click.echo(f"No {status}{kinds}{where}{since}.")
        return
    header = ["key", "kind", "status", "sightings", "last seen", "instances", "title"]
    table = [header]
    for row in rows:
        places = ", ".join(f"{name} ({n})" for name, n in row.instances[:3])
        if len(row.instances) > 3:
            places += f", +{len(row.instances) - 3}"
        title = row.title + (f"  (duplicate of {row.duplicate_of})" if row.duplicate_of else "")
        table.append(
            [
                row.key,
                row.kind,
                row.status,
                str(row.sightings),
                row.last_seen.date().isoformat() if row.last_seen else "-",
                places or "-",
                title,
            ]
        )
    widths = [max(len(r[i]) for r in table) for i in range(len(header) - 1)]
    for r in table:
        cells = [cell.ljust(widths[i]) for i, cell in enumerate(r[:-1])]
        click.echo(visible("  ".join([*cells, r[-1]]).rstrip()))


def outcome(result: Outcome) -> None:
    """What a lifecycle command changed, or with --dry-run would change."""
    if not result.changes:
        click.echo(f"Nothing to change: {result.target} is already as asked.")
        return
    head = "Would change" if result.dry_run else "Changed"
    click.echo(f"{head} ({result.command} {result.target}):")
    for change in result.changes:
        click.echo(f"  {visible(change.describe())}")
    for key in result.unchanged:
        click.echo(f"  {key}: already as asked")
    for note in result.notes:
        click.echo(f"  note: {visible(note)}")
    if result.dry_run:
        click.echo("(dry run: nothing was changed)")


def _line(t: Ticket) -> str:
    kind = t.kind.value if t.kind else "ticket"
    return f"[bold]{t.key}[/] {_esc(t.title)}  [dim]{kind}, {t.status.value}[/]"


def _esc(text: str) -> str:
    """Text as rich markup that prints as written: no markup, no escape sequences obeyed."""
    from rich.markup import escape

    return escape(visible(text))


def visible(text: str) -> str:
    """``text`` with control and format characters (ANSI escape sequences, bidi overrides)
    shown as ``\\xNN`` instead of acted on by the terminal."""
    return "".join(ch if ch.isprintable() else f"\\x{ord(ch):02x}" for ch in text)


METER_FROM = 8 * 1024 * 1024
"""Evidence smaller than this is read, scanned and sent without a progress bar."""


def _interactive(enabled: bool) -> bool:
    return enabled and sys.stderr.isatty() and not os.environ.get("CI")


@contextmanager
def meter(*, enabled: bool) -> Iterator[Meter]:
    """Progress bars for reading, scanning and uploading large evidence (``evidence add``)."""
    with intake_progress(0, enabled=enabled) as (_tick, start):
        yield start


@contextmanager
def progress(label: str, *, enabled: bool) -> Iterator[Callable[[int], None]]:
    """A progress line on an interactive terminal; silent in CI, in pipes and for machine output."""
    if not _interactive(enabled):
        yield lambda _n: None
        return
    from rich.progress import Progress, SpinnerColumn, TextColumn

    with Progress(
        SpinnerColumn(), TextColumn("{task.description} {task.completed}"), transient=True
    ) as bar:
        task = bar.add_task(label, total=None)
        yield lambda n: bar.update(task, completed=n)


@contextmanager
def capture_progress(timeout: float, *, enabled: bool) -> Iterator[Callable[[str, float], None]]:
    """``running `df -h`  3s of 120s`` on an interactive terminal while a capture runs."""
    with intake_progress(timeout, enabled=enabled) as (tick, _meter):
        yield tick


@contextmanager
def intake_progress(
    timeout: float, *, enabled: bool
) -> Iterator[tuple[Callable[[str, float], None], Meter]]:
    """One progress display for ``observe``: the running capture (``running `df -h`  3s of
    120s``) and bars for reading, scanning and uploading large evidence. Only on an interactive
    terminal: quiet in CI, in pipes and with ``--json``."""
    from tracker_bridge.workflows.evidence import quiet

    if not _interactive(enabled):
        yield (lambda _c, _s: None), quiet
        return
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn

    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.fields[amount]}"),
        transient=True,
    ) as bar:
        running: list[TaskID] = []

        def tick(command: str, seconds: float) -> None:
            if not running:
                running.append(bar.add_task("", total=None, amount=""))
            label = f"running `{visible(command)[:60]}`  {seconds:.0f}s of {timeout:g}s"
            bar.update(running[0], description=label)

        def start(label: str, total: int) -> Callable[[int], None]:
            if total < METER_FROM:
                return quiet(label, total)
            if running:
                bar.update(running[0], visible=False)
            task = bar.add_task(visible(label)[:60], total=total, amount="")
            done = [0]

            def advance(n: int) -> None:
                done[0] += n
                bar.update(
                    task,
                    advance=n,
                    amount=f"{humanize.size(done[0])} of {humanize.size(total)}",
                )

            return advance

        yield tick, start
