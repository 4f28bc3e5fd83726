"""Routes with dependency injection and the FastAPI-style :class:`Router` (``fastapi.APIRouter``).

:class:`APIWebSocketRoute` and :class:`APIRoute` compile their endpoint into an
:class:`~tether.dependencies.EndpointPlan` once, at registration (a synchronous WebSocket
endpoint or an impossible declaration raises :class:`~tether.exceptions.ConfigurationError`
there), and run the plan per connection. Their exceptions go to the application's handlers with
the endpoint's own Request / WebSocket.

Dependencies accumulate outermost first: application -> ``include_router(dependencies=)`` ->
``Router(dependencies=)`` -> the decorator's ``dependencies=`` -> the endpoint's parameters.
``include_router`` copies the included routes with the prefix and dependencies applied (routes
added to the included router afterwards are not seen; the peer's 0.137+ keeps a live link).

Per-route WebSocket limits: an endpoint decorated with :func:`tether.limits.limits`, or a
``limits=WebSocketLimits(...)`` given to :meth:`Router.websocket`, gets its route's ASGI app
wrapped by :func:`tether.limits.apply_route_limits` here, at registration.
"""

from __future__ import annotations

import contextlib
import dataclasses
import inspect
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import tether.routing as _routing
from tether._applications_decorators import RouteDecorators
from tether._routing_errors import ensure_tracker, run_guarded
from tether._routing_routes import WebSocketSession
from tether.dependencies import EndpointPlan
from tether.exceptions import ConfigurationError
from tether.limits import LimitsMiddleware, WebSocketLimits, apply_route_limits
from tether.requests import Request
from tether.responses import JSONResponse, Response
from tether.routing import BaseRoute, Mount, Route, WebSocketRoute
from tether.routing import Router as BaseRouter
from tether.streams.responses import JSONLinesResponse
from tether.types import ASGIApp, Lifespan, Receive, Scope, Send

if TYPE_CHECKING:
    from tether.middleware import Middleware

__all__ = ["APIRoute", "APIWebSocketRoute", "Router"]

F = TypeVar("F", bound=Callable[..., Any])


def _guard_route(route: BaseRoute) -> BaseRoute:
    # Plain WebSocket routes get the limits of a @limits-decorated endpoint; the check on the
    # app keeps a route object given to two routers from being wrapped twice.
    if (
        isinstance(route, WebSocketRoute)
        and not isinstance(route, APIWebSocketRoute)
        and not isinstance(route.app, LimitsMiddleware)
    ):
        route.app = apply_route_limits(route.app, route.endpoint)
    return route


def _jsonable(value: Any) -> Any:
    # Pydantic models and dataclasses are what endpoints most often return besides plain data.
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    return value


class APIWebSocketRoute(WebSocketRoute):
    """A WebSocket route whose ``async def`` endpoint gets its parameters injected.

    ``limits`` (and ``@limits`` on the endpoint) apply to this route's connections, outside the
    route's own middleware.
    """

    def __init__(
        self,
        path: str,
        endpoint: Callable[..., Any],
        *,
        name: str | None = None,
        dependencies: Sequence[Any] | None = None,
        middleware: Sequence[Middleware] | None = None,
        limits: WebSocketLimits | None = None,
    ) -> None:
        self.dependencies = list(dependencies or ())
        self.limits = limits
        self.plan = EndpointPlan.compile(
            endpoint, websocket=True, dependencies=self.dependencies, path=path
        )
        super().__init__(path, endpoint, name=name, middleware=middleware)
        self.app = apply_route_limits(self.app, endpoint, limits=limits)

    def _endpoint_app(self, endpoint: Callable[..., Any]) -> ASGIApp:
        return WebSocketSession(self.plan.connection_call)


class APIRoute(Route):
    """An HTTP route with injected parameters; a non-Response result becomes JSON."""

    def __init__(
        self,
        path: str,
        endpoint: Callable[..., Any],
        *,
        methods: Sequence[str] | None = None,
        name: str | None = None,
        dependencies: Sequence[Any] | None = None,
        status_code: int | None = None,
        response_class: type[Response] | None = None,
        include_in_schema: bool = True,
        middleware: Sequence[Middleware] | None = None,
    ) -> None:
        self.dependencies = list(dependencies or ())
        self.status_code = status_code
        # None: not chosen for this route, so an including router's default may apply.
        self.explicit_response_class = response_class
        self.response_class: type[Response] = response_class or JSONResponse
        self.plan = EndpointPlan.compile(
            endpoint, websocket=False, dependencies=self.dependencies, path=path
        )
        super().__init__(
            path,
            endpoint,
            methods=list(methods or ["GET"]),
            name=name,
            include_in_schema=include_in_schema,
            middleware=middleware,
        )
        if inspect.isasyncgenfunction(endpoint) or inspect.isgeneratorfunction(endpoint):
            self._to_response = self._streaming_response  # type: ignore[method-assign]

    def _streaming_response(self, result: Any) -> Response:
        # A path operation that yields streams what it yields: through the response class's
        # from_generator() (EventSourceResponse: one event per value), as JSON lines when no
        # response class was chosen (as the peer), else as the class's plain content.
        if isinstance(result, Response):
            return result
        stream = getattr(self.response_class, "from_generator", None)
        if stream is None and self.response_class is JSONResponse:
            stream = JSONLinesResponse.from_generator
        if stream is None:
            return self.response_class(result, status_code=self.status_code or 200)
        response: Response = stream(
            result, status_code=self.status_code, ping_interval=_routing._PING_INTERVAL
        )
        return response

    def _to_response(self, result: Any) -> Response:
        if isinstance(result, Response):
            return result
        content = _jsonable(result)
        if self.status_code is None:
            return self.response_class(content)
        return self.response_class(content, status_code=self.status_code)

    def _endpoint_app(self, endpoint: Callable[..., Any]) -> ASGIApp:
        plan = self.plan

        async def app(scope: Scope, receive: Receive, send: Send) -> None:
            _, send = ensure_tracker(scope, send)
            request = Request(scope, receive, send)

            async def serve(send: Send) -> None:
                # Connection-scoped yield dependencies close after the response is sent.
                async with contextlib.AsyncExitStack() as stack:
                    result = await plan.run(request, exit_stack=stack)
                    await self._to_response(result)(scope, receive, send)

            await run_guarded(serve, scope, receive, send, request)

        return app


def _check_prefix(prefix: str) -> None:
    if prefix and (not prefix.startswith("/") or prefix.endswith("/")):
        raise ConfigurationError(
            f"a router prefix must start with '/' and not end with '/', got {prefix!r}"
        )


class Router(BaseRouter, RouteDecorators):
    """FastAPI-style router (``fastapi.APIRouter``): decorators, prefix, shared dependencies.

    ``prefix`` is put before every path added to this router; ``dependencies`` run before
    those of each route added to it. Raises :class:`ConfigurationError` for a prefix that
    does not start with ``/`` or ends with ``/``.
    """

    def __init__(
        self,
        *,
        prefix: str = "",
        dependencies: Sequence[Any] | None = None,
        routes: Sequence[BaseRoute] | None = None,
        redirect_slashes: bool = True,
        default: ASGIApp | None = None,
        lifespan: Lifespan | None = None,
        on_startup: Sequence[Callable[[], Any]] | None = None,
        on_shutdown: Sequence[Callable[[], Any]] | None = None,
        middleware: Sequence[Middleware] | None = None,
        default_response_class: type[Response] | None = None,
    ) -> None:
        _check_prefix(prefix)
        # None: JSONResponse, unless the router this one is included into chose another.
        self.default_response_class = default_response_class
        super().__init__(
            [_guard_route(route) for route in routes or ()],
            redirect_slashes,
            default,
            lifespan,
            middleware=middleware,
            on_startup=on_startup,
            on_shutdown=on_shutdown,
        )
        self.prefix = prefix
        self.dependencies = list(dependencies or ())

    def _path(self, path: str) -> str:
        full = self.prefix + path
        if not full:
            raise ConfigurationError("a route needs a path when its router has no prefix")
        return full

    def add_api_websocket_route(
        self,
        path: str,
        endpoint: Callable[..., Any],
        name: str | None = None,
        *,
        dependencies: Sequence[Any] | None = None,
        middleware: Sequence[Middleware] | None = None,
        limits: WebSocketLimits | None = None,
    ) -> None:
        """Add a WebSocket route with dependency injection (``ConfigurationError`` if sync).

        ``limits`` fields replace the app-level limits for this route, like ``@limits(...)``.
        """
        route = APIWebSocketRoute(
            self._path(path),
            endpoint,
            name=name,
            dependencies=[*self.dependencies, *(dependencies or ())],
            middleware=middleware,
            limits=limits,
        )
        self.routes.append(route)

    def add_websocket_route(
        self, path: str, endpoint: Callable[..., Any], name: str | None = None
    ) -> None:
        """Add a plain :class:`WebSocketRoute` below the prefix (no dependency injection)."""
        self.routes.append(_guard_route(WebSocketRoute(self._path(path), endpoint, name=name)))

    def add_route(
        self,
        path: str,
        endpoint: Callable[..., Any],
        methods: Sequence[str] | None = None,
        name: str | None = None,
        include_in_schema: bool = True,
    ) -> None:
        """Add a plain HTTP :class:`Route` below the prefix (``endpoint(request)``, no DI)."""
        super().add_route(self._path(path), endpoint, methods, name, include_in_schema)

    def add_api_route(
        self,
        path: str,
        endpoint: Callable[..., Any],
        *,
        methods: Sequence[str] | None = None,
        name: str | None = None,
        dependencies: Sequence[Any] | None = None,
        status_code: int | None = None,
        response_class: type[Response] | None = None,
        include_in_schema: bool = True,
        middleware: Sequence[Middleware] | None = None,
    ) -> None:
        """Add an HTTP route with dependency injection.

        ``response_class`` defaults to the router's ``default_response_class`` (JSONResponse).
        """
        route = APIRoute(
            self._path(path),
            endpoint,
            methods=methods,
            name=name,
            dependencies=[*self.dependencies, *(dependencies or ())],
            status_code=status_code,
            response_class=response_class or self.default_response_class,
            include_in_schema=include_in_schema,
            middleware=middleware,
        )
        self.routes.append(route)

    def include_router(
        self,
        router: BaseRouter,
        *,
        prefix: str = "",
        dependencies: Sequence[Any] | None = None,
        default_response_class: type[Response] | None = None,
    ) -> None:
        """Copy ``router``'s routes here below ``prefix``, with ``dependencies`` run first.

        A route without its own ``response_class`` takes the first default set on the included
        router, on this call, or on this router (as in the peer).
        Raises :class:`ConfigurationError` for a bad prefix, or when a route cannot be compiled.
        """
        _check_prefix(prefix)
        extra = list(dependencies or ())
        fallback = (
            getattr(router, "default_response_class", None)
            or default_response_class
            or self.default_response_class
        )
        for route in router.routes:
            self._include_route(route, prefix, extra, fallback)
        self.on_startup.extend(router.on_startup)
        self.on_shutdown.extend(router.on_shutdown)

    def _include_route(
        self,
        route: BaseRoute,
        prefix: str,
        extra: list[Any],
        fallback: type[Response] | None = None,
    ) -> None:
        if isinstance(route, APIWebSocketRoute):
            self.add_api_websocket_route(
                prefix + route.path,
                route.endpoint,
                name=route.name,
                dependencies=[*extra, *route.dependencies],
                middleware=route.middleware,
                limits=route.limits,
            )
        elif isinstance(route, APIRoute):
            self.add_api_route(
                prefix + route.path,
                route.endpoint,
                methods=sorted(route.methods or ()),
                name=route.name,
                dependencies=[*extra, *route.dependencies],
                status_code=route.status_code,
                response_class=route.explicit_response_class or fallback,
                include_in_schema=route.include_in_schema,
                middleware=route.middleware,
            )
        elif isinstance(route, WebSocketRoute):
            path = self._path(prefix + route.path)
            copy = WebSocketRoute(
                path, route.endpoint, name=route.name, middleware=route.middleware
            )
            self.routes.append(_guard_route(copy))
        elif isinstance(route, Route):
            methods = sorted(route.methods) if route.methods is not None else None
            self.routes.append(
                Route(
                    self._path(prefix + route.path),
                    route.endpoint,
                    methods=methods,
                    name=route.name,
                    include_in_schema=route.include_in_schema,
                    middleware=route.middleware,
                )
            )
        elif isinstance(route, Mount):
            self.routes.append(Mount(self.prefix + prefix + route.path, route.app, name=route.name))
        else:  # Host and custom routes are shared as they are
            self.routes.append(route)
