"""Observations kept on disk while the tracker is down, replayed later without duplicates.

A spooled request keeps its event id, so ``bridge replay`` is idempotent: whatever part of the
first attempt reached the tracker is found by its marker and not made again.
"""

from __future__ import annotations

import base64
import json
import os
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tracker_bridge.domain import durations
from tracker_bridge.domain.tickets import EvidenceFile
from tracker_bridge.errors import UsageError

if TYPE_CHECKING:
    from tracker_bridge.workflows.observe import Request


def keep(spool_dir: Path, request: Request) -> Path:
    """Write the request to ``spool_dir/<event id>.json`` atomically; return the path."""
    spool_dir.mkdir(parents=True, exist_ok=True)
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in request.event_id)
    path = spool_dir / f"{safe}.json"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(_dump(request), indent=1), encoding="utf-8")
    os.replace(tmp, path)
    return path


def load(path: Path) -> Request:
    """Read a spooled request back."""
    from tracker_bridge.workflows.observe import Request

    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UsageError(f"cannot read spooled observation {path}: {exc}.") from None
    return Request(
        message=raw["message"],
        instance=raw["instance"],
        evidence=tuple(
            EvidenceFile(
                name=e["name"],
                data=base64.b64decode(e["data"]),
                source=e["source"],
                captured_at=datetime.fromisoformat(e["captured_at"]),
                redactions=tuple((k, int(n)) for k, n in e["redactions"]),
                scanned=e["scanned"],
                sensitive=e["sensitive"],
            )
            for e in raw["evidence"]
        ),
        actions=tuple(raw["actions"]),
        observed_at=datetime.fromisoformat(raw["observed_at"]) if raw["observed_at"] else None,
        impact=raw["impact"],
        duration=durations.from_seconds(raw.get("duration_seconds")),
        event_id=raw["event_id"],
        defect=raw["defect"],
        new_defect=raw["new_defect"],
    )


def pending(spool_dir: Path) -> list[Path]:
    """Spooled observations waiting for replay, oldest first."""
    if not spool_dir.is_dir():
        return []
    return sorted(spool_dir.glob("*.json"), key=lambda p: p.stat().st_mtime)


def _dump(request: Request) -> dict[str, Any]:
    return {
        "message": request.message,
        "instance": request.instance,
        "evidence": [
            {
                "name": e.name,
                "data": base64.b64encode(e.data).decode("ascii"),
                "source": e.source,
                "captured_at": e.captured_at.isoformat(),
                "redactions": [list(r) for r in e.redactions],
                "scanned": e.scanned,
                "sensitive": e.sensitive,
            }
            for e in request.evidence
        ],
        "actions": list(request.actions),
        "observed_at": request.observed_at.isoformat() if request.observed_at else None,
        "impact": request.impact,
        "duration_seconds": round(request.duration.total_seconds()) if request.duration else None,
        "event_id": request.event_id,
        "defect": request.defect,
        "new_defect": request.new_defect,
    }
