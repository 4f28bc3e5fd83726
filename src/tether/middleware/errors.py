"""ServerErrorMiddleware: the outermost net for exceptions nothing else handled.

HTTP (as the peer): the ``500`` / ``Exception`` handler's response, or a plain 500 (a traceback
in debug mode), then the exception is re-raised so the server logs it.

WebSocket (divergences 1 and 3; the peer passes WebSocket errors through untouched):

* a ``WebSocketDisconnect`` escaping the app is the client going away: a normal end, no log;
* the ``500`` / ``Exception`` handler runs for WebSockets too, receiving the WebSocket;
* otherwise one error record goes to the ``tether.error`` logger, and the client sees a 500
  denial response before accept (close 1011 where the server lacks the extension) or a close
  1011 after accept. The exception is not re-raised, so the server does not log it twice.

It creates the connection's :class:`~tether.routing.errors.SendTracker`, which the layers
below reuse (a graceful drain closes WebSockets through it).
"""

from __future__ import annotations

import logging
import traceback

from tether.requests import Request
from tether.responses import PlainTextResponse, Response
from tether.routing.errors import (
    ExceptionHandler,
    Phase,
    SendTracker,
    call_handler,
    close_websocket,
    connection_for,
    ensure_tracker,
    send_outcome,
    short_reason,
)
from tether.runtime.logsafe import printable
from tether.types import ASGIApp, Receive, Scope, Send
from tether.websockets import WebSocketDisconnect, WebSocketDisconnected

__all__ = ["RAISE_APP_EXCEPTIONS", "ServerErrorMiddleware"]

logger = logging.getLogger("tether.error")

RAISE_APP_EXCEPTIONS = "tether.raise_app_exceptions"
"""A scope extension the test client sets (``raise_server_exceptions=True``): a WebSocket's
unhandled exception, ``WebSocketDisconnect`` included, is raised to the test as the peer's
test client does, instead of the 1011 close and log record a real server's client gets."""


def _raise_to_test(scope: Scope) -> bool:
    extensions = scope.get("extensions")
    return extensions is not None and RAISE_APP_EXCEPTIONS in extensions


def _closed_here(exc: Exception, tracker: SendTracker) -> bool:
    """A disconnect error raised after this side had already closed the socket."""
    return tracker.phase is Phase.CLOSED and isinstance(
        exc, (WebSocketDisconnect, WebSocketDisconnected)
    )


class ServerErrorMiddleware:
    """Turn unhandled exceptions into 500 responses / 1011 closes; see the module docstring."""

    def __init__(
        self,
        app: ASGIApp,
        handler: ExceptionHandler | None = None,
        debug: bool = False,
    ) -> None:
        self.app = app
        self.handler = handler
        self.debug = debug

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        tracker, send = ensure_tracker(scope, send)
        try:
            await self.app(scope, receive, send)
        except Exception as exc:
            if scope["type"] == "http":
                await self._http_error(exc, scope, receive, send, tracker)
                raise
            await self.websocket_error(exc, scope, receive, send, tracker)
        finally:
            if send is tracker:  # made here: the connection is over for every layer below
                # Break scope -> tracker -> WebSocket -> scope: refcounting frees them now.
                tracker.websocket = None

    async def _http_error(
        self, exc: Exception, scope: Scope, receive: Receive, send: Send, tracker: SendTracker
    ) -> None:
        if tracker.phase is not Phase.PENDING:
            return  # too late for a 500: the server will cut the response short
        response: Response
        if self.handler is not None:
            response = await call_handler(self.handler, Request(scope, receive, send), exc)
        elif self.debug:
            response = PlainTextResponse(_format(exc), status_code=500)
        else:
            response = PlainTextResponse("Internal Server Error", status_code=500)
        await response(scope, receive, send)

    async def websocket_error(
        self, exc: Exception, scope: Scope, receive: Receive, send: Send, tracker: SendTracker
    ) -> None:
        """Finish a WebSocket that raised ``exc`` as the module docstring says.

        Never raises under a server. Under the test client (the ``RAISE_APP_EXCEPTIONS``
        extension) an exception no handler took is raised again, without a log record or a
        close, so the test sees it where the peer's test client raises it. The application's
        direct WebSocket path calls this too, as this middleware would.
        """
        observer = scope.get("tether.telemetry")  # set by tether.telemetry while it traces
        if observer is not None:
            observer.saw(exc)  # the span records what this layer swallows
        raise_to_test = _raise_to_test(scope)
        if raise_to_test and _closed_here(exc, tracker):
            raise_to_test = False  # unwinding after tether closed the socket (a limit, a drain)
        if isinstance(exc, WebSocketDisconnect):
            if raise_to_test:
                raise exc
            return  # the client went away: a normal end (divergence 3)
        if self.handler is not None:
            try:
                result = await call_handler(self.handler, connection_for(scope, receive, send), exc)
                if result is not None:
                    await send_outcome(result, scope, receive, send, tracker)
            except Exception as handler_exc:
                exc = handler_exc
            else:
                await self._finish(scope, receive, send, tracker, "internal error")
                return
        if raise_to_test:
            raise exc
        path = printable(str(scope.get("path", "")))  # the client chose it: one line, no secrets
        logger.error("Unhandled exception in WebSocket %s", path, exc_info=exc)
        reason = f"{type(exc).__name__}: {exc}" if self.debug else "internal error"
        await self._finish(scope, receive, send, tracker, reason)

    @staticmethod
    async def _finish(
        scope: Scope, receive: Receive, send: Send, tracker: SendTracker, reason: str
    ) -> None:
        """Leave the socket in a final state: 500 denial or close 1011, unless already done."""
        try:
            if tracker.phase is Phase.PENDING:
                response = PlainTextResponse("Internal Server Error", status_code=500)
                await send_outcome(response, scope, receive, send, tracker)
            elif tracker.phase is Phase.ACCEPTED:
                await close_websocket(send, tracker, 1011, short_reason(reason))
        except OSError:
            pass  # the client is gone; there is nobody left to tell


def _format(exc: Exception) -> str:
    return "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
