"""Cut the slice of GitHub's REST OpenAPI description that the GitHub fake serves.

Usage: python scripts/cut_github_spec.py [SPEC] [OUTPUT]

Defaults: ``/work/shared/specs/github-rest.openapi.json.gz`` (``@octokit/openapi`` 23.0.2) and
``tests/specs/github.slice.json``. Keeps only the operations in ``OPERATIONS`` and every component
they reference (transitively); drops examples and descriptions, which validation does not need.
The output is committed; the fake validates each request and response against it.
"""

from __future__ import annotations

import gzip
import json
import sys
from pathlib import Path
from typing import Any

from spec_refs import refs  # sibling module: scripts/ is on sys.path when run

DEFAULT_SPEC = Path("/work/shared/specs/github-rest.openapi.json.gz")
DEFAULT_OUTPUT = Path(__file__).resolve().parent.parent / "tests" / "specs" / "github.slice.json"

OPERATIONS: dict[str, tuple[str, ...]] = {
    "/user": ("get",),
    "/repos/{owner}/{repo}": ("get",),
    "/repos/{owner}/{repo}/issues": ("get", "post"),
    "/repos/{owner}/{repo}/issues/{issue_number}": ("get", "patch"),
    "/repos/{owner}/{repo}/issues/{issue_number}/comments": ("get", "post"),
    "/repos/{owner}/{repo}/issues/{issue_number}/labels": ("post",),
    "/repos/{owner}/{repo}/issues/{issue_number}/labels/{name}": ("delete",),
    "/repos/{owner}/{repo}/issues/{issue_number}/sub_issue": ("delete",),
    "/repos/{owner}/{repo}/issues/{issue_number}/sub_issues": ("get", "post"),
    "/repos/{owner}/{repo}/issues/{issue_number}/parent": ("get",),
    "/repos/{owner}/{repo}/labels": ("post",),
    "/repos/{owner}/{repo}/labels/{name}": ("get", "patch"),
    "/repos/{owner}/{repo}/issue-types": ("get",),
    "/repos/{owner}/{repo}/contents/{path}": ("get", "put"),
    "/repos/{owner}/{repo}/git/blobs/{file_sha}": ("get",),
    "/repos/{owner}/{repo}/git/ref/{ref}": ("get",),
    "/repos/{owner}/{repo}/git/refs": ("post",),
}

_DROP = {"examples", "example", "description", "summary", "externalDocs", "x-github"}


def _strip(node: Any, *, names: bool = False) -> Any:
    """Drop documentation keys; inside ``properties`` the keys are field names and all stay."""
    if isinstance(node, dict):
        return {
            key: _strip(value, names=key == "properties" and not names)
            for key, value in node.items()
            if names or key not in _DROP
        }
    if isinstance(node, list):
        return [_strip(item) for item in node]
    return node


def cut(spec: dict[str, Any]) -> dict[str, Any]:
    """The sliced spec: selected operations plus their transitive component references."""
    paths: dict[str, Any] = {}
    for path, methods in OPERATIONS.items():
        item = spec["paths"][path]
        paths[path] = {m: _strip(item[m]) for m in methods}
        if "parameters" in item:
            paths[path]["parameters"] = _strip(item["parameters"])
    components: dict[str, dict[str, Any]] = {}
    pending = refs(paths)
    seen: set[str] = set()
    while pending:
        ref = pending.pop()
        if ref in seen:
            continue
        seen.add(ref)
        _, _, section, name = ref.split("/", 3)
        value = _strip(spec["components"][section][name])
        components.setdefault(section, {})[name] = value
        pending |= refs(value) - seen
    return {
        "openapi": spec["openapi"],
        "info": {
            "title": spec["info"]["title"] + " (slice for tracker-bridge tests)",
            "version": spec["info"]["version"],
        },
        "paths": paths,
        "components": {k: dict(sorted(v.items())) for k, v in sorted(components.items())},
    }


def main(argv: list[str]) -> int:
    """``cut_github_spec.py [SOURCE [OUTPUT]] [--check]``: write the slice, or with ``--check``
    exit 1 when the committed slice differs from what the full spec yields."""
    check = "--check" in argv
    args = [a for a in argv[1:] if a != "--check"]
    source = Path(args[0]) if args else DEFAULT_SPEC
    output = Path(args[1]) if len(args) > 1 else DEFAULT_OUTPUT
    opener = gzip.open if source.suffix == ".gz" else open
    with opener(source, "rt", encoding="utf-8") as fh:
        spec = json.load(fh)
    text = json.dumps(cut(spec), indent=1, sort_keys=True) + "\n"
    if check:
        same = output.is_file() and output.read_text(encoding="utf-8") == text
        print(f"{output}: {'reproducible' if same else 'DIFFERS from the cut of ' + str(source)}")
        return 0 if same else 1
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text, encoding="utf-8")
    print(f"wrote {output} ({len(OPERATIONS)} paths)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
