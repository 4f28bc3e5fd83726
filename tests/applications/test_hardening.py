"""Tether's production options (limits, heartbeat, metrics, graceful shutdown), in process."""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

import pytest

from tether import Tether, WebSocket, WebSocketDisconnect
from tether.exceptions import ConfigurationError
from tether.heartbeat import Heartbeat, HeartbeatMiddleware
from tether.limits import LimitsMiddleware, WebSocketLimits, limits
from tether.metrics import MetricsMiddleware, MetricsRegistry, TetherMetrics
from tether.middleware.errors import ServerErrorMiddleware
from tether.shutdown import GracefulShutdown, ShutdownMiddleware
from tether.testclient import AsyncTestClient, TestClient, WebSocketDenialResponse


def private_metrics() -> TetherMetrics:
    return TetherMetrics(MetricsRegistry())


def echo_app(**options: object) -> Tether:
    app = Tether(**options)  # type: ignore[arg-type]

    @app.websocket("/ws")
    async def echo(websocket: WebSocket) -> None:
        await websocket.accept()
        with contextlib.suppress(WebSocketDisconnect):
            while True:
                await websocket.send_text(await websocket.receive_text())

    return app


def stack_types(app: Tether) -> list[type]:
    layers: list[type] = []
    layer: Any = app.build_middleware_stack()
    while layer is not app.router:
        layers.append(type(layer))
        layer = layer.app
    return layers


def test_stack_order_and_only_configured_options() -> None:
    full = echo_app(
        limits=WebSocketLimits(max_message_size=10),
        heartbeat=5,
        metrics=private_metrics(),
    )
    assert stack_types(full)[:5] == [
        ServerErrorMiddleware,
        ShutdownMiddleware,
        MetricsMiddleware,
        HeartbeatMiddleware,
        LimitsMiddleware,
    ]
    assert LimitsMiddleware in stack_types(echo_app(graceful_shutdown=False))  # on by default
    bare = stack_types(echo_app(graceful_shutdown=False, limits=WebSocketLimits.none()))
    assert not {ShutdownMiddleware, MetricsMiddleware, HeartbeatMiddleware, LimitsMiddleware} & set(
        bare
    )
    assert stack_types(echo_app())[1] is ShutdownMiddleware  # on by default


def test_option_forms() -> None:
    app = echo_app(heartbeat=2.5, graceful_shutdown=GracefulShutdown(code=1001, reason="bye"))
    assert app.heartbeat == Heartbeat(interval=2.5, timeout=10.0)
    assert app.graceful_shutdown is not None and app.graceful_shutdown.code == 1001
    assert app.metrics is None
    with pytest.raises(ValueError):
        Tether(heartbeat=0)
    with pytest.raises(TypeError):
        Tether(heartbeat=True)
    with pytest.raises(ValueError):
        GracefulShutdown(code=999)
    with pytest.raises(ConfigurationError):
        Tether().attach_channels(object())


def test_app_limits_close_oversized_message_1009() -> None:
    metrics = private_metrics()
    app = echo_app(limits=WebSocketLimits(max_message_size=10), metrics=metrics)
    with TestClient(app) as client, client.websocket_connect("/ws") as ws:
        ws.send_text("short")
        assert ws.receive_text() == "short"
        ws.send_text("x" * 11)
        assert ws.receive() == {
            "type": "websocket.close",
            "code": 1009,
            "reason": "message too big",
        }
    assert (
        metrics.registry.sample_value("tether_limit_violations_total", limit="max_message_size")
        == 1
    )


def test_per_route_limits_decorator_and_option() -> None:
    from docs.examples.limits_routes import app

    with TestClient(app) as client:
        with client.websocket_connect("/upload") as ws:
            ws.send_bytes(b"x" * 100_000)  # above the app's 16 KiB
            assert ws.receive_text() == "100000"
        with client.websocket_connect("/avatar") as ws:
            ws.send_bytes(b"x" * 100_000)
            assert ws.receive_text() == "100000"
        with client.websocket_connect("/avatar") as ws:
            ws.send_bytes(b"x" * (256 * 1024 + 1))
            assert ws.receive()["code"] == 1009
        with client.websocket_connect("/chat") as ws:
            ws.send_bytes(b"x" * 100_000)
            assert ws.receive()["code"] == 1009


def test_route_limits_without_app_limits_and_through_include_router() -> None:
    from tether import Router

    router = Router(prefix="/r")

    @router.websocket("/strict", limits=WebSocketLimits(max_message_size=4))
    async def strict(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text(await websocket.receive_text())

    @router.websocket_route("/plain")
    @limits(max_message_size=4)
    async def plain(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text(await websocket.receive_text())

    app = Tether()
    app.include_router(router)
    with TestClient(app) as client:
        for path in ("/r/strict", "/r/plain"):
            with client.websocket_connect(path) as ws:
                ws.send_text("12345")
                assert ws.receive()["code"] == 1009


def test_metrics_route_after_traffic() -> None:
    metrics = private_metrics()
    app = echo_app(metrics=metrics)
    with TestClient(app) as client:
        with client.websocket_connect("/ws") as ws:
            ws.send_text("abc")
            assert ws.receive_text() == "abc"
            page = client.get("/metrics")
            assert "tether_connections_open 1\n" in page.text
        page = client.get("/metrics")
        assert page.status_code == 200
        assert page.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
        assert "tether_connections_total 1\n" in page.text
        assert "tether_messages_received_total 1\n" in page.text
        assert "tether_bytes_sent_total 3\n" in page.text
        assert "tether_connections_open 0\n" in page.text
        assert client.post("/metrics").status_code == 405


def test_attach_channels_exposes_the_hub() -> None:
    class Hub:
        class metrics:  # noqa: N801 - the shape of a channels hub
            @staticmethod
            def snapshot() -> dict[str, int]:
                return {"connections": 3, "published": 7}

    app = echo_app(metrics=private_metrics())
    app.attach_channels(Hub())
    with TestClient(app) as client:
        text = client.get("/metrics").text
    assert "tether_channel_connections 3\n" in text
    assert "tether_channel_published_total 7\n" in text


async def test_heartbeat_pings_a_silent_client_and_closes_it() -> None:
    metrics = private_metrics()
    app = echo_app(heartbeat=Heartbeat(interval=0.05, timeout=0.05), metrics=metrics)
    async with AsyncTestClient(app) as client, client.websocket_connect("/ws") as ws:
        assert json.loads(await ws.receive_text()) == {"type": "ping"}
        await ws.send_text('{"type":"pong"}')  # consumed: never echoed
        assert json.loads(await ws.receive_text()) == {"type": "ping"}
        assert await ws.receive() == {
            "type": "websocket.close",
            "code": 1011,
            "reason": "heartbeat timeout",
        }
    assert metrics.heartbeat_timeouts.value == 1


async def test_drain_counts_and_refuses_new_handshakes() -> None:
    metrics = private_metrics()
    app = echo_app(metrics=metrics)
    async with AsyncTestClient(app) as client:
        async with client.websocket_connect("/ws") as ws:
            drain = asyncio.create_task(app.drain())
            assert (await ws.receive())["code"] == 1012
        assert await drain == 1
        with pytest.raises(WebSocketDenialResponse) as refused:
            async with client.websocket_connect("/ws"):
                pass
        assert refused.value.status_code == 503
    assert metrics.shutdown_closes.value == 1
    assert (
        metrics.registry.sample_value("tether_connections_rejected_total", reason="shutting_down")
        == 1
    )
