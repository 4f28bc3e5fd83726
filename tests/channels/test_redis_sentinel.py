"""Channels through Redis Sentinel: master discovery, failover during traffic, no silent loss.

Each fault test starts a private group (a master, a replica, three Sentinels on free ports;
tests/servers.py) and two tether nodes on uvicorn, publishes numbered messages at a steady
rate through both nodes while the master changes, and then counts: every publication that
was acknowledged reached every subscriber once and in order, unless that subscriber's session
ended with an explicit signal (``insufficient_state``) and it resubscribed with
``recovered: false``; a publish during the switch either succeeds or fails loudly.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest
from recorder import Recorder, check_invariants
from test_multinode import nodes, started, wait_until, ws_url

from servers import SentinelGroup, redis_cli
from tether.channels.backends import backend_from_url
from tether.channels.backends.redis import RedisBackend, SentinelSettings, parse_sentinel_url


def test_sentinel_urls_are_parsed() -> None:
    settings, options = parse_sentinel_url(
        "redis+sentinel://app:s%40cret@10.0.0.1:26380,sentinel-b/orders/3"
        "?prefix=shop&sentinel_password=sp&max_connections=20"
    )
    assert settings == SentinelSettings(
        hosts=(("10.0.0.1", 26380), ("sentinel-b", 26379)),
        service="orders",
        db=3,
        username="app",
        password="s@cret",
        sentinel_password="sp",
    )
    assert options == {"prefix": "shop", "max_connections": "20"}
    backend = backend_from_url("redis+sentinel://127.0.0.1:26379/mymaster?prefix=p")
    assert isinstance(backend, RedisBackend)
    assert backend.sentinel is not None and backend.sentinel.service == "mymaster"
    assert backend.prefix == "p"
    # The URL kept names the servers only, as for redis:// (an Emitter rebuilt from it with
    # ?prefix= reaches the same keys).
    assert backend.url == "redis+sentinel://127.0.0.1:26379/mymaster"


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("redis+sentinel://127.0.0.1:26379", "master-name"),
        ("redis+sentinel:///mymaster", "master-name"),
        ("redis+sentinel://127.0.0.1:26379/mymaster/zero", "must be a number"),
        ("redis+sentinel://127.0.0.1:notaport/mymaster", "not a port number"),
        ("redis+sentinel://u:hunter2@127.0.0.1:1/a/b/c", "master-name"),
    ],
)
def test_bad_sentinel_urls_are_refused_clearly(url: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem) as caught:
        parse_sentinel_url(url)
    assert "hunter2" not in str(caught.value)  # the password never reaches a message


@pytest.fixture
def group() -> Iterator[SentinelGroup]:
    with SentinelGroup() as started_group:
        yield started_group


async def _traffic(
    group: SentinelGroup, switch: Callable[[SentinelGroup], None], total: int = 240
) -> None:
    with nodes(group) as (a, b):  # type: ignore[arg-type]  # a group has the .url nodes() reads
        clients = [await started(ws_url(a)), await started(ws_url(b))]
        first_master = group.master_port()

        async def change() -> None:
            switch(group)
            await wait_until(lambda: group.master_port() != first_master, 20, "a new master")

        await through_a_change(clients, change, total)
        for client in clients:
            await client.close()


async def through_a_change(
    clients: list[Recorder], change: Callable[[], Awaitable[None]], total: int = 240
) -> None:
    """Numbered publishes through ``clients`` at 50/s while ``change()`` runs, then count:
    every acknowledged number reached every client once and in order, or a signal explains
    the gap (``_account``); refused publishes failed loudly."""
    acked: list[int] = []
    refused: list[int] = []

    async def publish(n: int) -> None:
        try:
            await clients[n % 2].publish({"n": n})
            acked.append(n)
        except (RuntimeError, TimeoutError):  # an explicit error frame, never silence
            refused.append(n)

    async def publisher() -> None:
        for n in range(total):
            await publish(n)
            await asyncio.sleep(0.02)

    task = asyncio.create_task(publisher())
    await asyncio.sleep(1.0)
    await change()
    await task
    assert len(acked) + len(refused) == total
    assert acked[-20:] == list(range(total - 20, total))  # publishing works again
    # A subscriber whose session ended with a signal resubscribes from the new top: on a
    # slow machine that may come after the last number. Keep publishing (still numbered)
    # until every client has one of these tail numbers: each is live again.
    tail = total
    deadline = asyncio.get_running_loop().time() + 30
    while not all(any(n >= total for n in _received(c)) for c in clients):
        assert asyncio.get_running_loop().time() < deadline, "a subscriber never came back"
        await publish(tail)
        tail += 1
        await asyncio.sleep(0.1)
    await wait_until(lambda: all(_has(c, tail - 1) for c in clients), 20, "the last message")
    for client in clients:
        _account(client, acked)


def _numbers(session: Any) -> list[int]:
    return [item["n"] for item in session.data]


def _received(client: Recorder) -> list[int]:
    return [n for session in client.sessions for n in _numbers(session)]


def _has(client: Recorder, number: int) -> bool:
    return number in _received(client)


def _account(client: Recorder, acked: list[int]) -> None:
    """Every acknowledged number arrived once, in order, except where a session ended with a
    signal: then the numbers acknowledged between its end and the next session's start may be
    missing, and the next session says it did not recover."""
    check_invariants(client)
    received = _received(client)
    assert len(received) == len(set(received)), "a message was delivered twice"
    assert received == sorted(received), "messages were reordered"
    missing = set(acked) - set(received)
    if missing:
        gaps = [s for s in client.sessions[:-1] if s.ended_by]
        assert gaps, f"{len(missing)} acknowledged messages lost without any signal"
        assert any(not s.recovered for s in client.sessions[1:])
    assert not set(received) - set(acked), "a refused publish was delivered anyway"


@pytest.mark.integration
@pytest.mark.redis
@pytest.mark.timeout(120)
async def test_sentinel_failover_during_traffic(group: SentinelGroup) -> None:
    await _traffic(group, SentinelGroup.failover)


@pytest.mark.integration
@pytest.mark.redis
@pytest.mark.timeout(120)
async def test_master_killed_during_traffic(group: SentinelGroup) -> None:
    await _traffic(group, SentinelGroup.kill_master)


@pytest.mark.integration
@pytest.mark.redis
@pytest.mark.timeout(90)
async def test_a_promoted_replica_starts_new_epochs(group: SentinelGroup) -> None:
    """The replica holds the channel's meta, but writes the master never replicated could
    be missing: after the switch the channel's next publication opens a new epoch."""
    backend = RedisBackend.from_url(group.url + "?prefix=gen")
    events: list[Any] = []

    class Listener:
        def on_publication(self, publication: Any) -> None:
            events.append(publication)

        def on_presence_event(self, *args: Any) -> None: ...

        def on_resubscribed(self) -> None: ...

    from tether.channels.options import ChannelOptions

    options = ChannelOptions(history_size=10)
    await backend.start(Listener())  # type: ignore[arg-type]
    try:
        before = await backend.publish("news", '"one"', options)
        redis_cli(group.master_port(), "WAIT", "1", "2000")  # the replica has it all
        old = group.master_port()
        group.failover()
        await wait_until(lambda: group.master_port() != old, 20, "a new master")

        async def published() -> Any:
            try:
                return await backend.publish("news", '"two"', options)
            except Exception:  # BrokerUnavailable while the switch is under way
                return None

        # Until the old master is told to follow, it may still take a write (which the
        # switch then discards): publish until one lands on the new master.
        after = None
        deadline = asyncio.get_running_loop().time() + 40
        while asyncio.get_running_loop().time() < deadline:
            after = await published()
            if after is not None and after.epoch != before.epoch:
                break
            await asyncio.sleep(0.1)
        assert after is not None and after.epoch != before.epoch
        assert after.offset == 1
        page = await backend.history("news", 0, 10)
        assert {p.epoch for p in page.publications} == {after.epoch}  # no mix of epochs
        assert page.position == after
    finally:
        await backend.stop()
