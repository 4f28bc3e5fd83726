"""GZipMiddleware: compress HTTP response bodies for clients that accept gzip.

HTTP only: WebSocket scopes pass through untouched (permessage-deflate is the server's job).
Bodies smaller than ``minimum_size`` and responses that already carry a ``Content-Encoding`` or
stream ``text/event-stream`` are sent as they are.
"""

from __future__ import annotations

import gzip
import io

from tether.datastructures import Headers, MutableHeaders
from tether.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["GZipMiddleware"]


class GZipMiddleware:
    """Compress responses of at least ``minimum_size`` bytes at ``compresslevel``."""

    def __init__(self, app: ASGIApp, minimum_size: int = 500, compresslevel: int = 9) -> None:
        self.app = app
        self.minimum_size = minimum_size
        self.compresslevel = compresslevel

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if "gzip" not in Headers(scope=scope).get("accept-encoding", ""):
            await self.app(scope, receive, send)
            return
        responder = _GZipResponder(send, self.minimum_size, self.compresslevel)
        await self.app(scope, receive, responder.send)


class _GZipResponder:
    """Holds the start message until the first body chunk tells whether to compress."""

    __slots__ = ("_buffer", "_file", "_level", "_minimum", "_send", "_start", "_state")

    def __init__(self, send: Send, minimum_size: int, compresslevel: int) -> None:
        self._send = send
        self._minimum = minimum_size
        self._level = compresslevel
        self._start: Message | None = None
        self._state = "start"  # start -> (plain | gzip)
        self._buffer = io.BytesIO()
        self._file: gzip.GzipFile | None = None

    async def send(self, message: Message) -> None:
        kind = message["type"]
        if kind == "http.response.start":
            self._start = message
            headers = Headers(raw=list(message.get("headers", [])))
            skip = "content-encoding" in headers or headers.get("content-type", "").startswith(
                "text/event-stream"
            )
            self._state = "plain-pending" if skip else "start"
            return
        if kind != "http.response.body" or self._start is None:
            await self._send(message)
            return
        await self._body(message)

    async def _body(self, message: Message) -> None:
        body: bytes = message.get("body", b"")
        more = bool(message.get("more_body", False))
        if self._state == "plain-pending" or (
            self._state == "start" and not more and len(body) < self._minimum
        ):
            await self._flush_start(plain=True)
            await self._send(message)
            return
        if self._state in ("plain", "plain-sent"):
            await self._send(message)
            return
        if self._state == "start":
            self._file = gzip.GzipFile(mode="wb", fileobj=self._buffer, compresslevel=self._level)
            self._state = "gzip"
            await self._flush_start(plain=False, final_body=None if more else body)
            if not more:
                return
        await self._compress(body, more)

    async def _flush_start(self, plain: bool, final_body: bytes | None = None) -> None:
        assert self._start is not None
        if plain:
            self._state = "plain-sent"
            await self._send(self._start)
            return
        headers = MutableHeaders(raw=list(self._start.get("headers", [])))
        headers["Content-Encoding"] = "gzip"
        headers.add_vary_header("Accept-Encoding")
        if final_body is None:
            del headers["Content-Length"]
            await self._send({**self._start, "headers": headers.raw})
            return
        compressed = gzip.compress(final_body, compresslevel=self._level)
        headers["Content-Length"] = str(len(compressed))
        await self._send({**self._start, "headers": headers.raw})
        await self._send({"type": "http.response.body", "body": compressed})

    async def _compress(self, body: bytes, more: bool) -> None:
        assert self._file is not None
        self._file.write(body)
        if not more:
            self._file.close()
        data = self._buffer.getvalue()
        self._buffer.seek(0)
        self._buffer.truncate()
        await self._send({"type": "http.response.body", "body": data, "more_body": more})
