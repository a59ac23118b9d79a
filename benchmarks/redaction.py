"""Benchmark the evidence secret redactor: recall, false positives, throughput.

Recall: on the generated corpus (tests/data/secrets/corpus.jsonl), a case counts as found when
none of its secret values survives and, for ours, the expected kind is reported.
False positives: every redaction in the Content column of the loghub-2k sample logs
(shared/data/loghub-2k-dev/*.csv, 16k real lines) is printed so a person can judge it.
Throughput: MB/s on ~5 MB of those logs, and on ~5 MB of secret-dense corpus text.
If detect-secrets is installed it is measured beside ours in the same run (same cases, same
logs); its findings are lines and values, so a case counts as found when replacing every value
it reports on the case's lines removes all secrets.

Run: python benchmarks/redaction.py
"""

from __future__ import annotations

import csv
import json
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tracker_bridge.domain.redaction import KINDS, redact_text

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "data" / "secrets" / "corpus.jsonl"
LOGS = sorted(
    next(
        (p for p in (ROOT.parent / "shared", ROOT / "shared", Path("/work/shared")) if p.is_dir()),
        Path("/work/shared"),
    ).glob("data/loghub-2k-dev/*.csv")
)
TARGET_BYTES = 5_000_000


def load_cases() -> list[dict[str, Any]]:
    with CORPUS.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


def load_log_lines() -> list[tuple[str, str]]:
    lines: list[tuple[str, str]] = []
    for path in LOGS:
        with path.open(newline="", encoding="utf-8") as fh:
            lines.extend((path.stem, row["Content"]) for row in csv.DictReader(fh))
    return lines


def scale(text: str) -> str:
    return text * (TARGET_BYTES // max(1, len(text.encode())) + 1)


# ----------------------------------------------------------------------------------------------
# Ours


def ours_recall(cases: list[dict[str, Any]]) -> dict[str, tuple[int, int]]:
    per_kind: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for case in cases:
        if case["kind"] is None:
            continue
        out, counts = redact_text(case["text"])
        found = all(s not in out for s in case["secrets"]) and case["kind"] in dict(counts)
        per_kind[case["kind"]][0] += int(found)
        per_kind[case["kind"]][1] += 1
    return {k: (v[0], v[1]) for k, v in per_kind.items()}


def ours_false_positives(lines: list[tuple[str, str]]) -> list[tuple[str, str, str, str]]:
    hits = []
    for source, line in lines:
        out, counts = redact_text(line)
        if counts:
            hits.append((source, ", ".join(k for k, _ in counts), line, out))
    return hits


def throughput(fn: Callable[[str], object], text: str) -> float:
    started = time.perf_counter()
    fn(text)
    return len(text.encode()) / 1e6 / (time.perf_counter() - started)


# ----------------------------------------------------------------------------------------------
# detect-secrets, for comparison


def detect_secrets_available() -> bool:
    try:
        import detect_secrets  # noqa: F401
    except ImportError:
        return False
    return True


def ds_findings(text: str) -> dict[int, set[str]]:
    """Line number (1-based) -> secret values detect-secrets reports, with its default filters."""
    from detect_secrets import SecretsCollection
    from detect_secrets.settings import default_settings

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "evidence.log"
        path.write_text(text, encoding="utf-8")
        found: dict[int, set[str]] = defaultdict(set)
        with default_settings():
            collection = SecretsCollection()
            collection.scan_file(str(path))
            for _, secret in collection:
                if secret.secret_value:
                    found[secret.line_number].add(secret.secret_value)
    return found


def ds_redact(text: str) -> str:
    lines = text.split("\n")
    for number, values in ds_findings(text).items():
        for value in sorted(values, key=len, reverse=True):
            lines[number - 1] = lines[number - 1].replace(value, "[REDACTED]")
    return "\n".join(lines)


def ds_recall(cases: list[dict[str, Any]]) -> dict[str, tuple[int, int]]:
    per_kind: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for case in cases:
        if case["kind"] is None:
            continue
        out = ds_redact(case["text"])
        per_kind[case["kind"]][0] += int(all(s not in out for s in case["secrets"]))
        per_kind[case["kind"]][1] += 1
    return {k: (v[0], v[1]) for k, v in per_kind.items()}


def ds_false_positives(lines: list[tuple[str, str]]) -> list[tuple[str, str]]:
    found = ds_findings("\n".join(line for _, line in lines) + "\n")
    return [(lines[n - 1][0], lines[n - 1][1]) for n in sorted(found)]


# ----------------------------------------------------------------------------------------------


def pct(found: int, total: int) -> str:
    return f"{found}/{total} ({100 * found / total:5.1f}%)" if total else "-"


def main() -> int:
    cases = load_cases()
    lines = load_log_lines()
    negatives = [c for c in cases if c["kind"] is None]
    with_ds = detect_secrets_available()
    print(f"corpus: {len(cases) - len(negatives)} secret cases, {len(negatives)} near misses")
    print(f"logs:   {len(lines)} lines from {len(LOGS)} loghub-2k files")
    if not with_ds:
        print("detect-secrets not installed: showing ours only (pip install detect-secrets)")

    ours = ours_recall(cases)
    theirs = ds_recall(cases) if with_ds else {}
    print("\nRecall per kind" + (" (ours | detect-secrets)" if with_ds else ""))
    for kind in KINDS:
        found, total = ours.get(kind, (0, 0))
        row = f"  {kind:26s} {pct(found, total):18s}"
        if with_ds:
            row += f" | {pct(*theirs.get(kind, (0, 0)))}"
        print(row)
    total_found = sum(f for f, _ in ours.values())
    total = sum(t for _, t in ours.values())
    row = f"  {'OVERALL':26s} {pct(total_found, total):18s}"
    if with_ds:
        row += f" | {pct(sum(f for f, _ in theirs.values()), total)}"
    print(row)

    changed = [c["text"] for c in negatives if redact_text(c["text"])[0] != c["text"]]
    print(f"\nNear misses changed (ours): {len(changed)}/{len(negatives)}")
    for text in changed:
        print(f"  {text!r}")

    hits = ours_false_positives(lines)
    print(f"\nRedactions on {len(lines)} real log lines (ours): {len(hits)} lines")
    for source, kinds, line, out in hits:
        print(f"  [{source}] {kinds}\n      in:  {line}\n      out: {out}")
    if with_ds:
        ds_hits = ds_false_positives(lines)
        print(f"Redactions on the same lines (detect-secrets): {len(ds_hits)} lines")
        for source, line in ds_hits[:20]:
            print(f"  [{source}] {line}")

    log_text = scale("\n".join(line for _, line in lines) + "\n")[:TARGET_BYTES]
    secret_text = scale("\n".join(c["text"] for c in cases) + "\n")[:TARGET_BYTES]
    print("\nThroughput")
    print(f"  ours, logs (5 MB):           {throughput(redact_text, log_text):6.1f} MB/s")
    print(f"  ours, secret-dense (5 MB):   {throughput(redact_text, secret_text):6.1f} MB/s")
    if with_ds:
        small = log_text[:1_000_000]
        print(f"  detect-secrets, logs (1 MB): {throughput(ds_findings, small):6.2f} MB/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
