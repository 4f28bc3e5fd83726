"""Route kinds: :class:`Route` (HTTP), :class:`WebSocketRoute`, :class:`Mount`, :class:`Host`.

Every route is an ASGI app. ``matches(scope)`` says whether (and how well) it fits a scope and
returns the child scope to merge; ``handle`` serves it; ``url_path_for`` builds its URL.
``index_key`` tells the router's index (:mod:`tether.routing.index`) which paths a route can
possibly match, so the router only tries a few candidates per request.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any

from tether.concurrency import is_async_callable, run_in_threadpool
from tether.datastructures import URLPath
from tether.exceptions import HTTPException
from tether.requests import Request
from tether.responses import PlainTextResponse, Response
from tether.routing.errors import (
    HANDLERS_KEY,
    apply_handler,
    ensure_tracker,
    lookup_handler,
    run_guarded,
)
from tether.routing.paths import (
    Match,
    NoMatchFound,
    ParamsMatcher,
    compile_path,
    get_route_path,
    literal_prefix,
    regex_matcher,
    replace_params,
    segment_matcher,
)
from tether.types import ASGIApp, Receive, Scope, Send
from tether.websockets import WebSocket, WebSocketClose

if TYPE_CHECKING:
    from tether.middleware import Middleware

__all__ = [
    "BaseRoute",
    "IndexKey",
    "Route",
    "WebSocketRoute",
    "WebSocketSession",
    "direct_websocket_call",
    "get_name",
    "request_response",
    "websocket_session",
]

_NONE = Match.NONE  # enum attribute lookups cost ~60 ns each on Python 3.11
_FULL = Match.FULL

IndexKey = str | tuple[str, ...] | None
"""A static path (``str``), a literal path prefix (``tuple``) or "could match anything"."""


def get_name(endpoint: Any) -> str:
    """The default route name: the endpoint's ``__name__``, else its class name."""
    return getattr(endpoint, "__name__", type(endpoint).__name__)


def _is_function_endpoint(endpoint: Any) -> bool:
    while isinstance(endpoint, functools.partial):
        endpoint = endpoint.func
    return inspect.isfunction(endpoint) or inspect.ismethod(endpoint)


def _wrap_middleware(app: ASGIApp, middleware: Sequence[Middleware] | None) -> ASGIApp:
    # The first entry of the list ends up outermost, as in the peer.
    for cls, args, kwargs in reversed(list(middleware or ())):
        app = cls(app, *args, **kwargs)
    return app


def request_response(func: Callable[[Request], Any]) -> ASGIApp:
    """Turn ``func(request) -> Response`` (sync or async) into an ASGI app."""

    is_async = is_async_callable(func)  # decided once, not per request

    async def call(request: Request) -> Any:
        if is_async:
            return await func(request)
        return await run_in_threadpool(func, request)

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        _, send = ensure_tracker(scope, send)
        request = Request(scope, receive, send)

        async def serve(send: Send) -> None:
            response: Response = await call(request)
            await response(scope, receive, send)

        await run_guarded(serve, scope, receive, send, request)

    return app


class WebSocketSession:
    """The ASGI app of a function WebSocket endpoint: ``await call(websocket)``, guarded.

    ``call`` is public so the application can run it directly (one frame less per
    connection) when nothing wraps the route. An exception goes to the handler registered
    for it, with this endpoint's WebSocket; without one it propagates.
    """

    __slots__ = ("call", "observed")

    def __init__(
        self,
        call: Callable[[WebSocket], Awaitable[Any]],
        observed: Callable[[WebSocket], Awaitable[Any]] | None = None,
    ) -> None:
        self.call = call
        # What runs instead of `call` for a connection telemetry observes (operation spans,
        # telemetry data): such connections never take the application's direct path.
        self.observed = observed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        tracker, send = ensure_tracker(scope, send)
        websocket = tracker.bind(scope, receive, send)
        call = self.call
        if self.observed is not None and scope.get("tether.telemetry") is not None:
            call = self.observed
        try:
            await call(websocket)
        except Exception as exc:
            handler = lookup_handler(scope.get(HANDLERS_KEY), exc)
            if handler is None:
                raise
            await apply_handler(handler, websocket, exc, scope, receive, send, tracker)


def websocket_session(func: Callable[[WebSocket], Any]) -> ASGIApp:
    """Turn ``async func(websocket)`` into an ASGI app; errors go to the exception handlers."""
    return WebSocketSession(func)


def direct_websocket_call(
    route: BaseRoute, observed: bool = False
) -> Callable[[WebSocket], Awaitable[Any]] | None:
    """The endpoint call of a WebSocket route nothing wraps (no middleware, no limits).

    ``observed``: the connection is traced, so the call that reports its operations to the
    scope's observer (where the endpoint has one). None when the route has its own ``handle``,
    or its app is not a bare :class:`WebSocketSession`: the caller must then go through
    ``route.handle``.
    """
    app = getattr(route, "app", None)
    if type(app) is WebSocketSession and type(route).handle is _PathRoute.handle:
        if observed and app.observed is not None:
            return app.observed
        return app.call
    return None


class BaseRoute:
    """Base of every route: an ASGI app that can say whether it matches a scope."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        """``(Match, child_scope)`` for ``scope``."""
        raise NotImplementedError()

    def url_path_for(self, name: str, /, **path_params: Any) -> URLPath:
        """The URL path of the route named ``name``; raises :class:`NoMatchFound`."""
        raise NotImplementedError()

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve a scope this route matched."""
        raise NotImplementedError()

    def index_key(self) -> IndexKey:
        """Which paths this route may match, for the router index; ``None``: any path."""
        return None

    path_matcher: ParamsMatcher | None = None
    """Set when ``matches`` is the plain path test (see :class:`WebSocketRoute`): the router
    then runs this on the route path itself and sets ``endpoint``/``path_params`` in place."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        match, child_scope = self.matches(scope)
        if match is Match.NONE:
            if scope["type"] == "http":
                await PlainTextResponse("Not Found", status_code=404)(scope, receive, send)
            elif scope["type"] == "websocket":
                await WebSocketClose()(scope, receive, send)
            return
        scope.update(child_scope)
        await self.handle(scope, receive, send)


class _PathRoute(BaseRoute):
    """Shared parts of Route and WebSocketRoute: a compiled path and parameter conversion."""

    scope_type = ""
    protocol = ""
    path: str
    name: str
    endpoint: Any
    app: ASGIApp
    _static = False
    match_params: ParamsMatcher

    def _compile(self, path: str) -> None:
        # "" is a router's route waiting for the prefix it is included under: it matches nothing.
        assert path == "" or path.startswith("/"), "a routed path must start with '/'"
        self.path = path
        self.path_regex, self.path_format, self.param_convertors = compile_path(path)
        self._static = not self.param_convertors
        general = regex_matcher(self.path_regex, self.param_convertors)
        simple = segment_matcher(path, self.param_convertors, general)
        self.match_params = general if simple is None else simple
        if type(self).matches is _PathRoute.matches:
            self.path_matcher = self.match_params

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] != self.scope_type:
            return _NONE, {}
        route_path = get_route_path(scope) if scope.get("root_path") else scope["path"]
        # For a static route, string equality is what the regex would say, faster.
        found = {} if self._static and route_path == self.path else self.match_params(route_path)
        if found is None:
            return _NONE, {}
        path_params: dict[str, Any] = found
        outer = scope.get("path_params")
        if outer:  # a mount's parameters come first, this route's win
            path_params = {**outer, **path_params}
        return _FULL, {"endpoint": self.endpoint, "path_params": path_params}

    def url_path_for(self, name: str, /, **path_params: Any) -> URLPath:
        if name != self.name or set(path_params) != set(self.param_convertors):
            raise NoMatchFound(name, path_params)
        path, _ = replace_params(self.path_format, self.param_convertors, path_params)
        return URLPath(path, protocol=self.protocol)

    def index_key(self) -> IndexKey:
        if type(self).matches is not _PathRoute.matches and type(self).matches is not (
            Route.matches
        ):
            return None  # custom matching: the index cannot reason about it
        return self.path if not self.param_convertors else literal_prefix(self.path)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)

    def __eq__(self, other: object) -> bool:
        return (
            type(other) is type(self)
            and self.path == other.path
            and self.endpoint == other.endpoint
        )

    __hash__ = object.__hash__


class Route(_PathRoute):
    """An HTTP route: ``endpoint(request)`` for functions, else an ASGI app (HTTPEndpoint)."""

    scope_type = "http"
    protocol = "http"

    def __init__(
        self,
        path: str,
        endpoint: Callable[..., Any],
        *,
        methods: Sequence[str] | None = None,
        name: str | None = None,
        include_in_schema: bool = True,
        middleware: Sequence[Middleware] | None = None,
    ) -> None:
        self._compile(path)
        self.endpoint = endpoint
        self.name = get_name(endpoint) if name is None else name
        self.include_in_schema = include_in_schema
        self.middleware = list(middleware or ())
        if _is_function_endpoint(endpoint) and methods is None:
            methods = ["GET"]
        self.methods: set[str] | None = None
        if methods is not None:
            self.methods = {method.upper() for method in methods}
            if "GET" in self.methods:
                self.methods.add("HEAD")
        self.app = _wrap_middleware(self._endpoint_app(endpoint), self.middleware)

    def _endpoint_app(self, endpoint: Callable[..., Any]) -> ASGIApp:
        """The ASGI app serving this route (a hook for subclasses)."""
        if _is_function_endpoint(endpoint):
            return request_response(endpoint)
        return endpoint

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        match, child_scope = super().matches(scope)
        if match is Match.FULL and self.methods and scope["method"] not in self.methods:
            return Match.PARTIAL, child_scope
        return match, child_scope

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.methods and scope["method"] not in self.methods:
            headers = {"Allow": ", ".join(sorted(self.methods))}
            if "app" in scope:
                raise HTTPException(status_code=405, headers=headers)
            response = PlainTextResponse("Method Not Allowed", status_code=405, headers=headers)
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)

    def __repr__(self) -> str:
        methods = sorted(self.methods or [])
        return f"{type(self).__name__}(path={self.path!r}, name={self.name!r}, methods={methods!r})"


class WebSocketRoute(_PathRoute):
    """A WebSocket route: ``await endpoint(websocket)`` for functions, else an ASGI app."""

    scope_type = "websocket"
    protocol = "websocket"

    def __init__(
        self,
        path: str,
        endpoint: Callable[..., Any],
        *,
        name: str | None = None,
        middleware: Sequence[Middleware] | None = None,
    ) -> None:
        self._compile(path)
        self.endpoint = endpoint
        self.name = get_name(endpoint) if name is None else name
        self.middleware = list(middleware or ())
        self.app = _wrap_middleware(self._endpoint_app(endpoint), self.middleware)

    def _endpoint_app(self, endpoint: Callable[..., Any]) -> ASGIApp:
        """The ASGI app serving this route (a hook for subclasses)."""
        if _is_function_endpoint(endpoint):
            return websocket_session(endpoint)
        return endpoint

    def __repr__(self) -> str:
        return f"{type(self).__name__}(path={self.path!r}, name={self.name!r})"
