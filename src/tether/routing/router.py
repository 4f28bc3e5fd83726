"""Routing: match a scope to a route, build URLs from route names (Starlette compatible).

:class:`Router` dispatches HTTP and WebSocket scopes to its routes and runs the lifespan
protocol. The first route, in declaration order, whose ``matches`` returns ``Match.FULL`` serves
the scope; an HTTP route with the right path but another method is a ``Match.PARTIAL`` and only
serves (with 405) when no route matches fully. Matching is by scope type, so an HTTP
:class:`Route` and a :class:`WebSocketRoute` can share a path.

Lookups do not scan every route: :mod:`tether.routing.index` narrows the candidates by exact
path and literal path prefix while keeping declaration order, so the result is the same as a
linear scan.

Low-priority routes (``_low_priority_routes``, the peer's name) are tried for an HTTP scope
only when no route matched, not even partially, and no slash redirect applies: after every
path operation, WebSocket route and mount. ``Router.frontend`` (:mod:`tether.applications.frontend`)
keeps its frontends there. The list is read on each miss, so there is nothing to rebuild when it
changes; a hit on a normal route never looks at it.

Divergence from the peer (DESIGN 1): a WebSocket that matches no route gets a 404 denial
response when the server supports the denial extension (else close 1000, as the peer does).
"""

from __future__ import annotations

import contextlib
import inspect
import traceback
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any

from tether.convertors import Convertor, register_url_convertor
from tether.datastructures import URL, URLPath
from tether.exceptions import HTTPException, StartupRefused
from tether.responses import JSONResponse, PlainTextResponse, RedirectResponse
from tether.routing.errors import has_denial_extension
from tether.routing.index import RouteIndex, RouteList
from tether.routing.mounts import DelegatingRoute, Host, child_url
from tether.routing.paths import (
    Match,
    NoMatchFound,
    compile_path,
    get_route_path,
    literal_prefix,
    replace_params,
)
from tether.routing.routes import (
    BaseRoute,
    IndexKey,
    Route,
    WebSocketRoute,
    _wrap_middleware,
    get_name,
    request_response,
    websocket_session,
)
from tether.types import ASGIApp, Lifespan, Receive, Scope, Send
from tether.websockets import WebSocketClose

if TYPE_CHECKING:
    from tether.middleware import Middleware

__all__ = [
    "BaseRoute",
    "Convertor",
    "Host",
    "Match",
    "Mount",
    "NoMatchFound",
    "Route",
    "Router",
    "WebSocketRoute",
    "compile_path",
    "get_name",
    "get_route_path",
    "merge_lifespans",
    "register_url_convertor",
    "replace_params",
    "request_response",
    "websocket_session",
]

Hook = Callable[[], Any]

_FULL = Match.FULL  # enum attribute lookups cost ~60 ns each on Python 3.11
_PARTIAL = Match.PARTIAL


LifespanContext = Callable[[Any], contextlib.AbstractAsyncContextManager[Any]]


def _as_context(lifespan: Any) -> LifespanContext:
    # An async generator function is accepted too, as a shorthand for @asynccontextmanager,
    # and so is a sync generator function (run on the loop: it is startup and shutdown code).
    if inspect.isasyncgenfunction(lifespan):
        return contextlib.asynccontextmanager(lifespan)
    if inspect.isgeneratorfunction(lifespan):
        sync_context = contextlib.contextmanager(lifespan)

        @contextlib.asynccontextmanager
        async def context(app: Any) -> AsyncIterator[Any]:
            with sync_context(app) as state:
                yield state

        return context
    return lifespan  # type: ignore[no-any-return]


def merge_lifespans(outer: LifespanContext | None, inner: LifespanContext) -> LifespanContext:
    """One lifespan running ``outer`` around ``inner`` (an included router's), as FastAPI does.

    ``outer`` starts first and stops last. Their states are merged into one dict, ``outer``'s
    keys winning over ``inner``'s; when neither yields a state, the merged lifespan yields none.
    """
    if outer is None:
        return inner

    @contextlib.asynccontextmanager
    async def merged(app: Any) -> AsyncIterator[Any]:
        async with outer(app) as outer_state, inner(app) as inner_state:
            if outer_state is None and inner_state is None:
                yield None
            else:
                yield {**(inner_state or {}), **(outer_state or {})}

    return merged


async def _run_hooks(hooks: Sequence[Hook]) -> None:
    for hook in hooks:
        result = hook()
        if inspect.isawaitable(result):
            await result


class Router:
    """A list of routes served as one ASGI app, plus the lifespan protocol.

    ``lifespan`` is an async context manager factory ``lifespan(app)`` that may yield a dict:
    its items become the lifespan state each connection sees as ``request.state`` /
    ``websocket.state``. ``on_startup`` / ``on_shutdown`` hooks (sync or async) run before
    and after it. ``middleware`` wraps the whole router; ``default`` serves what no route
    matched.
    """

    def __init__(
        self,
        routes: Sequence[BaseRoute] | None = None,
        redirect_slashes: bool = True,
        default: ASGIApp | None = None,
        lifespan: Lifespan | None = None,
        *,
        middleware: Sequence[Middleware] | None = None,
        on_startup: Sequence[Hook] | None = None,
        on_shutdown: Sequence[Hook] | None = None,
    ) -> None:
        self.routes = RouteList(routes or [])
        self.redirect_slashes = redirect_slashes
        self.default: ASGIApp = self.not_found if default is None else default
        self.lifespan_context = _as_context(lifespan) if lifespan is not None else None
        self.on_startup = list(on_startup or [])
        self.on_shutdown = list(on_shutdown or [])
        self.middleware_stack: ASGIApp = self.app
        for cls, args, kwargs in reversed(list(middleware or [])):
            self.middleware_stack = cls(self.middleware_stack, *args, **kwargs)
        self._index: RouteIndex | None = None
        self._index_version = -1
        self._low_priority_routes: list[BaseRoute] = []

    @property
    def routes(self) -> RouteList:
        """The routes, in declaration order; mutate freely, the index follows."""
        return self._routes

    @routes.setter
    def routes(self, routes: Sequence[BaseRoute]) -> None:
        self._routes = routes if isinstance(routes, RouteList) else RouteList(routes)
        self._index = None

    def _current_index(self) -> RouteIndex:
        index = self._index
        if index is None or self._index_version != self._routes.version:
            index = self._index = RouteIndex(self._routes)
            self._index_version = self._routes.version
        return index

    def _mark_routes_changed(self) -> None:
        """Drop what was derived from the routes (the index); the next scope rebuilds it."""
        self._index = None

    def _lookup(self, scope_type: str, route_path: str) -> Sequence[BaseRoute]:
        return self._current_index().candidates(scope_type, route_path)

    def url_path_for(self, name: str, /, **path_params: Any) -> URLPath:
        """The path of the first route named ``name``; raises :class:`NoMatchFound`."""
        for route in self._routes:
            try:
                return route.url_path_for(name, **path_params)
            except NoMatchFound:
                continue
        raise NoMatchFound(name, path_params)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.middleware_stack(scope, receive, send)

    def match_websocket(self, scope: Scope) -> BaseRoute | None:
        """The route serving the WebSocket ``scope``, its child scope merged in; or None.

        The same choice as :meth:`app` makes (first full match, else first partial one),
        without awaiting anything, so the application can then call the route's endpoint
        itself.
        """
        if "router" not in scope:
            scope["router"] = self
        index = self._index
        if index is None or self._index_version != self._routes.version:
            index = self._current_index()
        route_path = get_route_path(scope) if scope.get("root_path") else scope["path"]
        table = index.websocket
        candidates: Sequence[BaseRoute] | None = table.static_routes.get(route_path)
        if candidates is None:
            candidates = table.walk_unlisted(route_path)
        partial: tuple[BaseRoute, Scope] | None = None
        for route in candidates:
            matcher = route.path_matcher
            if matcher is not None:  # _PathRoute.matches, inlined (no child scope dict)
                params = matcher(route_path)
                if params is None:
                    continue
                outer = scope.get("path_params")
                if outer:  # a mount's parameters come first, this route's win
                    params = {**outer, **params}
                scope["endpoint"] = route.endpoint  # type: ignore[attr-defined]
                scope["path_params"] = params
                scope["route"] = route
                return route
            match, child_scope = route.matches(scope)
            if match is _FULL:
                break
            if match is _PARTIAL and partial is None:
                partial = (route, child_scope)
        else:
            if partial is None:
                return None
            route, child_scope = partial
        scope.update(child_scope)
        scope["route"] = route
        return route

    async def app(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Dispatch one scope (the router without its middleware)."""
        scope_type = scope["type"]
        assert scope_type in ("http", "websocket", "lifespan")
        if scope_type == "websocket":
            route = self.match_websocket(scope)
            if route is None:
                await self.default(scope, receive, send)
            else:
                await route.handle(scope, receive, send)
            return
        if "router" not in scope:
            scope["router"] = self
        if scope_type == "lifespan":
            await self.lifespan(scope, receive, send)
            return
        partial: tuple[BaseRoute, Scope] | None = None
        for route in self._lookup(scope_type, get_route_path(scope)):
            match, child_scope = route.matches(scope)
            if match is Match.FULL:
                await self._serve(route, child_scope, scope, receive, send)
                return
            if match is Match.PARTIAL and partial is None:
                partial = (route, child_scope)
        if partial is not None:
            await self._serve(partial[0], partial[1], scope, receive, send)
        elif not await self._redirect_slash(scope, receive, send) and not (
            self._low_priority_routes and await self._serve_low_priority(scope, receive, send)
        ):
            await self.default(scope, receive, send)

    async def _serve_low_priority(self, scope: Scope, receive: Receive, send: Send) -> bool:
        # The same rule as for normal routes (first full match, else first partial one),
        # over the low-priority list in its own order.
        partial: tuple[BaseRoute, Scope] | None = None
        for route in self._low_priority_routes:
            match, child_scope = route.matches(scope)
            if match is _FULL:
                await self._serve(route, child_scope, scope, receive, send)
                return True
            if match is _PARTIAL and partial is None:
                partial = (route, child_scope)
        if partial is None:
            return False
        await self._serve(partial[0], partial[1], scope, receive, send)
        return True

    @staticmethod
    async def _serve(
        route: BaseRoute, child_scope: Scope, scope: Scope, receive: Receive, send: Send
    ) -> None:
        scope.update(child_scope)
        scope["route"] = route
        await route.handle(scope, receive, send)

    async def _redirect_slash(self, scope: Scope, receive: Receive, send: Send) -> bool:
        # HTTP only: a WebSocket client cannot follow a redirect during the handshake.
        route_path = get_route_path(scope)
        if scope["type"] != "http" or not self.redirect_slashes or route_path == "/":
            return False
        other = dict(scope)
        path: str = scope["path"]
        other["path"] = path[:-1] if path.endswith("/") else path + "/"
        for route in self._lookup("http", get_route_path(other)):
            match, _ = route.matches(other)
            if match is not Match.NONE:
                url = URL(scope=other)
                await RedirectResponse(url=str(url))(scope, receive, send)
                return True
        return False

    async def not_found(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Nothing matched: 404 (a denial for WebSockets where possible, else close 1000)."""
        if scope["type"] == "websocket":
            if has_denial_extension(scope):
                response = JSONResponse({"detail": "Not Found"}, status_code=404)
                await response(scope, receive, send)
            else:
                await WebSocketClose()(scope, receive, send)
            return
        if "app" in scope:
            raise HTTPException(status_code=404)
        await PlainTextResponse("Not Found", status_code=404)(scope, receive, send)

    @contextlib.asynccontextmanager
    async def _lifespan(self, app: Any) -> AsyncIterator[Any]:
        await _run_hooks(self.on_startup)
        if self.lifespan_context is None:
            yield None
        else:
            async with self.lifespan_context(app) as state:
                yield state
        await _run_hooks(self.on_shutdown)

    async def lifespan(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the ASGI lifespan protocol around the lifespan context and hooks."""
        started = False
        await receive()  # lifespan.startup
        try:
            async with self._lifespan(scope.get("app")) as state:
                if state is not None:
                    if "state" not in scope:
                        raise RuntimeError("the server gives no lifespan state to fill")
                    scope["state"].update(state)
                await send({"type": "lifespan.startup.complete"})
                started = True
                await receive()  # lifespan.shutdown
        except BaseException as exc:
            failed = "lifespan.shutdown.failed" if started else "lifespan.startup.failed"
            if isinstance(exc, StartupRefused) and not started:
                # A refusal whose message says it all: one line, and no traceback after it.
                await send({"type": failed, "message": f"{type(exc).__name__}: {exc}"})
                raise
            await send({"type": failed, "message": traceback.format_exc()})
            raise
        await send({"type": "lifespan.shutdown.complete"})

    def mount(self, path: str, app: ASGIApp, name: str | None = None) -> None:
        """Serve ``app`` below ``path``."""
        self._routes.append(Mount(path, app=app, name=name))

    def host(self, host: str, app: ASGIApp, name: str | None = None) -> None:
        """Serve ``app`` for the host pattern ``host``."""
        self._routes.append(Host(host, app=app, name=name))

    def add_route(
        self,
        path: str,
        endpoint: Callable[..., Any],
        methods: Sequence[str] | None = None,
        name: str | None = None,
        include_in_schema: bool = True,
    ) -> None:
        """Add a plain HTTP :class:`Route` (``endpoint(request)``, no dependency injection)."""
        route = Route(
            path, endpoint, methods=methods, name=name, include_in_schema=include_in_schema
        )
        self._routes.append(route)

    def add_websocket_route(
        self, path: str, endpoint: Callable[..., Awaitable[None]], name: str | None = None
    ) -> None:
        """Add a plain :class:`WebSocketRoute` (``endpoint(websocket)``, no dependency injection)."""
        self._routes.append(WebSocketRoute(path, endpoint, name=name))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Router) and self._routes == other._routes

    __hash__ = object.__hash__


class Mount(DelegatingRoute):
    """Serve ``app`` (or a router built from ``routes``) below the path prefix ``path``.

    The child sees ``root_path`` extended by the matched prefix and ``path_params`` merged with
    the prefix's parameters. Raises ``AssertionError`` for a path not starting with ``/`` or
    when neither ``app`` nor ``routes`` is given.
    """

    def __init__(
        self,
        path: str,
        app: ASGIApp | None = None,
        routes: Sequence[BaseRoute] | None = None,
        name: str | None = None,
        *,
        middleware: Sequence[Middleware] | None = None,
    ) -> None:
        assert path == "" or path.startswith("/"), "a routed path must start with '/'"
        assert app is not None or routes is not None, "Mount needs either app= or routes="
        self.path = path.rstrip("/")
        if app is not None:
            self._base_app: ASGIApp = app
        else:
            self._base_app = Router(routes=routes)
        self.app = _wrap_middleware(self._base_app, middleware)
        self.name = name
        self.path_regex, self.path_format, self.param_convertors = compile_path(
            self.path + "/{path:path}"
        )

    def _served(self) -> Any:
        return self._base_app  # the routes are found inside the mount's own middleware

    def index_key(self) -> IndexKey:
        if type(self).matches is not Mount.matches:
            return None
        return literal_prefix(self.path)

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] not in ("http", "websocket"):
            return Match.NONE, {}
        route_path = get_route_path(scope)
        found = self.path_regex.match(route_path)
        if found is None:
            return Match.NONE, {}
        params = {
            key: self.param_convertors[key].convert(value)
            for key, value in found.groupdict().items()
        }
        remaining = "/" + params.pop("path")
        matched = route_path[: -len(remaining)]
        path_params = dict(scope.get("path_params", {}))
        path_params.update(params)
        root_path = scope.get("root_path", "")
        return Match.FULL, {
            "path_params": path_params,
            "app_root_path": scope.get("app_root_path", root_path),
            "root_path": root_path + matched,
            "endpoint": self.app,
        }

    def _own_url(self, params: dict[str, Any]) -> URLPath | None:
        params["path"] = str(params["path"]).lstrip("/")
        path, remaining = replace_params(self.path_format, self.param_convertors, params)
        return None if remaining else URLPath(path)

    def _url_through(self, child_name: str, params: dict[str, Any]) -> URLPath | None:
        child_path = params.pop("path", None)
        own = self._pop_own(params)
        prefix, _ = replace_params(self.path_format, self.param_convertors, {**own, "path": ""})
        if child_path is not None:
            params["path"] = child_path
        url = child_url(self.routes, child_name, params)
        if url is None:
            return None
        return URLPath(prefix.rstrip("/") + str(url), protocol=url.protocol, host=url.host)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Mount) and (self.path, self.app) == (other.path, other.app)

    __hash__ = object.__hash__

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(path={self.path!r}, name={self.name or ''!r}, app={self.app!r})"
        )
