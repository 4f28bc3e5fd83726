"""Path parameter convertors: ``{name:type}`` in a route path.

A convertor is three things: the regex fragment a path segment must match, a function that
turns the matched text into a Python value, and the reverse (``to_string``) used when building
URLs with ``url_path_for``. The built-in types are ``str`` (the default), ``path``, ``int``,
``float`` and ``uuid``; :func:`register_url_convertor` adds more, process-wide.

``to_string`` refuses values that cannot round-trip (a ``/`` inside a ``str`` parameter, a
negative ``int``...) with ``AssertionError``, as the peer does, so ``url_path_for`` never builds
a URL that would route somewhere else.
"""

from __future__ import annotations

import math
import uuid
from typing import Any, ClassVar, Generic, TypeVar

__all__ = [
    "CONVERTOR_TYPES",
    "Convertor",
    "FloatConvertor",
    "IntegerConvertor",
    "PathConvertor",
    "StringConvertor",
    "UUIDConvertor",
    "register_url_convertor",
]

T = TypeVar("T")


class Convertor(Generic[T]):
    """Base class: subclasses set ``regex`` and implement ``convert`` and ``to_string``."""

    regex: ClassVar[str] = ""

    def convert(self, value: str) -> T:
        """Turn the matched path text into a value."""
        raise NotImplementedError()

    def to_string(self, value: T) -> str:
        """Turn a value back into path text; ``AssertionError`` if it cannot round-trip."""
        raise NotImplementedError()


class StringConvertor(Convertor[str]):
    """One non-empty path segment (no ``/``)."""

    regex = "[^/]+"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        text = str(value)
        assert "/" not in text, "a str path parameter cannot contain '/'"
        assert text, "a str path parameter cannot be empty"
        return text


class PathConvertor(Convertor[str]):
    """The rest of the path, slashes included (may be empty)."""

    regex = ".*"

    def convert(self, value: str) -> str:
        return str(value)

    def to_string(self, value: str) -> str:
        return str(value)


class IntegerConvertor(Convertor[int]):
    """A non-negative decimal integer."""

    regex = "[0-9]+"

    def convert(self, value: str) -> int:
        return int(value)

    def to_string(self, value: int) -> str:
        number = int(value)
        assert number >= 0, "an int path parameter cannot be negative"
        return str(number)


class FloatConvertor(Convertor[float]):
    """A non-negative decimal number such as ``3`` or ``2.5``."""

    regex = r"[0-9]+(\.[0-9]+)?"

    def convert(self, value: str) -> float:
        return float(value)

    def to_string(self, value: float) -> str:
        number = float(value)
        assert not math.isnan(number), "a float path parameter cannot be NaN"
        assert not math.isinf(number), "a float path parameter cannot be infinite"
        assert number >= 0, "a float path parameter cannot be negative"
        # Fixed notation, never exponents: the regex above has no room for "1e-05".
        return f"{number:0.20f}".rstrip("0").rstrip(".")


class UUIDConvertor(Convertor[uuid.UUID]):
    """A UUID: 32 hex digits, dashes optional, either case."""

    regex = "[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}"

    def convert(self, value: str) -> uuid.UUID:
        return uuid.UUID(value)

    def to_string(self, value: uuid.UUID) -> str:
        return str(value)


CONVERTOR_TYPES: dict[str, Convertor[Any]] = {
    "str": StringConvertor(),
    "path": PathConvertor(),
    "int": IntegerConvertor(),
    "float": FloatConvertor(),
    "uuid": UUIDConvertor(),
}


def register_url_convertor(key: str, convertor: Convertor[Any]) -> None:
    """Make ``{name:key}`` usable in every route path compiled from now on.

    Registration is process-wide; paths compiled earlier keep the convertor they had.
    """
    CONVERTOR_TYPES[key] = convertor
