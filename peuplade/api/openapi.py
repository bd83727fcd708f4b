"""The OpenAPI 3.1 document of /api/v1, generated from the routes themselves.

Each API view is decorated with :func:`operation`, which both parses the request
with the declared pydantic models (so the view receives ``body=`` / ``query=``)
and records them for :func:`build_spec`. The document is built from the app's
URL map: a route without an ``operation`` is a bug that the tests catch.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import Flask
from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema, models_json_schema

from peuplade.api import parsing, schemas

REF = "#/components/schemas/{model}"
_PATH_ARG = re.compile(r"<(?:(?P<converter>\w+)(?:\([^)]*\))?:)?(?P<name>\w+)>")
_CONVERTER_TYPES = {"int": {"type": "integer", "minimum": 0}, "float": {"type": "number"}}
# Error statuses shared by several operations (moderation/limits.py).
NEW_ACCOUNT_POSTS = "New account: too many posts today (NEW_ACCOUNT_POSTS_PER_DAY)"
NEW_ACCOUNT_MESSAGES = "New account: too many messages this hour (NEW_ACCOUNT_MESSAGES_PER_HOUR)"


@dataclass(frozen=True)
class Operation:
    summary: Any
    responses: dict[int, type[BaseModel] | dict[str, Any] | None]
    body: type[schemas.Body] | None = None
    query: type[BaseModel] | None = None
    # Error statuses beyond those implied by auth, body, query and path parameters.
    errors: dict[int, Any] = field(default_factory=dict)
    description: Any = None


def operation(
    summary: Any,
    *,
    responses: dict[int, type[BaseModel] | dict[str, Any] | None],
    body: type[schemas.Body] | None = None,
    query: type[BaseModel] | None = None,
    errors: dict[int, Any] | None = None,
    description: Any = None,
) -> Callable:
    """Declare an API view: its models parse the request and document it."""
    spec = Operation(summary, responses, body, query, errors or {}, description)

    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if spec.body is not None:
                kwargs["body"] = parsing.parse_body(spec.body)
            if spec.query is not None:
                kwargs["query"] = parsing.parse_query(spec.query)
            return view(*args, **kwargs)

        wrapper.api_operation = spec  # type: ignore[attr-defined]
        return wrapper

    return decorate


class RequestJsonSchema(GenerateJsonSchema):
    """Request models: ``X | None = None`` means "may be omitted"; null itself is
    refused (``schemas.Body``), so the document shows neither null nor a default."""

    def nullable_schema(self, schema):
        return self.generate_inner(schema["schema"])

    def default_schema(self, schema):
        if schema.get("default") is None:
            return self.generate_inner(schema["schema"])
        return super().default_schema(schema)


def openapi_path(rule: str) -> tuple[str, list[dict[str, Any]]]:
    """``/members/<int:member_id>`` -> ``/members/{member_id}`` and its parameters."""
    params = []
    for match in _PATH_ARG.finditer(rule):
        schema = _CONVERTER_TYPES.get(match["converter"] or "", {"type": "string"})
        params.append({"name": match["name"], "in": "path", "required": True, "schema": schema})
    return _PATH_ARG.sub(lambda m: "{" + m["name"] + "}", rule), params


def _error(description: Any) -> dict[str, Any]:
    return {
        "description": str(description),
        "content": {"application/json": {"schema": {"$ref": REF.format(model="Error")}}},
    }


def _content(schema: type[BaseModel] | dict[str, Any]) -> dict[str, Any]:
    if isinstance(schema, dict):
        return {"application/json": {"schema": schema}}
    return {"application/json": {"schema": {"$ref": REF.format(model=schema.__name__)}}}


def _query_parameters(model: type[BaseModel]) -> list[dict[str, Any]]:
    _refs, defs = models_json_schema(
        [(model, "validation")], ref_template=REF, schema_generator=RequestJsonSchema
    )
    properties = defs["$defs"][model.__name__]["properties"]
    required = set(defs["$defs"][model.__name__].get("required", []))
    return [
        {"name": name, "in": "query", "required": name in required, "schema": prop}
        for name, prop in properties.items()
    ]


def _operation_doc(op: Operation, public: bool, path_params: list[dict[str, Any]]) -> dict:
    responses: dict[str, Any] = {}
    for status, model in op.responses.items():
        entry: dict[str, Any] = {"description": "OK" if status < 300 else str(status)}
        if model is not None:
            entry["content"] = _content(model)
        responses[str(status)] = entry
    implied: dict[int, str] = {}
    if op.body is not None:
        implied[400] = "Malformed JSON, wrong Content-Type, or a body that is not an object"
        implied[413] = "Body larger than 1 MiB"
        implied[422] = "Validation failed: `fields` maps each field to a message"
    if op.query is not None:
        implied[422] = "Validation failed: `fields` maps each parameter to a message"
        if "cursor" in op.query.model_fields:
            forged = "A `cursor` that is not a `next_cursor` of this list (`fields.cursor`)"
            implied[400] = (
                f"{implied[400]}; or {forged[0].lower()}{forged[1:]}" if 400 in implied else forged
            )
    if path_params:
        implied[404] = "Absent, or outside your neighbourhood"
    if not public:
        implied[401] = "Missing, invalid, expired or revoked token"
        implied[429] = "Too many calls with this token (API_RATE_LIMIT): wait `Retry-After` s"
    for status, description in sorted({**implied, **op.errors}.items()):
        responses[str(status)] = _error(description)
    doc: dict[str, Any] = {"summary": str(op.summary), "responses": responses}
    if op.description:
        doc["description"] = str(op.description)
    if public:
        doc["security"] = []
    parameters = list(path_params)
    if op.query is not None:
        parameters += _query_parameters(op.query)
    if parameters:
        doc["parameters"] = parameters
    if op.body is not None:
        doc["requestBody"] = {"required": True, "content": _content(op.body)}
    return doc


def api_rules(app: Flask):
    """The URL rules of the API blueprint, in a stable order."""
    return sorted(
        (r for r in app.url_map.iter_rules() if r.endpoint.startswith("api.")),
        key=lambda r: (r.rule, r.endpoint),
    )


def documented_methods(methods: set[str] | None) -> list[str]:
    return sorted((methods or set()) - {"HEAD", "OPTIONS"})


def build_spec(app: Flask) -> dict[str, Any]:
    """The OpenAPI 3.1 document for every route of the API blueprint."""
    paths: dict[str, dict[str, Any]] = {}
    # The error's optional keys are absent rather than null: documented like inputs.
    inputs: set[type[BaseModel]] = {schemas.ErrorOut}
    outputs: set[type[BaseModel]] = set()
    for rule in api_rules(app):
        view = app.view_functions[rule.endpoint]
        op: Operation | None = getattr(view, "api_operation", None)
        if op is None:
            raise RuntimeError(f"API view {rule.endpoint} has no @operation")
        path, params = openapi_path(rule.rule)
        for method in documented_methods(rule.methods):
            doc = _operation_doc(op, getattr(view, "peuplade_public", False), params)
            doc["operationId"] = rule.endpoint.removeprefix("api.") + (
                "" if len(documented_methods(rule.methods)) == 1 else "_" + method.lower()
            )
            paths.setdefault(path, {})[method.lower()] = doc
        if op.body is not None:
            inputs.add(op.body)
        outputs.update(m for m in op.responses.values() if isinstance(m, type))

    components = _component_schemas(inputs, outputs)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Peuplade API",
            "version": "1",
            "description": "Entraide entre voisins. Erreurs : "
            '{"error": {"code", "message", "fields"}}. Listes : '
            '{"items": [...], "next_cursor": ...}.',
        },
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearer": []}],
    }


def _component_schemas(
    inputs: set[type[BaseModel]], outputs: set[type[BaseModel]]
) -> dict[str, Any]:
    by_name = lambda models: sorted(models, key=lambda m: m.__name__)  # noqa: E731
    _refs, in_defs = models_json_schema(
        [(m, "validation") for m in by_name(inputs)],
        ref_template=REF,
        schema_generator=RequestJsonSchema,
    )
    _refs, out_defs = models_json_schema(
        [(m, "serialization") for m in by_name(outputs)], ref_template=REF
    )
    components = {**in_defs.get("$defs", {}), **out_defs.get("$defs", {})}
    components["Error"] = components.pop("ErrorOut")
    return dict(sorted(components.items()))
