"""``BaseHTTPMiddleware``: middleware written as ``async def dispatch(request, call_next)``.

As Starlette's: ``call_next(request)`` runs the rest of the application and returns its
response, whose body streams from the inner app as it sends it, so the middleware can read
or replace headers and return that response or another one. An exception the inner app
raises before its response starts comes out of ``call_next``; one raised while the body
streams comes out when the body is sent. An inner app that sends no response gives
``RuntimeError("No response returned.")``.

Only HTTP goes through ``dispatch``: WebSocket and lifespan scopes pass straight to the inner
app (the peer does the same), so a WebSocket pays nothing for it. Write pure ASGI middleware
to act on handshakes.

A request body the middleware read (``await request.body()``) is replayed to the inner app.
The inner app runs in its own task, so ``contextvars`` it sets do not reach the middleware.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Final

from tether.requests import Request
from tether.responses import Response, StreamingResponse
from tether.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["BaseHTTPMiddleware", "DispatchFunction", "RequestResponseEndpoint"]

RequestResponseEndpoint = Callable[[Request], Awaitable[Response]]
"""The ``call_next`` a dispatch function receives."""

DispatchFunction = Callable[[Request, RequestResponseEndpoint], Awaitable[Response]]
"""``async def dispatch(request, call_next) -> Response``."""

_END: Final = object()


class _Failed:
    __slots__ = ("error",)

    def __init__(self, error: BaseException) -> None:
        self.error = error


class _InnerResponse(StreamingResponse):
    """The inner app's response: its status and raw headers, its body streamed from a queue."""

    def __init__(self, start: Message, body: AsyncIterator[bytes], debug: Any) -> None:
        super().__init__(body, status_code=start["status"])
        self.raw_headers = list(start.get("headers", []))
        self.debug = debug

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.debug is not None:  # pass a template response's debug info on outwards
            await send({"type": "http.response.debug", "info": self.debug})
        await super().__call__(scope, receive, send)


class _Call:
    """One run of the inner app, its messages passed through a one-slot queue."""

    def __init__(self, app: ASGIApp, scope: Scope, request: Request, receive: Receive) -> None:
        self.queue: asyncio.Queue[Any] = asyncio.Queue(maxsize=1)
        self.request = request
        self.receive = receive
        self.replayed = False
        self.body_done = False
        self.task = asyncio.ensure_future(self._run(app, scope))

    async def _run(self, app: ASGIApp, scope: Scope) -> None:
        try:
            await app(scope, self._receive, self.queue.put)
        except Exception as exc:  # handed to the middleware, which raises it
            await self.queue.put(_Failed(exc))
        await self.queue.put(_END)

    async def _receive(self) -> Message:
        body = getattr(self.request, "_body", None)
        if body is not None and not self.replayed:
            self.replayed = True  # the middleware read the body: give the inner app a copy
            return {"type": "http.request", "body": body, "more_body": False}
        return await self.receive()

    async def response(self) -> Response:
        first = await self.queue.get()
        debug = None
        if isinstance(first, dict) and first["type"] == "http.response.debug":
            debug = first.get("info")
            first = await self.queue.get()
        if isinstance(first, _Failed):
            raise first.error
        if first is _END:
            raise RuntimeError("No response returned.")
        return _InnerResponse(first, self._body(), debug)

    async def _body(self) -> AsyncIterator[bytes]:
        while True:
            message = await self.queue.get()
            if message is _END:
                self.body_done = True
                return
            if isinstance(message, _Failed):
                raise message.error
            if message["type"] == "http.response.body":
                yield message.get("body", b"")

    async def finish(self) -> None:
        """Wait for the inner app (its background tasks) if its body was read, else stop it."""
        if not self.body_done:
            self.task.cancel()
        # wait() does not raise the task's outcome: errors went through the queue already.
        await asyncio.wait([self.task])


class BaseHTTPMiddleware:
    """Subclass and override :meth:`dispatch`, or pass ``dispatch=`` a function."""

    def __init__(self, app: ASGIApp, dispatch: DispatchFunction | None = None) -> None:
        self.app = app
        self.dispatch_func: DispatchFunction = self.dispatch if dispatch is None else dispatch

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive, send)
        calls: list[_Call] = []

        async def call_next(inner_request: Request) -> Response:
            call = _Call(self.app, scope, inner_request, receive)
            calls.append(call)
            return await call.response()

        try:
            response = await self.dispatch_func(request, call_next)
            await response(scope, receive, send)
        finally:
            for call in calls:
                await call.finish()

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        """Override: handle ``request``, usually ``return await call_next(request)``."""
        raise NotImplementedError()  # pragma: no cover
