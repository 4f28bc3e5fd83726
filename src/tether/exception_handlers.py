"""The default exception handlers every application starts with.

Each takes ``(connection, exc)`` where the connection is a Request or a WebSocket. A Response a
handler returns is delivered by :func:`tether.routing.errors.send_outcome`: as is for HTTP, as
a denial response before a WebSocket is accepted, as close 1011 after.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from tether.encoders import decimal_encoder
from tether.exceptions import (
    HTTPException,
    RequestValidationError,
    WebSocketException,
    WebSocketRequestValidationError,
)
from tether.requests import HTTPConnection
from tether.responses import JSONResponse, Response
from tether.routing.errors import short_reason
from tether.websockets import WebSocket, WebSocketState

__all__ = [
    "DEFAULT_HANDLERS",
    "http_exception_handler",
    "request_validation_exception_handler",
    "websocket_exception_handler",
    "websocket_request_validation_exception_handler",
]

_DENIAL_EXTENSION = "websocket.http.response"


def _plain(value: Any) -> Any:
    # A Decimal bound (condecimal(gt=0)) is a number, as the peer's jsonable_encoder makes it.
    return decimal_encoder(value) if isinstance(value, Decimal) else str(value)


def _jsonable(value: Any) -> Any:
    # Validation error records may carry exceptions or other objects in "ctx"; show them as text.
    return json.loads(json.dumps(value, default=_plain))


def _can_deny(websocket: WebSocket) -> bool:
    extensions = websocket.scope.get("extensions") or {}
    return (
        websocket.application_state is WebSocketState.CONNECTING and _DENIAL_EXTENSION in extensions
    )


async def _close_unless_closed(websocket: WebSocket, code: int, reason: str) -> None:
    if websocket.application_state in (WebSocketState.CONNECTING, WebSocketState.CONNECTED):
        await websocket.close(code=code, reason=short_reason(reason))


async def http_exception_handler(conn: HTTPConnection, exc: Exception) -> Response | None:
    """``HTTPException`` -> JSON ``{"detail": ...}`` with its status and headers.

    For a WebSocket: a denial response before accept; close 1008 with the detail as reason where
    the server lacks the denial extension; close 1011 after accept.
    """
    assert isinstance(exc, HTTPException)
    headers = dict(exc.headers) if exc.headers else None
    if isinstance(conn, WebSocket) and not _can_deny(conn):
        if conn.application_state is WebSocketState.CONNECTING:
            await _close_unless_closed(conn, 1008, str(exc.detail))
        else:
            await _close_unless_closed(conn, 1011, f"{exc.status_code}: {exc.detail}")
        return None
    if exc.status_code in (204, 304):
        return Response(status_code=exc.status_code, headers=headers)
    return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=headers)


async def websocket_exception_handler(conn: HTTPConnection, exc: Exception) -> None:
    """``WebSocketException`` -> close with its code and reason (unless already closed)."""
    assert isinstance(exc, WebSocketException) and isinstance(conn, WebSocket)
    await _close_unless_closed(conn, exc.code, exc.reason)


async def request_validation_exception_handler(conn: HTTPConnection, exc: Exception) -> Response:
    """``RequestValidationError`` -> 422 JSON ``{"detail": errors}``."""
    assert isinstance(exc, RequestValidationError)
    return JSONResponse({"detail": _jsonable(exc.errors())}, status_code=422)


async def websocket_request_validation_exception_handler(
    conn: HTTPConnection, exc: Exception
) -> Response | None:
    """``WebSocketRequestValidationError`` -> 422 denial with JSON ``{"detail": errors}``.

    Where the server lacks the denial extension (or the socket is already accepted), close
    with 1008 and a short string reason naming the first error.
    """
    assert isinstance(exc, WebSocketRequestValidationError)
    errors = _jsonable(exc.errors())
    if isinstance(conn, WebSocket) and not _can_deny(conn):
        await _close_unless_closed(conn, 1008, _first_error(errors))
        return None
    return JSONResponse({"detail": errors}, status_code=422)


def _first_error(errors: list[dict[str, Any]]) -> str:
    if not errors:
        return "validation error"
    first = errors[0]
    location = ".".join(str(part) for part in first.get("loc", ()))
    return f"validation error: {location}: {first.get('msg', '')}"


DEFAULT_HANDLERS: dict[type[BaseException], Any] = {
    HTTPException: http_exception_handler,
    WebSocketException: websocket_exception_handler,
    RequestValidationError: request_validation_exception_handler,
    WebSocketRequestValidationError: websocket_request_validation_exception_handler,
}
