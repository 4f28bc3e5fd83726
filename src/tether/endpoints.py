"""Class-based endpoints: :class:`HTTPEndpoint` and :class:`WebSocketEndpoint` (as the peer).

Both are ASGI apps: a route given the class creates one instance per connection
(``Class(scope, receive, send)``) and awaits it.

``WebSocketEndpoint`` accepts in ``on_connect``, decodes each frame according to ``encoding``
(``"text"``, ``"bytes"``, ``"json"`` or ``None`` for either), hands it to ``on_receive`` and
calls ``on_disconnect`` with the close code at the end (1011 if an exception ended it). A frame
of the wrong kind or malformed JSON closes the socket with 1003 (unsupported data, RFC 6455
section 7.4.1) and raises ``RuntimeError``.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Generator
from typing import Any, Literal

from tether import _json
from tether.concurrency import run_in_threadpool
from tether.exceptions import HTTPException
from tether.requests import Request
from tether.responses import PlainTextResponse, Response
from tether.status import WS_1003_UNSUPPORTED_DATA
from tether.types import Message, Receive, Scope, Send
from tether.websockets import WebSocket

__all__ = ["HTTPEndpoint", "WebSocketEndpoint"]

_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


class HTTPEndpoint:
    """Dispatch a request to the method named after its HTTP verb (``get``, ``post``...).

    ``head`` falls back to ``get``; a missing method is 405 (``HTTPException`` inside an app).
    Methods may be sync (run in the thread pool) or async and return a Response.
    """

    def __init__(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert scope["type"] == "http"
        self.scope, self.receive, self.send = scope, receive, send
        self._allowed_methods = [m for m in _METHODS if getattr(self, m.lower(), None)]

    def __await__(self) -> Generator[Any, None, None]:
        return self.dispatch().__await__()

    async def dispatch(self) -> None:
        """Call the handler for the request method and send its response."""
        request = Request(self.scope, receive=self.receive)
        name = "get" if request.method == "HEAD" and not hasattr(self, "head") else None
        handler = getattr(self, name or request.method.lower(), self.method_not_allowed)
        if inspect.iscoroutinefunction(handler):
            response = await handler(request)
        else:
            response = await run_in_threadpool(handler, request)
        await response(self.scope, self.receive, self.send)

    async def method_not_allowed(self, request: Request) -> Response:
        """405 with an ``Allow`` header listing the methods this class implements."""
        headers = {"Allow": ", ".join(self._allowed_methods)}
        if "app" in self.scope:
            raise HTTPException(status_code=405, headers=headers)
        return PlainTextResponse("Method Not Allowed", status_code=405, headers=headers)


class WebSocketEndpoint:
    """Event-style WebSocket handler; override ``on_connect``, ``on_receive``, ``on_disconnect``."""

    encoding: Literal["text", "bytes", "json"] | None = None

    def __init__(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert scope["type"] == "websocket"
        self.scope, self.receive, self.send = scope, receive, send

    def __await__(self) -> Generator[Any, None, None]:
        return self.dispatch().__await__()

    async def dispatch(self) -> None:
        """Run the connection: connect, receive loop, then ``on_disconnect(code)``.

        Exceptions from ``on_connect`` propagate without ``on_disconnect``; any later exception
        makes the code 1011 and propagates after ``on_disconnect``.
        """
        websocket = WebSocket(self.scope, receive=self.receive, send=self.send)
        await self.on_connect(websocket)
        close_code = 1000
        try:
            while True:
                message = await websocket.receive()
                if message["type"] == "websocket.receive":
                    data = await self.decode(websocket, message)
                    await self.on_receive(websocket, data)
                elif message["type"] == "websocket.disconnect":
                    close_code = int(message.get("code") or 1000)
                    break
        except Exception:
            close_code = 1011
            raise
        finally:
            await self.on_disconnect(websocket, close_code)

    async def decode(self, websocket: WebSocket, message: Message) -> Any:
        """Turn a ``websocket.receive`` message into the value ``on_receive`` gets.

        Raises ``RuntimeError`` after closing with 1003 for a frame of the wrong kind or bad
        JSON, and ``AssertionError`` for an unknown ``encoding``.
        """
        text, data = message.get("text"), message.get("bytes")
        if self.encoding == "text":
            if text is None:
                await websocket.close(code=WS_1003_UNSUPPORTED_DATA)
                raise RuntimeError("this endpoint expects text frames, but a binary one came")
            return text
        if self.encoding == "bytes":
            if data is None:
                await websocket.close(code=WS_1003_UNSUPPORTED_DATA)
                raise RuntimeError("this endpoint expects binary frames, but a text one came")
            return data
        if self.encoding == "json":
            return await self._decode_json(websocket, text, data)
        assert self.encoding is None, f"unsupported WebSocketEndpoint.encoding {self.encoding!r}"
        return text if text is not None else data

    async def _decode_json(self, websocket: WebSocket, text: Any, data: Any) -> Any:
        payload = text if text is not None else data.decode("utf-8")
        try:
            return _json.loads(payload)
        except json.JSONDecodeError:
            await websocket.close(code=WS_1003_UNSUPPORTED_DATA)
            raise RuntimeError("the JSON data received could not be parsed") from None

    async def on_connect(self, websocket: WebSocket) -> None:
        """Called first; accepts the connection by default."""
        await websocket.accept()

    async def on_receive(self, websocket: WebSocket, data: Any) -> None:
        """Called with each decoded message; does nothing by default."""

    async def on_disconnect(self, websocket: WebSocket, close_code: int) -> None:
        """Called last with the close code (1011 after an exception); does nothing by default."""
