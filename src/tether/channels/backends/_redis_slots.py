"""The Cluster mode's fast path: one auto-pipelined connection per master, chosen by slot.

Publishes and position reads are the hot commands. Through redis-py's ``RedisCluster`` each one
takes a pooled connection and pays redis-py's per-command work; here they share round trips on
one :class:`CommandPipeline` per master, as on a single server (``benchmarks/redis_modes.py``
measures both). The slot map is redis-py's: ``RedisCluster`` keeps it current (it follows
``MOVED`` and refreshes after errors), and so does the sharded listener.

A command sent here runs at most once. Whenever it surely did not run (the connection could not
be opened, or the node answered ``MOVED``, ``ASK``, ``TRYAGAIN``, ``CLUSTERDOWN``...) the caller
gets :data:`NOT_RUN` and sends it through redis-py instead, which follows the redirect and
updates the slot map for the next command. A command whose reply was lost raises
``BrokerUnavailable``, as everywhere: it may have run.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from tether.channels.backends._redis_pipeline import CommandPipeline, ReplyError
from tether.channels.backends.base import BrokerUnavailable
from tether.exceptions import require

__all__ = ["NOT_RUN", "SlotPipelines"]

NOT_RUN: Any = object()
"""Returned by :meth:`SlotPipelines.call` when the command did not run: send it another way."""

# Error replies after which nothing ran: the slot is elsewhere, or the node cannot serve now.
_NOT_RUN_CODES = frozenset(
    {"MOVED", "ASK", "TRYAGAIN", "CLUSTERDOWN", "NOSCRIPT", "LOADING", "MASTERDOWN"}
)


class SlotPipelines:
    """Routes a keyed command to the pipeline of the master that owns the key's slot."""

    def __init__(self, cluster: Any, setup: list[bytes], timeout: float) -> None:
        self._cluster = cluster
        self._setup = setup
        self.timeout = timeout
        self._pipelines: dict[str, CommandPipeline] = {}
        self._key_slot: Callable[[bytes], int] = require("redis.crc", "redis").key_slot

    def _pipeline(self, key: bytes) -> CommandPipeline | None:
        try:
            node = self._cluster.nodes_manager.get_node_from_slot(self._key_slot(key))
        except Exception:  # no slot map yet, or no master for the slot right now
            return None
        pipeline = self._pipelines.get(node.name)
        if pipeline is None:
            host, port = node.host, int(node.port)

            def connect(factory: Callable[[], asyncio.Protocol]) -> Any:
                return asyncio.get_running_loop().create_connection(factory, host, port)

            pipeline = self._pipelines[node.name] = CommandPipeline(
                connect, self._setup, self.timeout
            )
        return pipeline

    async def call(self, key: bytes, command: bytes) -> Any:
        """The reply of ``command`` on ``key``'s master, or :data:`NOT_RUN`.

        Raises ``ReplyError`` for other error replies and ``BrokerUnavailable`` when the reply
        was lost (whether the command ran is unknown then).
        """
        pipeline = self._pipeline(key)
        if pipeline is None:
            return NOT_RUN
        try:
            await pipeline.connect()
        except BrokerUnavailable:
            return NOT_RUN  # nothing was sent: redis-py will find out where the slot went
        try:
            return await pipeline.call(command)
        except ReplyError as exc:
            if exc.code in _NOT_RUN_CODES:
                return NOT_RUN
            raise

    async def close(self) -> None:
        """Close every connection; callers still waiting get ``BrokerUnavailable``."""
        pipelines, self._pipelines = list(self._pipelines.values()), {}
        for pipeline in pipelines:
            await pipeline.close()
