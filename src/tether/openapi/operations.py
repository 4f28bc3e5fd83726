"""One OpenAPI operation per (route, method): parameters, request body, responses, security.

Everything is read from what the route compiled at registration: the dependency tree of its
:class:`~tether.dependencies.EndpointPlan` (each node keeps the markers of its request
parameters), its response model and its documentation options. Request parameters of shared
dependencies are listed once; a dependency whose callable has ``model`` and ``scheme_name``
attributes (the security schemes of :mod:`tether.security`) adds a security requirement with
the scopes collected on the way down, as FastAPI does.
"""

from __future__ import annotations

import copy
import http.client
import inspect
import typing
from collections.abc import Iterator
from typing import Any

from tether.applications.responses import body_allowed, resolve
from tether.dependencies.convert import is_model_type, shape_of
from tether.dependencies.forms import form_models
from tether.openapi.schemas import REF_PREFIX, SchemaRegistry, deep_update
from tether.responses import JSONResponse
from tether.streams.responses import JSONLinesResponse

__all__ = ["Collected", "collect", "operations"]

METHODS_WITH_BODY = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH"})
_RANGES = {
    "1XX": "Information",
    "2XX": "Success",
    "3XX": "Redirection",
    "4XX": "Client Error",
    "5XX": "Server Error",
    "DEFAULT": "Default Response",
}

VALIDATION_ERROR = {
    "title": "ValidationError",
    "type": "object",
    "properties": {
        "loc": {
            "title": "Location",
            "type": "array",
            "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
        },
        "msg": {"title": "Message", "type": "string"},
        "type": {"title": "Error Type", "type": "string"},
        "input": {"title": "Input"},
        "ctx": {"title": "Context", "type": "object"},
    },
    "required": ["loc", "msg", "type"],
}
HTTP_VALIDATION_ERROR = {
    "title": "HTTPValidationError",
    "type": "object",
    "properties": {
        "detail": {
            "title": "Detail",
            "type": "array",
            "items": {"$ref": REF_PREFIX + "ValidationError"},
        }
    },
}


class Collected:
    """The request parameters, body fields and security schemes of one route's tree."""

    def __init__(self) -> None:
        self.params: list[tuple[str, Any]] = []  # (location, Field)
        self.body: list[Any] = []
        self.security: dict[str, tuple[Any, list[str]]] = {}
        # Parameters left out of the document (include_in_schema=False) still validate, so
        # the operation still answers 422 (as in FastAPI).
        self.hidden = 0


def _walk(node: Any, seen: set[Any]) -> Iterator[Any]:
    key = (id(node.call), node.scopes)
    if key in seen:
        return
    seen.add(key)
    yield node
    for _, sub in node.subs:
        yield from _walk(sub, seen)


def collect(root: Any) -> Collected:
    """Walk a compiled dependency tree (endpoint first, then dependencies in order)."""
    found = Collected()
    for node in _walk(root, set()):
        for field in node.fields:
            if field.info.source == "body" or field.info.source in ("form", "file"):
                found.body.append(field)
            elif getattr(field.info, "include_in_schema", True):
                found.params.append((field.info.source, field))
            else:
                found.hidden += 1
        scheme = node.call
        if node is not root and hasattr(scheme, "model") and hasattr(scheme, "scheme_name"):
            _, scopes = found.security.setdefault(scheme.scheme_name, (scheme, []))
            scopes.extend(s for s in node.scopes if s not in scopes)
    return found


def _model_dict(model: Any) -> Any:
    if hasattr(model, "model_dump"):
        return model.model_dump(mode="json", by_alias=True, exclude_none=True)
    return {key: value for key, value in dict(model).items() if value is not None}


def _plain_alias(alias: Any) -> str | None:
    return alias if isinstance(alias, str) else None


def _param_name(location: str, field: Any) -> str:
    info = field.info
    named = _plain_alias(getattr(info, "validation_alias", None)) or info.alias
    if named:
        return str(named)
    if location == "header" and getattr(info, "convert_underscores", True):
        return str(field.name.replace("_", "-"))
    return str(field.name)


def _documented_type(info: Any) -> Any:
    """A model field's type with its constraints, default and docs, without its aliases
    (pydantic warns that an alias means nothing outside a model)."""
    import pydantic

    kw: dict[str, Any] = {}
    if info.default_factory is not None:
        kw["default_factory"] = info.default_factory
    elif not info.is_required():
        kw["default"] = info.default
    for key in ("title", "description", "examples", "json_schema_extra"):
        if getattr(info, key, None) is not None:
            kw[key] = getattr(info, key)
    return typing.Annotated[(info.annotation, *info.metadata, pydantic.Field(**kw))]


def _model_parameters(
    location: str, field: Any, schemas: SchemaRegistry
) -> list[dict[str, Any]] | None:
    """One parameter per field of a parameter model (``Annotated[Filters, Query()]``), as
    FastAPI documents it; ``None`` for a parameter that is not a model."""
    model = shape_of(field.annotation).inner
    fields = getattr(model, "model_fields", None)
    if location == "path" or not is_model_type(model) or not isinstance(fields, dict):
        return None
    convert = location == "header" and getattr(field.info, "convert_underscores", True)
    result: list[dict[str, Any]] = []
    # An optional model (Annotated[Filters | None, Query()] = None) requires none of its fields.
    optional = not field.info.required
    for python_name, info in fields.items():
        # The name read from the request (validation alias, alias, name), as FastAPI lists it.
        key = _plain_alias(info.validation_alias) or info.alias or python_name
        name = python_name.replace("_", "-") if convert and key == python_name else key
        title = info.title or key.title().replace("_", " ")
        schema = schemas.schema(_documented_type(info), title=title)
        required = info.is_required() and not optional
        item = {"name": name, "in": location, "required": required, "schema": schema}
        if info.description:
            item["description"] = info.description
        if info.deprecated:
            item["deprecated"] = True
        result.append(item)
    return result


def _field_description(annotation: Any) -> str | None:
    """The description of a pydantic ``Field()`` in ``Annotated`` metadata (FastAPI reads a
    parameter's docs from it as from ``Query()``)."""
    if typing.get_origin(annotation) is not typing.Annotated:
        return None
    for meta in reversed(typing.get_args(annotation)[1:]):
        description = getattr(meta, "description", None)
        if isinstance(description, str) and type(meta).__name__ == "FieldInfo":
            return description
    return None


def _parameters(found: Collected, schemas: SchemaRegistry) -> list[dict[str, Any]]:
    result: dict[tuple[str, str], dict[str, Any]] = {}
    order = {"path": 0, "query": 1, "header": 2, "cookie": 3}
    for location, field in sorted(found.params, key=lambda item: order.get(item[0], 4)):
        expanded = _model_parameters(location, field, schemas)
        if expanded is not None:
            for documented in expanded:
                # A name two models share is documented as required if either requires it.
                shared = (location, documented["name"])
                if documented["required"] or shared not in result:
                    result[shared] = documented
            continue
        name = _param_name(location, field)
        info = field.info
        parameter: dict[str, Any] = {
            "name": name,
            "in": location,
            "required": location == "path" or info.required,
            "schema": schemas.field(field.annotation, info, name),
        }
        description = info.description or _field_description(field.annotation)
        if description:
            parameter["description"] = description
        openapi_examples = getattr(info, "openapi_examples", None)
        if openapi_examples:
            parameter["examples"] = openapi_examples
        if info.deprecated:
            parameter["deprecated"] = True
        if parameter["required"] or (location, name) not in result:
            result[(location, name)] = parameter
    return list(result.values())


def _request_body(route: Any, found: Collected, schemas: SchemaRegistry) -> Any:
    if not found.body:
        return None
    media_type = getattr(found.body[0].info, "media_type", "application/json")
    if any(field.info.source == "file" for field in found.body):
        media_type = "multipart/form-data"  # one file makes the whole form multipart
    required = any(field.info.required for field in found.body)
    embed = route.plan.body_embedded or media_type != "application/json"
    if len(found.body) == 1 and found.body[0].info.source == "form":
        embed = not form_models(found.body[0].annotation)  # a form model (or union) is the body
    if not embed:
        field = found.body[0]
        schema = schemas.field(field.annotation, field.info, field.info.alias or field.name)
    else:
        schema = schemas.schema(_body_model(route.unique_id, found.body))
    content: dict[str, Any] = {"schema": schema}
    named = getattr(found.body[0].info, "openapi_examples", None)
    if named and not embed:
        content["examples"] = named
    body: dict[str, Any] = {"content": {media_type: content}}
    if required:
        body = {"required": True, **body}
    return body


def _body_model(unique_id: str, fields: list[Any]) -> Any:
    """FastAPI's ``Body_<operation id>`` model for several (or embedded) body parameters."""
    import pydantic

    from tether.openapi.schemas import field_info

    definitions: dict[str, Any] = {}
    composed: list[str] = []  # form models beside other form fields: they read the whole form
    for field in fields:
        info = field_info(field.info)
        key = _plain_alias(field.info.validation_alias) or field.info.alias or field.name
        info.title = field.info.title or key.replace("_", " ").title()
        definitions[key] = (field.annotation, info)
        if field.info.source == "form" and len(form_models(field.annotation)) == 1:
            composed.append(key)
    if not composed:
        return pydantic.create_model(f"Body_{unique_id}", **definitions)
    return pydantic.create_model(
        f"Body_{unique_id}", __base__=_composed_base(composed), **definitions
    )


def _composed_base(composed: list[str]) -> Any:
    """A base whose schema lists the form models as ``allOf`` references, as FastAPI does.

    The models' fields are sent at the top level of the form, so they are not properties of
    the body: each model's property (a reference, or ``anyOf`` with null for an optional
    model) moves into ``allOf`` and out of ``required``.
    """
    import pydantic

    class Composed(pydantic.BaseModel):
        @classmethod
        def __get_pydantic_json_schema__(cls, core_schema: Any, handler: Any) -> Any:
            schema = handler(core_schema)
            target = handler.resolve_ref_schema(schema)
            properties = target.get("properties", {})
            parts = []
            for key in composed:
                part = properties.pop(key, None)
                if part is None:
                    continue
                refs = [item for item in part.get("anyOf", [part]) if "$ref" in item]
                parts.append({"$ref": refs[0]["$ref"]} if refs else part)
            required = [key for key in target.get("required", []) if key not in composed]
            if required:
                target["required"] = required
            else:
                target.pop("required", None)
            if not properties:
                target.pop("properties", None)
            target["allOf"] = parts
            return schema

    return Composed


def _status_code(route: Any, response_class: type) -> str:
    if route.status_code is not None:
        return str(route.status_code)
    init = response_class.__init__  # type: ignore[misc]
    parameter = inspect.signature(init).parameters.get("status_code")
    default = parameter.default if parameter is not None else 200
    return str(default if isinstance(default, int) else 200)


def _yields(endpoint: Any) -> bool:
    return inspect.isasyncgenfunction(endpoint) or inspect.isgeneratorfunction(endpoint)


def _main_response(
    route: Any, response_class: type, schemas: SchemaRegistry
) -> tuple[str, dict[str, Any]]:

    status = _status_code(route, response_class)
    response: dict[str, Any] = {"description": route.response_description}
    media_type = getattr(response_class, "media_type", None)
    document = getattr(response_class, "openapi_response", None)  # streaming classes
    if document is None and response_class is JSONResponse and _yields(route.endpoint):
        document = JSONLinesResponse.openapi_response  # a generator streams JSON lines
    if document is not None and body_allowed(route.status_code):
        response.update(document(route, schemas))
    elif media_type and body_allowed(route.status_code):
        schema: dict[str, Any] = {"type": "string"}
        if issubclass(response_class, JSONResponse):
            model = route.response_model
            title = f"Response_{route.unique_id}".title().replace("_", " ")
            schema = {} if model is None else schemas.schema(model, "serialization", title=title)
        response["content"] = {media_type: {"schema": schema}}
    return status, response


def _extra_responses(
    route: Any, response_class: type, responses: dict[str, Any], schemas: SchemaRegistry
) -> None:
    media_type = getattr(response_class, "media_type", None) or "application/json"
    for code, given in route.responses.items():
        extra = copy.deepcopy(given)
        model = extra.pop("model", None)
        key = str(code).upper()
        key = "default" if key == "DEFAULT" else key
        target = responses.setdefault(key, {})
        status_text = _RANGES.get(str(code).upper())
        if status_text is None and str(code).isdigit():
            status_text = http.client.responses.get(int(code))
        description = (
            extra.get("description") or target.get("description") or status_text
        ) or "Additional Response"
        deep_update(target, extra)
        target["description"] = description
        if model is not None:
            title = f"Response_{code}_{route.unique_id}".title().replace("_", " ")
            content = target.setdefault("content", {}).setdefault(media_type, {})
            hole = content.setdefault("schema", {})
            schemas.schema(model, "serialization", title=title, into=hole)


def operations(
    route: Any, schemas: SchemaRegistry, operation_ids: set[str]
) -> tuple[dict[str, Any], dict[str, Any], bool]:
    """``({method: operation}, security schemes, needs the validation error schemas)``."""
    response_class = resolve(route.response_class)
    found = collect(route.plan.root)
    result: dict[str, Any] = {}
    schemes: dict[str, Any] = {}
    needs_errors = False
    for method in route.openapi_methods:
        operation = _metadata(route, operation_ids)
        if found.security:
            operation["security"] = [{name: scopes} for name, (_, scopes) in found.security.items()]
            for name, (scheme, _) in found.security.items():
                schemes[name] = _model_dict(scheme.model)
        parameters = _parameters(found, schemas)
        if parameters:
            operation["parameters"] = parameters
        if method in METHODS_WITH_BODY:
            body = _request_body(route, found, schemas)
            if body is not None:
                operation["requestBody"] = body
        if route.callbacks:
            operation["callbacks"] = _callbacks(route, schemas, operation_ids)
        status, response = _main_response(route, response_class, schemas)
        responses: dict[str, Any] = {status: response}
        _extra_responses(route, response_class, responses, schemas)
        if (found.params or found.body or found.hidden) and not {"422", "4XX", "default"} & set(
            responses
        ):
            responses["422"] = {
                "description": "Validation Error",
                "content": {
                    "application/json": {"schema": {"$ref": REF_PREFIX + "HTTPValidationError"}}
                },
            }
            needs_errors = True
        operation["responses"] = responses
        if route.openapi_extra:
            deep_update(operation, route.openapi_extra)
        result[method.lower()] = operation
    return result, schemes, needs_errors


def _callbacks(route: Any, schemas: SchemaRegistry, operation_ids: set[str]) -> dict[str, Any]:
    callbacks: dict[str, Any] = {}
    for callback in route.callbacks:
        if hasattr(callback, "plan") and hasattr(callback, "openapi_methods"):
            path, _, _ = operations(callback, schemas, operation_ids)
            callbacks[callback.name] = {callback.path: path}
    return callbacks


def _metadata(route: Any, operation_ids: set[str]) -> dict[str, Any]:
    import warnings

    operation: dict[str, Any] = {}
    if route.tags:
        operation["tags"] = [getattr(tag, "value", tag) for tag in route.tags]
    operation["summary"] = route.summary or route.name.replace("_", " ").title()
    if route.description:
        operation["description"] = route.description
    operation_id = route.operation_id or route.unique_id
    if operation_id in operation_ids:
        name = getattr(route.endpoint, "__name__", "<unnamed_endpoint>")
        warnings.warn(f"Duplicate Operation ID {operation_id} for function {name}", stacklevel=1)
    operation_ids.add(operation_id)
    operation["operationId"] = operation_id
    if route.deprecated:
        operation["deprecated"] = True
    return operation
