"""Prometheus metrics for connections, messages and channels.

The public face of :mod:`tether.runtime.metrics`, where the code lives.
"""

from __future__ import annotations

from tether.runtime.metrics import (
    CONTENT_TYPE,
    REGISTRY,
    Counter,
    Gauge,
    MetricsEndpoint,
    MetricsMiddleware,
    MetricsRegistry,
    TetherMetrics,
    default_metrics,
    metrics_endpoint,
    register_channels,
)

__all__ = [
    "CONTENT_TYPE",
    "REGISTRY",
    "Counter",
    "Gauge",
    "MetricsEndpoint",
    "MetricsMiddleware",
    "MetricsRegistry",
    "TetherMetrics",
    "default_metrics",
    "metrics_endpoint",
    "register_channels",
]
