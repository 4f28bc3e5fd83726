"""The backend contract: every test runs against the memory broker, real Redis, a private
Sentinel group (master, replica, three Sentinels) and a private Redis Cluster (three masters with
replicas, sharded pub/sub)."""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Callable
from typing import Any

import pytest
from fakes import FakeSocket, eventually

from conftest import BACKENDS, CLUSTER, SENTINEL
from tether.channels import ChannelOptions, Channels, Position, SlowConsumerPolicy

CHAT = ChannelOptions(history_size=50, history_ttl=60, presence=True, join_leave=True)
NS = {"chat": CHAT, "live": ChannelOptions()}


@pytest.fixture(params=[*BACKENDS, SENTINEL, CLUSTER])
def backend_name(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def drop_live(hub: Channels, lose: Callable[[Any], bool]) -> None:
    """Fault injection: lose selected live publications between broker and router."""
    original = hub.router.on_publication

    def lossy(publication: Any) -> None:
        if not lose(publication):
            original(publication)

    hub.router.on_publication = lossy  # type: ignore[method-assign]


async def test_offsets_are_contiguous_within_one_epoch(make_hub: Any) -> None:
    hub = await make_hub(namespaces=NS)
    positions = [await hub.publish("chat:a", {"n": n}) for n in range(5)]
    assert [p.offset for p in positions] == [1, 2, 3, 4, 5]
    assert len({p.epoch for p in positions}) == 1


async def test_position_before_first_publish_stays_valid(make_hub: Any) -> None:
    hub = await make_hub(namespaces=NS)
    start = (await hub.history("chat:new")).position
    assert start.offset == 0
    await hub.publish("chat:new", "x")
    assert (await hub.history("chat:new")).position == Position(1, start.epoch)


async def test_cross_node_delivery_in_order(make_hub: Any) -> None:
    a, b = await make_hub(namespaces=NS), await make_hub(namespaces=NS)
    sa, sb = FakeSocket(), FakeSocket()
    await a.subscribe(sa, "chat:x")
    await b.subscribe(sb, "chat:x")
    for n in range(20):
        await (a if n % 2 else b).publish("chat:x", n)
    for sock in (sa, sb):
        await sock.wait_for(lambda s: len(s.pubs()) == 20)
        assert sock.offsets() == list(range(1, 21))
        assert [f["data"] for f in sock.pubs()] == list(range(20))


async def test_history_is_bounded_by_count(make_hub: Any) -> None:
    hub = await make_hub(namespaces={"h": ChannelOptions(history_size=3)})
    for n in range(10):
        await hub.publish("h:a", n)
    result = await hub.history("h:a")
    assert [p.offset for p in result.publications] == [8, 9, 10]
    assert result.position.offset == 10
    since = await hub.history("h:a", since=Position(8, result.position.epoch))
    assert [p.offset for p in since.publications] == [9, 10]


async def test_history_ttl_and_meta_ttl(make_hub: Any) -> None:
    options = ChannelOptions(history_size=10, history_ttl=0.2, meta_ttl=0.6)
    hub = await make_hub(namespaces={"t": options})
    first = await hub.publish("t:a", 1)
    await asyncio.sleep(0.35)
    kept = await hub.history("t:a")
    assert kept.publications == [] and kept.position == first  # data gone, offset kept
    await asyncio.sleep(0.45)
    after = await hub.publish("t:a", 2)
    assert after.epoch != first.epoch and after.offset == 1  # metadata gone: new epoch


async def test_recovery_replays_missed_messages(make_hub: Any) -> None:
    hub = await make_hub(namespaces=NS)
    for n in range(5):
        await hub.publish("chat:r", n)
    epoch = (await hub.history("chat:r")).position.epoch
    sock = FakeSocket()
    result = await hub.subscribe(sock, "chat:r", since=Position(2, epoch))
    assert result.recovered and result.was_recovering and result.publications_replayed == 3
    await hub.publish("chat:r", 5)
    await sock.wait_for(lambda s: len(s.pubs()) == 4)
    assert sock.offsets() == [3, 4, 5, 6]


@pytest.mark.parametrize("since_offset, epoch_ok", [(1, True), (3, False), (99, True)])
async def test_recovery_is_all_or_nothing(make_hub: Any, since_offset: int, epoch_ok: bool) -> None:
    hub = await make_hub(namespaces={"h": ChannelOptions(history_size=3)})
    for n in range(10):
        await hub.publish("h:r", n)
    epoch = (await hub.history("h:r")).position.epoch
    sock = FakeSocket()
    since = Position(since_offset, epoch if epoch_ok else "other")
    result = await hub.subscribe(sock, "h:r", since=since)
    assert not result.recovered and result.position.offset == 10
    await hub.publish("h:r", 10)
    await sock.wait_for(lambda s: len(s.pubs()) == 1)
    assert sock.offsets() == [11]  # nothing replayed, live continues from the position


async def test_recovery_limit(make_hub: Any) -> None:
    hub = await make_hub(namespaces={"h": ChannelOptions(history_size=100, recovery_limit=5)})
    for n in range(20):
        await hub.publish("h:l", n)
    epoch = (await hub.history("h:l")).position.epoch
    assert not (await hub.subscribe(FakeSocket(), "h:l", since=Position(10, epoch))).recovered
    assert (await hub.subscribe(FakeSocket(), "h:l", since=Position(15, epoch))).recovered


async def test_splice_under_concurrent_publishing(make_hub: Any) -> None:
    """S3: history + live = one contiguous range, no gap, no duplicate."""
    a, b = await make_hub(namespaces=NS), await make_hub(namespaces=NS)
    await a.publish("chat:s", -1)
    epoch = (await a.history("chat:s")).position.epoch
    total = 40  # within history_size, so every subscriber can recover

    async def publisher() -> None:
        for n in range(total):
            await a.publish("chat:s", n)
            if n % 7 == 0:
                await asyncio.sleep(0)

    task = asyncio.create_task(publisher())
    socks = []
    for _ in range(5):
        await asyncio.sleep(0.001)
        sock = FakeSocket()
        socks.append(sock)
        result = await b.subscribe(sock, "chat:s", since=Position(1, epoch))
        assert result.recovered
    await task
    for sock in socks:
        await sock.wait_for(lambda s: bool(s.offsets()) and s.offsets()[-1] == total + 1)
        assert sock.offsets() == list(range(2, total + 2))


async def test_presence_members_count_and_events(make_hub: Any) -> None:
    a, b = await make_hub(namespaces=NS), await make_hub(namespaces=NS)
    watcher = FakeSocket()
    await b.subscribe(watcher, "chat:p", info={"name": "watcher"})
    sock = FakeSocket()
    async with a.connection(sock, info={"name": "ann"}, user="u1") as conn:
        await conn.subscribe("chat:p")
        members = await b.presence("chat:p")
        assert members[conn.client_id] == {"user": "u1", "info": {"name": "ann"}}
        assert await b.presence_count("chat:p") == 2
        await watcher.wait_for(lambda s: any(f["type"] == "join" for f in s.frames))
    await watcher.wait_for(lambda s: any(f["type"] == "leave" for f in s.frames))
    assert await a.presence_count("chat:p") == 1


async def test_presence_of_a_dead_node_expires(make_hub: Any) -> None:
    hub = await make_hub(namespaces=NS)
    # A node that died says no goodbye: its entry is only kept alive by heartbeats.
    await hub.backend.presence_add("chat:ghost", "ghost", '{"user":null}', 0.2)
    assert await hub.presence_count("chat:ghost") == 1

    async def gone() -> bool:
        return await hub.presence("chat:ghost") == {}

    await eventually(gone, 3, "the ghost's presence entry to expire")
    assert await hub.presence_count("chat:ghost") == 0


async def test_members_of_a_dead_node_leave_once(make_hub: Any) -> None:
    a = await make_hub(namespaces=NS, presence_ttl=0.15)
    b = await make_hub(namespaces=NS, presence_ttl=0.15)
    watchers = [FakeSocket(), FakeSocket()]
    for hub, watcher in zip((a, b), watchers, strict=True):
        await hub.subscribe(watcher, "chat:dead")
    # A node that died said no goodbye; both live nodes sweep the channel.
    await a.backend.presence_add("chat:dead", "ghost", '{"user":"g","info":null}', 0.1)
    assert "ghost" in await b.presence("chat:dead")
    for watcher in watchers:
        await watcher.wait_for(lambda s: any(f["type"] == "leave" for f in s.frames))
    await asyncio.sleep(0.3)  # several more sweeps by both nodes: still one leave each
    for watcher in watchers:
        leaves = [f for f in watcher.frames if f["type"] == "leave"]
        assert leaves == [
            {
                "type": "leave",
                "channel": "chat:dead",
                "client": "ghost",
                "info": {"user": "g", "info": None},
            }
        ]
    assert "ghost" not in await a.presence("chat:dead")
    assert await a.presence_count("chat:dead") == 2


async def test_heartbeat_keeps_live_members(make_hub: Any) -> None:
    hub = await make_hub(namespaces=NS, presence_ttl=0.3)
    sock = FakeSocket()
    await hub.subscribe(sock, "chat:hb")
    await asyncio.sleep(0.7)
    assert await hub.presence_count("chat:hb") == 1


async def test_gap_on_live_path_is_filled_from_history(make_hub: Any) -> None:
    a, b = await make_hub(namespaces=NS), await make_hub(namespaces=NS)
    sock = FakeSocket()
    await b.subscribe(sock, "chat:g")
    drop_live(b, lambda p: p.offset in (3, 4))
    for n in range(6):
        await a.publish("chat:g", n)
    await sock.wait_for(lambda s: len(s.pubs()) == 6)
    assert sock.offsets() == [1, 2, 3, 4, 5, 6]
    assert b.metrics.gaps_detected == 1 and b.metrics.gaps_filled == 1


async def test_unfillable_gap_is_signalled(make_hub: Any) -> None:
    a, b = await make_hub(namespaces=NS), await make_hub(namespaces=NS)
    sock, raw = FakeSocket(), FakeSocket()
    await b.subscribe(sock, "live:g")
    await b.subscribe(raw, "live:g", raw=True)
    drop_live(b, lambda p: p.offset == 2)
    for n in range(3):
        await a.publish("live:g", n)
    await sock.wait_for(lambda s: any(f["type"] == "unsubscribed" for f in s.frames))
    signal = [f for f in sock.frames if f["type"] == "unsubscribed"][0]
    assert signal == {
        "type": "unsubscribed",
        "channel": "live:g",
        "reason": "insufficient_state",
        "resubscribe": True,
    }
    await raw.wait_for(lambda s: s.closed is not None)
    assert raw.closed is not None and raw.closed[0] == 4002
    assert b.metrics.insufficient_state == 2


async def test_duplicate_live_messages_are_skipped(make_hub: Any) -> None:
    hub = await make_hub(namespaces=NS)
    sock = FakeSocket()
    await hub.subscribe(sock, "chat:d")
    seen: list[Any] = []
    original = hub.router.on_publication

    def twice(publication: Any) -> None:
        seen.append(publication)
        original(publication)
        original(publication)

    hub.router.on_publication = twice  # type: ignore[method-assign]
    for n in range(3):
        await hub.publish("chat:d", n)
    await sock.wait_for(lambda s: len(s.pubs()) == 3)
    await asyncio.sleep(0.05)
    assert sock.offsets() == [1, 2, 3]
    assert hub.metrics.duplicates_skipped == 3


async def _interest(factory: Any, hub: Channels) -> set[Any]:
    if factory.backend_name == "memory":
        return factory.broker.subscribed_channels()
    import redis.asyncio as redis

    keys = hub.backend.subscribed_keys()
    if factory.backend_name == "cluster":
        return set(keys) | await _shard_interest(hub)
    client = redis.Redis.from_url(factory.direct_url)
    try:
        pattern = f"{hub.backend.prefix}:c:*"
        live = await client.pubsub_channels(pattern)
    finally:
        await client.aclose()
    return set(keys) | set(live)


async def _shard_interest(hub: Channels) -> set[Any]:
    """Shard channels of the hub's prefix that any master still has a subscriber for."""
    import redis.asyncio as redis

    client = hub.backend._client  # type: ignore[attr-defined]
    live: set[Any] = set()
    for node in client.get_primaries():
        direct = redis.Redis(host=node.host, port=node.port)
        try:
            live |= set(await direct.execute_command("PUBSUB", "SHARDCHANNELS", "{tt*"))
        finally:
            await direct.aclose()
    return {key for key in live if key.startswith(b"{" + hub.backend.prefix.encode())}


async def test_churn_leaks_nothing(make_hub: Any) -> None:
    """S14: subscribe/unsubscribe/cancel races leave no entries and no broker interest."""
    hub = await make_hub(namespaces=NS)
    rng = random.Random(7)
    sockets = [FakeSocket() for _ in range(12)]
    channels = [f"chat:c{n}" for n in range(4)]

    async def churn(sock: FakeSocket) -> None:
        for _ in range(15):
            channel = rng.choice(channels)
            action = rng.random()
            if action < 0.5:
                task = asyncio.create_task(hub.subscribe(sock, channel))
                if rng.random() < 0.3:
                    await asyncio.sleep(0)
                    task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            elif action < 0.8:
                await hub.unsubscribe(sock, channel)
            else:
                await hub.publish(channel, "x")

    await asyncio.gather(*(churn(s) for s in sockets))
    # Every subscription still registered is live in the broker right now.
    for channel in hub.router.channels:
        assert hub.router.channels[channel].subscribers
    for sock in sockets:
        await hub.disconnect(sock)
    await eventually(lambda: hub.router.channels == {}, what="every local channel released")
    assert hub.connections == []
    snapshot = hub.metrics.snapshot()
    assert (snapshot["subscriptions"], snapshot["channels"], snapshot["connections"]) == (0, 0, 0)
    assert await _interest(make_hub, hub) == set()
    assert hub._present == {}


async def test_interest_routing(make_hub: Any) -> None:
    """S2: a node without subscribers for a channel receives nothing for it."""
    a, b = await make_hub(namespaces=NS), await make_hub(namespaces=NS)
    sock = FakeSocket()
    await a.subscribe(sock, "chat:i")
    for n in range(5):
        await b.publish("chat:i", n)
    await sock.wait_for(lambda s: len(s.pubs()) == 5)
    assert b.metrics.unrouted == 0 and a.metrics.unrouted == 0


@pytest.mark.parametrize("policy", list(SlowConsumerPolicy))
async def test_slow_consumer_policies(make_hub: Any, policy: SlowConsumerPolicy) -> None:
    from tether.channels import ConnectionLimits

    limits = ConnectionLimits(max_queue_messages=5, max_queue_bytes=10_000)
    hub = await make_hub(namespaces={"s": ChannelOptions(slow_consumer=policy)}, limits=limits)
    slow, fast = FakeSocket(), FakeSocket()
    slow.stall()
    await hub.subscribe(slow, "s:x")
    await hub.subscribe(fast, "s:x")
    for n in range(20):
        await hub.publish("s:x", n)
        await asyncio.sleep(0.002)  # the healthy writer keeps up
    await fast.wait_for(lambda s: len(s.pubs()) == 20)
    assert fast.offsets() == list(range(1, 21))  # the healthy subscriber is unaffected
    slow.resume()
    if policy is SlowConsumerPolicy.DISCONNECT:
        await slow.wait_for(lambda s: s.closed is not None)
        assert slow.closed is not None and slow.closed[0] == 4001
        assert hub.metrics.slow_disconnects == 1
        await eventually(lambda: hub.connections == [hub._connections[fast]], what="slow removed")
    else:

        def drained() -> bool:  # every publication either reached the slow socket or was dropped
            dropped = hub.metrics.dropped_oldest + hub.metrics.dropped_newest
            return dropped + len(slow.pubs()) == 20

        await eventually(drained, what="the slow socket to drain")
        dropped = hub.metrics.dropped_oldest + hub.metrics.dropped_newest
        assert dropped == 20 - len(slow.pubs()) > 0
        if policy is SlowConsumerPolicy.DROP_NEWEST:
            assert slow.offsets() == list(range(1, len(slow.pubs()) + 1))
        else:
            assert slow.offsets()[-1] == 20


async def test_write_timeout_is_a_slow_disconnect(make_hub: Any) -> None:
    from tether.channels import ConnectionLimits

    hub = await make_hub(namespaces=NS, limits=ConnectionLimits(write_timeout=0.1))
    slow = FakeSocket()
    await hub.subscribe(slow, "chat:w")
    slow.stall()
    await hub.publish("chat:w", 1)
    await asyncio.sleep(0.2)
    slow.resume()
    await slow.wait_for(lambda s: s.closed is not None)
    assert slow.closed is not None and slow.closed[0] == 4001
    assert hub.metrics.write_timeouts == 1 and hub.metrics.slow_disconnects == 1


async def test_fanout_encodes_once(make_hub: Any) -> None:
    hub = await make_hub(namespaces=NS)
    sockets = [FakeSocket() for _ in range(10)]
    for sock in sockets:
        await hub.subscribe(sock, "live:e")
    await hub.publish("live:e", {"k": 1})
    for sock in sockets:
        await sock.wait_for(lambda s: len(s.messages) == 1)
    messages = [sock.messages[0] for sock in sockets]
    assert len(messages) == 10 and all(m is messages[0] for m in messages)


async def test_emitter_publishes_with_the_same_offsets(make_hub: Any) -> None:
    from tether.channels import Emitter

    hub = await make_hub(namespaces=NS)
    sock = FakeSocket()
    await hub.subscribe(sock, "chat:em")
    await hub.publish("chat:em", 0)
    emitter = Emitter(
        hub.backend
        if make_hub.backend_name == "memory"
        else f"{hub.backend.url}?prefix={hub.backend.prefix}",
        namespaces=NS,
    )
    if make_hub.backend_name == "memory":
        from tether.channels.backends.memory import MemoryBackend

        emitter = Emitter(MemoryBackend(make_hub.broker), namespaces=NS)
    async with emitter:
        assert (await emitter.publish("chat:em", 1)).offset == 2
    await sock.wait_for(lambda s: len(s.pubs()) == 2)
    assert sock.offsets() == [1, 2]


async def test_stop_closes_connections_and_leaves_presence(make_hub: Any) -> None:
    a, b = await make_hub(namespaces=NS), await make_hub(namespaces=NS)
    sock = FakeSocket()
    await a.subscribe(sock, "chat:stop")
    assert await b.presence_count("chat:stop") == 1
    await a.stop()
    await sock.wait_for(lambda s: s.closed is not None)
    assert sock.closed == (1012, "server shutting down: reconnect")
    assert await b.presence_count("chat:stop") == 0
    assert a.connections == [] and a.metrics.subscriptions == 0
