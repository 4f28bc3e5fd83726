"""Server spans and HTTP metrics around one ASGI scope: :func:`serve`.

:meth:`Tether.__call__ <tether.Tether.__call__>` calls :func:`serve` when the app was built with
telemetry (one attribute check per connection; an app without it never reaches this module).
:func:`serve` marks the scope, extracts the caller's trace context from the headers with the
global propagator, starts a ``SERVER`` span, makes it current while the app runs, and calls
the app again, which now takes its ordinary path (the direct WebSocket path included).

HTTP: the span is named ``"{method} {route}"`` and ends when the last body chunk is sent (before
background tasks); ``http.server.request.duration`` and ``http.server.active_requests`` are
recorded as FastAPI records them. WebSocket: one span per connection, named
``"WS {route}"``, from the handshake to the close; it carries the close code and reason, or the
denial (a close before accept, or an HTTP denial response and its status). Message spans are
sampled: see :mod:`tether.telemetry.websocket`. Attribute values that can hold secrets (the
query string, close reasons) go through :mod:`tether.logsafe` first.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from opentelemetry import context as otel_context
from opentelemetry.trace import Span, StatusCode

from tether.telemetry.attributes import url_attributes
from tether.telemetry.data import CONTEXT_KEY
from tether.telemetry.observer import HANDLED, SCOPE_KEY, Observer, exception_type
from tether.telemetry.websocket import ConnectionTrace
from tether.types import Message, Receive, Scope, Send

if TYPE_CHECKING:  # config imports this module when it builds a Telemetry
    from tether.telemetry.config import Telemetry

__all__ = [
    "SCOPE_KEY",
    "NativeTelemetry",
    "exception_type",
    "serve",
]  # exception_type: from observer

App = Callable[[Scope, Receive, Send], Awaitable[None]]


async def serve(telemetry: Telemetry, app: App, scope: Scope, receive: Receive, send: Send) -> None:
    """Serve ``scope`` with ``app`` inside a server span (or without one, when not traced)."""
    kind = scope["type"]
    if (
        kind == "lifespan"
        or not telemetry.live()
        or (telemetry.exclude is not None and telemetry.exclude(scope))
    ):
        await _untraced(app, scope, receive, send)
        return
    logger = telemetry.logger()
    if kind == "websocket":
        if not telemetry.tracing and logger is None:  # no WebSocket metrics: nothing to do
            await _untraced(app, scope, receive, send)
            return
        await _serve_websocket(telemetry, logger, app, scope, receive, send)
    else:
        await _serve_http(telemetry, logger, app, scope, receive, send)


class NativeTelemetry:
    """:func:`serve` under the name and call shape of FastAPI's ASGI telemetry wrapper.

    ``NativeTelemetry(app._telemetry)(app=inner, scope=..., receive=..., send=...)`` serves one
    scope with ``inner`` as a telemetry-enabled app does (FastAPI's tests drive its wrapper so).
    """

    __slots__ = ("telemetry",)

    def __init__(self, telemetry: Telemetry) -> None:
        self.telemetry = telemetry

    async def __call__(self, *, app: App, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve ``scope`` with ``app``, traced and measured."""
        await serve(self.telemetry, app, scope, receive, send)


async def _untraced(app: App, scope: Scope, receive: Receive, send: Send) -> None:
    # Marked, so that a mounted app with telemetry does not trace it either; and the data of
    # a request this one is made from (an app calling itself) is not its data.
    scope[SCOPE_KEY] = None
    token = otel_context.attach(otel_context.set_value(CONTEXT_KEY, None))
    try:
        await app(scope, receive, send)
    finally:
        otel_context.detach(token)
        scope.pop(SCOPE_KEY, None)


class _Request:
    """One traced HTTP request: its span, status and metric attributes."""

    __slots__ = (
        "telemetry",
        "span",
        "status",
        "trailers",
        "started",
        "finished",
        "error",
        "method",
    )

    def __init__(self, telemetry: Telemetry, span: Span | None, method: str) -> None:
        self.telemetry = telemetry
        self.span = span
        self.method = method
        self.status: int | None = None
        self.trailers = False
        self.error: str | None = None
        self.started = time.perf_counter()
        self.finished = False

    def complete(self, message: Message) -> bool:
        """Whether ``message`` (just sent) ends the response: last body chunk or trailer."""
        kind = message["type"]
        if kind == "http.response.body":
            return not (self.trailers or bool(message.get("more_body", False)))
        if kind == "http.response.trailers":
            return not bool(message.get("more_trailers", False))
        return bool(kind == "http.response.pathsend")

    def finish(self, route: str | None, scheme: str) -> None:
        """End the span and record the metrics, once."""
        if self.finished:
            return
        self.finished = True
        status = self.status
        if self.error is None and (status is None or status >= 500):
            self.error = str(status) if status is not None else "incomplete"
        failed = self.error is not None
        if self.span is not None:
            _end_http_span(self.span, route, status, self.error if failed else None, self.method)
        if self.telemetry.metrics:
            self._record(route, scheme)

    def _record(self, route: str | None, scheme: str) -> None:
        duration, active = self.telemetry.http_instruments()
        base = {"http.request.method": self.method, "url.scheme": scheme}
        active.add(-1, base)
        attributes: dict[str, Any] = dict(base)
        if route is not None:
            attributes["http.route"] = route
        if self.status is not None:
            attributes["http.response.status_code"] = self.status
        if self.error is not None:
            attributes["error.type"] = self.error
        duration.record(max(time.perf_counter() - self.started, 1e-9), attributes)


def _end_http_span(
    span: Span, route: str | None, status: int | None, error: str | None, method: str
) -> None:
    if route is not None:
        span.set_attribute("http.route", route)
        span.update_name(f"{_span_method(method)} {route}")
    if status is not None:
        span.set_attribute("http.response.status_code", status)
    if error is not None:
        span.set_attribute("error.type", error)
        span.set_status(StatusCode.ERROR)
    span.end()


def _span_method(method: str) -> str:
    return "HTTP" if method == "_OTHER" else method


async def _serve_http(
    telemetry: Telemetry, logger: Any, app: App, scope: Scope, receive: Receive, send: Send
) -> None:
    raw_method = scope.get("method", "GET")
    method = raw_method if raw_method in telemetry.methods else "_OTHER"
    start = Observer(telemetry, scope, logger)
    attributes = url_attributes(scope)
    attributes["http.request.method"] = method
    if method == "_OTHER":
        attributes["http.request.method_original"] = raw_method
    if scope.get("http_version"):
        attributes["network.protocol.version"] = scope["http_version"]
    span, ctx = start.span(_span_method(method), attributes)
    request = _Request(telemetry, span, method)
    scheme = attributes["url.scheme"]
    if telemetry.metrics:
        telemetry.http_instruments()[1].add(
            1, {"http.request.method": method, "url.scheme": scheme}
        )

    async def traced_send(message: Message) -> None:
        if message["type"] == "http.response.start":
            request.status = int(message["status"])
            request.trailers = bool(message.get("trailers", False))
        await send(message)
        # A 500 is finished when the app returns: the exception behind it is still coming.
        if request.complete(message) and (request.status or 500) < 500:
            request.finish(start.template(request.status), scheme)

    token = otel_context.attach(ctx)
    try:
        await app(scope, receive, traced_send)
    except BaseException as exc:
        if not isinstance(exc, HANDLED):
            request.error = exception_type(exc)
        start.exception(exc)
        raise
    finally:
        request.finish(start.template(request.status), scheme)
        start.end()
        otel_context.detach(token)
        scope.pop(SCOPE_KEY, None)


async def _serve_websocket(
    telemetry: Telemetry, logger: Any, app: App, scope: Scope, receive: Receive, send: Send
) -> None:
    start = Observer(telemetry, scope, logger)
    attributes = url_attributes(scope)
    attributes["network.protocol.name"] = "websocket"
    span, ctx = start.span("WS", attributes)
    trace = ConnectionTrace(telemetry, span, ctx, receive, send)
    token = otel_context.attach(ctx)
    try:
        await app(scope, trace.receive, trace.send)
    except BaseException as exc:
        start.saw(exc)
        raise
    finally:
        trace.error = start.error
        route = start.template()
        if route is not None:
            trace.span_name = f"WS {route}"
            trace.route = route
        trace.finish()
        start.end()
        otel_context.detach(token)
        scope.pop(SCOPE_KEY, None)
