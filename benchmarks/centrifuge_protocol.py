"""Measure the Centrifuge endpoint against tether's own channels protocol, in process.

- ``echo``: one connection subscribed to a channel sends N publish commands; each costs a
  command decode, the publish, the fan-out of the publication back to the same connection
  and the reply. CPU µs per publish, whole loop (setup amortised over N).
- ``fan-out``: N connections subscribed through the protocol endpoint; one publish from the
  hub, ms until the last connection's frame is handed to the (fake) server, p50.

Implementations: ``tether protocol`` (``channels.endpoint``), ``centrifuge json`` and
``centrifuge protobuf`` (``channels.centrifuge_endpoint(anonymous=True)``). Sockets are
in-process fakes; the loop is uvloop. The target: the JSON path within 1.2x of tether's own.

Run alone: ``benchmarks/.venv/bin/python benchmarks/centrifuge_protocol.py [--smoke]``.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

import uvloop
from _common import CONNECT, Row, base_parser, clean_slate, cpu_ns, emit, percentile, rotated
from _common import websocket_scope as scope_for

CHANNEL = "room:lobby"
MESSAGE = {"type": "chat", "user": "ann", "text": "hello everyone, how is it going?"}
IMPLEMENTATIONS = ("tether protocol", "centrifuge json", "centrifuge protobuf")


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def frames(name: str, publishes: int) -> list[dict[str, Any]]:
    """The receive messages of a client that subscribes and then publishes ``publishes`` times."""
    if name == "tether protocol":
        sub = json.dumps({"type": "subscribe", "id": 1, "channel": CHANNEL})
        pub = json.dumps({"type": "publish", "id": 2, "channel": CHANNEL, "data": MESSAGE})
        return [_text(sub), *[_text(pub)] * publishes]
    if name == "centrifuge json":
        hello = (
            json.dumps({"id": 1, "connect": {}})
            + "\n"
            + json.dumps({"id": 2, "subscribe": {"channel": CHANNEL}})
        )
        pub = json.dumps({"id": 3, "publish": {"channel": CHANNEL, "data": MESSAGE}})
        return [_text(hello), *[_text(pub)] * publishes]
    from tether.channels.centrifuge import tether_centrifuge_pb2 as pb

    def framed(command: Any) -> dict[str, Any]:
        body = command.SerializeToString()
        return {"type": "websocket.receive", "bytes": _varint(len(body)) + body}

    connect = framed(pb.Command(id=1, connect=pb.ConnectRequest()))
    subscribe = framed(pb.Command(id=2, subscribe=pb.SubscribeRequest(channel=CHANNEL)))
    hello = {"type": "websocket.receive", "bytes": connect["bytes"] + subscribe["bytes"]}
    data = json.dumps(MESSAGE).encode()
    pub = framed(pb.Command(id=3, publish=pb.PublishRequest(channel=CHANNEL, data=data)))
    return [hello, *[pub] * publishes]


def _text(text: str) -> dict[str, Any]:
    return {"type": "websocket.receive", "text": text}


class Client:
    """A fake socket: replays ``script``, then waits (``hold``) or disconnects; counts sends."""

    def __init__(self, script: list[dict[str, Any]], hold: bool, sink: Sink) -> None:
        self.script = deque([CONNECT, *script])
        self.hold = hold
        self.sink = sink

    async def receive(self) -> dict[str, Any]:
        if self.script:
            return self.script.popleft()
        if self.hold:
            await asyncio.Event().wait()
        return {"type": "websocket.disconnect", "code": 1000}


class Sink:
    """Counts frames of every fake socket; a future fires at a target count."""

    def __init__(self) -> None:
        self.count = 0
        self.target = 0
        self.done: asyncio.Future[float] | None = None

    def arm(self, target: int) -> asyncio.Future[float]:
        self.count, self.target = 0, target
        self.done = asyncio.get_running_loop().create_future()
        return self.done

    async def send(self, message: dict[str, Any]) -> None:
        if message["type"] not in ("websocket.send",):
            return
        self.count += 1
        if self.count == self.target and self.done is not None and not self.done.done():
            self.done.set_result(time.perf_counter())


def serve(name: str, hub: Any, endpoint: Any) -> Callable[[Any], Awaitable[None]]:
    """The endpoint coroutine for ``name``."""
    return hub.endpoint if name == "tether protocol" else endpoint.serve


def socket(name: str, client: Client) -> Any:
    from tether.websockets import WebSocket

    scope = scope_for("/ws")
    if name == "centrifuge protobuf":
        scope["subprotocols"] = ["centrifuge-protobuf"]
    return WebSocket(scope, client.receive, client.sink.send)


async def echo(name: str, publishes: int) -> float:
    """CPU µs per publish round trip on one connection."""
    from tether.channels import ChannelOptions, Channels

    hub = Channels("memory://", namespaces={"room": ChannelOptions(client_publish=True)})
    endpoint = hub.centrifuge_endpoint(anonymous=True, ping_interval=0)
    async with hub:
        script = frames(name, publishes)
        client = Client(script, hold=False, sink=Sink())
        clean_slate()
        start = cpu_ns()
        await serve(name, hub, endpoint)(socket(name, client))
        took = cpu_ns() - start
    # Every publish answers twice: its reply and the publication coming back.
    assert client.sink.count >= 2 * publishes, (name, client.sink.count)
    return took / publishes / 1e3


async def fanout(name: str, n: int, count: int) -> list[float]:
    """Per-publish ms, publish -> last of ``n`` frames, ``count`` publishes."""
    from tether.channels import ChannelOptions, Channels

    hub = Channels("memory://", namespaces={"room": ChannelOptions(client_publish=True)})
    endpoint = hub.centrifuge_endpoint(anonymous=True, ping_interval=0)
    sink = Sink()
    result = []
    async with hub:
        handshake = frames(name, 0)
        ready = sink.arm(n * (1 if name == "tether protocol" else 2))
        tasks = [
            asyncio.create_task(serve(name, hub, endpoint)(socket(name, Client(list(handshake), True, sink))))
            for _ in range(n)
        ]  # fmt: skip
        await asyncio.wait_for(ready, 60)
        for _ in range(count):
            done = sink.arm(n)
            start = time.perf_counter()
            await hub.publish(CHANNEL, MESSAGE)
            finished = await asyncio.wait_for(done, 30)
            result.append((finished - start) * 1e3)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return sorted(result)


async def measure(sizes: dict[int, int], publishes: int, reps: int) -> list[Row]:
    rows: list[Row] = []
    names = list(IMPLEMENTATIONS)
    try:
        frames("centrifuge protobuf", 0)
    except ImportError as exc:
        names.remove("centrifuge protobuf")
        rows.append(Row("centrifuge protobuf", "echo µs", False, note=f"not available ({exc})"))
    echo_rows = {name: Row(name, "echo µs") for name in names}
    fan_rows = {(name, n): Row(name, f"fan-out {n:,} p50 ms") for name in names for n in sizes}
    rows += list(echo_rows.values()) + list(fan_rows.values())
    for name in names:  # warm up: imports, caches, the first connection of each kind
        await echo(name, 50)
        await fanout(name, 10, 2)
    for rep in range(reps):
        for name in rotated(names, rep):
            echo_rows[name].samples.append(await echo(name, publishes))
            for n, count in sizes.items():
                fan_rows[(name, n)].samples.append(percentile(await fanout(name, n, count), 0.5))
    return rows


def main() -> None:
    args = base_parser(__doc__ or "").parse_args()
    sizes = {50: 10} if args.smoke else {1_000: 100}
    publishes = 200 if args.smoke else 5_000
    reps = args.reps or (1 if args.smoke else 5)
    rows = uvloop.run(measure(sizes, publishes, reps))
    emit(
        "centrifuge_protocol",
        "Centrifuge endpoint vs tether's own protocol: publish echo (CPU µs) and fan-out (ms)",
        "µs / ms",
        rows,
        {"sizes": {str(k): v for k, v in sizes.items()}, "publishes": publishes, "reps": reps,
         "sockets": "in-process fake ASGI sockets", "loop": "uvloop"},
    )  # fmt: skip


if __name__ == "__main__":
    main()
