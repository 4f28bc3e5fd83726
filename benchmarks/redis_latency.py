"""Cross-node delivery at 1,000 msgs/s through one Redis server, Sentinel, and a Redis Cluster.

The method is ``cross_node.py``'s, imported from it: node B (a subprocess pinned to CPU 0)
subscribes a fake socket to a channel, node A (this process, pinned to CPU 1) publishes
time-stamped messages at a steady 1,000 msgs/s through ``tether.channels.Channels``, and node
B reports p50 and p99 of publish call -> frame handed to its socket, and how many were lost.
Here the broker changes between samples (``$TETHER_BENCH_BROKER``, which node B inherits):
a private ``redis-server``, a Sentinel group (master, replica, three Sentinels), and a cluster
of three masters (sharded pub/sub: ``SPUBLISH`` from the publish script, ``SSUBSCRIBE`` on
the channel's master). Brokers are started on free ports and killed on exit
(``_redis_brokers.py``).

Run alone: ``benchmarks/.venv/bin/python benchmarks/redis_latency.py [--smoke]``.
"""

from __future__ import annotations

import os

import uvloop
from _common import Row, base_parser, emit, rotated
from _redis_brokers import brokers
from cross_node import BROKER_ENV, latency_sample, pin

MODES = ("single", "sentinel", "cluster 3 masters")
VARIANTS = ("p50 ms", "p99 ms", "lost")
RATE = 1_000


async def measure(urls: dict[str, str], seconds: float, reps: int) -> list[Row]:
    """``reps`` rounds over the brokers, in rotated order; one paced run each."""
    by_mode = {mode: {v: Row(f"tether {mode}", v) for v in VARIANTS} for mode in urls}
    for rep in range(reps):
        for mode in rotated(list(urls), rep):
            os.environ[BROKER_ENV] = urls[mode]
            report = await latency_sample("tether", RATE, seconds)
            rows = by_mode[mode]
            rows["p50 ms"].samples.append(report["p50_ms"])
            rows["p99 ms"].samples.append(report["p99_ms"])
            rows["lost"].samples.append(report["expected"] - report["received"])
    return [row for rows in by_mode.values() for row in rows.values()]


def main() -> None:
    """Start the brokers, measure, print the JSON document."""
    args = base_parser(__doc__ or "").parse_args()
    pin(1)
    seconds = 0.5 if args.smoke else 5.0
    reps = args.reps or (1 if args.smoke else 3)
    with brokers(*MODES) as started:
        urls = {mode: broker.url for mode, broker in started.items()}
        rows = uvloop.run(measure(urls, seconds, reps))
    emit(
        "redis_latency",
        "Cross-node delivery at 1,000 msgs/s: one Redis server, Sentinel, Cluster (3 masters)",
        "ms",
        rows,
        {"rate_per_s": RATE, "seconds_per_sample": seconds, "reps": reps, "loop": "uvloop",
         "cluster_replicas": 0},
        baseline="tether single",
    )  # fmt: skip


if __name__ == "__main__":
    main()
