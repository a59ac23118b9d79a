"""Ticket templates: Jinja2 in a sandbox, undefined variables are errors.

A template defines two blocks, ``title`` and ``body``. User templates in ``templates_dir``
override the shipped ones by name (``remediation`` -> ``remediation.md.j2``). Errors name the
template and the line.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from tracker_bridge.errors import TemplateError, UsageError

SUFFIX = ".md.j2"


def parse_vars(items: Iterable[str]) -> dict[str, str]:
    """Template variables from ``KEY=VALUE`` strings (``--var``); ``UsageError`` otherwise."""
    pairs = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"--var {item!r} is not KEY=VALUE.")
        pairs[key.strip()] = value
    return pairs


def render(
    name: str,
    context: dict[str, Any],
    user_dir: Path | None = None,
    escape: Callable[[str], str] | None = None,
) -> tuple[str, str]:
    """Render template ``name`` to (title, body).

    ``escape`` is applied to every string a ``{{ ... }}`` puts into the body (the target
    tracker's markup: data must not become structure); the title is one line of plain text.
    """
    import jinja2
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    loaders: list[jinja2.BaseLoader] = []
    if user_dir is not None:
        loaders.append(jinja2.FileSystemLoader(str(user_dir)))
    loaders.append(jinja2.PackageLoader("tracker_bridge", "templates"))
    env = ImmutableSandboxedEnvironment(
        loader=jinja2.ChoiceLoader(loaders),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    plain_env = env
    if escape is not None:
        esc = escape
        env = env.overlay(finalize=lambda value: esc(value) if isinstance(value, str) else value)
    filename = name + SUFFIX
    template: jinja2.Template | None = None
    try:
        template = env.get_template(filename)
        missing = {"title", "body"} - set(template.blocks)
        if missing:
            raise TemplateError(
                f"template {filename} has no {' or '.join(sorted(missing))} block.",
                hint="Define {% block title %}...{% endblock %} and {% block body %}...{% endblock %}.",
            )
        ctx = template.new_context(context)
        titled = plain_env.get_template(filename)
        title = "".join(titled.blocks["title"](titled.new_context(context))).strip()
        body = "".join(template.blocks["body"](ctx)).strip() + "\n"
    except TemplateError:
        raise
    except jinja2.TemplateNotFound:
        where = f"{user_dir} or the shipped templates" if user_dir else "the shipped templates"
        raise TemplateError(f"no template {filename!r} in {where}.") from None
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(
            f"template {exc.filename or filename} line {exc.lineno}: {exc.message}."
        ) from None
    except jinja2.UndefinedError as exc:
        line = _line_of(exc, template)
        at = f" line {line}" if line else ""
        raise TemplateError(
            f"template {filename}{at}: {exc.message}.", hint=_undefined_hint(exc)
        ) from None
    except jinja2.exceptions.SecurityError as exc:
        raise TemplateError(f"template {filename}: not allowed in the sandbox: {exc}.") from None
    except RecursionError:
        raise TemplateError(
            f"template {filename} includes, imports or extends itself without end.",
            hint="Remove the include (or extends) that leads back to it.",
        ) from None
    except Exception as exc:  # a user's template is code: 1/0, a bad filter argument, ...
        line = _line_of(exc, template)
        at = f" line {line}" if line else ""
        raise TemplateError(
            f"template {filename}{at}: {type(exc).__name__}: {exc}.",
            hint="Fix the expression on that line of the template.",
        ) from None
    if not title:
        raise TemplateError(f"template {filename} rendered an empty title.")
    return title, body


def _line_of(exc: BaseException, template: Any) -> int | None:
    """The template line an error happened on (blocks run outside Jinja's traceback rewriting)."""
    if template is None:
        return None
    tb = exc.__traceback__
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == template.filename:
            line = template.get_corresponding_lineno(tb.tb_lineno)
        tb = tb.tb_next
    return line


def _undefined_hint(exc: Exception) -> str:
    """What to do about an undefined value: ``--var`` values live under ``vars.`` in templates."""
    import re

    text = str(getattr(exc, "message", "") or "")
    attribute = re.search(r"has no attribute '([^']+)'", text)
    if attribute is not None:
        name = attribute.group(1)
        return f"Pass it with --var {name}=VALUE, or guard it with `| default(...)`."
    bare = re.search(r"'([^']+)' is undefined", text)
    if bare is not None:
        name = bare.group(1)
        return (
            f"--var values are read as vars.NAME: write {{{{ vars.{name} }}}} in the template "
            f"and pass --var {name}=VALUE, or guard it with `| default(...)`."
        )
    return "Values given with --var KEY=VALUE are read as vars.KEY; or use `| default(...)`."
