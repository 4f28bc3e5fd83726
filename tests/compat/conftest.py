"""Fixtures FastAPI's telemetry tests take (``telemetry``, ``logs``), as FastAPI's conftest has.

Like FastAPI's, every test here runs without ``OTEL_*`` variables in the environment.
"""

from __future__ import annotations

import pytest

from otel_helpers import clean_otel_environment, logs, otel, telemetry

__all__ = ["clean_otel_environment", "logs", "otel", "telemetry"]


@pytest.fixture(autouse=True)
def _no_export_environment(clean_otel_environment: None) -> None:
    """FastAPI's ``clean_environment``: no exporter configured from the environment."""
