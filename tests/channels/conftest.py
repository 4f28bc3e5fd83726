"""Fixtures for the channels suite: hubs on the memory broker or on real Redis.

``make_hub`` builds hubs that share one broker, so two hubs act as two nodes. With Redis each
test gets a unique key prefix on the shared server and its keys are deleted afterwards.
"""

from __future__ import annotations

import secrets
import sys
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from servers import redis_url
from tether.channels import Channels
from tether.channels.backends.memory import MemoryBackend, MemoryBroker

sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parent))

BACKENDS = [
    "memory",
    pytest.param("redis", marks=[pytest.mark.integration, pytest.mark.redis]),
]


async def _delete_prefix(url: str, prefix: str) -> None:
    import redis.asyncio as redis

    client = redis.Redis.from_url(url)
    try:
        keys = [key async for key in client.scan_iter(match=f"{prefix}:*", count=1000)]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()


@pytest.fixture(params=BACKENDS)
def backend_name(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def redis_prefix() -> str:
    return "tt" + secrets.token_hex(6)


@pytest.fixture
async def make_hub(backend_name: str, redis_prefix: str) -> AsyncIterator[Callable[..., Any]]:
    """Factory of started hubs on one shared broker; stops them all afterwards."""
    hubs: list[Channels] = []
    broker = MemoryBroker()

    async def factory(**kwargs: Any) -> Channels:
        if backend_name == "memory":
            hub = Channels(MemoryBackend(broker), **kwargs)
        else:
            hub = Channels(f"{redis_url()}?prefix={redis_prefix}", **kwargs)
        hubs.append(hub)
        await hub.start()
        return hub

    factory.broker = broker  # type: ignore[attr-defined]
    factory.backend_name = backend_name  # type: ignore[attr-defined]
    yield factory
    for hub in hubs:
        await hub.stop()
    if backend_name == "redis":
        await _delete_prefix(redis_url(), redis_prefix)
