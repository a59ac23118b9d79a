"""``Bridge``: the one object a script, the CLI and the HTTP service use.

Built from settings (``Bridge.from_config()`` finds them as the CLI does), used in a with-block;
each method is one operation of ``workflows`` with the values it needs taken from the settings
(conventions, thresholds, team definitions, directories), and returns an immutable typed result.
Trackers are built on first use through the registry (``trackers.build``) and closed on exit, so
importing this module loads no tracker library.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from tracker_bridge.domain import durations
from tracker_bridge.domain.links import delegated
from tracker_bridge.domain.tickets import utcnow
from tracker_bridge.domain.times import as_utc, parse_moment
from tracker_bridge.errors import NoTrackerError, UsageError

if TYPE_CHECKING:
    from tracker_bridge.domain.fingerprint import Fingerprint
    from tracker_bridge.domain.matching import StreamGrouper
    from tracker_bridge.domain.rules import Rule, Severity
    from tracker_bridge.domain.tickets import EvidenceRef
    from tracker_bridge.journal.base import Binding, Entry, Journal
    from tracker_bridge.settings import Settings
    from tracker_bridge.trackers.base import Tracker
    from tracker_bridge.workflows.changes import Outcome
    from tracker_bridge.workflows.check import Report
    from tracker_bridge.workflows.decide import Explanation
    from tracker_bridge.workflows.delegate import Result as Delegated
    from tracker_bridge.workflows.doctor import Result as Diagnosis
    from tracker_bridge.workflows.evidence import Added, Meter
    from tracker_bridge.workflows.intake import Limits
    from tracker_bridge.workflows.listing import Filter as Listed
    from tracker_bridge.workflows.listing import Row
    from tracker_bridge.workflows.observe import Result as Observed
    from tracker_bridge.workflows.postmortem import Draft
    from tracker_bridge.workflows.replay import Replayed
    from tracker_bridge.workflows.report import Attached, DefectReport
    from tracker_bridge.workflows.show import Shown
    from tracker_bridge.workflows.sync import Synced

Progress = Callable[[int], None]

FUTURE_SLACK = timedelta(days=1)
"""How far ahead of this machine's clock an ``--at`` may be."""


class Bridge:
    """The operations of tracker-bridge on the configured tracker.

    >>> with Bridge.from_config() as bridge:          # doctest: +SKIP
    ...     result = bridge.observe("Disk full", instance="db-1")
    """

    def __init__(self, settings: Settings | None = None) -> None:
        if settings is None:
            from tracker_bridge.settings import Settings

            settings = Settings.load()
        self.settings = settings
        self._tracker: Tracker | None = None
        self._journal: Journal | None = None

    @classmethod
    def from_config(cls, path: Path | str | None = None) -> Bridge:
        """Settings from ``path``, else ``$BRIDGE_CONFIG``, else ``./bridge.toml``, else defaults."""
        from tracker_bridge.settings import Settings

        return cls(Settings.load(path))

    # -- lifetime --------------------------------------------------------------------------

    def __enter__(self) -> Bridge:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the tracker connection and the journal, if opened; the bridge can be used again."""
        tracker, self._tracker = self._tracker, None
        journal, self._journal = self._journal, None
        try:
            if tracker is not None:
                tracker.close()
        finally:
            if journal is not None:
                journal.close()

    @property
    def tracker(self) -> Tracker:
        """The configured tracker, built on first use."""
        if self._tracker is None:
            from tracker_bridge import trackers

            self._tracker = trackers.build(self.settings.tracker, self.settings.conventions_value())
        return self._tracker

    @property
    def existing(self) -> Tracker:
        """The configured tracker for an operation that reads or changes tickets: an embedded
        tracker that does not exist yet is not created (``NoTrackerError`` says so)."""
        if self._tracker is None:
            conf = self.settings.tracker
            if conf.kind == "local" and not Path(conf.path).exists():
                where = self.settings.config_path
                raise NoTrackerError(
                    f"no tracker here: {conf.path} does not exist "
                    f"({f'configured in {where}' if where else 'no bridge.toml'}), so there is "
                    "nothing to read or change.",
                    hint="Run it where the tracker lives, point --config (or BRIDGE_CONFIG) at "
                    'your bridge.toml, or start an embedded tracker: bridge observe "MESSAGE" '
                    "--instance NAME.",
                )
        return self.tracker

    @property
    def journal(self) -> Journal:
        """The journal of sightings on their way to the tracker, opened on first use."""
        if self._journal is None:
            from tracker_bridge import journal

            self._journal = journal.open_journal(self.settings)
        return self._journal

    @property
    def binding(self) -> Binding:
        """The tracker this configuration points to, as journal entries record it."""
        from tracker_bridge import journal

        return journal.binding(self.settings)

    def team_tracker(self, team: str) -> tuple[Tracker, bool]:
        """A new tracker for ``team``'s project (close it), and whether it is our site."""
        from tracker_bridge import trackers

        conf, same_site = self.settings.team_tracker(team)
        return trackers.build(conf, self.settings.conventions_value()), same_site

    # -- sightings -------------------------------------------------------------------------

    def observe(
        self,
        message: str,
        *,
        instance: str,
        evidence: Iterable[Path | str] = (),
        capture: Sequence[str] = (),
        actions: Iterable[str] = (),
        at: datetime | str | None = None,
        impact: str = "",
        duration: timedelta | str | None = None,
        event_id: str = "",
        defect: str | None = None,
        new_defect: bool = False,
        sensitive: bool = False,
        redact: bool = True,
        allow_unscanned: bool = False,
        dry_run: bool = False,
        piped: bytes | None = None,
        capture_timeout: float = 120.0,
        capture_progress: Callable[[str, float], None] | None = None,
        meter: Meter | None = None,
    ) -> Observed:
        """Record a sighting of ``message`` on ``instance`` under its (known or new) defect.

        Everything that can be refused (message, instance, time, capture commands, evidence
        paths, ``duration`` such as ``"1h30m"``, sizes over ``[evidence]`` limits, content that
        cannot be scanned unless ``allow_unscanned``) is refused before any ``capture`` command
        runs; the commands then run first, and their output, exit status and time become
        evidence. Each runs in its own process group, stopped after ``capture_timeout`` seconds
        (or on Ctrl-C: ``CaptureInterrupted``, nothing recorded); ``capture_progress`` hears
        (command, seconds) while one runs. ``piped`` is evidence read from a pipe, stored as
        ``stdin.txt``. Evidence is streamed through the redactor into private files and uploaded
        from there (``meter`` shows the progress). The sighting is kept in the journal, synced to
        disk, before anything is sent; when the tracker is down (``DeliveryDeferred``) or refuses
        (``DeliveryRefused``) it stays there for ``replay``, and the error names the entry.
        """
        from tracker_bridge.workflows import evidence as ev
        from tracker_bridge.workflows import intake
        from tracker_bridge.workflows import observe as flow
        from tracker_bridge.workflows.staging import Staging

        if defect and new_defect:
            raise UsageError("--defect and --new-defect contradict each other; pass one.")
        when = self._moment(at)
        lasted = self._duration(duration)
        flow.check_input(message, instance, self.settings.conventions_value())
        for command in capture:
            ev.check_capture(command)
        limits = self._limits(allow_unscanned)
        sources = intake.inspect(evidence)
        ev.check_sources(sources, limits, redact=redact)
        extra = [ev.piped(piped, sensitive=sensitive)] if piped is not None else []
        intake.check_sizes(
            [(s.label, s.size) for s in sources] + [(f.name, f.size) for f in extra], limits
        )
        with Staging(self._state_dir / "tmp") as staging:
            captured = ev.capture_all(
                capture,
                capture_timeout,
                progress=capture_progress,
                staging=staging,
                limit=limits.max_file,
            )
            if not redact:
                self._log(
                    f"observe --no-redact: {len(sources) + len(extra) + len(captured)} evidence "
                    "item(s) unscrubbed"
                )
            meter = meter or ev.quiet
            items = ev.scrub(
                [c.evidence for c in captured] + extra,
                redact=redact,
                staging=staging,
                limits=limits,
                meter=meter,
            ) + ev.stage(
                sources, staging, limits=limits, redact=redact, sensitive=sensitive, meter=meter
            )
            intake.check_sizes([(f.name, f.size) for f in items], limits)
            request = flow.Request(
                message=message,
                instance=instance,
                evidence=tuple(ev.metered(items, meter)),
                actions=tuple(actions),
                observed_at=when,
                impact=impact,
                duration=lasted,
                event_id=event_id,
                defect=defect,
                new_defect=new_defect,
                dry_run=dry_run,
            )
            result = flow.run(
                self.tracker,
                self.settings.conventions_value(),
                request,
                threshold=self.settings.matching.threshold,
                journal=None if dry_run else self.journal,
                binding=self.binding,
                unredacted=not redact,
            )
        return replace(result, captures=tuple(captured))

    @staticmethod
    def _duration(value: timedelta | str | None) -> timedelta | None:
        if not isinstance(value, str):
            return value
        try:
            return durations.parse(value)
        except UsageError as exc:
            raise UsageError(f"--duration {exc.message}", hint=exc.hint) from None

    def pending(self, entries: Iterable[str] = ()) -> list[Entry]:
        """What the journal holds waiting (pending and refused), oldest first; or the entries
        named by (a prefix of) their ids."""
        ids = [self.journal.resolve_id(e) for e in entries]
        if not ids:
            return self.journal.entries()
        return [e for e in map(self.journal.get, ids) if e is not None]

    def replay(self, entries: Iterable[str] = ()) -> Replayed:
        """Send what the journal holds for this tracker (default: every waiting entry).

        Each entry carries on from its last recorded step, so replaying is safe to repeat and
        to interrupt. Entries kept for another tracker are not sent; ``Replayed`` lists them,
        and ``raise_for_problems()`` turns what was left into the error to report.
        """
        from tracker_bridge.workflows import replay as flow

        return flow.run(
            self.tracker,
            self.journal,
            self.settings.conventions_value(),
            self.binding,
            self.pending(entries),
            threshold=self.settings.matching.threshold,
        )

    def queue_retry(self, entry: str) -> Entry:
        """Make a journal entry (refused, or waiting to retry) pending and due now."""
        return self.journal.retry(self.journal.resolve_id(entry))

    def queue_drop(self, entry: str) -> Entry:
        """Forget a journal entry and delete its evidence files; returns what was dropped."""
        return self.journal.drop(self.journal.resolve_id(entry))

    # -- reading ---------------------------------------------------------------------------

    def show(self, key: str) -> Shown:
        """``key`` with its observations and remediations (also those delegated elsewhere)."""
        from tracker_bridge.workflows import show as flow

        tree = flow.run(self.existing, key)
        elsewhere = flow.remote_remediations(tree.ticket, lambda team: self.team_tracker(team)[0])
        return flow.Shown(tree=tree, elsewhere=tuple(elsewhere))

    def report(
        self, defect: str | None = None, *, progress: Progress | None = None
    ) -> tuple[DefectReport, ...]:
        """How often each defect (or ``defect``) strikes, where, and when it is due again."""
        from tracker_bridge.workflows import report as flow

        return tuple(
            flow.run(
                self.existing, self.settings.conventions_value(), defect=defect, progress=progress
            )
        )

    def attach_report(self, defect: str, name: str, data: bytes) -> Attached:
        """Attach a rendered report to ``defect``, replacing the one attached before by name."""
        from tracker_bridge.workflows import report as flow

        return flow.attach(self.tracker, defect, name, data)

    def postmortem(
        self,
        defect: str,
        *,
        variables: Mapping[str, str] | None = None,
        template: str = "postmortem",
    ) -> Draft:
        """A washup draft of ``defect`` from its tickets (Markdown)."""
        from tracker_bridge.workflows import postmortem as flow

        return flow.run(
            self.existing,
            defect,
            variables=dict(variables or {}),
            templates_dir=self.settings.templates_dir,
            template=template,
        )

    # ``list`` shadows the builtin inside this class: annotations below say ``builtins.list``.
    def list(
        self, wanted: Listed | None = None, *, progress: Progress | None = None
    ) -> tuple[Row, ...]:
        """The tickets ``wanted`` picks (default: open defects), most pressing first."""
        from tracker_bridge.workflows import listing as flow

        return tuple(
            flow.run(
                self.existing,
                self.settings.conventions_value(),
                wanted or flow.Filter(),
                progress=progress,
            )
        )

    def evidence_cat(self, key: str, name: str) -> tuple[EvidenceRef, bytes]:
        """The stored (scrubbed) bytes of evidence ``name`` on ``key``, with its record."""
        from tracker_bridge.workflows import evidence as flow

        return flow.cat(self.existing, key, name)

    # -- the lifecycle ---------------------------------------------------------------------

    def move(self, observations: Sequence[str], *, to: str, dry_run: bool = False) -> Outcome:
        """Put ``observations`` under defect ``to``; the matcher learns (see ``workflows.move``)."""
        from tracker_bridge.workflows import move as flow

        conventions = self.settings.conventions_value()
        return flow.run(self.existing, conventions, observations, to, dry_run=dry_run)

    def merge(self, duplicates: Sequence[str], *, into: str, dry_run: bool = False) -> Outcome:
        """Fold ``duplicates`` into defect ``into``, closing each as its duplicate."""
        from tracker_bridge.workflows import merge as flow

        return flow.run(self.existing, duplicates, into, dry_run=dry_run)

    def resolve(
        self,
        key: str,
        *,
        note: str = "",
        without_remediation: str = "",
        dry_run: bool = False,
    ) -> Outcome:
        """Close ``key``; a defect only with a remediation or a recorded reason
        (``FinalisationError`` otherwise)."""
        from tracker_bridge.workflows import resolve as flow

        return flow.run(
            self.existing,
            key,
            note=note,
            without_remediation=without_remediation,
            dry_run=dry_run,
        )

    def reopen(self, key: str, *, note: str = "", dry_run: bool = False) -> Outcome:
        """Open ``key`` again."""
        from tracker_bridge.workflows import resolve as flow

        return flow.reopen(self.existing, key, note=note, dry_run=dry_run)

    # -- the site check ---------------------------------------------------------------------

    def doctor(self) -> Diagnosis:
        """What works on the configured tracker and every team's (each checked once), what is
        degraded and what it costs, and what to change in bridge.toml. Reads only."""
        from tracker_bridge import trackers
        from tracker_bridge.workflows import doctor as flow

        conventions = self.settings.conventions_value()

        def ours() -> Tracker:
            return trackers.build(self.settings.tracker, conventions)

        def team(name: str) -> Callable[[], Tracker]:
            return lambda: self.team_tracker(name)[0]

        targets = [flow.Target("tracker", ours)]
        targets += [
            flow.Target(
                f"team {name}",
                team(name),
                team=name,
                issue_type=self.settings.teams[name].issue_type,
            )
            for name in sorted(self.settings.teams)
        ]
        return flow.run(targets)

    # -- the convention check --------------------------------------------------------------

    def rules(self, only: Sequence[str] = ()) -> builtins.list[tuple[Rule, Severity | None]]:
        """The rule catalogue with each rule's severity under this configuration."""
        from tracker_bridge.domain.rules import RULES

        levels = self._levels(only)
        return [(rule, levels.get(rule.id, rule.severity)) for rule in RULES]

    def check(
        self,
        *,
        rules: Sequence[str] = (),
        fix: bool = False,
        dry_run: bool = False,
        progress: Progress | None = None,
    ) -> Report:
        """Check the tracker against the conventions; with ``fix``, apply the safe fixes.

        ``dry_run`` (with ``fix``) lists the fixes without making them. Raises
        ``IncompleteScan`` when the tracker cannot be read to the end.
        """
        from tracker_bridge.workflows import check as flow

        if dry_run and not fix:
            raise UsageError("--dry-run only makes sense with --fix.")
        conventions = self.settings.conventions_value()
        levels = self._levels(rules)  # bad rule ids are refused before the tracker is opened
        report = flow.run(
            self.existing,
            conventions,
            levels=levels,
            stale_days=self.settings.check.stale_days,
            progress=progress,
        )
        if fix:
            report = flow.fix(
                self.existing,
                report,
                conventions,
                dry_run=dry_run,
                threshold=self.settings.matching.threshold,
            )
        return report

    # -- remediation -----------------------------------------------------------------------

    def delegate(
        self,
        defect: str,
        *,
        to: str,
        template: str | None = None,
        variables: Mapping[str, str] | None = None,
        again: bool = False,
        dry_run: bool = False,
    ) -> Delegated:
        """File remediation of ``defect`` in team ``to``'s project, linked both ways.

        Delegating again returns the ticket already filed unless ``again``. With ``dry_run``
        the ticket is rendered and validated against their project, and nothing is filed.
        """
        from tracker_bridge.workflows import delegate as flow

        team = self.settings.team(to).domain(to)
        target, same_site = self.team_tracker(to)
        try:
            return flow.run(
                self.existing,
                target,
                team=team,
                conventions=self.settings.conventions_value(),
                request=flow.Request(
                    defect=defect,
                    team=to,
                    template=template,
                    variables=dict(variables or {}),
                    dry_run=dry_run,
                    again=again,
                ),
                same_site=same_site,
                templates_dir=self.settings.templates_dir,
            )
        finally:
            target.close()

    # -- evidence --------------------------------------------------------------------------

    def evidence_add(
        self,
        key: str,
        paths: Iterable[Path | str],
        *,
        sensitive: bool = False,
        redact: bool = True,
        dry_run: bool = False,
        allow_unscanned: bool = False,
        meter: Meter | None = None,
    ) -> Added:
        """Attach files or directories to ``key``, scrubbed; content already there is skipped.

        The same intake as ``observe``: regular files only, ``[evidence]`` limits and the
        unscanned policy checked before anything is read in full or sent. With ``dry_run``, say
        what would be added (scrubbed, as it would be stored), add nothing.
        """
        from tracker_bridge.workflows import evidence as flow
        from tracker_bridge.workflows import intake
        from tracker_bridge.workflows.staging import Staging

        limits = self._limits(allow_unscanned)
        sources = intake.inspect(paths)
        flow.check_sources(sources, limits, redact=redact)
        if not redact and not dry_run:
            self._log(f"evidence add {key} --no-redact: {len(sources)} file(s) unscrubbed")
        meter = meter or flow.quiet
        with Staging(self._state_dir / "tmp") as staging:
            files = flow.stage(
                sources, staging, limits=limits, redact=redact, sensitive=sensitive, meter=meter
            )
            return flow.add(self.existing, key, flow.metered(files, meter), dry_run=dry_run)

    def evidence_sync(self, defect: str, *, to: str | None = None) -> Synced:
        """One evidence index on ``defect``; with ``to``, copy the files into that ticket once.

        ``to`` may be a ticket delegated to a team on another site: the defect's link to it
        names the team, and the copy goes to that team's tracker (sensitive files only
        referenced).
        """
        from tracker_bridge.workflows import sync as flow

        if to is None:
            return flow.roll_up(self.existing, defect)
        team = next(
            (d.team for d in delegated(self.existing.get(defect).links) if d.key == to), None
        )
        if team is None:
            other_team = bool(self.existing.get(to).team)
            return flow.copy_to(self.existing, defect, self.existing, to, other_team=other_team)
        target, _ = self.team_tracker(team)
        try:
            return flow.copy_to(self.existing, defect, target, to, other_team=True)
        finally:
            target.close()

    # -- messages --------------------------------------------------------------------------

    @property
    def threshold(self) -> float:
        """The similarity at or above which a message joins a known defect."""
        from tracker_bridge.domain.matching import DEFAULT_THRESHOLD

        return self.settings.matching.threshold or DEFAULT_THRESHOLD

    def fingerprint(self, message: str) -> Fingerprint:
        """The fingerprint (template and key) that groups ``message`` with its kind."""
        from tracker_bridge.domain.fingerprint import fingerprint

        if not message.strip():
            raise UsageError("give a MESSAGE to fingerprint.")
        return fingerprint(message)

    def explain(self, message: str, *, threshold: float | None = None) -> Explanation:
        """How ``message`` is fingerprinted, and the decision ``observe`` would take on it against
        the configured tracker's defects (candidates, scores, which slots differed); writes
        nothing. Where no tracker exists yet, the message is explained alone, and it says so."""
        from tracker_bridge.workflows import decide as flow

        if not message.strip():
            raise UsageError("give a MESSAGE to explain.")
        try:
            tracker = self.existing
        except NoTrackerError:
            absent = f"no tracker here: {self.settings.tracker.path} does not exist"
            return flow.explain(None, message, threshold or self.threshold, absent=absent)
        return flow.explain(tracker, message, threshold or self.threshold)

    def grouper(self, *, threshold: float | None = None) -> StreamGrouper:
        """Groups a stream of messages online, exactly as ``observe`` matches defects."""
        from tracker_bridge.domain.matching import StreamGrouper

        return StreamGrouper(threshold or self.threshold)

    # -- helpers ---------------------------------------------------------------------------

    def _levels(self, only: Sequence[str]) -> dict[str, Severity | None]:
        from tracker_bridge.workflows import check as flow

        return flow.severities(dict(self.settings.check.rules), tuple(only))

    @staticmethod
    def _moment(at: datetime | str | None) -> datetime | None:
        if at is None:
            return None
        if isinstance(at, datetime):
            when = as_utc(at)
        else:
            try:
                when = parse_moment(at)
            except UsageError as exc:
                raise UsageError(f"--at {exc.message}", hint=exc.hint) from None
        # a sighting is in the past; a day of slack covers clocks and time zones gone wrong,
        # beyond that it is a typo that would put "last seen" years ahead in every report
        if when > utcnow() + FUTURE_SLACK:
            raise UsageError(
                f"--at {when.isoformat()} is in the future; a sighting is recorded when it happened.",
                hint="Give the time it was seen (ISO 8601, e.g. 2026-11-21T12:01:48+00:00), or "
                "leave --at out for now.",
            )
        return when

    @property
    def _state_dir(self) -> Path:
        """``.bridge/``: the journal, the log and the private staging of evidence."""
        return self.settings.queue.path.parent

    def _limits(self, allow_unscanned: bool) -> Limits:
        from tracker_bridge.workflows.intake import Limits

        conf = self.settings.evidence
        return Limits(
            max_file=int(conf.max_file),
            max_observation=int(conf.max_observation),
            allow_unscanned=allow_unscanned or conf.unscanned == "allow",
        )

    def _log(self, line: str) -> None:
        """Append to .bridge/bridge.log: opt-outs such as --no-redact are recorded there."""
        from tracker_bridge.private_files import append_line

        path = self._state_dir / "bridge.log"
        try:
            append_line(path, f"{utcnow().isoformat()} {line}")
        except OSError as exc:
            raise UsageError(
                f"cannot record the opt-out in {path}: {exc.strerror}.",
                hint="Make .bridge/ writable, or drop --no-redact.",
            ) from None
