"""``get_openapi``: the OpenAPI 3.1 document of a list of routes (``fastapi.openapi.utils``).

Routes are walked through routers and mounts (a mount's path is put before its routes'); an
HTTP route is documented when it has a compiled plan (:class:`~tether.APIRoute`) and
``include_in_schema`` is on. Plain routes (``add_route``) and WebSocket routes are not
operations: WebSocket routes are described by the AsyncAPI document, which the OpenAPI document
names under ``x-asyncapi`` when the app serves one.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from tether.openapi.operations import HTTP_VALIDATION_ERROR, VALIDATION_ERROR, operations
from tether.openapi.schemas import SchemaRegistry

__all__ = ["api_routes", "get_openapi"]


def api_routes(routes: Sequence[Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """``(full path, route)`` for every documented HTTP route, entering mounted routers."""
    for route in routes:
        if hasattr(route, "plan") and hasattr(route, "openapi_methods"):
            if route.include_in_schema:
                yield prefix + route.path_format, route
            continue
        inner = getattr(route, "routes", None)
        if inner is not None and type(route).__name__ == "Mount":
            yield from api_routes(inner, prefix + str(route.path).rstrip("/"))


def _info(
    title: str,
    version: str,
    summary: str | None,
    description: str | None,
    terms_of_service: str | None,
    contact: dict[str, Any] | None,
    license_info: dict[str, Any] | None,
) -> dict[str, Any]:
    info: dict[str, Any] = {"title": title}
    if summary:
        info["summary"] = summary
    if description:
        info["description"] = description
    if terms_of_service:
        info["termsOfService"] = terms_of_service
    if contact:
        info["contact"] = contact
    if license_info:
        info["license"] = license_info
    info["version"] = version
    return info


def get_openapi(
    *,
    title: str,
    version: str,
    openapi_version: str = "3.1.0",
    summary: str | None = None,
    description: str | None = None,
    routes: Sequence[Any],
    webhooks: Sequence[Any] | None = None,
    tags: list[dict[str, Any]] | None = None,
    servers: list[dict[str, Any]] | None = None,
    terms_of_service: str | None = None,
    contact: dict[str, Any] | None = None,
    license_info: dict[str, Any] | None = None,
    separate_input_output_schemas: bool = True,
    external_docs: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Build the OpenAPI document (a JSON-compatible dict) of ``routes``.

    Raises :class:`~tether.exceptions.MissingDependencyError` without pydantic (schemas are
    generated with it). A duplicate operation id is warned about, as in FastAPI.
    """
    document: dict[str, Any] = {
        "openapi": openapi_version,
        "info": _info(
            title, version, summary, description, terms_of_service, contact, license_info
        ),
    }
    if servers:
        document["servers"] = servers
    schemas = SchemaRegistry(separate_input_output_schemas)
    operation_ids: set[str] = set()
    paths: dict[str, Any] = {}
    schemes: dict[str, Any] = {}
    needs_errors = False
    for path, route in api_routes(routes):
        found, route_schemes, errors = operations(route, schemas, operation_ids)
        paths.setdefault(path, {}).update(found)
        schemes.update(route_schemes)
        needs_errors = needs_errors or errors
    hooks: dict[str, Any] = {}
    for _, route in api_routes(webhooks or ()):
        found, route_schemes, errors = operations(route, schemas, operation_ids)
        hooks.setdefault(route.name, {}).update(found)
        schemes.update(route_schemes)
        needs_errors = needs_errors or errors
    definitions = schemas.finish()
    if needs_errors:
        definitions.update(
            {"ValidationError": VALIDATION_ERROR, "HTTPValidationError": HTTP_VALIDATION_ERROR}
        )
    document["paths"] = paths
    if hooks:
        document["webhooks"] = hooks
    components: dict[str, Any] = {}
    if definitions:
        components["schemas"] = {name: definitions[name] for name in sorted(definitions)}
    if schemes:
        components["securitySchemes"] = schemes
    if components:
        document["components"] = components
    if tags:
        document["tags"] = tags
    if external_docs:
        document["externalDocs"] = external_docs
    result: dict[str, Any] = _jsonable(document)
    return result


def _jsonable(value: Any) -> Any:
    # Examples and extras given by users may hold enums, tuples or models. Keys whose value is
    # None are left out, as FastAPI's document model does (so "default": null never shows).
    if isinstance(value, dict):
        return {
            str(getattr(key, "value", key)): _jsonable(item)
            for key, item in value.items()
            if item is not None
        }
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json", by_alias=True, exclude_none=True)
    if hasattr(value, "value") and type(value).__module__ != "builtins":
        return _jsonable(value.value)
    return value
