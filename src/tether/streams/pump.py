"""Moving a generator's chunks to the client: keep-alives, a stop switch, and a clean close.

A :class:`Pump` runs the source in a producer task of its own and hands its chunks to the
writer through a small bounded buffer. The writer waits for the next chunk under a timer; when
the timer fires it sends a keep-alive and waits again. The source is never cancelled by that
timer (cancelling a generator's ``__anext__`` would finalise it), only when the stream ends.

Whatever way the stream ends (the source is exhausted, the client went away, a graceful
shutdown stopped it, the source raised), the producer is stopped and the source is closed:
an async generator gets ``aclose()`` so its ``finally`` blocks run now, not whenever the
garbage collector finds it. A blocking generator (:class:`ThreadedIterator`) is closed in a
worker thread once the ``next()`` it may be running has returned.

Chunks that are ready together go out in one body message (fewer writes under load).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import logging
from collections import deque
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable, Iterator
from typing import Any

__all__ = ["Pump", "ThreadedIterator", "as_async_iterator"]

logger = logging.getLogger("tether.streams")

_BUFFER = 16  # chunks the producer may run ahead of the client


class _Exhausted(Exception):
    """Raised in the worker thread instead of StopIteration, which cannot cross a future."""


def _step(iterator: Iterator[Any]) -> Any:
    try:
        return next(iterator)
    except StopIteration:
        raise _Exhausted from None


class ThreadedIterator:
    """Async iterator over a blocking iterator: each ``next()`` runs in the thread pool.

    Unlike a plain wrapper generator it can be closed while a ``next()`` is still running in
    its thread: the close (``iterator.close()``, which runs a generator's ``finally``) is
    queued behind it.
    """

    __slots__ = ("_inflight", "_iterator")

    def __init__(self, iterable: Iterable[Any]) -> None:
        self._iterator = iter(iterable)
        self._inflight: asyncio.Future[Any] | None = None

    def __aiter__(self) -> ThreadedIterator:
        return self

    async def __anext__(self) -> Any:
        loop = asyncio.get_running_loop()
        call = functools.partial(contextvars.copy_context().run, _step, self._iterator)
        future = self._inflight = loop.run_in_executor(None, call)
        try:
            # Shielded: a cancelled reader leaves the thread's next() to finish, and aclose()
            # waits for it rather than closing a generator that is still running.
            return await asyncio.shield(future)
        except _Exhausted:
            raise StopAsyncIteration from None

    async def aclose(self) -> None:
        """Close the iterator (now, or after the ``next()`` running in a thread)."""
        close = getattr(self._iterator, "close", None)
        if close is None:
            return
        loop = asyncio.get_running_loop()
        future = self._inflight
        if future is not None and not future.done():
            future.add_done_callback(lambda _: loop.run_in_executor(None, _quiet(close)))
            return
        await loop.run_in_executor(None, _quiet(close))


def _quiet(close: Callable[[], Any]) -> Callable[[], None]:
    def run() -> None:
        try:
            close()
        except Exception as exc:  # a generator that raises while closing: nothing to tell
            logger.debug("closing a stream source failed: %r", exc)

    return run


def as_async_iterator(content: AsyncIterable[Any] | Iterable[Any]) -> AsyncIterator[Any]:
    """``content`` as an async iterator; blocking iterables become a :class:`ThreadedIterator`."""
    if isinstance(content, AsyncIterable):
        return aiter(content)
    return ThreadedIterator(content)


class Pump:
    """Drives one stream: ``await pump.run(write)`` until the source ends or :meth:`stop`.

    ``write(chunk)`` sends bytes to the client; ``ping`` (bytes) is written after
    ``ping_interval`` seconds without a chunk (no keep-alive when ``ping_interval`` is None).
    Re-raises what the source raised, after writing the chunks it produced before.
    """

    __slots__ = (
        "_chunks",
        "_ended",
        "_error",
        "_ping",
        "_ping_interval",
        "_reader",
        "_room",
        "_source",
        "_stopped",
        "_transform",
    )

    def __init__(
        self,
        source: AsyncIterator[Any],
        transform: Callable[[Any], bytes],
        *,
        ping: bytes = b"",
        ping_interval: float | None = None,
    ) -> None:
        self._source = source
        self._transform = transform
        self._ping = ping
        self._ping_interval = ping_interval if ping else None
        self._chunks: deque[bytes] = deque()
        self._reader: asyncio.Future[None] | None = None
        self._room: asyncio.Future[None] | None = None
        self._ended = False
        self._stopped = False
        self._error: BaseException | None = None

    def stop(self) -> None:
        """End the stream after the chunks already produced (graceful shutdown)."""
        self._stopped = True
        self._wake_reader()

    def _wake_reader(self) -> None:
        reader, self._reader = self._reader, None
        if reader is not None and not reader.done():
            reader.set_result(None)

    async def _produce(self) -> None:
        chunks, transform = self._chunks, self._transform
        try:
            async for item in self._source:
                chunks.append(transform(item))
                self._wake_reader()
                if len(chunks) >= _BUFFER:
                    self._room = asyncio.get_running_loop().create_future()
                    await self._room
        except Exception as exc:
            self._error = exc
        finally:
            self._ended = True
            self._wake_reader()

    async def run(self, write: Callable[[bytes], Awaitable[None]]) -> None:
        """Write every chunk, keep-alives in the silences; close the source at the end."""
        producer = asyncio.get_running_loop().create_task(self._produce())
        try:
            await self._write_all(write)
        finally:
            await self._close(producer)
        if self._error is not None:
            raise self._error

    async def _write_all(self, write: Callable[[bytes], Awaitable[None]]) -> None:
        chunks = self._chunks
        while True:
            if chunks:
                body = chunks.popleft() if len(chunks) == 1 else b"".join(chunks)
                chunks.clear()
                room, self._room = self._room, None
                if room is not None and not room.done():
                    room.set_result(None)
                await write(body)
                continue
            if self._ended or self._stopped:
                return
            if not await self._wait():
                await write(self._ping)

    async def _wait(self) -> bool:
        """Wait for a chunk or the end; False when the ping interval passed first."""
        reader = self._reader = asyncio.get_running_loop().create_future()
        if self._ping_interval is None:
            await reader
            return True
        try:
            async with asyncio.timeout(self._ping_interval):
                await reader
        except TimeoutError:
            self._reader = None
            return bool(self._chunks) or self._ended or self._stopped
        return True

    async def _close(self, producer: asyncio.Task[None]) -> None:
        if not producer.done():
            producer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await producer
        aclose = getattr(self._source, "aclose", None)
        if aclose is not None:
            try:
                await aclose()
            except Exception as exc:
                logger.debug("closing a stream source failed: %r", exc)
