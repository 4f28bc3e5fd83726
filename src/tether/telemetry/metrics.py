"""tether's counters as OpenTelemetry instruments: one set of counters, two ways out.

The Prometheus endpoint (:mod:`tether.metrics`) and the hub's :class:`ChannelMetrics` keep plain
integers that the hot paths bump. Nothing here adds work to those paths: each counter becomes
an *observable* instrument whose callback reads the same integers when the meter provider
collects, so ``/metrics`` and an OTLP exporter always agree.

Names: ``tether_messages_sent_total`` becomes ``tether.messages_sent`` (``_total`` is the
Prometheus suffix of a counter; OpenTelemetry names carry none), a label becomes an attribute.
A hub's counters become ``tether.channel.<name>`` with ``tether.node_id`` as attribute, so
several hubs in one process (or the nodes of a cluster, in the collector) stay apart.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterable
from typing import Any

from opentelemetry.metrics import CallbackOptions, MeterProvider, Observation

from tether.runtime.metrics import Counter, MetricsRegistry

__all__ = ["observe_channels", "observe_registry"]

_SCOPE = "tether"
# Gauges of ChannelMetrics (they go up and down); every other slot only grows.
_CHANNEL_GAUGES = frozenset({"connections", "subscriptions", "channels", "queued_bytes_high_water"})

# One set of instruments per (provider, registry) and per provider for all hubs: a second app
# or hub on the same provider must not register the same instrument names twice.
_observed_registries: dict[tuple[int, int], MetricsRegistry] = {}
_hubs: dict[int, weakref.WeakSet[Any]] = {}


def _otel_name(prometheus_name: str) -> str:
    name = prometheus_name.removesuffix("_total")
    return "tether." + name.removeprefix("tether_")


def observe_registry(provider: MeterProvider, registry: MetricsRegistry) -> None:
    """Observe every counter and gauge registered on ``registry`` now (idempotent)."""
    key = (id(provider), id(registry))
    if key in _observed_registries:
        return
    _observed_registries[key] = registry
    meter = provider.get_meter(_SCOPE)
    for name in _registered_names(registry):
        metric = registry.get(name)
        if metric is None:
            continue
        callback = _metric_callback(metric)
        if isinstance(metric, Counter):
            meter.create_observable_counter(_otel_name(name), [callback], description=metric.help)
        else:
            meter.create_observable_up_down_counter(
                _otel_name(name), [callback], description=metric.help
            )


def _registered_names(registry: MetricsRegistry) -> list[str]:
    # The registry keeps its metrics by name; scrape-time collectors (channels) are observed
    # from their hub instead (observe_channels), with a node attribute.
    names: Iterable[str] = getattr(registry, "_metrics", {}).keys()
    return sorted(names)


def _metric_callback(metric: Any) -> Callable[[CallbackOptions], Iterable[Observation]]:
    def observe(options: CallbackOptions) -> Iterable[Observation]:
        return [Observation(value, dict(labels)) for _, labels, value in metric.samples()]

    return observe


def observe_channels(provider: MeterProvider, hub: Any) -> None:
    """Observe ``hub.metrics`` (a :class:`ChannelMetrics`) on ``provider``, with its node id."""
    hubs = _hubs.get(id(provider))
    if hubs is not None:
        hubs.add(hub)
        return
    hubs = _hubs[id(provider)] = weakref.WeakSet([hub])
    meter = provider.get_meter(_SCOPE)
    for key in hub.metrics.__slots__:
        callback = _channel_callback(hubs, key)
        name = f"tether.channel.{key}"
        if key in _CHANNEL_GAUGES:
            meter.create_observable_up_down_counter(name, [callback])
        else:
            meter.create_observable_counter(name, [callback])


def _channel_callback(
    hubs: weakref.WeakSet[Any], key: str
) -> Callable[[CallbackOptions], Iterable[Observation]]:
    def observe(options: CallbackOptions) -> Iterable[Observation]:
        return [
            Observation(getattr(hub.metrics, key), {"tether.node_id": hub.node_id})
            for hub in list(hubs)
        ]

    return observe
