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

Per-route WebSocket limits: an endpoint decorated with :func:`tether.runtime.limits.limits`, or a
``limits=WebSocketLimits(...)`` given to :meth:`Router.websocket`, gets its route's ASGI app
wrapped by :func:`tether.runtime.limits.apply_route_limits` here, at registration.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
from collections.abc import Awaitable, Callable, Sequence
from enum import Enum
from typing import TYPE_CHECKING, Any, Final, Literal, TypeVar

import tether.routing as _routing
from tether.applications.background import observe_background, then_background, with_injected
from tether.applications.decorators import RouteDecorators
from tether.applications.frontend import Fallback, FrontendRoutes, add_frontend, include_frontends
from tether.applications.hooks import EventDecorators
from tether.applications.options import include_options, merge_route_options
from tether.applications.responses import (
    Default,
    DefaultPlaceholder,
    ResponseModel,
    SerializeOptions,
    body_allowed,
    check_model,
    generate_unique_id,
    resolve,
    return_annotation,
)
from tether.dependencies import EndpointPlan
from tether.dependencies.forms import FORM_LIMITS_KEY
from tether.dependencies.solver import OBSERVER_KEY, observed_operation, swallowed_error
from tether.encoders import jsonable_encoder
from tether.exceptions import ConfigurationError
from tether.formparsers import FormLimits
from tether.requests import BODY_LIMIT_KEY, Request
from tether.responses import JSONResponse, Response
from tether.routing import BaseRoute, Mount, Route, WebSocketRoute
from tether.routing import Router as BaseRouter
from tether.routing.errors import ensure_tracker, run_guarded
from tether.routing.router import merge_lifespans
from tether.routing.routes import WebSocketSession
from tether.runtime.limits import LimitsMiddleware, WebSocketLimits, apply_route_limits
from tether.staticfiles import PathLike
from tether.streams.events import stream_item_type
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


def jsonable(value: Any) -> Any:
    """JSON-compatible data from a value without a response model (FastAPI's encoder rules)."""
    return jsonable_encoder(value)


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
        call = self.plan.connection_call
        observed: Callable[[Any], Awaitable[Any]] = self.plan.run_observed
        if self.plan.injected:  # BackgroundTasks: run once the endpoint has ended
            call = then_background(call)
            observed = then_background(observed)
        return WebSocketSession(call, observed)


class APIRoute(Route):
    """An HTTP route with injected parameters and FastAPI's response and documentation options.

    A non-Response result is checked and encoded by the response model (see
    :mod:`tether.applications.responses`), or encoded as JSON-compatible data without one.
    ``response_class`` sets the class of the responses this route builds. A generator
    endpoint streams: each result goes to the class's ``from_generator(result, status_code=,
    ping_interval=)`` classmethod (how :mod:`tether.sse` plugs in), or is sent as JSON lines
    when no class was chosen. The other options are documentation for
    :mod:`tether.openapi`: ``tags``, ``summary``, ``description`` (else the endpoint's
    docstring), ``response_description``, ``responses``, ``deprecated``, ``operation_id``
    (else ``generate_unique_id_function(route)``), ``openapi_extra``, ``callbacks``.
    """

    def __init__(
        self,
        path: str,
        endpoint: Callable[..., Any],
        *,
        response_model: Any = Default(None),
        status_code: int | None = None,
        tags: Sequence[str | Enum] | None = None,
        dependencies: Sequence[Any] | None = None,
        summary: str | None = None,
        description: str | None = None,
        response_description: str = "Successful Response",
        responses: dict[int | str, dict[str, Any]] | None = None,
        deprecated: bool | None = None,
        methods: Sequence[str] | None = None,
        operation_id: str | None = None,
        response_model_include: Any = None,
        response_model_exclude: Any = None,
        response_model_by_alias: bool = True,
        response_model_exclude_unset: bool = False,
        response_model_exclude_defaults: bool = False,
        response_model_exclude_none: bool = False,
        include_in_schema: bool = True,
        response_class: type[Response] | DefaultPlaceholder[type[Response]] = Default(JSONResponse),
        name: str | None = None,
        callbacks: list[BaseRoute] | None = None,
        openapi_extra: dict[str, Any] | None = None,
        generate_unique_id_function: Callable[[Any], str] | DefaultPlaceholder[Any] = Default(
            generate_unique_id
        ),
        middleware: Sequence[Middleware] | None = None,
        max_body_size: int | None = None,
        form_limits: FormLimits | None = None,
        strict_content_type: bool | DefaultPlaceholder[bool] = Default(True),
    ) -> None:
        self.dependencies = list(dependencies or ())
        self.status_code = status_code
        self.max_body_size = max_body_size
        self.form_limits = form_limits
        # None or a placeholder: not chosen for this route, so a router's default may apply.
        self.response_class = Default(JSONResponse) if response_class is None else response_class
        self.tags: list[str | Enum] = list(tags or ())
        self.summary = summary
        self.description = description or inspect.cleandoc(endpoint.__doc__ or "")
        # FastAPI documents the docstring up to a form feed ("\f") only.
        self.description = self.description.split("\f")[0].strip()
        self.response_description = response_description
        self.responses = dict(responses or {})
        self.deprecated = deprecated
        self.operation_id = operation_id
        self.callbacks = callbacks
        self.openapi_extra = openapi_extra
        self.generate_unique_id_function = generate_unique_id_function
        self.serialize_options = SerializeOptions(
            response_model_include,
            response_model_exclude,
            response_model_by_alias,
            response_model_exclude_unset,
            response_model_exclude_defaults,
            response_model_exclude_none,
        )
        if isinstance(response_model, DefaultPlaceholder):
            response_model = return_annotation(endpoint)
        self.response_model = response_model
        for extra in self.responses.values():
            if isinstance(extra, dict) and extra.get("model") is not None:
                check_model(extra["model"])
        self.plan = EndpointPlan.compile(
            endpoint, websocket=False, dependencies=self.dependencies, path=path
        )
        # A placeholder until a level sets it, so include_router can still apply a router's.
        self.strict_content_type = strict_content_type
        self.plan.strict_content_type = bool(resolve(strict_content_type))
        # FastAPI's routes list only the methods given; HEAD is served for GET all the same.
        self.openapi_methods = sorted({method.upper() for method in methods or ["GET"]})
        super().__init__(
            path,
            endpoint,
            methods=self.openapi_methods,
            name=name,
            include_in_schema=include_in_schema,
            middleware=middleware,
        )
        self.unique_id = self.operation_id or resolve(generate_unique_id_function)(self)

    def _responder(self) -> Callable[[Any], Response]:
        """The function turning an endpoint result into a response, chosen at registration."""
        cls: type[Response] = resolve(self.response_class)
        endpoint = self.endpoint
        if inspect.isasyncgenfunction(endpoint) or inspect.isgeneratorfunction(endpoint):
            return self._streaming_responder(cls)
        status: dict[str, Any] = {}
        if self.status_code is not None:
            status["status_code"] = self.status_code
        if not body_allowed(self.status_code):
            return lambda result: _without_body(cls(None, **status))
        model = self.response_model
        if model is None:
            return lambda result: cls(jsonable(result), **status)
        checker = ResponseModel(model, self.serialize_options)
        if cls is JSONResponse:  # encoded by the model, straight to bytes
            to_json = checker.to_json
            return lambda result: Response(to_json(result), media_type=_JSON, **status)
        to_python = checker.to_python
        return lambda result: cls(to_python(result), **status)

    def _request_limits(self) -> dict[str, Any]:
        """Scope entries for the body and form limits this route sets (none: no cost)."""
        limits: dict[str, Any] = {}
        if self.max_body_size is not None:
            limits[BODY_LIMIT_KEY] = self.max_body_size
        if self.form_limits is not None:
            limits[FORM_LIMITS_KEY] = self.form_limits
        return limits

    def _streaming_responder(self, cls: type[Response]) -> Callable[[Any], Response]:
        # A path operation that yields streams what it yields: through the response class's
        # from_generator() (EventSourceResponse: one event per value), as JSON lines when no
        # response class was chosen (as the peer), else as the class's plain content. An
        # item type in the return annotation (AsyncIterable[Item]) checks and filters every
        # value as a response model does.
        stream = getattr(cls, "from_generator", None)
        if stream is None and cls is JSONResponse:
            stream = JSONLinesResponse.from_generator
        status_code = self.status_code
        if stream is None:
            return lambda result: cls(_checkpointed(result), status_code=status_code or 200)
        item = stream_item_type(self.response_model)
        item_json = None if item is None else ResponseModel(item, self.serialize_options).to_json

        def respond(result: Any) -> Response:
            response: Response = stream(
                result,
                status_code=status_code,
                ping_interval=_routing._PING_INTERVAL,
                item_json=item_json,
            )
            return response

        return respond

    def _endpoint_app(self, endpoint: Callable[..., Any]) -> ASGIApp:
        plan = self.plan
        build = self._responder()

        def passthrough(result: Any, scope: Scope) -> Response:
            return result if isinstance(result, Response) else build(result)

        respond: Callable[[Any, Scope], Response] = passthrough
        if plan.injected:  # BackgroundTasks / Response parameters: finished per request
            respond = with_injected(passthrough)

        limits = self._request_limits()

        async def app(scope: Scope, receive: Receive, send: Send) -> None:
            _, send = ensure_tracker(scope, send)
            if limits:
                scope.update(limits)
            request = Request(scope, receive, send)

            async def serve(send: Send) -> None:
                # Connection-scoped yield dependencies close after the response is sent.
                answered = False
                async with contextlib.AsyncExitStack() as stack:
                    observer = scope.get(OBSERVER_KEY)  # telemetry's, when it observes
                    if observer is None:
                        result = await plan.run(request, exit_stack=stack)
                        response = respond(result, scope)
                    else:
                        result = await plan.run_observed(request, exit_stack=stack)
                        with observed_operation(observer, "serialization", endpoint):
                            response = respond(result, scope)
                        observe_background(response, observer)
                    await response(scope, receive, send)
                    answered = True
                if not answered:  # the endpoint failed and a yield dependency kept its error
                    raise swallowed_error()

            await run_guarded(serve, scope, receive, send, request)

        return app


_JSON: Final = "application/json"


def _without_body(response: Response) -> Response:
    # 204/304 and 1xx carry no body (RFC 9110 section 6.4.1), whatever the class renders.
    response.body = b""
    return response


def _checkpointed(result: Any) -> Any:
    """An async generator's chunks, yielding to the loop after each one.

    A generator that never awaits would otherwise hold the loop for as long as the server's
    ``send`` does not suspend, and could not be cancelled (FastAPI's issue 14680).
    """
    if not inspect.isasyncgen(result):
        return result

    async def chunks() -> Any:
        async for chunk in result:
            yield chunk
            await asyncio.sleep(0)

    return chunks()


def _check_prefix(prefix: str) -> None:
    if prefix and (not prefix.startswith("/") or prefix.endswith("/")):
        raise ConfigurationError(
            f"a router prefix must start with '/' and not end with '/', got {prefix!r}"
        )


class Router(BaseRouter, RouteDecorators, EventDecorators):
    """FastAPI-style router (``fastapi.APIRouter``): decorators, prefix, shared dependencies.

    ``prefix`` is put before every path added to this router; ``dependencies`` run before
    those of each route added to it. Raises :class:`ConfigurationError` for a prefix that
    does not start with ``/`` or ends with ``/``.
    """

    route_class: type[APIRoute] = APIRoute
    """The class of the HTTP routes this router makes (``APIRouter.route_class``)."""

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
        tags: Sequence[str | Enum] | None = None,
        default_response_class: type[Response] = Default(JSONResponse),
        responses: dict[int | str, dict[str, Any]] | None = None,
        callbacks: list[BaseRoute] | None = None,
        deprecated: bool | None = None,
        include_in_schema: bool = True,
        generate_unique_id_function: Callable[[Any], str] = Default(generate_unique_id),
        max_body_size: int | None = None,
        strict_content_type: bool | DefaultPlaceholder[bool] = Default(True),
    ) -> None:
        _check_prefix(prefix)
        self.max_body_size = max_body_size
        self.strict_content_type = strict_content_type
        self.tags: list[str | Enum] = list(tags or ())
        self.default_response_class = default_response_class
        self.responses = dict(responses or {})
        self.callbacks = list(callbacks or ())
        self.deprecated = deprecated
        self.include_in_schema = include_in_schema
        self.generate_unique_id_function = generate_unique_id_function
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
        self._frontend_routes: FrontendRoutes | None = None

    def _path(self, path: str) -> str:
        # An empty path is allowed on a router, as FastAPI allows it: the route matches nothing
        # until the router is included below a prefix (see _included_path).
        return self.prefix + path

    def _included_path(self, path: str) -> str:
        full = self.prefix + path
        if not full:
            raise ConfigurationError(
                "an included route has an empty path: give the route a path or "
                "include_router() a prefix (a prefix and a path cannot both be empty)"
            )
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

    def add_api_route(self, path: str, endpoint: Callable[..., Any], **options: Any) -> None:
        """Add an HTTP route with dependency injection (options: those of :class:`APIRoute`).

        This router's ``tags``, ``dependencies``, ``responses`` and ``callbacks`` come before
        the route's own; its ``default_response_class``, ``deprecated``,
        ``include_in_schema`` and ``generate_unique_id_function`` apply where the route sets
        none.
        """
        options = merge_route_options(self, options)
        self.routes.append(APIRoute(self._path(path), endpoint, **options))

    def include_router(
        self,
        router: BaseRouter,
        *,
        prefix: str = "",
        dependencies: Sequence[Any] | None = None,
        **options: Any,
    ) -> None:
        """Copy ``router``'s routes here below ``prefix``, with ``dependencies`` run first.

        ``options`` (``tags``, ``responses``, ``default_response_class``, ``deprecated``,
        ``include_in_schema``, ``generate_unique_id_function``, ``callbacks``) apply to the
        included HTTP routes as a router's own would. Raises :class:`ConfigurationError` for
        a bad prefix, or when a route cannot be compiled.
        """
        if router is self:  # FastAPI's wording, which its tests match
            raise ConfigurationError(
                "Cannot include the same APIRouter instance into itself. "
                "Did you mean to include a different router?"
            )
        _check_prefix(prefix)
        extra = list(dependencies or ())
        for route in router.routes:
            self.routes.append(self._included(route, router, prefix, extra, options))
        for route in getattr(router, "_low_priority_routes", ()):
            if isinstance(route, FrontendRoutes):
                include_frontends(self, route, self.prefix + prefix, [*self.dependencies, *extra])
            else:
                copy = self._included(route, router, prefix, extra, options)
                self._low_priority_routes.append(copy)
        self.on_startup.extend(router.on_startup)
        self.on_shutdown.extend(router.on_shutdown)
        if router.lifespan_context is not None:  # runs inside this router's own
            self.lifespan_context = merge_lifespans(self.lifespan_context, router.lifespan_context)

    def _included(
        self,
        route: BaseRoute,
        source: BaseRouter,
        prefix: str,
        extra: list[Any],
        options: dict[str, Any],
    ) -> BaseRoute:
        """A copy of ``route`` (of router ``source``) for this router, below ``prefix``."""
        if isinstance(route, APIRoute):
            merged = include_options(route, source, options)
            merged["dependencies"] = [*extra, *route.dependencies]
            merged = merge_route_options(self, merged)
            return APIRoute(self._included_path(prefix + route.path), route.endpoint, **merged)
        if isinstance(route, APIWebSocketRoute):
            return APIWebSocketRoute(
                self._included_path(prefix + route.path),
                route.endpoint,
                name=route.name,
                dependencies=[*self.dependencies, *extra, *route.dependencies],
                middleware=route.middleware,
                limits=route.limits,
            )
        if isinstance(route, WebSocketRoute):
            path = self._included_path(prefix + route.path)
            copy = WebSocketRoute(
                path, route.endpoint, name=route.name, middleware=route.middleware
            )
            return _guard_route(copy)
        if isinstance(route, Route):
            methods = sorted(route.methods) if route.methods is not None else None
            return Route(
                self._included_path(prefix + route.path),
                route.endpoint,
                methods=methods,
                name=route.name,
                include_in_schema=route.include_in_schema,
                middleware=route.middleware,
            )
        if isinstance(route, Mount):
            return Mount(self.prefix + prefix + route.path, route.app, name=route.name)
        return route  # Host and custom routes are shared as they are

    def frontend(
        self,
        path: str,
        *,
        directory: PathLike,
        fallback: Fallback = "auto",
        check_dir: bool | Literal["auto"] = "auto",
    ) -> None:
        """Serve the frontend build in ``directory`` below ``path``, after every other route.

        See :mod:`tether.applications.frontend` for what a request gets. Raises
        ``AssertionError`` for an empty path, one not starting with ``/``, or an unknown
        ``fallback``; ``RuntimeError`` when ``directory`` or an explicit fallback file is
        missing and ``check_dir`` says to check now.
        """
        add_frontend(
            self,
            path,
            directory=directory,
            fallback=fallback,
            check_dir=check_dir,
            route_class=APIRoute,
        )
