"""Observations kept on disk while the tracker is down, replayed later without duplicates.

A spooled request keeps its event id, so ``bridge replay`` is idempotent: whatever part of the
first attempt reached the tracker is found by its marker and not made again.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tracker_bridge.domain import durations
from tracker_bridge.domain.tickets import Blob, EvidenceFile
from tracker_bridge.errors import UsageError

if TYPE_CHECKING:
    from tracker_bridge.workflows.observe import Request


def keep(spool_dir: Path, request: Request) -> Path:
    """Write the request to ``spool_dir/<event id>.json`` atomically; return the path."""
    spool_dir.mkdir(parents=True, exist_ok=True)
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in request.event_id)
    path = spool_dir / f"{safe}.json"
    _keep_files(request, spool_dir / f"{safe}.evidence")
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(_dump(request, f"{safe}.evidence"), indent=1), encoding="utf-8")
    os.replace(tmp, path)
    return path


def _keep_files(request: Request, folder: Path) -> None:
    """Copy each file-backed piece of evidence beside the JSON, in chunks, by content hash."""
    for item in request.evidence:
        if item.path is None:
            continue
        folder.mkdir(mode=0o700, exist_ok=True)
        kept = folder / item.sha256
        if not kept.exists():
            tmp = kept.with_suffix(".tmp")
            with tmp.open("wb") as out:
                os.chmod(tmp, 0o600)
                for chunk in item.chunks():
                    out.write(chunk)
            os.replace(tmp, kept)


def discard(path: Path) -> None:
    """Remove a spooled request and the evidence files kept with it."""
    shutil.rmtree(path.with_suffix(".evidence"), ignore_errors=True)
    path.unlink()


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
                data=base64.b64decode(e["data"]) if "data" in e else None,
                blob=_blob(path.parent, e),
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


def _blob(spool_dir: Path, entry: dict[str, Any]) -> Blob | None:
    if "file" not in entry:
        return None
    return Blob.of_file(spool_dir / entry["file"], size=entry["size"], sha256=entry["sha256"])


def pending(spool_dir: Path) -> list[Path]:
    """Spooled observations waiting for replay, oldest first."""
    if not spool_dir.is_dir():
        return []
    return sorted(spool_dir.glob("*.json"), key=lambda p: p.stat().st_mtime)


def _content(item: EvidenceFile, folder: str) -> dict[str, Any]:
    if item.path is None:
        return {"data": base64.b64encode(item.data).decode("ascii")}
    return {"file": f"{folder}/{item.sha256}", "size": item.size, "sha256": item.sha256}


def _dump(request: Request, folder: str) -> dict[str, Any]:
    return {
        "message": request.message,
        "instance": request.instance,
        "evidence": [
            {
                "name": e.name,
                **_content(e, folder),
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
