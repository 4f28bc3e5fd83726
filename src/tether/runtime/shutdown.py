"""Graceful shutdown: track live WebSockets, refuse new ones, close the rest with 1012.

:class:`ShutdownMiddleware` (pure ASGI) registers every WebSocket in a
:class:`ConnectionRegistry`: one set add and one discard per connection, nothing per message
(the registry holds the connection's :class:`~tether.routing.errors.SendTracker`, which the
app layer creates for every connection anyway and which can close it). A :class:`~tether.Tether`
app puts this middleware in its stack unless ``graceful_shutdown=False``; ``app.connections`` is
its registry (on the app's direct WebSocket path the app registers the connection itself, in
the same registry). A drain (:meth:`ConnectionRegistry.drain`):

1. marks the registry *draining*: new handshakes get an HTTP 503 denial (close 1013 where the
   server lacks the denial extension);
2. runs the drain hooks (e.g. a channels hub flushing its outbound queues), bounded by
   ``grace_period`` seconds;
3. closes every accepted WebSocket with **1012** "service restart" (RFC 6455 section 7.4.1,
   IANA registry), which tells clients to reconnect (elsewhere) and recover; the close goes out
   behind the frames already handed to the server; later sends by the app raise
   :class:`~tether.routing.errors.ClosedByServerError` (an ``OSError``: a disconnect);
4. waits, bounded by ``close_wait``, for the handlers to return (their ``receive()`` ends when
   the server reports the client's answer to the close).

When drains happen:

- on SIGTERM, if the middleware runs under a server that installed its own SIGTERM handler in
  the main thread (uvicorn does): the middleware chains in front of it at lifespan startup, drains,
  then hands the signal on, so the server stops only after the clients were told;
- on ``lifespan.shutdown`` while connections are still open (servers that do not close
  WebSockets before the lifespan shutdown), so the application's shutdown code runs after them;
- on demand: ``await app.drain()`` / ``await registry.drain()`` (an admin route, a preStop hook).

A handshake still in progress when the drain starts is not closed by it (it may accept
afterwards); the server's own shutdown closes it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from types import FrameType
from typing import Any

from tether.routing.errors import SendTracker, ensure_tracker
from tether.runtime.limits import deny, spawn
from tether.runtime.metrics import TetherMetrics, default_metrics
from tether.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["ConnectionRegistry", "GracefulShutdown", "ShutdownMiddleware"]

logger = logging.getLogger("tether.shutdown")

DrainHook = Callable[[float], Awaitable[None]]
"""``hook(seconds_left)``: flush what can be flushed within that time."""


@dataclass(frozen=True, slots=True)
class GracefulShutdown:
    """How a drain behaves (``Tether(graceful_shutdown=GracefulShutdown(...))``).

    Raises ``ValueError`` for a negative time or a close code outside 1000-4999.
    """

    grace_period: float = 5.0
    """Seconds the drain hooks may take before the WebSockets are closed."""
    close_wait: float = 5.0
    """Seconds to wait, after the close, for the handlers to return."""
    code: int = 1012
    """Close code sent to every open WebSocket: 1012 "service restart" asks clients to
    reconnect; 1001 "going away" is the alternative for a server that is not coming back."""
    reason: str = "service restart"
    """Close reason (at most 123 UTF-8 bytes)."""
    handle_signals: bool = True
    """Drain on SIGTERM before the server's own handler runs (main thread only)."""

    def __post_init__(self) -> None:
        if self.grace_period < 0 or self.close_wait < 0:
            raise ValueError("GracefulShutdown times must be >= 0 seconds")
        if not 1000 <= self.code <= 4999:
            raise ValueError(
                f"GracefulShutdown.code must be a close code (1000-4999), not {self.code}"
            )


class ConnectionRegistry:
    """The live WebSockets of one process, and the drain that closes them.

    ``drain`` never raises for a connection that is already gone.
    """

    __slots__ = ("_connections", "draining", "_hooks", "_empty", "metrics", "add", "discard")

    add: Callable[[SendTracker], None]
    """Track a connection until :meth:`discard`."""
    discard: Callable[[SendTracker], None]
    """Stop tracking a connection (no error if it is not tracked)."""

    def __init__(self, metrics: TetherMetrics | None = None) -> None:
        self._connections: set[SendTracker] = set()
        self.draining = False
        self._hooks: list[DrainHook] = []
        self._empty: asyncio.Event | None = None
        self.metrics = metrics if metrics is not None else default_metrics()
        # The set's own methods: every connection passes here twice, and a Python-level
        # method costs a frame each time. A drain that waits swaps in _discard_and_signal.
        self.add = self._connections.add
        self.discard = self._connections.discard

    def __len__(self) -> int:
        return len(self._connections)

    def _discard_and_signal(self, connection: SendTracker) -> None:
        self._connections.discard(connection)
        if not self._connections and self._empty is not None:
            self._empty.set()

    def on_drain(self, hook: DrainHook) -> DrainHook:
        """Register ``hook(seconds_left)`` to run at the start of a drain (usable as decorator)."""
        self._hooks.append(hook)
        return hook

    async def drain(
        self,
        *,
        grace_period: float = 5.0,
        close_wait: float = 5.0,
        code: int = 1012,
        reason: str = "service restart",
    ) -> int:
        """Refuse new WebSockets and close every open one; return how many were closed."""
        self.draining = True
        await self._run_hooks(grace_period)
        closed = await asyncio.gather(
            *(conn.close_from_server(code, reason) for conn in list(self._connections))
        )
        count = sum(closed)
        self.metrics.shutdown_closes.inc(count)
        await self._wait_empty(close_wait)
        return count

    async def _run_hooks(self, grace_period: float) -> None:
        if not self._hooks:
            return
        calls = [asyncio.ensure_future(hook(grace_period)) for hook in self._hooks]
        done, pending = await asyncio.wait(calls, timeout=grace_period)
        for task in pending:
            task.cancel()
        for task in done:
            if not task.cancelled() and task.exception() is not None:
                logger.warning("drain hook failed: %r", task.exception())

    async def _wait_empty(self, timeout: float) -> None:
        if not self._connections:
            return
        self._empty = asyncio.Event()
        self.discard = self._discard_and_signal
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._empty.wait(), timeout)


class ShutdownMiddleware:
    """Pure ASGI middleware: registers WebSockets and drains them on SIGTERM or lifespan shutdown.

    ``handle_signals=False`` leaves signals alone (drain on lifespan shutdown or on demand only).
    """

    __slots__ = (
        "app",
        "registry",
        "grace_period",
        "close_wait",
        "code",
        "reason",
        "handle_signals",
        "_previous",
    )

    def __init__(
        self,
        app: ASGIApp,
        registry: ConnectionRegistry | None = None,
        *,
        grace_period: float = 5.0,
        close_wait: float = 5.0,
        code: int = 1012,
        reason: str = "service restart",
        handle_signals: bool = True,
    ) -> None:
        self.app = app
        self.registry = registry if registry is not None else ConnectionRegistry()
        self.grace_period = grace_period
        self.close_wait = close_wait
        self.code = code
        self.reason = reason
        self.handle_signals = handle_signals
        self._previous: Any = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Route a scope: track WebSockets, watch lifespan, pass HTTP through."""
        kind = scope["type"]
        if kind == "websocket":
            await self._websocket(scope, receive, send)
        elif kind == "lifespan":
            await self.app(scope, self._lifespan_receive(receive), send)
        else:
            await self.app(scope, receive, send)

    async def drain(self) -> int:
        """Drain with this middleware's settings; returns the number of connections closed."""
        return await self.registry.drain(
            grace_period=self.grace_period,
            close_wait=self.close_wait,
            code=self.code,
            reason=self.reason,
        )

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.registry.draining:
            self.registry.metrics.connections_rejected.labels(reason="shutting_down").inc()
            await deny(scope, send, 503, "server is shutting down", 1013)
            return
        tracker, send = ensure_tracker(scope, send)
        self.registry.add(tracker)
        try:
            await self.app(scope, receive, send)
        finally:
            self.registry.discard(tracker)

    def _lifespan_receive(self, receive: Receive) -> Receive:
        async def wrapped() -> Message:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self._install_signal_handler()
            elif message["type"] == "lifespan.shutdown":
                self._restore_signal_handler()
                if len(self.registry) and not self.registry.draining:
                    await self.drain()
            return message

        return wrapped

    def _install_signal_handler(self) -> None:
        if not self.handle_signals or threading.current_thread() is not threading.main_thread():
            return
        previous = signal.getsignal(signal.SIGTERM)
        if not callable(previous):
            return  # no server handler to hand over to; lifespan shutdown still drains
        loop = asyncio.get_running_loop()
        self._previous = previous

        def on_sigterm(signum: int, frame: FrameType | None) -> None:
            if self.registry.draining:
                previous(signum, frame)
                return
            loop.call_soon_threadsafe(self._drain_then_forward, signum, frame, previous)

        signal.signal(signal.SIGTERM, on_sigterm)

    def _drain_then_forward(self, signum: int, frame: FrameType | None, previous: Any) -> None:
        async def run() -> None:
            try:
                await self.drain()
            finally:
                previous(signum, frame)

        spawn(run())

    def _restore_signal_handler(self) -> None:
        if self._previous is not None and threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, self._previous)
            self._previous = None
