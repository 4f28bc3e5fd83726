"""Response models: what an HTTP endpoint's return value is filtered, checked and encoded by.

FastAPI's rule, compiled once per route at registration: the ``response_model=`` given to the
route, else the endpoint's return annotation (unless it is a :class:`~tether.responses.Response`
type), is the declared type of the response body. Each response then

1. validates the returned value against that type (objects are read by attribute, so an ORM
   object, a dataclass or a model with more fields is *filtered* to the declared fields; a value
   that does not fit raises :class:`~tether.exceptions.ResponseValidationError`, which the
   server-error layer logs and answers with 500, never sending the value);
2. encodes it with the ``response_model_include/exclude/by_alias/exclude_unset/
   exclude_defaults/exclude_none`` options: straight to JSON bytes for the default response
   class, to JSON-compatible Python for any other ``response_class``.

A returned :class:`~tether.responses.Response` is sent as it is. ``response_model=None`` turns
the whole step off (the value is encoded as it is). Types are read with pydantic (models,
dataclasses, ``TypedDict``, builtins and their unions); a ``msgspec.Struct`` type is converted and
encoded with msgspec.
"""

from __future__ import annotations

import inspect
import re
import typing
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from tether.exceptions import ConfigurationError, ResponseValidationError, require
from tether.responses import Response

__all__ = [
    "Default",
    "DefaultPlaceholder",
    "ResponseModel",
    "SerializeOptions",
    "body_allowed",
    "check_model",
    "generate_unique_id",
    "resolve",
    "return_annotation",
]

T = TypeVar("T")


class DefaultPlaceholder(Generic[T]):
    """A value that was not given, so a router-level setting may still replace it."""

    __slots__ = ("value",)

    def __init__(self, value: T) -> None:
        self.value = value

    def __bool__(self) -> bool:
        return bool(self.value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DefaultPlaceholder) and other.value == self.value

    def __hash__(self) -> int:
        return hash((DefaultPlaceholder, id(self.value)))


def Default(value: T) -> Any:  # noqa: N802 - FastAPI's spelling
    """Mark ``value`` as a default that a router's own setting overrides."""
    return DefaultPlaceholder(value)


def resolve(value: Any) -> Any:
    """The value behind a :class:`DefaultPlaceholder`, or ``value`` itself."""
    return value.value if isinstance(value, DefaultPlaceholder) else value


def generate_unique_id(route: Any) -> str:
    """FastAPI's default operation id: name + path with non-word characters as ``_`` + method."""
    operation_id = re.sub(r"\W", "_", f"{route.name}{route.path_format}")
    return f"{operation_id}_{next(iter(route.openapi_methods)).lower()}"


def body_allowed(status_code: int | str | None) -> bool:
    """Whether a response with ``status_code`` may have a body (RFC 9110 section 6.4.1)."""
    if status_code is None or str(status_code).upper() in _RANGE_KEYS:
        return True
    code = int(status_code)
    return not (code < 200 or code in {204, 205, 304})


_RANGE_KEYS = frozenset({"DEFAULT", "1XX", "2XX", "3XX", "4XX", "5XX"})


def return_annotation(endpoint: Callable[..., Any]) -> Any:
    """The endpoint's return annotation, resolved; None when there is none or it is a Response.

    Raises :class:`~tether.exceptions.ConfigurationError` when it cannot be resolved: a
    silently ignored annotation would send the value unfiltered.
    """
    raw = getattr(inspect.unwrap(endpoint), "__annotations__", {}).get("return")
    if raw is None:
        return None
    try:
        hints = typing.get_type_hints(endpoint, include_extras=True)
    except Exception:  # noqa: BLE001 - maybe another annotation: resolve the return one alone
        hints = {"return": _resolve_alone(endpoint, raw)}
    annotation = hints.get("return")
    if annotation is None or annotation is type(None) or _is_response_type(annotation):
        return None
    return annotation


def _resolve_alone(endpoint: Callable[..., Any], raw: Any) -> Any:
    if not isinstance(raw, str):
        return raw
    namespace = getattr(inspect.unwrap(endpoint), "__globals__", {})
    try:
        return eval(raw, dict(namespace))  # noqa: S307 - the program's own annotation text
    except Exception as exc:  # noqa: BLE001 - reported with the endpoint's name
        raise ConfigurationError(
            f"cannot resolve the return annotation {raw!r} of {endpoint!r}; define the type "
            "at module level, or give the route response_model=None"
        ) from exc


def _is_response_type(annotation: Any) -> bool:
    # Only a Response class itself: a union with one (``Response | None``, ``Response | dict``)
    # is refused by ResponseModel as FastAPI refuses it; response_model=None allows it.
    return isinstance(annotation, type) and issubclass(annotation, Response)


def check_model(annotation: Any) -> None:
    """Raise :class:`ConfigurationError` when ``annotation`` cannot be a response model."""
    pydantic = require("pydantic", "pydantic")
    try:
        pydantic.TypeAdapter(annotation)
    except Exception as exc:  # noqa: BLE001 - pydantic's own error, kept as the cause
        raise ConfigurationError(_invalid_model(annotation, exc)) from exc


def _invalid_model(annotation: Any, exc: Exception) -> str:
    # FastAPI's users and tests look for "valid Pydantic field type" and the way out.
    return (
        f"cannot use {annotation!r} as a response model: it is not a valid Pydantic field type "
        f"({exc}); to send the value as it is, give the path operation parameter "
        "response_model=None"
    )


class SerializeOptions(typing.NamedTuple):
    """FastAPI's ``response_model_*`` options of one route."""

    include: Any = None
    exclude: Any = None
    by_alias: bool = True
    exclude_unset: bool = False
    exclude_defaults: bool = False
    exclude_none: bool = False


def _is_msgspec_struct(annotation: Any) -> bool:
    module = getattr(annotation, "__module__", "")
    return (
        isinstance(annotation, type)
        and any(
            klass.__module__.startswith("msgspec") and klass.__name__ == "Struct"
            for klass in annotation.__mro__
        )
        and not module.startswith("msgspec")
    )


class ResponseModel:
    """The compiled checker and encoder of one route's response body.

    Raises :class:`~tether.exceptions.ConfigurationError` at construction for a type that
    cannot be validated (use ``response_model=None`` for such an endpoint).
    """

    __slots__ = ("_dump_kw", "_json", "_python", "_validate", "annotation")

    def __init__(self, annotation: Any, options: SerializeOptions) -> None:
        self.annotation = annotation
        self._dump_kw = dict(options._asdict())
        if _is_msgspec_struct(annotation):
            self._msgspec(annotation, options)
        else:
            self._pydantic(annotation)

    def _pydantic(self, annotation: Any) -> None:
        pydantic = require("pydantic", "pydantic")
        try:
            adapter = pydantic.TypeAdapter(annotation)
        except Exception as exc:  # noqa: BLE001 - pydantic's own error, kept as the cause
            raise ConfigurationError(_invalid_model(annotation, exc)) from exc
        error_type = pydantic.ValidationError
        validate_python = adapter.validate_python
        dump_json = adapter.dump_json
        dump_python = adapter.dump_python
        kw = self._dump_kw

        def validate(value: Any) -> Any:
            try:
                return validate_python(value, from_attributes=True)
            except error_type as exc:
                raise _response_error(exc.errors(include_url=False), value) from None

        self._validate = validate
        self._json: Callable[[Any], bytes] = lambda value: dump_json(value, **kw)
        self._python: Callable[[Any], Any] = lambda value: dump_python(value, mode="json", **kw)

    def _msgspec(self, annotation: Any, options: SerializeOptions) -> None:
        msgspec = require("msgspec", "msgspec")
        if options != SerializeOptions():
            raise ConfigurationError("response_model_* options need a pydantic response model")

        def validate(value: Any) -> Any:
            try:
                return msgspec.convert(value, annotation, from_attributes=True)
            except msgspec.ValidationError as exc:
                errors = [{"type": "model_attributes_type", "loc": (), "msg": str(exc)}]
                raise _response_error(errors, value) from None

        self._validate = validate
        self._json = msgspec.json.encode
        self._python = msgspec.to_builtins

    def to_json(self, value: Any) -> bytes:
        """Validate ``value`` and encode it as JSON bytes; raises ResponseValidationError."""
        return self._json(self._validate(value))

    def to_python(self, value: Any) -> Any:
        """Validate ``value`` and turn it into JSON-compatible Python data."""
        return self._python(self._validate(value))


def _response_error(errors: list[Any], value: Any) -> ResponseValidationError:
    records = []
    for error in errors:
        record = {
            "type": error["type"],
            "loc": ("response", *error["loc"]),
            "msg": error["msg"],
            "input": error.get("input", value),
        }
        if error.get("ctx"):
            record["ctx"] = error["ctx"]
        records.append(record)
    return ResponseValidationError(records, body=value)
