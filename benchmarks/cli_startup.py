"""How fast `bridge --help` answers, beside a bare interpreter start in the same run.

    python benchmarks/cli_startup.py [RUNS]

Prints the median wall time of each command over RUNS runs (default 30) and the difference, which
is what the bridge itself costs. Tracker libraries (jira, PyGithub), pydantic and rich must not be
imported for --help; the second table shows which heavy modules each command loaded.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

PY = sys.executable
BRIDGE = str(Path(PY).with_name("bridge"))
HEAVY = ("jira", "github", "pydantic", "requests", "rich", "sqlite3", "jinja2")

COMMANDS = {
    "baseline: python -c pass": [PY, "-c", "pass"],
    "baseline: python -c 'import click'": [PY, "-c", "import click"],
    "bridge --help": [BRIDGE, "--help"],
    "bridge observe --help": [BRIDGE, "observe", "--help"],
}


def median_ms(cmd: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, check=True)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def heavy_imports() -> list[str]:
    probe = (
        "import sys; sys.argv=['bridge','--help']\n"
        "from tracker_bridge import cli\n"
        "try:\n    cli.main()\nexcept SystemExit:\n    pass\n"
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules), file=sys.stderr)"
    )
    out = subprocess.run([PY, "-c", probe], capture_output=True, text=True, check=True).stderr
    return [m for m in out.strip().split(",") if m]


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 30
    results = {name: median_ms(cmd, runs) for name, cmd in COMMANDS.items()}
    base = results["baseline: python -c pass"]
    print(f"median wall time over {runs} runs")
    for name, ms in results.items():
        print(f"  {name:<38} {ms:7.1f} ms   (+{ms - base:6.1f} ms over bare python)")
    print(f"heavy modules imported by `bridge --help`: {heavy_imports() or 'none'}")


if __name__ == "__main__":
    main()
