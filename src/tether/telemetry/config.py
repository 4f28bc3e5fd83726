"""``Tether(telemetry=...)``: the settings, their defaults, and the resolved :class:`Telemetry`.

The shape is FastAPI's ``telemetry`` configuration: a dict whose omitted keys keep their
defaults (every signal on, the global OpenTelemetry providers). tether adds three keys for what
FastAPI does not have: ``message_span_every`` (WebSocket message spans, one in N per
connection), ``connection_events`` (``websocket.accept`` / ``websocket.close`` events on the
connection span) and ``channels`` (spans for publishes and deliveries of a
:class:`~tether.channels.Channels` hub built with this configuration).

``opentelemetry-api`` is imported only when a configuration is resolved (:mod:`tether.telemetry.resolve`): an app
built with ``telemetry=False`` or without the package installed never imports it. With the
default (``telemetry=None``) and no provider configured anywhere, every connection checks once
whether a global provider has appeared since (FastAPI's "late providers" rule) and is otherwise
served as if telemetry were off.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable, MutableMapping
from typing import TYPE_CHECKING, Any, TypedDict

from tether.types import Receive, Scope, Send

if TYPE_CHECKING:
    from opentelemetry.metrics import Histogram, MeterProvider, UpDownCounter
    from opentelemetry.trace import Tracer, TracerProvider

__all__ = ["DEFAULTS", "Telemetry", "TelemetryConfig"]

SCOPE_NAME = "tether"
# The semantic conventions version the attribute names follow (FastAPI's, too).
SCHEMA_URL = "https://opentelemetry.io/schemas/1.44.0"

# FastAPI's (and OpenTelemetry's HTTP semantic conventions') advisory bucket bounds, seconds.
DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10)


class TelemetryConfig(TypedDict, total=False):
    """Optional settings for ``Tether(telemetry={...})``; omitted keys keep their defaults.

    - ``tracer_provider`` / ``meter_provider``: use these instead of the global providers;
    - ``logger_provider``: where OpenTelemetry log records go (unhandled exceptions,
      validation failures) instead of the global provider;
    - ``tracing``: HTTP request and WebSocket connection spans (default ``True``);
    - ``metrics``: HTTP request metrics, and tether's counters when the app counts them
      (default ``True``);
    - ``logs``: OpenTelemetry log records for unhandled exceptions and validation failures,
      and trace and span ids on tether's ``logging`` records (default ``True``);
    - ``operation_spans``: spans for dependencies, the endpoint, serialization and background
      tasks, children of the server span (default ``True``);
    - ``auto_configure``: at lifespan startup, add OTLP exporters the ``OTEL_*`` variables ask
      for (default ``True``; :mod:`tether.telemetry.environment`);
    - ``exclude``: a function of the ASGI scope; ``True`` skips telemetry for that scope;
    - ``message_span_every``: one span for every N-th WebSocket message in each direction of a
      connection (default 1000; 0 records none, 1 every message);
    - ``connection_events``: add ``websocket.accept`` and ``websocket.close`` events to the
      connection span (default ``False``: FastAPI records no events);
    - ``channels``: trace publishes and deliveries of a hub given this config (default ``True``).
    """

    tracer_provider: Any
    meter_provider: Any
    logger_provider: Any
    tracing: bool
    metrics: bool
    logs: bool
    operation_spans: bool
    auto_configure: bool
    exclude: Callable[[MutableMapping[str, Any]], bool] | None
    message_span_every: int
    connection_events: bool
    channels: bool


DEFAULTS: dict[str, Any] = {
    "tracer_provider": None,
    "meter_provider": None,
    "logger_provider": None,
    "tracing": True,
    "metrics": True,
    "logs": True,
    "operation_spans": True,
    "auto_configure": True,
    "exclude": None,
    "message_span_every": 1000,
    "connection_events": False,
    "channels": True,
}


# The HTTP methods span names and attributes keep as they are (HTTP semantic conventions);
# any other is "_OTHER". OTEL_INSTRUMENTATION_HTTP_KNOWN_METHODS replaces the set.
HTTP_METHODS = frozenset(
    {"CONNECT", "DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT", "QUERY", "TRACE"}
)
KNOWN_METHODS_ENV = "OTEL_INSTRUMENTATION_HTTP_KNOWN_METHODS"


def known_methods() -> frozenset[str]:
    """The methods named in ``OTEL_INSTRUMENTATION_HTTP_KNOWN_METHODS``, else the standard ones.

    Comma-separated, case-sensitive (``query`` is not ``QUERY``); blank means the default.
    """
    named = frozenset(m.strip() for m in os.environ.get(KNOWN_METHODS_ENV, "").split(","))
    named -= {""}
    return named or HTTP_METHODS


class Telemetry:
    """A resolved configuration: the tracer, the instruments and the switches, built once.

    Built by :func:`resolve_telemetry` at app construction; the ASGI layer and the channels
    hub read its attributes on every connection or publish, never the config dict.
    """

    __slots__ = (
        "handle",
        "settings",
        "_tracer_provider",
        "_tracer_cache",
        "_default_getter",
        "tracing",
        "metrics",
        "logs",
        "exclude",
        "message_every",
        "methods",
        "events",
        "channels",
        "operation_spans",
        "_explicit",
        "_logger_provider",
        "_logger",
        "_log_state",
        "_duration",
        "_active",
        "_meter_provider",
        "_trace_state",
        "_meter_state",
    )

    def __init__(self, settings: dict[str, Any]) -> None:
        from opentelemetry import trace

        # Set by resolve_telemetry (tether.telemetry.resolve): handle(app, scope, receive, send)
        # serves one scope with telemetry.
        self.handle: Callable[[Any, Scope, Receive, Send], Awaitable[None]] = _unresolved

        self.settings = settings
        tracer_provider: TracerProvider | None = settings["tracer_provider"]
        # The tracer is asked for on first use and again when the provider changed (as
        # FastAPI does): see the tracer property.
        self._tracer_provider = tracer_provider
        self._tracer_cache: tuple[Any, Tracer] | None = None
        self._default_getter: Any = None  # the API's own get_tracer_provider, once seen
        from opentelemetry import metrics
        from opentelemetry.metrics import _internal as meter_state

        metrics.get_meter_provider()  # loads OTEL_PYTHON_METER_PROVIDER once, if it is set
        self._trace_state: Any = trace
        self._meter_state: Any = meter_state
        self.tracing: bool = settings["tracing"]
        self.metrics: bool = settings["metrics"]
        self.logs: bool = settings["logs"]
        self.exclude: Callable[[MutableMapping[str, Any]], bool] | None = settings["exclude"]
        self.message_every: int = settings["message_span_every"]
        self.methods = known_methods()  # read once: the environment is slow to query
        self.events: bool = settings["connection_events"]
        self.channels: bool = settings["channels"]
        self.operation_spans: bool = settings["operation_spans"]
        from opentelemetry._logs import _internal as log_state

        self._log_state: Any = log_state
        self._logger_provider: Any = settings["logger_provider"]
        self._logger: Any = None  # (provider, logger) of the last provider asked
        # Explicit providers are live from the start; global ones are checked per connection.
        self._explicit = (
            (tracer_provider is not None and self.tracing)
            or (settings["meter_provider"] is not None and self.metrics)
            or (settings["logger_provider"] is not None and self.logs)
        )
        if not (
            hasattr(trace, "_TRACER_PROVIDER")
            and hasattr(meter_state, "_METER_PROVIDER")
            and hasattr(log_state, "_LOGGER_PROVIDER")
        ):
            self._explicit = True  # another API version: no cheap check, so always trace
        self._meter_provider: MeterProvider | None = settings["meter_provider"]
        self._duration: Histogram | None = None
        self._active: UpDownCounter | None = None

    def attach(self, counters: Any, router: Any = None) -> None:
        """Set up what an app with this configuration needs once: log ids, counter instruments.

        ``counters`` is the app's :class:`~tether.metrics.TetherMetrics` (or None): with
        ``metrics`` on, its counters are observed as OpenTelemetry instruments too. With
        ``auto_configure`` on and an ``OTEL_EXPORTER_OTLP_*ENDPOINT`` variable set, ``router``
        (the app's) gets a startup hook that adds the exporters it asks for and a shutdown hook
        that flushes them (:mod:`tether.telemetry.environment`).
        """
        if router is not None and self.settings["auto_configure"] and _otlp_environment():
            from tether.telemetry.environment import configure_from_environment, flush

            async def flush_exporters() -> None:
                from tether.concurrency import run_in_threadpool

                await run_in_threadpool(flush)  # exports over HTTP: not on the event loop

            router.on_startup.insert(0, lambda: configure_from_environment(self.settings))
            router.on_shutdown.append(flush_exporters)
        if self.logs:
            from tether.telemetry.logs import install_trace_context

            install_trace_context()
        if self.metrics and counters is not None:
            from tether.telemetry.metrics import observe_registry

            observe_registry(self.meter_provider(), counters.registry)

    @property
    def tracer(self) -> Tracer:
        """The tracer of the configured provider, else of the global one, fetched once per
        provider (a provider set or replaced later is followed)."""
        provider = self._tracer_provider
        if provider is None:
            provider = self._trace_state.get_tracer_provider()
        cache = self._tracer_cache
        if cache is None or cache[0] is not provider:
            tracer = provider.get_tracer(SCOPE_NAME, schema_url=SCHEMA_URL)
            cache = self._tracer_cache = (provider, tracer)
        return cache[1]

    def live(self) -> bool:
        """Whether any signal can reach an exporter now (one check per connection)."""
        if self._explicit:
            return True
        if self.tracing:
            getter = self._trace_state.get_tracer_provider
            if getter is not self._default_getter:
                if getattr(getter, "__module__", None) != "opentelemetry.trace":
                    return True  # replaced (a test, an instrumentation): the tracer asks it
                self._default_getter = getter
        # The API's get_*_provider() look the environment up on every call until a provider
        # is set (about 20 us under load), and an import statement costs as much: read the
        # globals they return, from the modules kept at init (where the environment was read).
        return (
            (self.tracing and self._trace_state._TRACER_PROVIDER is not None)
            or (self.metrics and self._meter_state._METER_PROVIDER is not None)
            or (self.logs and self._log_state._LOGGER_PROVIDER is not None)
        )

    def logger(self) -> Any:
        """The OpenTelemetry ``Logger`` log records go to, or None (``logs`` off, no provider).

        The configured ``logger_provider``, else the global one once it has been set (the
        API's deferred proxy and its no-op provider record nothing, so they count as none).
        """
        if not self.logs:
            return None
        provider = self._logger_provider
        if provider is None:
            provider = self._log_state._LOGGER_PROVIDER  # read as live() does: no env lookup
            if provider is None or type(provider).__name__ == "NoOpLoggerProvider":
                return None
        cached = self._logger
        if cached is not None and cached[0] is provider:
            return cached[1]
        logger = provider.get_logger(SCOPE_NAME, schema_url=SCHEMA_URL)
        self._logger = (provider, logger)
        return logger

    def meter_provider(self) -> MeterProvider:
        """The configured meter provider, else the global one."""
        if self._meter_provider is not None:
            return self._meter_provider
        from opentelemetry import metrics

        return metrics.get_meter_provider()

    def http_instruments(self) -> tuple[Histogram, UpDownCounter]:
        """``http.server.request.duration`` and ``http.server.active_requests`` (made once)."""
        if self._duration is None or self._active is None:
            meter = self.meter_provider().get_meter(SCOPE_NAME, schema_url=SCHEMA_URL)
            self._duration = meter.create_histogram(
                "http.server.request.duration",
                unit="s",
                description="Duration of HTTP server requests.",
                explicit_bucket_boundaries_advisory=DURATION_BUCKETS,
            )
            self._active = meter.create_up_down_counter(
                "http.server.active_requests",
                unit="{request}",
                description="Number of active HTTP server requests.",
            )
        return self._duration, self._active


def _otlp_environment() -> bool:
    return any(name.startswith("OTEL_EXPORTER_OTLP_") for name in os.environ)


async def _unresolved(app: Any, scope: Scope, receive: Receive, send: Send) -> None:
    raise RuntimeError("a Telemetry is built by tether.telemetry.resolve_telemetry()")
