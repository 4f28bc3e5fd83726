"""Limits, liveness, shutdown and metrics under real uvicorn, seen by the `websockets` client.

The middlewares are tested alone (raw ASGI) and as the options of a Tether app; the SIGTERM test
runs the Tether deployment example in a uvicorn process.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from servers import uvicorn_process, uvicorn_thread
from tether import Tether, WebSocket, WebSocketDisconnect
from tether.heartbeat import Heartbeat, HeartbeatMiddleware
from tether.limits import LimitsMiddleware, WebSocketLimits, apply_route_limits, limits
from tether.logsafe import install_log_masking
from tether.metrics import MetricsEndpoint, MetricsMiddleware, MetricsRegistry, TetherMetrics
from tether.shutdown import GracefulShutdown, ShutdownMiddleware
from tether.types import ASGIApp, Receive, Scope, Send

pytestmark = pytest.mark.integration


async def echo(scope: Scope, receive: Receive, send: Send) -> None:
    """Raw ASGI echo endpoint."""
    if scope["type"] != "websocket":
        await send({"type": "http.response.start", "status": 404, "headers": []})
        await send({"type": "http.response.body", "body": b""})
        return
    await receive()
    await send({"type": "websocket.accept"})
    while True:
        message = await receive()
        if message["type"] == "websocket.disconnect":
            return
        await send(
            {"type": "websocket.send", "text": message.get("text"), "bytes": message.get("bytes")}
        )


@contextmanager
def serve(app: ASGIApp, **config: Any) -> Iterator[str]:
    with uvicorn_thread(app, **config) as base:
        yield base.replace("http://", "ws://")


async def closed_by_server(ws: ClientConnection, timeout: float = 5.0) -> tuple[int, str]:
    """Read until the server closes; return the close code and reason the client got."""
    with pytest.raises(ConnectionClosed) as info:
        async with asyncio.timeout(timeout):
            while True:
                await ws.recv()
    frame = info.value.rcvd
    assert frame is not None, "the server dropped the TCP connection without a close frame"
    return frame.code, frame.reason


async def handshake_status(url: str) -> int:
    with pytest.raises(InvalidStatus) as info:
        async with connect(url):
            pass
    return info.value.response.status_code


@asynccontextmanager
async def connected(url: str) -> AsyncIterator[ClientConnection]:
    async with connect(url, open_timeout=5) as ws:
        yield ws


# --- limits ---------------------------------------------------------------------------------


async def test_oversized_message_closes_1009() -> None:
    metrics = TetherMetrics(MetricsRegistry())
    app = LimitsMiddleware(echo, WebSocketLimits(max_message_size=10), metrics=metrics)
    with serve(app) as url:
        async with connected(url) as ws:
            await ws.send("short")
            assert await ws.recv() == "short"
            await ws.send("x" * 11)
            assert await closed_by_server(ws) == (1009, "message too big")
    assert (
        metrics.registry.sample_value("tether_limit_violations_total", limit="max_message_size")
        == 1
    )


async def test_utf8_size_counts_bytes_not_characters() -> None:
    app = LimitsMiddleware(echo, WebSocketLimits(max_message_size=10))
    with serve(app) as url:
        async with connected(url) as ws:
            await ws.send("é" * 5)  # 10 bytes: allowed
            assert await ws.recv() == "é" * 5
            await ws.send("é" * 6)  # 12 bytes
            assert (await closed_by_server(ws))[0] == 1009


async def test_rate_limit_close_1008() -> None:
    app = LimitsMiddleware(echo, WebSocketLimits(messages_per_second=1, burst=3))
    with serve(app) as url:
        async with connected(url) as ws:
            for n in range(3):
                await ws.send(str(n))
                assert await ws.recv() == str(n)
            await ws.send("one too many")
            assert await closed_by_server(ws) == (1013, "rate limit exceeded")


async def test_rate_limit_error_frame_keeps_connection() -> None:
    limits_ = WebSocketLimits(messages_per_second=0.5, burst=1, rate_limit_action="error")
    with serve(LimitsMiddleware(echo, limits_)) as url:
        async with connected(url) as ws:
            await ws.send("first")
            assert await ws.recv() == "first"
            await ws.send("dropped")
            frame = json.loads(await ws.recv())
            assert frame["type"] == "error" and frame["code"] == "rate_limited"
            await ws.ping()  # still open


async def test_connection_caps_deny_before_accept() -> None:
    app = LimitsMiddleware(echo, WebSocketLimits(max_connections=2, max_connections_per_client=1))
    with serve(app) as url:
        async with connected(url) as first:
            assert await handshake_status(url) == 429  # same client (127.0.0.1)
            await first.close()
        # The slot is released once the server-side handler has returned.
        async with asyncio.timeout(5):
            while True:
                try:
                    async with connected(url) as again:
                        await again.send("back")
                        assert await again.recv() == "back"
                        break
                except InvalidStatus:
                    await asyncio.sleep(0.02)


async def test_total_cap_is_503() -> None:
    app = LimitsMiddleware(echo, WebSocketLimits(max_connections=1))
    with serve(app) as url:
        async with connected(url):
            assert await handshake_status(url) == 503


async def test_caps_without_denial_extension_close_before_accept() -> None:
    # Servers without the denial extension turn a close before accept into HTTP 403.
    limited = LimitsMiddleware(echo, WebSocketLimits(max_connections=0))

    async def without_denial(scope: Scope, receive: Receive, send: Send) -> None:
        extensions = dict(scope.get("extensions") or {})
        extensions.pop("websocket.http.response", None)
        await limited({**scope, "extensions": extensions}, receive, send)

    with serve(without_denial) as url:
        assert await handshake_status(url) == 403


async def test_first_message_timeout_closes() -> None:
    app = LimitsMiddleware(echo, WebSocketLimits(first_message_timeout=0.2))
    with serve(app) as url:
        async with connected(url) as ws:
            assert await closed_by_server(ws) == (1008, "no message in time")
        async with connected(url) as ws:
            await ws.send("auth")
            assert await ws.recv() == "auth"
            await asyncio.sleep(0.4)  # after the first message, no further deadline
            await ws.send("still here")
            assert await ws.recv() == "still here"


async def test_idle_timeout_closes_1001() -> None:
    app = LimitsMiddleware(echo, WebSocketLimits(idle_timeout=0.3))
    with serve(app) as url:
        async with connected(url) as ws:
            for _ in range(3):  # activity keeps it open past the timeout
                await asyncio.sleep(0.15)
                await ws.send("tick")
                assert await ws.recv() == "tick"
            assert await closed_by_server(ws) == (1001, "idle timeout")


async def test_route_limits_override_app_limits() -> None:
    @limits(max_message_size=100)
    async def upload(scope: Scope, receive: Receive, send: Send) -> None:
        await echo(scope, receive, send)

    routed = apply_route_limits(upload, upload)

    async def router(scope: Scope, receive: Receive, send: Send) -> None:
        await (routed if scope.get("path") == "/upload" else echo)(scope, receive, send)

    app = LimitsMiddleware(router, WebSocketLimits(max_message_size=10))
    with serve(app) as url:
        async with connected(url + "/upload") as ws:
            await ws.send("y" * 50)
            assert await ws.recv() == "y" * 50
            await ws.send("y" * 101)
            assert (await closed_by_server(ws))[0] == 1009
        async with connected(url + "/other") as ws:
            await ws.send("y" * 50)
            assert (await closed_by_server(ws))[0] == 1009


# --- heartbeat ------------------------------------------------------------------------------


async def test_heartbeat_closes_silent_client_1011() -> None:
    metrics = TetherMetrics(MetricsRegistry())
    app = HeartbeatMiddleware(echo, interval=0.2, timeout=0.2, metrics=metrics)
    with serve(app) as url:
        async with connected(url) as ws:
            assert json.loads(await ws.recv()) == {"type": "ping"}
            assert await closed_by_server(ws) == (1011, "heartbeat timeout")
    assert metrics.heartbeat_timeouts.value == 1


async def test_heartbeat_pong_keeps_client_and_is_not_delivered() -> None:
    app = HeartbeatMiddleware(echo, interval=0.15, timeout=0.15)
    with serve(app) as url:
        async with connected(url) as ws:
            for _ in range(3):
                assert json.loads(await ws.recv()) == {"type": "ping"}
                await ws.send('{"type":"pong"}')
            await ws.send("data")
            assert await ws.recv() == "data"  # the pongs were never echoed


# --- shutdown -------------------------------------------------------------------------------


async def test_drain_closes_1012_and_refuses_new_handshakes() -> None:
    app = ShutdownMiddleware(echo, grace_period=1.0, close_wait=1.0, handle_signals=False)
    with serve(app) as url:
        async with connected(url) as a, connected(url) as b:
            drained = asyncio.create_task(app.drain())
            assert await closed_by_server(a) == (1012, "service restart")
            assert await closed_by_server(b) == (1012, "service restart")
            assert await drained == 2
            assert await handshake_status(url) == 503


async def test_sigterm_closes_clients_1012_with_our_reason() -> None:
    with uvicorn_process("docs.examples.deployment_app:app") as server:
        url = server.ws_url + "/ws"
        async with connected(url) as a, connected(url) as b:
            await a.send("hello")
            assert await a.recv() == "hello"
            stopping = asyncio.get_running_loop().run_in_executor(None, server.stop)
            # "service restart" comes from our drain; uvicorn's own close has no reason.
            assert await closed_by_server(a, 10) == (1012, "service restart")
            assert await closed_by_server(b, 10) == (1012, "service restart")
            await stopping
        # uvicorn re-raises the captured SIGTERM after its own shutdown: -15 is a clean exit.
        assert server.proc is not None and server.proc.returncode in (0, -15), server.log()
        assert "Traceback" not in server.log()


# --- metrics and logs -----------------------------------------------------------------------


async def test_metrics_endpoint_counts_traffic() -> None:
    registry = MetricsRegistry()
    metrics = TetherMetrics(registry)
    endpoint = MetricsEndpoint(registry)

    async def router(scope: Scope, receive: Receive, send: Send) -> None:
        await (endpoint if scope["type"] == "http" else echo)(scope, receive, send)

    with uvicorn_thread(MetricsMiddleware(router, metrics)) as base:
        async with connected(base.replace("http", "ws") + "/ws") as ws:
            await ws.send("abc")
            await ws.recv()
            async with httpx.AsyncClient() as http:
                page = await http.get(base + "/metrics")
            assert page.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
            assert "tether_connections_open 1\n" in page.text
            assert "tether_bytes_received_total 3\n" in page.text
        async with asyncio.timeout(5):  # the server sees the client's close in its own time
            while metrics.connections_open.value != 0:
                await asyncio.sleep(0.01)
    assert metrics.connections_open.value == 0
    assert registry.sample_value("tether_disconnects_total", code="1000") == 1


async def test_uvicorn_access_log_masks_tokens() -> None:
    # uvicorn's logging config stops propagation, so listen on its logger directly.
    masking = install_log_masking()
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]
    try:
        with serve(echo, log_level="info") as url:
            logging.getLogger("uvicorn.error").addHandler(handler)
            async with connected(url + "/ws?room=1&token=s3cret"):
                pass
    finally:
        logging.getLogger("uvicorn.error").removeHandler(handler)
        for name in ("uvicorn.access", "uvicorn.error", "uvicorn", "tether"):
            logging.getLogger(name).removeFilter(masking)
    lines = [record.getMessage() for record in records]
    assert any("/ws?room=1&token=***" in line for line in lines), lines
    assert not any("s3cret" in line for line in lines)


# --- the same options on a Tether app -------------------------------------------------------


def tether_app(metrics: TetherMetrics) -> Tether:
    app = Tether(
        limits=WebSocketLimits(max_message_size=10),
        heartbeat=Heartbeat(interval=0.2, timeout=0.2),
        metrics=metrics,
        graceful_shutdown=GracefulShutdown(grace_period=0.5, close_wait=1, handle_signals=False),
    )

    @app.websocket("/ws")
    async def ws_echo(websocket: WebSocket) -> None:
        await websocket.accept()
        with contextlib.suppress(WebSocketDisconnect):
            while True:
                await websocket.send_text(await websocket.receive_text())

    @app.websocket("/upload")
    @limits(max_message_size=100)
    async def upload(websocket: WebSocket) -> None:
        await ws_echo(websocket)

    return app


async def test_tether_limits_route_limits_and_metrics_under_uvicorn() -> None:
    metrics = TetherMetrics(MetricsRegistry())
    with uvicorn_thread(tether_app(metrics)) as base:
        url = base.replace("http://", "ws://")
        async with connected(url + "/ws") as ws:
            await ws.send("short")
            assert await ws.recv() == "short"
            await ws.send("x" * 11)
            assert await closed_by_server(ws) == (1009, "message too big")
        async with connected(url + "/upload") as ws:
            await ws.send("y" * 50)
            assert await ws.recv() == "y" * 50
            await ws.send("y" * 101)
            assert (await closed_by_server(ws))[0] == 1009
        async with httpx.AsyncClient() as http:
            page = await http.get(base + "/metrics")
    assert page.status_code == 200
    assert 'tether_limit_violations_total{limit="max_message_size"} 2\n' in page.text
    assert "tether_connections_total 2\n" in page.text
    assert 'tether_disconnects_total{code="1009"} 2\n' in page.text


async def test_tether_heartbeat_under_uvicorn() -> None:
    metrics = TetherMetrics(MetricsRegistry())
    with serve(tether_app(metrics)) as url:
        async with connected(url + "/ws") as ws:
            assert json.loads(await ws.recv()) == {"type": "ping"}
            await ws.send('{"type":"pong"}')
            assert json.loads(await ws.recv()) == {"type": "ping"}  # the pong was not echoed
            assert await closed_by_server(ws) == (1011, "heartbeat timeout")
    assert metrics.heartbeat_timeouts.value == 1


async def test_tether_drain_under_uvicorn() -> None:
    app = tether_app(TetherMetrics(MetricsRegistry()))
    with serve(app) as url:
        async with connected(url + "/ws") as a, connected(url + "/upload") as b:
            drained = asyncio.create_task(app.drain())
            assert await closed_by_server(a) == (1012, "service restart")
            assert await closed_by_server(b) == (1012, "service restart")
            assert await drained == 2
            assert len(app.connections) == 0  # the handlers returned within close_wait
            assert await handshake_status(url + "/ws") == 503
