"""Extractors: per-parameter functions that read one value for one run.

An extractor takes the run's :class:`~tether.dependencies.context.Context` and returns the parameter's
value, or :data:`~tether.dependencies.context.MISSING` after recording a validation error on the
context. They are built once at registration with everything (name, alias, location, converter,
default) bound in, so a call does no lookups beyond the request data itself.
"""

from __future__ import annotations

import copy
import inspect
import typing
import weakref
from collections.abc import Callable, Mapping
from typing import Any, Final

from tether.dependencies.context import MISSING, Context, parse_last_values
from tether.dependencies.convert import (
    Invalid,
    build_converter,
    is_model_type,
    sequence_length_check,
    shape_of,
    to_str,
)
from tether.dependencies.params import BodyInfo, HeaderInfo, ParamInfo
from tether.exceptions import ConfigurationError
from tether.requests import HTTPConnection, Request
from tether.security import SecurityScopes
from tether.websockets import WebSocket

__all__ = [
    "BodyLayout",
    "Extractor",
    "body_extractor",
    "connection_extractor",
    "get_connection",
    "param_extractor",
    "scopes_extractor",
]

Extractor = Callable[[Context], Any]
_EMPTY: Final = inspect.Parameter.empty
_NO_PARAMS: Final[dict[str, Any]] = {}  # read-only: the path parameters of a scope without any
_MUTABLE_DEFAULTS: Final = (list, dict, set)


def connection_extractor(
    annotation: Any, websocket: bool, name: str, call: Any
) -> Extractor | None:
    """Inject the connection for a ``WebSocket``/``Request``/``HTTPConnection`` annotation.

    Raises :class:`ConfigurationError` when the route's protocol cannot provide that type.
    """
    if not isinstance(annotation, type):
        return None
    if not issubclass(annotation, HTTPConnection):
        return None
    if issubclass(annotation, WebSocket) and not websocket:
        raise ConfigurationError(
            f"parameter {name!r} of {call!r} asks for a WebSocket on an HTTP route; "
            "type it HTTPConnection to serve both"
        )
    if issubclass(annotation, Request) and websocket:
        raise ConfigurationError(
            f"parameter {name!r} of {call!r} asks for a Request on a WebSocket route; "
            "type it WebSocket, or HTTPConnection to serve both"
        )
    return get_connection


def get_connection(ctx: Context) -> Any:
    """The extractor of the connection itself (plans recognise it to skip the Context)."""
    return ctx.connection


def scopes_extractor(annotation: Any, scopes: tuple[str, ...]) -> Extractor | None:
    """Inject the security scopes collected on the way down, for a ``SecurityScopes`` type."""
    if annotation is not SecurityScopes:
        return None
    collected = list(scopes)
    return lambda ctx: SecurityScopes(collected)


def _default_maker(info: ParamInfo) -> Callable[[], Any]:
    factory = info.default_factory
    if factory is not None:
        return factory
    default = info.default
    if isinstance(default, _MUTABLE_DEFAULTS):
        # A shared list default would leak changes from one request into the next.
        return lambda: copy.deepcopy(default)
    return lambda: default


def _alias(name: str, info: ParamInfo) -> str:
    validation = info.validation_alias
    if isinstance(validation, str):
        return validation.lower() if isinstance(info, HeaderInfo) else validation
    if validation is not None:
        return _choices(info)[0][0]  # errors name the first choice, as pydantic does
    if info.alias is not None:
        return info.alias.lower() if isinstance(info, HeaderInfo) else info.alias
    if isinstance(info, HeaderInfo):
        return (name.replace("_", "-") if info.convert_underscores else name).lower()
    return name


def _reader(source: str, key: str) -> Extractor:
    if source == "path":
        return lambda ctx: ctx.scope.get("path_params", {}).get(key, MISSING)
    if source == "query":
        return lambda ctx: ctx.query_last(key)
    if source == "header":
        return lambda ctx: ctx.header_first(key)
    return lambda ctx: ctx.cookies().get(key, MISSING)


def _choices(info: ParamInfo) -> list[tuple[str, int | None]]:
    """``(key, index)`` per name of an ``AliasChoices`` / ``AliasPath`` validation alias."""
    validation = info.validation_alias
    entries = getattr(validation, "choices", None) or [validation]
    found: list[tuple[str, int | None]] = []
    for entry in entries:
        path = [entry] if isinstance(entry, str) else list(getattr(entry, "path", ()))
        if not path or not isinstance(path[0], str) or len(path) > 2:
            raise ConfigurationError(
                f"validation_alias {validation!r}: a request value can only be found by a "
                "name, or by a name and the index of a repeated value"
            )
        key = path[0].lower() if isinstance(info, HeaderInfo) else path[0]
        index = path[1] if len(path) == 2 else None
        if index is not None and not isinstance(index, int):
            raise ConfigurationError(f"validation_alias {validation!r}: the index must be an int")
        found.append((key, index))
    return found


def _choices_reader(info: ParamInfo) -> Extractor:
    """Read the first of several names that is present (``AliasChoices`` / ``AliasPath``)."""
    source = info.source
    readers = [
        _reader(source, key) if index is None else _indexed(_many_reader(source, key, info), index)
        for key, index in _choices(info)
    ]

    def read(ctx: Context) -> Any:
        for reader in readers:
            value = reader(ctx)
            if value is not MISSING:
                return value
        return MISSING

    return read


def _chosen_loc(info: ParamInfo, loc: tuple[str, str]) -> Callable[[Context], tuple[str, str]]:
    """An error's ``loc``: the name of the first choice present, as FastAPI reports it."""
    source = info.source
    readers = [(key, _reader(source, key)) for key, _ in _choices(info)]

    def chosen(ctx: Context) -> tuple[str, str]:
        for key, reader in readers:
            if reader(ctx) is not MISSING:
                return (source, key)
        return loc

    return chosen


def _indexed(read_all: Callable[[Context], list[str]], index: int) -> Extractor:
    def read(ctx: Context) -> Any:
        values = read_all(ctx)
        return values[index] if -len(values) <= index < len(values) else MISSING

    return read


def _many_reader(source: str, key: str, call: Any) -> Callable[[Context], list[str]]:
    if source == "query":
        return lambda ctx: ctx.query_all(key)
    if source == "header":
        return lambda ctx: ctx.header_all(key)
    raise ConfigurationError(f"a {source} parameter cannot be a list ({call!r})")


_MISSING_MSG: Final = "Field required"  # pydantic's phrase, which FastAPI's tests match

PLAIN_READS: Final[weakref.WeakKeyDictionary[Extractor, tuple[str, str]]] = (
    weakref.WeakKeyDictionary()
)
"""Extractors of plain ``str`` path/query parameters -> ``(source, key)``: for those, a
``str`` found under ``key`` is the value itself (no conversion, no check), so a precompiled
runner may read it without calling the extractor (see :mod:`tether.dependencies.fast`)."""


def param_extractor(name: str, annotation: Any, info: ParamInfo) -> Extractor:
    """An extractor for a path, query, header or cookie parameter.

    Raises :class:`ConfigurationError` for a type that cannot be read from a request.
    """
    key = _alias(name, info)
    loc = (info.source, key)
    shape = shape_of(annotation)
    _check_supported(name, shape.inner, info)
    required = info.required
    make_default = _default_maker(info)
    if shape.container is not None:
        return _sequence_extractor(name, shape, info, loc, key)
    source = info.source
    chosen = info.validation_alias is not None and not isinstance(info.validation_alias, str)
    read = _choices_reader(info) if chosen else _reader(source, key)
    convert = build_converter(shape.inner, info)
    # A plain ``str`` needs no call for a value that already is one (query, header and cookie
    # values always are; a path value is unless the route converted it).
    as_is = convert is to_str
    # The two commonest sources are read inline: one frame less per parameter.
    by_path = source == "path" and not chosen
    by_query = source == "query" and not chosen
    check_default = info.validate_default  # validate_default=True: checked like a sent value
    locate = _chosen_loc(info, loc) if chosen else (lambda ctx: loc)  # where an error is

    def extract(ctx: Context) -> Any:
        if by_path:
            raw = ctx.scope.get("path_params", _NO_PARAMS).get(key, MISSING)
        elif by_query:
            last = ctx.query_last_values
            if last is None:  # as Context.parse_query_last (same dict), one frame less
                last = ctx.query_last_values = parse_last_values(ctx.scope.get("query_string", b""))
            raw = last.get(key, MISSING)
        else:
            raw = read(ctx)
        if raw is MISSING:
            if required:
                ctx.fail(loc, "missing", _MISSING_MSG, None)
                return MISSING
            if not check_default:
                return make_default()
            raw = make_default()
        if as_is and type(raw) is str:
            return raw
        value = convert(raw)
        if type(value) is Invalid:
            ctx.fail(locate(ctx), value.kind, value.msg, raw, **(value.ctx or {}))
            return MISSING
        return value

    if as_is and source in ("path", "query") and not chosen:
        PLAIN_READS[extract] = (source, key)
    return extract


def _check_supported(name: str, annotation: Any, info: ParamInfo) -> None:
    """Refuse a mapping or a model: a type one request value (or list item) cannot hold."""
    origin = typing.get_origin(annotation) or annotation
    mapping = isinstance(origin, type) and issubclass(origin, Mapping)
    if not mapping and not is_model_type(annotation):
        return
    kind = info.source.capitalize()
    # "... parameter 'q' must be one of the supported types" is FastAPI's phrase; tests match it.
    raise ConfigurationError(
        f"{kind} parameter {name!r} must be one of the supported types: a {info.source} value "
        "is a scalar (str, int, float, bool, enum, date, UUID ...) or, for query and header, "
        "a list of them"
    )


def _sequence_extractor(
    name: str, shape: Any, info: ParamInfo, loc: tuple[str, str], key: str
) -> Extractor:
    read_all = _many_reader(info.source, key, name)
    convert = build_converter(shape.inner, info, item=True)
    length_check = sequence_length_check(info)
    container = shape.container
    required = info.required
    make_default = _default_maker(info)

    def extract(ctx: Context) -> Any:
        raws = read_all(ctx)
        if not raws:
            if required:
                ctx.fail(loc, "missing", _MISSING_MSG, None)
                return MISSING
            return make_default()
        values = []
        failed = False
        for index, raw in enumerate(raws):
            value = convert(raw)
            if type(value) is Invalid:
                ctx.fail((*loc, index), value.kind, value.msg, raw, **(value.ctx or {}))
                failed = True
            values.append(value)
        problem = length_check(values) if length_check is not None else None
        if problem is not None:
            ctx.fail(loc, problem.kind, problem.msg, raws, **(problem.ctx or {}))
            return MISSING
        if failed:
            return MISSING
        return values if container is list else container(values)

    return extract


class BodyLayout:
    """Whether body parameters are embedded under their names; known once all are compiled.

    One body parameter without ``embed=True`` is the whole body (FastAPI's rule); with more
    than one, each is read from the body object under its name or alias.
    """

    __slots__ = ("bytes_keys", "count", "embed", "form")

    def __init__(self) -> None:
        self.count = 0
        self.embed = False
        # A form body (Form/File parameters) instead of JSON; fields whose files are read whole.
        self.form = False
        self.bytes_keys: set[str] = set()

    def add(self, info: BodyInfo) -> None:
        """Count one more body parameter and update the layout."""
        self.count += 1
        self.embed = self.count > 1 or bool(info.embed)


def body_extractor(name: str, annotation: Any, info: ParamInfo, layout: BodyLayout) -> Extractor:
    """An extractor for one parameter of the JSON request body (read before solving).

    Raises :class:`ConfigurationError` for a type that cannot be validated.
    """
    from tether.dependencies.body import body_validator, located_input

    body_info = info if isinstance(info, BodyInfo) else BodyInfo()
    layout.add(body_info)
    # The name in the JSON object: validation_alias (reading) before alias, as in FastAPI.
    key = info.validation_alias if isinstance(info.validation_alias, str) else info.alias or name
    validate = body_validator(annotation, info)
    required = info.required
    make_default = _default_maker(info)
    check_default = info.validate_default  # validate_default=True: checked like a sent value

    def extract(ctx: Context) -> Any:
        raw = ctx.body
        loc: tuple[Any, ...] = ("body",)
        if layout.embed:  # a missing body still reports each embedded field, as FastAPI does
            loc = ("body", key)
            if raw is None:  # an explicit JSON null is no object: every field is missing
                ctx.fail(loc, "missing", _MISSING_MSG, None)
                return MISSING
            raw = raw.get(key, MISSING) if isinstance(raw, dict) else MISSING
        if raw is MISSING:
            if required:
                ctx.fail(loc, "missing", _MISSING_MSG, None)
                return MISSING
            if not check_default:
                return make_default()
            raw = make_default()
        value, problems = validate(raw)
        for sub_loc, problem in problems:
            value_there = located_input(problem, raw)
            ctx.fail(
                (*loc, *sub_loc), problem.kind, problem.msg, value_there, **(problem.ctx or {})
            )
        return MISSING if problems else value

    return extract
