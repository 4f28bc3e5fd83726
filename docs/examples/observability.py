"""Traces, metrics and log ids for a chat app with channels (see docs/observability.md).

``setup_telemetry()`` builds SDK providers that export to an OpenTelemetry collector over OTLP
when ``OTEL_EXPORTER_OTLP_ENDPOINT`` is set and the exporter package is installed
(``pip install opentelemetry-exporter-otlp-proto-http``), else to the console. A test passes
its own providers instead (in-memory exporters) and checks the spans.

- every HTTP request and WebSocket connection gets a server span (``GET /rooms/{room}/history``,
  ``WS /rooms/{room}``), continuing the caller's ``traceparent``;
- one WebSocket message in 100 gets a span (``message_span_every``), the others cost a countdown;
- a publish on this node and its delivery on every node are linked across Redis;
- ``/metrics`` (Prometheus) and the meter provider read the same counters.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from tether import Tether, WebSocket, WebSocketDisconnect
from tether.channels import ChannelOptions, Channels
from tether.telemetry import TelemetryConfig, TraceContextFilter

LOG_FORMAT = "%(levelname)s %(name)s trace=%(otelTraceID)s span=%(otelSpanID)s %(message)s"


def setup_telemetry() -> TelemetryConfig:
    """SDK providers with an OTLP exporter (or the console): the app's telemetry settings."""
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import (
        ConsoleMetricExporter,
        PeriodicExportingMetricReader,
    )
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter

    resource = Resource.create({"service.name": os.environ.get("OTEL_SERVICE_NAME", "chat")})
    spans: Any = ConsoleSpanExporter()
    measures: Any = ConsoleMetricExporter()
    if os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
        from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        spans, measures = OTLPSpanExporter(), OTLPMetricExporter()
    tracer_provider = TracerProvider(resource=resource)
    tracer_provider.add_span_processor(BatchSpanProcessor(spans))
    reader = PeriodicExportingMetricReader(measures, export_interval_millis=15_000)
    meter_provider = MeterProvider(resource=resource, metric_readers=[reader])
    return {"tracer_provider": tracer_provider, "meter_provider": meter_provider}


def setup_logging() -> None:
    """Log lines with the trace and span ids of the request or connection that wrote them."""
    handler = logging.StreamHandler()
    handler.addFilter(TraceContextFilter())
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    logging.getLogger("chat").addHandler(handler)


def create_app(telemetry: TelemetryConfig, broker: str = "memory://") -> Tether:
    """The chat app: a WebSocket per room, its history over HTTP, everything traced."""
    settings: TelemetryConfig = {**telemetry, "message_span_every": 100}
    channels = Channels(
        broker,
        namespaces={"room": ChannelOptions(history_size=100, history_ttl=3600)},
        telemetry=settings,
    )
    app = Tether(lifespan=channels.lifespan, metrics=True, telemetry=settings)
    app.attach_channels(channels)
    log = logging.getLogger("chat")

    @app.websocket("/rooms/{room}")
    async def room(websocket: WebSocket, room: str) -> None:
        await websocket.accept()
        await channels.subscribe(websocket, f"room:{room}")
        try:
            while True:
                text = await websocket.receive_text()
                await channels.publish(f"room:{room}", {"text": text})
        except WebSocketDisconnect:
            log.info("left %s", room)
        finally:
            await channels.disconnect(websocket)

    @app.get("/rooms/{room}/history")
    async def history(room: str) -> list[Any]:
        result = await channels.history(f"room:{room}")
        return [publication.data for publication in result.publications]

    return app


if __name__ == "__main__":  # pragma: no cover - run by hand: python docs/examples/observability.py
    import uvicorn

    setup_logging()
    uvicorn.run(create_app(setup_telemetry()), port=8000)
