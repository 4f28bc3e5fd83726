"""Converters: turn a raw request value (a string, or what the router produced) into the
declared type, and check the declared constraints.

A converter is built once per parameter at registration and returns either the converted
value or an :class:`Invalid` describing why it could not; it never raises for bad input, so
collecting every error of a request needs no exception handling in the hot path. Error
``type`` codes follow pydantic's names so that clients already parsing FastAPI's 422 bodies
keep working; the messages are ours.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import enum
import re
import types
import typing
import uuid
from collections.abc import Callable
from typing import Any, Final

from tether.dependencies.params import ParamInfo
from tether.exceptions import ConfigurationError

__all__ = [
    "Converter",
    "Invalid",
    "TypeShape",
    "build_converter",
    "is_model_type",
    "shape_of",
    "to_str",
]

Converter = Callable[[Any], Any]


class Invalid:
    """Why a value could not be converted: a pydantic-style error ``kind``, a message, context."""

    __slots__ = ("ctx", "kind", "msg")

    def __init__(self, kind: str, msg: str, ctx: dict[str, Any] | None = None) -> None:
        self.kind = kind
        self.msg = msg
        self.ctx = ctx


_TRUE: Final = frozenset({"1", "on", "t", "true", "y", "yes"})
_FALSE: Final = frozenset({"0", "off", "f", "false", "n", "no"})
_SEQUENCES: Final = (list, set, frozenset, tuple, typing.Sequence, typing.MutableSequence)


class TypeShape:
    """An annotation taken apart: the inner type, whether ``None`` is allowed, whether it
    is a sequence (``list[int]``: repeated query keys or headers)."""

    __slots__ = ("container", "inner", "optional")

    def __init__(self, inner: Any, optional: bool, container: Any) -> None:
        self.inner = inner
        self.optional = optional
        self.container = container


def _strip_optional(annotation: Any) -> tuple[Any, bool]:
    origin = typing.get_origin(annotation)
    if origin is typing.Union or origin is types.UnionType:
        args = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        optional = len(args) < len(typing.get_args(annotation))
        inner = args[0] if len(args) == 1 else typing.Union[tuple(args)]  # noqa: UP007
        return inner, optional
    return annotation, annotation is None or annotation is type(None)


def shape_of(annotation: Any) -> TypeShape:
    """Split ``Optional``/``X | None`` and one level of ``list``/``set``/``tuple`` off."""
    inner, optional = _strip_optional(annotation)
    origin = typing.get_origin(inner)
    if inner in _SEQUENCES or origin in _SEQUENCES:
        args = typing.get_args(inner)
        item = args[0] if args else str
        container = origin or inner
        container = list if container in (typing.Sequence, typing.MutableSequence) else container
        return TypeShape(item, optional, container)
    return TypeShape(inner, optional, None)


def is_model_type(annotation: Any) -> bool:
    """True for pydantic models, msgspec structs and dataclasses (request-body shaped types)."""
    if not isinstance(annotation, type):
        return False
    if dataclasses.is_dataclass(annotation):
        return True
    for klass in annotation.__mro__:
        module = klass.__module__
        if (klass.__name__ == "BaseModel" and module.startswith("pydantic")) or (
            klass.__name__ == "Struct" and module.startswith("msgspec")
        ):
            return True
    return False


def to_str(raw: Any) -> Any:
    """Convert a raw request value to ``str`` (a ``str`` passes through as itself)."""
    return raw if type(raw) is str else str(raw)


def _to_int(raw: Any) -> Any:
    if type(raw) is int:
        return raw
    if type(raw) is str:
        text = raw.strip()
        # int() also takes "1_000" and non-ASCII digits; a request value should not.
        if text.isascii() and (text.isdigit() or (text[:1] in "+-" and text[1:].isdigit())):
            return int(text)
    if type(raw) is float and raw.is_integer():
        return int(raw)
    return Invalid(
        "int_parsing", "Input should be a valid integer, unable to parse string as an integer"
    )


def _to_float(raw: Any) -> Any:
    if type(raw) is float:
        return raw
    if type(raw) is int:
        return float(raw)
    try:
        return float(raw.replace("_", "!"))  # "1_0" is a Python literal, not a number to us
    except (ValueError, AttributeError):
        return Invalid(
            "float_parsing", "Input should be a valid number, unable to parse string as a number"
        )


def _to_decimal(raw: Any) -> Any:
    try:
        value = decimal.Decimal(str(raw).strip())
    except decimal.InvalidOperation:
        return Invalid("decimal_parsing", "Input should be a valid decimal")
    return (
        value if value.is_finite() else Invalid("finite_number", "Input should be a finite number")
    )


def _to_bool(raw: Any) -> Any:
    if type(raw) is bool:
        return raw
    text = str(raw).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    return Invalid("bool_parsing", "Input should be a valid boolean, unable to interpret input")


def _to_uuid(raw: Any) -> Any:
    if type(raw) is uuid.UUID:
        return raw
    try:
        return uuid.UUID(str(raw))
    except ValueError:
        return Invalid("uuid_parsing", "Input should be a valid UUID")


def _to_datetime(raw: Any) -> Any:
    if isinstance(raw, dt.datetime):
        return raw
    text = str(raw).strip()
    try:
        return dt.datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError:
        pass
    number = _to_float(text)
    if type(number) is float:
        # A Unix timestamp, in seconds, is what clients most often send besides ISO 8601.
        return dt.datetime.fromtimestamp(number, tz=dt.UTC)
    return Invalid("datetime_parsing", "Input should be a valid datetime")


def _to_date(raw: Any) -> Any:
    if isinstance(raw, dt.date) and not isinstance(raw, dt.datetime):
        return raw
    try:
        return dt.date.fromisoformat(str(raw).strip())
    except ValueError:
        return Invalid("date_parsing", "Input should be a valid date in the format YYYY-MM-DD")


def _to_bytes(raw: Any) -> Any:
    return raw if type(raw) is bytes else str(raw).encode()


def _choice_converter(choices: dict[str, Any], kind: str) -> Converter:
    """Match the string form of each allowed value (enum members, literal values)."""
    quoted = [repr(key) for key in choices]
    expected = quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} or {quoted[-1]}"

    def convert(raw: Any) -> Any:
        found = choices.get(raw if type(raw) is str else str(raw), _NOTHING)
        if found is _NOTHING:
            return Invalid(kind, f"Input should be {expected}", {"expected": expected})
        return found

    return convert


_NOTHING: Final = object()

_SIMPLE: Final[dict[Any, Converter]] = {
    str: to_str,
    int: _to_int,
    float: _to_float,
    bool: _to_bool,
    uuid.UUID: _to_uuid,
    dt.datetime: _to_datetime,
    dt.date: _to_date,
    decimal.Decimal: _to_decimal,
    bytes: _to_bytes,
    Any: lambda raw: raw,
}


def _base_converter(annotation: Any) -> Converter:
    simple = _SIMPLE.get(annotation)
    if simple is not None:
        return simple
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        members = {str(member.value): member for member in annotation}
        return _choice_converter(members, "enum")
    if typing.get_origin(annotation) is typing.Literal:
        return _choice_converter({str(v): v for v in typing.get_args(annotation)}, "literal_error")
    return _adapter_converter(annotation)


def _with_field_options(annotation: Any, info: ParamInfo, lengths: bool) -> Any:
    """``annotation`` with the marker's bounds and pydantic options as a pydantic ``Field``."""
    import pydantic

    keys = ("gt", "ge", "lt", "le", "pattern", *(("min_length", "max_length") if lengths else ()))
    given = {key: getattr(info, key) for key in keys if getattr(info, key) is not None}
    return typing.Annotated[annotation, pydantic.Field(**given, **info.field_options)]


def _adapter_converter(annotation: Any) -> Converter:
    """Anything else goes through pydantic when it is installed."""
    try:
        import pydantic
    except ImportError:
        raise ConfigurationError(
            f"cannot read a request value as {annotation!r}: use str, int, float, bool, UUID, "
            "an Enum, datetime/date, or install pydantic for other types"
        ) from None
    try:
        adapter = pydantic.TypeAdapter(annotation)
    except pydantic.PydanticSchemaGenerationError as exc:
        raise ConfigurationError(f"cannot read a request value as {annotation!r}") from exc

    def convert(raw: Any) -> Any:
        try:
            return adapter.validate_python(raw)
        except pydantic.ValidationError as exc:
            first = exc.errors()[0]
            return Invalid(first["type"], first["msg"], first.get("ctx"))

    return convert


def _constraints(info: ParamInfo | None, lengths: bool) -> list[Callable[[Any], Invalid | None]]:
    if info is None:
        return []
    checks: list[Callable[[Any], Invalid | None]] = []
    bounds = (
        (info.gt, "greater_than", "gt", lambda v, b: v > b, "greater than"),
        (info.ge, "greater_than_equal", "ge", lambda v, b: v >= b, "greater than or equal to"),
        (info.lt, "less_than", "lt", lambda v, b: v < b, "less than"),
        (info.le, "less_than_equal", "le", lambda v, b: v <= b, "less than or equal to"),
    )
    for bound, kind, key, test, words in bounds:
        if bound is not None:
            checks.append(_bound_check(bound, kind, key, test, words))
    if lengths and (info.min_length is not None or info.max_length is not None):
        checks.append(_length_check(info.min_length, info.max_length, "string"))
    if info.pattern is not None:
        checks.append(_pattern_check(info.pattern))
    return checks


def _bound_check(
    bound: Any, kind: str, key: str, test: Callable[[Any, Any], bool], words: str
) -> Callable[[Any], Invalid | None]:
    def check(value: Any) -> Invalid | None:
        return (
            None
            if test(value, bound)
            else Invalid(kind, f"Input should be {words} {bound}", {key: bound})
        )

    return check


def _length_check(low: int | None, high: int | None, what: str) -> Callable[[Any], Invalid | None]:
    noun = "String" if what == "string" else "List"
    short, long = (
        ("string_too_short", "string_too_long") if what == "string" else ("too_short", "too_long")
    )

    def check(value: Any) -> Invalid | None:
        size = len(value)
        if low is not None and size < low:
            message = f"{noun} should have at least {_count(low, what)}{_after(what, size)}"
            return Invalid(short, message, {"min_length": low, **_actual(what, size)})
        if high is not None and size > high:
            message = f"{noun} should have at most {_count(high, what)}{_after(what, size)}"
            return Invalid(long, message, {"max_length": high, **_actual(what, size)})
        return None

    return check


# pydantic's wording, which FastAPI's clients and tests compare: "String should have at least
# 3 characters"; "List should have at least 1 item after validation, not 0".
def _count(number: int, what: str) -> str:
    unit = "character" if what == "string" else "item"
    return f"{number} {unit}" if number == 1 else f"{number} {unit}s"


def _after(what: str, size: int) -> str:
    return "" if what == "string" else f" after validation, not {size}"


def _actual(what: str, size: int) -> dict[str, int]:
    return {} if what == "string" else {"actual_length": size}


def _pattern_check(pattern: str) -> Callable[[Any], Invalid | None]:
    compiled = re.compile(pattern)

    def check(value: Any) -> Invalid | None:
        if compiled.search(value) is None:
            return Invalid(
                "string_pattern_mismatch",
                f"String should match pattern '{pattern}'",
                {"pattern": pattern},
            )
        return None

    return check


def build_converter(annotation: Any, info: ParamInfo | None, *, item: bool = False) -> Converter:
    """A converter for one scalar value of type ``annotation`` with the constraints of ``info``.

    ``item=True`` builds the converter of one item of a list parameter: the length limits
    then count the list's items (see :func:`sequence_length_check`), not each item's characters.

    Raises :class:`ConfigurationError` for a type that cannot be read from a request.
    """
    if info is not None and info.field_options:
        return _adapter_converter(_with_field_options(annotation, info, lengths=not item))
    base = _base_converter(annotation)
    checks = _constraints(info, lengths=not item)
    if not checks:
        return base

    def convert(raw: Any) -> Any:
        value = base(raw)
        if type(value) is Invalid:
            return value
        for check in checks:
            problem = check(value)
            if problem is not None:
                return problem
        return value

    return convert


def sequence_length_check(info: ParamInfo | None) -> Callable[[Any], Invalid | None] | None:
    """The ``min_length``/``max_length`` check of a list parameter, counted in items."""
    if info is None or (info.min_length is None and info.max_length is None):
        return None
    return _length_check(info.min_length, info.max_length, "list")
