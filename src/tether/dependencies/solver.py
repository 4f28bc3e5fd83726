"""Dependency injection and parameter validation, shared by HTTP and WebSocket routes.

A route's :class:`EndpointPlan` is compiled once, at registration, by
:meth:`EndpointPlan.compile`; each request or connection then calls :meth:`EndpointPlan.run`,
which reads and validates the declared parameters, solves the dependencies, calls the
endpoint and runs the cleanups of ``yield`` dependencies.

Order of work in a run, as in FastAPI: for each callable of the tree, its sub-dependencies
first (route-level ``dependencies=[...]`` before the endpoint's own), then its path, query,
header, cookie and body parameters in declaration order. Every validation error is collected;
once one is recorded no further dependency is *called* (its parameters are still read, so the
error list is complete), and the run raises :class:`RequestValidationError` (HTTP) or
:class:`WebSocketRequestValidationError` (WebSocket) with all of them.

Lifetimes: a ``yield`` dependency with ``scope="function"`` is cleaned up right after the
endpoint returns; with ``scope="connection"`` (the default), at the end of the run, or later
when the caller passes its own ``exit_stack``. Cleanups see the exception that ended the
endpoint: it is thrown into the generator at its ``yield``.

Values are cached per run by callable (and security scopes): a dependency used twice is
called once, unless declared with ``use_cache=False``.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager, AsyncExitStack
from types import TracebackType
from typing import Any, Final

from tether.concurrency import run_in_threadpool
from tether.dependencies.body import read_json_body
from tether.dependencies.compile import (
    ASYNC,
    ASYNC_GEN,
    GEN,
    SYNC,
    CompileEnv,
    Node,
    compile_node,
)
from tether.dependencies.context import MISSING, Context
from tether.dependencies.extract import get_connection
from tether.dependencies.fast import build_fast_runner
from tether.dependencies.forms import read_form_body
from tether.dependencies.params import DependsInfo, SecurityInfo
from tether.exceptions import (
    ConfigurationError,
    RequestValidationError,
    ValidationError,
    WebSocketRequestValidationError,
)

__all__ = ["OBSERVER_KEY", "EndpointPlan", "observed_operation", "swallowed_error"]

OBSERVER_KEY: Final = "tether.telemetry"
"""The scope entry telemetry puts its observer in (see :meth:`EndpointPlan.run_observed`)."""

_ExcInfo = tuple[type[BaseException] | None, BaseException | None, TracebackType | None]
_NO_EXC: Final[_ExcInfo] = (None, None, None)


class EndpointPlan:
    """The compiled parameters and dependencies of one endpoint.

    Build it with :meth:`compile` at registration; call :meth:`run` per request or connection.
    ``connection_call(connection)`` does what ``run(connection)`` does, without ``exit_stack``,
    and is the endpoint itself when that takes nothing but the connection.
    """

    __slots__ = (
        "_body",
        "_error",
        "_flat",
        "_root",
        "_takes",
        "connection_call",
        "endpoint",
        "path",
        "strict_content_type",
        "websocket",
    )

    def __init__(self, root: Node, endpoint: Callable[..., Any], websocket: bool, path: str):
        self._root = root
        self._error: type[ValidationError] = (
            WebSocketRequestValidationError if websocket else RequestValidationError
        )
        self._body = root.env.body.count > 0
        # FastAPI's strict_content_type: a JSON body needs a JSON Content-Type (the route
        # sets this from its own, its routers' and the app's setting).
        self.strict_content_type = True
        # An async endpoint without dependencies or body has nothing to override, nothing to
        # clean up and nothing to await but itself: run() takes a short cut for it.
        self._flat = not root.subs and not self._body and root.kind == ASYNC
        # ... and when it only asks for the connection, not even a Context is needed.
        self._takes: tuple[str, ...] | None = None
        if self._flat and all(extract is get_connection for _, extract in root.params):
            self._takes = tuple(name for name, _ in root.params)
        # What routes call per connection: run, or the endpoint itself when it only takes the
        # connection as its one positional parameter (no frame of the plan's own).
        self.connection_call: Callable[[Any], Awaitable[Any]] = self.run
        fast = None if self._body else build_fast_runner(root, self.run, self._error)
        if self._takes is not None and _only_positional(root.call, self._takes):
            self.connection_call = root.call
        elif fast is not None:  # connection, str path/query parameters, simple dependencies
            self.connection_call = fast
        elif self._flat:
            self.connection_call = self._run_flat
        elif not self._body and root.kind == ASYNC and all(sub.plain for _, sub in root.subs):
            self.connection_call = self._run_shallow
        self.endpoint = endpoint
        self.websocket = websocket
        self.path = path

    @property
    def root(self) -> Node:
        """The compiled tree (read by documentation tools such as :mod:`tether.openapi`)."""
        return self._root

    @property
    def injected(self) -> frozenset[str]:
        """Scope keys of the per-request objects (background tasks, sub-response) it creates."""
        return frozenset(self._root.env.injected)

    @property
    def body_embedded(self) -> bool:
        """Whether body parameters are read from under their names in a body object."""
        return self._root.env.body.embed

    @classmethod
    def compile(
        cls,
        endpoint: Callable[..., Any],
        *,
        websocket: bool,
        dependencies: Sequence[Any] | None = None,
        path: str = "",
    ) -> EndpointPlan:
        """Analyse ``endpoint`` and ``dependencies`` (``Depends(...)`` markers run first).

        Raises :class:`~tether.exceptions.ConfigurationError` for declarations that can never
        work: a ``Request`` on a WebSocket route or a ``WebSocket`` on an HTTP route, a
        synchronous WebSocket endpoint, a request body on a WebSocket route, a type that
        cannot be read from a request, a dependency cycle, a connection-scoped ``yield``
        dependency that needs a function-scoped one.
        """
        if websocket and Node(endpoint, None, CompileEnv(True, "")).kind != ASYNC:
            raise ConfigurationError(
                f"WebSocket endpoint {endpoint!r} must be an 'async def' function"
            )
        env = CompileEnv(websocket, path)
        root = compile_node(endpoint, env, None, ())
        route_deps = tuple((None, _route_dependency(marker, env)) for marker in dependencies or ())
        if route_deps:
            root.subs = route_deps + root.subs
        _decide_caching(root)
        return cls(root, endpoint, websocket, path)

    def _invalid(self, ctx: Context) -> ValidationError:
        """The validation error of a failed run (with the body read, for an HTTP route)."""
        errors = ctx.errors or []
        if self._error is RequestValidationError:
            return RequestValidationError(errors, body=None if ctx.body is MISSING else ctx.body)
        return self._error(errors)

    def dependency_calls(self) -> list[Any]:
        """Every callable of the plan: the endpoint, then its dependencies, depth first."""
        calls: list[Any] = []
        stack = [self._root]
        while stack:
            node = stack.pop()
            calls.append(node.call)
            stack.extend(sub for _, sub in reversed(node.subs))
        return calls

    async def run(self, connection: Any, *, exit_stack: AsyncExitStack | None = None) -> Any:
        """Solve the parameters and dependencies for ``connection``, call the endpoint.

        Returns the endpoint's return value. Raises the endpoint's own exceptions,
        ``HTTPException``/``WebSocketException`` raised by dependencies, and
        :class:`RequestValidationError` or :class:`WebSocketRequestValidationError` with
        every validation error. When ``exit_stack`` is given, connection-scoped ``yield``
        cleanups are pushed onto it (to run after the response is sent) instead of being
        run here.
        """
        if self._flat:
            return await self._run_flat(connection)
        app = connection.scope.get("app")
        overrides = getattr(app, "dependency_overrides", None) if app is not None else None
        ctx = Context(connection, overrides or None)
        if exit_stack is not None:
            ctx.stack = exit_stack
        try:
            if self._body:
                layout = self._root.env.body
                if layout.form:
                    await read_form_body(ctx, layout.bytes_keys)
                else:
                    await read_json_body(ctx, self.strict_content_type)
                if ctx.errors is not None:  # a body that is not JSON: nothing else to check
                    raise self._invalid(ctx)
            root = self._root
            values = await _solve(root, ctx) if root.subs else _extract(root, ctx)
            if ctx.errors is not None:
                raise self._invalid(ctx)
            if root.kind == ASYNC:
                result = await root.call(**values)
            else:
                result = await run_in_threadpool(root.call, **values)
        except BaseException as exc:
            cleanup = ctx.function_stack is not None or ctx.stack is not exit_stack
            if cleanup and await _close(ctx, exc, exit_stack):
                return self._swallowed(exc)
            raise
        # Only runs that entered a yield dependency have anything to clean up.
        if ctx.function_stack is not None or ctx.stack is not exit_stack:
            await _close(ctx, None, exit_stack)
        return result

    async def run_observed(
        self, connection: Any, *, exit_stack: AsyncExitStack | None = None
    ) -> Any:
        """:meth:`run` for a scope telemetry observes (``scope["tether.telemetry"]``).

        The same work, reported to the scope's observer (:mod:`tether.telemetry.observer`,
        reached by duck typing: this layer imports nothing of telemetry): the connection and
        body, the solved arguments and validation errors go to its data, and the dependencies
        and the endpoint run inside its operation spans. Only observed scopes come here, so
        the other paths of the plan stay as they are.
        """
        observer = connection.scope.get(OBSERVER_KEY)
        if observer is None:
            return await self.run(connection, exit_stack=exit_stack)
        data = observer.data
        if data is not None:
            if self.websocket:
                data.websocket = connection
            else:
                data.request = connection
        app = connection.scope.get("app")
        overrides = getattr(app, "dependency_overrides", None) if app is not None else None
        ctx = Context(connection, overrides or None)
        if exit_stack is not None:
            ctx.stack = exit_stack
        try:
            root = self._root
            with observed_operation(observer, "dependencies", root.call):
                await self._read_body(ctx, data)
                values = {}
                if ctx.errors is None:  # else a body that is not JSON: nothing else to check
                    values = await _solve(root, ctx) if root.subs else _extract(root, ctx)
            if ctx.errors is not None:  # reported in the server span's context, as exceptions
                body = None if ctx.body is MISSING else ctx.body
                observer.validation_failed(list(ctx.errors), body)
                raise self._invalid(ctx)
            if data is not None:
                data.values, data.errors = dict(values), []
            if root.kind == ASYNC:
                with observed_operation(observer, "endpoint", root.call):
                    result = await root.call(**values)
            else:  # the span starts in the worker thread, where the endpoint runs
                result = await run_in_threadpool(_call_observed, observer, root.call, values)
        except BaseException as exc:
            cleanup = ctx.function_stack is not None or ctx.stack is not exit_stack
            if cleanup and await _close(ctx, exc, exit_stack):
                return self._swallowed(exc)
            raise
        if ctx.function_stack is not None or ctx.stack is not exit_stack:
            await _close(ctx, None, exit_stack)
        return result

    async def _read_body(self, ctx: Context, data: Any) -> None:
        if not self._body:
            return
        layout = self._root.env.body
        if layout.form:
            await read_form_body(ctx, layout.bytes_keys)
        else:
            await read_json_body(ctx)
        if data is not None and ctx.body is not MISSING:
            data.body = ctx.body

    async def _run_shallow(self, connection: Any) -> Any:
        # run() for an async endpoint whose dependencies are all plain (see _solve): nothing
        # to clean up, so no exit stacks and no exception handling of its own. _solve is
        # inlined (one coroutine less), and the connection is passed without its extractor.
        app = connection.scope.get("app")
        if app is not None and getattr(app, "dependency_overrides", None):
            return await self.run(connection)
        ctx = Context(connection, None)
        root = self._root
        values: dict[str, Any] = {}
        for name, sub in root.subs:
            arguments = {}
            for key, extract in sub.params:
                arguments[key] = connection if extract is get_connection else extract(ctx)
            value = MISSING if ctx.errors is not None else await sub.call(**arguments)
            if name is not None:
                values[name] = value
        for name, extract in root.params:
            values[name] = connection if extract is get_connection else extract(ctx)
        if ctx.errors is not None:
            raise self._invalid(ctx)
        return await root.call(**values)

    async def _run_flat(self, connection: Any) -> Any:
        root = self._root
        takes = self._takes
        if takes is not None:
            return await root.call(**dict.fromkeys(takes, connection))
        ctx = Context(connection, None)
        values = {name: extract(ctx) for name, extract in root.params}
        if ctx.errors is not None:
            raise self._invalid(ctx)
        return await root.call(**values)

    def _swallowed(self, exc: BaseException) -> Any:
        if self.websocket:
            return None
        # An HTTP endpoint that failed has no response to send; a 500 is the honest outcome.
        raise swallowed_error() from exc

    def __repr__(self) -> str:
        kind = "WebSocket" if self.websocket else "HTTP"
        return f"<EndpointPlan {kind} {self.path!r} {self._root.name}>"


def swallowed_error() -> ConfigurationError:
    """The error for an HTTP endpoint whose exception a yield dependency caught and kept.

    Nothing is left to answer with, so the request fails as a server error (500) and the test
    client raises this, as FastAPI raises its ``FastAPIError`` (tether's ``ConfigurationError``).
    """
    return ConfigurationError(
        "the endpoint failed and left no response to send: the likely cause is the endpoint "
        "raising an exception and a dependency with yield catching it (a bare except, or "
        "except Exception) without raising it again; re-raise it after the cleanup"
    )


class _NoOperation:
    __slots__ = ()

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


_NO_OPERATION = _NoOperation()


def observed_operation(observer: Any, name: str, function: Any) -> Any:
    """The observer's span for operation ``name``, or a context manager that does nothing."""
    operation = observer.operation(name, function)
    return _NO_OPERATION if operation is None else operation


def _call_observed(observer: Any, call: Callable[..., Any], values: dict[str, Any]) -> Any:
    with observed_operation(observer, "endpoint", call):
        return call(**values)


def _only_positional(call: Callable[..., Any], takes: tuple[str, ...]) -> bool:
    """True when ``call(x)`` is ``call(**{takes[0]: x})``: one parameter, passable by position."""
    try:
        parameters = list(inspect.signature(call).parameters.values())
    except (TypeError, ValueError):
        return False
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return (
        len(takes) == 1
        and len(parameters) == 1
        and parameters[0].name == takes[0]
        and parameters[0].kind in positional
    )


def _route_dependency(marker: Any, env: CompileEnv) -> Node:
    if not isinstance(marker, DependsInfo) or marker.dependency is None:
        raise ConfigurationError(
            f"route dependencies must be Depends(callable) markers, got {marker!r}"
        )
    # Security(call, scopes=[...]) in a route's dependencies declares its scopes as it does
    # on a parameter: the scheme below sees them (SecurityScopes, the OpenAPI requirement).
    scopes = tuple(marker.scopes) if isinstance(marker, SecurityInfo) else ()
    return compile_node(marker.dependency, env, marker, scopes)


def _count_keys(node: Node, counts: dict[Any, int]) -> None:
    for _, sub in node.subs:
        counts[sub.cache_key] = counts.get(sub.cache_key, 0) + 1
        _count_keys(sub, counts)


def _decide_caching(root: Node) -> None:
    """Cache only values asked for more than once: the cache dict is then often never built."""
    counts: dict[Any, int] = {}
    _count_keys(root, counts)

    def mark(node: Node) -> None:
        for _, sub in node.subs:
            sub.cached = sub.info is not None and sub.info.use_cache and counts[sub.cache_key] > 1
            sub.plain = sub.kind == ASYNC and not sub.subs and not sub.cached
            mark(sub)

    mark(root)


async def _solve(node: Node, ctx: Context) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name, sub in node.subs:
        if sub.plain and ctx.overrides is None:
            # _resolve inlined for the common dependency: async, no sub-dependencies, uncached.
            arguments = {}
            for key, extract in sub.params:
                arguments[key] = extract(ctx)
            value = MISSING if ctx.errors is not None else await sub.call(**arguments)
        else:
            value = await _resolve(sub, ctx)
        if name is not None:
            values[name] = value
    for name, extract in node.params:
        values[name] = extract(ctx)
    return values


def _extract(node: Node, ctx: Context) -> dict[str, Any]:
    """The values of a node without sub-dependencies: no awaiting needed."""
    return {name: extract(ctx) for name, extract in node.params}


async def _resolve(node: Node, ctx: Context) -> Any:
    cached = node.cached
    if ctx.overrides is not None:
        node = _overridden(node, ctx.overrides)
        cached = node.info is not None and node.info.use_cache
    if cached and ctx.cache is not None:
        hit = ctx.cache.get(node.cache_key, MISSING)
        if hit is not MISSING:
            return hit
    values = await _solve(node, ctx) if node.subs else _extract(node, ctx)
    if ctx.errors is not None:
        return MISSING
    if node.kind == ASYNC:  # the common case, without one more coroutine frame
        value = await node.call(**values)
    else:
        value = await _enter(node, values, ctx)
    if cached:
        if ctx.cache is None:
            ctx.cache = {}
        ctx.cache[node.cache_key] = value
    return value


def _overridden(node: Node, overrides: dict[Any, Any]) -> Node:
    info = node.info
    # The declared dependency, not the max_concurrency wrapper that may stand in for it.
    declared = info.dependency if info is not None and info.dependency is not None else node.call
    try:
        replacement = overrides.get(declared)
    except TypeError:  # unhashable callable: it cannot be a key of the overrides dict
        return node
    if replacement is None:
        return node
    compiled = node.overrides.get(replacement)
    if compiled is None:
        compiled = compile_node(replacement, node.env, node.info, node.scopes)
        compiled.cache_key = node.cache_key  # the override stands in for the original
        node.overrides[replacement] = compiled
    return compiled


async def _enter(node: Node, values: dict[str, Any], ctx: Context) -> Any:
    kind = node.kind
    if kind == SYNC:
        if node.info is not None and node.info.sync_inline:
            return node.call(**values)
        return await run_in_threadpool(node.call, **values)
    stack = _stack_for(node, ctx)
    assert node.enter is not None
    if kind == ASYNC_GEN:
        return await stack.enter_async_context(node.enter(**values))
    assert kind == GEN
    return await stack.enter_async_context(_ThreadedContext(node.enter(**values)))


def _stack_for(node: Node, ctx: Context) -> AsyncExitStack:
    if node.info is not None and node.info.scope == "function":
        if ctx.function_stack is None:
            ctx.function_stack = AsyncExitStack()
        return ctx.function_stack
    if ctx.stack is None:
        ctx.stack = AsyncExitStack()
    return ctx.stack


class _ThreadedContext(AbstractAsyncContextManager[Any]):
    """Runs a synchronous generator's setup and cleanup in a worker thread (they may block)."""

    __slots__ = ("_manager",)

    def __init__(self, manager: Any) -> None:
        self._manager = manager

    async def __aenter__(self) -> Any:
        return await run_in_threadpool(self._manager.__enter__)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool | None:
        exit_ = functools.partial(self._manager.__exit__, exc_type, exc, tb)
        return await run_in_threadpool(exit_)


def _exc_info(exc: BaseException | None) -> _ExcInfo:
    return _NO_EXC if exc is None else (type(exc), exc, exc.__traceback__)


async def _close(ctx: Context, exc: BaseException | None, external: AsyncExitStack | None) -> bool:
    """Run function-scoped cleanups, then connection-scoped ones; True if ``exc`` was swallowed."""
    info = _exc_info(exc)
    functions = ctx.function_stack
    connection = ctx.stack if ctx.stack is not external else None
    suppressed = False
    if functions is not None:
        try:
            suppressed = bool(await functions.__aexit__(*info))
        except BaseException as new:
            if connection is not None and await connection.__aexit__(*_exc_info(new)):
                return True
            raise
        if suppressed:
            info = _NO_EXC
    if connection is not None:
        suppressed = bool(await connection.__aexit__(*info)) or suppressed
    return suppressed
