"""Helpers and fixtures of tether's telemetry tests (tests/ is on sys.path: a plain module).

SDK providers with in-memory exporters, never the global ones, imported by
``tests/telemetry/conftest.py``. FastAPI's own telemetry tests run from its sdist with its own
fixtures (tests/peers/test_fastapi_telemetry_published.py).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

# Variables that would configure exporters or providers behind a test's back.
EXPORT_ENVIRONMENT = ("OTEL_", "TETHER_OTEL_")


def server_spans(exporter: InMemorySpanExporter) -> list[ReadableSpan]:
    return [s for s in exporter.get_finished_spans() if s.kind == SpanKind.SERVER]


def points(reader: InMemoryMetricReader, name: str) -> list[Any]:
    data = reader.get_metrics_data()
    if data is None:
        return []
    return [
        point
        for resource in data.resource_metrics
        for scope in resource.scope_metrics
        for metric in scope.metrics
        if metric.name == name
        for point in metric.data.data_points
    ]


@pytest.fixture
def clean_otel_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Remove ``OTEL_*`` variables for the test (they would add exporters)."""
    for name in list(os.environ):
        if name.startswith(EXPORT_ENVIRONMENT):
            monkeypatch.delenv(name)


@pytest.fixture
def otel() -> Iterator[tuple[dict[str, Any], InMemorySpanExporter, InMemoryMetricReader]]:
    """(telemetry config with explicit providers, span exporter, metric reader)."""
    exporter = InMemorySpanExporter()
    tracer = TracerProvider(shutdown_on_exit=False)
    tracer.add_span_processor(SimpleSpanProcessor(exporter))
    reader = InMemoryMetricReader()
    meter = MeterProvider(metric_readers=[reader], shutdown_on_exit=False)
    yield {"tracer_provider": tracer, "meter_provider": meter}, exporter, reader
    tracer.shutdown()
    meter.shutdown()


@pytest.fixture
def telemetry(
    otel: tuple[dict[str, Any], InMemorySpanExporter, InMemoryMetricReader],
) -> tuple[dict[str, Any], InMemorySpanExporter, InMemoryMetricReader]:
    """(config, span exporter, metric reader), as FastAPI's fixture of the same name."""
    return otel


@pytest.fixture
def logs(telemetry: Any) -> Iterator[Any]:
    """An in-memory log exporter behind a ``logger_provider`` added to the config."""
    from opentelemetry.sdk._logs import LoggerProvider
    from opentelemetry.sdk._logs.export import (
        InMemoryLogRecordExporter,
        SimpleLogRecordProcessor,
    )

    config, _, _ = telemetry
    exporter = InMemoryLogRecordExporter()
    provider = LoggerProvider(shutdown_on_exit=False)
    provider.add_log_record_processor(SimpleLogRecordProcessor(exporter))
    config["logger_provider"] = provider
    yield exporter
    provider.shutdown()
