"""httpx transports that hand HTTP requests to an ASGI app in the same process.

One async implementation (:class:`AsyncASGITransport`); the sync transport runs it on the
client's loop thread.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from tether.testclient._errors import AppTimeoutError
from tether.testclient._loop import LoopThread
from tether.testclient._scope import AppConfig, http_scope
from tether.types import Message

__all__ = ["AsyncASGITransport", "SyncASGITransport", "call_guard"]


def call_guard(timeout: float | None) -> float | None:
    """How long the test thread waits for the loop thread when the app might block it."""
    return None if timeout is None else 2 * timeout + 5.0


def request_timeout(request: httpx.Request, default: float | None) -> float | None:
    """The ``read`` part of the request's httpx timeout (per-call ``timeout=`` lands here)."""
    timeouts = request.extensions.get("timeout")
    if isinstance(timeouts, dict) and "read" in timeouts:
        value = timeouts["read"]
        return None if value is None else float(value)
    return default


class _Exchange:
    """One HTTP request/response exchange with the app: its receive and send callables."""

    __slots__ = ("body", "chunks", "debug", "done", "headers", "sent_request", "status")

    def __init__(self, body: bytes) -> None:
        self.body = body
        self.sent_request = False
        self.status: int | None = None
        self.headers: list[tuple[bytes, bytes]] = []
        self.chunks: list[bytes] = []
        self.done = asyncio.Event()
        # The http.response.debug info (a template response's template and context).
        self.debug: dict[str, Any] | None = None

    async def receive(self) -> Message:
        if not self.sent_request:
            self.sent_request = True
            return {"type": "http.request", "body": self.body, "more_body": False}
        # As a server does: the client "disconnects" once the whole response went out.
        await self.done.wait()
        return {"type": "http.disconnect"}

    async def send(self, message: Message) -> None:
        kind = message["type"]
        if kind == "http.response.start":
            if self.status is not None:
                raise RuntimeError("the app sent http.response.start twice")
            self.status = int(message["status"])
            self.headers = [(bytes(k), bytes(v)) for k, v in message.get("headers", [])]
        elif kind == "http.response.body":
            if self.status is None:
                raise RuntimeError("the app sent http.response.body before http.response.start")
            if self.done.is_set():
                raise RuntimeError("the app sent http.response.body after the response ended")
            self.chunks.append(bytes(message.get("body", b"")))
            if not message.get("more_body", False):
                self.done.set()
        elif kind == "http.response.debug":
            self.debug = dict(message.get("info", {}))

    def response(self, request: httpx.Request) -> httpx.Response:
        response = httpx.Response(
            status_code=self.status if self.status is not None else 500,
            headers=self.headers,
            stream=httpx.ByteStream(b"".join(self.chunks)),
            request=request,
        )
        if self.debug is not None:  # as the peer's client: response.template / .context
            response.template = self.debug.get("template")  # type: ignore[attr-defined]
            response.context = self.debug.get("context")  # type: ignore[attr-defined]
        return response


class AsyncASGITransport(httpx.AsyncBaseTransport):
    """Answer httpx requests by calling the ASGI app on the current event loop.

    The app's exception is re-raised when ``raise_server_exceptions`` is true; otherwise a
    500 response stands for it (or whatever the app had sent before it failed). An app that
    does not finish within the timeout raises :class:`AppTimeoutError`.
    """

    def __init__(self, config: AppConfig) -> None:
        self.config = config

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.scheme in ("ws", "wss"):
            raise ValueError(
                "a ws:// or wss:// URL is opened with websocket_connect(), not an HTTP call"
            )
        exchange = _Exchange(await request.aread())
        scope = http_scope(request, self.config)
        timeout = request_timeout(request, self.config.timeout)
        try:
            await _call_app(self.config.app, scope, exchange, timeout)
        except AppTimeoutError:
            raise  # a test-client failure, never turned into a 500
        except Exception:
            if self.config.raise_server_exceptions:
                raise
            if exchange.status is None:
                exchange.headers, exchange.chunks = [], []
        return exchange.response(request)


async def _call_app(app: Any, scope: Any, exchange: _Exchange, timeout: float | None) -> None:
    deadline = asyncio.timeout(timeout)
    try:
        async with deadline:
            await app(scope, exchange.receive, exchange.send)
    except TimeoutError:
        if not deadline.expired():
            raise  # the app's own TimeoutError, not ours
        raise AppTimeoutError(
            f"waited {timeout} s for the app to answer {scope['method']} {scope['path']}"
        ) from None


class SyncASGITransport(httpx.BaseTransport):
    """The sync face of :class:`AsyncASGITransport`: runs it on the client's loop thread."""

    def __init__(self, inner: AsyncASGITransport, loop_thread: LoopThread) -> None:
        self.inner = inner
        self.loop_thread = loop_thread

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()  # the async side then finds the body already read
        guard = call_guard(request_timeout(request, self.inner.config.timeout))
        return self.loop_thread.call(self.inner.handle_async_request(request), guard)
