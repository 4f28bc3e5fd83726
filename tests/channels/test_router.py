"""The node-local router: fan-out chunking for large channels, one encode per format, and
the position check after a broker reconnect."""

from __future__ import annotations

import asyncio

import pytest
from fakes import FakeSocket

from tether.channels import BrokerUnavailable, Channels
from tether.channels import router as router_module
from tether.channels.backends.base import Position
from tether.channels.backends.memory import MemoryBackend


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Chunks of 3 subscribers, so ten subscribers take four loop turns per publication."""
    monkeypatch.setattr(router_module, "FANOUT_CHUNK", 3)


async def test_chunked_fanout_keeps_order_and_yields_between_chunks(small_chunks: None) -> None:
    async with Channels() as hub:
        sockets = [FakeSocket() for _ in range(10)]
        for sock in sockets:
            await hub.subscribe(sock, "room:a")
        for n in range(3):  # all three before any chunk after the first ran
            await hub.publish("room:a", n)
        assert len(sockets[0].texts) == 1 and sockets[-1].texts == []  # the rest comes later
        for sock in sockets:
            await sock.wait_for(lambda s: len(s.pubs()) == 3)
            assert sock.offsets() == [1, 2, 3]
        assert hub.router.channels["room:a"].backlog is None and hub.metrics.delivered == 30


async def test_an_unsubscribe_during_a_chunked_fanout_takes_effect(small_chunks: None) -> None:
    async with Channels() as hub:
        sockets = [FakeSocket() for _ in range(10)]
        for sock in sockets:
            await hub.subscribe(sock, "room:a")
        await hub.publish("room:a", 1)
        await hub.unsubscribe(sockets[-1], "room:a")  # its chunk has not run yet
        await sockets[-2].wait_for(lambda s: len(s.pubs()) == 1)
        await asyncio.sleep(0)
        assert sockets[-1].texts == []


async def test_each_wire_format_is_encoded_once(
    small_chunks: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []
    original = router_module.publication_frame

    def counting(*args: object) -> str:
        calls.append(1)
        return original(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(router_module, "publication_frame", counting)
    async with Channels() as hub:
        framed = [FakeSocket() for _ in range(7)]
        raw = [FakeSocket() for _ in range(7)]
        for sock in framed:
            await hub.subscribe(sock, "room:a")
        for sock in raw:
            await hub.subscribe(sock, "room:a", raw=True)
        await hub.publish("room:a", {"n": 1})
        for sock in framed + raw:
            await sock.wait_for(lambda s: len(s.messages) == 1)
        assert calls == [1]
        texts = {id(sock.messages[0]) for sock in framed}
        assert len(texts) == 1  # one ASGI message object shared by every framed recipient
        assert raw[0].texts == ['{"n":1}']


class _RefusesPositions(MemoryBackend):
    """Refuses ``refusals`` position reads, then says the channel's state was lost (a new
    epoch): a Redis Cluster shard that restarted empty answers pub/sub before commands."""

    def __init__(self) -> None:
        super().__init__()
        self.refusals = 0
        self.reads = 0

    async def position(self, channel: str) -> Position:
        if not self.refusals:
            return await super().position(channel)
        self.reads += 1
        if self.reads <= self.refusals:
            raise BrokerUnavailable("The cluster is down")
        return Position(0, "a-new-epoch")


async def test_a_refused_position_check_is_retried_until_it_answers() -> None:
    backend = _RefusesPositions()
    async with Channels(backend) as hub:
        sock = FakeSocket()
        await hub.subscribe(sock, "room:a")
        await hub.publish("room:a", 1)
        await sock.wait_for(lambda s: len(s.pubs()) == 1)
        backend.refusals = 3
        hub.router.check_positions()  # what a broker reconnect does
        await sock.wait_for(lambda s: any(f["type"] == "unsubscribed" for f in s.frames))
        assert backend.reads == 4
        assert sock.frames[-1]["reason"] == "insufficient_state"


async def test_a_refused_position_check_holds_no_more_than_a_gap_fill(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Live publications wait behind the check; past MAX_GAP_FILL of them it stops retrying
    and delivers them, in order, as it did before retries."""
    monkeypatch.setattr(router_module, "MAX_GAP_FILL", 3)
    backend = _RefusesPositions()
    async with Channels(backend) as hub:
        sock = FakeSocket()
        await hub.subscribe(sock, "room:a")
        await hub.publish("room:a", 0)
        await sock.wait_for(lambda s: len(s.pubs()) == 1)
        backend.refusals = 10**9
        hub.router.check_positions()
        for n in range(1, 6):
            await hub.publish("room:a", n)
        await sock.wait_for(lambda s: len(s.pubs()) == 6, timeout=5.0)
        assert sock.offsets("room:a") == [1, 2, 3, 4, 5, 6]
