"""Peak memory of redaction against file size: streamed (StreamRedactor) beside whole-content.

Each measurement runs in a child process that builds log text on the fly from the loghub-2k
sample lines (a secret every 500 lines), redacts it and throws the output away, then reports
its peak RSS (``ru_maxrss``) above what it held before redacting. "whole" reads everything into
memory and calls ``redact_bytes`` (what evidence collection did before streaming); "streamed"
feeds 1 MiB chunks to ``redact_chunks``.

Run: python benchmarks/redaction_memory.py [MB ...]   (default 10 40 80)
"""

from __future__ import annotations

import csv
import resource
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOGS = sorted(
    next(
        (p for p in (ROOT.parent / "shared", ROOT / "shared", Path("/work/shared")) if p.is_dir()),
        Path("/work/shared"),
    ).glob("data/loghub-2k-dev/*.csv")
)
CHUNK = 1 << 20
WHOLE_LIMIT_MB = 40  # whole-content is only measured up to this size: it holds several copies


def _lines() -> list[bytes]:
    out: list[bytes] = []
    for path in LOGS:
        with path.open(newline="", encoding="utf-8") as fh:
            out.extend((row["Content"] + "\n").encode() for row in csv.DictReader(fh))
    return out


def _chunks(total: int) -> Iterator[bytes]:
    lines = _lines()
    buf: list[bytes] = []
    size = produced = 0
    i = 0
    while produced < total:
        line = lines[i % len(lines)]
        if i % 500 == 0:
            line = f"db connect password=Xk9pLm{i:08d} host=db-1\n".encode()
        buf.append(line)
        size += len(line)
        i += 1
        if size >= CHUNK:
            chunk = b"".join(buf)
            buf, size = [], 0
            produced += len(chunk)
            yield chunk
    if buf:
        yield b"".join(buf)


def _child(mode: str, megabytes: int) -> None:
    from tracker_bridge.domain.redaction import Scan, redact_bytes, redact_chunks

    total = megabytes * 1_000_000
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    if mode == "whole":
        data = b"".join(_chunks(total))
        result = redact_bytes(data)
        secrets = result.total
    else:
        found: list[Scan] = []
        for _ in redact_chunks(_chunks(total), found):
            pass
        secrets = found[0].total
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"{(peak - before) / 1024:.1f} {seconds:.1f} {secrets}")


def main(argv: list[str]) -> int:
    if len(argv) >= 3 and argv[0] == "--child":
        _child(argv[1], int(argv[2]))
        return 0
    sizes = [int(a) for a in argv] or [10, 40, 80]
    print("size      mode       peak RSS above start   time    secrets")
    for megabytes in sizes:
        for mode in ("whole", "streamed"):
            if mode == "whole" and megabytes > WHOLE_LIMIT_MB:
                continue
            out = subprocess.run(
                [sys.executable, __file__, "--child", mode, str(megabytes)],
                capture_output=True,
                text=True,
                check=True,
            ).stdout.split()
            peak, seconds, secrets = float(out[0]), float(out[1]), int(out[2])
            print(
                f"{megabytes:4d} MB   {mode:9s}  {peak:8.1f} MiB             "
                f"{seconds:5.1f} s  {secrets}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
