"""A team remediation can be delegated to, as the workflows see it (no tracker settings)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Team:
    """What a delegated ticket carries for ``name``: their issue type, labels, fields, template."""

    name: str
    project: str = ""
    """Their project key, or ``owner/name`` repository on GitHub."""
    issue_type: str = "Task"
    template: str = "remediation"
    labels: tuple[str, ...] = ()
    components: tuple[str, ...] = ()
    fields: tuple[tuple[str, Any], ...] = field(default=())
