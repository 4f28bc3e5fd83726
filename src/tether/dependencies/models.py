"""Parameter models: one pydantic model read from the query, the headers or the cookies.

``filters: Annotated[FilterParams, Query()]`` (likewise ``Header()``, ``Cookie()``) hands the
whole source to the model, as FastAPI does. Each field is looked up under its name (or alias,
or plain ``validation_alias``; a header field ``save_data`` under ``save-data`` unless
``convert_underscores=False``), with every value for a list field and the last one
otherwise; the other keys of the source are passed on as they are, so pydantic can find
``AliasChoices`` / ``AliasPath`` names and ``model_config = {"extra": "forbid"}`` refuses
unknown keys. Errors are reported under the source: ``{"loc": ["query", "limit"], ...}``.

The adapter and the field table are built once, at registration.
"""

from __future__ import annotations

import copy
import types
import typing
from collections.abc import Callable
from typing import Any, Final

from tether.dependencies.context import MISSING, Context
from tether.dependencies.params import HeaderInfo, ParamInfo
from tether.exceptions import ConfigurationError, require

__all__ = ["model_params_extractor"]

_MISSING_MSG: Final = "Field required"  # pydantic's phrase, which FastAPI's tests match

_SEQUENCES = (list, set, frozenset, tuple)


def _is_sequence(annotation: Any) -> bool:
    origin = typing.get_origin(annotation)
    if origin in _SEQUENCES or annotation in _SEQUENCES:
        return True
    if origin is typing.Union or origin is types.UnionType:
        return any(_is_sequence(arg) for arg in typing.get_args(annotation))
    return origin is not None and getattr(origin, "__name__", "") == "Sequence"


def _data_key(field_name: str, field: Any) -> str:
    """The key pydantic reads a field under: a plain validation alias, the alias, the name."""
    validation = field.validation_alias
    if isinstance(validation, str):
        return validation
    return str(field.alias or field_name)


def _field_table(model: Any, info: ParamInfo) -> list[tuple[str, str, bool]]:
    """``(key in the request, key in the data, reads every value)`` per field."""
    convert = isinstance(info, HeaderInfo) and info.convert_underscores
    table = []
    for field_name, field in model.model_fields.items():
        many = _is_sequence(field.annotation)
        for data_key in _data_keys(field_name, field):
            lookup = data_key
            if info.source == "header":
                if convert and data_key == field_name:
                    lookup = data_key.replace("_", "-")
                lookup = lookup.lower()
            table.append((lookup, data_key, many))
    return table


def _data_keys(field_name: str, field: Any) -> list[str]:
    """Every key a field may be read under: each plain name of an ``AliasChoices``, in order
    (pydantic takes the first one given), or the one of :func:`_data_key`."""
    choices = getattr(field.validation_alias, "choices", None)
    if choices is None:
        return [_data_key(field_name, field)]
    return [choice for choice in choices if isinstance(choice, str)] or [field_name]


def _pairs_reader(source: str) -> Callable[[Context], list[tuple[str, str]]]:
    if source == "query":
        return lambda ctx: ctx.query_pairs()
    if source == "cookie":
        return lambda ctx: list(ctx.cookies().items())
    return lambda ctx: ctx.header_pairs()


def _collect(pairs: list[tuple[str, str]]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for key, value in pairs:
        grouped.setdefault(key, []).append(value)
    return grouped


def _default_of(info: ParamInfo) -> Callable[[], Any]:
    if info.default_factory is not None:
        return info.default_factory
    default = info.default
    return lambda: copy.deepcopy(default)  # a shared mutable default would leak between requests


def model_params_extractor(
    name: str, model: Any, info: ParamInfo, nullable: bool = False
) -> Callable[[Context], Any]:
    """An extractor that validates the whole ``info.source`` as the pydantic ``model``.

    ``nullable``: the parameter is ``Model | None``; without a default, none of its keys
    sent is then a missing parameter (``loc`` is the source alone), as in FastAPI.

    Raises:
        ConfigurationError: ``model`` is not a pydantic model.
        MissingDependencyError: pydantic is not installed.
    """
    pydantic = require("pydantic", "pydantic")
    if not (isinstance(model, type) and issubclass(model, pydantic.BaseModel)):
        raise ConfigurationError(
            f"parameter {name!r}: a {info.source} parameter model must be a pydantic model"
        )
    adapter = pydantic.TypeAdapter(model)
    table = _field_table(model, info)
    known = frozenset(key for lookup, data_key, _ in table for key in (lookup, data_key))
    read_pairs = _pairs_reader(info.source)
    source = info.source
    validation_error = pydantic.ValidationError
    # Errors name a header as the client sent it (save-data), as FastAPI does, unless the
    # model asks for its Python field names (``loc_by_alias=False``): pydantic's loc stands.
    by_alias = getattr(model, "model_config", {}).get("loc_by_alias", True)
    header = source == "header" and by_alias
    shown = {data_key: lookup for lookup, data_key, _ in table} if header else {}
    # An optional model (Annotated[DateRange | None, Query()] = None) is its default when
    # none of its fields was sent; other keys of the source (other parameters) do not count.
    # A model that allows or forbids extra keys reads every key of the source, so any key
    # sent (another parameter's too) means the model was sent, as in FastAPI.
    unsent = _unsent(model, info, nullable, shown)
    lookups = [lookup for lookup, _, _ in table]
    open_model = getattr(model, "model_config", {}).get("extra") in ("allow", "forbid")

    def extract(ctx: Context) -> Any:
        grouped = _collect(read_pairs(ctx))
        if unsent is not None:
            sent = bool(grouped) if open_model else any(lookup in grouped for lookup in lookups)
            if not sent:
                return unsent(ctx)
        data: dict[str, Any] = {}
        for lookup, data_key, many in table:
            values = grouped.get(lookup)
            if values:
                data[data_key] = values if many else values[-1]  # the last one, as Query()
        for key, values in grouped.items():
            if key not in known:  # extra keys: the model decides (ignore, keep or forbid)
                data[key] = values[0] if len(values) == 1 else values
        try:
            return adapter.validate_python(data)
        except validation_error as exc:
            _report(ctx, source, shown, exc)
            return MISSING

    return extract


def _unsent(
    model: Any, info: ParamInfo, nullable: bool, shown: dict[str, str]
) -> Callable[[Context], Any] | None:
    """What a model parameter none of whose keys was sent is; None: validate it anyway.

    An optional model is its default (validated with ``validate_default=True``); a required
    ``Model | None`` is missing as a whole (``loc`` is the source alone), as in FastAPI.
    """
    import pydantic

    source = info.source
    if info.required:
        if not nullable:
            return None

        def missing(ctx: Context) -> Any:
            ctx.fail((source,), "missing", _MISSING_MSG, None)
            return MISSING

        return missing
    absent = _default_of(info)
    if not info.validate_default:
        return lambda ctx: absent()
    check = pydantic.TypeAdapter(model | None if nullable else model)

    def checked(ctx: Context) -> Any:
        try:  # validate_default=True: the default is checked like a sent value
            return check.validate_python(absent())
        except pydantic.ValidationError as exc:
            _report(ctx, source, shown, exc)
            return MISSING

    return checked


def _report(ctx: Context, source: str, shown: dict[str, str], exc: Any) -> None:
    """Record pydantic's errors under the source, a header named as it is sent."""
    for error in exc.errors(include_url=False):
        extra = error.get("ctx") or {}
        first, *rest = error["loc"] or ("",)
        loc = (source, shown.get(first, first), *rest) if error["loc"] else (source,)
        ctx.fail(loc, error["type"], error["msg"], error.get("input"), **extra)
