"""Peak memory and throughput of ``bridge observe --evidence BIG.log``, ours beside the baseline.

Each run is a fresh ``bridge observe`` child process; its peak resident memory is the kernel's
``ru_maxrss`` for that child (``os.wait4``), so the figures include the interpreter, the imports
and everything the intake holds. Trackers: the embedded one (SQLite under ``.bridge/``) and Jira
(the fake Jira server from ``tests/fakes``, running in this process, so its memory is not
counted). The baseline is the code at ``--base`` (default: the commit before this branch's
evidence work, ``main``), extracted with ``git archive`` and put first on ``PYTHONPATH``: both
run in the same session, on the same files, one after the other.

The files are generated logs (timestamped lines, a secret every few thousand lines) of the given
sizes. Throughput is the file size over the wall time of the whole command on the embedded
tracker: read, classify, scan and redact, hash, store; startup included. On a shared machine the
wall clock depends on the load, so the child's CPU time (user + system) is shown too.

    python benchmarks/evidence_memory.py [--sizes 50 300] [--rounds 1] [--base main]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from fakes.jira import EMAIL, TOKEN, FakeJira  # noqa: E402

MB = 1_000_000
RUN = "import sys; from tracker_bridge.cli import main; sys.argv[0] = 'bridge'; main()"


def make_log(path: Path, size: int, seed: int = 14) -> None:
    """A log of ``size`` bytes: ordinary lines, a credential now and then."""
    rng = random.Random(seed)
    services = ["api", "worker", "db-proxy", "scheduler", "cache"]
    lines = []
    for i in range(20_000):
        if i % 2_500 == 7:
            lines.append(f"2026-11-30T01:02:03Z ERROR db connect postgres://app:pw{i}x@db-1/prod\n")
        else:
            lines.append(
                f"2026-11-30T01:{i % 60:02d}:{rng.randrange(60):02d}Z INFO {rng.choice(services)} "
                f"request id={rng.getrandbits(64):016x} served in {rng.randrange(900)} ms "
                f"from 10.0.{rng.randrange(255)}.{rng.randrange(255)}\n"
            )
    block = "".join(lines).encode()
    with path.open("wb") as fh:
        written = 0
        while written < size:
            piece = block[: size - written]
            fh.write(piece)
            written += len(piece)


def baseline_src(rev: str, into: Path) -> Path:
    """The ``src`` tree of ``rev``, extracted from git."""
    into.mkdir(parents=True, exist_ok=True)
    archive = into / "base.tar"
    subprocess.run(["git", "-C", str(ROOT), "archive", "-o", str(archive), rev, "src"], check=True)
    with tarfile.open(archive) as tar:
        tar.extractall(into, filter="data")
    return into / "src"


def run_child(
    src: Path, workdir: Path, log: Path, env_extra: dict[str, str]
) -> tuple[int, float, float, int]:
    """One ``bridge observe``: (exit status, wall seconds, CPU seconds, peak RSS in bytes).

    The child is started through ``/usr/bin/time``: Linux counts the memory a process had
    before ``exec`` in its peak, and a child forked straight from this process (which holds the
    fake Jira's stored uploads) would start with all of it.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRIDGE_")}
    env.update(PYTHONPATH=str(src), CI="1", **env_extra)
    report = workdir / "time.out"
    args = ["/usr/bin/time", "-f", "%M %U %S", "-o", str(report), sys.executable, "-c", RUN]
    args += ["observe", "Disk full", "-i", "db-1", "-e", str(log), "--json"]
    start = time.perf_counter()
    proc = subprocess.run(
        args, cwd=workdir, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False
    )
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        print(f"    exit {proc.returncode}: {proc.stderr.decode().strip()[-300:]}", file=sys.stderr)
    peak_kib, user, system = report.read_text().split()[-3:]
    return proc.returncode, seconds, float(user) + float(system), int(peak_kib) * 1024


def engine_speed(log: Path) -> float:
    """CPU MB/s of the streaming redactor alone on ``log`` (ours), beside the intake's."""
    from tracker_bridge.domain.redaction import redact_stream

    start = time.process_time()
    with log.open("rb") as src, open(os.devnull, "wb") as sink:
        redact_stream(src, sink)
    return log.stat().st_size / MB / (time.process_time() - start)


def configure(workdir: Path, tracker: str, fake: FakeJira | None) -> None:
    if tracker == "jira" and fake is not None:
        (workdir / "bridge.toml").write_text(
            f'[tracker]\nkind = "jira"\nurl = "{fake.url}"\nproject = "OPS"\n'
            f'deployment = "cloud"\nemail = "{EMAIL}"\n'
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[50, 300], help="MB")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--base", default="main", help="git revision of the baseline")
    parser.add_argument("--trackers", nargs="+", default=["local", "jira"])
    parser.add_argument("--variants", nargs="+", default=["baseline", "ours"])
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="evidence-memory-"))
    try:
        logs = {}
        for size in args.sizes:
            logs[size] = tmp / f"app-{size}MB.log"
            make_log(logs[size], size * MB)
        variants = {
            name: baseline_src(args.base, tmp / "base") if name == "baseline" else ROOT / "src"
            for name in args.variants
        }
        limits = {
            "BRIDGE_EVIDENCE__MAX_FILE": "2GB",
            "BRIDGE_EVIDENCE__MAX_OBSERVATION": "2GB",
        }
        print(f"baseline = {args.base}; ours = working tree; medians of {args.rounds} round(s)")
        print(
            f"{'tracker':8} {'variant':9} {'size':>7} {'peak RSS':>10} {'seconds':>8} {'MB/s':>6}"
        )
        peaks: dict[tuple[str, str, int], float] = {}
        with FakeJira("cloud") as fake:
            fake.upload_limit = 4 * 1024 * MB
            for tracker in args.trackers:
                for variant, src in variants.items():
                    for size, log in logs.items():
                        rss, secs, cpus = [], [], []
                        for r in range(args.rounds):
                            work = tmp / f"{tracker}-{variant}-{size}-{r}"
                            work.mkdir()
                            configure(work, tracker, fake)
                            env = {"BRIDGE_TRACKER__TOKEN": TOKEN} if tracker == "jira" else {}
                            if variant == "ours":
                                env.update(limits)
                            code, seconds, cpu, peak = run_child(src, work, log, env)
                            if code == 0:
                                rss.append(peak)
                                cpus.append(cpu)
                                print(
                                    f"    round {r}: {peak / MB:.0f} MB, {seconds:.1f} s",
                                    file=sys.stderr,
                                )
                                secs.append(seconds)
                            shutil.rmtree(work, ignore_errors=True)
                        if not rss:
                            print(f"{tracker:8} {variant:9} {size:>5}MB {'failed':>10}")
                            continue
                        peak_mb = statistics.median(rss) / MB
                        seconds = statistics.median(secs)
                        cpu = statistics.median(cpus)
                        peaks[(tracker, variant, size)] = peak_mb
                        print(
                            f"{tracker:8} {variant:9} {size:>5}MB {peak_mb:>8.0f}MB "
                            f"{seconds:>8.1f} {size / seconds:>6.1f} {cpu:>8.1f} {size / cpu:>8.1f}"
                        )
        engine = engine_speed(logs[max(logs)])
        print(
            f"\nthe redaction engine alone (redact_stream, in process) on the {max(logs)} MB log: "
            f"{engine:.1f} MB/s of CPU; the intake's figures above include startup and storing"
        )
        if len(args.sizes) >= 2:
            small, large = min(args.sizes), max(args.sizes)
            print(f"\npeak at {large} MB minus peak at {small} MB (goal for ours: <= 100 MB):")
            for tracker in args.trackers:
                for variant in variants:
                    a, b = (
                        peaks.get((tracker, variant, small)),
                        peaks.get((tracker, variant, large)),
                    )
                    if a is not None and b is not None:
                        print(f"  {tracker:8} {variant:9} {b - a:+8.0f} MB")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
