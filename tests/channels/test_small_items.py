"""Issue 21.10, the smaller items: unsubscribe answers, publish replies, the 1011 count."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import websockets
from hostile import Client, make_hub, serve_app
from websockets.exceptions import ConnectionClosed

from servers import uvicorn_thread
from tether import Tether, WebSocket
from tether.channels import ChannelOptions
from tether.metrics import MetricsRegistry, TetherMetrics

pytestmark = [pytest.mark.integration, pytest.mark.timeout(30)]


def _write_only(conn: Any, channel: str, action: str) -> bool:
    return action == "publish"  # a drop box: clients may write, not read


async def test_unsubscribe_and_write_only_publish() -> None:
    options = ChannelOptions(history_size=10, client_publish=True, authorize=_write_only)
    hub = make_hub("memory", namespaces={"chat": ChannelOptions(), "box": options})
    with serve_app(hub) as url:
        client = await Client.connect(url)
        answer = await client.request({"type": "unsubscribe", "channel": "chat:never"}, 1)
        assert answer["type"] == "error" and answer["error"]["code"] == "not_subscribed"
        await client.subscribe("chat:x")
        answer = await client.request({"type": "unsubscribe", "channel": "chat:x"}, 2)
        assert answer == {"type": "reply", "id": 2, "result": {}}
        # Publishing is allowed; the channel's position (how busy it is) is not shown.
        answer = await client.request({"type": "publish", "channel": "box:in", "data": 1}, 3)
        assert answer == {"type": "reply", "id": 3, "result": {}}
        await client.close()


async def test_a_server_error_close_is_counted_as_1011() -> None:
    metrics = TetherMetrics(MetricsRegistry())
    app = Tether(metrics=metrics)

    @app.websocket("/ws")
    async def fails(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.receive_text()
        raise RuntimeError("a bug")

    with uvicorn_thread(app) as base:
        async with websockets.connect(base.replace("http", "ws") + "/ws") as ws:
            await ws.send("go")
            with pytest.raises(ConnectionClosed):
                await ws.recv()
            assert ws.close_code == 1011
        async with asyncio.timeout(5):
            while metrics.connections_open.value != 0:
                await asyncio.sleep(0.01)
    registry = metrics.registry
    assert registry.sample_value("tether_disconnects_total", code="1011") == 1
    assert registry.sample_value("tether_disconnects_total", code="1006") in (None, 0)
