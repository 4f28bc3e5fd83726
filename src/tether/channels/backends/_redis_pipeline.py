"""Auto-pipelined commands for the Redis backend's publish path.

One connection, at most one batch of commands in flight. A command issued while nothing is in
flight is written at once (a lone publisher pays one plain round trip); commands issued while a
batch is in flight are collected and written together, in issue order, the moment its last reply
arrives. Redis runs a connection's commands in order, so the publishes of one channel keep the
order they were issued in. Replies come back in the same order and each resolves its own
caller's future: one caller's error (a script error, say) is that caller's alone.

A command is never sent twice. When the connection breaks or a batch gets no reply within
``timeout``, every caller still waiting gets :class:`BrokerUnavailable` (whether its command
ran is unknown) and the next command connects again.

The connection is a plain ``asyncio.Protocol`` speaking RESP2: replies are parsed in
``data_received`` and resolve futures directly, with no reader task in between.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Callable
from typing import Any, cast

from tether.channels.backends.base import BrokerUnavailable

__all__ = ["CommandPipeline", "Connect", "ReplyError", "bulk", "pack"]


class ReplyError(Exception):
    """An error reply from Redis (``-ERR ...``, ``-NOSCRIPT ...``) for one command."""

    @property
    def code(self) -> str:
        """The error's first word (``ERR``, ``NOSCRIPT``, ``WRONGTYPE``...)."""
        return str(self.args[0]).split(" ", 1)[0]


class _Incomplete(Exception):
    """The buffer ends inside a reply: wait for more bytes."""


def bulk(value: bytes) -> bytes:
    """One RESP bulk string."""
    return b"$%d\r\n%b\r\n" % (len(value), value)


def pack(*args: bytes) -> bytes:
    """One RESP command from its arguments."""
    return b"*%d\r\n" % len(args) + b"".join(bulk(arg) for arg in args)


def _parse(buffer: bytes, pos: int) -> tuple[Any, int]:
    """Parse the reply starting at ``pos``; return it and where the next one starts."""
    end = buffer.find(b"\r\n", pos)
    if end < 0:
        raise _Incomplete
    kind, line, after = buffer[pos], buffer[pos + 1 : end], end + 2
    if kind == 58:  # ':' integer
        return int(line), after
    if kind == 36:  # '$' bulk string
        size = int(line)
        if size < 0:
            return None, after
        if len(buffer) < after + size + 2:
            raise _Incomplete
        return buffer[after : after + size], after + size + 2
    if kind == 42:  # '*' array
        count = int(line)
        if count < 0:
            return None, after
        items = []
        for _ in range(count):
            item, after = _parse(buffer, after)
            items.append(item)
        return items, after
    if kind == 43:  # '+' simple string
        return line, after
    if kind == 45:  # '-' error
        return ReplyError(line.decode("utf-8", "replace")), after
    raise ValueError(f"unexpected RESP reply type {chr(kind)!r}")


class _Protocol(asyncio.Protocol):
    __slots__ = ("_owner",)

    def __init__(self, owner: CommandPipeline) -> None:
        self._owner = owner

    def data_received(self, data: bytes) -> None:
        self._owner._received(self, data)

    def connection_lost(self, exc: Exception | None) -> None:
        self._owner._broken(self, f"connection lost: {exc!r}" if exc else "connection closed")


CONNECT_TIMEOUT = 2.0

Connect = Callable[[Callable[[], asyncio.Protocol]], Any]


class CommandPipeline:
    """Sends RESP commands over one connection, batching those issued while one is in flight.

    ``connect(protocol_factory)`` opens the connection (``loop.create_connection`` with the
    address bound); ``setup`` are commands sent first on every new connection (AUTH, SELECT,
    SCRIPT LOAD), whose error replies fail the connection. ``name``, when given, follows them
    as ``CLIENT SETNAME`` (what ``CLIENT LIST`` shows); a server that refuses it (an ACL
    without ``client|setname``) keeps the connection unnamed.
    """

    def __init__(
        self, connect: Connect, setup: list[bytes], timeout: float, name: bytes = b""
    ) -> None:
        self._connect = connect
        self._setup = setup + ([pack(b"CLIENT", b"SETNAME", name)] if name else [])
        self._required = len(setup)  # setup replies that must not be errors
        self.timeout = timeout
        self._transport: asyncio.Transport | None = None
        self._protocol: _Protocol | None = None
        self._connecting: asyncio.Future[None] | None = None
        self._inflight: deque[asyncio.Future[Any]] = deque()
        self._waiting: list[asyncio.Future[Any]] = []
        self._outgoing: list[bytes] = []
        self._rx = b""
        self._sent_at = 0.0
        self._timer: asyncio.TimerHandle | None = None
        self._closed = False
        self._opener: asyncio.Task[None] | None = None
        self.batches = 0  # round trips started (observability, tests)
        # True from a failure of waiting callers (timeout, broken connection) until Redis answers
        # again: the pub/sub listener may still say "connected" through a stall.
        self.failing = False

    async def call(self, command: bytes) -> Any:
        """Send one packed command; return its reply. Raises ``ReplyError``, BrokerUnavailable."""
        if self._transport is None:
            await self._ensure_connected()
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._submit(command, future)
        reply = await future
        if type(reply) is ReplyError:
            raise reply
        return reply

    async def connect(self) -> None:
        """Open the connection now if there is none. Raises ``BrokerUnavailable`` when it
        cannot be opened: then no command was sent (the Cluster mode relies on that to hand
        such a command to redis-py, which asks the cluster where the slot went)."""
        if self._transport is None:
            await self._ensure_connected()

    def _submit(self, command: bytes, future: asyncio.Future[Any]) -> None:
        if self._inflight:
            self._outgoing.append(command)
            self._waiting.append(future)
            return
        self._inflight.append(future)
        self._write(command)

    def _write(self, data: bytes) -> None:
        transport = self._transport
        if transport is None:
            self._fail_all("not connected")
            return
        transport.write(data)
        self.batches += 1
        loop = asyncio.get_running_loop()
        self._sent_at = loop.time()
        if self._timer is None:
            self._timer = loop.call_at(self._sent_at + self.timeout, self._check_deadline)

    def _check_deadline(self) -> None:
        # One timer per connection at most: re-armed for the batch in flight, never per call.
        self._timer = None
        if not self._inflight:
            return
        loop = asyncio.get_running_loop()
        due = self._sent_at + self.timeout
        if loop.time() >= due:
            self._broken(self._protocol, f"no reply within {self.timeout:g} s")
        else:
            self._timer = loop.call_at(due, self._check_deadline)

    # -- replies ------------------------------------------------------------------------------

    def _received(self, protocol: _Protocol, data: bytes) -> None:
        if protocol is not self._protocol:
            return
        buffer = self._rx + data if self._rx else data
        pos = 0
        inflight = self._inflight
        try:
            while pos < len(buffer):
                reply, pos = _parse(buffer, pos)
                if not inflight:
                    raise ValueError("a reply nobody asked for")
                future = inflight.popleft()
                if type(reply) is ReplyError and "READONLY" in str(reply):
                    # A replica now (Sentinel demoted it): nothing was written. Reconnect, so
                    # the next command goes to the master of the moment.
                    if not future.done():
                        future.set_exception(BrokerUnavailable(f"Redis is a replica now: {reply}"))
                    self._broken(protocol, "the server became a replica")
                    return
                if not future.done():  # its caller may have been cancelled
                    future.set_result(reply)
        except _Incomplete:
            pass
        except ValueError as exc:
            self._broken(protocol, f"protocol error: {exc}")
            return
        self._rx = buffer[pos:]
        self.failing = False  # Redis answered: whatever failed before is over
        if not inflight and self._outgoing:
            self._next_batch()

    def _next_batch(self) -> None:
        outgoing, self._outgoing = self._outgoing, []
        waiting, self._waiting = self._waiting, []
        self._inflight.extend(waiting)
        self._write(b"".join(outgoing))

    # -- connection ---------------------------------------------------------------------------

    async def _ensure_connected(self) -> None:
        if self._closed:
            raise BrokerUnavailable("the Redis backend is stopped")
        if self._connecting is None:
            loop = asyncio.get_running_loop()
            self._connecting = loop.create_future()
            self._opener = loop.create_task(self._open(self._connecting))
        await asyncio.shield(self._connecting)

    async def _open(self, done: asyncio.Future[None]) -> None:
        try:
            try:
                transport, opened = await asyncio.wait_for(
                    self._connect(lambda: _Protocol(self)), min(self.timeout, CONNECT_TIMEOUT)
                )
                protocol = cast(_Protocol, opened)
            except (OSError, TimeoutError) as exc:
                raise BrokerUnavailable(f"Redis is unavailable: {exc!r}") from exc
            if self._closed or transport.is_closing():
                transport.close()
                raise BrokerUnavailable("the Redis connection closed while opening")
        except BaseException as exc:
            self._connecting = None
            # Callers waiting for the connection learn why; a cancelled opener (close())
            # must not look like their own cancellation.
            error = exc if isinstance(exc, Exception) else BrokerUnavailable("stopped")
            done.set_exception(error)
            done.exception()  # retrieved here: callers that gave up must not warn
            if not isinstance(exc, Exception):
                raise
            return
        # Setup goes out first, in one write; callers can queue behind it right away.
        self._protocol, self._transport, self._rx = protocol, transport, b""
        loop = asyncio.get_running_loop()
        setup = [loop.create_future() for _ in self._setup]
        if setup:
            self._inflight.extend(setup)
            self._write(b"".join(self._setup))
        self._connecting = None
        done.set_result(None)
        for future in setup[self._required :]:  # CLIENT SETNAME: its outcome does not matter
            future.add_done_callback(_retrieved)
        for future in setup[: self._required]:
            with contextlib.suppress(BrokerUnavailable):
                reply = await future
                if isinstance(reply, ReplyError):
                    self._broken(protocol, f"connection setup refused: {reply}")
                    return

    def _broken(self, protocol: _Protocol | None, why: str) -> None:
        if protocol is not self._protocol or protocol is None:
            return
        transport, self._transport, self._protocol = self._transport, None, None
        if transport is not None:
            transport.close()
        self._fail_all(why)

    def _fail_all(self, why: str) -> None:
        futures = [*self._inflight, *self._waiting]
        if futures:
            self.failing = True  # callers were refused: health reports it until Redis answers
        self._inflight.clear()
        self._waiting = []
        self._outgoing = []
        self._rx = b""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        error = BrokerUnavailable(f"Redis is unavailable: {why}")
        for future in futures:
            if not future.done():
                future.set_exception(error)

    @property
    def busy(self) -> bool:
        """Whether a command is waiting for its reply (or for the connection to open)."""
        return bool(self._inflight or self._waiting or self._connecting is not None)

    def reconnect(self, why: str) -> None:
        """Drop the connection (commands in flight fail with ``BrokerUnavailable``); the next
        command opens a new one."""
        self._broken(self._protocol, why)

    async def close(self) -> None:
        """Close the connection; callers still waiting get ``BrokerUnavailable``."""
        self._closed = True
        opener = self._opener
        if opener is not None and not opener.done():
            opener.cancel()
            await asyncio.wait([opener])
        self._broken(self._protocol, "the Redis backend is stopped")


def _retrieved(future: asyncio.Future[Any]) -> None:
    """Mark a future's outcome as seen (no "exception was never retrieved" warning)."""
    if not future.cancelled():
        future.exception()
