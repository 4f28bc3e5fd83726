"""OpenTelemetry for tether: traces, metrics and log correlation (``Tether(telemetry=...)``).

- :class:`TelemetryConfig`: the settings of ``Tether(telemetry={...})`` and
  ``Channels(telemetry={...})`` (FastAPI's shape, plus WebSocket and channel keys);
- server spans for HTTP requests and WebSocket connections (:mod:`tether.telemetry.asgi`),
  sampled message spans (:mod:`tether.telemetry.websocket`);
- publish and delivery spans of channels, with the trace context carried through the broker
  (:mod:`tether.telemetry.channels`);
- tether's counters as OpenTelemetry instruments (:mod:`tether.telemetry.metrics`);
- :class:`TraceContextFilter`: trace and span ids on log records (:mod:`tether.telemetry.logs`);
- operation spans, OpenTelemetry log records and :func:`get_telemetry_data`
  (:mod:`tether.telemetry.observer`, :mod:`tether.telemetry.data`).

Only ``opentelemetry-api`` is needed (``pip install 'tether[otel]'``), and it is imported when a
configuration is resolved, not when this package is. See docs/observability.md.
"""

from tether.telemetry.config import Telemetry, TelemetryConfig
from tether.telemetry.data import TelemetryData, get_telemetry_data
from tether.telemetry.logs import TraceContextFilter, install_trace_context
from tether.telemetry.resolve import channel_backend, resolve_telemetry

__all__ = [
    "Telemetry",
    "TelemetryConfig",
    "TelemetryData",
    "TraceContextFilter",
    "channel_backend",
    "get_telemetry_data",
    "install_trace_context",
    "resolve_telemetry",
]
