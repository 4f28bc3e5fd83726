"""Channel spans: publish on one node, delivery on another as its child, through the broker.

The Redis case runs two hubs, each with its own Redis connections, on the shared server: the
delivery span is started in the receiving hub's listener task, which existed before the publish,
so its parent can only have come through Redis inside the publication.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from otel_helpers import points
from servers import redis_url
from tether.channels import Channels, SlowConsumerPolicy
from tether.channels.backends.memory import MemoryBackend, MemoryBroker
from tether.channels.options import ChannelOptions, ConnectionLimits

CHAT = {"chat": ChannelOptions(history_size=10, history_ttl=60)}
BROKERS = ["memory", pytest.param("redis", marks=[pytest.mark.integration, pytest.mark.redis])]


class Socket:
    """A WebSocket stand-in that records the frames the hub sends."""

    def __init__(self) -> None:
        self.texts: list[str] = []

    async def send(self, message: dict[str, Any]) -> None:
        self.texts.append(message["text"])

    async def close(self, code: int = 1000, reason: str | None = None) -> None:
        pass


async def until(predicate: Callable[[], object], timeout: float = 5.0) -> None:
    """Wait, bounded, for ``predicate()`` to hold."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.005)


@pytest.fixture
async def nodes(request: pytest.FixtureRequest) -> AsyncIterator[Callable[..., Channels]]:
    """Factory of hubs sharing one broker (memory, or Redis with a private key prefix)."""
    broker, prefix, hubs = MemoryBroker(), "tt" + secrets.token_hex(6), []

    def make(**kwargs: Any) -> Channels:
        if request.param == "memory":
            hub = Channels(MemoryBackend(broker), **kwargs)
        else:
            hub = Channels(f"{redis_url()}?prefix={prefix}", **kwargs)
        hubs.append(hub)
        return hub

    yield make
    for hub in hubs:
        await hub.stop()
    if request.param == "redis":
        import redis.asyncio as redis

        client = redis.Redis.from_url(redis_url())
        keys = [key async for key in client.scan_iter(match=f"{prefix}:*")]
        if keys:
            await client.delete(*keys)
        await client.aclose()


def named(exporter: InMemorySpanExporter, name: str) -> list[ReadableSpan]:
    return [s for s in exporter.get_finished_spans() if s.name == name]


@pytest.mark.parametrize("nodes", BROKERS, indirect=True)
async def test_delivery_on_another_node_is_a_child_of_the_publish(otel: Any, nodes: Any) -> None:
    config, exporter, _ = otel
    a = nodes(telemetry=config, node_id="node-a", namespaces=CHAT)
    b = nodes(telemetry=config, node_id="node-b", namespaces=CHAT)
    await a.start()
    await b.start()
    near, far = Socket(), Socket()
    await a.subscribe(near, "chat:room")
    await b.subscribe(far, "chat:room", raw=True)
    tracer = config["tracer_provider"].get_tracer("test")
    with tracer.start_as_current_span("request") as request:
        await a.publish("chat:room", {"text": "hi"})
    await until(lambda: far.texts and near.texts and len(named(exporter, "deliver chat")) == 2)
    assert json.loads(far.texts[0]) == {"text": "hi"}  # raw: the data exactly, no envelope
    assert json.loads(near.texts[0])["data"] == {"text": "hi"}
    (publish,) = named(exporter, "publish chat")
    assert publish.kind == SpanKind.PRODUCER
    assert publish.parent is not None
    assert publish.parent.span_id == request.get_span_context().span_id
    deliveries = {s.attributes["tether.node_id"]: s for s in named(exporter, "deliver chat")}  # type: ignore[index]
    remote = deliveries["node-b"]
    assert remote.kind == SpanKind.CONSUMER
    assert remote.parent is not None and remote.parent.span_id == publish.context.span_id
    assert remote.context.trace_id == publish.context.trace_id
    attributes = dict(remote.attributes or {})
    assert attributes["messaging.destination.name"] == "chat:room"
    assert attributes["tether.fanout.sockets"] == 1
    assert attributes["tether.fanout.sent"] == 1
    assert attributes["tether.fanout.dropped"] == attributes["tether.fanout.slow"] == 0
    history = await b.history("chat:room")
    assert [p.data for p in history.publications] == ['{"text":"hi"}']


@pytest.mark.parametrize("nodes", BROKERS, indirect=True)
async def test_publications_from_an_untraced_node_arrive_unchanged(otel: Any, nodes: Any) -> None:
    config, exporter, _ = otel
    plain, traced = nodes(), nodes(telemetry=config)
    await plain.start()
    await traced.start()
    socket = Socket()
    await traced.subscribe(socket, "chat:x", raw=True)
    await plain.publish("chat:x", [1, 2])
    await until(lambda: socket.texts)
    assert socket.texts == ["[1,2]"]
    assert not exporter.get_finished_spans()  # no parent to continue: no delivery span


@pytest.mark.parametrize("nodes", ["memory"], indirect=True)
async def test_fanout_counts_drops(otel: Any, nodes: Any) -> None:
    config, exporter, _ = otel
    options = ChannelOptions(slow_consumer=SlowConsumerPolicy.DROP_NEWEST)
    limits = ConnectionLimits(max_queue_messages=8)
    hub = nodes(telemetry=config, namespaces={"feed": options}, limits=limits)
    await hub.start()
    stuck = asyncio.Event()

    class Stalled(Socket):
        async def send(self, message: dict[str, Any]) -> None:
            await stuck.wait()

    fast, slow = Socket(), Stalled()
    await hub.subscribe(fast, "feed:a")
    await hub.subscribe(slow, "feed:a")
    for n in range(hub.limits.max_queue_messages + 5):
        await hub.publish("feed:a", n)
    await until(lambda: len(named(exporter, "deliver feed")) == hub.limits.max_queue_messages + 5)
    spans = named(exporter, "deliver feed")
    assert sum(dict(s.attributes or {})["tether.fanout.dropped"] for s in spans) >= 1
    assert all(dict(s.attributes or {})["tether.fanout.sockets"] == 2 for s in spans)
    stuck.set()


@pytest.mark.parametrize("nodes", ["memory"], indirect=True)
async def test_hub_counters_are_instruments(otel: Any, nodes: Any) -> None:
    config, _, reader = otel
    hub = nodes(telemetry=config, node_id="n1")
    await hub.start()
    await hub.publish("chat:a", 1)
    (published,) = [
        p
        for p in points(reader, "tether.channel.published")
        if p.attributes["tether.node_id"] == "n1"
    ]
    assert published.value == hub.metrics.published == 1


@pytest.mark.parametrize("nodes", ["memory"], indirect=True)
async def test_an_unsampled_publish_carries_no_context(otel: Any, nodes: Any) -> None:
    from opentelemetry.sdk.trace.sampling import ALWAYS_OFF

    config, exporter, _ = otel
    config["tracer_provider"].sampler = ALWAYS_OFF
    hub = nodes(telemetry=config, namespaces=CHAT)
    await hub.start()
    socket = Socket()
    await hub.subscribe(socket, "chat:q", raw=True)
    seen: list[str] = []
    original = hub.backend.backend.publish  # the wrapped backend sees what goes to the broker

    async def spy(channel: str, data: str, options: Any) -> Any:
        seen.append(data)
        return await original(channel, data, options)

    hub.backend.backend.publish = spy
    await hub.publish("chat:q", {"n": 1})
    await until(lambda: socket.texts)
    assert seen == ['{"n":1}'] and socket.texts == ['{"n":1}']
    assert not exporter.get_finished_spans()


@pytest.mark.parametrize("nodes", BROKERS, indirect=True)
async def test_an_untraced_node_strips_a_traced_nodes_envelope(otel: Any, nodes: Any) -> None:
    """Nodes may differ in config: the untraced node's clients, live or replayed, get JSON."""
    from tether.channels.backends.base import Position

    config, exporter, _ = otel
    traced = nodes(telemetry=config, node_id="traced", namespaces=CHAT)
    untraced = nodes(node_id="plain", namespaces=CHAT)
    await traced.start()
    await untraced.start()
    raw, framed, late = Socket(), Socket(), Socket()
    first = await untraced.subscribe(raw, "chat:mixed", raw=True)
    await untraced.subscribe(framed, "chat:mixed")
    tracer = config["tracer_provider"].get_tracer("test")
    for n in range(1, 4):
        with tracer.start_as_current_span("request"):
            await traced.publish("chat:mixed", {"n": n})
    await until(lambda: len(raw.texts) == 3 and len(framed.texts) == 3)
    assert len(named(exporter, "publish chat")) == 3  # the envelope did go through the broker
    assert [json.loads(text) for text in raw.texts] == [{"n": 1}, {"n": 2}, {"n": 3}]
    assert [json.loads(text)["data"] for text in framed.texts] == [{"n": 1}, {"n": 2}, {"n": 3}]
    history = await untraced.history("chat:mixed")
    assert [p.data for p in history.publications] == ['{"n":1}', '{"n":2}', '{"n":3}']
    since = Position(first.position.offset, first.position.epoch)
    await untraced.subscribe(late, "chat:mixed", since=since, raw=True)  # recovery replays
    await until(lambda: len(late.texts) == 3)
    assert [json.loads(text) for text in late.texts] == [{"n": 1}, {"n": 2}, {"n": 3}]
    assert not any("\x1e" in text or "\x1f" in text for text in raw.texts + framed.texts)
