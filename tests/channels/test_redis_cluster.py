"""Channels on a Redis Cluster: hash-tagged keys, sharded pub/sub, failovers and slot moves.

The fault tests start a private cluster (three masters with a replica each, on free ports;
tests/servers.py) and two tether nodes on uvicorn, publish numbered messages at a steady rate
through both nodes while the channel's master changes or its slot moves, and then count (the
accounting of test_redis_sentinel.py): every acknowledged publication reached every subscriber
once and in order, unless a session ended with an explicit signal and the next one said
``recovered: false``. The contract suite runs on a cluster too (test_contract.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from recorder import Recorder, check_invariants
from test_multinode import CHANNEL, health, nodes, publish_many, started, wait_until, ws_url
from test_redis_sentinel import through_a_change

from servers import RedisClusterGroup, redis_cli
from tether.channels.backends import backend_from_url
from tether.channels.backends.redis_cluster import (
    ClusterSettings,
    RedisClusterBackend,
    parse_cluster_url,
)
from tether.channels.options import ChannelOptions


def test_cluster_urls_are_parsed() -> None:
    settings, options = parse_cluster_url(
        "redis+cluster://app:s%40cret@10.0.0.1:7001,node-b/?prefix=shop&max_connections=20"
    )
    assert settings == ClusterSettings(
        hosts=(("10.0.0.1", 7001), ("node-b", 6379)), username="app", password="s@cret"
    )
    assert options == {"prefix": "shop", "max_connections": "20"}
    backend = backend_from_url("redis+cluster://127.0.0.1:7000,127.0.0.1:7001?prefix=p")
    assert isinstance(backend, RedisClusterBackend)
    assert backend.prefix == "p" and backend.url == "redis+cluster://127.0.0.1:7000,127.0.0.1:7001"
    assert backend.cluster.hosts == (("127.0.0.1", 7000), ("127.0.0.1", 7001))


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("redis+cluster://", "redis\\+cluster://host:port"),
        ("redis+cluster://u:hunter2@127.0.0.1:7000/3", "only database 0"),
        ("redis+cluster://127.0.0.1:port", "not a port number"),
    ],
)
def test_bad_cluster_urls_are_refused_clearly(url: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem) as caught:
        parse_cluster_url(url)
    assert "hunter2" not in str(caught.value)  # the password never reaches a message


def test_every_key_of_a_channel_shares_one_slot() -> None:
    crc = pytest.importorskip("redis.crc")
    backend = RedisClusterBackend(prefix="app")
    for channel in ("chat:room", "odd{name}", "}{", "émoji:🙂"):
        keys = [backend._key(kind, channel).encode() for kind in ("m", "h", "c", "p", "pe")]
        assert len({crc.key_slot(key) for key in keys}) == 1, channel
        assert backend._channel_of(backend._key("c", channel).encode()) == channel
    slots = {crc.key_slot(backend._key("m", f"room{n}").encode()) for n in range(50)}
    assert len(slots) > 40  # channels spread over the cluster


@pytest.fixture
def cluster() -> Iterator[RedisClusterGroup]:
    with RedisClusterGroup() as group:
        yield group


class _Listener:
    def __init__(self) -> None:
        self.publications: list[Any] = []
        self.resubscribed = 0

    def on_publication(self, publication: Any) -> None:
        self.publications.append(publication)

    def on_presence_event(self, *args: Any) -> None: ...

    def on_resubscribed(self) -> None:
        self.resubscribed += 1

    def on_broker_state(self, available: bool) -> None: ...


@pytest.mark.integration
@pytest.mark.redis
@pytest.mark.timeout(90)
async def test_publications_reach_only_the_owning_shard(cluster: RedisClusterGroup) -> None:
    """SPUBLISH goes to the master that owns the channel; the keys sit on that master."""
    backend = RedisClusterBackend.from_url(cluster.url + "?prefix=own")
    listener = _Listener()
    await backend.start(listener)  # type: ignore[arg-type]
    try:
        await backend.subscribe("news")
        position = await backend.publish("news", '"one"', ChannelOptions(history_size=5))
        await wait_until(lambda: len(listener.publications) == 1, 5, "the publication")
        assert listener.publications[0].offset == position.offset == 1
        owner = cluster.owner_of(cluster.slot_of("{own:news}:m"))
        for server in cluster.alive():
            numsub = redis_cli(server.port, "PUBSUB", "SHARDNUMSUB", "{own:news}:c").split()
            expected = "1" if server is owner else "0"
            assert numsub[-1] == expected, server.port
        assert redis_cli(owner.port, "EXISTS", "{own:news}:m", "{own:news}:h") == "2"
    finally:
        await backend.stop()


def _slot_of_channel(cluster: RedisClusterGroup, server: Any) -> int:
    """The slot of CHANNEL's keys under the prefix that nodes() gave ``server``."""
    prefix = server.env["TETHER_CHANNELS_BROKER"].rpartition("prefix=")[2]
    return cluster.slot_of(f"{{{prefix}:{CHANNEL}}}:m")


async def _traffic(
    cluster: RedisClusterGroup,
    change: Callable[[RedisClusterGroup, int], Any],
    total: int = 240,
) -> list[Recorder]:
    """Numbered publishes through two nodes at 50/s while ``change(cluster, slot)`` runs (in
    a thread: a migration takes a while) on the channel's slot; then count."""
    with nodes(cluster) as (a, b):  # type: ignore[arg-type]  # a cluster has the .url nodes() reads
        clients = [await started(ws_url(a)), await started(ws_url(b))]
        slot = _slot_of_channel(cluster, a)

        async def on_the_slot() -> None:
            await asyncio.to_thread(change, cluster, slot)  # a migration takes a while

        await through_a_change(clients, on_the_slot, total)
        for client in clients:
            await client.close()
        return clients


def _failover(cluster: RedisClusterGroup, slot: int) -> None:
    old = cluster.failover(slot)
    _wait_for_new_owner(cluster, slot, old)


def _kill_master(cluster: RedisClusterGroup, slot: int) -> None:
    old = cluster.kill_master(slot)
    _wait_for_new_owner(cluster, slot, old)


def _restart_shard(cluster: RedisClusterGroup, slot: int) -> None:
    cluster.restart_shard(slot)


def _migrate(cluster: RedisClusterGroup, slot: int) -> None:
    cluster.migrate(slot)


def _wait_for_new_owner(
    cluster: RedisClusterGroup, slot: int, old: Any, timeout: float = 30
) -> None:
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if cluster.owner_of(slot) is not old:
                cluster.wait_until_ok()
                return
        except LookupError:  # no master for the slot while the election runs
            pass
        time.sleep(0.1)
    raise AssertionError(f"slot {slot} got no new master within {timeout} s")


@pytest.mark.integration
@pytest.mark.redis
@pytest.mark.timeout(150)
async def test_cluster_failover_during_traffic(cluster: RedisClusterGroup) -> None:
    await _traffic(cluster, _failover)


@pytest.mark.integration
@pytest.mark.redis
@pytest.mark.timeout(150)
async def test_master_killed_during_traffic(cluster: RedisClusterGroup) -> None:
    await _traffic(cluster, _kill_master)


@pytest.mark.integration
@pytest.mark.redis
@pytest.mark.timeout(150)
async def test_shard_restarted_empty_during_traffic(cluster: RedisClusterGroup) -> None:
    """Master and replica of the channel's shard killed and started again without data."""
    await _traffic(cluster, _restart_shard)


@pytest.mark.integration
@pytest.mark.redis
@pytest.mark.timeout(150)
async def test_slot_migration_during_traffic(cluster: RedisClusterGroup) -> None:
    await _traffic(cluster, _migrate)


@pytest.mark.integration
@pytest.mark.redis
@pytest.mark.timeout(90)
async def test_a_moved_slot_is_followed_and_reported(cluster: RedisClusterGroup) -> None:
    """After a slot migration the node listens on the new owner, says so to the hub (which
    then checks positions), and the channel starts a new epoch there."""
    backend = RedisClusterBackend.from_url(cluster.url + "?prefix=mv")
    listener = _Listener()
    options = ChannelOptions(history_size=10)
    await backend.start(listener)  # type: ignore[arg-type]
    try:
        await backend.subscribe("news")
        before = await backend.publish("news", '"one"', options)
        slot = cluster.slot_of("{mv:news}:m")
        target = await asyncio.to_thread(cluster.migrate, slot)
        await wait_until(lambda: listener.resubscribed >= 1, 10, "the hub told of the move")
        # Redis 7.0 also drops the shard channels of a slot when SETSLOT NODE reassigns it to
        # the node that owns it already (as redis-cli's reshard does): a second round follows.
        await wait_until(lambda: backend.health()["ok"], 10, "every channel in place")
        numsub = redis_cli(target.port, "PUBSUB", "SHARDNUMSUB", "{mv:news}:c").split()
        assert numsub[-1] == "1"
        after = await backend.publish("news", '"two"', options)
        await wait_until(lambda: len(listener.publications) == 2, 5, "the second publication")
        assert [p.data for p in listener.publications] == ['"one"', '"two"']
        assert (after.offset, after.epoch != before.epoch) == (1, True)
    finally:
        await backend.stop()


@pytest.mark.integration
@pytest.mark.redis
@pytest.mark.timeout(90)
async def test_a_promoted_replica_starts_new_epochs(cluster: RedisClusterGroup) -> None:
    """The replica holds the channel's meta, but writes its master never replicated could be
    missing: after a failover the channel's next publication opens a new epoch, and its
    history never mixes two epochs."""
    backend = RedisClusterBackend.from_url(cluster.url + "?prefix=gen")
    listener = _Listener()
    options = ChannelOptions(history_size=10)
    await backend.start(listener)  # type: ignore[arg-type]
    try:
        before = await backend.publish("news", '"one"', options)
        slot = cluster.slot_of("{gen:news}:m")
        redis_cli(cluster.owner_of(slot).port, "WAIT", "1", "2000")  # the replica has it all
        await asyncio.to_thread(_failover, cluster, slot)
        after = None
        deadline = asyncio.get_running_loop().time() + 20
        while after is None and asyncio.get_running_loop().time() < deadline:
            try:
                after = await backend.publish("news", '"two"', options)
            except Exception:  # BrokerUnavailable while the cluster switches
                await asyncio.sleep(0.1)
        assert after is not None and after.epoch != before.epoch and after.offset == 1
        page = await backend.history("news", 0, 10)
        assert [(p.offset, p.epoch) for p in page.publications] == [(1, after.epoch)]
    finally:
        await backend.stop()


# -- S-scenarios of test_multinode.py on a cluster ---------------------------------------------


def _shard_numsub(cluster: RedisClusterGroup, server: Any) -> int:
    """Subscribers of CHANNEL's shard channel on the master that owns it."""
    prefix = server.env["TETHER_CHANNELS_BROKER"].rpartition("prefix=")[2]
    key = f"{{{prefix}:{CHANNEL}}}:c"
    owner = cluster.owner_of(cluster.slot_of(key))
    return int(redis_cli(owner.port, "PUBSUB", "SHARDNUMSUB", key).split()[-1])


@pytest.mark.integration
@pytest.mark.redis
@pytest.mark.timeout(120)
async def test_s1_every_client_sees_every_message_in_the_same_order(
    cluster: RedisClusterGroup,
) -> None:
    with nodes(cluster) as (a, b):  # type: ignore[arg-type]
        clients = [await started(ws_url(node)) for node in (a, b, a, b)]
        await asyncio.gather(publish_many(clients[:2], 60, "x"), publish_many(clients[2:], 60, "y"))
        for client in clients:
            await client.wait_for_offset(120)
        reference = clients[0].sessions[0].data
        for client in clients:
            check_invariants(client)
            assert client.offsets == list(range(1, 121))
            assert client.sessions[0].data == reference
        assert _shard_numsub(cluster, a) == 2  # one shard subscription per node
        for client in clients:
            await client.close()


@pytest.mark.integration
@pytest.mark.redis
@pytest.mark.timeout(120)
async def test_s9_redis_kills_pubsub_clients(cluster: RedisClusterGroup) -> None:
    """The owner drops every pub/sub connection twice during traffic: gaps are filled from
    history, no message is lost."""
    with nodes(cluster) as (a, b):  # type: ignore[arg-type]
        clients = [await started(ws_url(a)), await started(ws_url(b))]
        owner = cluster.owner_of(_slot_of_channel(cluster, a))
        total = 150

        async def publisher() -> None:
            for n in range(total):
                await clients[n % 2].publish({"n": n})
                await asyncio.sleep(0.004)

        async def reconnected(count: int) -> bool:
            reports = [await health(node) for node in (a, b)]
            return all(r["metrics"]["broker_reconnects"] >= count for _, r in reports if r)

        task = asyncio.create_task(publisher())
        await asyncio.sleep(0.15)
        redis_cli(owner.port, "CLIENT", "KILL", "TYPE", "pubsub")
        await wait_until(lambda: reconnected(1), 10, "both listeners to reconnect")
        redis_cli(owner.port, "CLIENT", "KILL", "TYPE", "pubsub")
        await task
        for client in clients:
            await client.wait_for_offset(total)
            check_invariants(client)
            assert client.offsets == list(range(1, total + 1))
        for node in (a, b):
            _, report = await health(node)
            assert report["ok"] and report["metrics"]["broker_reconnects"] >= 2
        assert _shard_numsub(cluster, a) == 2
        for client in clients:
            await client.close()


async def test_an_unreachable_cluster_refuses_to_start() -> None:
    """No node answers: the hub refuses to start with one line naming the cluster, or starts
    degraded and says so in its health."""
    from servers import free_port
    from tether.channels import Channels
    from tether.channels.errors import BrokerUnreachable

    url = f"redis+cluster://127.0.0.1:{free_port()}/?prefix=down"
    with pytest.raises(BrokerUnreachable, match="redis\\+cluster://127.0.0.1"):
        await Channels(url).start()
    hub = Channels(url, degraded_start=True)
    await hub.start()
    try:
        report = hub.backend.health()
        assert report["ok"] is False and report["state"] == "reconnecting"
    finally:
        await hub.stop()


@pytest.mark.integration
@pytest.mark.redis
@pytest.mark.timeout(90)
async def test_a_stale_slot_map_is_corrected_by_moved(cluster: RedisClusterGroup) -> None:
    """The slot moved while this node was not looking: its SSUBSCRIBE and its publish both go
    to the old owner, are answered MOVED (so neither ran there), and end up on the new one,
    the publish exactly once."""
    backend = RedisClusterBackend.from_url(cluster.url + "?prefix=stale")
    listener = _Listener()
    options = ChannelOptions(history_size=10)
    await backend.start(listener)  # type: ignore[arg-type]
    try:
        await backend.publish("news", '"zero"', options)  # the pipeline to the owner is open
        slot = cluster.slot_of("{stale:news}:m")
        old = cluster.owner_of(slot)
        target = await asyncio.to_thread(cluster.migrate, slot)
        assert backend._client.nodes_manager.get_node_from_slot(slot).port == old.port
        await backend.subscribe("news")
        numsub = redis_cli(target.port, "PUBSUB", "SHARDNUMSUB", "{stale:news}:c").split()
        assert numsub[-1] == "1"
        position = await backend.publish("news", '"one"', options)
        assert position.offset == 1  # a new epoch on the new master, and one publish only
        await wait_until(lambda: len(listener.publications) == 1, 5, "the publication")
        page = await backend.history("news", 0, 10)
        assert [p.data for p in page.publications] == ['"one"']
    finally:
        await backend.stop()
