"""A tiny metrics registry with Prometheus text exposition (format 0.0.4), no dependencies.

Counters and gauges, optionally with labels::

    registry = MetricsRegistry()
    sent = registry.counter("app_sent_total", "Frames sent.", ("kind",))
    sent.labels(kind="text").inc()
    registry.expose()   # the text a Prometheus server scrapes

:class:`TetherMetrics` is the set of standard tether metrics; :func:`default_metrics` returns the
process-wide one on :data:`REGISTRY`. :class:`MetricsMiddleware` counts WebSocket connections,
messages and bytes; :data:`metrics_endpoint` is an ASGI app for a ``/metrics`` route.
:func:`register_channels` exposes a ``tether.channels`` hub's own counters at scrape time, so the
hub keeps plain integers on its hot path.

Updates are plain attribute arithmetic: safe within one event loop; exact totals across threads
are not promised (CPython makes a lost update rare, not impossible).

Reference: https://prometheus.io/docs/instrumenting/exposition_formats/ (text format 0.0.4).
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, Literal

from tether.types import ASGIApp, Message, Receive, Scope, Send

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

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
_LABEL = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")

Sample = tuple[str, tuple[tuple[str, str], ...], float]
"""(sample name, ((label, value), ...), value)."""


def _format_value(value: float) -> str:
    if isinstance(value, int) or (math.isfinite(value) and value == int(value)):
        return str(int(value))
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(value)


def _escape_label(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _escape_help(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")


class _Child:
    """The value of one label combination (or of an unlabelled metric)."""

    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value: float = 0

    def inc(self, amount: float = 1) -> None:
        """Add ``amount``."""
        self.value += amount

    def dec(self, amount: float = 1) -> None:
        """Subtract ``amount`` (gauges only by convention)."""
        self.value -= amount

    def set(self, value: float) -> None:
        """Set the value (gauges only by convention)."""
        self.value = value


class _Metric:
    """Shared part of :class:`Counter` and :class:`Gauge`."""

    kind: Literal["counter", "gauge"] = "counter"
    __slots__ = ("name", "help", "labelnames", "_root", "_children", "_function")

    def __init__(self, name: str, help: str, labelnames: Sequence[str] = ()) -> None:
        if not _NAME.match(name):
            raise ValueError(f"{name!r} is not a valid metric name")
        for label in labelnames:
            if not _LABEL.match(label) or label.startswith("__"):
                raise ValueError(f"{label!r} is not a valid label name")
        self.name = name
        self.help = help
        self.labelnames = tuple(labelnames)
        self._root = _Child()
        self._children: dict[tuple[str, ...], _Child] = {}
        self._function: Callable[[], float] | None = None

    def labels(self, *values: str, **named: str) -> _Child:
        """The child for one label combination (created on first use, then cached).

        Raises ``ValueError`` when the labels do not match the declared label names.
        """
        if named:
            if values or set(named) != set(self.labelnames):
                raise ValueError(f"{self.name} takes labels {self.labelnames}, got {named}")
            values = tuple(str(named[label]) for label in self.labelnames)
        elif len(values) != len(self.labelnames):
            raise ValueError(f"{self.name} takes labels {self.labelnames}, got {values}")
        else:
            values = tuple(str(value) for value in values)
        child = self._children.get(values)
        if child is None:
            child = self._children[values] = _Child()
        return child

    def _unlabelled(self) -> _Child:
        if self.labelnames:
            raise ValueError(f"{self.name} has labels {self.labelnames}; use .labels(...)")
        return self._root

    def inc(self, amount: float = 1) -> None:
        """Add ``amount`` to an unlabelled metric; raises ``ValueError`` if it has labels."""
        self._unlabelled().value += amount

    @property
    def value(self) -> float:
        """Current value of an unlabelled metric."""
        if self._function is not None:
            return self._function()
        return self._unlabelled().value

    def samples(self) -> Iterator[Sample]:
        """Yield the samples of this metric for exposition."""
        if not self.labelnames:
            yield self.name, (), self.value
            return
        for values, child in list(self._children.items()):
            yield self.name, tuple(zip(self.labelnames, values, strict=True)), child.value


class Counter(_Metric):
    """A value that only goes up. Name it ``*_total``. Raises ``ValueError`` on a decrease."""

    kind: Literal["counter", "gauge"] = "counter"
    __slots__ = ()

    def inc(self, amount: float = 1) -> None:
        """Add ``amount`` (>= 0)."""
        if amount < 0:
            raise ValueError("a counter cannot go down")
        self._unlabelled().value += amount


class Gauge(_Metric):
    """A value that goes up and down, or is read from a function at scrape time."""

    kind: Literal["counter", "gauge"] = "gauge"
    __slots__ = ()

    def dec(self, amount: float = 1) -> None:
        """Subtract ``amount``."""
        self._unlabelled().value -= amount

    def set(self, value: float) -> None:
        """Set the value."""
        self._unlabelled().value = value

    def set_function(self, function: Callable[[], float]) -> None:
        """Read the value from ``function()`` at every scrape (unlabelled gauges only)."""
        self._unlabelled()
        self._function = function


Collector = Callable[[], Iterable[tuple[str, str, str, Iterable[Sample]]]]
"""Called at scrape time; yields (name, kind, help, samples) families."""


class MetricsRegistry:
    """A set of named metrics and collectors that renders the Prometheus text format."""

    __slots__ = ("_metrics", "_collectors")

    def __init__(self) -> None:
        self._metrics: dict[str, _Metric] = {}
        self._collectors: list[Collector] = []

    def _get_or_create(
        self, cls: type[_Metric], name: str, help: str, labelnames: Sequence[str]
    ) -> Any:
        existing = self._metrics.get(name)
        if existing is not None:
            if type(existing) is not cls or existing.labelnames != tuple(labelnames):
                raise ValueError(f"metric {name!r} is already registered with another shape")
            return existing
        metric = self._metrics[name] = cls(name, help, labelnames)
        return metric

    def counter(self, name: str, help: str, labelnames: Sequence[str] = ()) -> Counter:
        """Get or create a counter; raises ``ValueError`` if ``name`` has another shape."""
        metric: Counter = self._get_or_create(Counter, name, help, labelnames)
        return metric

    def gauge(self, name: str, help: str, labelnames: Sequence[str] = ()) -> Gauge:
        """Get or create a gauge; raises ``ValueError`` if ``name`` has another shape."""
        metric: Gauge = self._get_or_create(Gauge, name, help, labelnames)
        return metric

    def add_collector(self, collector: Collector) -> None:
        """Add a function that yields metric families at scrape time."""
        self._collectors.append(collector)

    def get(self, name: str) -> _Metric | None:
        """The metric registered as ``name``, or None."""
        return self._metrics.get(name)

    def sample_value(self, name: str, **labels: str) -> float | None:
        """Value of one sample by name and labels (handy in tests), or None if absent."""
        wanted = tuple(sorted(labels.items()))
        for family in self._families():
            for sample_name, sample_labels, value in family[3]:
                if sample_name == name and tuple(sorted(sample_labels)) == wanted:
                    return value
        return None

    def _families(self) -> Iterator[tuple[str, str, str, Iterable[Sample]]]:
        for metric in list(self._metrics.values()):
            yield metric.name, metric.kind, metric.help, list(metric.samples())
        for collector in list(self._collectors):
            yield from collector()

    def expose(self) -> str:
        """Render every metric in the Prometheus text exposition format 0.0.4."""
        lines: list[str] = []
        for name, kind, help, samples in self._families():
            lines.append(f"# HELP {name} {_escape_help(help)}")
            lines.append(f"# TYPE {name} {kind}")
            for sample_name, labels, value in samples:
                if labels:
                    body = ",".join(f'{key}="{_escape_label(val)}"' for key, val in labels)
                    lines.append(f"{sample_name}{{{body}}} {_format_value(value)}")
                else:
                    lines.append(f"{sample_name} {_format_value(value)}")
        return "\n".join(lines) + "\n"


def _resident_memory_bytes() -> float:
    # /proc is exact and cheap on Linux; elsewhere fall back to the peak RSS.
    try:
        with open("/proc/self/statm", "rb") as statm:
            return float(int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE"))
    except (OSError, ValueError, IndexError):
        import resource

        return float(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)


class TetherMetrics:
    """The standard tether metrics, registered on ``registry`` (all prefixed ``tether_``)."""

    __slots__ = (
        "registry",
        "connections_open",
        "connections_total",
        "connections_rejected",
        "messages_received",
        "messages_sent",
        "bytes_received",
        "bytes_sent",
        "disconnects",
        "limit_violations",
        "heartbeat_timeouts",
        "shutdown_closes",
        "drops",
        "slow_consumer_disconnects",
        "broker_state",
        "broker_reconnects",
        "recoveries",
        "resident_memory",
    )

    def __init__(self, registry: MetricsRegistry) -> None:
        self.registry = registry
        c, g = registry.counter, registry.gauge
        self.connections_open = g("tether_connections_open", "WebSocket connections open now.")
        self.connections_total = c("tether_connections_total", "WebSocket connections accepted.")
        self.connections_rejected = c(
            "tether_connections_rejected_total", "WebSocket handshakes refused.", ("reason",)
        )
        self.messages_received = c("tether_messages_received_total", "Messages from clients.")
        self.messages_sent = c("tether_messages_sent_total", "Messages to clients.")
        self.bytes_received = c("tether_bytes_received_total", "Payload bytes from clients.")
        self.bytes_sent = c("tether_bytes_sent_total", "Payload bytes to clients.")
        self.disconnects = c(
            "tether_disconnects_total", "Ended WebSocket connections by close code.", ("code",)
        )
        self.limit_violations = c(
            "tether_limit_violations_total", "Connections that crossed a limit.", ("limit",)
        )
        self.heartbeat_timeouts = c(
            "tether_heartbeat_timeouts_total", "Connections closed for a missing pong."
        )
        self.shutdown_closes = c(
            "tether_shutdown_closes_total", "Connections closed by a graceful shutdown."
        )
        self.drops = c("tether_drops_total", "Messages dropped, by reason.", ("reason",))
        self.slow_consumer_disconnects = c(
            "tether_slow_consumer_disconnects_total", "Connections closed as slow consumers."
        )
        self.broker_state = g(
            "tether_broker_state", "1 for the broker's current state, else 0.", ("state",)
        )
        self.broker_reconnects = c("tether_broker_reconnects_total", "Broker reconnections.")
        self.recoveries = c(
            "tether_recoveries_total", "Subscription recoveries by outcome.", ("outcome",)
        )
        self.resident_memory = g(
            "tether_process_resident_memory_bytes", "Resident memory of this process."
        )
        self.resident_memory.set_function(_resident_memory_bytes)

    def set_broker_state(self, state: str) -> None:
        """Mark ``state`` as the broker's current state (1) and every other known one 0."""
        for known in ("connected", "degraded", "reconnecting", "resubscribed", "disconnected"):
            self.broker_state.labels(state=known).set(0)
        self.broker_state.labels(state=state).set(1)


REGISTRY = MetricsRegistry()
"""The process-wide registry :func:`default_metrics` and :data:`metrics_endpoint` use."""

_DEFAULT: list[TetherMetrics] = []


def default_metrics() -> TetherMetrics:
    """The standard metrics on :data:`REGISTRY` (created on first call)."""
    if not _DEFAULT:
        _DEFAULT.append(TetherMetrics(REGISTRY))
    return _DEFAULT[0]


class _CountedConnection:
    """Counts one WebSocket's traffic; wraps its receive and send."""

    __slots__ = ("_receive", "_send", "metrics", "accepted", "code")

    def __init__(self, receive: Receive, send: Send, metrics: TetherMetrics) -> None:
        self._receive = receive
        self._send = send
        self.metrics = metrics
        self.accepted = False
        self.code: int | None = None

    async def receive(self) -> Message:
        message = await self._receive()
        kind = message["type"]
        if kind == "websocket.receive":
            self.metrics.messages_received.inc()
            self.metrics.bytes_received.inc(_payload_size(message))
        elif kind == "websocket.disconnect" and self.code is None:
            self.code = int(message.get("code", 1005))
        return message

    async def send(self, message: Message) -> None:
        kind = message["type"]
        if kind == "websocket.send":
            await self._send(message)
            self.metrics.messages_sent.inc()
            self.metrics.bytes_sent.inc(_payload_size(message))
            return
        if kind == "websocket.accept":
            await self._send(message)
            self.accepted = True
            self.metrics.connections_open.inc()
            self.metrics.connections_total.inc()
            return
        if kind == "websocket.close" and self.code is None:
            self.code = int(message.get("code", 1000))
        await self._send(message)


def _payload_size(message: Message) -> int:
    data = message.get("bytes")
    if data is not None:
        return len(data)
    text = message.get("text") or ""
    return len(text) if text.isascii() else len(text.encode("utf-8"))


class MetricsMiddleware:
    """Pure ASGI middleware counting WebSocket connections, messages and payload bytes."""

    __slots__ = ("app", "metrics")

    def __init__(self, app: ASGIApp, metrics: TetherMetrics | None = None) -> None:
        self.app = app
        self.metrics = metrics if metrics is not None else default_metrics()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run ``app``, counting the traffic of WebSocket scopes."""
        if scope["type"] != "websocket":
            await self.app(scope, receive, send)
            return
        conn = _CountedConnection(receive, send, self.metrics)
        try:
            await self.app(scope, conn.receive, conn.send)
        except Exception:
            # The error middleware, outside this one, closes an accepted socket with 1011; it
            # was counted as 1006 (no close seen here). A client's disconnect set the code first.
            if conn.code is None:
                conn.code = 1011
            raise
        finally:
            if conn.accepted:
                self.metrics.connections_open.dec()
                code = conn.code if conn.code is not None else 1006
                self.metrics.disconnects.labels(code=str(code)).inc()


class MetricsEndpoint:
    """ASGI app answering ``GET`` with the registry in the Prometheus text format."""

    __slots__ = ("registry",)

    def __init__(self, registry: MetricsRegistry | None = None) -> None:
        self.registry = registry if registry is not None else REGISTRY

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one scrape; 405 for methods other than GET/HEAD, close 1008 for WebSockets."""
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008, "reason": "not a WebSocket"})
            return
        if scope["type"] != "http":
            return
        method = scope.get("method", "GET")
        if method not in ("GET", "HEAD"):
            await _respond(send, 405, b"method not allowed\n", "text/plain; charset=utf-8")
            return
        body = self.registry.expose().encode("utf-8")
        await _respond(send, 200, body if method == "GET" else b"", CONTENT_TYPE)


async def _respond(send: Send, status: int, body: bytes, content_type: str) -> None:
    headers = [
        (b"content-type", content_type.encode("latin-1")),
        (b"content-length", str(len(body)).encode("ascii")),
    ]
    if status == 405:
        headers.append((b"allow", b"GET, HEAD"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


metrics_endpoint = MetricsEndpoint()
"""``/metrics`` ASGI app over :data:`REGISTRY`."""

_CHANNEL_GAUGES = frozenset({"connections", "subscriptions", "channels"})
_CHANNEL_LABELLED = {
    "dropped_oldest": ("tether_channel_drops_total", "reason", "oldest"),
    "dropped_newest": ("tether_channel_drops_total", "reason", "newest"),
    "recovered": ("tether_channel_recoveries_total", "outcome", "recovered"),
    "not_recovered": ("tether_channel_recoveries_total", "outcome", "not_recovered"),
}


def register_channels(
    registry: MetricsRegistry, channels: Any, prefix: str = "tether_channel_"
) -> None:
    """Expose ``channels.metrics.snapshot()`` (a ``tether.channels`` hub) at every scrape.

    Gauges ``connections``/``subscriptions``/``channels`` stay gauges; drops and recoveries become
    labelled families; every other key becomes a ``{prefix}{key}_total`` counter. The broker
    state from ``channels.health()["broker"]["state"]`` becomes ``tether_channel_broker_state{state}``.
    """

    def collect() -> Iterator[tuple[str, str, str, Iterable[Sample]]]:
        snapshot: dict[str, int] = dict(channels.metrics.snapshot())
        labelled: dict[str, list[Sample]] = {}
        for key, value in sorted(snapshot.items()):
            if key in _CHANNEL_LABELLED:
                name, label, label_value = _CHANNEL_LABELLED[key]
                labelled.setdefault(name, []).append((name, ((label, label_value),), value))
            elif key in _CHANNEL_GAUGES:
                yield prefix + key, "gauge", f"Channels: {key} now.", [(prefix + key, (), value)]
            else:
                name = prefix + key + "_total"
                yield name, "counter", f"Channels: {key}.", [(name, (), value)]
        for name, samples in labelled.items():
            yield name, "counter", "Channels: by outcome.", samples
        yield from _broker_state_family(channels, prefix)

    registry.add_collector(collect)


def _broker_state_family(
    channels: Any, prefix: str
) -> Iterator[tuple[str, str, str, Iterable[Sample]]]:
    health = getattr(channels, "health", None)
    if health is None:
        return
    report = health()
    broker = report.get("broker")
    state = broker.get("state") if isinstance(broker, dict) else report.get("state")
    if state is None:
        return
    name = prefix + "broker_state"
    yield name, "gauge", "1 for the broker's current state.", [(name, (("state", str(state)),), 1)]
