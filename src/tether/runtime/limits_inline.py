"""The application's WebSocket limits, enforced inside the endpoint's WebSocket (direct path).

:class:`~tether.limits.LimitsMiddleware` wraps ``receive`` and ``send``: one more coroutine
frame for every frame, about a third more per echo in-process. Limits are on by default, so
the direct path of :class:`~tether.Tether` (see :mod:`tether.applications.app`) enforces them
another way: it attaches a :class:`MessageLimiter` to the endpoint's
:class:`~tether.websockets.WebSocket`, whose receive methods subtract one from a budget and
compare the frame's length with a cap inline. Only a frame that takes the budget below zero, or
may be over the cap, calls the limiter; what the client sees is what the middleware does
(1009, 1013 or the ``rate_limited`` error frame; the endpoint gets ``WebSocketDisconnect``).

The token bucket is refilled lazily: the clock is read when the budget runs out, not per
frame (a clock read costs as much as an echo on some machines). The bucket then gains what
the elapsed time is worth, capped at ``burst``; a client silent for a long time may therefore
send up to ``2 * burst`` frames at once before the rate applies, and never more than
``burst + rate * t`` over any later span ``t``.

Connection caps are the middleware's own counters (:meth:`LimitsMiddleware.admit`), so both
paths count the same connections. ``idle_timeout`` needs every frame's time: apps that set it
take the middleware path.
"""

from __future__ import annotations

import asyncio
import contextlib
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
from tether.runtime.limits_policy import first_message_timeout
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

    __slots__ = ("middleware", "limits", "text_cap", "bytes_cap", "first_budget")

    def __init__(self, middleware: LimitsMiddleware) -> None:
        self.middleware = middleware
        limits = self.limits = middleware.limits
        cap = limits.max_message_size
        self.bytes_cap = _NO_CAP if cap is None else min(cap, _NO_CAP)
        self.text_cap = self.bytes_cap // 4  # 4 UTF-8 bytes per character at most
        checks = limits.messages_per_second is not None or limits.first_message_timeout is not None
        # 0: the first frame goes to the limiter (starts the bucket, ends the first-message wait)
        self.first_budget = 0 if checks else _NO_LIMIT

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
        """Give ``websocket`` its budget, caps and limiter; arm the first-message timer."""
        limiter = MessageLimiter(self)
        websocket._limiter = limiter
        websocket._budget = self.first_budget
        websocket._text_cap = self.text_cap
        websocket._bytes_cap = self.bytes_cap
        timeout = first_message_timeout(self.limits, route)
        if timeout is not None:
            loop = asyncio.get_running_loop()
            limiter.timer = loop.call_later(timeout, limiter.expire, websocket)
        return limiter


class MessageLimiter:
    """The slow path of one connection's inline limits (see the module docstring)."""

    __slots__ = ("app", "stamp", "fraction", "timer", "started")

    def __init__(self, app: AppLimits) -> None:
        self.app = app
        self.stamp = 0.0
        # The budget on the WebSocket is a whole number (fast to count down); the bucket's
        # fraction of a token waits here.
        self.fraction = 0.0
        self.timer: asyncio.TimerHandle | None = None
        self.started = False

    def detach(self) -> None:
        """The connection ended: drop the timer (and with it the timer's WebSocket)."""
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None

    def expire(self, websocket: WebSocket) -> None:
        """The first-message timer fired: close with the configured code."""
        self.timer = None
        if self.started:
            return
        limits = self.app.limits
        self._count("first_message_timeout")
        spawn(self._close(websocket, limits.first_message_close_code, "no message in time"))

    def _count(self, limit: str) -> None:
        self.app.middleware.metrics.limit_violations.labels(limit=limit).inc()

    async def _close(self, websocket: WebSocket, code: int, reason: str) -> None:
        self.detach()
        if websocket.application_state is not WebSocketState.CONNECTED:
            return
        send = websocket._send
        websocket._send = _closed_send  # later sends: a gone peer (WebSocketDisconnect 1006)
        with contextlib.suppress(OSError):  # the peer left first: nothing to tell it
            await send({"type": "websocket.close", "code": code, "reason": reason})

    async def _refuse(self, websocket: WebSocket, code: int, reason: str, limit: str) -> None:
        self._count(limit)
        await self._close(websocket, code, reason)
        websocket.client_state = WebSocketState.DISCONNECTED
        raise WebSocketDisconnect(code, reason)

    def _start(self, websocket: WebSocket) -> None:
        # The first frame: the first-message wait is over and the bucket starts, full.
        self.started = True
        self.detach()
        limits = self.app.limits
        if limits.messages_per_second is None:
            websocket._budget = _NO_LIMIT
            return
        self.stamp = asyncio.get_running_loop().time()
        self._set(websocket, limits.bucket_size - 1)

    def _set(self, websocket: WebSocket, tokens: float) -> None:
        whole = min(int(tokens), _NO_LIMIT)
        websocket._budget = whole
        self.fraction = tokens - whole

    def _refill(self, websocket: WebSocket) -> bool:
        limits = self.app.limits
        now = asyncio.get_running_loop().time()
        rate = limits.messages_per_second or 0.0
        held = websocket._budget + 1 + self.fraction
        tokens = min(limits.bucket_size, held + (now - self.stamp) * rate)
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
        while message["type"] == "websocket.receive":
            if not self.started:
                self._start(websocket)
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
