"""``auto_configure``: OTLP exporters from the ``OTEL_*`` environment, added at lifespan startup.

FastAPI's rule, with the same variables: for each signal the app records (``tracing``,
``metrics``, ``logs``), an endpoint in ``OTEL_EXPORTER_OTLP_{TRACES,METRICS,LOGS}_ENDPOINT``, or
``OTEL_EXPORTER_OTLP_ENDPOINT`` plus ``/v1/traces`` (``/v1/metrics``, ``/v1/logs``), adds an OTLP
over HTTP (protobuf) exporter to the provider the app uses: the configured one, else the global
one, which is created (an SDK provider) and installed when nothing has set it yet.
``OTEL_{SIGNAL}_EXPORTER=none`` skips a signal, ``OTEL_SDK_DISABLED=true`` all of them.

Providers and exporters already there are kept; tether adds its own exporter once per provider
and signal, however many apps share it. At lifespan shutdown what tether added is flushed, and
at interpreter exit shut down (a provider the application passed in is never shut down).

Configuration happens at startup, not at import or construction, so that every worker process
of a forking server gets its own export threads. Errors (another exporter or protocol asked
for, a bad URL, the exporter package missing) are :class:`~tether.exceptions.ConfigurationError`
and fail the startup: telemetry silently off would be found out too late.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
from typing import Any
from urllib.parse import urlsplit

from tether.exceptions import ConfigurationError

__all__ = ["configure_from_environment", "export_endpoint", "flush"]

logger = logging.getLogger("tether")

SIGNALS = ("TRACES", "METRICS", "LOGS")
_OFF = "Configure the exporter yourself and pass telemetry={'auto_configure': False}."

_lock = threading.Lock()
_registered: list[tuple[str, Any]] = []  # (signal, provider) that got tether's exporter
_owned: list[Any] = []  # what tether made: flushed at lifespan shutdown, shut down at exit


def export_endpoint(signal: str) -> str | None:
    """The OTLP endpoint for ``signal`` (``TRACES``, ``METRICS``, ``LOGS``), or None.

    Raises ``ConfigurationError`` for an exporter other than ``otlp``/``none``, a protocol
    other than ``http/protobuf``, or an endpoint that is not an absolute HTTP(S) URL.
    """
    exporter = (os.environ.get(f"OTEL_{signal}_EXPORTER") or "otlp").strip().lower()
    endpoint = os.environ.get(f"OTEL_EXPORTER_OTLP_{signal}_ENDPOINT", "").strip()
    if not endpoint:
        base = os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT", "").strip()
        endpoint = f"{base.rstrip('/')}/v1/{signal.lower()}" if base else ""
    if not endpoint or exporter == "none":
        return None
    if exporter != "otlp":
        raise ConfigurationError(
            f"tether can only set up OTEL_{signal}_EXPORTER=otlp (or none), not {exporter!r}. "
            + _OFF
        )
    protocol = (
        os.environ.get(f"OTEL_EXPORTER_OTLP_{signal}_PROTOCOL")
        or os.environ.get("OTEL_EXPORTER_OTLP_PROTOCOL")
        or "http/protobuf"
    ).strip()
    if protocol != "http/protobuf":
        raise ConfigurationError(
            f"tether sets up OTLP over http/protobuf only, not {protocol!r}. " + _OFF
        )
    parsed = urlsplit(endpoint)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise ConfigurationError(
            f"the OTLP {signal.lower()} endpoint {endpoint!r} is not an absolute http(s) URL"
        )
    return endpoint


def configure_from_environment(settings: dict[str, Any]) -> None:
    """Add the exporters the environment asks for (see the module docstring); idempotent.

    ``settings`` are a resolved telemetry configuration's (``Telemetry.settings``).
    """
    if not settings["auto_configure"] or os.environ.get("OTEL_SDK_DISABLED", "").lower() == "true":
        return
    wanted = {
        "TRACES": (settings["tracing"], settings["tracer_provider"]),
        "METRICS": (settings["metrics"], settings["meter_provider"]),
        "LOGS": (settings["logs"], settings["logger_provider"]),
    }
    requested = []
    for signal in SIGNALS:
        enabled, provider = wanted[signal]
        endpoint = export_endpoint(signal) if enabled else None
        if endpoint is not None:
            requested.append((signal, provider, endpoint))
    if not requested:
        return
    sdk = _sdk()
    with _lock:
        for signal, provider, endpoint in requested:
            _add(sdk, signal, provider, endpoint)


def flush() -> None:
    """Export what tether's exporters hold (at lifespan shutdown); failures are logged."""
    for component in tuple(_owned):
        try:
            component.force_flush()
        except Exception:
            logger.exception("flushing an OpenTelemetry exporter failed")


def _shutdown() -> None:
    with _lock:
        owned = tuple(_owned)
        _owned.clear()
    for component in owned:
        try:
            component.shutdown()
        except Exception:
            logger.exception("shutting an OpenTelemetry exporter down failed")


atexit.register(_shutdown)


def _sdk() -> dict[str, Any]:
    try:
        from opentelemetry import _logs, metrics, trace
        from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
        from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk._logs import LoggerProvider
        from opentelemetry.sdk._logs.export import BatchLogRecordProcessor
        from opentelemetry.sdk.metrics import MeterProvider
        from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
    except ImportError as exc:
        raise ConfigurationError(
            "OTEL_EXPORTER_OTLP_* is set, and exporting from it needs the OpenTelemetry SDK and"
            " OTLP exporter: pip install 'tether[otlp]', or pass"
            " telemetry={'auto_configure': False} and set the providers up yourself"
        ) from exc
    return {
        "TRACES": (
            trace,
            lambda endpoint: BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)),
            lambda component: _with(
                TracerProvider(shutdown_on_exit=False), "add_span_processor", component
            ),
            "add_span_processor",
        ),
        "METRICS": (
            metrics,
            lambda endpoint: PeriodicExportingMetricReader(OTLPMetricExporter(endpoint=endpoint)),
            lambda component: MeterProvider(metric_readers=[component], shutdown_on_exit=False),
            "add_metric_reader",
        ),
        "LOGS": (
            _logs,
            lambda endpoint: BatchLogRecordProcessor(OTLPLogExporter(endpoint=endpoint)),
            lambda component: _with(
                LoggerProvider(shutdown_on_exit=False), "add_log_record_processor", component
            ),
            "add_log_record_processor",
        ),
    }


def _with(provider: Any, register: str, component: Any) -> Any:
    getattr(provider, register)(component)
    return provider


_GLOBALS = {
    "TRACES": ("get_tracer_provider", "set_tracer_provider"),
    "METRICS": ("get_meter_provider", "set_meter_provider"),
    "LOGS": ("get_logger_provider", "set_logger_provider"),
}

# The API's stand-ins until a real provider is set: they count as "nothing configured".
_DEFERRED = frozenset({"ProxyTracerProvider", "_ProxyMeterProvider", "ProxyLoggerProvider"})


def _add(sdk: dict[str, Any], signal: str, explicit: Any, endpoint: str) -> None:
    module, make_component, make_provider, register_name = sdk[signal]
    getter, setter = _GLOBALS[signal]
    provider = explicit if explicit is not None else getattr(module, getter)()
    if any(s == signal and p is provider for s, p in _registered):
        return
    if explicit is None and type(provider).__name__ in _DEFERRED:
        component = make_component(endpoint)
        created = make_provider(component)
        getattr(module, setter)(created)
        if getattr(module, getter)() is created:
            _registered.append((signal, created))
            _owned.append(created)
            return
        created.shutdown()  # another component set the global one meanwhile: use theirs
        provider = getattr(module, getter)()
    register = getattr(provider, register_name, None)
    if not callable(register):
        raise ConfigurationError(
            f"the OpenTelemetry provider {type(provider).__name__} cannot take an exporter"
            f" ({register_name}). " + _OFF
        )
    component = make_component(endpoint)
    try:
        register(component)
    except Exception:
        component.shutdown()
        raise
    _registered.append((signal, provider))
    _owned.append(component)
