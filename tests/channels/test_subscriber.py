"""The per-connection outbound queue and the small option/name types."""

from __future__ import annotations

import asyncio

import pytest
from fakes import FakeSocket

from tether.channels import ChannelOptions, ConnectionLimits, InvalidChannelName
from tether.channels.metrics import ChannelMetrics
from tether.channels.names import Namespaces, split_channel
from tether.channels.options import SlowConsumerPolicy
from tether.channels.subscriber import Outbox
from tether.exceptions import ConfigurationError

D, OLD, NEW = (
    SlowConsumerPolicy.DISCONNECT,
    SlowConsumerPolicy.DROP_OLDEST,
    SlowConsumerPolicy.DROP_NEWEST,
)


def message(n: int) -> dict[str, str]:
    return {"type": "websocket.send", "text": str(n)}


async def test_push_never_awaits_and_preserves_order() -> None:
    sock, metrics = FakeSocket(), ChannelMetrics()
    outbox = Outbox(sock, ConnectionLimits(), metrics)
    for n in range(5):
        assert outbox.push(message(n), 1, D)
    assert sock.texts == []  # nothing written yet: the writer runs later
    await outbox.wait_drained()
    assert sock.texts == ["0", "1", "2", "3", "4"] and metrics.delivered == 5


async def test_drop_oldest_refuses_to_drop_a_stream_frame() -> None:
    sock, metrics = FakeSocket(), ChannelMetrics()
    closed: list[int] = []
    outbox = Outbox(sock, ConnectionLimits(max_queue_messages=2), metrics, closed.append)
    sock.stall()
    outbox.push(message(0), 1, D)
    await asyncio.sleep(0)  # the writer takes frame 0 and blocks on the socket
    outbox.push(message(1), 1, D)
    outbox.push(message(2), 1, OLD)
    assert not outbox.push(message(3), 1, OLD)  # dropping frame 1 would be a silent hole
    assert closed == [4001] and metrics.slow_disconnects == 1 and outbox.queued_bytes == 0
    sock.resume()
    await outbox.wait_drained()
    assert sock.closed == (4001, "slow consumer: reconnect and recover")


async def test_byte_cap_and_oversized_frames() -> None:
    sock, metrics = FakeSocket(), ChannelMetrics()
    outbox = Outbox(sock, ConnectionLimits(max_queue_bytes=10), metrics)
    sock.stall()
    assert not outbox.push(message(1), 11, NEW)
    assert metrics.dropped_newest == 1
    assert outbox.push(message(2), 6, OLD) and outbox.push(message(3), 6, OLD)
    assert metrics.dropped_oldest in (0, 1) and outbox.queued_bytes <= 10
    outbox.detach()
    assert outbox.closed and not outbox.push(message(4), 1, D)


def test_channel_names() -> None:
    assert split_channel("chat:lobby") == ("chat", "chat:lobby")
    assert split_channel("plain") == ("", "plain")
    assert split_channel("room:a:b") == ("room", "room:a:b")
    for bad in ("", "chat:", "a b", "x" * 300, ":x", "é:x"):
        with pytest.raises(InvalidChannelName):
            split_channel(bad)


def test_namespace_lookup_and_validation() -> None:
    chat = ChannelOptions(history_size=5)
    namespaces = Namespaces({"chat": chat})
    assert namespaces.options("chat:x") is chat
    assert namespaces.options("other:x") is namespaces.default
    with pytest.raises(ConfigurationError):
        namespaces.add("bad:ns", chat)
    with pytest.raises(ConfigurationError):
        ChannelOptions(history_ttl=100, meta_ttl=10)
    with pytest.raises(ConfigurationError):
        ChannelOptions(history_size=-1)
    with pytest.raises(ConfigurationError):
        ConnectionLimits(max_queue_bytes=0)


async def test_the_writer_parks_between_bursts_and_stops_on_detach() -> None:
    sock, metrics = FakeSocket(), ChannelMetrics()
    outbox = Outbox(sock, ConnectionLimits(), metrics)
    outbox.push(message(0), 1, D)
    await outbox.wait_drained()
    writer = outbox._writer
    assert writer is not None and not writer.done()  # parked, not finished
    shared = (message(1), 1, D)
    assert outbox.push_entry(shared) and outbox.push_entry(shared)
    await outbox.wait_drained()
    assert outbox._writer is writer and sock.texts == ["0", "1", "1"]
    outbox.detach()
    await asyncio.sleep(0)
    assert writer.cancelled() and outbox._writer is None
