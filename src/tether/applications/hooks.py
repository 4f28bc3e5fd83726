"""``on_event`` / ``add_event_handler`` and ``@app.middleware("http")``, as FastAPI has them.

``on_event("startup")`` and ``on_event("shutdown")`` add hooks (sync or async) that run
around the lifespan context, on ``Tether`` and on ``Router`` (an included router's hooks are
copied into the app). ``@app.middleware("http")`` wraps ``async def f(request, call_next)``
in :class:`~tether.middleware.base.BaseHTTPMiddleware`: HTTP only, WebSockets pass through.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from tether.routing import Router as BaseRouter

__all__ = ["EventDecorators", "MiddlewareDecorator"]

F = TypeVar("F", bound=Callable[..., Any])


class EventDecorators:
    """``add_event_handler`` and ``on_event`` over the router's startup and shutdown hooks."""

    def _hook_router(self) -> BaseRouter:
        owner: Any = self
        router: BaseRouter = getattr(owner, "router", owner)  # Tether delegates to its router
        return router

    def add_event_handler(self, event_type: str, func: Callable[[], Any]) -> None:
        """Run ``func`` at ``"startup"`` or ``"shutdown"``.

        Raises:
            ValueError: another event type.
        """
        router = self._hook_router()
        if event_type == "startup":
            router.on_startup.append(func)
        elif event_type == "shutdown":
            router.on_shutdown.append(func)
        else:
            raise ValueError(f"event_type must be 'startup' or 'shutdown', not {event_type!r}")

    def on_event(self, event_type: str) -> Callable[[F], F]:
        """Decorator form of :meth:`add_event_handler`; returns the function unchanged.

        Raises:
            ValueError: another event type (at once, not when the decorator is applied).
        """
        if event_type not in ("startup", "shutdown"):
            raise ValueError(f"event_type must be 'startup' or 'shutdown', not {event_type!r}")

        def decorator(func: F) -> F:
            self.add_event_handler(event_type, func)
            return func

        return decorator


class MiddlewareDecorator:
    """``@app.middleware("http")``: a dispatch function as ``BaseHTTPMiddleware``."""

    if TYPE_CHECKING:  # provided by Tether

        def add_middleware(self, middleware_class: Any, *args: Any, **kwargs: Any) -> None: ...

    def middleware(self, middleware_type: str) -> Callable[[F], F]:
        """Register ``async def f(request, call_next)`` as the outermost user middleware.

        Raises:
            ValueError: a type other than ``"http"`` (the only one the peer has).
        """
        if middleware_type != "http":
            raise ValueError(f'only "http" middleware can be declared, not {middleware_type!r}')

        def decorator(func: F) -> F:
            from tether.middleware.base import BaseHTTPMiddleware

            self.add_middleware(BaseHTTPMiddleware, dispatch=func)
            return func

        return decorator
