"""Measure (g): cross-node delivery through Redis, and publish throughput to Redis.

**Latency.** Two processes on loopback share one Redis: node B (a subprocess pinned to CPU 0)
subscribes one in-process fake socket to a channel and reads the publish time stamped in each
message (``time.monotonic_ns()``, the same clock in every process on Linux); node A (this
process, pinned to CPU 1) publishes at a steady 1,000 msgs/s. Reported: p50 and p99 of
publish call -> frame handed to node B's socket, in ms, and how many messages were lost.

**Throughput.** Node A alone publishes as fast as it can for a fixed time: ``sequential`` (each
publish awaited before the next) and ``concurrent`` (100 publishes in flight). Reported in
publishes/s.

Implementations: ``tether`` (``tether.channels.Channels`` on ``redis://``) and ``redis-py``
(``redis.asyncio`` PUBLISH / SUBSCRIBE with no framework: the floor). Keys and channels carry a
unique prefix; nothing else in the shared Redis is touched.

Run alone: ``benchmarks/.venv/bin/python benchmarks/cross_node.py [--smoke]``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import uvloop
from _common import CONNECT, Row, base_parser, emit, percentile, rotated, websocket_scope

REDIS = os.environ.get("TETHER_BENCH_REDIS", "redis://127.0.0.1:6379/0")
BROKER_ENV = "TETHER_BENCH_BROKER"
PAD = "x" * 60
Publish = Callable[[dict[str, Any]], Awaitable[Any]]


def pin(cpu: int) -> None:
    """Pin this process to ``cpu`` when the machine has more than one."""
    if (os.cpu_count() or 1) >= 2:
        with contextlib.suppress(OSError):
            os.sched_setaffinity(0, {cpu})


def tether_broker() -> str:
    """The broker URL tether's nodes use: ``$TETHER_BENCH_BROKER`` when set (any tether broker
    URL: ``redis_latency.py`` sets a Sentinel or Cluster one; node B inherits it), else
    ``REDIS``. Read at each call, so one process can measure several brokers in turn."""
    return os.environ.get(BROKER_ENV) or REDIS


@contextlib.asynccontextmanager
async def tether_publisher(prefix: str, channel: str) -> AsyncIterator[Publish]:
    """A tether hub on Redis; yields its publish function for ``channel``."""
    from tether.channels import Channels

    async with Channels(broker=f"{tether_broker()}?prefix={prefix}") as channels:

        async def publish(data: dict[str, Any]) -> Any:
            return await channels.publish(channel, data)

        yield publish


@contextlib.asynccontextmanager
async def redis_publisher(prefix: str, channel: str) -> AsyncIterator[Publish]:
    """redis-py with no framework: json.dumps + PUBLISH."""
    import redis.asyncio as aioredis

    client = aioredis.Redis.from_url(REDIS, max_connections=200)
    try:

        async def publish(data: dict[str, Any]) -> Any:
            return await client.publish(f"{prefix}:{channel}", json.dumps(data))

        yield publish
    finally:
        await client.aclose()


PUBLISHERS = {"tether": tether_publisher, "redis-py": redis_publisher}


# ----------------------------------------------------------------------------- node B side


class Recorder:
    """Collects the latency of every stamped frame node B's socket is handed."""

    def __init__(self) -> None:
        self.latencies_ms: list[float] = []

    def record(self, text: str | bytes) -> None:
        """Parse a delivered message and store now - its publish stamp."""
        stamp = json.loads(text)["t"]
        self.latencies_ms.append((time.monotonic_ns() - stamp) / 1e6)

    async def send(self, message: dict[str, Any]) -> None:
        """ASGI ``send`` of the fake socket."""
        if message["type"] == "websocket.send":
            self.record(message.get("text") or message["bytes"])


async def _idle_receive_factory() -> Callable[[], Awaitable[dict[str, Any]]]:
    first = [True]

    async def receive() -> dict[str, Any]:
        if first[0]:
            first[0] = False
            return CONNECT
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    return receive


@contextlib.asynccontextmanager
async def tether_subscriber(prefix: str, channel: str, recorder: Recorder) -> AsyncIterator[None]:
    """Node B on tether: a fake socket subscribed to ``channel`` with ``raw=True``."""
    from tether.channels import Channels
    from tether.websockets import WebSocket

    async with Channels(broker=f"{tether_broker()}?prefix={prefix}") as channels:
        websocket = WebSocket(websocket_scope("/ws"), await _idle_receive_factory(), recorder.send)
        await websocket.accept()
        async with channels.connection(websocket, raw=True) as connection:
            await connection.subscribe(channel)
            yield


@contextlib.asynccontextmanager
async def redis_subscriber(prefix: str, channel: str, recorder: Recorder) -> AsyncIterator[None]:
    """Node B on bare redis-py: SUBSCRIBE and record each message."""
    import redis.asyncio as aioredis

    client = aioredis.Redis.from_url(REDIS)
    pubsub = client.pubsub(ignore_subscribe_messages=True)
    await pubsub.subscribe(f"{prefix}:{channel}")

    async def listen() -> None:
        async for message in pubsub.listen():
            recorder.record(message["data"])

    task = asyncio.create_task(listen())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await pubsub.aclose()
        await client.aclose()


SUBSCRIBERS = {"tether": tether_subscriber, "redis-py": redis_subscriber}


async def node_b(impl: str, prefix: str, channel: str) -> None:
    """Subscribe, say "ready", wait for the expected count on stdin, print the latencies."""
    recorder = Recorder()
    async with SUBSCRIBERS[impl](prefix, channel, recorder):
        print("ready", flush=True)
        line = await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
        expected = int(line)
        deadline = time.monotonic() + 5
        while len(recorder.latencies_ms) < expected and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
    values = sorted(recorder.latencies_ms)
    print(json.dumps({"received": len(values), "expected": expected,
                      "p50_ms": percentile(values, 0.5), "p99_ms": percentile(values, 0.99)}))  # fmt: skip


# ----------------------------------------------------------------------------- node A side


async def paced(publish: Publish, rate: float, seconds: float) -> int:
    """Publish stamped messages at ``rate`` per second for ``seconds``; return the count."""
    count = int(rate * seconds)
    start = time.monotonic()
    for i in range(count):
        delay = start + i / rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        await publish({"t": time.monotonic_ns(), "seq": i, "pad": PAD})
    return count


async def latency_sample(impl: str, rate: float, seconds: float) -> dict[str, Any]:
    """One node-B subprocess, one paced run from here; return node B's report."""
    prefix, channel = f"bench-{uuid.uuid4().hex[:10]}", "room:lobby"
    argv = [sys.executable, __file__, "--node-b", impl, prefix, channel]
    proc = subprocess.Popen(
        argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    try:
        if proc.stdout.readline().strip() != "ready":
            proc.wait(10)
            raise RuntimeError(f"node B ({impl}) did not start: {proc.stderr.read()[-1500:]}")
        async with PUBLISHERS[impl](prefix, channel) as publish:
            sent = await paced(publish, rate, seconds)
        proc.stdin.write(f"{sent}\n")
        proc.stdin.flush()
        report: dict[str, Any] = json.loads(proc.stdout.readline())
    finally:
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(15)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    if proc.returncode != 0:
        raise RuntimeError(f"node B ({impl}) exited with {proc.returncode}")
    return report


async def throughput_sample(impl: str, in_flight: int, seconds: float) -> float:
    """Publishes per second with ``in_flight`` concurrent publishers for ``seconds``."""
    prefix = f"bench-{uuid.uuid4().hex[:10]}"
    async with PUBLISHERS[impl](prefix, "room:lobby") as publish:
        done = [0]
        stop = time.monotonic() + seconds

        async def worker() -> None:
            message = {"t": 0, "seq": 0, "pad": PAD}
            while time.monotonic() < stop:
                await publish(message)
                done[0] += 1

        start = time.monotonic()
        await asyncio.gather(*(worker() for _ in range(in_flight)))
        return done[0] / (time.monotonic() - start)


async def check(impl: str) -> str:
    """Empty when ``impl`` works end to end; else the reason (tether only; peers raise)."""
    try:
        if impl == "tether":
            from tether.channels import Channels  # noqa: F401  (fail fast, before any process)
        report = await latency_sample(impl, 200, 0.1)
        if report["received"] == 0:
            raise RuntimeError("node B received nothing")
    except Exception as exc:
        if impl != "tether":
            raise
        return f"not available ({type(exc).__name__}: {exc})"
    return ""


VARIANTS = ("p50 ms", "p99 ms", "lost", "seq publishes/s", "100-in-flight publishes/s")


async def redis_missing() -> str:
    """Empty when Redis answers a PING at ``REDIS``; else why not."""
    import redis.asyncio as aioredis

    client = aioredis.Redis.from_url(REDIS, socket_connect_timeout=2)
    try:
        await client.ping()
    except Exception as exc:
        return f"no Redis at {REDIS}: {type(exc).__name__}: {exc}"
    finally:
        await client.aclose()
    return ""


async def measure(seconds: float, tp_seconds: float, reps: int) -> list[Row]:
    """Alternate the implementations ``reps`` times over every variant."""
    rows: list[Row] = []
    live: list[dict[str, Row]] = []
    missing = await redis_missing()
    if missing:
        # The machine lacks a service; the harness is not broken. Say so, do not fail.
        print(f"cross_node: {missing}", file=sys.stderr)
        note = f"not available ({missing})"
        return [Row(impl, v, available=False, note=note) for impl in PUBLISHERS for v in VARIANTS]
    for impl in PUBLISHERS:
        reason = await check(impl)
        if reason:
            rows += [Row(impl, v, available=False, note=reason) for v in VARIANTS]
            continue
        by_variant = {v: Row(impl, v) for v in VARIANTS}
        rows += by_variant.values()
        live.append(by_variant)
    for rep in range(reps):
        for r in rotated(live, rep):
            impl = r["p50 ms"].name
            report = await latency_sample(impl, 1_000, seconds)
            r["p50 ms"].samples.append(report["p50_ms"])
            r["p99 ms"].samples.append(report["p99_ms"])
            r["lost"].samples.append(report["expected"] - report["received"])
            r["seq publishes/s"].samples.append(await throughput_sample(impl, 1, tp_seconds))
            r["100-in-flight publishes/s"].samples.append(
                await throughput_sample(impl, 100, tp_seconds)
            )
    return rows


def main() -> None:
    """Parse options; run node B when asked to, else measure and print JSON."""
    if len(sys.argv) > 1 and sys.argv[1] == "--node-b":
        pin(0)
        uvloop.run(node_b(*sys.argv[2:5]))
        return
    args = base_parser(__doc__ or "").parse_args()
    pin(1)
    seconds, tp_seconds = (0.5, 0.3) if args.smoke else (5.0, 2.0)
    reps = args.reps or (1 if args.smoke else 3)
    rows = uvloop.run(measure(seconds, tp_seconds, reps))
    emit(
        "cross_node",
        "Cross-node delivery through Redis (1,000 msgs/s, publish on A -> frame on B) and publish throughput",
        "mixed",
        rows,
        {"rate_per_s": 1_000, "seconds_per_sample": seconds, "throughput_seconds": tp_seconds,
         "reps": reps, "redis": REDIS.split("@")[-1], "loop": "uvloop"},
    )  # fmt: skip


if __name__ == "__main__":
    main()
