"""Check HTTP exchanges against an OpenAPI 3.0 description, so a fake cannot drift from the API.

Generic: give it a spec dict (a slice cut by ``scripts/cut_spec.py``, or a whole description) and
it checks, per exchange,

- the request: the method and path match a documented operation (``{param}`` templates), every
  query parameter is documented and has the documented type, required ones are present, and a
  JSON body validates against the operation's request schema;
- the response: the status is documented for that operation (or ``default``), and a JSON body
  validates against the schema documented for that status.

Every problem is returned as a sentence; nothing is raised, so a fake can record problems and a
test can assert there were none.

OpenAPI 3.0 schemas are JSON Schema draft 4 plus ``nullable``; ``nullable: true`` is rewritten to
allow ``null`` when the spec is loaded. Formats are not checked (the official descriptions use
formats, e.g. ``int64``, that are not JSON Schema formats).

Leniency is explicit and per spec: a fake passes ``Leniency`` values, each replacing one node
of the description (a JSON pointer) with a reason. Use them only where the published description
is itself wrong about the API it describes, and say how in the reason.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import jsonschema
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

_METHODS = ("get", "put", "post", "delete", "patch", "head", "options")


@dataclass(frozen=True)
class Leniency:
    """Replace the node at ``pointer`` (JSON pointer into the spec) with ``value``, because ``why``."""

    pointer: str
    value: Any
    why: str


@dataclass(frozen=True)
class Operation:
    """One documented operation, matched from a concrete request."""

    method: str
    template: str
    pointer: str
    path_params: dict[str, str]
    spec: dict[str, Any]


def _escape_pointer(part: str) -> str:
    return part.replace("~", "~0").replace("/", "~1")


def _walk(spec: Any, pointer: str) -> Any:
    node = spec
    for raw in pointer.lstrip("/").split("/"):
        part = raw.replace("~1", "/").replace("~0", "~")
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node


def _set(spec: Any, pointer: str, value: Any) -> None:
    parent_pointer, _, last = pointer.rpartition("/")
    parent = _walk(spec, parent_pointer) if parent_pointer else spec
    key = last.replace("~1", "/").replace("~0", "~")
    if key not in parent:
        raise KeyError(f"leniency targets {pointer}, which the spec does not have")
    parent[key] = value


def _nullable(node: Any) -> Any:
    if isinstance(node, list):
        return [_nullable(x) for x in node]
    if not isinstance(node, dict):
        return node
    out = {k: _nullable(v) for k, v in node.items()}
    if out.pop("nullable", False) is True:
        if isinstance(out.get("type"), str):
            out["type"] = [out["type"], "null"]
            if "enum" in out:
                out["enum"] = [*out["enum"], None]
        else:
            out = {"anyOf": [out, {"type": "null"}]}
    return out


def _base_path(spec: Mapping[str, Any]) -> str:
    servers = spec.get("servers") or [{"url": ""}]
    url = re.sub(r"\{[^}]*\}", "host", servers[0].get("url", ""))
    return urlsplit(url).path.rstrip("/") if "://" in url else url.rstrip("/")


class SpecValidator:
    """Validates requests and responses against one OpenAPI 3.0 description."""

    def __init__(
        self,
        spec: Mapping[str, Any],
        *,
        aliases: Mapping[str, str] | None = None,
        leniencies: Iterable[Leniency] = (),
        base_path: str | None = None,
        any_operation_statuses: Iterable[int] = (),
    ) -> None:
        """``aliases`` rewrite request path prefixes before matching (e.g. a v2 API served
        under the same resources as the documented v3); ``base_path`` overrides the path of the
        first ``servers`` entry; ``any_operation_statuses`` are statuses the vendor documents for
        every operation in one place (authentication, rate limits, outages) rather than per
        operation, so they are accepted anywhere."""
        doc = copy.deepcopy(dict(spec))
        self.leniencies = tuple(leniencies)
        for leniency in self.leniencies:
            _set(doc, leniency.pointer, leniency.value)
        self.spec: dict[str, Any] = _nullable(doc)
        self.aliases = dict(aliases or {})
        self.base_path = _base_path(spec) if base_path is None else base_path
        self.any_operation_statuses = frozenset(any_operation_statuses)
        self._registry: Registry[Any] = Registry().with_resource(
            "urn:spec", Resource.from_contents(self.spec, default_specification=DRAFT4)
        )
        self._routes: list[tuple[re.Pattern[str], str, list[str]]] = []
        for template in self.spec.get("paths", {}):
            names = re.findall(r"\{([^}]+)\}", template)
            regex = re.escape(template)
            for name in names:
                regex = regex.replace(re.escape("{" + name + "}"), "([^/]+)")
            self._routes.append((re.compile(f"^{regex}$"), template, names))
        # literal paths win over templated ones, as servers route them
        self._routes.sort(key=lambda r: (r[1].count("{"), -len(r[1])))

    def _spec_path(self, path: str) -> str | None:
        for prefix, target in self.aliases.items():
            if path.startswith(prefix):
                path = target + path[len(prefix) :]
                break
        if self.base_path:
            if not path.startswith(self.base_path + "/"):
                return None
            path = path[len(self.base_path) :]
        return path

    def match(self, method: str, path: str) -> Operation | None:
        """The documented operation for a request, or None."""
        spec_path = self._spec_path(path)
        if spec_path is None:
            return None
        for regex, template, names in self._routes:
            found = regex.match(spec_path)
            if not found:
                continue
            item = self.spec["paths"][template]
            op = item.get(method.lower())
            if op is None:
                continue
            return Operation(
                method=method.lower(),
                template=template,
                pointer=f"/paths/{_escape_pointer(template)}/{method.lower()}",
                path_params=dict(zip(names, found.groups(), strict=True)),
                spec=op,
            )
        return None

    def _schema_problems(self, pointer: str, instance: Any, what: str) -> list[str]:
        validator = jsonschema.Draft4Validator(
            {"$ref": f"urn:spec#{pointer}"}, registry=self._registry
        )
        problems = []
        for error in sorted(validator.iter_errors(instance), key=lambda e: list(e.path)):
            where = "/".join(str(p) for p in error.absolute_path) or "(root)"
            problems.append(f"{what}: at {where}: {error.message[:300]}")
        return problems

    def _parameters(self, op: Operation) -> list[dict[str, Any]]:
        item = self.spec["paths"][op.template]
        params = [*item.get("parameters", []), *op.spec.get("parameters", [])]
        resolved = []
        for param in params:
            resolved.append(_walk(self.spec, param["$ref"][1:]) if "$ref" in param else param)
        return resolved

    def check_request(
        self,
        method: str,
        path: str,
        query: Mapping[str, Sequence[str]],
        content_type: str,
        body: bytes,
    ) -> list[str]:
        """Problems with a request; empty when it is what the API documents."""
        op = self.match(method, path)
        if op is None:
            return [f"{method} {path}: no such operation in the description"]
        where = f"{method} {op.template}"
        problems: list[str] = []
        params = {p["name"]: p for p in self._parameters(op) if p.get("in") == "query"}
        for name, values in query.items():
            param = params.get(name)
            if param is None:
                problems.append(f"{where}: undocumented query parameter {name!r}")
                continue
            schema = param.get("schema", {})
            for value in values:
                problems.extend(_query_type_problems(where, name, value, schema))
        for name, param in params.items():
            if param.get("required") and name not in query:
                problems.append(f"{where}: missing required query parameter {name!r}")
        body_spec = op.spec.get("requestBody")
        media = content_type.split(";", maxsplit=1)[0].strip().lower()
        if body_spec is None:
            if body:
                problems.append(f"{where}: sends a body the operation does not take")
            return problems
        if not body:
            if body_spec.get("required"):
                problems.append(f"{where}: missing required request body")
            return problems
        content = body_spec.get("content", {})
        if media not in content:
            problems.append(f"{where}: content type {media!r} not in {sorted(content)}")
            return problems
        if media == "application/json":
            try:
                instance = json.loads(body)
            except ValueError as exc:
                return [*problems, f"{where}: request body is not JSON ({exc})"]
            pointer = f"{op.pointer}/requestBody/content/application~1json/schema"
            problems.extend(self._schema_problems(pointer, instance, f"{where} request"))
        return problems

    def check_response(
        self, method: str, path: str, status: int, content_type: str, body: bytes
    ) -> list[str]:
        """Problems with a response; empty when it is what the API documents."""
        op = self.match(method, path)
        if op is None:
            return []  # the request was already reported
        where = f"{method} {op.template} -> {status}"
        responses = op.spec.get("responses", {})
        key = str(status) if str(status) in responses else "default"
        if key not in responses and status in self.any_operation_statuses:
            return []
        if key not in responses:
            return [f"{where}: status not documented (documented: {sorted(responses)})"]
        content = responses[key].get("content", {})
        media = content_type.split(";", maxsplit=1)[0].strip().lower()
        schema_holder = content.get("application/json")
        if media != "application/json" or not body or not schema_holder:
            return []
        if not schema_holder.get("schema"):
            return []
        try:
            instance = json.loads(body)
        except ValueError as exc:
            return [f"{where}: response body is not JSON ({exc})"]
        pointer = f"{op.pointer}/responses/{key}/content/application~1json/schema"
        return self._schema_problems(pointer, instance, f"{where} response")


def _query_type_problems(where: str, name: str, value: str, schema: Mapping[str, Any]) -> list[str]:
    kind = schema.get("type")
    if kind == "integer" and not re.fullmatch(r"-?\d+", value):
        return [f"{where}: query {name}={value!r} is not an integer"]
    if kind == "boolean" and value not in ("true", "false"):
        return [f"{where}: query {name}={value!r} is not a boolean"]
    if kind == "string" and "enum" in schema and value not in schema["enum"]:
        return [f"{where}: query {name}={value!r} not one of {schema['enum']}"]
    return []


def load_spec(path: str | Any) -> dict[str, Any]:
    """Read a JSON spec (slice) from a path."""
    from pathlib import Path

    data: dict[str, Any] = json.loads(Path(path).read_text(encoding="utf-8"))
    return data
