"""Measure the cost of channel tracing on publish + fan-out, ns per publication.

One hub on the memory broker with 100 subscribed sockets whose ``send`` only counts; each
sample publishes N messages and waits until every socket has them. Rows: ``off`` (a hub
without telemetry: the backend is not wrapped) and ``traced`` (``Channels(telemetry=...)``
with an SDK tracer provider whose exporter drops the spans: a publish span, an envelope in
the data, a delivery span with the fan-out counts), and ``traced, 1% sampled`` (the same with
a ``TraceIdRatioBased(0.01)`` sampler: unsampled publishes make non-recording spans).

Needs ``opentelemetry-sdk``. Run alone: ``.venv/bin/python benchmarks/telemetry_fanout.py``.
"""

from __future__ import annotations

import asyncio
from typing import Any

from _common import (
    Row,
    clean_slate,
    cpu_ns,
    run_in_process,
    sample_in_turn,
)
from telemetry_echo import _provider

from tether.channels import Channels
from tether.channels.backends.memory import MemoryBackend

SOCKETS = 100


class Sink:
    """A socket stand-in: counts what the hub sends."""

    def __init__(self) -> None:
        self.count = 0

    async def send(self, message: dict[str, Any]) -> None:
        self.count += 1

    async def close(self, code: int = 1000, reason: str | None = None) -> None:
        pass


async def hub_with_sockets(telemetry: Any) -> tuple[Channels, list[Sink]]:
    """A started hub with ``SOCKETS`` subscribers on ``bench:a``."""
    hub = Channels(MemoryBackend(), telemetry=telemetry)
    await hub.start()
    sinks = [Sink() for _ in range(SOCKETS)]
    for sink in sinks:
        await hub.subscribe(sink, "bench:a", raw=True)
    return hub, sinks


async def one_sample(hub: Channels, sinks: list[Sink], n: int) -> float:
    """Publish ``n`` messages and wait for every socket to have them; ns per publication."""
    target = sinks[0].count + n
    clean_slate()
    start = cpu_ns()
    for i in range(n):
        await hub.publish("bench:a", i)
    while min(s.count for s in sinks) < target:
        await asyncio.sleep(0)
    return (cpu_ns() - start) / n


async def measure(n: int, reps: int) -> list[Row]:
    """Alternate the two hubs ``reps`` times."""
    hubs = [
        (Row(name="channels off", variant=f"{SOCKETS} sockets"), await hub_with_sockets(None)),
        (
            Row(name="channels traced", variant=f"{SOCKETS} sockets"),
            await hub_with_sockets({"tracer_provider": _provider()}),
        ),
        (
            Row(name="channels traced, 1% sampled", variant=f"{SOCKETS} sockets"),
            await hub_with_sockets({"tracer_provider": _provider(0.01)}),
        ),
    ]
    await sample_in_turn(hubs, reps, lambda pair: one_sample(*pair, n))
    for _, (hub, _) in hubs:
        await hub.stop()
    return [row for row, _ in hubs]


def main() -> None:
    """Parse options, measure, print JSON."""
    run_in_process(
        "telemetry_fanout",
        "Publish and fan-out with channel tracing, ns per publication",
        "ns",
        __doc__,
        measure,
        sizes=(200, 5_000),
        per_sample="publications_per_sample",
        meta={"sockets": SOCKETS},
    )


if __name__ == "__main__":
    main()
