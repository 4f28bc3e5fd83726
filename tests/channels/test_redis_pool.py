"""Issue 21.4: bursts queue for a Redis connection instead of failing at the pool's cap.

The pool was built without a size and redis-py raised ``MaxConnectionsError`` at 100 in-use
connections: of 500 simultaneous subscribes 400 closed 1011, and of 5,000 simultaneous presence
removals most failed, leaving ghost members. The pool is now bounded and waits.
"""

from __future__ import annotations

import asyncio
import secrets
from typing import Any

import pytest
import redis.asyncio as redis
from hostile import Client

from servers import ROOT, RedisServer, uvicorn_process

pytestmark = [pytest.mark.integration, pytest.mark.redis, pytest.mark.timeout(120)]

CLIENTS = 500
CHANNELS = 10  # each client joins 10 presence channels: 5,000 members leave at once


def _path() -> str:
    import os

    return os.pathsep.join([str(ROOT / "tests" / "channels"), str(ROOT), str(ROOT / "src")])


async def _wait_for(check: Any, timeout: float = 60.0) -> Any:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = await check()
        if value or asyncio.get_running_loop().time() > deadline:
            return value
        await asyncio.sleep(0.05)


async def _members(admin: Any, prefix: str) -> int:
    counts = [await admin.hlen(f"{prefix}:p:chat:r{i}") for i in range(CHANNELS)]
    return sum(counts)


async def test_500_subscribes_and_5000_leaves_at_once(private_redis: RedisServer) -> None:
    prefix = "pool" + secrets.token_hex(3)
    env = {"TETHER_CHANNELS_BROKER": f"{private_redis.url}?prefix={prefix}", "PYTHONPATH": _path()}
    admin = redis.Redis.from_url(private_redis.url)
    try:
        # The server runs in its own process: the 500 clients here do not share its GIL.
        with uvicorn_process("hostile_app:app", env=env, args=["--ws-ping-interval", "0"]) as node:
            url = f"{node.ws_url}/channels"
            clients: list[Client] = []
            for _ in range(CLIENTS // 100):  # connecting is not under test: 100 at a time
                clients += await asyncio.gather(*(Client.connect(url) for _ in range(100)))

            async def join(client: Client) -> list[str]:
                for i in range(CHANNELS):
                    await client.send({"type": "subscribe", "channel": f"chat:r{i}", "id": i})
                answers = []
                while len(answers) < CHANNELS:
                    frame = await client.next(60)
                    if frame["type"] in ("reply", "error"):
                        answers.append(frame)
                assert all(a["type"] == "reply" for a in answers), answers
                return [a["result"]["channel"] for a in answers]

            # All subscribes at once: every one answered (an error or a 1011 fails here).
            joined = await asyncio.gather(*(join(client) for client in clients))
            assert all(len(channels) == CHANNELS for channels in joined)

            async def all_present() -> bool:
                return await _members(admin, prefix) == CLIENTS * CHANNELS

            assert await _wait_for(all_present), await _members(admin, prefix)

            # Every client leaves at once: 5,000 presence removals, none may fail.
            await asyncio.gather(*(client.close() for client in clients))

            async def nobody_left() -> bool:
                return await _members(admin, prefix) == 0

            assert await _wait_for(nobody_left), f"{await _members(admin, prefix)} ghost members"
            assert "Error" not in node.log(), node.log()
    finally:
        await admin.aclose()
