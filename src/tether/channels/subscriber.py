"""The per-connection outbound queue: bounded by bytes and count, drained by one writer task.

Fan-out calls :meth:`Outbox.offer` (or :meth:`Outbox.push`), which never awaits. When nothing
is queued and nothing is being written, the frame goes straight to the socket: the socket's
``send`` coroutine is started right there and, in the usual case (the server only buffers the
frame), finishes without suspending, so a delivery costs no task switch, no future and no
timer. Only when that ``send`` suspends (the transport applies backpressure) does the
connection's writer task take the started coroutine over and finish it under
``write_timeout``; frames pushed meanwhile queue behind it, in order. So the writer task exists
only for connections that were once slow (or are closing).

A queued frame that the writer sends is also started without a timer first; the
``write_timeout`` clock is armed only for a send that actually suspends.

The queue applies the slow-consumer policy when full, and a close is never held behind queued
data: closing discards the queue first.

A socket's ``send`` must therefore not depend on the task that calls it (it may be started
by a publishing task and finished by the writer): plain awaits on futures, events and locks,
as in uvicorn and tether's ``WebSocket``, are fine; a task-bound cancel scope entered before
its first suspension is not.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Callable, Coroutine, Generator
from typing import Any, Protocol

from tether.channels.frames import LogLimiter, clean_text
from tether.channels.metrics import ChannelMetrics
from tether.channels.options import ConnectionLimits, SlowConsumerPolicy

__all__ = [
    "CLOSE_INSUFFICIENT_STATE",
    "CLOSE_PROTOCOL_ERROR",
    "CLOSE_SLOW_CONSUMER",
    "Entry",
    "Outbox",
    "SocketLike",
]

logger = logging.getLogger("tether.channels")
_LOG = LogLimiter(logger)

CLOSE_SLOW_CONSUMER = 4001
CLOSE_INSUFFICIENT_STATE = 4002
CLOSE_PROTOCOL_ERROR = 4003

Message = dict[str, Any]
Entry = tuple[Message, int, SlowConsumerPolicy]


class SocketLike(Protocol):
    """What an outbox needs from a WebSocket: send an ASGI message, and close."""

    async def send(self, message: Message) -> None: ...

    async def close(self, code: int = 1000, reason: str | None = None) -> None: ...


class Outbox:
    """Bounded FIFO of outbound frames for one connection, plus its (lazy) writer task."""

    __slots__ = (
        "_close_code",
        "_close_reason",
        "_drained",
        "_inflight",
        "_limits",
        "_metrics",
        "_on_closed",
        "_queue",
        "_send",
        "_socket",
        "_waiter",
        "_writer",
        "closed",
        "idle",
        "queued_bytes",
    )

    def __init__(
        self,
        socket: SocketLike,
        limits: ConnectionLimits,
        metrics: ChannelMetrics,
        on_closed: Callable[[int], None] | None = None,
    ) -> None:
        self._socket = socket
        self._send = socket.send
        self._limits = limits
        self._metrics = metrics
        self._on_closed = on_closed
        self._queue: deque[Entry] = deque()
        self._writer: asyncio.Task[None] | None = None
        # Set while the writer is parked with nothing to send; resolving it wakes the writer.
        self._waiter: asyncio.Future[None] | None = None
        # A send started outside the writer that suspended: (coroutine, what it yielded).
        self._inflight: tuple[Coroutine[Any, Any, None], Any] | None = None
        self._drained: list[asyncio.Future[None]] = []
        self._close_code: int | None = None
        self._close_reason = ""
        self.queued_bytes = 0
        self.closed = False
        # True while a frame may go straight to the socket: open, nothing queued, nothing
        # being written. Fan-out reads it to pick the direct path.
        self.idle = True

    def __len__(self) -> int:
        return len(self._queue)

    def push(self, message: Message, size: int, policy: SlowConsumerPolicy) -> bool:
        """Send or queue ``message`` (``size`` bytes) without awaiting; False if refused.

        When the queue is full, ``policy`` decides: drop this frame, drop the oldest ones, or
        close the connection with 4001 (the frame then is not sent).
        """
        return self.push_entry((message, size, policy))

    def push_entry(self, entry: Entry) -> bool:
        """:meth:`push` for a prepared ``(message, size, policy)`` tuple."""
        if not self.idle or entry[1] > self._limits.max_queue_bytes:
            return self.enqueue(entry)
        if self.offer(entry):
            self._metrics.delivered += 1
        return not self.closed

    def offer(self, entry: Entry) -> bool:
        """Hand ``entry`` to the socket now if the outbox is idle, else queue it.

        Returns True only when the socket took the frame without suspending (the caller
        counts those deliveries, in bulk). Never awaits. Fan-out shares one entry tuple
        between all recipients, so a delivery allocates nothing that outlives it.
        """
        if not self.idle or entry[1] > self._limits.max_queue_bytes:
            self.enqueue(entry)  # behind what is being written, or refused by the policy
            return False
        coroutine = self._send(entry[0])
        try:
            suspended = coroutine.send(None)
        except StopIteration:
            return True
        except UnicodeEncodeError:  # bad text, not a gone peer: send it cleaned
            return self.offer(self._cleaned(entry))
        except Exception as exc:  # the peer went away: a normal end, not an error
            logger.debug("channel send failed, dropping connection: %r", exc)
            self._gone()
            return False
        # The transport pushed back: the writer finishes this send, later frames queue.
        self.idle = False
        self._inflight = (coroutine, suspended)
        self._wake()
        return False

    def enqueue(self, entry: Entry) -> bool:
        """Queue ``entry`` behind what is being written; False if refused (policy, closed)."""
        if self.closed:
            return False
        size = entry[1]
        limits = self._limits
        if (
            self.queued_bytes + size > limits.max_queue_bytes
            or len(self._queue) >= limits.max_queue_messages
        ) and not self._make_room(size, entry[2]):
            return False
        self._queue.append(entry)
        self.idle = False
        self.queued_bytes += size
        if self.queued_bytes > self._metrics.queued_bytes_high_water:
            self._metrics.queued_bytes_high_water = self.queued_bytes
        self._wake()
        return True

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None:
            self._waiter = None
            if not waiter.done():
                waiter.set_result(None)
        elif self._writer is None:
            self._writer = asyncio.get_running_loop().create_task(self._drain())

    def _make_room(self, size: int, policy: SlowConsumerPolicy) -> bool:
        limits = self._limits
        if policy is SlowConsumerPolicy.DROP_NEWEST or size > limits.max_queue_bytes:
            if policy is SlowConsumerPolicy.DISCONNECT:
                self._slow()
                return False
            self._metrics.dropped_newest += 1
            return False
        if policy is SlowConsumerPolicy.DISCONNECT:
            self._slow()
            return False
        queue = self._queue
        while queue and (
            self.queued_bytes + size > limits.max_queue_bytes
            or len(queue) >= limits.max_queue_messages
        ):
            if queue[0][2] is SlowConsumerPolicy.DISCONNECT:
                # The oldest frame belongs to a stream channel: dropping it would be a silent hole.
                self._slow()
                return False
            _, dropped, _ = queue.popleft()
            self.queued_bytes -= dropped
            self._metrics.dropped_oldest += 1
        return True

    def _slow(self) -> None:
        if self.closed:  # one connection, one count (a timeout can follow a full queue)
            return
        self._metrics.slow_disconnects += 1
        self.close(CLOSE_SLOW_CONSUMER, "slow consumer: reconnect and recover")

    def _shut(self) -> None:
        self.closed = True
        self.idle = False
        self._queue.clear()
        self.queued_bytes = 0

    def close(self, code: int, reason: str = "") -> None:
        """Discard queued frames and close the socket with ``code`` from the writer task."""
        if self.closed:
            return
        self._shut()
        self._close_code = code
        self._close_reason = reason
        self._wake()
        if self._on_closed is not None:
            self._on_closed(code)

    def detach(self) -> None:
        """Stop without closing the socket (its owner closes it); cancel a pending write.

        A close already requested (slow consumer, shutdown) is left to finish.
        """
        if self._close_code is not None:
            return
        self._shut()
        if self._writer is not None and self._writer is not asyncio.current_task():
            self._writer.cancel()

    async def closed_sent(self) -> None:
        """Wait (up to ``write_timeout``) until a requested close frame was handed to the socket."""
        writer = self._writer
        if self._close_code is None or writer is None or writer is asyncio.current_task():
            return
        with contextlib.suppress(Exception):
            await asyncio.wait_for(asyncio.shield(writer), self._limits.write_timeout)

    async def wait_drained(self) -> None:
        """Wait until the queue is empty and nothing is being written (pacing, tests)."""
        while self._writer is not None and self._waiter is None:
            done = asyncio.get_running_loop().create_future()
            self._drained.append(done)
            await done

    async def _drain(self) -> None:
        try:
            while True:
                inflight, self._inflight = self._inflight, None
                if inflight is None or await self._finish(*inflight):
                    await self._send_queued()
                if self._close_code is not None:
                    await self._close_socket()
                if self.closed:
                    return
                self.idle = True
                self._release_drained()
                waiter = self._waiter = asyncio.get_running_loop().create_future()
                await waiter
        finally:
            self._writer = None
            self._waiter = None
            self._release_drained()

    def _release_drained(self) -> None:
        drained, self._drained = self._drained, []
        for done in drained:
            if not done.done():
                done.set_result(None)

    async def _send_queued(self) -> None:
        queue = self._queue
        send = self._send
        delivered = 0
        try:
            while queue:
                message, size, _ = entry = queue.popleft()
                self.queued_bytes -= size
                coroutine = send(message)
                try:
                    suspended = coroutine.send(None)
                except StopIteration:
                    delivered += 1
                    continue
                except UnicodeEncodeError:  # bad text, not a gone peer: send it cleaned
                    queue.appendleft(self._cleaned(entry))
                    self.queued_bytes += size
                    continue
                except Exception as exc:
                    logger.debug("channel send failed, dropping connection: %r", exc)
                    self._gone()
                    return
                if not await self._finish(coroutine, suspended):
                    return
        finally:
            self._metrics.delivered += delivered

    async def _finish(self, coroutine: Coroutine[Any, Any, None], suspended: Any) -> bool:
        """Finish a send that suspended, within ``write_timeout``; False if the socket is done."""
        try:
            async with asyncio.timeout(self._limits.write_timeout):
                await _Resume(coroutine, suspended)
        except TimeoutError:
            if not self.closed:
                self._metrics.write_timeouts += 1  # a subset of slow_disconnects, not extra
            self._slow()
            return False
        except Exception as exc:  # the peer went away: a normal end, not an error
            logger.debug("channel send failed, dropping connection: %r", exc)
            self._gone()
            return False
        self._metrics.delivered += 1
        return True

    def _cleaned(self, entry: Entry) -> Entry:
        """``entry`` with lone surrogates replaced: the socket could not encode its text.

        Such text is refused before publishing, so this only meets frames that got past that
        (stored by an older version, or put into the broker by something else). Treating the
        failed write as a gone peer would drop the connection from every channel while its
        socket stays open.
        """
        message = entry[0]
        self._metrics.invalid_text += 1
        _LOG.log(
            logging.WARNING, "invalid_text", "outbound frame held a lone surrogate: sent cleaned"
        )
        return ({**message, "text": clean_text(message.get("text") or "")}, entry[1], entry[2])

    def _gone(self) -> None:
        if not self.closed:
            self._shut()
            if self._on_closed is not None:
                self._on_closed(1006)

    async def _close_socket(self) -> None:
        code, reason = self._close_code or 1000, self._close_reason
        try:
            async with asyncio.timeout(self._limits.write_timeout):
                await self._socket.close(code, reason)
        except Exception as exc:  # already closed or stuck: nothing left to tell the peer
            logger.debug("channel close failed: %r", exc)


class _Resume:
    """Awaitable that continues a coroutine started elsewhere, from its first suspension.

    The task awaiting it receives exactly what the coroutine yields (a future, usually), so
    it waits for it as if it had started the coroutine itself; what the task gets back (or an
    exception such as a cancellation) is passed on to the coroutine.
    """

    __slots__ = ("_coroutine", "_suspended")

    def __init__(self, coroutine: Coroutine[Any, Any, None], suspended: Any) -> None:
        self._coroutine = coroutine
        self._suspended = suspended

    def __await__(self) -> Generator[Any, Any, None]:
        coroutine, pending = self._coroutine, self._suspended
        while True:
            try:
                value = yield pending
            except GeneratorExit:
                coroutine.close()
                raise
            except BaseException as exc:
                try:
                    pending = coroutine.throw(exc)
                except StopIteration:
                    return
            else:
                try:
                    pending = coroutine.send(value)
                except StopIteration:
                    return
