"""The application's WebSocket limits, enforced inside the endpoint's WebSocket (direct path).

:class:`~tether.limits.LimitsMiddleware` wraps ``receive`` and ``send``: one more coroutine
frame for every frame, about a third more per echo in-process. Limits are on by default, so
the direct path of :class:`~tether.Tether` (see :mod:`tether.applications.app`) enforces them
another way: it attaches a :class:`MessageLimiter` to the endpoint's
:class:`~tether.websockets.WebSocket`, whose receive methods subtract one from a budget and
compare the frame's length with a cap inline. Only a frame that takes the budget below zero, or
may be over the cap, calls the limiter; what the client sees is what the middleware does
(1009, 1013 or the ``rate_limited`` error frame; the endpoint gets ``WebSocketDisconnect``).

The token bucket starts full at accept and is refilled lazily: the clock is read when the
budget runs out, not per frame (a clock read costs as much as an echo on some machines). The
bucket then gains what the elapsed time is worth, capped at ``burst``; a client silent for a
long time may therefore send up to ``2 * burst`` frames at once before the rate applies, and
never more than ``burst + rate * t`` over any later span ``t``.

The first-message deadline costs no timer per connection (a ``call_later`` and its cancel
were a third of a connection's lifetime in-process): a waiting connection goes into its
app's queue for that timeout, in arrival order, which is deadline order; one sweep per app,
running only while something waits, every eighth of the timeout (at most one second), closes
the connections whose deadline passed without a frame. A frame came when the budget moved off
its starting value or the slow path ran; on routes where the server's frames count too (see
:func:`~tether.runtime.limits_policy.client_speaks_first`), a one-shot ``send`` watcher marks
the first data frame the application sends. A deadline is never met early, and late by at
most one sweep interval. Times are ``time.monotonic()`` (a C call; the loop's ``time()`` is a
Python method around it on asyncio).

Connection caps are the middleware's own counters (:meth:`LimitsMiddleware.admit`), so both
paths count the same connections. ``idle_timeout`` needs every frame's time: apps that set it
take the middleware path.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable
from time import monotonic
from typing import Any

from tether.runtime.limits import (
    RATE_LIMIT_CLOSE,
    SCOPE_KEY,
    GuardClosedError,
    LimitsMiddleware,
    WebSocketLimits,
    _LimitedConnection,
    message_size,
    rate_limit_frame,
    spawn,
)
from tether.runtime.limits_policy import client_speaks_first, first_message_timeout
from tether.types import Message, Receive, Scope, Send
from tether.websockets import WebSocket, WebSocketDisconnect, WebSocketState

__all__ = ["AppLimits", "MessageLimiter", "inline_capable"]

_NO_LIMIT = (1 << 30) - 1  # one-digit ints (see tether.websockets)
_NO_CAP = (1 << 30) - 1


def inline_capable(limits: WebSocketLimits) -> bool:
    """Whether :class:`AppLimits` can enforce ``limits`` (everything but ``idle_timeout``)."""
    return limits.idle_timeout is None


async def _closed_send(message: Message) -> None:
    if message["type"] != "websocket.close":
        raise GuardClosedError("the WebSocket was closed by a limit")


class AppLimits:
    """One app's limits for its direct path: admission, and a limiter per connection."""

    __slots__ = (
        "middleware",
        "limits",
        "text_cap",
        "bytes_cap",
        "budget",
        "fraction",
        "timed",
        "waiting",
        "policies",
        "_sweep",
    )

    def __init__(self, middleware: LimitsMiddleware) -> None:
        self.middleware = middleware
        limits = self.limits = middleware.limits
        cap = limits.max_message_size
        self.bytes_cap = _NO_CAP if cap is None else min(cap, _NO_CAP)
        self.text_cap = self.bytes_cap // 4  # 4 UTF-8 bytes per character at most
        # The starting budget: a full bucket (its fraction of a token kept apart), or no count.
        bucket = limits.bucket_size if limits.messages_per_second is not None else _NO_LIMIT
        self.budget = min(int(bucket), _NO_LIMIT)
        self.fraction = bucket - self.budget
        self.timed = limits.messages_per_second is not None
        # timeout -> connections waiting for their first frame, oldest first
        self.waiting: dict[float, dict[MessageLimiter, WebSocket]] = {}
        self._sweep: asyncio.TimerHandle | None = None
        # route -> _policy(route); keyed by identity (routes live as long as the app)
        self.policies: dict[Any, tuple[float | None, bool]] = {}

    async def handle(self, route: Any, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve ``route`` through ``route.handle`` under the middleware's guard (a route with
        its own middleware or limits: its ``LimitsMiddleware`` then adjusts this guard)."""
        if not self.limits.checks_messages:
            await route.handle(scope, receive, send)
            return
        guard = _LimitedConnection(receive, send, self.limits, self.middleware.metrics, scope)
        scope[SCOPE_KEY] = guard
        try:
            await route.handle(scope, guard.receive, guard.send)
        finally:
            guard.on_closed()
            del scope[SCOPE_KEY]  # scope -> guard -> scope: freed without the cyclic GC

    def attach(self, websocket: WebSocket, route: Any) -> MessageLimiter:
        """Give ``websocket`` its budget, caps and limiter; queue it for its first message."""
        limiter = MessageLimiter(self)
        websocket._limiter = limiter
        websocket._budget = self.budget
        websocket._text_cap = self.text_cap
        websocket._bytes_cap = self.bytes_cap
        policy = self.policies.get(route)
        if policy is None:
            policy = self.policies[route] = self._policy(route)
        timeout = policy[0]
        if self.timed or timeout is not None:
            now = monotonic()
            limiter.stamp = now
            if timeout is not None:
                self._wait(limiter, websocket, timeout, now, policy[1])
        return limiter

    def _policy(self, route: Any) -> tuple[float | None, bool]:
        """A route's first-message timeout and whether only the client's frames meet it."""
        return first_message_timeout(self.limits, route), client_speaks_first(route)

    def _wait(
        self,
        limiter: MessageLimiter,
        websocket: WebSocket,
        timeout: float,
        now: float,
        client_only: bool,
    ) -> None:
        queue = self.waiting.get(timeout)
        if queue is None:
            queue = self.waiting[timeout] = {}
        queue[limiter] = websocket
        limiter.queue = queue
        limiter.deadline = now + timeout
        if not client_only:  # the app's first data frame counts as the first message too
            limiter.send = websocket._send
            websocket._send = limiter.watch_send
        if self._sweep is None:
            self._schedule()

    def _schedule(self) -> None:
        interval = min(max(timeout / 8, 0.01) for timeout in self.waiting)
        self._sweep = asyncio.get_running_loop().call_later(min(interval, 1.0), self.sweep)

    def sweep(self) -> None:
        """Close the connections whose first-message deadline passed without a frame."""
        self._sweep = None
        now = monotonic()
        for timeout, queue in list(self.waiting.items()):
            while queue:
                limiter = next(iter(queue))
                if limiter.deadline > now:
                    break
                limiter.check_first(queue.pop(limiter))
            if not queue:
                del self.waiting[timeout]
        if self.waiting:
            self._schedule()


class MessageLimiter:
    """The slow path of one connection's inline limits (see the module docstring)."""

    __slots__ = ("app", "stamp", "fraction", "started", "queue", "deadline", "send")

    def __init__(self, app: AppLimits) -> None:
        self.app = app
        self.stamp = 0.0
        # The budget on the WebSocket is a whole number (fast to count down); the bucket's
        # fraction of a token waits here.
        self.fraction = app.fraction
        self.started = False  # a frame went through the slow path, or the app sent one
        self.queue: dict[MessageLimiter, WebSocket] | None = None
        self.deadline = 0.0
        self.send: Send | None = None

    def detach(self) -> None:
        """The connection ended: leave the first-message queue (and let go of the socket)."""
        queue = self.queue
        if queue is not None:
            queue.pop(self, None)
            self.queue = None

    def watch_send(self, message: Message) -> Awaitable[None]:
        """The WebSocket's ``send`` until the application's first data frame, then the real
        one again (see the module docstring). A plain function returning the real send's
        awaitable: no coroutine frame of its own."""
        send: Send = self.send  # type: ignore[assignment]  # set before this is installed
        if message["type"] == "websocket.send":
            self.started = True
            queue = self.queue
            if queue is not None:
                websocket = queue.pop(self, None)
                self.queue = None
                if websocket is not None and websocket._send == self.watch_send:
                    websocket._send = send
        return send(message)

    def check_first(self, websocket: WebSocket) -> None:
        """The deadline passed: close unless a frame came (the budget moved) or was sent."""
        self.queue = None
        if self.started or websocket._budget != self.app.budget:
            return
        if websocket.application_state is not WebSocketState.CONNECTED:
            return  # not accepted yet, or over: the handshake has its own timeouts
        self._count("first_message_timeout")
        limits = self.app.limits
        spawn(self._close(websocket, limits.first_message_close_code, "no message in time"))

    def _count(self, limit: str) -> None:
        self.app.middleware.metrics.limit_violations.labels(limit=limit).inc()

    async def _close(self, websocket: WebSocket, code: int, reason: str) -> None:
        self.detach()
        if websocket.application_state is not WebSocketState.CONNECTED:
            return
        send = websocket._send
        if send == self.watch_send:
            send = self.send or send
        websocket._send = _closed_send  # later sends: a gone peer (WebSocketDisconnect 1006)
        with contextlib.suppress(OSError):  # the peer left first: nothing to tell it
            await send({"type": "websocket.close", "code": code, "reason": reason})

    async def _refuse(self, websocket: WebSocket, code: int, reason: str, limit: str) -> None:
        self._count(limit)
        await self._close(websocket, code, reason)
        websocket.client_state = WebSocketState.DISCONNECTED
        raise WebSocketDisconnect(code, reason)

    def _set(self, websocket: WebSocket, tokens: float) -> None:
        whole = min(int(tokens), _NO_LIMIT)
        websocket._budget = whole
        self.fraction = tokens - whole

    def _refill(self, websocket: WebSocket) -> bool:
        limits = self.app.limits
        if limits.messages_per_second is None:
            websocket._budget = _NO_LIMIT  # a billion frames counted down: start over
            return True
        now = monotonic()
        held = websocket._budget + 1 + self.fraction
        tokens = min(limits.bucket_size, held + (now - self.stamp) * limits.messages_per_second)
        self.stamp = now
        if tokens >= 1:
            self._set(websocket, tokens - 1)
            return True
        self._set(websocket, tokens)  # the frame is not delivered: it takes no token
        return False

    async def over_limit(self, websocket: WebSocket, message: Message) -> Message:
        """Check a flagged frame: return it, or the next one after a dropped frame.

        Raises ``WebSocketDisconnect`` after closing the connection (1009 message too big,
        1013 rate limit exceeded).
        """
        limits = self.app.limits
        self.started = True
        while message["type"] == "websocket.receive":
            cap = limits.max_message_size
            if cap is not None and message_size(message) > cap:
                await self._refuse(websocket, 1009, "message too big", "max_message_size")
            if websocket._budget >= 0 or self._refill(websocket):
                return message
            if limits.rate_limit_action == "close":  # 1013: retryable (see tether.runtime.limits)
                await self._refuse(
                    websocket, RATE_LIMIT_CLOSE, "rate limit exceeded", "messages_per_second"
                )
            self._count("messages_per_second")
            text = rate_limit_frame(limits.messages_per_second or 0.0, message)
            await websocket._send({"type": "websocket.send", "text": text})
            message = await websocket._receive()
            websocket._budget -= 1
        return message
