"""Shared by the spec-cutting scripts: which ``$ref`` targets a piece of an OpenAPI spec uses."""

from __future__ import annotations

from typing import Any


def refs(node: Any) -> set[str]:
    """Every ``$ref`` string anywhere under ``node``."""
    found: set[str] = set()
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            found.add(ref)
        for value in node.values():
            found |= refs(value)
    elif isinstance(node, list):
        for item in node:
            found |= refs(item)
    return found
