"""Issue 21.7: subscribing to made-up names does not leave broker keys for 24 hours.

A position read creates a channel's epoch (so it stays valid after the first publish); it
used to give that metadata a 24 h TTL, so one connection left 5,000 keys in 4.7 s. Now a
read-created channel lives two minutes unless published to, and the hub's heartbeat keeps
the channels it serves alive (a quiet channel that is listened to keeps its epoch).
"""

from __future__ import annotations

import secrets

import pytest
import redis.asyncio as redis
from hostile import Client, serve_app

from servers import RedisServer
from tether.channels import ChannelOptions, Channels
from tether.channels.backends.base import FRESH_META_TTL

pytestmark = [pytest.mark.integration, pytest.mark.redis, pytest.mark.timeout(60)]


async def test_made_up_names_expire_soon_and_served_ones_are_kept(
    private_redis: RedisServer,
) -> None:
    prefix = "mu" + secrets.token_hex(3)
    hub = Channels(
        f"{private_redis.url}?prefix={prefix}",
        namespaces={"chat": ChannelOptions(client_publish=True)},
    )
    admin = redis.Redis.from_url(private_redis.url)
    try:
        with serve_app(hub) as url:
            client = await Client.connect(url)
            for n in range(50):
                await client.subscribe(f"chat:made-up-{n}")
            answer = await client.request(
                {"type": "publish", "channel": "chat:made-up-0", "data": 1}, 0
            )
            assert answer["type"] == "reply", answer
            ttls = [await admin.pttl(f"{prefix}:m:chat:made-up-{n}") for n in range(1, 50)]
            assert all(0 < ttl <= FRESH_META_TTL * 1000 for ttl in ttls), max(ttls)
            # A published channel keeps the namespace's meta_ttl (24 h by default).
            assert await admin.pttl(f"{prefix}:m:chat:made-up-0") > FRESH_META_TTL * 1000

            # The heartbeat's keep() extends what is about to expire while it is listened to
            # (run here on its own backend: the hub's lives in the server's loop).
            await admin.pexpire(f"{prefix}:m:chat:made-up-7", 1000)
            keeper = Channels(f"{private_redis.url}?prefix={prefix}")
            async with keeper:
                await keeper.backend.keep(["chat:made-up-7", "chat:made-up-0"], FRESH_META_TTL)
            assert await admin.pttl(f"{prefix}:m:chat:made-up-7") > 100_000
            assert await admin.pttl(f"{prefix}:m:chat:made-up-0") > FRESH_META_TTL * 1000
            await client.close()
    finally:
        await admin.aclose()
