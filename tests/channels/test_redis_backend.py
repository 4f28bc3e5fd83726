"""Redis-specific behaviour: the supervised listener, outages, gap checks after reconnect."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import AsyncIterator

import pytest
import redis.exceptions
from fakes import FakeSocket, eventually

from servers import RedisServer
from tether.channels import BrokerUnavailable, ChannelOptions, Channels, Emitter

pytestmark = [pytest.mark.integration, pytest.mark.redis]

NS = {"chat": ChannelOptions(history_size=100)}


def kill_pubsub(redis: RedisServer) -> None:
    subprocess.run(
        ["redis-cli", "-p", str(redis.port), "CLIENT", "KILL", "TYPE", "pubsub"],
        check=True,
        capture_output=True,
        timeout=10,
    )


def redis_cli(redis: RedisServer, *args: str) -> str:
    return subprocess.run(
        ["redis-cli", "-p", str(redis.port), *args],
        capture_output=True,
        text=True,
        check=True,
        timeout=10,
    ).stdout.strip()


def process_state(pid: int) -> str:
    """The one-letter scheduler state of ``pid`` from /proc ("T" once SIGSTOP has landed)."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
        return stat.read().rsplit(")", 1)[1].split()[0]


@pytest.fixture
async def hub(private_redis: RedisServer) -> AsyncIterator[Channels]:
    channels = Channels(f"{private_redis.url}?prefix=rb", namespaces=NS)
    await channels.start()
    yield channels
    await channels.stop()


async def test_listener_restarts_after_client_kill(
    hub: Channels, private_redis: RedisServer
) -> None:
    sock = FakeSocket()
    await hub.subscribe(sock, "chat:k")
    kill_pubsub(private_redis)
    await eventually(lambda: hub.metrics.broker_reconnects == 1 and hub.health()["ok"])
    await hub.publish("chat:k", 1)
    await sock.wait_for(lambda s: s.offsets() == [1])
    assert hub.health()["broker"]["listener_running"]


async def test_messages_missed_during_reconnect_are_filled(
    hub: Channels, private_redis: RedisServer
) -> None:
    sock = FakeSocket()
    await hub.subscribe(sock, "chat:gap")
    await hub.publish("chat:gap", 0)
    async with Emitter(f"{private_redis.url}?prefix=rb", namespaces=NS) as emitter:
        kill_pubsub(private_redis)
        for n in range(1, 4):  # published while the node is not listening
            await emitter.publish("chat:gap", n)
        await eventually(lambda: hub.metrics.broker_reconnects == 1)
        await emitter.publish("chat:gap", 4)
    await sock.wait_for(lambda s: len(s.pubs()) == 5)
    assert sock.offsets() == [1, 2, 3, 4, 5]
    assert [f["data"] for f in sock.pubs()] == [0, 1, 2, 3, 4]
    assert hub.metrics.gaps_detected >= 1 and hub.metrics.gaps_filled >= 1


async def test_lost_stream_is_signalled_after_restart(
    hub: Channels, private_redis: RedisServer
) -> None:
    proto, raw = FakeSocket(), FakeSocket()
    await hub.subscribe(proto, "chat:lost")
    await hub.subscribe(raw, "chat:lost", raw=True)
    await hub.publish("chat:lost", 1)
    await proto.wait_for(lambda s: len(s.pubs()) == 1)
    private_redis.restart(down_for=0.3)  # volatile: the epoch is gone
    await proto.wait_for(lambda s: any(f["type"] == "unsubscribed" for f in s.frames), 15)
    await raw.wait_for(lambda s: s.closed is not None)
    assert raw.closed is not None and raw.closed[0] == 4002
    assert hub.metrics.insufficient_state == 2 and hub.metrics.broker_reconnects == 1


async def test_start_while_redis_is_down_then_recover() -> None:
    redis = RedisServer()
    channels = Channels(f"{redis.url}?prefix=down", namespaces=NS, degraded_start=True)
    try:
        await channels.start()  # opted in: does not fail, the listener keeps trying
        assert not channels.health()["ok"]
        assert channels.health()["broker"]["state"] in ("starting", "reconnecting")
        with pytest.raises(BrokerUnavailable):
            await channels.publish("chat:d", 1)
        redis.start()
        await eventually(lambda: channels.health()["ok"], 15)
        assert (await channels.publish("chat:d", 1)).offset == 1
    finally:
        await channels.stop()
        redis.stop()
    assert channels.health()["broker"]["state"] == "stopped"


async def test_subscriptions_are_batched_and_released(
    hub: Channels, private_redis: RedisServer
) -> None:
    sockets = [FakeSocket() for _ in range(50)]
    await asyncio.gather(*(hub.subscribe(s, f"chat:b{n}") for n, s in enumerate(sockets)))
    assert redis_cli(private_redis, "PUBSUB", "NUMPAT") == "0"
    assert len(redis_cli(private_redis, "PUBSUB", "CHANNELS", "rb:c:*").split()) == 50
    for sock in sockets:
        await hub.disconnect(sock)
    # The broker unsubscribes in the background: wait (bounded) for it instead of guessing.
    await eventually(
        lambda: redis_cli(private_redis, "PUBSUB", "CHANNELS", "rb:c:*") == "",
        what="every channel unsubscribed in Redis",
    )


async def test_concurrent_publishes_share_round_trips_and_keep_issue_order(
    hub: Channels,
) -> None:
    pipeline = hub.backend._pipeline  # type: ignore[attr-defined]
    await hub.publish("chat:p1", 0)  # connected, scripts loaded
    before = pipeline.batches
    results = await asyncio.gather(*(hub.publish(f"chat:p{n % 2}", n) for n in range(100)))
    assert [r.offset for r in results[0::2]] == list(range(1, 51))
    assert [r.offset for r in results[1::2]] == list(range(2, 52))
    assert pipeline.batches - before <= 3  # the first alone, the other 99 together
    history = await hub.history("chat:p0")
    assert [p.data for p in history.publications] == [str(n) for n in range(0, 100, 2)]


async def test_one_failing_publish_does_not_fail_the_others(
    hub: Channels, private_redis: RedisServer
) -> None:
    redis_cli(private_redis, "SET", "rb:m:chat:bad", "not a hash")
    good, bad, also_good = await asyncio.gather(
        hub.publish("chat:good", 1),
        hub.publish("chat:bad", 2),
        hub.publish("chat:good", 3),
        return_exceptions=True,
    )
    # Redis's own error reply reaches the caller as redis-py's ResponseError, not as an outage.
    assert isinstance(bad, redis.exceptions.ResponseError) and "WRONGTYPE" in str(bad)
    assert not isinstance(bad, BrokerUnavailable)
    assert [good.offset, also_good.offset] == [1, 2]  # type: ignore[union-attr]


async def test_publish_after_the_script_cache_was_flushed(
    hub: Channels, private_redis: RedisServer
) -> None:
    assert (await hub.publish("chat:f", 1)).offset == 1
    redis_cli(private_redis, "SCRIPT", "FLUSH")
    assert (await hub.publish("chat:f", 2)).offset == 2  # sent in full once, not twice
    assert (await hub.publish("chat:f", 3)).offset == 3
    assert [p.offset for p in (await hub.history("chat:f")).publications] == [1, 2, 3]


async def test_a_stalled_redis_fails_publishes_within_the_timeout(
    private_redis: RedisServer,
) -> None:
    from tether.channels.backends.redis import RedisBackend

    backend = RedisBackend(private_redis.url, prefix="st", command_timeout=0.3)
    async with Channels(backend, namespaces=NS) as hub:
        assert (await hub.publish("chat:s", 1)).offset == 1
        pause = asyncio.create_task(asyncio.to_thread(private_redis.pause, 1.0))
        assert private_redis.proc is not None
        pid = private_redis.proc.pid
        await eventually(lambda: process_state(pid) == "T", 5, "redis-server stopped")
        started = asyncio.get_running_loop().time()
        outcomes = await asyncio.gather(
            *(hub.publish("chat:s", n) for n in range(5)), return_exceptions=True
        )
        assert all(isinstance(o, BrokerUnavailable) for o in outcomes)
        assert asyncio.get_running_loop().time() - started < 0.9
        await pause
        position = await hub.publish("chat:s", 9)  # a new connection; each call ran at most once
        assert 2 <= position.offset <= 7
