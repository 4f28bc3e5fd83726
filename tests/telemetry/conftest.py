"""Fixtures of the telemetry tests: SDK providers with in-memory exporters, never global."""

from __future__ import annotations

from otel_helpers import clean_otel_environment, logs, otel, telemetry

__all__ = ["clean_otel_environment", "logs", "otel", "telemetry"]
