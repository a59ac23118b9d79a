"""Per-source mapping from an alert's data to a sighting, as small sandboxed Jinja2 expressions.

Expressions run in Jinja's immutable sandbox (no attribute tricks, no mutation). A missing key is
empty rather than an error, so ``annotations.summary or labels.alertname`` reads naturally. A
mapping that does not compile is a ``ConfigError`` at start-up, never a surprise per request.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from tracker_bridge.errors import AlertPayloadError, ConfigError
from tracker_bridge.settings import AlertMappingSettings


@dataclass(frozen=True)
class Defaults:
    """A source's own expressions, used where the configuration leaves one empty."""

    message: str = "annotations.summary or labels.alertname"
    instance: str = "labels.instance or labels.pod or labels.host or labels.node or 'unknown'"
    impact: str = "annotations.impact"


Expression = Callable[[Mapping[str, Any]], str]


@dataclass(frozen=True)
class AlertMapping:
    """Compiled expressions; ``event_id`` is None when the source's default applies."""

    message: Expression
    instance: Expression
    impact: Expression
    event_id: Expression | None = None

    @classmethod
    def build(
        cls, settings: AlertMappingSettings, where: str, defaults: Defaults = Defaults()
    ) -> AlertMapping:
        """Compile the configured expressions, falling back to the defaults for empty ones."""
        return cls(
            message=compile_expression(settings.message or defaults.message, f"{where} message"),
            instance=compile_expression(
                settings.instance or defaults.instance, f"{where} instance"
            ),
            impact=compile_expression(settings.impact or defaults.impact, f"{where} impact"),
            event_id=(
                compile_expression(settings.event_id, f"{where} event_id")
                if settings.event_id
                else None
            ),
        )


def compile_expression(source: str, where: str) -> Expression:
    """One Jinja2 expression, sandboxed; evaluating it gives a stripped string ('' if empty)."""
    import jinja2
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    env = ImmutableSandboxedEnvironment(undefined=jinja2.ChainableUndefined, autoescape=False)
    try:
        compiled = env.compile_expression(source, undefined_to_none=True)
    except jinja2.TemplateSyntaxError as exc:
        raise ConfigError(
            f"[serve.mapping] {where}: {source!r} is not a valid expression: {exc.message}.",
            hint="Write a Jinja2 expression such as `annotations.summary or labels.alertname`.",
        ) from None

    def evaluate(context: Mapping[str, Any]) -> str:
        try:
            value = compiled(**context)
        except jinja2.exceptions.SecurityError as exc:
            raise AlertPayloadError(
                f"mapping {where} is not allowed in the sandbox: {exc}.", status=422
            ) from None
        except (jinja2.TemplateError, TypeError, ValueError, ArithmeticError) as exc:
            raise AlertPayloadError(
                f"mapping {where} ({source!r}) failed on this alert: {exc}.", status=422
            ) from None
        if value is None or isinstance(value, jinja2.Undefined):
            return ""
        return str(value).strip()

    return evaluate
