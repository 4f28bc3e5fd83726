"""Unit tests for tether.limits, driving the middleware with an in-process fake server."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from tether.limits import (
    ConnectionGuard,
    GuardClosedError,
    LimitsMiddleware,
    WebSocketLimits,
    apply_route_limits,
    limits,
    message_size,
    route_limits,
)
from tether.metrics import MetricsRegistry, TetherMetrics
from tether.types import ASGIApp, Message, Receive, Scope, Send


class FakeServer:
    """One WebSocket as an ASGI server would present it; records what the app sends."""

    def __init__(self, *, denial: bool = True, client: str = "10.0.0.1") -> None:
        self.inbox: asyncio.Queue[Message] = asyncio.Queue()
        self.outbox: asyncio.Queue[Message] = asyncio.Queue()
        self.scope: dict[str, Any] = {
            "type": "websocket",
            "path": "/ws",
            "query_string": b"",
            "headers": [],
            "client": (client, 1234),
            "extensions": {"websocket.http.response": {}} if denial else {},
        }
        self.inbox.put_nowait({"type": "websocket.connect"})

    async def receive(self) -> Message:
        return await self.inbox.get()

    async def send(self, message: Message) -> None:
        await self.outbox.put(message)

    def client_sends(self, text: str) -> None:
        self.inbox.put_nowait({"type": "websocket.receive", "text": text})

    async def next_sent(self) -> Message:
        return await asyncio.wait_for(self.outbox.get(), 2)

    def run(self, app: ASGIApp) -> asyncio.Task[None]:
        return asyncio.get_running_loop().create_task(app(self.scope, self.receive, self.send))


async def echo(scope: Scope, receive: Receive, send: Send) -> None:
    await receive()
    await send({"type": "websocket.accept"})
    while (message := await receive())["type"] == "websocket.receive":
        await send({"type": "websocket.send", "text": message.get("text")})


def fresh_metrics() -> TetherMetrics:
    return TetherMetrics(MetricsRegistry())


async def test_message_size_measures_utf8() -> None:
    assert message_size({"text": "abc"}) == 3
    assert message_size({"text": "é"}) == 2
    assert message_size({"bytes": b"\x00" * 7}) == 7
    assert message_size({"type": "websocket.receive"}) == 0


def test_limits_validate_values() -> None:
    with pytest.raises(ValueError, match="max_message_size"):
        WebSocketLimits(max_message_size=-1)
    with pytest.raises(ValueError, match="messages_per_second"):
        WebSocketLimits(messages_per_second=0)
    with pytest.raises(ValueError, match="burst"):
        WebSocketLimits(burst=0)
    with pytest.raises(ValueError, match="rate_limit_action"):
        WebSocketLimits(rate_limit_action="shout")  # type: ignore[arg-type]
    assert WebSocketLimits.recommended(max_message_size=5).max_message_size == 5


def test_bucket_size_defaults_to_rate() -> None:
    assert WebSocketLimits(messages_per_second=20).bucket_size == 20
    assert WebSocketLimits(messages_per_second=0.5).bucket_size == 1
    assert WebSocketLimits(messages_per_second=5, burst=9).bucket_size == 9


async def test_oversized_closes_1009_and_app_sees_disconnect() -> None:
    server = FakeServer()
    got: list[Message] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "websocket.accept"})
        got.append(await receive())
        with pytest.raises(GuardClosedError):
            await send({"type": "websocket.send", "text": "late"})
        await send({"type": "websocket.close"})  # ignored after our close

    task = server.run(LimitsMiddleware(app, WebSocketLimits(max_message_size=4)))
    assert (await server.next_sent())["type"] == "websocket.accept"
    server.client_sends("12345")
    assert await server.next_sent() == {
        "type": "websocket.close",
        "code": 1009,
        "reason": "message too big",
    }
    await task
    assert got == [{"type": "websocket.disconnect", "code": 1009, "reason": "message too big"}]
    assert server.outbox.empty()


async def test_rate_error_frame_drops_message() -> None:
    server = FakeServer()
    metrics = fresh_metrics()
    limits_ = WebSocketLimits(messages_per_second=0.001, burst=1, rate_limit_action="error")
    task = server.run(LimitsMiddleware(echo, limits_, metrics=metrics))
    await server.next_sent()
    server.client_sends("a")
    server.client_sends("b")
    assert (await server.next_sent())["text"] == "a"
    frame = json.loads((await server.next_sent())["text"])
    assert frame["code"] == "rate_limited"
    server.inbox.put_nowait({"type": "websocket.disconnect", "code": 1000})
    await task
    assert (
        metrics.registry.sample_value("tether_limit_violations_total", limit="messages_per_second")
        == 1
    )


async def test_caps_fall_back_to_close_without_denial_extension() -> None:
    middleware = LimitsMiddleware(
        echo, WebSocketLimits(max_connections=1, max_connections_per_client=5)
    )
    first = FakeServer(denial=False)
    running = first.run(middleware)
    await first.next_sent()
    assert middleware.open_connections == 1
    second = FakeServer(denial=False)
    await second.run(middleware)
    assert await second.next_sent() == {
        "type": "websocket.close",
        "code": 1013,
        "reason": "server is at its connection limit",
    }
    first.inbox.put_nowait({"type": "websocket.disconnect", "code": 1000})
    await running
    assert middleware.open_connections == 0


async def test_per_client_cap_uses_client_key() -> None:
    limits_ = WebSocketLimits(max_connections_per_client=1, client_key=lambda s: "same-user")
    middleware = LimitsMiddleware(echo, limits_)
    first = FakeServer(client="1.1.1.1")
    running = first.run(middleware)
    await first.next_sent()
    second = FakeServer(client="2.2.2.2")
    await second.run(middleware)
    start = await second.next_sent()
    assert start["type"] == "websocket.http.response.start" and start["status"] == 429
    assert (b"retry-after", b"5") in start["headers"]
    first.inbox.put_nowait({"type": "websocket.disconnect", "code": 1000})
    await running


async def test_non_websocket_scopes_pass_through() -> None:
    seen: list[str] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(scope["type"])

    middleware = LimitsMiddleware(app, WebSocketLimits(max_connections=0))
    await middleware({"type": "http"}, FakeServer().receive, FakeServer().send)
    assert seen == ["http"]


async def test_first_message_timeout_wakes_a_blocked_receive() -> None:
    server = FakeServer()
    metrics = fresh_metrics()
    task = server.run(
        LimitsMiddleware(echo, WebSocketLimits(first_message_timeout=0.05), metrics=metrics)
    )
    await server.next_sent()
    closing = await server.next_sent()
    assert closing == {"type": "websocket.close", "code": 1008, "reason": "no message in time"}
    await asyncio.wait_for(task, 2)  # the pending receive returned a disconnect
    assert (
        metrics.registry.sample_value(
            "tether_limit_violations_total", limit="first_message_timeout"
        )
        == 1
    )


async def test_idle_timeout_after_first_message() -> None:
    server = FakeServer()
    limits_ = WebSocketLimits(first_message_timeout=5, idle_timeout=0.05)
    task = server.run(LimitsMiddleware(echo, limits_))
    await server.next_sent()
    server.client_sends("hi")
    assert (await server.next_sent())["text"] == "hi"
    assert (await server.next_sent())["code"] == 1001
    await asyncio.wait_for(task, 2)


def test_limits_decorator_records_overrides() -> None:
    @limits(max_message_size=9)
    async def endpoint() -> None: ...

    assert route_limits(endpoint) == {"max_message_size": 9}
    assert route_limits(lambda: None) is None
    with pytest.raises(TypeError):
        limits(no_such_field=1)
    assert apply_route_limits(echo, echo) is echo


async def test_route_limits_without_app_level_guard() -> None:
    @limits(max_message_size=2)
    async def endpoint(scope: Scope, receive: Receive, send: Send) -> None:
        await echo(scope, receive, send)

    server = FakeServer()
    task = server.run(apply_route_limits(endpoint, endpoint))
    await server.next_sent()
    server.client_sends("abc")
    assert (await server.next_sent())["code"] == 1009
    await task


async def test_guard_close_is_idempotent_and_survives_dead_send() -> None:
    async def broken_send(message: Message) -> None:
        raise OSError("peer gone")

    async def never() -> Message:
        await asyncio.sleep(3600)
        raise AssertionError

    guard = ConnectionGuard(never, broken_send)
    waiting = asyncio.create_task(guard.receive())
    await asyncio.sleep(0)
    await guard.close(1001, "bye")
    await guard.close(1011, "again")
    assert await asyncio.wait_for(waiting, 1) == {
        "type": "websocket.disconnect",
        "code": 1001,
        "reason": "bye",
    }


async def test_guard_does_not_swallow_foreign_cancellation() -> None:
    async def never() -> Message:
        await asyncio.sleep(3600)
        raise AssertionError

    async def send(message: Message) -> None:
        pass

    guard = ConnectionGuard(never, send)
    waiting = asyncio.create_task(guard.receive())
    await asyncio.sleep(0)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
