"""Publish throughput of the Redis backend: one server, Sentinel, and a cluster of one and three
masters.

Every broker is private and started here on free ports (see ``_redis_brokers.py``), so the
figures do not depend on what else uses the shared Redis. One process (this one) calls the
backend's ``publish`` directly, without a hub, for a fixed time, in two shapes:

- ``seq``: each publish awaited before the next (one round trip per publish);
- ``100-in-flight``: 100 publishes in flight, spread over 64 channels (so over every shard).

Each with ``history_size`` 0 and 100. Reported: publishes/s. The single server's (and the
Sentinel master's) publishes share round trips on one auto-pipelined connection; the
cluster's share one such connection per master (falling back to redis-py's ``RedisCluster``
after a redirect) and read the master's replication id in the script (see
src/tether/channels/backends/redis_cluster.py). One master against three is how throughput
grows with the shards; here one client process drives them all, on a machine whose two CPUs
also run every server, so the growth is a floor.

Run alone: ``benchmarks/.venv/bin/python benchmarks/redis_modes.py [--smoke]``.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from _common import Row, base_parser, emit, sample_in_turn
from _redis_brokers import MODES, brokers

from tether.channels.backends import backend_from_url
from tether.channels.backends.base import Backend
from tether.channels.options import ChannelOptions

PAYLOAD = '{"text":"' + "x" * 60 + '"}'
IN_FLIGHT = 100


class Quiet:
    """A hub that ignores everything (publishers need no deliveries)."""

    def on_publication(self, publication: Any) -> None: ...

    def on_presence_event(self, *args: Any) -> None: ...

    def on_resubscribed(self) -> None: ...

    def on_broker_state(self, available: bool) -> None: ...


async def sequential(backend: Backend, options: ChannelOptions, seconds: float) -> float:
    """Publishes/s with each publish awaited before the next."""
    count, start = 0, time.perf_counter()
    deadline = start + seconds
    while time.perf_counter() < deadline:
        await backend.publish("bench:seq", PAYLOAD, options)
        count += 1
    return count / (time.perf_counter() - start)


async def concurrent(backend: Backend, options: ChannelOptions, seconds: float) -> float:
    """Publishes/s with ``IN_FLIGHT`` publishes in flight over 64 channels."""
    count = 0
    deadline = time.perf_counter() + seconds

    async def worker(index: int) -> None:
        nonlocal count
        channel = f"bench:c{index % 64}"
        while time.perf_counter() < deadline:
            await backend.publish(channel, PAYLOAD, options)
            count += 1

    start = time.perf_counter()
    await asyncio.gather(*(worker(i) for i in range(IN_FLIGHT)))
    return count / (time.perf_counter() - start)


SHAPES = (
    ("seq publishes/s", sequential, 0),
    ("100-in-flight publishes/s", concurrent, 0),
    ("seq, history 100 publishes/s", sequential, 100),
    ("100-in-flight, history 100 publishes/s", concurrent, 100),
)


async def measure(urls: dict[str, str], seconds: float, reps: int) -> list[Row]:
    """Start one backend per broker, then sample every (mode, shape) in turn."""
    started: list[Backend] = []
    rows: list[Row] = []
    live: list[tuple[Row, Any]] = []
    try:
        for mode, url in urls.items():
            backend = backend_from_url(f"{url}?prefix=bench")
            await backend.start(Quiet())
            started.append(backend)
            for variant, run, history in SHAPES:
                options = ChannelOptions(history_size=history, history_ttl=60)
                await run(backend, options, 0.05)  # scripts loaded, connections open
                row = Row(f"tether {mode}", variant)
                rows.append(row)
                live.append((row, (run, backend, options)))

        async def take(subject: Any) -> float:
            run, backend, options = subject
            return float(await run(backend, options, seconds))

        await sample_in_turn(live, reps, take)
    finally:
        for backend in started:
            await backend.stop()
    return rows


def main() -> None:
    """Start the brokers, measure, print the JSON document."""
    args = base_parser(__doc__ or "").parse_args()
    seconds = 0.3 if args.smoke else 2.0
    reps = args.reps or (1 if args.smoke else 3)
    with brokers(*MODES) as started:
        urls = {mode: broker.url for mode, broker in started.items()}
        rows = asyncio.run(measure(urls, seconds, reps))
    emit(
        "redis_modes",
        "Publish throughput to Redis: one server, Sentinel, Cluster of 1 and 3 masters",
        "publishes/s",
        rows,
        {"seconds_per_sample": seconds, "reps": reps, "in_flight": IN_FLIGHT,
         "channels": 64, "payload_bytes": len(PAYLOAD), "cluster_replicas": 0},
        better="higher",
        baseline="tether single",
    )  # fmt: skip


if __name__ == "__main__":
    main()
