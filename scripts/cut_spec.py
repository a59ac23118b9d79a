"""Cut the slices of the official Jira OpenAPI descriptions that the fake Jira is checked against.

The full descriptions (2.4 MB and 1.2 MB) live in ``../shared/specs``; the tests need a few dozen
operations. This keeps those operations and every component schema they reach, unchanged, and
writes them sorted so the committed output is reproducible::

    python scripts/cut_spec.py [--specs ../shared/specs] [--out tests/specs] [--check]

``--check`` exits 1 when the committed slices differ from what the script produces.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from spec_refs import refs  # sibling module: scripts/ is on sys.path when run

ROOT = Path(__file__).resolve().parent.parent

CLOUD_OPERATIONS = {
    "/rest/api/3/serverInfo": ["get"],
    "/rest/api/3/myself": ["get"],
    "/rest/api/3/field": ["get"],
    "/rest/api/3/project/{projectIdOrKey}": ["get"],
    "/rest/api/3/issueLinkType": ["get"],
    "/rest/api/3/issueLink": ["post"],
    "/rest/api/3/issueLink/{linkId}": ["delete"],
    "/rest/api/3/mypermissions": ["get"],
    "/rest/api/3/attachment/meta": ["get"],
    "/rest/api/3/attachment/content/{id}": ["get"],
    "/rest/api/3/attachment/{id}": ["delete"],
    "/rest/api/3/issue": ["post"],
    "/rest/api/3/issue/createmeta/{projectIdOrKey}/issuetypes/{issueTypeId}": ["get"],
    "/rest/api/3/issue/{issueIdOrKey}": ["get", "put"],
    "/rest/api/3/issue/{issueIdOrKey}/transitions": ["get", "post"],
    "/rest/api/3/issue/{issueIdOrKey}/comment": ["get", "post"],
    "/rest/api/3/issue/{issueIdOrKey}/attachments": ["post"],
    "/rest/api/3/issue/{issueIdOrKey}/remotelink": ["get", "post"],
    "/rest/api/3/search/jql": ["get", "post"],
}

DC_OPERATIONS = {
    "/api/2/serverInfo": ["get"],
    "/api/2/myself": ["get"],
    "/api/2/field": ["get"],
    "/api/2/project/{projectIdOrKey}": ["get"],
    "/api/2/issueLinkType": ["get"],
    "/api/2/issueLink": ["post"],
    "/api/2/issueLink/{linkId}": ["delete"],
    "/api/2/mypermissions": ["get"],
    "/api/2/attachment/meta": ["get"],
    "/api/2/attachment/{id}": ["delete"],
    "/api/2/issue": ["post"],
    "/api/2/issue/createmeta/{projectIdOrKey}/issuetypes/{issueTypeId}": ["get"],
    "/api/2/issue/{issueIdOrKey}": ["get", "put"],
    "/api/2/issue/{issueIdOrKey}/transitions": ["get", "post"],
    "/api/2/issue/{issueIdOrKey}/comment": ["get", "post"],
    "/api/2/issue/{issueIdOrKey}/attachments": ["post"],
    "/api/2/issue/{issueIdOrKey}/remotelink": ["get", "post"],
    "/api/2/search": ["get", "post"],
}

SLICES = {
    "jira-cloud.slice.json": ("jira-cloud-platform-v3.openapi.json", CLOUD_OPERATIONS),
    "jira-dc.slice.json": ("jira-dc-10.3.openapi.json", DC_OPERATIONS),
}


def _resolve(spec: dict[str, Any], ref: str) -> Any:
    if not ref.startswith("#/"):
        raise ValueError(f"external reference {ref} is not supported")
    node: Any = spec
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def cut(spec: dict[str, Any], operations: dict[str, list[str]]) -> dict[str, Any]:
    """The spec restricted to ``operations`` and the components they reference, transitively."""
    paths: dict[str, Any] = {}
    for path, methods in operations.items():
        item = spec["paths"][path]
        kept = {m: item[m] for m in methods}
        if "parameters" in item:
            kept["parameters"] = item["parameters"]
        paths[path] = kept
    components: dict[str, dict[str, Any]] = {}
    pending = sorted(refs(paths))
    seen: set[str] = set()
    while pending:
        ref = pending.pop()
        if ref in seen:
            continue
        seen.add(ref)
        _, _, section, name = ref.split("/", 3)
        target = _resolve(spec, ref)
        components.setdefault(section, {})[name] = target
        pending.extend(sorted(refs(target) - seen))
    return {
        "openapi": spec["openapi"],
        "info": {
            "title": spec["info"]["title"],
            "version": spec["info"]["version"],
            "x-sliced-by": "scripts/cut_spec.py",
        },
        "servers": spec.get("servers", []),
        "paths": paths,
        "components": components,
    }


def render(slice_: dict[str, Any]) -> str:
    return json.dumps(slice_, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--specs", type=Path, default=ROOT.parent / "shared" / "specs")
    parser.add_argument("--out", type=Path, default=ROOT / "tests" / "specs")
    parser.add_argument("--check", action="store_true", help="compare, do not write")
    args = parser.parse_args(argv)
    stale = []
    for out_name, (source, operations) in SLICES.items():
        spec = json.loads((args.specs / source).read_text(encoding="utf-8"))
        text = render(cut(spec, operations))
        target = args.out / out_name
        if args.check:
            if not target.is_file() or target.read_text(encoding="utf-8") != text:
                stale.append(str(target))
        else:
            target.write_text(text, encoding="utf-8")
            print(f"wrote {target} ({len(text):,} bytes)")
    if stale:
        print("out of date: " + ", ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
