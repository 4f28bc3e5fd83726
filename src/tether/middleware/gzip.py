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
    """Holds the start message until the first body chunk tells whether to compress.

    Modes: ``wait`` (start held, may compress), ``skip`` (start held, never compress),
    ``plain`` (start sent unchanged) and ``gzip`` (start sent, body streamed through a
    :class:`gzip.GzipFile`). A single small final chunk is sent plain; a single large one is
    compressed whole, with its ``Content-Length``.
    """

    __slots__ = ("_buffer", "_file", "_level", "_minimum", "_mode", "_send", "_start")

    def __init__(self, send: Send, minimum_size: int, compresslevel: int) -> None:
        self._send = send
        self._minimum = minimum_size
        self._level = compresslevel
        self._start: Message | None = None
        self._mode = "wait"
        self._buffer: io.BytesIO | None = None  # what the stream wrote since the last chunk
        self._file: gzip.GzipFile | None = None

    async def send(self, message: Message) -> None:
        kind = message["type"]
        if kind == "http.response.start":
            self._start = message
            headers = Headers(raw=list(message.get("headers", [])))
            skip = "content-encoding" in headers or headers.get("content-type", "").startswith(
                "text/event-stream"
            )
            self._mode = "skip" if skip else "wait"
            return
        if kind != "http.response.body" or self._start is None:
            await self._send(message)
            return
        await self._body(message, self._start)

    async def _body(self, message: Message, start: Message) -> None:
        body: bytes = message.get("body", b"")
        more = bool(message.get("more_body", False))
        if self._mode == "plain":
            await self._send(message)
        elif self._mode == "gzip":
            await self._compress(body, more)
        elif self._mode == "skip" or (not more and len(body) < self._minimum):
            self._mode = "plain"
            await self._send(start)
            await self._send(message)
        elif more:
            self._mode = "gzip"
            self._buffer = io.BytesIO()
            self._file = gzip.GzipFile(mode="wb", fileobj=self._buffer, compresslevel=self._level)
            headers = _gzip_headers(start)
            del headers["Content-Length"]
            await self._send({**start, "headers": headers.raw})
            await self._compress(body, more)
        else:
            self._mode = "plain"  # the response is complete; nothing more is compressed
            compressed = gzip.compress(body, compresslevel=self._level)
            headers = _gzip_headers(start)
            headers["Content-Length"] = str(len(compressed))
            await self._send({**start, "headers": headers.raw})
            await self._send({"type": "http.response.body", "body": compressed})

    async def _compress(self, body: bytes, more: bool) -> None:
        file, buffer = self._file, self._buffer
        assert file is not None and buffer is not None
        file.write(body)
        if not more:
            file.close()
        data = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        await self._send({"type": "http.response.body", "body": data, "more_body": more})


def _gzip_headers(start: Message) -> MutableHeaders:
    headers = MutableHeaders(raw=list(start.get("headers", [])))
    headers["Content-Encoding"] = "gzip"
    headers.add_vary_header("Accept-Encoding")
    return headers
