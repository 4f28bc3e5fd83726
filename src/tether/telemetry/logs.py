"""Trace and span ids on log records, so a log line leads to its trace and back.

:class:`TraceContextFilter` adds ``otelTraceID``, ``otelSpanID`` and ``otelTraceSampled`` to
every record it sees (the names OpenTelemetry's logging instrumentation uses, so existing
formats such as ``%(otelTraceID)s`` keep working), read from the span current when the record
is made: inside a request or WebSocket connection of a traced app, the server span or a child.
Records made outside any span get zeros. With ``logs`` on (the default),
``Tether(telemetry=...)`` installs it on tether's loggers; add it to your own handlers with
:func:`install_trace_context` or ``handler.addFilter(TraceContextFilter())``.

It composes with :class:`tether.logsafe.SecretMaskingFilter`: ids are not secrets, and masking
leaves them alone.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

__all__ = ["TETHER_LOGGERS", "TraceContextFilter", "install_trace_context"]

TETHER_LOGGERS = (
    "tether",
    "tether.error",
    "tether.channels",
    "tether.channels.redis",
    "tether.shutdown",
)
"""The loggers tether writes to (a filter on a logger sees only that logger's own records)."""

_NO_TRACE = "0" * 32
_NO_SPAN = "0" * 16


class TraceContextFilter(logging.Filter):
    """Add the current trace and span ids to each record; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Set ``otelTraceID``/``otelSpanID``/``otelTraceSampled`` on ``record``; return True."""
        try:
            from opentelemetry import trace
        except ImportError:  # pragma: no cover - the filter is useless but harmless then
            context = None
        else:
            context = trace.get_current_span().get_span_context()
        if context is not None and context.is_valid:
            record.otelTraceID = format(context.trace_id, "032x")
            record.otelSpanID = format(context.span_id, "016x")
            record.otelTraceSampled = context.trace_flags.sampled
        else:
            record.otelTraceID, record.otelSpanID = _NO_TRACE, _NO_SPAN
            record.otelTraceSampled = False
        return True


def install_trace_context(names: Iterable[str] = TETHER_LOGGERS) -> None:
    """Add one :class:`TraceContextFilter` to each named logger (idempotent)."""
    for name in names:
        logger = logging.getLogger(name)
        if not any(isinstance(f, TraceContextFilter) for f in logger.filters):
            logger.addFilter(TraceContextFilter())
