"""The Cluster mode's fast path: one auto-pipelined connection per master, chosen by slot.

Publishes and position reads are the hot commands. Through redis-py's ``RedisCluster`` each one
takes a pooled connection and pays redis-py's per-command work; here they share round trips on
one :class:`CommandPipeline` per master, as on a single server (``benchmarks/redis_modes.py``
measures both). The slot map is redis-py's: ``RedisCluster`` keeps it current (it follows
``MOVED`` and refreshes after errors), and so does the sharded listener.

A master that leaves the slot map (demoted by a failover, its last slot migrated away, or
gone) keeps no connection: once the slot map changed (redis-py rebuilt it, a command here came
back redirected, or the sharded listener refreshed it), the next command retires the
pipelines of nodes that own no slot any more. A redirect also asks the sharded listener for a
full refresh (redis-py fixes only the redirected slot), which retires them too. A retired pipeline takes no new command and
closes once the commands already sent to it are answered (or time out): their callers keep
their replies.

A command sent here runs at most once. Whenever it surely did not run (the connection could not
be opened, or the node answered ``MOVED``, ``ASK``, ``TRYAGAIN``, ``CLUSTERDOWN``...) the caller
gets :data:`NOT_RUN` and sends it through redis-py instead, which follows the redirect and
updates the slot map for the next command. A command whose reply was lost raises
``BrokerUnavailable``, as everywhere: it may have run.
"""

from __future__ import annotations

import asyncio
import contextlib
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

    def __init__(
        self,
        cluster: Any,
        setup: list[bytes],
        timeout: float,
        on_stale: Callable[[], None] | None = None,
        name: bytes = b"",
    ) -> None:
        self._cluster = cluster
        self._name = name  # CLIENT SETNAME of every connection
        # Called when a command did not run here: redis-py fixes only that slot in its map
        # (the rest of the old owner's slots stay stale until a full refresh), so ask for one.
        self._on_stale = on_stale
        self._setup = setup
        self.timeout = timeout
        self._pipelines: dict[str, CommandPipeline] = {}
        self._key_slot: Callable[[bytes], int] = require("redis.crc", "redis").key_slot
        # The slot map the pipelines were last checked against (redis-py replaces the dict
        # when it rebuilds the map), and whether it may have changed in place since (MOVED).
        self._map_checked: Any = None
        self._map_changed = False
        self._retiring: dict[asyncio.Task[None], CommandPipeline] = {}

    def _pipeline(self, key: bytes) -> CommandPipeline | None:
        manager = self._cluster.nodes_manager
        if self._map_changed or manager.slots_cache is not self._map_checked:
            self.prune()
        try:
            node = manager.get_node_from_slot(self._key_slot(key))
        except Exception:  # no slot map yet, or no master for the slot right now
            return None
        pipeline = self._pipelines.get(node.name)
        if pipeline is None:
            host, port = node.host, int(node.port)

            def connect(factory: Callable[[], asyncio.Protocol]) -> Any:
                return asyncio.get_running_loop().create_connection(factory, host, port)

            pipeline = self._pipelines[node.name] = CommandPipeline(
                connect, self._setup, self.timeout, self._name
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
            self._stale()  # redis-py will find out where the slot went
            return NOT_RUN
        try:
            return await pipeline.call(command)
        except ReplyError as exc:
            if exc.code in _NOT_RUN_CODES:
                self._stale()  # redis-py follows the redirect and fixes that slot
                return NOT_RUN
            raise

    def _stale(self) -> None:
        self._map_changed = True
        if self._on_stale is not None:
            self._on_stale()

    def prune(self) -> None:
        """Retire the pipelines of nodes that own no slot in the slot map as it is now."""
        slots = self._cluster.nodes_manager.slots_cache
        self._map_checked, self._map_changed = slots, False
        if not slots:
            return  # no slot map yet: nothing to judge by
        lists = {id(nodes): nodes for nodes in slots.values()}  # ranges share one list
        owners = {nodes[0].name for nodes in lists.values() if nodes}
        for name in [name for name in self._pipelines if name not in owners]:
            pipeline = self._pipelines.pop(name)
            task = asyncio.get_running_loop().create_task(self._retire(pipeline))
            self._retiring[task] = pipeline
            task.add_done_callback(self._retired)

    def _retired(self, task: asyncio.Task[None]) -> None:
        self._retiring.pop(task, None)

    async def _retire(self, pipeline: CommandPipeline) -> None:
        """Close ``pipeline`` once its commands were answered (a batch with no reply fails
        within ``timeout``, so this ends)."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self.timeout + 1.0):
                while pipeline.busy:
                    await asyncio.sleep(0.05)
        await pipeline.close()

    def failing(self) -> list[str]:
        """The masters whose connection failed its callers and has not been answered since."""
        return sorted(name for name, pipeline in self._pipelines.items() if pipeline.failing)

    async def close(self) -> None:
        """Close every connection; callers still waiting get ``BrokerUnavailable``."""
        retiring, self._retiring = self._retiring, {}
        for task in retiring:
            task.cancel()
        await asyncio.gather(*retiring, return_exceptions=True)
        pipelines, self._pipelines = [*self._pipelines.values(), *retiring.values()], {}
        for pipeline in pipelines:
            await pipeline.close()
