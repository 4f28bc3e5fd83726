"""Ingest throughput of one node's Redis listener: how many publications per second it takes in.

A node (a subprocess pinned to CPU 0) starts the Redis backend with a hub that only counts
(``on_publication`` adds one) and subscribes to 8 channels. This process (CPU 1) then floods
those channels with pre-encoded publication payloads (``p<offset>:<epoch>:<data>``, 60 bytes
of data), pipelined 500 commands per write with two writes in flight per connection: ``PUBLISH``
to one server, ``SPUBLISH`` to each channel's master in a cluster of three masters (the node
then reads three shard connections). The node counts what its hub received over a fixed
window once the first message arrived. Each server's pub/sub output buffer limit is lifted
(``client-output-buffer-limit pubsub 0 0 0``), so a node slower than the flood is not
disconnected: Redis queues the rest. The Redis servers are pinned to CPU 1 with this process,
so the node has CPU 0 to itself (other jobs on the machine aside).

Two parsers: redis-py's C parser (``hiredis``, installed with ``tether[redis]``) and its
pure-Python one (the node hides ``hiredis`` from redis-py before importing it). The parser
redis-py chose is reported in each row's note. The flood's own rate is in ``extra``: when the
node's rate is close to it, the flood (this process and the Redis servers, which share the two
CPUs with the node) was the bottleneck and the node's figure is a floor.

Run alone: ``benchmarks/.venv/bin/python benchmarks/redis_ingest.py [--smoke]``.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from typing import Any

import uvloop
from _common import Row, base_parser, emit, rotated
from _redis_brokers import brokers, servers_of
from cross_node import pin

from servers import redis_cli

CHANNELS = 8
BATCH = 500
DATA = b'{"text":"' + b"x" * 48 + b'"}'
PARSERS = {"hiredis": "tether, hiredis", "python": "tether, Python parser"}
MODES = {"single": "one server msgs/s", "cluster 3 masters": "cluster, 3 shards msgs/s"}


# ----------------------------------------------------------------------------- the node


class Counter:
    """A hub that counts publications."""

    def __init__(self) -> None:
        self.count = 0

    def on_publication(self, publication: Any) -> None:
        self.count += 1

    def on_presence_event(self, *args: Any) -> None: ...

    def on_resubscribed(self) -> None: ...

    def on_broker_state(self, available: bool) -> None: ...


async def node(url: str, seconds: float) -> None:
    """Subscribe, print the keys and the parser, count for ``seconds`` after the first message."""
    from redis.asyncio import connection

    from tether.channels.backends import backend_from_url

    counter = Counter()
    backend = backend_from_url(f"{url}?prefix=ingest")
    await backend.start(counter)
    try:
        for index in range(CHANNELS):
            await backend.subscribe(f"room{index}")
        keys = sorted(key.decode() for key in backend.subscribed_keys())  # type: ignore[attr-defined]
        print(json.dumps({"keys": keys, "parser": connection.DefaultParser.__name__}), flush=True)
        while counter.count == 0:
            await asyncio.sleep(0.001)
        first, start = counter.count, time.perf_counter()
        await asyncio.sleep(seconds)
        rate = (counter.count - first) / (time.perf_counter() - start)
        print(json.dumps({"per_s": rate}), flush=True)
    finally:
        await backend.stop()


# ----------------------------------------------------------------------------- the flood


def _commands(verb: bytes, keys: list[str]) -> bytes:
    """``BATCH`` pre-encoded publish commands spread over ``keys``."""
    out = []
    for index in range(BATCH):
        key = keys[index % len(keys)].encode()
        payload = b"p%d:e0123456:%b" % (index // len(keys) + 1, DATA)
        out.append(b"*3\r\n$%d\r\n%b\r\n$%d\r\n%b\r\n$%d\r\n%b\r\n" % (
            len(verb), verb, len(key), key, len(payload), payload))  # fmt: skip
    return b"".join(out)


async def flood(port: int, batch: bytes, sent: list[int], stop: asyncio.Event) -> None:
    """Write ``batch`` again and again to 127.0.0.1:``port``, two writes ahead of the replies
    (integers: one line each), until ``stop``."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(batch)
        pending = BATCH
        while not stop.is_set():
            writer.write(batch)
            pending += BATCH
            await writer.drain()
            while pending > BATCH:
                replies = await reader.read(65536)
                if not replies:
                    raise ConnectionError(f"Redis at port {port} closed the flood's connection")
                pending -= replies.count(b"\n")
            sent[0] += BATCH
    finally:
        writer.close()


def owners(broker: Any, keys: list[str]) -> dict[int, list[str]]:
    """The port of the master of each key (one server: its own port)."""
    by_port: dict[int, list[str]] = {}
    servers = servers_of(broker)
    for key in keys:
        port = servers[0].port
        if len(servers) > 1:
            slot = redis_cli(port, "CLUSTER", "KEYSLOT", key)
            port = broker.owner_of(int(slot)).port
        by_port.setdefault(port, []).append(key)
    return by_port


async def sample(broker: Any, parser: str, seconds: float) -> tuple[float, float, str]:
    """One node process, one flood; (node's msgs/s, flood's msgs/s, redis-py's parser)."""
    argv = [sys.executable, __file__, "--node", parser, broker.url, str(seconds)]
    proc = await asyncio.create_subprocess_exec(
        *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    assert proc.stdout is not None and proc.stderr is not None
    stop, sent = asyncio.Event(), [0]
    floods: list[asyncio.Task[None]] = []
    try:
        line = await asyncio.wait_for(proc.stdout.readline(), 30)
        if not line:
            raise RuntimeError(f"the node did not start: {(await proc.stderr.read())[-1500:]!r}")
        ready = json.loads(line)
        verb = b"SPUBLISH" if "cluster" in broker.url else b"PUBLISH"
        floods = [
            asyncio.create_task(flood(port, _commands(verb, keys), sent, stop))
            for port, keys in owners(broker, ready["keys"]).items()
        ]
        start = time.perf_counter()
        line = await asyncio.wait_for(proc.stdout.readline(), seconds + 30)
        if not line:
            raise RuntimeError(f"the node failed: {(await proc.stderr.read())[-1500:]!r}")
        report = json.loads(line)
        flood_rate = sent[0] / (time.perf_counter() - start)
    finally:
        stop.set()
        await asyncio.gather(*floods)
        if proc.returncode is None:
            await asyncio.wait_for(proc.wait(), 30)
    return float(report["per_s"]), flood_rate, str(ready["parser"])


async def measure(started: dict[str, Any], seconds: float, reps: int) -> list[Row]:
    """``reps`` rounds over every (parser, broker), in rotated order."""
    for broker in started.values():
        for server in servers_of(broker):
            redis_cli(server.port, "CONFIG", "SET", "client-output-buffer-limit", "pubsub 0 0 0")
            if server.proc is not None and (os.cpu_count() or 1) >= 2:
                os.sched_setaffinity(server.proc.pid, {1})  # CPU 0 is the node's alone
    rows = {(p, m): Row(name, MODES[m], extra={"flood_per_s": []})
            for p, name in PARSERS.items() for m in started}  # fmt: skip
    for rep in range(reps):
        for parser, mode in rotated(list(rows), rep):
            rate, flood_rate, chosen = await sample(started[mode], parser, seconds)
            row = rows[(parser, mode)]
            row.samples.append(rate)
            row.extra["flood_per_s"].append(round(flood_rate))
            row.note = f"{row.name}: redis-py used {chosen}"
    return list(rows.values())


def main() -> None:
    """Run the node when asked to; else start the brokers, measure, print the JSON document."""
    if len(sys.argv) > 1 and sys.argv[1] == "--node":
        pin(0)
        if sys.argv[2] == "python":
            sys.modules["hiredis"] = None  # type: ignore[assignment]  # redis-py falls back
        uvloop.run(node(sys.argv[3], float(sys.argv[4])))
        return
    args = base_parser(__doc__ or "").parse_args()
    pin(1)
    seconds = 0.5 if args.smoke else 3.0
    reps = args.reps or (1 if args.smoke else 3)
    with brokers(*MODES) as started:
        rows = uvloop.run(measure(started, seconds, reps))
    emit(
        "redis_ingest",
        "Redis ingest on one node: publications/s its listener hands to the hub",
        "msgs/s",
        rows,
        {"seconds_per_sample": seconds, "reps": reps, "channels": CHANNELS,
         "data_bytes": len(DATA), "pipelined": BATCH, "loop": "uvloop"},
        better="higher",
        baseline=PARSERS["python"],
    )  # fmt: skip


if __name__ == "__main__":
    main()
