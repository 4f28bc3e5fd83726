"""``AuthenticationMiddleware``: set ``connection.auth`` and ``connection.user`` from a backend.

It covers HTTP and WebSocket scopes (the handshake is authenticated before the endpoint
runs). When the backend raises :class:`~tether.authentication.AuthenticationError`, the
``on_error`` response (400 with the error text by default) is sent: on HTTP as the response,
on a WebSocket as a denial response where the server supports the extension, else as a close
with 1008 (policy violation) and the error text as reason. The peer closes a WebSocket with
1000 and drops the response, so the client cannot tell a refusal from a normal end.
"""

from __future__ import annotations

from collections.abc import Callable

from tether.authentication import (
    AuthCredentials,
    AuthenticationBackend,
    AuthenticationError,
    UnauthenticatedUser,
)
from tether.requests import HTTPConnection
from tether.responses import PlainTextResponse, Response
from tether.types import ASGIApp, Receive, Scope, Send

__all__ = ["AuthenticationMiddleware"]

ErrorHandler = Callable[[HTTPConnection, AuthenticationError], Response]


def _short(text: str) -> str:
    """A close reason within RFC 6455's 123 bytes."""
    encoded = text.encode()
    return text if len(encoded) <= 123 else encoded[:123].decode(errors="ignore")


class AuthenticationMiddleware:
    """Authenticate every HTTP request and WebSocket handshake with ``backend``."""

    def __init__(
        self,
        app: ASGIApp,
        backend: AuthenticationBackend,
        on_error: ErrorHandler | None = None,
    ) -> None:
        self.app = app
        self.backend = backend
        self.on_error: ErrorHandler = on_error if on_error is not None else self.default_on_error

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        conn = HTTPConnection(scope)
        try:
            result = await self.backend.authenticate(conn)
        except AuthenticationError as exc:
            await self._refuse(self.on_error(conn, exc), exc, scope, receive, send)
            return
        if result is None:
            result = (AuthCredentials(), UnauthenticatedUser())
        scope["auth"], scope["user"] = result
        await self.app(scope, receive, send)

    @staticmethod
    async def _refuse(
        response: Response, exc: Exception, scope: Scope, receive: Receive, send: Send
    ) -> None:
        if scope["type"] == "http":
            await response(scope, receive, send)
        elif "websocket.http.response" in (scope.get("extensions") or {}):
            await response(scope, receive, send)  # sent as websocket.http.response.*
        else:
            await send({"type": "websocket.close", "code": 1008, "reason": _short(str(exc))})

    @staticmethod
    def default_on_error(conn: HTTPConnection, exc: Exception) -> Response:
        """``400`` with the error's text."""
        return PlainTextResponse(str(exc), status_code=400)
