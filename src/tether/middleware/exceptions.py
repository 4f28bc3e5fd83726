"""ExceptionMiddleware: exception handlers keyed by exception class or HTTP status code.

It publishes its handler tables in the scope (``scope["tether.exception_handlers"]``) so route
level code handles an endpoint's exception with the endpoint's own connection object, and it
catches what escapes ASGI endpoints, route middleware and mounted apps itself, giving the
handler a fresh Request or WebSocket whose state matches what was already sent.

Handlers are ``handler(connection, exc)``, sync (run in the thread pool) or async. A Response
they return is sent as is (HTTP) or as a denial response (WebSocket before accept); after
accept the socket closes with 1011. Handlers for ``500`` and ``Exception`` belong to
:class:`~tether.middleware.errors.ServerErrorMiddleware`; the application splits them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tether.exception_handlers import DEFAULT_HANDLERS
from tether.routing.errors import (
    HANDLERS_KEY,
    ExceptionHandler,
    HandlerTables,
    apply_handler,
    connection_for,
    ensure_tracker,
    lookup_handler,
)
from tether.types import ASGIApp, Receive, Scope, Send

__all__ = ["ExceptionMiddleware"]


class ExceptionMiddleware:
    """Route exceptions to handlers; see the module docstring.

    ``handlers`` maps exception classes or int status codes to handlers; the defaults for
    ``HTTPException``, ``WebSocketException`` and the two validation errors come first and can
    be replaced.
    """

    def __init__(
        self,
        app: ASGIApp,
        handlers: Mapping[Any, ExceptionHandler] | None = None,
        debug: bool = False,
    ) -> None:
        self.app = app
        self.debug = debug
        self._status_handlers: dict[int, ExceptionHandler] = {}
        self._exception_handlers: dict[type[BaseException], ExceptionHandler] = dict(
            DEFAULT_HANDLERS
        )
        self._tables: HandlerTables = (self._exception_handlers, self._status_handlers)
        for key, handler in (handlers or {}).items():
            self.add_exception_handler(key, handler)

    def add_exception_handler(
        self, exc_class_or_status_code: int | type[BaseException], handler: ExceptionHandler
    ) -> None:
        """Register ``handler`` for a status code (HTTPException) or an exception class."""
        if isinstance(exc_class_or_status_code, int):
            self._status_handlers[exc_class_or_status_code] = handler
        else:
            assert issubclass(exc_class_or_status_code, BaseException)
            self._exception_handlers[exc_class_or_status_code] = handler

    @property
    def tables(self) -> HandlerTables:
        """The handler tables published in the scope: ``(by class, by status code)``."""
        return self._tables

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        scope[HANDLERS_KEY] = self._tables
        tracker, send = ensure_tracker(scope, send)
        try:
            await self.app(scope, receive, send)
        except Exception as exc:
            handler = lookup_handler(self._tables, exc)
            if handler is None:
                raise
            conn = connection_for(scope, receive, send)
            await apply_handler(handler, conn, exc, scope, receive, send, tracker)
