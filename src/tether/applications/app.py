"""The application object, :class:`Tether` (``fastapi.FastAPI`` / ``starlette.Starlette``).

A Tether app is a :class:`~tether.Router` (routes, decorators, ``include_router``) wrapped in a
middleware stack built on first use, outermost first:

1. :class:`~tether.middleware.errors.ServerErrorMiddleware` (``500`` / ``Exception`` handler;
   also for WebSockets, see that module);
2. :class:`~tether.runtime.shutdown.ShutdownMiddleware` unless ``graceful_shutdown=False`` (it must see
   lifespan scopes and every WebSocket);
3. :class:`~tether.middleware.origin.OriginMiddleware` when ``allowed_origins`` is given (a
   refused cross-site handshake is not counted by the layers below);
4. :class:`~tether.runtime.metrics.MetricsMiddleware` when ``metrics`` is on (it also counts the
   frames a heartbeat or a limit then consumes);
5. :class:`~tether.runtime.heartbeat.HeartbeatMiddleware` when ``heartbeat`` is set (pongs never reach
   the limits, so ``idle_timeout`` measures the application's silence);
6. :class:`~tether.runtime.limits.LimitsMiddleware` unless ``limits`` is lifted (on by default:
   ``WebSocketLimits.recommended()``; it sees what the app gets);
7. user middleware, in list order (``add_middleware`` puts the newest outermost);
8. :class:`~tether.middleware.exceptions.ExceptionMiddleware` (every other handler);
9. the router.

An option that is off puts nothing in the stack. With the defaults a WebSocket costs one set add
and discard (the shutdown registry), one admission count and one first-message timer (the
limits), and per message a budget decrement and a length compare.

The direct WebSocket path: when the stack holds nothing but layers 1, 2, 6, 8 and 9 (no origin
check, metrics, heartbeat or user middleware, and limits without ``idle_timeout``), the app's
limits are enforced inline by the endpoint's WebSocket (:mod:`tether.runtime.limits_inline`:
no wrapping frame per message) and :meth:`Tether.__call__` serves a
WebSocket scope itself, doing what those layers do in one frame with one guard: register the
connection for the drain, match the route, call the endpoint, and on an exception run the
route's handler (with the endpoint's WebSocket), then the application's, then the server-error
outcome (log, 500 denial or close 1011). A route wrapped in its own middleware or limits is
still reached through ``route.handle`` inside that guard; a draining app takes the full stack.
The nested layers cost about 0.3 µs per frame per connection and stay suspended (about 300 B
each) for the connection's whole life, which is why they are folded here.

Lifespan: ``lifespan(app)`` is an async context manager that may yield a dict of state (each
connection sees it as ``request.state`` / ``websocket.state``); ``on_startup`` / ``on_shutdown``
hooks run around it. Shutdown has one mechanism, the drain of :mod:`tether.runtime.shutdown`: on
SIGTERM (under uvicorn), on :meth:`Tether.drain`, or at lifespan shutdown while WebSockets are
still open (before the lifespan's own exit code runs), every open WebSocket is closed with 1012
"service restart" (configurable with :class:`~tether.runtime.shutdown.GracefulShutdown`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal, TypeVar

from tether.applications.decorators import RouteDecorators
from tether.applications.frontend import Fallback
from tether.applications.hooks import EventDecorators, MiddlewareDecorator
from tether.applications.openapi import OpenAPIOptions
from tether.applications.router import APIRoute, APIWebSocketRoute, Router
from tether.datastructures import State, URLPath
from tether.exceptions import ConfigurationError
from tether.middleware import Middleware
from tether.middleware.errors import ServerErrorMiddleware
from tether.middleware.exceptions import ExceptionMiddleware
from tether.middleware.origin import OriginMiddleware
from tether.middleware.trustedhost import TrustedHostMiddleware
from tether.openapi.app import build_document
from tether.routing import BaseRoute
from tether.routing.errors import (
    HANDLERS_KEY,
    TRACKER_KEY,
    ExceptionHandler,
    HandlerTables,
    SendTracker,
    handle_exception,
)
from tether.routing.routes import direct_websocket_call
from tether.runtime.heartbeat import Heartbeat, HeartbeatMiddleware
from tether.runtime.limits import LimitsMiddleware, Refusal, WebSocketLimits
from tether.runtime.limits_inline import AppLimits, inline_capable
from tether.runtime.metrics import (
    MetricsEndpoint,
    MetricsMiddleware,
    TetherMetrics,
    default_metrics,
    register_channels,
)
from tether.runtime.shutdown import ConnectionRegistry, GracefulShutdown, ShutdownMiddleware
from tether.staticfiles import PathLike
from tether.telemetry import TelemetryConfig, resolve_telemetry
from tether.types import ASGIApp, Lifespan, Receive, Scope, Send
from tether.websockets import WebSocket

__all__ = ["APIRoute", "APIWebSocketRoute", "Router", "Tether"]

DEFAULT_LIMITS = WebSocketLimits.recommended()
"""The limits of an app that passes none (``limits=None`` or ``WebSocketLimits.none()``: none)."""

F = TypeVar("F", bound=Callable[..., Any])


class Tether(RouteDecorators, EventDecorators, MiddlewareDecorator):
    """A WebSocket-first ASGI application.

    Routes are added with the decorators (``@app.websocket``, ``@app.get``...) or given as
    ``routes``. ``dependencies`` run before every route's own; ``dependency_overrides`` maps a
    dependency to its replacement (tests). ``allowed_origins`` refuses WebSocket handshakes from
    other origins with 403 (``["*"]`` allows all); a page of the app's own origin passes only
    when its host is trusted (see :mod:`tether.middleware.origin`: DNS rebinding). Other keyword options are kept as
    attributes for tools (``title``, ``version``, ``description``).

    Production options (each off puts nothing in the middleware stack):

    - ``limits``: :class:`~tether.runtime.limits.WebSocketLimits` for every WebSocket (per route:
      ``@limits(...)`` on the endpoint or ``@app.websocket(path, limits=...)``);
    - ``heartbeat``: the ping interval in seconds, or :class:`~tether.runtime.heartbeat.Heartbeat`;
    - ``metrics``: ``True`` counts on the process-wide registry and serves it at ``/metrics``;
      a :class:`~tether.runtime.metrics.TetherMetrics` uses its registry instead;
    - ``telemetry``: OpenTelemetry spans and metrics (:mod:`tether.telemetry`): on by default
      when ``opentelemetry-api`` is installed and a provider is configured; ``False`` is off;
      a :class:`~tether.telemetry.TelemetryConfig` dict sets providers and switches;
    - ``graceful_shutdown``: on by default (drain with 1012 on SIGTERM and lifespan shutdown);
      a :class:`~tether.runtime.shutdown.GracefulShutdown` sets times, close code and reason.

    Raises ``ValueError`` for a bad heartbeat interval, ``TypeError`` for a heartbeat that is
    neither seconds nor a ``Heartbeat``.
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
        limits: WebSocketLimits | None = DEFAULT_LIMITS,
        heartbeat: Heartbeat | float | None = None,
        metrics: bool | TetherMetrics = False,
        graceful_shutdown: GracefulShutdown | bool = True,
        telemetry: TelemetryConfig | bool | None = None,
        redirect_slashes: bool = True,
        title: str = "FastAPI",
        version: str = "0.1.0",
        description: str = "",
        **http_options: Any,
    ) -> None:
        self.debug = debug
        self.state = State()
        self.title, self.version, self.description = title, version, description
        options = OpenAPIOptions(**http_options)
        self.root_path = options.root_path
        self.openapi_schema: dict[str, Any] | None = None
        self.dependency_overrides: dict[Callable[..., Any], Callable[..., Any]] = {}
        self.exception_handlers: dict[Any, ExceptionHandler] = dict(exception_handlers or {})
        self.user_middleware = list(middleware or [])
        self.allowed_origins = list(allowed_origins) if allowed_origins is not None else None
        self.middleware_stack: ASGIApp | None = None
        self._direct: _DirectWebSocket | None = None
        self.limits = limits
        self.heartbeat = _heartbeat_option(heartbeat)
        self.metrics = _metrics_option(metrics)
        self.graceful_shutdown = _shutdown_option(graceful_shutdown)
        self.connections = ConnectionRegistry(self.metrics)
        """The open WebSockets (the drain's registry; empty with ``graceful_shutdown=False``)."""
        self.router = Router(
            routes=routes,
            dependencies=dependencies,
            redirect_slashes=redirect_slashes,
            lifespan=lifespan,
            on_startup=on_startup,
            on_shutdown=on_shutdown,
            **options.router_options(),
        )
        options.apply(self)
        if self.metrics is not None:
            endpoint = MetricsEndpoint(self.metrics.registry)
            self.router.add_route("/metrics", endpoint, ["GET", "HEAD"], "metrics", False)
        self._telemetry = resolve_telemetry(telemetry)
        if self._telemetry is not None:
            self._telemetry.attach(self.metrics, self.router)

    # -- lifecycle -------------------------------------------------------------------------

    async def drain(self) -> int:
        """Refuse new WebSockets and close the open ones (1012 by default); return how many.

        See :mod:`tether.runtime.shutdown`. Raises ``ConfigurationError`` with ``graceful_shutdown=False``
        (nothing is tracked then).
        """
        options = self.graceful_shutdown
        if options is None:
            raise ConfigurationError("drain() needs graceful_shutdown enabled on the Tether app")
        return await self.connections.drain(
            grace_period=options.grace_period,
            close_wait=options.close_wait,
            code=options.code,
            reason=options.reason,
        )

    def attach_channels(self, channels: Any) -> None:
        """Expose a ``tether.channels`` hub's counters on this app's ``/metrics``.

        Raises ``ConfigurationError`` when the app was built without ``metrics``.
        """
        if self.metrics is None:
            raise ConfigurationError("attach_channels() needs Tether(metrics=True)")
        register_channels(self.metrics.registry, channels)

    def _hardening_middleware(self) -> list[Middleware]:
        parts = self.metrics or default_metrics()
        stack: list[Middleware] = []
        if self.graceful_shutdown is not None:
            options = dataclasses.asdict(self.graceful_shutdown)
            stack.append(Middleware(ShutdownMiddleware, self.connections, **options))
        if self.allowed_origins is not None:
            hosts = _trusted_hosts(self.user_middleware)
            origins = self.allowed_origins
            stack.append(Middleware(OriginMiddleware, origins, allowed_hosts=hosts))
        if self.metrics is not None:
            stack.append(Middleware(MetricsMiddleware, self.metrics))
        if self.heartbeat is not None:
            options = dataclasses.asdict(self.heartbeat)
            stack.append(Middleware(HeartbeatMiddleware, metrics=parts, **options))
        if self.limits is not None and self.limits.enabled:
            stack.append(Middleware(LimitsMiddleware, self.limits, metrics=parts))
        return stack

    def build_middleware_stack(self) -> ASGIApp:
        """Assemble the middleware stack described in the module docstring."""
        error_handler = None
        handlers: dict[Any, ExceptionHandler] = {}
        for key, handler in self.exception_handlers.items():
            if key in (500, Exception):
                error_handler = handler
            else:
                handlers[key] = handler
        stack = [Middleware(ServerErrorMiddleware, handler=error_handler, debug=self.debug)]
        hardening = self._hardening_middleware()
        stack += hardening
        stack += self.user_middleware
        stack.append(Middleware(ExceptionMiddleware, handlers=handlers, debug=self.debug))
        app: ASGIApp = self.router
        layers: list[Any] = []
        for cls, args, kwargs in reversed(stack):
            app = cls(app, *args, **kwargs)
            layers.append(app)
        self._direct = None
        inline = self.limits is not None and inline_capable(self.limits)
        plain = all(
            entry.cls is ShutdownMiddleware or (entry.cls is LimitsMiddleware and inline)
            for entry in hardening
        )
        if plain and not self.user_middleware and self.router.middleware_stack == self.router.app:
            self._direct = _DirectWebSocket(app, self.router, layers)
        return app

    def openapi(self) -> dict[str, Any]:
        """The OpenAPI document of the app's HTTP routes, generated once (``openapi_schema``)."""
        if not self.openapi_schema:
            self.openapi_schema = build_document(self)
        return self.openapi_schema

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope["app"] = self
        if self.root_path:
            scope["root_path"] = self.root_path
        telemetry = self._telemetry
        direct = self._direct
        traced = False
        if telemetry is not None and scope.get("tether.telemetry", telemetry) is not None:
            # Not yet seen by telemetry (trace it if live), or traced by it: then the route's
            # observed call, which reports its operations to the scope's observer (a scope
            # telemetry skips is marked None). Traced connections keep the direct path: each
            # frame of the full stack would be resumed on every message.
            traced = "tether.telemetry" in scope
            if not traced and telemetry.live():
                await telemetry.handle(self, scope, receive, send)  # comes back, marked
                return
        if direct is None or not direct.serves(scope, self.middleware_stack):
            if self.middleware_stack is None:
                self.middleware_stack = self.build_middleware_stack()
            await self.middleware_stack(scope, receive, send)
            return
        # SendTracker.bind inlined; the endpoint is awaited here, so that no frame of ours
        # sits between the server and the endpoint (each would be resumed on every message).
        tracker = SendTracker(send)
        scope[TRACKER_KEY] = tracker
        scope[HANDLERS_KEY] = direct.tables
        key = direct.open(scope, tracker)
        try:
            try:
                if key.__class__ is Refusal:
                    await key.send(scope, tracker)
                    return
                route = direct.router.match_websocket(scope)
                call = None if route is None else direct_websocket_call(route, traced)
                if call is not None:
                    websocket = tracker.websocket = WebSocket(scope, receive, send)
                    direct.attach(websocket, route)
                    await call(websocket)
                else:
                    await direct.fallback(route, scope, receive, tracker)
            except Exception as exc:
                if not await _recover(exc, scope, receive, tracker, tracker.websocket):
                    raise
            finally:
                direct.close(tracker, key)
        except Exception as exc:
            await direct.errors.websocket_error(exc, scope, receive, tracker, tracker)
        finally:
            # scope -> tracker -> WebSocket -> scope is a reference cycle: broken here, the
            # connection's objects are freed by reference counting, not by the cyclic GC.
            tracker.websocket = None

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

    # -- routes (delegated to the router; the decorators come from RouteDecorators) --------

    def add_api_websocket_route(
        self,
        path: str,
        endpoint: Callable[..., Any],
        name: str | None = None,
        *,
        dependencies: Sequence[Any] | None = None,
        limits: WebSocketLimits | None = None,
    ) -> None:
        """Imperative form of :meth:`websocket`."""
        self.router.add_api_websocket_route(
            path, endpoint, name, dependencies=dependencies, limits=limits
        )

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

    def add_api_route(self, path: str, endpoint: Callable[..., Any], **options: Any) -> None:
        """Add an HTTP route with DI (options as :meth:`tether.Router.add_api_route`)."""
        self.router.add_api_route(path, endpoint, **options)

    def include_router(
        self,
        router: Router,
        *,
        prefix: str = "",
        dependencies: Sequence[Any] | None = None,
        **options: Any,
    ) -> None:
        """Serve ``router``'s routes below ``prefix``, after the app's and ``dependencies``.

        ``options`` as :meth:`tether.Router.include_router` (``tags``, ``responses``...).
        """
        self.router.include_router(router, prefix=prefix, dependencies=dependencies, **options)

    def frontend(
        self,
        path: str,
        *,
        directory: PathLike,
        fallback: Fallback = "auto",
        check_dir: bool | Literal["auto"] = "auto",
    ) -> None:
        """Serve a frontend build below ``path``, after every other route (FastAPI's API).

        As :meth:`tether.Router.frontend`; see :mod:`tether.applications.frontend`.
        """
        self.router.frontend(path, directory=directory, fallback=fallback, check_dir=check_dir)

    def mount(self, path: str, app: ASGIApp, name: str | None = None) -> None:
        """Serve another ASGI app below ``path``."""
        self.router.mount(path, app, name)

    def host(self, host: str, app: ASGIApp, name: str | None = None) -> None:
        """Serve another ASGI app for the host pattern ``host``."""
        self.router.host(host, app, name)


class _DirectWebSocket:
    """What the direct WebSocket path needs from a built stack (see the module docstring)."""

    __slots__ = ("stack", "router", "errors", "tables", "registry", "limits")

    def __init__(self, stack: ASGIApp, router: Router, layers: list[Any]) -> None:
        self.stack = stack
        self.router = router
        self.errors: ServerErrorMiddleware = layers[-1]
        exceptions: ExceptionMiddleware = layers[0]
        self.tables: HandlerTables = exceptions.tables
        shutdown = [layer for layer in layers if isinstance(layer, ShutdownMiddleware)]
        self.registry: ConnectionRegistry | None = shutdown[0].registry if shutdown else None
        guards = [layer for layer in layers if isinstance(layer, LimitsMiddleware)]
        self.limits: AppLimits | None = AppLimits(guards[0]) if guards else None

    def serves(self, scope: Scope, stack: ASGIApp | None) -> bool:
        """Whether this path serves ``scope``: a WebSocket, the stack unchanged, not draining
        (a draining app's full stack refuses new connections)."""
        registry = self.registry
        return (
            scope["type"] == "websocket"
            and self.stack is stack
            and (registry is None or not registry.draining)
        )

    def open(self, scope: Scope, tracker: SendTracker) -> str | Refusal | None:
        """Register the connection for the drain and admit it past the connection caps:
        the client key to release, the refusal to answer with, or None (no limits)."""
        if self.registry is not None:
            self.registry.add(tracker)
        limits = self.limits
        return None if limits is None else limits.middleware.admit(scope)

    def attach(self, websocket: WebSocket, route: Any) -> None:
        """Put the app's inline limits on the endpoint's WebSocket."""
        if self.limits is not None:
            self.limits.attach(websocket, route)

    async def fallback(self, route: Any, scope: Scope, receive: Receive, send: Send) -> None:
        """A route with its own ``handle`` (middleware, route limits) or no route (404)."""
        if route is None:
            await self.router.default(scope, receive, send)
        elif self.limits is not None:
            await self.limits.handle(route, scope, receive, send)
        else:
            await route.handle(scope, receive, send)

    def close(self, tracker: SendTracker, key: str | Refusal | None) -> None:
        """Undo :meth:`open` (and release the WebSocket's limiter)."""
        if self.registry is not None:
            self.registry.discard(tracker)
        if key.__class__ is str:
            self.limits.middleware.release(key)  # type: ignore[union-attr]
        websocket = tracker.websocket
        if websocket is not None and websocket._limiter is not None:
            websocket._limiter.detach()  # type: ignore[attr-defined]


async def _recover(
    exc: Exception,
    scope: Scope,
    receive: Receive,
    tracker: SendTracker,
    websocket: WebSocket | None,
) -> bool:
    """Handle ``exc`` as the route guard and then ExceptionMiddleware would; False: unhandled.

    The route's guard gives its handler the endpoint's own WebSocket; what that handler raises
    goes to the application level, which builds a state-synced connection. An exception with
    no handler at the route has none at the application either (same tables), so it is only
    looked up once.
    """
    if websocket is None:
        return await handle_exception(exc, scope, receive, tracker, None)
    try:
        return await handle_exception(exc, scope, receive, tracker, websocket)
    except Exception as again:
        if not await handle_exception(again, scope, receive, tracker, None):
            raise
        return True


def _trusted_hosts(middleware: Sequence[Middleware]) -> list[str]:
    """The ``allowed_hosts`` of every ``TrustedHostMiddleware`` the user put in the stack.

    The origin check runs outside user middleware, so it learns the trusted hosts here, once.
    """
    hosts: list[str] = []
    for cls, args, kwargs in middleware:
        if isinstance(cls, type) and issubclass(cls, TrustedHostMiddleware):
            found = kwargs.get("allowed_hosts", args[0] if args else None)
            hosts.extend(found or ())
    return hosts


def _heartbeat_option(heartbeat: Heartbeat | float | None) -> Heartbeat | None:
    if heartbeat is None or isinstance(heartbeat, Heartbeat):
        return heartbeat
    if isinstance(heartbeat, bool) or not isinstance(heartbeat, int | float):
        raise TypeError(f"heartbeat must be seconds or a Heartbeat, not {heartbeat!r}")
    return Heartbeat(interval=float(heartbeat))


def _metrics_option(metrics: bool | TetherMetrics) -> TetherMetrics | None:
    if isinstance(metrics, TetherMetrics):
        return metrics
    return default_metrics() if metrics else None


def _shutdown_option(option: GracefulShutdown | bool) -> GracefulShutdown | None:
    if isinstance(option, GracefulShutdown):
        return option
    return GracefulShutdown() if option else None
