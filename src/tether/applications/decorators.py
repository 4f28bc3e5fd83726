"""The route decorators shared by :class:`~tether.Tether` and :class:`~tether.Router`.

Both classes register routes through the same four imperative methods (``add_route``,
``add_websocket_route``, ``add_api_route``, ``add_api_websocket_route``); the decorators are
written once here over those methods. ``Tether`` implements them by delegating to its router,
``Router`` by building the routes, so a decorator on either ends in the router's method.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from tether.middleware import Middleware
    from tether.responses import Response
    from tether.runtime.limits import WebSocketLimits

__all__ = ["RouteDecorators"]

F = TypeVar("F", bound=Callable[..., Any])


class RouteDecorators:
    """``@websocket``, ``@websocket_route``, ``@route``, ``@api_route`` and ``@get``... .

    Every decorator registers the function and returns it unchanged.
    """

    if TYPE_CHECKING:  # provided by the class this is mixed into

        def add_api_websocket_route(
            self,
            path: str,
            endpoint: Callable[..., Any],
            name: str | None = None,
            *,
            dependencies: Sequence[Any] | None = None,
            limits: WebSocketLimits | None = None,
        ) -> None: ...

        def add_websocket_route(
            self, path: str, endpoint: Callable[..., Any], name: str | None = None
        ) -> None: ...

        def add_route(
            self,
            path: str,
            endpoint: Callable[..., Any],
            methods: Sequence[str] | None = None,
            name: str | None = None,
            include_in_schema: bool = True,
        ) -> None: ...

        def add_api_route(
            self,
            path: str,
            endpoint: Callable[..., Any],
            *,
            methods: Sequence[str] | None = None,
            name: str | None = None,
            dependencies: Sequence[Any] | None = None,
            status_code: int | None = None,
            response_class: type[Response] = ...,
            include_in_schema: bool = True,
            middleware: Sequence[Middleware] | None = None,
        ) -> None: ...

    def websocket(
        self,
        path: str,
        name: str | None = None,
        *,
        dependencies: Sequence[Any] | None = None,
        limits: WebSocketLimits | None = None,
    ) -> Callable[[F], F]:
        """Register an ``async def`` WebSocket endpoint with dependency injection.

        Decorator form of ``add_api_websocket_route`` (``ConfigurationError`` for a sync
        endpoint). ``limits`` fields replace the app-level ones for this route, like
        ``@limits(...)``.
        """

        def decorator(func: F) -> F:
            self.add_api_websocket_route(
                path, func, name=name, dependencies=dependencies, limits=limits
            )
            return func

        return decorator

    def websocket_route(self, path: str, name: str | None = None) -> Callable[[F], F]:
        """Register a plain WebSocket endpoint (``endpoint(websocket)``, no DI)."""

        def decorator(func: F) -> F:
            self.add_websocket_route(path, func, name=name)
            return func

        return decorator

    def route(
        self,
        path: str,
        methods: Sequence[str] | None = None,
        name: str | None = None,
        include_in_schema: bool = True,
    ) -> Callable[[F], F]:
        """Register a plain HTTP endpoint (``endpoint(request)``, no DI)."""

        def decorator(func: F) -> F:
            self.add_route(path, func, methods, name, include_in_schema)
            return func

        return decorator

    def api_route(self, path: str, **options: Any) -> Callable[[F], F]:
        """Decorator form of ``add_api_route`` (same keyword options)."""

        def decorator(func: F) -> F:
            self.add_api_route(path, func, **options)
            return func

        return decorator

    def get(self, path: str, **options: Any) -> Callable[[F], F]:
        """Register a GET endpoint (options as ``add_api_route``)."""
        return self.api_route(path, methods=["GET"], **options)

    def post(self, path: str, **options: Any) -> Callable[[F], F]:
        """Register a POST endpoint."""
        return self.api_route(path, methods=["POST"], **options)

    def put(self, path: str, **options: Any) -> Callable[[F], F]:
        """Register a PUT endpoint."""
        return self.api_route(path, methods=["PUT"], **options)

    def patch(self, path: str, **options: Any) -> Callable[[F], F]:
        """Register a PATCH endpoint."""
        return self.api_route(path, methods=["PATCH"], **options)

    def delete(self, path: str, **options: Any) -> Callable[[F], F]:
        """Register a DELETE endpoint."""
        return self.api_route(path, methods=["DELETE"], **options)

    def head(self, path: str, **options: Any) -> Callable[[F], F]:
        """Register a HEAD endpoint."""
        return self.api_route(path, methods=["HEAD"], **options)

    def options(self, path: str, **options: Any) -> Callable[[F], F]:
        """Register an OPTIONS endpoint."""
        return self.api_route(path, methods=["OPTIONS"], **options)
