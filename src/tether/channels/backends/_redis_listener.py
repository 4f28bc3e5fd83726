"""The Redis pub/sub side of the Redis backend: one connection, one supervised reader.

Interest is a set (``desired``) changed synchronously by the hub; a flush scheduled once per
loop tick sends one SUBSCRIBE and one UNSUBSCRIBE for every change since the last flush. The
reader task is supervised: any error (Redis restarted, ``CLIENT KILL TYPE pubsub``, output
buffer overflow) is logged, the state becomes ``reconnecting``, and after a jittered
exponential backoff a new connection resubscribes every channel and the hub is told, so it can
check positions for gaps. A silent half-dead connection is caught by a PING when nothing arrived
for ``ping_interval`` seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import random
from collections import deque
from collections.abc import Callable
from typing import Any, Protocol

logger = logging.getLogger("tether.channels.redis")

__all__ = ["Interest", "PubSubListener"]


class Interest(Protocol):
    """What the Redis backend needs of its pub/sub side (one server, or one per shard)."""

    desired: set[bytes]
    connected: asyncio.Event

    async def subscribe(self, key: bytes) -> None: ...

    def unsubscribe(self, key: bytes) -> None: ...

    def start(self) -> None: ...

    async def stop(self) -> None: ...

    def drop(self, why: str) -> None: ...

    def health(self) -> dict[str, Any]: ...


class PubSubListener:
    """Keeps one Redis pub/sub connection subscribed to exactly the ``desired`` keys."""

    def __init__(
        self,
        make_connection: Callable[[], Any],
        on_message: Callable[[bytes, bytes], None],
        on_resubscribed: Callable[[], None],
        *,
        ping_interval: float = 5.0,
        max_backoff: float = 5.0,
        address: str = "Redis",
        on_state: Callable[[bool], None] | None = None,
    ) -> None:
        self._make_connection = make_connection
        self.address = address
        self._on_state = on_state
        self._failures = 0
        self._on_message = on_message
        self._on_resubscribed = on_resubscribed
        self.ping_interval = ping_interval
        self.max_backoff = max_backoff
        self.desired: set[bytes] = set()
        self._requested: set[bytes] = set()
        self._outstanding: dict[bytes, int] = {}
        self._waiters: dict[bytes, list[asyncio.Future[None]]] = {}
        self._resync: set[bytes] | None = None
        self._commands: deque[tuple[str | bytes, ...]] = deque()
        self._commands_ready = asyncio.Event()
        self._conn: Any = None
        self._flush_scheduled = False
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self._last_rx = 0.0
        self._connected_once = False
        self._healthy = False
        self.connected = asyncio.Event()
        self._retry_now = asyncio.Event()  # drop(): reconnect without waiting out the backoff
        self.state = "starting"
        self.reconnects = 0
        self.last_error = ""

    # -- interest -----------------------------------------------------------------------------

    def is_confirmed(self, key: bytes) -> bool:
        """True when Redis acknowledged the last SUBSCRIBE for ``key`` and nothing is pending."""
        return (
            self._conn is not None
            and key in self._requested
            and not self._outstanding.get(key)
            and self._resync is None
        )

    async def subscribe(self, key: bytes) -> None:
        """Add ``key`` now; wait until Redis confirms it."""
        self.desired.add(key)
        self._schedule_flush()
        if self.is_confirmed(key):
            return
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(key, []).append(waiter)
        try:
            await waiter
        finally:
            waiters = self._waiters.get(key)
            if waiters is not None and waiter in waiters:
                waiters.remove(waiter)
                if not waiters:
                    del self._waiters[key]

    def unsubscribe(self, key: bytes) -> None:
        """Drop ``key`` now; the UNSUBSCRIBE goes out with the next flush."""
        self.desired.discard(key)
        self._schedule_flush()
        self._wake(key)  # a subscribe still waiting for it has nothing left to wait for

    def _wake(self, key: bytes) -> None:
        for waiter in self._waiters.pop(key, ()):
            if not waiter.done():
                waiter.set_result(None)

    def _schedule_flush(self) -> None:
        if not self._flush_scheduled:
            self._flush_scheduled = True
            asyncio.get_running_loop().call_soon(self._flush_now)

    def _flush_now(self) -> None:
        self._flush_scheduled = False
        if self._conn is None:
            return  # the next connection subscribes ``desired`` as a whole
        add = self.desired - self._requested
        remove = self._requested - self.desired
        if add or remove:
            self._queue(add, remove)

    def _queue(self, add: set[bytes], remove: set[bytes]) -> None:
        """Book the change and queue its commands for the one sender of this connection.

        One sender writes the commands in the order they were booked. (A task per flush, as
        before, let a later SUBSCRIBE reach Redis before an earlier UNSUBSCRIBE of the same
        key whenever a write waited: Redis then dropped a channel the node still wanted.)
        """
        for key in add:
            self._requested.add(key)
            self._outstanding[key] = self._outstanding.get(key, 0) + 1
        for key in remove:
            self._requested.discard(key)
            self._outstanding[key] = self._outstanding.get(key, 0) + 1
        if add:
            self._commands.append(("SUBSCRIBE", *add))
        if remove:
            self._commands.append(("UNSUBSCRIBE", *remove))
        self._commands_ready.set()

    async def _send_loop(self, conn: Any) -> None:
        while True:
            await self._commands_ready.wait()
            self._commands_ready.clear()
            while self._commands:
                command = self._commands.popleft()
                try:
                    await conn.send_command(*command, check_health=False)
                except Exception as exc:  # the reader sees the broken connection and reconnects
                    self.last_error = str(exc) or type(exc).__name__
                    await _disconnect(conn)
                    return

    def _confirm(self, key: bytes) -> None:
        left = self._outstanding.get(key, 0) - 1
        if left > 0:
            self._outstanding[key] = left
            return
        self._outstanding.pop(key, None)
        if self._resync is not None:
            self._resync.discard(key)
            if not self._resync:
                self._finish_resync()
        if key in self._requested and self._resync is None:
            self._wake(key)

    def _finish_resync(self) -> None:
        self._resync = None
        self._healthy = True
        self.state = "connected"
        for key in list(self._waiters):
            if self.is_confirmed(key):
                self._wake(key)
        if self._failures:
            logger.warning(
                "Redis pub/sub at %s is back after %d failed attempt(s)",
                self.address,
                self._failures,
            )
            self._failures = 0
            self._tell(True)
        if self._connected_once:
            self.reconnects += 1
            self._on_resubscribed()
        self._connected_once = True
        self.connected.set()

    def _tell(self, available: bool) -> None:
        if self._on_state is not None:
            self._on_state(available)

    def _failed(self, exc: Exception) -> None:
        """Log the first failure of an outage with the address; the retries after it quietly."""
        self.last_error = str(exc) or type(exc).__name__
        self._failures += 1
        if self._failures == 1:
            # Before the first connection the hub reports it (a refusal, or a degraded start).
            level = logging.WARNING if self._connected_once else logging.DEBUG
            lost = "lost its connection to" if self._connected_once else "cannot connect to"
            logger.log(
                level,
                "Redis pub/sub %s %s (%s); retrying quietly until it answers",
                lost,
                self.address,
                self.last_error,
            )
            self._tell(False)
        else:
            logger.debug("Redis pub/sub at %s: attempt %d failed", self.address, self._failures)

    # -- supervision --------------------------------------------------------------------------

    def start(self) -> None:
        """Start the supervised reader task."""
        self._task = asyncio.get_running_loop().create_task(self._supervise())

    async def stop(self) -> None:
        """Stop the reader and close the connection."""
        self._closing = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for key in list(self._waiters):
            self._wake(key)

    def drop(self, why: str) -> None:
        """Close the current connection; the supervisor reconnects (wherever the pool points
        now) and resubscribes, and the hub checks every channel's position. A supervisor
        waiting out its backoff (the old address refused) tries again at once."""
        self._retry_now.set()
        conn = self._conn
        if conn is not None:
            self.last_error = why
            asyncio.get_running_loop().create_task(_disconnect(conn))

    @property
    def running(self) -> bool:
        """Whether the supervisor task is alive (it only ends on :meth:`stop`)."""
        return self._task is not None and not self._task.done()

    async def _supervise(self) -> None:
        delay = 0.05
        while not self._closing:
            self._healthy = False
            try:
                await self._connect_and_read()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self._failed(exc)
            finally:
                await self._reset()
            if self._closing:
                break
            if self._healthy:  # it worked for a while: start the backoff over
                delay = 0.05
            self.state = "reconnecting"
            self.connected.clear()
            if self._retry_now.is_set():  # told where to go (drop): no backoff
                self._retry_now.clear()
                delay = 0.05
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._retry_now.wait(), delay * random.uniform(0.5, 1.5))
            delay = min(delay * 2, self.max_backoff)

    async def _reset(self) -> None:
        conn, self._conn = self._conn, None
        self._requested.clear()
        self._outstanding.clear()
        self._commands.clear()  # the next connection resubscribes ``desired`` as a whole
        self._resync = None
        if conn is not None:
            await _disconnect(conn)

    async def _connect_and_read(self) -> None:
        conn = self._make_connection()
        await conn.connect()
        self._conn = conn
        self._resync = set(self.desired)
        self._last_rx = asyncio.get_running_loop().time()
        if self._resync:
            self._queue(set(self._resync), set())
        else:
            self._finish_resync()
        loop = asyncio.get_running_loop()
        helpers = [loop.create_task(self._send_loop(conn)), loop.create_task(self._watch(conn))]
        try:
            await self._read(conn)
        finally:
            for helper in helpers:
                helper.cancel()

    async def _read(self, conn: Any) -> None:
        loop = asyncio.get_running_loop()
        while True:
            response = await conn.read_response(timeout=math.inf)
            self._last_rx = loop.time()
            kind = response[0]
            if kind == b"message":
                self._on_message(response[1], response[2])
            elif kind in (b"subscribe", b"unsubscribe"):
                self._confirm(response[1])

    async def _watch(self, conn: Any) -> None:
        """PING when idle; no answer within another interval means a dead connection."""
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(self.ping_interval)
            idle = loop.time() - self._last_rx
            if idle >= 2 * self.ping_interval:
                self.last_error = "no answer to PING"
                await _disconnect(conn)
                return
            if idle >= self.ping_interval:
                with contextlib.suppress(Exception):
                    await conn.send_command("PING", check_health=False)

    def health(self) -> dict[str, Any]:
        """The listener's state for a health check."""
        return {
            "state": self.state if self.running or self._closing else "dead",
            "listener_running": self.running,
            "reconnects": self.reconnects,
            "last_error": self.last_error,
            "channels": len(self.desired),
        }


async def _disconnect(conn: Any) -> None:
    with contextlib.suppress(Exception):
        await conn.disconnect(nowait=True)
