"""The Cluster mode's per-master publish connections (``_redis_slots``) on a real cluster.

Each master that a node published to gets one auto-pipelined connection, named
``tether-publish`` (``CLIENT LIST`` shows it). A master that leaves the slot map (demoted by a
failover) must not keep that connection until the backend stops, and a connection whose
commands time out must show in ``health()``, as the single-server pipeline's does.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Iterator
from typing import Any

import pytest

from servers import RedisClusterGroup, RedisServer, redis_cli
from tether.channels import BrokerUnavailable, ChannelOptions, Channels
from tether.channels.backends.redis_cluster import RedisClusterBackend

pytestmark = [pytest.mark.integration, pytest.mark.redis, pytest.mark.timeout(90)]

NAME = "tether-publish"


class _Quiet:
    def on_publication(self, publication: Any) -> None: ...

    def on_presence_event(self, *args: Any) -> None: ...

    def on_resubscribed(self) -> None: ...

    def on_broker_state(self, available: bool) -> None: ...


def publish_connections(server: RedisServer) -> int:
    """How many of tether's publish connections ``server`` has open."""
    clients = redis_cli(server.port, "CLIENT", "LIST").splitlines()
    return sum(f" name={NAME} " in f" {line} " for line in clients)


async def wait_until(check: Any, timeout: float = 10.0) -> None:
    async with asyncio.timeout(timeout):
        while not check():
            await asyncio.sleep(0.05)


@pytest.fixture
def cluster() -> Iterator[RedisClusterGroup]:
    with RedisClusterGroup() as group:
        yield group


async def test_a_demoted_master_loses_its_publish_connection(cluster: RedisClusterGroup) -> None:
    backend = RedisClusterBackend(cluster.url, prefix="sl" + secrets.token_hex(3))
    options = ChannelOptions(history_size=10, history_ttl=60)
    await backend.start(_Quiet())
    try:
        first = await backend.publish("room", "1", options)
        old = cluster.owner_of(cluster.slot_of(backend._key("m", "room")))
        assert publish_connections(old) == 1
        cluster.failover(cluster.slot_of(backend._key("m", "room")))
        await asyncio.to_thread(cluster.wait_until_ok)
        new = cluster.owner_of(cluster.slot_of(backend._key("m", "room")))
        assert new.port != old.port
        # The first publish meets the demoted master (MOVED) and goes on to the new one; the
        # ones after it use the new master's connection, and the old one is closed.
        positions = [await backend.publish("room", str(n), options) for n in range(2, 5)]
        assert [p.offset for p in positions] == [1, 2, 3]  # a new epoch on the new master
        assert {p.epoch for p in positions} != {first.epoch}
        await wait_until(lambda: publish_connections(old) == 0)
        assert publish_connections(new) == 1
    finally:
        await backend.stop()
    await wait_until(lambda: publish_connections(new) == 0)


@pytest.fixture
def one_node() -> Iterator[RedisClusterGroup]:
    # No replica: a stall must not end in a failover.
    with RedisClusterGroup(masters=1, replicas=0) as group:
        yield group


async def test_health_reports_a_stalled_publish_connection(one_node: RedisClusterGroup) -> None:
    backend = RedisClusterBackend(
        one_node.url, prefix="st" + secrets.token_hex(3), command_timeout=1.0
    )
    master = one_node.servers[0]
    hub = Channels(backend, namespaces={"chat": ChannelOptions()})
    async with hub:
        await hub.publish("chat:a", 1)
        assert hub.health()["ok"] is True
        pause = asyncio.create_task(asyncio.to_thread(master.pause, 3.0))
        await asyncio.sleep(0.2)
        with pytest.raises(BrokerUnavailable):
            await hub.publish("chat:a", 2)
        report = hub.health()
        assert report["ok"] is False, report
        assert report["broker"]["state"] == "unresponsive", report
        assert f"127.0.0.1:{master.port}" in report["broker"]["last_error"], report
        await pause
        async with asyncio.timeout(10):  # the master answers again: publishes work, health too
            while True:
                try:
                    await hub.publish("chat:a", 3)
                    break
                except BrokerUnavailable:
                    await asyncio.sleep(0.1)
        assert hub.health()["ok"] is True, hub.health()
