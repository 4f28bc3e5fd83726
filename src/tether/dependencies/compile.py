"""Registration-time analysis: turn an endpoint and its dependencies into a tree of nodes.

Everything reflective (``inspect.signature``, type hints, ``Annotated`` metadata, converter
choice) happens here, once per route. Each :class:`Node` ends up with a tuple of
``(name, extractor)`` pairs (an extractor is a plain function of the run's
:class:`~tether.dependencies.context.Context`) and a tuple of ``(name, sub-node)`` pairs; the solver in
:mod:`tether.dependencies` only walks these tuples.
"""

from __future__ import annotations

import collections.abc
import contextlib
import functools
import inspect
import re
import types
import typing
from collections.abc import Callable
from typing import Any, Final, NamedTuple

from tether.dependencies.convert import is_model_type, shape_of
from tether.dependencies.extract import (
    BodyLayout,
    Extractor,
    body_extractor,
    connection_extractor,
    param_extractor,
    scopes_extractor,
)
from tether.dependencies.forms import form_extractor, is_upload_type
from tether.dependencies.injected import injected_extractor
from tether.dependencies.limiting import limited
from tether.dependencies.models import model_params_extractor
from tether.dependencies.params import DependsInfo, ParamInfo, PathInfo, QueryInfo, SecurityInfo
from tether.exceptions import ConfigurationError
from tether.security import SecurityBase, SecurityScopes

__all__ = ["ASYNC", "ASYNC_GEN", "GEN", "SYNC", "CompileEnv", "Field", "Node", "compile_node"]

ASYNC: Final = 0
SYNC: Final = 1
ASYNC_GEN: Final = 2
GEN: Final = 3

_PATH_PARAM: Final = re.compile(r"{([a-zA-Z_][a-zA-Z0-9_]*)(?::[^}]*)?}")
_VARIADIC: Final = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)


class Field(NamedTuple):
    """A request parameter as declared: Python name, type and marker (with its default)."""

    name: str
    annotation: Any
    info: ParamInfo


class CompileEnv:
    """What every node of one route shares: the protocol, the path and the body layout."""

    __slots__ = ("body", "injected", "path", "path_names", "websocket")

    def __init__(self, websocket: bool, path: str) -> None:
        self.websocket = websocket
        self.path = path
        self.path_names = frozenset(_PATH_PARAM.findall(path or ""))
        self.body = BodyLayout()
        # Scope keys of the per-request objects (BackgroundTasks, Response) the tree asks for.
        self.injected: set[str] = set()


class Node:
    """One callable of the tree (the endpoint or a dependency), ready to be solved."""

    __slots__ = (
        "cache_key",
        "cached",
        "call",
        "enter",
        "env",
        "fields",
        "function_lifetime",
        "info",
        "kind",
        "overrides",
        "params",
        "plain",
        "scopes",
        "subs",
        "uses_scopes",
    )

    def __init__(self, call: Callable[..., Any], info: DependsInfo | None, env: CompileEnv):
        self.call = call
        self.info = info
        self.env = env
        self.kind = call_kind(call)
        self.params: tuple[tuple[str, Extractor], ...] = ()
        # What each request parameter was declared as, for documentation (OpenAPI) only.
        self.fields: tuple[Field, ...] = ()
        self.subs: tuple[tuple[str | None, Node], ...] = ()
        self.scopes: tuple[str, ...] = ()
        # Whether the value can change with the scopes (see finish_node's cache key).
        self.uses_scopes = False
        self.cache_key: Any = None
        # Whether the value is cached for the run; decided once the whole tree is known.
        self.cached = False
        # An uncached async function without sub-dependencies: solved inline (set with cached).
        self.plain = False
        # True when the value may depend on something torn down right after the endpoint.
        self.function_lifetime = False
        # Context-manager factory of a yield dependency, built once.
        self.enter: Callable[..., Any] | None = None
        # Compiled replacements from app.dependency_overrides, keyed by the replacement.
        self.overrides: dict[Any, Node] = {}

    @property
    def name(self) -> str:
        """A readable name for error messages."""
        return getattr(self.call, "__qualname__", None) or repr(self.call)


def _impartial(call: Any) -> Any:
    while isinstance(call, functools.partial):
        call = call.func
    return call


def _call_candidates(call: Callable[..., Any]) -> list[Any]:
    """What decides how ``call`` runs, outermost first.

    The callable itself, then what ``functools.wraps`` and ``functools.partial`` hide, then the
    ``__call__`` of an instance among those (itself unwrapped). The first that is not a plain
    function decides: a sync wrapper of a generator function returns a generator, and a sync
    wrapper of a coroutine function returns a coroutine.
    """
    outer = _impartial(call)
    found: list[Any] = [outer]
    try:
        inner = _impartial(inspect.unwrap(outer))
    except ValueError:  # a cycle of __wrapped__
        inner = outer
    if inner is not outer:
        found.append(inner)
    for each in tuple(found):
        if inspect.isclass(each) or inspect.isroutine(each):
            continue
        dunder = getattr(type(each), "__call__", None)  # noqa: B004
        if dunder is None:
            continue
        found.append(dunder)
        with contextlib.suppress(ValueError):
            found.append(_impartial(inspect.unwrap(dunder)))
    return found


def call_kind(call: Callable[..., Any]) -> int:
    """Classify a callable as ASYNC, SYNC, ASYNC_GEN or GEN (a class counts as SYNC).

    Looks through ``functools.wraps`` wrappers, partials and callable instances (see
    :func:`_call_candidates`), as FastAPI does for wrapped and partial dependencies.
    """
    for candidate in _call_candidates(call):
        if inspect.isclass(candidate):
            return SYNC
        if inspect.isasyncgenfunction(candidate):
            return ASYNC_GEN
        if inspect.isgeneratorfunction(candidate):
            return GEN
        if inspect.iscoroutinefunction(candidate):
            return ASYNC
    return SYNC


def _hints(call: Callable[..., Any]) -> dict[str, Any]:
    call = _impartial(call)
    if inspect.isclass(call):
        target: Any = call.__init__
    elif inspect.isroutine(call):
        target = call
    else:
        target = type(call).__call__  # noqa: B004
    try:
        return typing.get_type_hints(target, include_extras=True)
    except Exception:  # noqa: BLE001 - one unresolvable name: resolve the others one by one
        return _hints_one_by_one(target)


def _hints_one_by_one(target: Any) -> dict[str, Any]:
    namespace = getattr(inspect.unwrap(target), "__globals__", {})
    hints: dict[str, Any] = {}
    for name, annotation in getattr(target, "__annotations__", {}).items():
        try:
            hints[name] = typing._eval_type(  # type: ignore[attr-defined]
                typing.ForwardRef(annotation) if isinstance(annotation, str) else annotation,
                namespace,
                None,
            )
        except Exception:  # noqa: BLE001,S112 - left as text; reported with the parameter name
            continue
    return hints


def _signature(call: Callable[..., Any]) -> list[tuple[str, Any, Any]]:
    try:
        signature = inspect.signature(call)
    except (TypeError, ValueError) as exc:
        raise ConfigurationError(f"cannot read the parameters of {call!r}") from exc
    hints = _hints(call)
    found = []
    for parameter in signature.parameters.values():
        if parameter.kind in _VARIADIC:
            continue
        annotation = hints.get(parameter.name, parameter.annotation)
        if annotation is inspect.Parameter.empty:
            annotation = Any
        annotation = _alias_value(annotation)
        if isinstance(annotation, str):
            raise ConfigurationError(
                f"cannot resolve the annotation {annotation!r} of parameter "
                f"{parameter.name!r} of {call!r}; define the type at module level"
            )
        found.append((parameter.name, annotation, parameter.default))
    return found


def _alias_value(annotation: Any) -> Any:
    """What a ``type X = ...`` alias (PEP 695, or typing_extensions' ``TypeAliasType``) stands for.

    The alias object hides its ``Annotated`` markers (``Depends``, ``Query``...) behind
    ``__value__``, evaluated lazily; a parameter annotated with it is read as that value.
    """
    while type(annotation).__name__ == "TypeAliasType" and hasattr(annotation, "__value__"):
        annotation = annotation.__value__
    return annotation


def _split_marker(name: str, annotation: Any, default: Any) -> tuple[Any, Any, Any]:
    """Return (type, marker or None, default) from ``Annotated`` metadata and the default."""
    marker = None
    if typing.get_origin(annotation) is typing.Annotated:
        args = typing.get_args(annotation)
        others = []
        for meta in args[1:]:
            if isinstance(meta, (ParamInfo, DependsInfo)):
                marker = meta
            else:
                others.append(meta)
        # Foreign metadata (pydantic or annotated-types constraints) stays for pydantic to apply.
        annotation = typing.Annotated[(args[0], *others)] if others else args[0]
    if isinstance(default, (ParamInfo, DependsInfo)):
        if marker is not None:
            raise ConfigurationError(
                f"parameter {name!r} has a marker both in Annotated and as its default"
            )
        marker, default = default, inspect.Parameter.empty
        annotation = _plain_when_marker_is_default(annotation)
    return annotation, marker, default


def _plain_when_marker_is_default(annotation: Any) -> Any:
    """FastAPI's reading of ``pet: Annotated[U, Discriminator(...)] = Body()``: with the marker
    as the default and no pydantic ``Field()`` in the metadata, the type is the bare ``U`` (the
    discriminator is dropped; validation tries each member, the schema is an ``anyOf``)."""
    if typing.get_origin(annotation) is not typing.Annotated:
        return annotation
    args = typing.get_args(annotation)
    if any(type(meta).__name__ == "FieldInfo" for meta in args[1:]):
        return annotation
    if not any(type(meta).__name__ == "Discriminator" for meta in args[1:]):
        return annotation
    return args[0]


def compile_node(
    call: Callable[..., Any],
    env: CompileEnv,
    info: DependsInfo | None,
    scopes: tuple[str, ...],
    seen: tuple[Any, ...] = (),
) -> Node:
    """Compile ``call`` and, recursively, its sub-dependencies.

    Raises :class:`ConfigurationError` for impossible declarations: a dependency cycle, a
    connection type that the protocol cannot provide, a type that cannot be read, a
    connection-scoped ``yield`` dependency that needs a function-scoped one.
    """
    if call in seen:
        raise ConfigurationError(f"dependency cycle through {call!r}")
    node = Node(call, info, env)
    node.scopes = scopes
    params: list[tuple[str, Extractor]] = []
    subs: list[tuple[str | None, Node]] = []
    fields: list[Field] = []
    # FastAPI's rule for the cache: scopes split it where they are read (a scheme, a
    # SecurityScopes parameter, below) and where Security(..., scopes=[...]) declares them.
    node.uses_scopes = isinstance(call, SecurityBase) or bool(getattr(info, "scopes", None))
    for name, annotation, raw_default in _signature(call):
        kind, marker, default = _split_marker(name, annotation, raw_default)
        node.uses_scopes = node.uses_scopes or kind is SecurityScopes
        if isinstance(marker, DependsInfo):
            subs.append((name, _sub_node(marker, kind, env, scopes, (*seen, call))))
        else:
            extract, declared = _extractor(name, kind, marker, default, env, scopes, call)
            params.append((name, extract))
            if declared is not None:
                fields.append(Field(name, kind, declared))
    node.params = tuple(params)
    node.subs = tuple(subs)
    node.fields = tuple(fields)
    node.uses_scopes = node.uses_scopes or any(sub.uses_scopes for _, sub in subs)
    finish_node(node)
    return node


def _sub_node(
    marker: DependsInfo, annotation: Any, env: CompileEnv, scopes: tuple[str, ...], seen: Any
) -> Node:
    dependency = marker.dependency
    if dependency is None:
        if not callable(annotation) or annotation is Any:
            raise ConfigurationError("Depends() without a callable needs a class as annotation")
        dependency = annotation
    if isinstance(marker, SecurityInfo):
        scopes = (*scopes, *marker.scopes)
    if marker.max_concurrency is not None:
        dependency = limited(dependency, marker.max_concurrency, marker.sync_inline)
    return compile_node(dependency, env, marker, scopes, seen)


def finish_node(node: Node) -> None:
    """Set the cache key, the yield context-manager factory and check the scope nesting."""
    info = node.info
    call = node.call
    try:
        hash(call)
        key: Any = call
    except TypeError:  # an unhashable callable (e.g. a dataclass instance) is keyed by id
        key = ("id", id(call))
    # Scopes split the cache only where they can change the value (a SecurityScopes reader or
    # a scheme below): a plain dependency under two Security(...) markers still runs once.
    node.cache_key = (key, node.scopes) if node.scopes and node.uses_scopes else key
    # A function-scoped value is torn down when the endpoint returns, a connection-scoped one
    # after the response: they are two values, never one cached for both (as FastAPI keys them).
    if info is not None and info.scope == "function":
        node.cache_key = ("function", node.cache_key)
    if node.kind == ASYNC_GEN:
        node.enter = contextlib.asynccontextmanager(call)
    elif node.kind == GEN:
        node.enter = contextlib.contextmanager(call)
    generator = node.kind in (ASYNC_GEN, GEN)
    scope = info.scope if info is not None else "connection"
    below = any(sub.function_lifetime for _, sub in node.subs)
    if generator and scope == "connection" and below:
        raise ConfigurationError(
            # FastAPI's sentence (its tests match it; "request" is tether's "connection").
            f'The dependency "{getattr(call, "__name__", node.name)}" has a scope of "request", '
            "it cannot depend on "
            'dependencies with scope "function": that one is cleaned up first, while this '
            "one still uses it"
        )
    node.function_lifetime = below or (generator and scope == "function")


def _extractor(
    name: str,
    annotation: Any,
    marker: ParamInfo | None,
    default: Any,
    env: CompileEnv,
    scopes: tuple[str, ...],
    call: Any,
) -> tuple[Extractor, ParamInfo | None]:
    """The extractor of one parameter, and its marker when it is read from the request."""
    injected = connection_extractor(annotation, env.websocket, name, call)
    if injected is not None:
        return injected, None
    by_type = injected_extractor(annotation, env.websocket, name, call)
    if by_type is not None:
        env.injected.add(by_type[1])
        return by_type[0], None
    by_scopes = scopes_extractor(annotation, scopes)
    if by_scopes is not None:
        return by_scopes, None
    if marker is None:
        marker = _implicit_marker(name, annotation, env)
    if default is not inspect.Parameter.empty:
        marker = _with_default(marker, default)
    if marker.source in ("body", "form", "file"):
        if env.websocket:
            raise ConfigurationError(
                f"parameter {name!r} of {call!r} would be read from a request body, which a "
                "WebSocket handshake does not have; declare it with Query() or Header()"
            )
        if marker.source in ("form", "file"):
            return form_extractor(name, annotation, marker, env.body), marker
        return body_extractor(name, annotation, marker, env.body), marker
    shape = shape_of(annotation)
    if shape.container is None and is_model_type(shape.inner):  # a model, or an optional one
        return model_params_extractor(name, shape.inner, marker, shape.optional), marker
    return param_extractor(name, annotation, marker), marker


def _implicit_marker(name: str, annotation: Any, env: CompileEnv) -> ParamInfo:
    """A parameter without marker: a path parameter by name, a model is the body, else query."""
    from tether.dependencies.params import BodyInfo, FileInfo

    if name in env.path_names:
        return PathInfo()
    if is_upload_type(annotation):
        return FileInfo()
    shape = shape_of(annotation)
    if _is_complex(shape.inner) or (
        shape.container is not None and shape_of(shape.inner).container is not None
    ):
        # FastAPI's rule: what a query string cannot carry is the body (a model, an optional
        # one, a union of models, a dict, a list of any of them, a list of lists).
        return BodyInfo()
    return QueryInfo()


def _is_complex(annotation: Any) -> bool:
    """A model, a dataclass or a mapping, or a union holding one: a JSON body's shape."""
    if typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    origin = typing.get_origin(annotation)
    if origin is typing.Union or origin is types.UnionType:
        return any(_is_complex(arg) for arg in typing.get_args(annotation))
    return any(
        is_model_type(candidate)
        or (isinstance(candidate, type) and issubclass(candidate, collections.abc.Mapping))
        for candidate in (annotation, origin)
    )


def _with_default(marker: ParamInfo, default: Any) -> ParamInfo:
    """Copy a marker with the parameter's default (``q: Annotated[int, Query()] = 3``)."""
    if not marker.required:
        return marker
    clone = type(marker).__new__(type(marker))
    for klass in type(marker).__mro__:
        for slot in getattr(klass, "__slots__", ()):
            if hasattr(marker, slot):
                setattr(clone, slot, getattr(marker, slot))
    clone.default = default
    return clone
