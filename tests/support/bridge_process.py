"""``bridge`` as a separate process, for tests and benchmarks that kill it or race it.

Run as ``python bridge_process.py ARGS...``: the real CLI entry point, with two hooks driven by
the environment (never ``BRIDGE_*``, which the settings own):

- ``SLOW_ATTACH=SECONDS``: the embedded tracker sleeps before storing evidence, so the parent can
  see the observation's row and ``kill -9`` the process right after the create;
- ``START_GATE=PATH``: wait until PATH exists before running, so that several processes started
  one by one act at the same moment (each touches ``PATH.<pid>.ready`` first);
- ``KILL_AFTER_PUT=SECONDS`` (and ``KILL_SEED``): once the journal holds the sighting, SIGKILL
  this process at a random moment within SECONDS, i.e. somewhere in the delivery (a parent
  watching from outside reacts too late to land there: delivery takes tens of milliseconds).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any


def _slow_attach(delay: float) -> None:
    from tracker_bridge.trackers import local

    original = local.LocalTracker.attach

    def attach(self: Any, key: str, files: Sequence[Any]) -> Any:
        time.sleep(delay)
        return original(self, key, files)

    local.LocalTracker.attach = attach  # type: ignore[method-assign]


def _kill_after_put(within: float, seed: str) -> None:
    import random
    import signal
    import threading

    from tracker_bridge.journal.sqlite import SqliteJournal

    delay = random.Random(seed).uniform(0.0, within)
    original = SqliteJournal.put_many

    def put_many(self: Any, news: Sequence[Any]) -> Any:
        kept = original(self, news)

        def die() -> None:
            time.sleep(delay)
            os.kill(os.getpid(), signal.SIGKILL)

        threading.Thread(target=die, daemon=True).start()
        return kept

    SqliteJournal.put_many = put_many  # type: ignore[method-assign]


def _gate(path: Path) -> None:
    Path(f"{path}.{os.getpid()}.ready").touch()
    while not path.exists():
        time.sleep(0.002)


def main() -> None:
    delay = float(os.environ.get("SLOW_ATTACH", "0") or 0)
    if delay:
        _slow_attach(delay)
    within = float(os.environ.get("KILL_AFTER_PUT", "0") or 0)
    if within:
        _kill_after_put(within, os.environ.get("KILL_SEED", ""))
    from tracker_bridge.cli import main as bridge

    gate = os.environ.get("START_GATE")
    if gate:
        _gate(Path(gate))
    sys.argv = ["bridge", *sys.argv[1:]]
    bridge()


if __name__ == "__main__":
    main()
