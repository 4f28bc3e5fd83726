"""Unit tests for tether.metrics: registry, exposition format, middleware, endpoint."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tether.metrics import (
    CONTENT_TYPE,
    MetricsEndpoint,
    MetricsMiddleware,
    MetricsRegistry,
    TetherMetrics,
    default_metrics,
    register_channels,
)
from tether.types import Message, Receive, Scope, Send


def test_counter_and_gauge_exposition() -> None:
    registry = MetricsRegistry()
    sent = registry.counter("app_sent_total", "Frames\nsent \\ here.", ("kind",))
    sent.labels(kind="text").inc()
    sent.labels('bin"ary\n').inc(2)
    depth = registry.gauge("app_depth", "Queue depth.")
    depth.set(1.5)
    depth.dec(0.5)
    assert registry.expose() == (
        "# HELP app_sent_total Frames\\nsent \\\\ here.\n"
        "# TYPE app_sent_total counter\n"
        'app_sent_total{kind="text"} 1\n'
        'app_sent_total{kind="bin\\"ary\\n"} 2\n'
        "# HELP app_depth Queue depth.\n"
        "# TYPE app_depth gauge\n"
        "app_depth 1\n"
    )


def test_special_values_and_functions() -> None:
    registry = MetricsRegistry()
    gauge = registry.gauge("g", "x")
    gauge.set(float("inf"))
    assert "g +Inf" in registry.expose()
    gauge.set(0.25)
    assert "g 0.25" in registry.expose()
    gauge.set(float("nan"))
    assert "g NaN" in registry.expose()
    gauge.set_function(lambda: 42)
    assert registry.sample_value("g") == 42


def test_misuse_is_refused() -> None:
    registry = MetricsRegistry()
    counter = registry.counter("c_total", "x", ("a",))
    with pytest.raises(ValueError, match="labels"):
        counter.inc()
    with pytest.raises(ValueError, match="labels"):
        counter.labels(b="1")
    with pytest.raises(ValueError, match="labels"):
        counter.labels("1", "2")
    with pytest.raises(ValueError, match="another shape"):
        registry.gauge("c_total", "x")
    assert registry.counter("c_total", "x", ("a",)) is counter
    with pytest.raises(ValueError, match="go down"):
        registry.counter("d_total", "x").inc(-1)
    with pytest.raises(ValueError, match="metric name"):
        registry.counter("1bad", "x")
    with pytest.raises(ValueError, match="label name"):
        registry.counter("ok", "x", ("__reserved",))


def test_standard_metrics_exist() -> None:
    metrics = default_metrics()
    assert metrics is default_metrics()
    text = metrics.registry.expose()
    for name in (
        "tether_connections_open",
        "tether_connections_total",
        "tether_messages_received_total",
        "tether_bytes_sent_total",
        "tether_broker_reconnects_total",
        "tether_process_resident_memory_bytes",
    ):
        assert f"# TYPE {name} " in text
    metrics.set_broker_state("reconnecting")
    assert metrics.registry.sample_value("tether_broker_state", state="reconnecting") == 1
    assert metrics.registry.sample_value("tether_broker_state", state="connected") == 0
    assert metrics.resident_memory.value > 0


class FakeChannels:
    class metrics:  # noqa: N801 - mimics the hub attribute
        @staticmethod
        def snapshot() -> dict[str, int]:
            return {
                "connections": 3,
                "published": 10,
                "dropped_oldest": 2,
                "recovered": 5,
                "not_recovered": 1,
                "slow_disconnects": 4,
            }

    @staticmethod
    def health() -> dict[str, Any]:
        return {"ok": True, "broker": {"state": "connected", "ok": True}}


def test_register_channels_reads_snapshot_at_scrape() -> None:
    registry = MetricsRegistry()
    register_channels(registry, FakeChannels())
    text = registry.expose()
    assert "# TYPE tether_channel_connections gauge\ntether_channel_connections 3\n" in text
    assert "tether_channel_published_total 10\n" in text
    assert 'tether_channel_drops_total{reason="oldest"} 2\n' in text
    assert 'tether_channel_recoveries_total{outcome="not_recovered"} 1\n' in text
    assert "tether_channel_slow_disconnects_total 4\n" in text
    assert 'tether_channel_broker_state{state="connected"} 1\n' in text


async def test_middleware_counts_a_connection() -> None:
    metrics = TetherMetrics(MetricsRegistry())
    inbox: list[Message] = [
        {"type": "websocket.connect"},
        {"type": "websocket.receive", "text": "héllo"},
        {"type": "websocket.receive", "bytes": b"1234"},
        {"type": "websocket.disconnect", "code": 1001},
    ]
    sent: list[Message] = []

    async def receive() -> Message:
        return inbox.pop(0)

    async def send(message: Message) -> None:
        sent.append(message)

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "websocket.accept"})
        assert metrics.connections_open.value == 1
        while (await receive())["type"] == "websocket.receive":
            await send({"type": "websocket.send", "text": "ok"})

    await MetricsMiddleware(app, metrics)({"type": "websocket"}, receive, send)
    assert metrics.connections_open.value == 0
    assert metrics.connections_total.value == 1
    assert metrics.messages_received.value == 2
    assert metrics.bytes_received.value == 6 + 4
    assert metrics.messages_sent.value == 2
    assert metrics.bytes_sent.value == 4
    assert metrics.registry.sample_value("tether_disconnects_total", code="1001") == 1


async def call_http(app: Any, method: str) -> tuple[int, dict[bytes, bytes], bytes]:
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b""}

    async def send(message: Message) -> None:
        sent.append(message)

    await app({"type": "http", "method": method, "path": "/metrics"}, receive, send)
    return sent[0]["status"], dict(sent[0]["headers"]), sent[1]["body"]


async def test_endpoint_serves_text_format() -> None:
    registry = MetricsRegistry()
    registry.counter("x_total", "x").inc()
    status, headers, body = await call_http(MetricsEndpoint(registry), "GET")
    assert status == 200 and headers[b"content-type"] == CONTENT_TYPE.encode()
    assert body == registry.expose().encode()
    assert (await call_http(MetricsEndpoint(registry), "HEAD"))[2] == b""
    status, headers, _ = await call_http(MetricsEndpoint(registry), "POST")
    assert status == 405 and headers[b"allow"] == b"GET, HEAD"


async def test_endpoint_refuses_websocket() -> None:
    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    await MetricsEndpoint()({"type": "websocket"}, asyncio.Queue().get, send)
    assert sent[0]["code"] == 1008
