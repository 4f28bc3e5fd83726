"""The telemetry of one served scope: operation spans, log records, :class:`TelemetryData`.

:func:`tether.telemetry.asgi.serve` puts an :class:`Observer` in the scope (``scope[SCOPE_KEY]``)
and in the OpenTelemetry context of a traced or logged request or connection. Layers below
telemetry never import it: they read the scope entry and call its methods (duck typing), and
only when it is there, so an app without telemetry pays nothing.

- :meth:`Observer.operation`: FastAPI's operation spans (``operation_spans``, on by default),
  ``INTERNAL`` children of the server span named ``fastapi.dependencies`` (parameters and
  dependencies), ``fastapi.endpoint`` (the endpoint: for a WebSocket, the connection),
  ``fastapi.serialization`` (the response) and ``fastapi.background_task`` (each task of
  an HTTP endpoint), each with
  ``code.function.name``. They keep FastAPI's names so dashboards and tests written for
  FastAPI apps read tether's traces unchanged. An error status, never an event, for an
  exception other than a handled one (HTTP or WebSocket exception, validation error, a normal
  close).
- Log records through the configured ``logger_provider`` (FastAPI's events): an unhandled
  exception (``fastapi.websocket.exception`` / ``http.server.request.exception``, ERROR, the
  exception attached, once per exception) and a validation failure
  (``fastapi.validation.failed``, WARN, with ``http.route`` and
  ``fastapi.validation.error_count``, never the values). Both carry the trace and span ids of
  the server span.
- ``data``: the :class:`~tether.telemetry.data.TelemetryData` read by
  :func:`~tether.telemetry.get_telemetry_data`; emptied (None) when the scope ends.
"""

from __future__ import annotations

import time
from types import TracebackType
from typing import TYPE_CHECKING, Any

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry._logs import SeverityNumber
from opentelemetry.propagators.textmap import Getter
from opentelemetry.trace import Span, StatusCode

from tether.exceptions import (
    HTTPException,
    RequestValidationError,
    WebSocketException,
    WebSocketRequestValidationError,
)
from tether.routing import Mount, get_route_path
from tether.telemetry.data import CONTEXT_KEY, TelemetryData
from tether.telemetry.routes import redirect_template, route_template
from tether.types import Scope
from tether.websockets import WebSocketDisconnect

if TYPE_CHECKING:  # config imports asgi, which imports this module
    from opentelemetry._logs import Logger

    from tether.telemetry.config import Telemetry

__all__ = ["HANDLED", "SCOPE_KEY", "Observer", "exception_type", "normal_end"]

SCOPE_KEY = "tether.telemetry"
"""Set in a scope while telemetry serves it: its :class:`Observer`, or None when skipped (so a
mounted app with telemetry adds no second span). Lower layers read it by this name."""

# Exceptions the framework turns into a deliberate response or close: not server errors.
# A response that fails its model (ResponseValidationError) is a server error: not here.
HANDLED = (
    HTTPException,
    WebSocketException,
    RequestValidationError,
    WebSocketRequestValidationError,
)


def exception_type(exc: BaseException) -> str:
    """``error.type`` for an exception: the class name, qualified unless it is a builtin."""
    cls = type(exc)
    name = cls.__qualname__
    return name if cls.__module__ == "builtins" else f"{cls.__module__}.{name}"


def normal_end(exc: BaseException) -> bool:
    """Whether ``exc`` ends a scope without a server error (a handled exception, a close)."""
    if isinstance(exc, WebSocketDisconnect):
        return exc.code in (1000, 1001)
    return isinstance(exc, HANDLED)


def function_name(function: Any) -> str:
    """``code.function.name``: the module and qualified name of a callable (or of its type)."""
    module = getattr(function, "__module__", None) or type(function).__module__
    name = getattr(function, "__qualname__", None) or type(function).__qualname__
    return f"{module}.{name}"


class Observer:
    """One served scope: where its span starts from, its data, its operations and logs."""

    __slots__ = (
        "telemetry",
        "app",
        "headers",
        "root_path",
        "route_path",
        "error",
        "data",
        "operations",
        "logger",
        "websocket",
        "scope",
        "_seen",
    )

    def __init__(self, telemetry: Telemetry, scope: Scope, logger: Logger | None) -> None:
        scope[SCOPE_KEY] = self
        self.telemetry = telemetry
        self.scope = scope
        self.app = scope.get("app")
        self.headers: list[tuple[bytes, bytes]] = scope.get("headers") or []
        self.root_path: str = scope.get("root_path", "")
        self.route_path = get_route_path(scope)  # routing rewrites root_path: read it now
        self.error: str | None = None
        self.data: TelemetryData | None = TelemetryData()
        tracing = telemetry.tracing and telemetry.operation_spans
        self.operations = telemetry.tracer if tracing else None
        self.logger = logger
        self.websocket = scope["type"] == "websocket"
        self._seen: list[BaseException] = []

    # -- the server span ----------------------------------------------------------------------

    def span(self, name: str, attributes: dict[str, Any]) -> tuple[Span | None, Any]:
        """Extract the parent context, start the server span in it; both carry this observer."""
        # Read through the module: tests (FastAPI's too) swap the global propagator there.
        ctx = propagate.get_global_textmap().extract(self.headers, getter=_HEADERS)
        ctx = otel_context.set_value(CONTEXT_KEY, self, ctx)
        if not self.telemetry.tracing:
            return None, ctx
        span = self.telemetry.tracer.start_span(
            name, context=ctx, kind=trace.SpanKind.SERVER, attributes=attributes
        )
        return span, trace.set_span_in_context(span, ctx)

    def template(self, status: int | None = None) -> str | None:
        """The matched route's template once routing has run (a redirect's target's for 307)."""
        matched = self.scope.get("route")
        if status in (307, 308) and (matched is None or isinstance(matched, Mount)):
            # The router's slash redirect (inside a mount, the mount is all routing recorded).
            target = redirect_template(self.app, self.route_path, self.root_path)
            if target is not None:
                return target
        return route_template(self.app, self.route_path, matched, self.root_path)

    def end(self) -> None:
        """The scope is over: its data is no longer reachable, even from kept contexts."""
        self.data = None
        self._seen.clear()

    # -- hooks for the layers below (called only when the scope entry is an Observer) -------

    def saw(self, exc: BaseException) -> None:
        """Note an exception a layer below handled (ServerErrorMiddleware closes with 1011)."""
        if not normal_end(exc):
            self.error = exception_type(exc)
        self.exception(exc)

    def exception(self, exc: BaseException) -> None:
        """Emit one log record for an unhandled exception (once per exception object)."""
        if normal_end(exc) or any(seen is exc for seen in self._seen):
            return
        self._seen.append(exc)
        if isinstance(exc, Exception):
            self._log_exception(exc)

    def _log_exception(self, exc: Exception) -> None:
        if self.logger is None:
            return
        route = self.template()
        kind = "WebSocket connection" if self.websocket else "request"
        now = time.time_ns()
        self.logger.emit(
            timestamp=now,
            observed_timestamp=now,
            severity_number=SeverityNumber.ERROR,
            severity_text="ERROR",
            body=f"Unhandled exception in FastAPI {kind}",
            attributes={"http.route": route} if route else None,
            event_name=(
                "fastapi.websocket.exception" if self.websocket else "http.server.request.exception"
            ),
            exception=exc,
        )

    def validation_failed(self, errors: list[dict[str, Any]], body: Any = None) -> None:
        """Keep the errors (and the body read) in the data; one WARN record without values."""
        data = self.data
        if data is not None:
            data.errors = errors
            if body is not None:
                data.body = body
        if self.logger is None:
            return
        attributes: dict[str, Any] = {"fastapi.validation.error_count": len(errors)}
        route = self.template()
        if route is not None:
            attributes = {"http.route": route, **attributes}
        now = time.time_ns()
        self.logger.emit(
            timestamp=now,
            observed_timestamp=now,
            severity_number=SeverityNumber.WARN,
            severity_text="WARN",
            body="Request validation failed",
            attributes=attributes,
            event_name="fastapi.validation.failed",
        )

    def operation(self, name: str, function: Any) -> Operation | None:
        """A context manager timing operation ``name`` as a span, or None when not recorded."""
        tracer = self.operations
        if tracer is None:
            return None
        return Operation(tracer, name, function)


class Operation:
    """One operation span, current while its block runs (a context manager)."""

    __slots__ = ("tracer", "name", "function", "span", "token")

    def __init__(self, tracer: Any, name: str, function: Any) -> None:
        self.tracer = tracer
        self.name = name
        self.function = function
        self.span: Span | None = None
        self.token: Any = None

    def __enter__(self) -> Span:
        attributes = {"code.function.name": function_name(self.function)}
        span: Span = self.tracer.start_span(f"fastapi.{self.name}", attributes=attributes)
        self.span = span
        self.token = otel_context.attach(trace.set_span_in_context(span))
        return span

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        span = self.span
        assert span is not None
        otel_context.detach(self.token)
        failed = exc is not None and isinstance(exc, Exception)
        if failed and (self.name == "background_task" or not normal_end(exc)):  # type: ignore[arg-type]
            span.set_attribute("error.type", exception_type(exc))  # type: ignore[arg-type]
            span.set_status(StatusCode.ERROR)
        span.end()


class _HeaderGetter(Getter[list[tuple[bytes, bytes]]]):
    """ASGI headers as a propagator carrier: repeated names keep every value, in order."""

    def get(self, carrier: list[tuple[bytes, bytes]], key: str) -> list[str] | None:
        """Every value of header ``key`` (any case), or None."""
        wanted = key.lower().encode("latin-1")
        values = [value.decode("latin-1") for name, value in carrier if name == wanted]
        if len(values) > 1 and wanted == b"baggage":
            # A list-valued field repeated is the same field comma-joined (RFC 9110 section
            # 5.3); OpenTelemetry's baggage propagator reads the first value only.
            return [",".join(values)]
        return values or None

    def keys(self, carrier: list[tuple[bytes, bytes]]) -> list[str]:
        """The header names (ASGI names are lowercase)."""
        return [name.decode("latin-1") for name, _ in carrier]


_HEADERS = _HeaderGetter()
