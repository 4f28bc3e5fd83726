"""Connect/disconnect churn with Redis up: the pub/sub listener never reconnects, nothing leaks.

Short WebSocket connections (``TETHER_CHURN_CONNECTIONS``, default 1,500; 40 at a time) each
subscribe to one of 100 channels with presence; half of them end with a TCP reset instead of a
close handshake. Real parts: a private redis-server, uvicorn on loopback, the ``websockets``
client. Afterwards: zero listener reconnects, and no subscription in Redis, no presence entry,
no connection and no task left in the server.

The listener used to start one task per flush of (un)subscribe commands; a write that waited let
a later flush overtake an earlier one, so Redis could drop a channel the node still wanted. It
now has one sender per connection that writes commands in the order they were booked.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import struct
from typing import Any

import pytest
import redis as redis_sync
import websockets

from servers import RedisServer, uvicorn_thread
from tether import Tether
from tether.channels import ChannelOptions, Channels

pytestmark = [pytest.mark.integration, pytest.mark.redis, pytest.mark.timeout(300)]

CONNECTIONS = int(os.environ.get("TETHER_CHURN_CONNECTIONS", "1500"))
AT_ONCE = 40
CHANNELS = 100
PREFIX = "churn"


async def short_connection(url: str, n: int) -> None:
    async with asyncio.timeout(30):
        ws = await websockets.connect(url, compression=None)
        try:
            await ws.recv()  # connected
            await ws.send(
                json.dumps({"type": "subscribe", "channel": f"chat:c{n % CHANNELS}", "id": 1})
            )
            while json.loads(await ws.recv()).get("id") != 1:
                pass
        finally:
            if n % 2:  # a TCP reset: no close frame, no FIN
                sock = ws.transport.get_extra_info("socket")
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                ws.transport.abort()
            else:
                await ws.close()


async def churn(url: str) -> None:
    gate = asyncio.Semaphore(AT_ONCE)

    async def one(n: int) -> None:
        async with gate:
            await short_connection(url, n)

    await asyncio.gather(*(one(n) for n in range(CONNECTIONS)))


def task_count(hub: Channels) -> int:
    """Tasks alive in the server's event loop (asked from inside that loop)."""
    assert hub._heartbeat is not None
    loop = hub._heartbeat.get_loop()

    async def count() -> int:
        return len(asyncio.all_tasks()) - 1  # not this one

    return asyncio.run_coroutine_threadsafe(count(), loop).result(10)


async def eventually(check: Any, what: str, timeout: float = 20.0) -> None:
    async with asyncio.timeout(timeout):
        while not check():
            await asyncio.sleep(0.05)


async def test_churn_leaves_the_listener_connected_and_nothing_behind() -> None:
    with RedisServer() as redis:
        hub = Channels(
            f"{redis.url}?prefix={PREFIX}",
            namespaces={"chat": ChannelOptions(history_size=10, presence=True, join_leave=True)},
        )
        app = Tether(lifespan=hub.lifespan)
        app.add_websocket_route("/channels", hub.endpoint)
        inspect = redis_sync.Redis(port=redis.port)
        with uvicorn_thread(app) as base:
            url = base.replace("http", "ws") + "/channels"
            await short_connection(url, 0)  # warm up, then count the server's resting tasks
            await eventually(lambda: not hub.connections, "the first connection to end")
            resting = task_count(hub)
            await churn(url)

            await eventually(lambda: not hub.connections, "every connection dropped")
            listener = hub.health()["broker"]
            assert listener["state"] == "connected"
            assert listener["reconnects"] == 0, listener["last_error"]
            assert hub.metrics.broker_reconnects == 0
            await eventually(
                lambda: not inspect.pubsub_channels(f"{PREFIX}:c:*"), "Redis unsubscribed"
            )
            assert not hub.router.channels
            assert hub.metrics.snapshot()["subscriptions"] == 0
            presence = [f"{PREFIX}:p:chat:c{n}" for n in range(CHANNELS)]
            await eventually(
                lambda: sum(inspect.hlen(key) for key in presence) == 0, "presence emptied"
            )
            await eventually(lambda: not hub._tasks, "background tasks finished")
            await eventually(lambda: task_count(hub) <= resting, "no task left in the server")
        inspect.close()
