"""More S-scenarios of test_multinode.py on a Redis Cluster: S4 (a node killed), S7 (the
channel's shard restarted empty) and S12 (a slow consumer).

Each test starts a private cluster (three masters with a replica each, tests/servers.py) and
two tether nodes (tests/channels/node_app.py) on ``redis+cluster://``, runs the scenario as
the single-server test does, and ends with the invariants of recorder.check_invariants on
every client. Where the single-server test counts subscriptions with ``PUBSUB NUMSUB``, these
ask the channel's master ``PUBSUB SHARDNUMSUB``. S1 and S9 are in test_redis_cluster.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from recorder import check_invariants
from test_multinode import (
    CHANNEL,
    _status,
    health,
    nodes,
    publish_many,
    slow_consumer_scenario,
    started,
    wait_until,
    ws_url,
)
from test_redis_cluster import _shard_numsub, _slot_of_channel

from servers import RedisClusterGroup

pytestmark = [pytest.mark.integration, pytest.mark.redis, pytest.mark.timeout(120)]


@pytest.fixture
def cluster() -> Iterator[RedisClusterGroup]:
    with RedisClusterGroup() as group:
        yield group


async def test_s4_kill_a_node(cluster: RedisClusterGroup) -> None:
    with nodes(cluster) as (a, b):  # type: ignore[arg-type]
        on_a, on_b = await started(ws_url(a)), await started(ws_url(b))
        await publish_many([on_a], 10, "before")
        await on_b.wait_for_offset(10)
        victim = on_b.client_id
        b.kill()
        await asyncio.wait_for(on_b.closed.wait(), 5)
        await publish_many([on_a], 10, "during")
        await on_b.connect(ws_url(a))  # fail over to the surviving node
        session = await on_b.subscribe()
        assert session.recovered and session.start == 10
        await publish_many([on_a], 5, "after")
        for client in (on_a, on_b):
            await client.wait_for_offset(25)
            check_invariants(client)
        assert on_b.offsets == list(range(1, 26))

        async def ghost_gone() -> bool:
            members = (await on_a.request({"type": "presence", "channel": CHANNEL}))["members"]
            return victim not in members

        await wait_until(ghost_gone, 10, "presence of the killed node to expire")
        assert _shard_numsub(cluster, a) == 1  # no ghost shard subscription
        await on_a.close()
        await on_b.close()


async def test_s7_restart_the_shard_volatile(cluster: RedisClusterGroup) -> None:
    """The channel's master and its replica are killed and come back empty: both nodes report
    the broker degraded, then recovered, and every client is told its stream's state died."""
    with nodes(cluster) as (a, b):  # type: ignore[arg-type]
        clients = [await started(ws_url(a)), await started(ws_url(b))]
        await publish_many(clients, 10, "before")
        for client in clients:
            await client.wait_for_offset(10)
        master = cluster.owner_of(_slot_of_channel(cluster, a))
        replica = cluster.replica_of(master)
        replica.stop()
        master.stop()
        for node in (a, b):
            await wait_until(lambda n=node: _status(n, 503), 10, "health to report degraded")
        await asyncio.sleep(1.0)
        master.start()
        replica.start()
        await asyncio.to_thread(cluster.wait_until_ok)
        for node in (a, b):
            await wait_until(lambda n=node: _status(n, 200), 20, "health to recover")
        for client in clients:
            await wait_until(lambda c=client: len(c.sessions) == 2, 10, "resubscribe")
            assert not client.sessions[1].recovered
            assert client.sessions[0].ended_by == "insufficient_state"
        await publish_many(clients, 10, "after")
        for client in clients:
            await wait_until(lambda c=client: len(c.sessions[-1].offsets) == 10, 10, "delivery")
            check_invariants(client)
        assert _shard_numsub(cluster, a) == 2  # no node stayed deaf
        for node in (a, b):
            _, report = await health(node)
            assert report["metrics"]["broker_reconnects"] >= 1
        for client in clients:
            await client.close()


async def test_s12_slow_consumer(cluster: RedisClusterGroup) -> None:
    await slow_consumer_scenario(cluster)
