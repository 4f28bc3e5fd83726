"""Fixtures for the channels suite: hubs on the memory broker, on real Redis, or on a private
Redis Cluster (``cluster``: only where a test module asks for it, see test_contract.py).

``make_hub`` builds hubs that share one broker, so two hubs act as two nodes. With Redis each
test gets a unique key prefix on the shared server and its keys are deleted afterwards.
"""

from __future__ import annotations

import secrets
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest

from servers import RedisClusterGroup, SentinelGroup, redis_url
from tether.channels import Channels
from tether.channels.backends.memory import MemoryBackend, MemoryBroker

sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parent))

BACKENDS = [
    "memory",
    pytest.param("redis", marks=[pytest.mark.integration, pytest.mark.redis]),
]


CLUSTER = pytest.param("cluster", marks=[pytest.mark.integration, pytest.mark.redis])
SENTINEL = pytest.param("sentinel", marks=[pytest.mark.integration, pytest.mark.redis])


@pytest.fixture(scope="session")
def redis_sentinel() -> Iterator[SentinelGroup]:
    """A master, a replica and three Sentinels, shared by the tests of one run (never faulted)."""
    with SentinelGroup() as group:
        yield group


@pytest.fixture(scope="session")
def redis_cluster() -> Iterator[RedisClusterGroup]:
    """Three masters with a replica each, shared by the tests of one run (never faulted)."""
    with RedisClusterGroup() as group:
        yield group


async def _delete_prefix(url: str, prefix: str) -> None:
    import redis.asyncio as redis

    if url.startswith("redis+cluster://"):
        from tether.channels.backends.redis_cluster import parse_cluster_url

        host, port = parse_cluster_url(url)[0].hosts[0]
        cluster = redis.RedisCluster(host=host, port=port)
        try:
            keys = [key async for key in cluster.scan_iter(match=f"{{{prefix}:*", count=1000)]
            for key in keys:
                await cluster.delete(key)
        finally:
            await cluster.aclose()
        return
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
async def make_hub(
    backend_name: str, redis_prefix: str, request: pytest.FixtureRequest
) -> AsyncIterator[Callable[..., Any]]:
    """Factory of started hubs on one shared broker; stops them all afterwards."""
    hubs: list[Channels] = []
    broker = MemoryBroker()
    url = cleanup_url = redis_url()
    if backend_name == "cluster":
        url = cleanup_url = request.getfixturevalue("redis_cluster").url
    elif backend_name == "sentinel":
        group = request.getfixturevalue("redis_sentinel")
        url, cleanup_url = group.url, f"redis://127.0.0.1:{group.master_port()}/0"

    async def factory(**kwargs: Any) -> Channels:
        if backend_name == "memory":
            hub = Channels(MemoryBackend(broker), **kwargs)
        else:
            hub = Channels(f"{url}?prefix={redis_prefix}", **kwargs)
        hubs.append(hub)
        await hub.start()
        return hub

    factory.broker = broker  # type: ignore[attr-defined]
    factory.backend_name = backend_name  # type: ignore[attr-defined]
    factory.url = url  # type: ignore[attr-defined]
    factory.direct_url = cleanup_url  # type: ignore[attr-defined]  # a redis:// to the master
    yield factory
    for hub in hubs:
        await hub.stop()
    if backend_name != "memory":
        await _delete_prefix(cleanup_url, redis_prefix)
