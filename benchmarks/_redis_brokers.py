"""Private Redis brokers for the Redis benchmarks, one per mode, on free ports.

The servers come from tests/servers.py (the fixtures the integration tests use), so a
benchmark never touches the shared Redis and kills every process it started on exit:

- ``single``: one ``redis-server``;
- ``sentinel``: a master, a replica and three Sentinels (the replica costs its master the
  replication stream, as in any Sentinel deployment);
- ``cluster 1 master``: one ``redis-server --cluster-enabled yes`` holding every slot;
- ``cluster 3 masters``: three masters made by ``redis-cli --cluster create``, no replicas, so
  that one and three masters differ in the shards alone.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "src"), str(ROOT / "tests")]

from servers import RedisClusterGroup, RedisServer, SentinelGroup  # noqa: E402

MODES: dict[str, Callable[[], Any]] = {
    "single": RedisServer,
    "sentinel": SentinelGroup,
    "cluster 1 master": lambda: RedisClusterGroup(masters=1, replicas=0),
    "cluster 3 masters": lambda: RedisClusterGroup(masters=3, replicas=0),
}


def servers_of(broker: Any) -> list[RedisServer]:
    """Every ``redis-server`` (not Sentinel) process of a broker."""
    if isinstance(broker, RedisClusterGroup):
        return list(broker.servers)
    if isinstance(broker, SentinelGroup):
        return [broker.master, broker.replica]
    return [broker]


@contextlib.contextmanager
def brokers(*modes: str) -> Iterator[dict[str, Any]]:
    """Start the brokers of ``modes`` (keys of :data:`MODES`); yield them by mode, each with
    its tether URL in ``.url``; stop them all on exit."""
    with contextlib.ExitStack() as stack:
        yield {mode: stack.enter_context(MODES[mode]()) for mode in modes}
