"""Fixtures of the telemetry tests: SDK providers with in-memory exporters, never global."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

sys.path.insert(0, str(Path(__file__).resolve().parent))


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


# The fixtures FastAPI's telemetry tests use (test_fastapi_*.py run them with imports changed).
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
