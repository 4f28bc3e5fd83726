"""How router-level route options combine with a route's own (FastAPI's rules).

Lists (``tags``, ``dependencies``, ``callbacks``) and ``responses`` accumulate outermost first;
``deprecated`` is on when any level says so; ``include_in_schema`` only when every level does;
``response_class`` and ``generate_unique_id_function`` take the innermost value that was
actually given (a :class:`~tether.applications.responses.DefaultPlaceholder` was not).
"""

from __future__ import annotations

from typing import Any

from tether.applications.responses import Default, DefaultPlaceholder

__all__ = ["first_given", "include_options", "merge_route_options"]

_STRICT: Any = Default(True)  # FastAPI's strict_content_type when no level sets it

_COPIED = (
    "response_model",
    "status_code",
    "summary",
    "description",
    "response_description",
    "operation_id",
    "name",
    "openapi_extra",
    "middleware",
    "max_body_size",
    "form_limits",
)


def first_given(*values: Any) -> Any:
    """The first value that is not a default placeholder, else the last one (a placeholder)."""
    for value in values:
        if not isinstance(value, DefaultPlaceholder):
            return value
    return values[-1]


def merge_route_options(router: Any, options: dict[str, Any]) -> dict[str, Any]:
    """``options`` of a route added to ``router``, with the router's settings applied."""
    merged = dict(options)
    merged["tags"] = [*router.tags, *(options.get("tags") or ())]
    merged["dependencies"] = [*router.dependencies, *(options.get("dependencies") or ())]
    merged["responses"] = {**router.responses, **(options.get("responses") or {})}
    merged["callbacks"] = [*router.callbacks, *(options.get("callbacks") or ())] or None
    merged["deprecated"] = options.get("deprecated") or router.deprecated
    if options.get("max_body_size") is None:
        merged["max_body_size"] = getattr(router, "max_body_size", None)
    merged["include_in_schema"] = options.get("include_in_schema", True) and (
        router.include_in_schema
    )
    merged["response_class"] = first_given(
        options.get("response_class", router.default_response_class),
        router.default_response_class,
    )
    merged["generate_unique_id_function"] = first_given(
        options.get("generate_unique_id_function", router.generate_unique_id_function),
        router.generate_unique_id_function,
    )
    own = getattr(router, "strict_content_type", _STRICT)
    merged["strict_content_type"] = first_given(options.get("strict_content_type", own), own)
    return merged


def include_options(route: Any, source: Any, options: dict[str, Any]) -> dict[str, Any]:
    """The options that re-create ``route`` of router ``source`` under ``include_router``.

    ``options`` are the keywords given to ``include_router``; ``source`` may be a plain
    router without FastAPI-style settings.
    """
    merged = {key: getattr(route, key) for key in _COPIED}
    merged["methods"] = route.openapi_methods
    merged["tags"] = [*(options.get("tags") or ()), *route.tags]
    merged["responses"] = {**(options.get("responses") or {}), **route.responses}
    merged["callbacks"] = [*(options.get("callbacks") or ()), *(route.callbacks or ())] or None
    merged["deprecated"] = route.deprecated or options.get("deprecated")
    merged["include_in_schema"] = route.include_in_schema and options.get("include_in_schema", True)
    merged["response_class"] = first_given(
        route.response_class,
        getattr(source, "default_response_class", route.response_class),
        options.get("default_response_class", route.response_class),
    )
    merged["generate_unique_id_function"] = first_given(
        route.generate_unique_id_function,
        getattr(source, "generate_unique_id_function", route.generate_unique_id_function),
        options.get("generate_unique_id_function", route.generate_unique_id_function),
    )
    merged["strict_content_type"] = first_given(
        route.strict_content_type,
        getattr(source, "strict_content_type", route.strict_content_type),
        options.get("strict_content_type", route.strict_content_type),
    )
    for key, value in zip(_SERIALIZE_KEYS, route.serialize_options, strict=True):
        merged[key] = value
    return merged


_SERIALIZE_KEYS = (
    "response_model_include",
    "response_model_exclude",
    "response_model_by_alias",
    "response_model_exclude_unset",
    "response_model_exclude_defaults",
    "response_model_exclude_none",
)
