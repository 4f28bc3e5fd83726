"""The application object, :class:`Tether` (``fastapi.FastAPI`` / ``starlette.Starlette``).

A Tether app is a :class:`~tether.Router` (routes, decorators, ``include_router``) wrapped in a
middleware stack built on first use, outermost first:

1. :class:`~tether.middleware.errors.ServerErrorMiddleware` (``500`` / ``Exception`` handler;
   also for WebSockets, see that module);
2. :class:`~tether.middleware.origin.OriginMiddleware` when ``allowed_origins`` is given;
3. user middleware, in list order (``add_middleware`` puts the newest outermost);
4. :class:`~tether.middleware.exceptions.ExceptionMiddleware` (every other handler);
5. the router.

Lifespan: ``lifespan(app)`` is an async context manager that may yield a dict of state (each
connection sees it as ``request.state`` / ``websocket.state``); ``on_startup`` / ``on_shutdown``
hooks run around it. At shutdown, before the lifespan's own exit code runs, every WebSocket
the app accepted and that is still open is closed with 1001 "server shutting down".
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from typing import Any, TypeVar

from tether._applications_router import APIRoute, APIWebSocketRoute, Router
from tether._routing_errors import ExceptionHandler, SendTracker
from tether.datastructures import State, URLPath
from tether.middleware import Middleware
from tether.middleware.errors import ServerErrorMiddleware
from tether.middleware.exceptions import ExceptionMiddleware
from tether.middleware.origin import OriginMiddleware
from tether.routing import BaseRoute, _as_context
from tether.types import ASGIApp, Lifespan, Receive, Scope, Send

__all__ = ["APIRoute", "APIWebSocketRoute", "Router", "Tether"]

F = TypeVar("F", bound=Callable[..., Any])


class Tether:
    """A WebSocket-first ASGI application.

    Routes are added with the decorators (``@app.websocket``, ``@app.get``...) or given as
    ``routes``. ``dependencies`` run before every route's own; ``dependency_overrides`` maps a
    dependency to its replacement (tests). ``allowed_origins`` refuses WebSocket handshakes from
    other origins with 403 (``["*"]`` allows all). Other keyword options are kept as
    attributes for tools (``title``, ``version``, ``description``).
    """

    def __init__(
        self,
        debug: bool = False,
        *,
        routes: Sequence[BaseRoute] | None = None,
        middleware: Sequence[Middleware] | None = None,
        exception_handlers: Mapping[Any, ExceptionHandler] | None = None,
        lifespan: Lifespan | None = None,
        on_startup: Sequence[Callable[[], Any]] | None = None,
        on_shutdown: Sequence[Callable[[], Any]] | None = None,
        dependencies: Sequence[Any] | None = None,
        allowed_origins: Sequence[str] | None = None,
        redirect_slashes: bool = True,
        title: str = "Tether",
        version: str = "0.1.0",
        description: str = "",
    ) -> None:
        self.debug = debug
        self.state = State()
        self.title, self.version, self.description = title, version, description
        self.dependency_overrides: dict[Callable[..., Any], Callable[..., Any]] = {}
        self.exception_handlers: dict[Any, ExceptionHandler] = dict(exception_handlers or {})
        self.user_middleware = list(middleware or [])
        self.allowed_origins = list(allowed_origins) if allowed_origins is not None else None
        self.middleware_stack: ASGIApp | None = None
        self.connections: set[SendTracker] = set()
        self.router = Router(
            routes=routes,
            dependencies=dependencies,
            redirect_slashes=redirect_slashes,
            lifespan=self._wrap_lifespan(lifespan),
            on_startup=on_startup,
            on_shutdown=on_shutdown,
        )

    # -- lifecycle -------------------------------------------------------------------------

    def _wrap_lifespan(self, lifespan: Lifespan | None) -> Lifespan:
        user = _as_context(lifespan) if lifespan is not None else None

        @contextlib.asynccontextmanager
        async def run(app: Any) -> AsyncIterator[Any]:
            if user is None:
                try:
                    yield None
                finally:
                    await self.close_websockets()
                return
            async with user(app) as state:
                try:
                    yield state
                finally:
                    await self.close_websockets()

        return run

    async def close_websockets(self, reason: str = "server shutting down") -> None:
        """Close every open WebSocket this app accepted with 1001 (going away)."""
        trackers = list(self.connections)
        if trackers:
            await asyncio.gather(*(tracker.close_going_away(reason) for tracker in trackers))

    def build_middleware_stack(self) -> ASGIApp:
        """Assemble the middleware stack described in the module docstring."""
        error_handler = None
        handlers: dict[Any, ExceptionHandler] = {}
        for key, handler in self.exception_handlers.items():
            if key in (500, Exception):
                error_handler = handler
            else:
                handlers[key] = handler
        stack = [
            Middleware(
                ServerErrorMiddleware,
                handler=error_handler,
                debug=self.debug,
                connections=self.connections,
            )
        ]
        if self.allowed_origins is not None:
            stack.append(Middleware(OriginMiddleware, allowed_origins=self.allowed_origins))
        stack += self.user_middleware
        stack.append(Middleware(ExceptionMiddleware, handlers=handlers, debug=self.debug))
        app: ASGIApp = self.router
        for cls, args, kwargs in reversed(stack):
            app = cls(app, *args, **kwargs)
        return app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope["app"] = self
        if self.middleware_stack is None:
            self.middleware_stack = self.build_middleware_stack()
        await self.middleware_stack(scope, receive, send)

    # -- configuration ---------------------------------------------------------------------

    @property
    def routes(self) -> list[BaseRoute]:
        """The router's routes."""
        return self.router.routes

    def url_path_for(self, name: str, /, **path_params: Any) -> URLPath:
        """The URL path of the route named ``name``; raises ``NoMatchFound``."""
        return self.router.url_path_for(name, **path_params)

    def add_middleware(self, middleware_class: Any, *args: Any, **kwargs: Any) -> None:
        """Wrap the app in ``middleware_class(app, *args, **kwargs)`` (outermost of the user's).

        Raises ``RuntimeError`` once the app has started serving.
        """
        if self.middleware_stack is not None:
            raise RuntimeError("middleware cannot be added once the application has started")
        self.user_middleware.insert(0, Middleware(middleware_class, *args, **kwargs))

    def add_exception_handler(
        self, exc_class_or_status_code: int | type[BaseException], handler: ExceptionHandler
    ) -> None:
        """Handle an exception class or HTTP status code (for HTTP and WebSocket alike)."""
        self.exception_handlers[exc_class_or_status_code] = handler
        self.middleware_stack = None  # rebuilt with the new handler on the next call

    def exception_handler(
        self, exc_class_or_status_code: int | type[BaseException]
    ) -> Callable[[F], F]:
        """Decorator form of :meth:`add_exception_handler`."""

        def decorator(func: F) -> F:
            self.add_exception_handler(exc_class_or_status_code, func)
            return func

        return decorator

    # -- routes (delegated to the router) ---------------------------------------------------

    def websocket(
        self, path: str, name: str | None = None, *, dependencies: Sequence[Any] | None = None
    ) -> Callable[[F], F]:
        """Register an ``async def`` WebSocket endpoint with dependency injection."""
        return self.router.websocket(path, name, dependencies=dependencies)

    def add_api_websocket_route(
        self,
        path: str,
        endpoint: Callable[..., Any],
        name: str | None = None,
        *,
        dependencies: Sequence[Any] | None = None,
    ) -> None:
        """Imperative form of :meth:`websocket`."""
        self.router.add_api_websocket_route(path, endpoint, name, dependencies=dependencies)

    def websocket_route(self, path: str, name: str | None = None) -> Callable[[F], F]:
        """Register a plain WebSocket endpoint (``endpoint(websocket)``, no DI)."""
        return self.router.websocket_route(path, name)

    def add_websocket_route(
        self, path: str, endpoint: Callable[..., Any], name: str | None = None
    ) -> None:
        """Imperative form of :meth:`websocket_route`."""
        self.router.add_websocket_route(path, endpoint, name)

    def add_route(
        self,
        path: str,
        endpoint: Callable[..., Any],
        methods: Sequence[str] | None = None,
        name: str | None = None,
        include_in_schema: bool = True,
    ) -> None:
        """Add a plain HTTP route (``endpoint(request)``, no DI)."""
        self.router.add_route(path, endpoint, methods, name, include_in_schema)

    def route(
        self,
        path: str,
        methods: Sequence[str] | None = None,
        name: str | None = None,
        include_in_schema: bool = True,
    ) -> Callable[[F], F]:
        """Decorator form of :meth:`add_route`."""
        return self.router.route(path, methods, name, include_in_schema)

    def add_api_route(self, path: str, endpoint: Callable[..., Any], **options: Any) -> None:
        """Add an HTTP route with DI (options as :meth:`tether.Router.add_api_route`)."""
        self.router.add_api_route(path, endpoint, **options)

    def api_route(self, path: str, **options: Any) -> Callable[[F], F]:
        """Decorator form of :meth:`add_api_route`."""
        return self.router.api_route(path, **options)

    def get(self, path: str, **options: Any) -> Callable[[F], F]:
        """Register a GET endpoint."""
        return self.router.get(path, **options)

    def post(self, path: str, **options: Any) -> Callable[[F], F]:
        """Register a POST endpoint."""
        return self.router.post(path, **options)

    def put(self, path: str, **options: Any) -> Callable[[F], F]:
        """Register a PUT endpoint."""
        return self.router.put(path, **options)

    def patch(self, path: str, **options: Any) -> Callable[[F], F]:
        """Register a PATCH endpoint."""
        return self.router.patch(path, **options)

    def delete(self, path: str, **options: Any) -> Callable[[F], F]:
        """Register a DELETE endpoint."""
        return self.router.delete(path, **options)

    def head(self, path: str, **options: Any) -> Callable[[F], F]:
        """Register a HEAD endpoint."""
        return self.router.head(path, **options)

    def options(self, path: str, **options: Any) -> Callable[[F], F]:
        """Register an OPTIONS endpoint."""
        return self.router.options(path, **options)

    def include_router(
        self,
        router: Router,
        *,
        prefix: str = "",
        dependencies: Sequence[Any] | None = None,
    ) -> None:
        """Serve ``router``'s routes below ``prefix``, after the app's and ``dependencies``."""
        self.router.include_router(router, prefix=prefix, dependencies=dependencies)

    def mount(self, path: str, app: ASGIApp, name: str | None = None) -> None:
        """Serve another ASGI app below ``path``."""
        self.router.mount(path, app, name)

    def host(self, host: str, app: ASGIApp, name: str | None = None) -> None:
        """Serve another ASGI app for the host pattern ``host``."""
        self.router.host(host, app, name)
