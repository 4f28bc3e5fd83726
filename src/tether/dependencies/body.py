"""Validation of JSON request-body values (HTTP routes only).

Pydantic models and any type pydantic understands go through a ``TypeAdapter``; msgspec
structs through ``msgspec.convert``; plain ``dict``/``list``/``Any`` pass as decoded. The
validator returns ``(value, problems)`` where each problem is ``(loc suffix, Invalid)``, so a
body with several bad fields reports all of them.
"""

from __future__ import annotations

import json
import typing
from collections.abc import Callable
from typing import Any, Final

from tether.dependencies.context import MISSING, Context
from tether.dependencies.convert import Invalid, build_converter, shape_of
from tether.dependencies.params import ParamInfo
from tether.exceptions import ConfigurationError

__all__ = [
    "BodyValidator",
    "body_validator",
    "is_json_content_type",
    "located_input",
    "read_json_body",
]

Problems = list[tuple[tuple[Any, ...], Invalid]]
BodyValidator = Callable[[Any], tuple[Any, Problems]]
_PASSTHROUGH: Final = (Any, dict, list, object)
_CONSTRAINTS: Final = ("gt", "ge", "lt", "le", "min_length", "max_length", "pattern")
# pydantic's error for a body of the wrong kind where a plain dict or list was declared.
_KIND_ERRORS: Final[dict[Any, tuple[str, str]]] = {
    dict: ("dict_type", "Input should be a valid dictionary"),
    list: ("list_type", "Input should be a valid list"),
}


def _is_msgspec_struct(annotation: Any) -> bool:
    return isinstance(annotation, type) and any(
        klass.__name__ == "Struct" and klass.__module__.startswith("msgspec")
        for klass in annotation.__mro__
    )


def _msgspec_validator(annotation: Any) -> BodyValidator:
    import msgspec

    def validate(raw: Any) -> tuple[Any, Problems]:
        try:
            return msgspec.convert(raw, annotation), []
        except msgspec.ValidationError as exc:
            # msgspec reports the first problem only, with the path inside the message.
            return MISSING, [((), Invalid("model_attributes_type", str(exc)))]

    return validate


class _Located(Invalid):
    """A problem found inside the body, with the value at its location (pydantic's ``input``)."""

    __slots__ = ("value",)

    def __init__(self, kind: str, msg: str, ctx: dict[str, Any] | None, value: Any) -> None:
        super().__init__(kind, msg, ctx)
        self.value = value


def located_input(problem: Invalid, whole: Any) -> Any:
    """The ``input`` of an error record: the value where the problem is, else ``whole``."""
    return problem.value if isinstance(problem, _Located) else whole


def _pydantic_validator(annotation: Any) -> BodyValidator | None:
    try:
        import pydantic
    except ImportError:
        return None
    try:
        adapter = pydantic.TypeAdapter(annotation)
    except pydantic.PydanticSchemaGenerationError as exc:
        raise ConfigurationError(f"cannot validate a request body as {annotation!r}") from exc

    def validate(raw: Any) -> tuple[Any, Problems]:
        try:
            return adapter.validate_python(raw), []
        except pydantic.ValidationError as exc:
            return MISSING, [
                (tuple(err["loc"]), _Located(err["type"], err["msg"], err.get("ctx"), err["input"]))
                for err in exc.errors(include_url=False)
            ]

    return validate


def _scalar_validator(annotation: Any, info: ParamInfo | None) -> BodyValidator:
    shape = shape_of(annotation)
    if shape.container is not None or shape.inner in _PASSTHROUGH:
        return lambda raw: (raw, [])
    convert = build_converter(shape.inner, info)

    def validate(raw: Any) -> tuple[Any, Problems]:
        if raw is None and shape.optional:
            return None, []
        value = convert(raw)
        if type(value) is Invalid:
            return MISSING, [((), value)]
        return value, []

    return validate


def _kind_validator(kind: type) -> BodyValidator:
    error, message = _KIND_ERRORS[kind]

    def validate(raw: Any) -> tuple[Any, Problems]:
        if isinstance(raw, kind):
            return raw, []
        return MISSING, [((), Invalid(error, message))]

    return validate


def body_validator(annotation: Any, info: ParamInfo | None = None) -> BodyValidator:
    """Choose how to validate a body value of type ``annotation`` (bounds from ``info``).

    Raises :class:`ConfigurationError` for a type nobody installed can validate.
    """
    base = annotation
    if typing.get_origin(base) is typing.Annotated:
        base = typing.get_args(base)[0]
    if _is_msgspec_struct(base):
        return _msgspec_validator(base)
    if base in _KIND_ERRORS:
        return _kind_validator(base)
    if base in _PASSTHROUGH:
        return lambda raw: (raw, [])
    validator = _pydantic_validator(_constrained(annotation, info))
    return validator if validator is not None else _scalar_validator(annotation, info)


def _constrained(annotation: Any, info: ParamInfo | None) -> Any:
    """``annotation`` with the marker's bounds (``Body(gt=0)``) as a pydantic ``Field``."""
    given = {
        key: getattr(info, key) for key in _CONSTRAINTS if getattr(info, key, None) is not None
    }
    given.update(getattr(info, "field_options", None) or {})
    if not given:
        return annotation
    try:
        import pydantic
    except ImportError:
        return annotation
    return typing.Annotated[annotation, pydantic.Field(**given)]


def is_json_content_type(content_type: str | None, strict: bool) -> bool:
    """Whether a body with this ``Content-Type`` is decoded as JSON (FastAPI's rule).

    ``application/json`` and ``application/*+json`` are; a missing header is only when
    ``strict`` is off (``strict_content_type=False``); anything else never is, so a
    cross-site form or ``text/plain`` request cannot pass for JSON (CSRF).
    """
    if not content_type:
        return not strict
    main, _, sub = content_type.partition(";")[0].strip().lower().partition("/")
    return main == "application" and (sub == "json" or sub.endswith("+json"))


async def read_json_body(ctx: Context, strict_content_type: bool = True) -> None:
    """Read and decode the request body into ``ctx.body``; an empty body stays missing.

    A body whose ``Content-Type`` is not JSON (:func:`is_json_content_type`) is kept as its
    bytes, which the declared types then refuse, as FastAPI does. Invalid JSON is recorded as a ``json_invalid`` error at ``("body", position)``, and
    ``ctx.body`` is then the text as received: the run stops at that one error (as FastAPI's
    does), with the text for telemetry to show.
    """
    raw = await ctx.connection.body()
    if not raw:
        return
    if not is_json_content_type(ctx.connection.headers.get("content-type"), strict_content_type):
        ctx.body = raw
        return
    try:
        ctx.body = json.loads(raw)
    except ValueError as exc:
        position = exc.pos if isinstance(exc, json.JSONDecodeError) else 0
        ctx.fail(("body", position), "json_invalid", "the body is not valid JSON", None)
        ctx.body = raw.decode("utf-8", "replace")
