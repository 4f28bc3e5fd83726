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


async def test_an_idle_outbox_sends_at_once_without_a_writer_task() -> None:
    sock, metrics = FakeSocket(), ChannelMetrics()
    outbox = Outbox(sock, ConnectionLimits(), metrics)
    for n in range(5):
        assert outbox.push(message(n), 1, D)
    # The socket took every frame without suspending: no task was needed.
    assert sock.texts == ["0", "1", "2", "3", "4"] and metrics.delivered == 5
    assert outbox._writer is None and outbox.idle and outbox.queued_bytes == 0


async def test_a_send_that_suspends_is_finished_by_the_writer_in_order() -> None:
    sock, metrics = FakeSocket(), ChannelMetrics()
    outbox = Outbox(sock, ConnectionLimits(), metrics)
    sock.stall()
    assert outbox.push(message(0), 1, D)  # started here, suspends in the socket
    assert outbox.push(message(1), 1, D) and outbox.push(message(2), 1, D)
    assert not outbox.idle and len(outbox) == 2 and outbox.queued_bytes == 2
    assert sock.texts == [] and [m["text"] for m in sock.messages] == ["0"]
    sock.resume()
    await outbox.wait_drained()
    assert sock.texts == ["0", "1", "2"] and metrics.delivered == 3
    assert outbox.idle and outbox._writer is not None  # parked until the connection ends
    assert outbox.push(message(3), 1, D) and sock.texts[-1] == "3"


async def test_a_stuck_direct_send_times_out_as_a_slow_consumer() -> None:
    sock, metrics = FakeSocket(), ChannelMetrics()
    closed: list[int] = []
    outbox = Outbox(sock, ConnectionLimits(write_timeout=0.05), metrics, closed.append)
    sock.stall()
    outbox.push(message(0), 1, D)
    await sock.wait_for(lambda s: s.closed is not None)
    assert closed == [4001] and metrics.write_timeouts == 1 and metrics.slow_disconnects == 1
    assert sock.closed == (4001, "slow consumer: reconnect and recover") and sock.texts == []


async def test_a_direct_send_that_fails_drops_the_connection() -> None:
    sock, metrics = FakeSocket(), ChannelMetrics()
    closed: list[int] = []
    outbox = Outbox(sock, ConnectionLimits(), metrics, closed.append)
    sock.closed = (1000, "")  # the peer is gone: send raises
    assert not outbox.push(message(0), 1, D)
    assert closed == [1006] and outbox.closed and not outbox.push(message(1), 1, D)
    assert metrics.delivered == 0


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
    sock.stall()
    outbox.push(message(0), 1, D)
    sock.resume()
    await outbox.wait_drained()
    writer = outbox._writer
    assert writer is not None and not writer.done()  # parked, not finished
    sock.stall()
    shared = (message(1), 1, D)
    assert outbox.push_entry(shared) and outbox.push_entry(shared)
    sock.resume()
    await outbox.wait_drained()
    assert outbox._writer is writer and sock.texts == ["0", "1", "1"]
    outbox.detach()
    await asyncio.sleep(0)
    assert writer.cancelled() and outbox._writer is None


async def test_detach_cancels_a_send_the_writer_took_over() -> None:
    sock, metrics = FakeSocket(), ChannelMetrics()
    outbox = Outbox(sock, ConnectionLimits(), metrics)
    sock.stall()
    outbox.push(message(0), 1, D)
    writer = outbox._writer
    await asyncio.sleep(0)  # the writer now waits on the socket for the started send
    outbox.detach()
    await asyncio.sleep(0)
    assert writer is not None and writer.cancelled() and sock.texts == []
