"""WebSocket load generators (picows client on uvloop), run in their own process.

``python loadgen.py echo URL CONNS ROUND_TRIPS PAYLOAD_BYTES``
    CONNS connections each send a text frame and wait for its echo, ROUND_TRIPS times. Prints
    JSON: ``{"msgs_per_s", "p50_us", "p99_us", "round_trips"}``.

``python loadgen.py idle URL CONNS SERVER_PID``
    Opens CONNS connections, lets them sit idle, and prints JSON with the server's RSS before
    and after (KiB) and the growth per connection.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from typing import Any

import picows
import uvloop
from _server import rss_kib


class EchoListener(picows.WSListener):  # type: ignore[misc]
    """Hands each text frame to a future the sender is waiting on."""

    def __init__(self) -> None:
        self.waiter: asyncio.Future[None] | None = None

    def on_ws_frame(self, transport: Any, frame: Any) -> None:
        if frame.msg_type == picows.WSMsgType.CLOSE:
            transport.disconnect()
            return
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(None)


async def echo_connection(url: str, n: int, payload: bytes, latencies: list[float]) -> None:
    """One connection doing ``n`` sequential round trips."""
    transport, listener = await picows.ws_connect(EchoListener, url)
    loop = asyncio.get_running_loop()
    for _ in range(n):
        listener.waiter = loop.create_future()
        start = time.perf_counter()
        transport.send(picows.WSMsgType.TEXT, payload)
        await listener.waiter
        latencies.append(time.perf_counter() - start)
    transport.send_close(picows.WSCloseCode.OK)
    transport.disconnect()


async def echo(url: str, conns: int, n: int, size: int) -> dict[str, float]:
    """Run the echo load; return throughput and latency percentiles."""
    payload = b"a" * size
    latencies: list[float] = []
    start = time.perf_counter()
    await asyncio.gather(*(echo_connection(url, n, payload, latencies) for _ in range(conns)))
    elapsed = time.perf_counter() - start
    latencies.sort()
    return {
        "msgs_per_s": conns * n / elapsed,
        "p50_us": latencies[len(latencies) // 2] * 1e6,
        "p99_us": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1e6,
        "round_trips": conns * n,
    }


async def idle(url: str, conns: int, server_pid: int) -> dict[str, float]:
    """Open ``conns`` idle connections; return the server's RSS growth per connection."""
    before = rss_kib(server_pid)
    transports: list[Any] = []
    gate = asyncio.Semaphore(200)  # bounded handshake concurrency, so the backlog never overflows

    async def open_one() -> None:
        async with gate:
            transport, _ = await picows.ws_connect(picows.WSListener, url)
            transports.append(transport)

    await asyncio.gather(*(open_one() for _ in range(conns)))
    await asyncio.sleep(1.5)  # let the server settle (allocator, pending tasks)
    after = rss_kib(server_pid)
    for transport in transports:
        transport.disconnect()
    await asyncio.sleep(0.2)
    return {
        "connections": len(transports),
        "rss_before_kib": before,
        "rss_after_kib": after,
        "kib_per_connection": (after - before) / conns,
    }


def main() -> None:
    """Dispatch on the mode argument; print the JSON result."""
    mode, url, *rest = sys.argv[1:]
    if mode == "echo":
        result = uvloop.run(echo(url, int(rest[0]), int(rest[1]), int(rest[2])))
    elif mode == "idle":
        result = uvloop.run(idle(url, int(rest[0]), int(rest[1])))
    else:
        raise SystemExit(f"unknown mode {mode!r}: use echo or idle")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
