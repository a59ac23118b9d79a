"""The ``bridge`` command: parse, call one workflow, render. Nothing else lives here.

Imports of workflows, settings and tracker libraries happen inside commands so ``bridge --help``
stays fast. ``main`` is the one error boundary: a ``BridgeError`` prints one line and exits with
its code (2 bad input or config, 3 tracker unavailable), Ctrl-C exits 130, and an unexpected
error exits 70 with the traceback written to ``.bridge/last-error.log``.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from tracker_bridge.settings import Settings

F = TypeVar("F", bound=Callable[..., Any])

EXIT_FINDINGS = 1
EXIT_INTERNAL = 70


def config_option(f: F) -> F:
    return click.option(
        "--config",
        "config_path",
        type=click.Path(dir_okay=False, path_type=Path),
        help="Configuration file (default: $BRIDGE_CONFIG, then ./bridge.toml, else the "
        "embedded local tracker under ./.bridge/).",
    )(f)


def json_option(f: F) -> F:
    return click.option(
        "--json", "as_json", is_flag=True, help="Print machine-readable JSON on stdout, only that."
    )(f)


def _settings(config_path: Path | None) -> Settings:
    from tracker_bridge.settings import Settings

    return Settings.load(config_path)


def _emit(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False))


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="tracker-bridge", prog_name="bridge")
def cli() -> None:
    """Run a disciplined workflow for operational defects on your issue tracker.

    \b
    When something breaks:   bridge observe "No space left on device" --instance replica-2
    See a defect's history:  bridge show OPS-1
    Keep the tracker honest: bridge check            (nightly, in CI)
    How messages group:      bridge fingerprint "Disk quota exceeded for uid 1003"

    With no configuration, tickets live in the embedded local tracker under ./.bridge/.
    Exit status: 0 success, 1 problems found, 2 bad usage/config/input, 3 tracker unavailable.
    """


@cli.command()
@click.argument("message")
@click.option("--instance", "-i", required=True, help="Where it happened: host, pod, replica.")
@click.option(
    "--evidence",
    "-e",
    "evidence_paths",
    multiple=True,
    type=click.Path(path_type=Path),
    help="A file or directory to attach (repeatable). Secrets are scrubbed before upload.",
)
@click.option(
    "--capture",
    "-c",
    "captures",
    multiple=True,
    metavar="CMD",
    help="A shell command run FIRST, before anything else; its output, exit status and time "
    "become evidence (repeatable). Use it to record state before a destructive action.",
)
@click.option(
    "--action", "-a", "actions", multiple=True, help="What you did about it (repeatable)."
)
@click.option(
    "--at",
    "observed_at",
    metavar="ISO8601",
    help="When it was observed (default: now). A time without zone is read as UTC.",
)
@click.option("--impact", default="", help="What it cost: users affected, minutes down.")
@click.option(
    "--event-id",
    default="",
    help="An id for this event (an alert id): observing it again returns the same observation.",
)
@click.option("--defect", metavar="KEY", help="File it under this defect, skipping the match.")
@click.option("--new-defect", is_flag=True, help="Open a new defect even if one matches.")
@click.option("--sensitive", is_flag=True, help="Mark the evidence sensitive: never copied out.")
@click.option("--no-redact", is_flag=True, help="Upload evidence unscrubbed (logged; not advised).")
@click.option("--dry-run", is_flag=True, help="Decide and validate, but create nothing.")
@config_option
@json_option
def observe(
    message: str,
    instance: str,
    evidence_paths: tuple[Path, ...],
    captures: tuple[str, ...],
    actions: tuple[str, ...],
    observed_at: str | None,
    impact: str,
    event_id: str,
    defect: str | None,
    new_defect: bool,
    sensitive: bool,
    no_redact: bool,
    dry_run: bool,
    config_path: Path | None,
    as_json: bool,
) -> None:
    """Record a sighting of an error MESSAGE on an instance.

    The bridge finds the known defect whose messages match (or opens a new one), creates an
    observation titled  Handle: "MESSAGE" on "INSTANCE"  under it, attaches the scrubbed
    evidence, and reopens the defect if it had been done.

    \b
    Example:
      bridge observe "No space left on device" --instance replica-2 \\
          --capture "df -h" --capture "ls -lah /tmp" --action "wiped /tmp" --evidence app.log
    """
    from tracker_bridge import render
    from tracker_bridge.errors import UsageError
    from tracker_bridge.workflows import evidence, observe

    if defect and new_defect:
        raise UsageError("--defect and --new-defect contradict each other; pass one.")
    when = _parse_when(observed_at)
    for command in captures:
        evidence.check_capture(command)
    files = evidence.read_paths(evidence_paths, sensitive=sensitive)
    captured = [evidence.capture(cmd, i) for i, cmd in enumerate(captures, start=1)]
    settings = _settings(config_path)
    if no_redact:
        _log(
            settings,
            f"observe --no-redact: {len(files) + len(captured)} evidence item(s) unscrubbed",
        )
    items = evidence.scrub([c.evidence for c in captured] + files, redact=not no_redact)
    request = observe.Request(
        message=message,
        instance=instance,
        evidence=tuple(items),
        actions=actions,
        observed_at=when,
        impact=impact,
        event_id=event_id,
        defect=defect,
        new_defect=new_defect,
        dry_run=dry_run,
    )
    tracker = settings.build_tracker()
    try:
        result = observe.run(
            tracker,
            settings.conventions_value(),
            request,
            threshold=settings.matching.threshold,
            spool_dir=settings.spool_dir,
        )
    finally:
        tracker.close()
    if as_json:
        out = result.to_json()
        out["captures"] = [
            {"command": c.command, "exit_status": c.exit_status, "seconds": round(c.seconds, 3)}
            for c in captured
        ]
        _emit(out)
    else:
        render.observation(result, captured)


@cli.command()
@click.argument("spooled", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@config_option
@json_option
def replay(spooled: tuple[Path, ...], config_path: Path | None, as_json: bool) -> None:
    """Send observations kept while the tracker was down (default: all in the spool).

    Replaying is safe to repeat: each observation keeps its event id, so whatever already
    reached the tracker is found and not created twice. Sent files are removed from the spool.
    """
    from tracker_bridge import render
    from tracker_bridge.workflows import observe, spool

    settings = _settings(config_path)
    paths = list(spooled) or spool.pending(settings.spool_dir)
    tracker = settings.build_tracker()
    results = []
    try:
        for path in paths:
            result = observe.run(
                tracker,
                settings.conventions_value(),
                spool.load(path),
                threshold=settings.matching.threshold,
            )
            path.unlink()
            results.append(result)
    finally:
        tracker.close()
    if as_json:
        _emit([r.to_json() for r in results])
    elif not results:
        click.echo("Nothing to replay.")
    else:
        for result in results:
            render.observation(result, [])


@cli.command()
@click.argument("key")
@config_option
@json_option
def show(key: str, config_path: Path | None, as_json: bool) -> None:
    """Show a defect (or any ticket) with its observations and remediations as a tree."""
    from tracker_bridge import render
    from tracker_bridge.workflows import show as show_flow

    settings = _settings(config_path)
    tracker = settings.build_tracker()
    try:
        tree = show_flow.run(tracker, key)
        elsewhere = show_flow.remote_remediations(tree.ticket, settings)
    finally:
        tracker.close()
    if as_json:
        data = show_flow.tree_json(tree)
        data["remediations"] += [r.to_json() for r in elsewhere]
        _emit(data)
    else:
        render.tree(tree, elsewhere)


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
            _emit([render.rule_json(r) for r in RULES])
        else:
            render.rules(RULES)
        return
    settings = _settings(config_path)
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
    from tracker_bridge import render
    from tracker_bridge.errors import UsageError
    from tracker_bridge.workflows import delegate as delegate_flow

    pairs = {}
    for item in variables:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"--var {item!r} is not KEY=VALUE.")
        pairs[key.strip()] = value
    settings = _settings(config_path)
    team_settings = settings.team(team)
    source = settings.build_tracker()
    try:
        target, same_site = settings.build_team_tracker(team)
        try:
            result = delegate_flow.run(
                source,
                target,
                team=team_settings,
                conventions=settings.conventions_value(),
                request=delegate_flow.Request(
                    defect=defect,
                    team=team,
                    template=template,
                    variables=pairs,
                    dry_run=dry_run,
                    again=again,
                ),
                same_site=same_site,
                templates_dir=settings.templates_dir,
            )
        finally:
            if target is not source:
                target.close()
    finally:
        source.close()
    if as_json:
        _emit(result.to_json())
    else:
        render.delegation(result)
    if result.problems:
        sys.exit(EXIT_FINDINGS)


@cli.command()
@click.argument("message", required=False)
@click.option("--stream", is_flag=True, help="Read messages from stdin; print one group key each.")
@click.option("--explain", is_flag=True, help="Show how MESSAGE was tokenised, masked and matched.")
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
    from tracker_bridge.domain.matching import DEFAULT_THRESHOLD, Matcher, StreamGrouper
    from tracker_bridge.errors import UsageError

    if threshold is None:
        threshold = _settings(config_path).matching.threshold or DEFAULT_THRESHOLD
    if stream:
        if message is not None:
            raise UsageError("pass MESSAGE or --stream, not both.")
        grouper = StreamGrouper(threshold)
        out = sys.stdout
        for line in sys.stdin:
            text = line.rstrip("\n")
            out.write((grouper.group(text) if text.strip() else "") + "\n")
        return
    if not message or not message.strip():
        raise UsageError("give a MESSAGE to fingerprint, or --stream to read stdin.")
    from tracker_bridge.domain.fingerprint import fingerprint as fp_of

    fp = fp_of(message)
    lines = Matcher(threshold).explain(message) if explain else []
    if as_json:
        _emit({"fingerprint": fp.key, "template": fp.template, "explain": lines})
        return
    click.echo(f"fingerprint: {fp.key}")
    click.echo(f"template:    {fp.template}")
    for line in lines:
        click.echo(f"  {line}")


def _parse_when(value: str | None) -> Any:
    from datetime import UTC, datetime

    from tracker_bridge.errors import UsageError

    if value is None:
        return None
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(
            f"--at {value!r} is not an ISO 8601 time.", hint="Example: --at 2026-11-21T09:30:00Z"
        ) from None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def _log(settings: Settings, line: str) -> None:
    from tracker_bridge.domain.tickets import utcnow

    path = settings.spool_dir.parent / "bridge.log"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as fh:
        fh.write(f"{utcnow().isoformat()} {line}\n")


def main() -> None:
    """Entry point: the one place errors become exit statuses."""
    from tracker_bridge.errors import BridgeError

    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except BridgeError as exc:
        click.echo(f"bridge: error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        sys.exit(130)
    except Exception:  # the boundary for bugs: keep the traceback, not on the user's screen
        import traceback

        log = Path(".bridge") / "last-error.log"
        try:
            log.parent.mkdir(parents=True, exist_ok=True)
            log.write_text(traceback.format_exc(), encoding="utf-8")
            where = f"details in {log}"
        except OSError:
            where = "traceback:\n" + traceback.format_exc()
        click.echo(f"bridge: internal error; {where}. Please report it.", err=True)
        sys.exit(EXIT_INTERNAL)
