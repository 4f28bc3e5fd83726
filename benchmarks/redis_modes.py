"""Publish throughput of the Redis backend: one server vs a Redis Cluster of three masters.

Both brokers are private and started here on free ports (a ``redis-server``, and six
``redis-server --cluster-enabled yes`` made into three masters with a replica each, by the
helpers in tests/servers.py), so the numbers do not depend on what else uses the shared Redis.
One process (this one) calls the backend's ``publish`` directly, without a hub, for a fixed
time, in two shapes:

- ``sequential``: each publish awaited before the next (one round trip per publish);
- ``concurrent``: 100 publishes in flight, spread over 64 channels (so over every shard).

Reported: publishes/s, with and without history (``history_size`` 0 and 100). The single
server's publishes share round trips on its auto-pipelined connection; the cluster's share one
such connection per master (falling back to redis-py's ``RedisCluster`` after a redirect) and
read the master's replication id in the script (see
src/tether/channels/backends/redis_cluster.py).

Run alone: ``.venv/bin/python benchmarks/redis_modes.py [--seconds 3] [--smoke]``. It prints one
JSON object per row; it does not write RESULTS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "src"), str(ROOT / "tests")]

from servers import RedisClusterGroup, RedisServer  # noqa: E402
from tether.channels.backends import backend_from_url  # noqa: E402
from tether.channels.backends.base import Backend  # noqa: E402
from tether.channels.options import ChannelOptions  # noqa: E402

PAYLOAD = '{"text":"' + "x" * 60 + '"}'


class _Quiet:
    def on_publication(self, publication: Any) -> None: ...

    def on_presence_event(self, *args: Any) -> None: ...

    def on_resubscribed(self) -> None: ...

    def on_broker_state(self, available: bool) -> None: ...


async def _sequential(backend: Backend, options: ChannelOptions, seconds: float) -> float:
    count, deadline = 0, time.perf_counter() + seconds
    start = time.perf_counter()
    while time.perf_counter() < deadline:
        await backend.publish("bench:seq", PAYLOAD, options)
        count += 1
    return count / (time.perf_counter() - start)


async def _concurrent(
    backend: Backend, options: ChannelOptions, seconds: float, in_flight: int = 100
) -> float:
    count = 0
    deadline = time.perf_counter() + seconds

    async def worker(index: int) -> None:
        nonlocal count
        channel = f"bench:c{index % 64}"
        while time.perf_counter() < deadline:
            await backend.publish(channel, PAYLOAD, options)
            count += 1

    start = time.perf_counter()
    await asyncio.gather(*(worker(i) for i in range(in_flight)))
    return count / (time.perf_counter() - start)


async def measure(mode: str, url: str, seconds: float) -> list[dict[str, Any]]:
    backend = backend_from_url(f"{url}?prefix=bench")
    await backend.start(_Quiet())
    rows = []
    try:
        for history in (0, 100):
            options = ChannelOptions(history_size=history, history_ttl=60)
            await backend.publish("bench:warm", PAYLOAD, options)  # scripts loaded, pools open
            for shape, run in (("sequential", _sequential), ("concurrent", _concurrent)):
                rate = await run(backend, options, seconds)
                rows.append(
                    {
                        "benchmark": "redis_modes",
                        "mode": mode,
                        "shape": shape,
                        "history": history,
                        "publishes_per_s": round(rate),
                    }
                )
                print(json.dumps(rows[-1]), flush=True)
    finally:
        await backend.stop()
    return rows


@contextlib.contextmanager
def brokers() -> Iterator[dict[str, str]]:
    with RedisServer() as single, RedisClusterGroup() as cluster:
        yield {"single": single.url, "cluster": cluster.url}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="per measurement")
    parser.add_argument("--smoke", action="store_true", help="0.3 s per measurement")
    args = parser.parse_args()
    seconds = 0.3 if args.smoke else args.seconds
    with brokers() as urls:
        for mode, url in urls.items():
            asyncio.run(measure(mode, url, seconds))


if __name__ == "__main__":
    main()
