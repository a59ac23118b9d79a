"""The ``bridge`` group, shared options and output helpers.

Only click is imported at module level; see ``tracker_bridge.cli`` for why.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from tracker_bridge.bridge import Bridge

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


def dry_run_option(f: F) -> F:
    return click.option(
        "--dry-run",
        is_flag=True,
        help="Say what would change, change nothing (the tracker is only read).",
    )(f)


def allow_unscanned_option(f: F) -> F:
    return click.option(
        "--allow-unscanned",
        is_flag=True,
        help="Store content that cannot be scanned for secrets (compressed, encrypted, images) "
        'for this call; [evidence] unscanned = "allow" does it always. `bridge check` flags it.',
    )(f)


class EvidencePath(click.Path):
    """A file or directory to attach: ``-`` is stdin; refused before anything is recorded when
    it is empty (which would mean the current directory) or a directory holding the bridge's own
    ``.bridge/`` state. FIFOs and devices are refused by ``workflows.intake``."""

    def __init__(self) -> None:
        super().__init__(path_type=Path)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, str) and not value.strip():
            self.fail("an empty path is not evidence; name a file or directory", param, ctx)
        path = Path(os.fsdecode(super().convert(value, param, ctx)))
        if str(path) == "-" or not path.exists():
            return path  # stdin, or missing: the workflow says what to do about that
        if path.is_dir():
            state = Path(".bridge").resolve()
            if state.is_dir() and state.is_relative_to(path.resolve()):
                self.fail(
                    f"directory {str(path)!r} holds the bridge's own state ({state}); name the "
                    "files or a subdirectory to attach instead",
                    param,
                    ctx,
                )
            if path.name in ("", ".."):
                # evidence names start with the directory's name, and '.' has none ('/app.log')
                return path.resolve()
        return path


def open_bridge(config_path: Path | None) -> Bridge:
    """The ``Bridge`` every command is one call of (use it in a with-block)."""
    from tracker_bridge.bridge import Bridge

    return Bridge.from_config(config_path)


def parse_vars(items: tuple[str, ...]) -> dict[str, str]:
    """``--var KEY=VALUE`` options as template variables."""
    from tracker_bridge.templating import parse_vars

    return parse_vars(items)


def emit(data: Any) -> None:
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


def write_output(path: Path, text: str | bytes, what: str = "the report") -> None:
    """Write ``text`` (or bytes) to ``path`` via a temporary file and a rename, so a reader never sees half
    of it; a path that cannot be written is bad input (exit 2), not an internal error."""
    from tracker_bridge.errors import UsageError

    _require_file_name(path)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        tmp.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
        tmp.replace(path)
    except OSError as exc:
        hint = (
            f"Create the directory first (mkdir -p {path.parent}) or choose another --output."
            if not path.parent.is_dir()
            else "Choose another --output."
        )
        raise UsageError(f"cannot write {what} to {path}: {exc.strerror}.", hint=hint) from None


def require_output_dir(path: Path | None) -> None:
    """Refuse an --output in a missing directory before any work is done (exit 2)."""
    from tracker_bridge.errors import UsageError

    if path is not None:
        _require_file_name(path)
    if path is not None and not path.parent.is_dir():
        raise UsageError(
            f"cannot write to {path}: the directory {path.parent} does not exist.",
            hint=f"Create it first (mkdir -p {path.parent}) or choose another --output.",
        )


def _require_file_name(path: Path) -> None:
    """An empty --output (or one ending in ..) names no file: click reads "" as the directory."""
    from tracker_bridge.errors import UsageError

    if path.name in ("", ".", ".."):
        raise UsageError(
            f"--output {str(path)!r} names no file.",
            hint="Give a file name, e.g. --output report.html.",
        )
