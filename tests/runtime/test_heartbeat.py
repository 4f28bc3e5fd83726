"""Unit tests for tether.heartbeat: pings to silent clients, pongs consumed, dead peers closed."""

from __future__ import annotations

import asyncio
import json

import pytest

from tether.heartbeat import PING_TEXT, HeartbeatMiddleware, is_pong
from tether.metrics import MetricsRegistry, TetherMetrics
from tether.types import Message, Receive, Scope, Send


async def echo(scope: Scope, receive: Receive, send: Send) -> None:
    await receive()
    await send({"type": "websocket.accept"})
    while (message := await receive())["type"] == "websocket.receive":
        await send({"type": "websocket.send", "text": message["text"]})


def test_is_pong() -> None:
    assert is_pong('{"type":"pong"}')
    assert is_pong('{ "type" : "pong", "id": 3 }')
    assert not is_pong('{"type":"ping"}')
    assert not is_pong("pong")
    assert not is_pong('{"type":"pong"' + " " * 100 + "}")
    assert not is_pong(None)
    assert not is_pong('["pong"]')
    assert is_pong('{"t":"pong","type":"hb"}', pong_type="hb")


def test_rejects_bad_settings() -> None:
    with pytest.raises(ValueError):
        HeartbeatMiddleware(echo, interval=0)


async def test_silent_client_gets_ping_then_close() -> None:
    inbox: asyncio.Queue[Message] = asyncio.Queue()
    sent: asyncio.Queue[Message] = asyncio.Queue()
    inbox.put_nowait({"type": "websocket.connect"})
    metrics = TetherMetrics(MetricsRegistry())
    app = HeartbeatMiddleware(echo, interval=0.05, timeout=0.05, metrics=metrics)
    task = asyncio.create_task(app({"type": "websocket"}, inbox.get, sent.put))
    assert (await sent.get())["type"] == "websocket.accept"
    assert await asyncio.wait_for(sent.get(), 1) == {"type": "websocket.send", "text": PING_TEXT}
    assert await asyncio.wait_for(sent.get(), 1) == {
        "type": "websocket.close",
        "code": 1011,
        "reason": "heartbeat timeout",
    }
    await asyncio.wait_for(task, 1)  # the app's blocked receive was woken
    assert metrics.heartbeat_timeouts.value == 1


async def test_traffic_postpones_pings_and_pongs_are_consumed() -> None:
    inbox: asyncio.Queue[Message] = asyncio.Queue()
    sent: asyncio.Queue[Message] = asyncio.Queue()
    inbox.put_nowait({"type": "websocket.connect"})
    # The interval is 7x the gap between messages, so a loaded machine cannot sneak a ping in.
    app = HeartbeatMiddleware(echo, interval=0.3, timeout=0.2)
    task = asyncio.create_task(app({"type": "websocket"}, inbox.get, sent.put))
    await sent.get()
    for n in range(8):  # chatting faster than the interval (0.32 s in all): no ping at all
        await asyncio.sleep(0.04)
        inbox.put_nowait({"type": "websocket.receive", "text": f"m{n}"})
        assert (await asyncio.wait_for(sent.get(), 1))["text"] == f"m{n}"
    ping = await asyncio.wait_for(sent.get(), 2)
    assert json.loads(ping["text"]) == {"type": "ping"}
    inbox.put_nowait({"type": "websocket.receive", "text": '{"type":"pong"}'})
    assert json.loads((await asyncio.wait_for(sent.get(), 2))["text"]) == {"type": "ping"}
    inbox.put_nowait({"type": "websocket.disconnect", "code": 1000})
    await asyncio.wait_for(task, 1)
    assert sent.empty()  # the pong was not echoed
