"""Sharded pub/sub for the Redis Cluster mode: one connection per master that owns a channel
this node listens to, following the channels when their slots move.

Each master gets a :class:`ShardListener`: a :class:`PubSubListener` that speaks
``SSUBSCRIBE``/``SUNSUBSCRIBE`` (one key per command: a command's keys must share a slot) and
notices when Redis takes a channel away from it:

- an ``SSUBSCRIBE`` answered ``-MOVED`` (the slot is elsewhere: our slot map was stale);
- a ``sunsubscribe`` nobody asked for: Redis 7 sends one to every subscriber of a slot that the
  node stops serving (migrated away, or the node was demoted by a failover);
- a connection that cannot be reopened (the master was killed).

:class:`ShardedPubSub` then asks the cluster for its slot map (through redis-py's
``RedisCluster``, which the backend also uses for commands), moves every channel whose owner
changed onto the owner's connection, and once Redis confirmed them tells the hub
(``on_resubscribed``), which compares every channel's position with the broker and fills or
signals the gap: live messages published while a channel moved were missed here.

redis-py's own ``ClusterPubSub`` is not used: it reads shard messages by polling each node's
connection in turn (``get_sharded_message``), and it has no hook that says a channel moved,
which the hub needs to check for gaps.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections import deque
from collections.abc import Callable
from typing import Any

from tether.channels.backends._redis_listener import PubSubListener
from tether.exceptions import require

__all__ = ["ShardListener", "ShardedPubSub"]

logger = logging.getLogger("tether.channels.redis")


class ShardListener(PubSubListener):
    """Sharded pub/sub with one master; ``on_lost(key)`` when the master gave a key up."""

    def __init__(
        self,
        make_connection: Callable[[], Any],
        on_message: Callable[[bytes, bytes], None],
        on_resubscribed: Callable[[], None],
        on_lost: Callable[[bytes], None],
        **options: Any,
    ) -> None:
        super().__init__(make_connection, on_message, on_resubscribed, **options)
        self._on_lost = on_lost
        # (command, key) in the order they were queued: Redis answers them in that order
        self._sent: deque[tuple[bytes, bytes]] = deque()

    def _queue(self, add: set[bytes], remove: set[bytes]) -> None:
        for key in add:
            self._requested.add(key)
            self._outstanding[key] = self._outstanding.get(key, 0) + 1
            self._commands.append(("SSUBSCRIBE", key))
            self._sent.append((b"SSUBSCRIBE", key))
        for key in remove:
            self._requested.discard(key)
            self._outstanding[key] = self._outstanding.get(key, 0) + 1
            self._commands.append(("SUNSUBSCRIBE", key))
            self._sent.append((b"SUNSUBSCRIBE", key))
        self._commands_ready.set()

    async def _reset(self) -> None:
        self._sent.clear()
        await super()._reset()

    async def _read(self, conn: Any) -> None:
        errors = require("redis.exceptions", "redis")
        loop = asyncio.get_running_loop()
        while True:
            try:
                response = await conn.read_response(timeout=math.inf)
            except errors.ResponseError as exc:  # the answer to the oldest command
                self._last_rx = loop.time()
                self._refused(str(exc))
                continue
            self._last_rx = loop.time()
            if not isinstance(response, list):
                continue  # PONG
            kind = response[0]
            if kind == b"smessage":
                self._on_message(response[1], response[2])
            elif kind == b"ssubscribe":
                self._answered(b"SSUBSCRIBE", response[1])
            elif kind == b"sunsubscribe":
                self._answered(b"SUNSUBSCRIBE", response[1])

    def _answered(self, command: bytes, key: bytes) -> None:
        if self._sent and self._sent[0] == (command, key):
            self._sent.popleft()
            self._confirm(key)
        elif command == b"SUNSUBSCRIBE":
            self._give_up(key)  # unasked: this master no longer serves the key's slot

    def _refused(self, message: str) -> None:
        if not self._sent:
            return
        _, key = self._sent.popleft()
        logger.debug("Redis refused a shard subscription of %r: %s", key, message)
        left = self._outstanding.get(key, 0) - 1
        if left > 0:
            self._outstanding[key] = left
        else:
            self._outstanding.pop(key, None)
        self._give_up(key)

    def _give_up(self, key: bytes) -> None:
        """Redis does not (or no longer) deliver ``key`` here: hand it back to the owner."""
        self._requested.discard(key)
        if key not in self.desired:
            return
        self.desired.discard(key)
        if self._resync is not None:
            self._resync.discard(key)
            if not self._resync:
                self._finish_resync()
        self._wake(key)
        self._on_lost(key)


class ShardedPubSub:
    """Keeps every ``desired`` shard channel subscribed on the master that owns its slot."""

    def __init__(
        self,
        cluster: Any,
        on_message: Callable[[bytes, bytes], None],
        on_resubscribed: Callable[[], None],
        *,
        ping_interval: float = 5.0,
        address: str = "Redis Cluster",
        on_state: Callable[[bool], None] | None = None,
        settle_timeout: float = 5.0,
        on_slot_map: Callable[[], None] | None = None,
    ) -> None:
        self._cluster = cluster
        self._on_slot_map = on_slot_map  # after each refresh of the slot map
        self._on_message = on_message
        self._on_resubscribed = on_resubscribed
        self._on_state = on_state
        self.ping_interval = ping_interval
        self.address = address
        self.settle_timeout = settle_timeout
        self.desired: set[bytes] = set()
        self.connected = asyncio.Event()
        self._shards: dict[str, ShardListener] = {}
        self._where: dict[bytes, str] = {}
        self._kick = asyncio.Event()
        self._settled = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self._available = True
        self._owed = False  # keys moved, and the hub was not told yet
        # False while no node of the cluster answers (set by the backend at start, and by
        # every slot map refresh): health() must not say "connected" with no shard in use.
        self.reachable = True
        self.moves = 0
        self.last_error = ""

    # -- interest -----------------------------------------------------------------------------

    async def subscribe(self, key: bytes) -> None:
        """Subscribe ``key`` on its owner; when the owner refuses, wait for a new slot map."""
        self.desired.add(key)
        while key in self.desired and not self._closing:
            shard = self._place(key)
            if shard is not None:
                await shard.subscribe(key)
                if shard.is_confirmed(key) or key not in self.desired:
                    return
            settled = self._settled
            self._kick.set()
            await settled.wait()

    def unsubscribe(self, key: bytes) -> None:
        """Drop ``key`` now; its shard sends ``SUNSUBSCRIBE`` with its next flush."""
        self.desired.discard(key)
        name = self._where.pop(key, None)
        if name is not None and name in self._shards:
            self._shards[name].unsubscribe(key)

    def _owner(self, key: bytes) -> Any:
        crc = require("redis.crc", "redis")
        try:
            return self._cluster.nodes_manager.get_node_from_slot(crc.key_slot(key))
        except Exception:  # no slot map yet, or the slot has no master right now
            return None

    def _place(self, key: bytes) -> ShardListener | None:
        """The listener of ``key``'s owner (as the slot map says now), moving ``key`` there."""
        node = self._owner(key)
        if node is None:
            return None
        current = self._where.get(key)
        if current is not None and current != node.name and current in self._shards:
            self._shards[current].unsubscribe(key)
        self._where[key] = node.name
        shard = self._shards.get(node.name)
        if shard is None:
            shard = self._shards[node.name] = self._listener_for(node)
        return shard

    def _listener_for(self, node: Any) -> ShardListener:
        def connect() -> Any:
            return node.connection_class(**node.connection_kwargs)

        shard = ShardListener(
            connect,
            self._on_message,
            self._on_resubscribed,
            self._lost,
            ping_interval=self.ping_interval,
            address=node.name,
            on_state=lambda available: self._kick.set() if not available else None,
        )
        shard.start()
        return shard

    def _lost(self, key: bytes) -> None:
        if key in self.desired:
            self._where.pop(key, None)
            self._kick.set()

    # -- supervision --------------------------------------------------------------------------

    def start(self) -> None:
        """Start the task that follows the slot map."""
        self._task = asyncio.get_running_loop().create_task(self._supervise())
        self.connected.set()  # nothing to connect to until a channel is wanted

    async def stop(self) -> None:
        """Stop following and close every shard connection."""
        self._closing = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        shards, self._shards = list(self._shards.values()), {}
        for shard in shards:
            await shard.stop()
        self._settle()

    def refresh(self) -> None:
        """Ask the cluster for its slot map soon (the publish path met a redirect)."""
        self._kick.set()

    def drop(self, why: str) -> None:
        """Close every shard connection; each reconnects and resubscribes."""
        for shard in self._shards.values():
            shard.drop(why)

    def _settle(self) -> None:
        settled, self._settled = self._settled, asyncio.Event()
        settled.set()

    async def _supervise(self) -> None:
        """Refresh the slot map when a key was lost or a shard is down (then every 0.5 s)."""
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(0.5):
                    await self._kick.wait()
            if not self._kick.is_set() and self._healthy():
                continue
            self._kick.clear()
            try:
                await self._follow()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # no node answers: try again on the next round
                self.last_error = str(exc) or type(exc).__name__
                logger.debug("Redis Cluster slot map refresh failed: %s", self.last_error)
            finally:
                self._settle()
            self._tell(self._healthy())
            await asyncio.sleep(0.1)  # a slot map that still names the old owner: not a spin

    def _healthy(self) -> bool:
        return (
            self.reachable
            and all(shard.state == "connected" for shard in self._shards.values() if shard.desired)
            and all(key in self._where for key in self.desired)
        )

    async def _follow(self) -> None:
        """Ask the cluster who owns what; move the keys whose owner changed; once every moved
        key is confirmed where it now lives, tell the hub (it checks positions for gaps)."""
        try:
            await self._cluster.nodes_manager.initialize()
        except Exception:
            self.reachable = False
            raise
        self.reachable = True
        if self._on_slot_map is not None:
            self._on_slot_map()
        moved = [key for key in self.desired if self._moved(key)]
        for key in moved:
            self._place(key)
        if moved:
            self.moves += 1
            self._owed = True
            logger.warning("%d Redis shard channel(s) moved to another master", len(moved))
            waits = [self._shards[self._where[key]].subscribe(key) for key in moved]
            async with asyncio.timeout(self.settle_timeout):
                await asyncio.gather(*waits)
        if self._owed and self._all_confirmed():
            self._owed = False
            self._on_resubscribed()  # messages published while they moved were missed here
        elif self._owed:
            self._kick.set()  # a key was refused again (stale slot map): another round
        for name, shard in list(self._shards.items()):
            if not shard.desired and name not in self._where.values():
                del self._shards[name]
                await shard.stop()

    def _all_confirmed(self) -> bool:
        return all(
            key in self._where and self._shards[self._where[key]].is_confirmed(key)
            for key in self.desired
        )

    def _moved(self, key: bytes) -> bool:
        node = self._owner(key)
        return node is not None and self._where.get(key) != node.name

    def _tell(self, available: bool) -> None:
        if available != self._available:
            self._available = available
            if self._on_state is not None:
                self._on_state(available)

    def health(self) -> dict[str, Any]:
        """The shards' state for a health check: connected when every shard in use is."""
        shards = {name: shard.health() for name, shard in self._shards.items()}
        running = self._task is not None and not self._task.done()
        state = "connected" if self._healthy() else "reconnecting"
        return {
            "state": state if running else "dead",
            "listener_running": running,
            "reconnects": sum(shard.reconnects for shard in self._shards.values()) + self.moves,
            "last_error": self.last_error,
            "channels": len(self.desired),
            "shards": shards,
        }
