"""ASGI types: the callables and the messages tether speaks (ASGI 3.0, WebSocket spec 2.5).

The message ``TypedDict``s document the keys the ASGI specification defines
(asgiref ``specs/www.rst``, plus the WebSocket Denial Response extension). At runtime every
message is a plain ``dict``; the names are for readers and for the type checker.

No ``from __future__ import annotations`` here: ``TypedDict`` must see ``NotRequired`` at class
creation to fill ``__required_keys__``.
"""

from collections.abc import Awaitable, Callable, Iterable, Mapping, MutableMapping
from contextlib import AbstractAsyncContextManager
from typing import Any, Literal, NotRequired, TypeAlias, TypedDict

__all__ = [
    "ASGIApp",
    "AppType",
    "ExceptionHandler",
    "HTTPResponseBodyEvent",
    "HTTPResponseStartEvent",
    "Lifespan",
    "Message",
    "Receive",
    "Scope",
    "Send",
    "StatelessLifespan",
    "StatefulLifespan",
    "WebSocketAcceptEvent",
    "WebSocketCloseEvent",
    "WebSocketConnectEvent",
    "WebSocketDisconnectEvent",
    "WebSocketReceiveEvent",
    "WebSocketResponseBodyEvent",
    "WebSocketResponseStartEvent",
    "WebSocketSendEvent",
]

Scope: TypeAlias = MutableMapping[str, Any]
"""The connection scope (ASGI 3.0): a mutable mapping with ``type`` and friends."""

Message: TypeAlias = MutableMapping[str, Any]
"""One ASGI event, received or sent."""

Receive: TypeAlias = Callable[[], Awaitable[Message]]
"""Await the next event from the server."""

Send: TypeAlias = Callable[[Message], Awaitable[None]]
"""Hand one event to the server."""

ASGIApp: TypeAlias = Callable[[Scope, Receive, Send], Awaitable[None]]
"""An ASGI 3.0 application."""

AppType: TypeAlias = Any
"""The application object handed to a lifespan function (typed loosely to avoid a cycle)."""

StatelessLifespan: TypeAlias = Callable[[AppType], AbstractAsyncContextManager[None]]
"""A lifespan context manager that yields nothing."""

StatefulLifespan: TypeAlias = Callable[[AppType], AbstractAsyncContextManager[Mapping[str, Any]]]
"""A lifespan context manager that yields the initial ``scope["state"]``."""

Lifespan: TypeAlias = StatelessLifespan | StatefulLifespan
"""Either kind of lifespan."""

ExceptionHandler: TypeAlias = Callable[[Any, Exception], Any]
"""``handler(connection, exc)``; may be sync or async."""

RawHeaders: TypeAlias = Iterable[tuple[bytes, bytes]]


# Server -> application (WebSocket spec, "Receive events").
class WebSocketConnectEvent(TypedDict):
    """``websocket.connect``: the handshake started; answer with accept, close or a denial."""

    type: Literal["websocket.connect"]


class WebSocketReceiveEvent(TypedDict):
    """``websocket.receive``: one data frame; exactly one of ``bytes``/``text`` is not None."""

    type: Literal["websocket.receive"]
    bytes: NotRequired[bytes | None]
    text: NotRequired[str | None]


class WebSocketDisconnectEvent(TypedDict):
    """``websocket.disconnect``: the connection is gone (``code`` 1005 if none was sent)."""

    type: Literal["websocket.disconnect"]
    code: NotRequired[int]
    reason: NotRequired[str | None]


# Application -> server (WebSocket spec, "Send events").
class WebSocketAcceptEvent(TypedDict):
    """``websocket.accept``: finish the handshake (``headers`` since spec 2.1)."""

    type: Literal["websocket.accept"]
    subprotocol: NotRequired[str | None]
    headers: NotRequired[RawHeaders]


class WebSocketSendEvent(TypedDict):
    """``websocket.send``: send one data frame; exactly one of ``bytes``/``text`` is set."""

    type: Literal["websocket.send"]
    bytes: NotRequired[bytes | None]
    text: NotRequired[str | None]


class WebSocketCloseEvent(TypedDict):
    """``websocket.close``: before accept a rejection (HTTP 403), after accept a close frame."""

    type: Literal["websocket.close"]
    code: NotRequired[int]
    reason: NotRequired[str | None]


class WebSocketResponseStartEvent(TypedDict):
    """``websocket.http.response.start`` (Denial Response extension): status and headers."""

    type: Literal["websocket.http.response.start"]
    status: int
    headers: NotRequired[RawHeaders]


class WebSocketResponseBodyEvent(TypedDict):
    """``websocket.http.response.body`` (Denial Response extension): a body chunk."""

    type: Literal["websocket.http.response.body"]
    body: NotRequired[bytes]
    more_body: NotRequired[bool]


class HTTPResponseStartEvent(TypedDict):
    """``http.response.start``: status and headers of an HTTP response."""

    type: Literal["http.response.start"]
    status: int
    headers: NotRequired[RawHeaders]
    trailers: NotRequired[bool]


class HTTPResponseBodyEvent(TypedDict):
    """``http.response.body``: a body chunk; the response ends when ``more_body`` is false."""

    type: Literal["http.response.body"]
    body: NotRequired[bytes]
    more_body: NotRequired[bool]
