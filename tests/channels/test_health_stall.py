"""Issue 21.10: health stops saying "connected" while Redis stalls past the command timeout.

A 7 s stall (SIGSTOP) with a 5 s command timeout: publishes failed with BrokerUnavailable while
``health()`` kept reporting the broker connected (the pub/sub watchdog needs two ping intervals).
"""

from __future__ import annotations

import asyncio
import secrets

import pytest

from servers import RedisServer
from tether.channels import BrokerUnavailable, ChannelOptions, Channels
from tether.channels.backends.redis import RedisBackend

pytestmark = [pytest.mark.integration, pytest.mark.redis, pytest.mark.timeout(60)]


async def test_health_reports_a_stall_longer_than_the_command_timeout(
    private_redis: RedisServer,
) -> None:
    backend = RedisBackend(
        private_redis.url,
        prefix="st" + secrets.token_hex(3),
        command_timeout=1.0,
        ping_interval=5.0,
    )
    hub = Channels(backend, namespaces={"chat": ChannelOptions()})
    async with hub:
        await hub.publish("chat:a", 1)
        assert hub.health()["ok"] is True
        pause = asyncio.create_task(asyncio.to_thread(private_redis.pause, 3.0))
        await asyncio.sleep(0.2)
        with pytest.raises(BrokerUnavailable):
            await hub.publish("chat:a", 2)
        report = hub.health()
        assert report["ok"] is False and report["broker"]["state"] == "unresponsive", report
        await pause
        async with asyncio.timeout(10):  # Redis is back: the next publish works, health recovers
            while True:
                try:
                    await hub.publish("chat:a", 3)
                    break
                except BrokerUnavailable:
                    await asyncio.sleep(0.1)
        assert hub.health()["ok"] is True
