"""Path templates: compile ``/items/{id:int}`` into a regex and a format string.

Shared by every route kind (:mod:`tether.routing`). Host templates (those not starting with
``/``) compile case-insensitively and without a port, since :class:`~tether.routing.Host`
strips the port from the ``Host`` header before matching.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable
from typing import Any

from tether.convertors import CONVERTOR_TYPES, Convertor, IntegerConvertor, StringConvertor
from tether.exceptions import TetherError
from tether.types import Scope

__all__ = [
    "Match",
    "NoMatchFound",
    "ParamsMatcher",
    "compile_path",
    "get_route_path",
    "literal_prefix",
    "regex_matcher",
    "replace_params",
    "segment_matcher",
]

PARAM_REGEX = re.compile(r"{([a-zA-Z_][a-zA-Z0-9_]*)(:[a-zA-Z_][a-zA-Z0-9_]*)?}")


class Match(enum.Enum):
    """How well a route matches a scope: not at all, path only (wrong method), or fully."""

    NONE = 0
    PARTIAL = 1
    FULL = 2


class NoMatchFound(TetherError):
    """``url_path_for`` found no route with this name and exactly these parameter names."""

    def __init__(self, name: str, path_params: dict[str, Any]) -> None:
        params = ", ".join(list(path_params.keys()))
        super().__init__(f'no route is named "{name}" with the parameters "{params}"')


def compile_path(path: str) -> tuple[re.Pattern[str], str, dict[str, Convertor[Any]]]:
    """Compile a path (or host) template into ``(regex, format, convertors)``.

    ``/users/{id:int}`` gives the regex ``^/users/(?P<id>[0-9]+)$``, the format
    ``/users/{id}`` and ``{"id": IntegerConvertor()}``.

    Raises ``AssertionError`` for an unknown convertor type and ``ValueError`` when a
    parameter name appears twice.
    """
    is_host = not path.startswith("/")
    regex, path_format = "^", ""
    convertors: dict[str, Convertor[Any]] = {}
    duplicates: set[str] = set()
    index = 0
    for match in PARAM_REGEX.finditer(path):
        name, kind = match.groups("str")
        kind = kind.lstrip(":")
        assert kind in CONVERTOR_TYPES, f"no path convertor is registered as {kind!r}"
        convertor = CONVERTOR_TYPES[kind]
        literal = path[index : match.start()]
        regex += re.escape(literal) + f"(?P<{name}>{convertor.regex})"
        path_format += literal + "{" + name + "}"
        if name in convertors:
            duplicates.add(name)
        convertors[name] = convertor
        index = match.end()
    if duplicates:
        names = ", ".join(sorted(duplicates))
        noun = "names" if len(duplicates) > 1 else "name"
        raise ValueError(f"path parameter {noun} {names} appear more than once in {path}")
    tail = path[index:]
    if is_host:
        regex += re.escape(tail.split(":")[0]) + "$"
        return re.compile(regex, re.IGNORECASE), path_format + tail, convertors
    regex += re.escape(tail) + "$"
    return re.compile(regex), path_format + tail, convertors


def replace_params(
    path_format: str,
    convertors: dict[str, Convertor[Any]],
    params: dict[str, Any],
) -> tuple[str, dict[str, Any]]:
    """Fill the ``{name}`` slots of ``path_format``; return the path and the unused params."""
    remaining = dict(params)
    for key, value in params.items():
        slot = "{" + key + "}"
        if slot in path_format:
            path_format = path_format.replace(slot, convertors[key].to_string(value))
            remaining.pop(key)
    return path_format, remaining


def get_route_path(scope: Scope) -> str:
    """The part of ``scope["path"]`` a route matches: the path below ``root_path``.

    ``root_path`` is stripped only when it is followed by ``/`` (or is the whole path), so a
    mount at ``/api`` does not eat the front of ``/apiary``.
    """
    path: str = scope["path"]
    root_path: str = scope.get("root_path", "")
    if not root_path:
        return path
    if path == root_path:
        return ""
    if path.startswith(root_path) and path[len(root_path)] == "/":
        return path[len(root_path) :]
    return path


def literal_prefix(path: str) -> tuple[str, ...]:
    """The leading segments of a path template that contain no parameter.

    ``/api/v1/items/{id}`` gives ``("api", "v1", "items")``; used to index routes.
    """
    segments: list[str] = []
    for segment in path.split("/")[1:]:
        if "{" in segment:
            break
        segments.append(segment)
    return tuple(segments)


ParamsMatcher = Callable[[str], "dict[str, Any] | None"]
"""Route path -> converted path parameters, or None when the path does not match."""


def regex_matcher(regex: re.Pattern[str], convertors: dict[str, Convertor[Any]]) -> ParamsMatcher:
    """The general matcher: ``regex`` then ``convert`` on the non-``str`` parameters."""
    converting = tuple(
        (name, convertor)
        for name, convertor in convertors.items()
        if type(convertor) is not StringConvertor
    )
    match = regex.match

    def params(route_path: str) -> dict[str, Any] | None:
        found = match(route_path)
        if found is None:
            return None
        values = found.groupdict()
        for name, convertor in converting:
            values[name] = convertor.convert(values[name])
        return values

    return params


def segment_matcher(
    path: str, convertors: dict[str, Convertor[Any]], fallback: ParamsMatcher
) -> ParamsMatcher | None:
    """A matcher without regex for a template whose parameters are whole ``str``/``int`` segments.

    A static path becomes a string comparison, ``/rooms/{room}`` a prefix test and one ``find("/")``; ``/a/{x:int}/b`` a split and
    a comparison per segment. None for any other template (the regex then decides). A path
    ending in a newline that fails here is given to ``fallback``: the regex's ``$`` also
    matches before a final newline, and that answer is kept.
    """
    if not path.startswith("/"):
        return None
    if not convertors:
        return _static_matcher(path, fallback)
    plan: list[tuple[str, str]] = []  # (literal, "") or (name, "str" | "int")
    for segment in path.split("/"):
        found = PARAM_REGEX.fullmatch(segment)
        if found is None:
            if PARAM_REGEX.search(segment):
                return None  # a parameter sharing its segment with literal text
            plan.append((segment, ""))
            continue
        name = found.group(1)
        kind = _SIMPLE_KINDS.get(type(convertors[name]))
        if kind is None:
            return None
        plan.append((name, kind))
    if len(convertors) == 1 and plan[-1][1]:
        name, kind = plan[-1]
        return _trailing_matcher(path[: path.rindex("{")], name, kind == "int", fallback)
    return _split_matcher(tuple(plan), fallback)


def _static_matcher(path: str, fallback: ParamsMatcher) -> ParamsMatcher:
    def params(route_path: str) -> dict[str, Any] | None:
        if route_path == path:
            return {}
        return fallback(route_path) if route_path[-1:] == "\n" else None

    return params


_SIMPLE_KINDS: dict[type[Any], str] = {StringConvertor: "str", IntegerConvertor: "int"}


def _trailing_matcher(
    prefix: str, name: str, to_int: bool, fallback: ParamsMatcher
) -> ParamsMatcher:
    size = len(prefix)

    def params(route_path: str) -> dict[str, Any] | None:
        # Slicing and operators: on 3.11 each str method call costs about what they all do.
        if route_path[:size] == prefix:
            value = route_path[size:]
            if value and "/" not in value:
                if not to_int:
                    return {name: value}
                if value.isdigit() and value.isascii():
                    return {name: int(value)}
        return fallback(route_path) if route_path[-1:] == "\n" else None

    return params


def _split_matcher(plan: tuple[tuple[str, str], ...], fallback: ParamsMatcher) -> ParamsMatcher:
    count = len(plan)

    def params(route_path: str) -> dict[str, Any] | None:
        segments = route_path.split("/")
        if len(segments) == count:
            values: dict[str, Any] = {}
            for (text, kind), segment in zip(plan, segments, strict=True):
                if not kind:
                    if segment != text:
                        break
                elif not segment:
                    break
                elif kind == "str":
                    values[text] = segment
                elif segment.isdigit() and segment.isascii():
                    values[text] = int(segment)
                else:
                    break
            else:
                return values
        return fallback(route_path) if route_path[-1:] == "\n" else None

    return params
