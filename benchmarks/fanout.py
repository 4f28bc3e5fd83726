"""Measure (f): local fan-out of one ~100-byte JSON message to N sockets, ms publish -> last frame.

The sockets are in-process fakes: each is an accepted WebSocket object whose ASGI ``send``
counts the frames it is handed (no network; what is timed is the framework's path from the
publish call to the last ``websocket.send`` message given to the server). Implementations:

- ``tether``: ``tether.channels.Channels`` (memory broker), every socket subscribed to one
  channel through ``channels.connection(websocket, raw=True)``; ``await channels.publish(...)``.
- ``fastapi``: the FastAPI docs' ``ConnectionManager`` (a list of FastAPI/Starlette
  ``WebSocket`` objects and ``await connection.send_text(message)`` for each, in turn).
- ``raw``: the same loop calling each socket's ASGI ``send`` directly (the floor).

Each sample publishes P messages one after the other (the next once every socket has the
previous one) and reports p50 and p99 of the per-message latency; implementations alternate
within each repetition. The event loop is uvloop, as under ``uvicorn --loop uvloop``; the
garbage collector runs as usual (a fan-out path that allocates a lot pays for the collections it
triggers, as it would in a server with a large heap).

Run alone: ``benchmarks/.venv/bin/python benchmarks/fanout.py [--smoke]``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

import uvloop
from _common import (
    CONNECT,
    Row,
    base_parser,
    clean_slate,
    emit,
    percentile,
    rotated,
    websocket_scope,
)

MESSAGE = {
    "type": "chat",
    "room": "lobby",
    "user": "ann",
    "text": "hello everyone, how is it going?",
}
CHANNEL = "room:lobby"


class Sink:
    """Counts frames handed to any of the fake sockets; resolves a future at a target count."""

    def __init__(self) -> None:
        self.count = 0
        self.target = 0
        self.done: asyncio.Future[float] | None = None

    def arm(self, target: int) -> asyncio.Future[float]:
        """Reset the count and return a future set to the time the ``target``-th frame lands."""
        self.count, self.target = 0, target
        self.done = asyncio.get_running_loop().create_future()
        return self.done

    async def send(self, message: dict[str, Any]) -> None:
        """The ASGI ``send`` of every fake socket."""
        if message["type"] != "websocket.send":
            return
        self.count += 1
        if self.count == self.target and self.done is not None and not self.done.done():
            self.done.set_result(time.perf_counter())


async def _wait_forever() -> dict[str, Any]:
    await asyncio.Event().wait()
    return {"type": "websocket.disconnect", "code": 1000}


def fake_receive() -> Callable[[], Awaitable[dict[str, Any]]]:
    """A receive that says "connect" once and then never returns (an idle client)."""
    first = [True]

    async def receive() -> dict[str, Any]:
        if first[0]:
            first[0] = False
            return CONNECT
        return await _wait_forever()

    return receive


async def accepted(cls: Any, sink: Sink) -> Any:
    """An accepted WebSocket of class ``cls`` over a fake transport."""
    websocket = cls(websocket_scope("/ws"), fake_receive(), sink.send)
    await websocket.accept()
    return websocket


class Publisher:
    """One implementation, set up with N subscribed sockets; ``publish`` sends one message."""

    async def publish(self) -> None:
        raise NotImplementedError

    async def close(self) -> None:
        """Release what ``setup`` made."""


class ManagerPublisher(Publisher):
    """The FastAPI docs' ConnectionManager.broadcast: await send_text per socket, in turn."""

    def __init__(self, sockets: list[Any]) -> None:
        self.active_connections = sockets

    async def publish(self) -> None:
        message = json.dumps(MESSAGE)
        for connection in self.active_connections:
            await connection.send_text(message)


class RawPublisher(Publisher):
    """The floor: encode once, call each socket's ASGI send directly."""

    def __init__(self, sends: list[Callable[[dict[str, Any]], Awaitable[None]]]) -> None:
        self.sends = sends

    async def publish(self) -> None:
        event = {"type": "websocket.send", "text": json.dumps(MESSAGE)}
        for send in self.sends:
            await send(event)


class TetherPublisher(Publisher):
    """tether channels on the memory broker."""

    def __init__(self, channels: Any, stack: contextlib.AsyncExitStack) -> None:
        self.channels, self.stack = channels, stack

    @classmethod
    async def create(cls, n: int, sink: Sink) -> TetherPublisher:
        from tether.channels import Channels
        from tether.websockets import WebSocket

        channels = Channels(broker="memory://")
        stack = contextlib.AsyncExitStack()
        await stack.enter_async_context(channels)
        for _ in range(n):
            websocket = await accepted(WebSocket, sink)
            connection = await stack.enter_async_context(channels.connection(websocket, raw=True))
            await connection.subscribe(CHANNEL)
        return cls(channels, stack)

    async def publish(self) -> None:
        await self.channels.publish(CHANNEL, MESSAGE)

    async def close(self) -> None:
        await self.stack.aclose()


async def create(name: str, n: int, sink: Sink) -> Publisher:
    """Set up implementation ``name`` with ``n`` sockets on ``sink``."""
    if name == "tether":
        return await TetherPublisher.create(n, sink)
    if name == "fastapi":
        from fastapi import WebSocket

        return ManagerPublisher([await accepted(WebSocket, sink) for _ in range(n)])
    return RawPublisher([sink.send] * n)


async def latencies(publisher: Publisher, sink: Sink, n: int, count: int) -> list[float]:
    """Publish ``count`` messages in turn; return each one's publish -> last frame time, ms."""
    result = []
    clean_slate()
    for _ in range(count):
        done = sink.arm(n)
        start = time.perf_counter()
        await publisher.publish()
        finished = await asyncio.wait_for(done, 30)
        result.append((finished - start) * 1e3)
    return sorted(result)


IMPLEMENTATIONS = ("tether", "fastapi", "raw")


async def measure_size(n: int, count: int, reps: int, rows: list[Row]) -> None:
    """All implementations at ``n`` sockets, alternating, ``reps`` times."""
    label = f"{n:,} sockets"
    live: list[tuple[str, Publisher, Sink, Row, Row]] = []
    for name in IMPLEMENTATIONS:
        sink = Sink()
        try:
            publisher = await create(name, n, sink)
            await latencies(publisher, sink, n, 2)  # warm up, and check every socket gets it
        except Exception as exc:
            if name != "tether":
                raise
            note = f"not available ({type(exc).__name__}: {exc})"
            rows += [
                Row(name, f"{label} p50", False, note=note),
                Row(name, f"{label} p99", False, note=note),
            ]
            continue
        p50, p99 = Row(name, f"{label} p50"), Row(name, f"{label} p99")
        rows += [p50, p99]
        live.append((name, publisher, sink, p50, p99))
    for rep in range(reps):
        for _name, publisher, sink, p50, p99 in rotated(live, rep):
            values = await latencies(publisher, sink, n, count)
            p50.samples.append(percentile(values, 0.5))
            p99.samples.append(percentile(values, 0.99))
    for *_, publisher, _sink, _p50, _p99 in live:
        await publisher.close()


async def measure(sizes: dict[int, int], reps: int) -> list[Row]:
    """Every size in ``sizes`` (sockets -> publishes per sample)."""
    rows: list[Row] = []
    for n, count in sizes.items():
        await measure_size(n, count, reps, rows)
    return rows


def main() -> None:
    """Parse options, measure, print JSON."""
    args = base_parser(__doc__ or "").parse_args()
    sizes = {20: 20, 200: 10} if args.smoke else {1_000: 200, 10_000: 100}
    reps = args.reps or (1 if args.smoke else 5)
    rows = uvloop.run(measure(sizes, reps))
    emit(
        "fanout",
        "Local fan-out of one ~100 B JSON message, publish -> last frame handed to the server, ms",
        "ms",
        rows,
        {"sizes": {str(k): v for k, v in sizes.items()}, "reps": reps,
         "message_bytes": len(json.dumps(MESSAGE)), "sockets": "in-process fake ASGI sockets", "loop": "uvloop"},
    )  # fmt: skip


if __name__ == "__main__":
    main()
