"""Application-level heartbeat: find dead WebSocket clients that protocol pings cannot reach.

Browsers answer protocol pings themselves and never show them to JavaScript, and some proxies
swallow control frames, so the server cannot count on them (uvicorn's ``--ws-ping-interval``
also closes without telling the application). :class:`HeartbeatMiddleware` instead sends a text
frame ``{"type":"ping"}`` when a client has been silent for ``interval`` seconds and expects
``{"type":"pong"}`` (or any other message: all traffic proves the peer alive) within
``timeout`` seconds. A client that stays silent is closed with **1011** "heartbeat timeout"
(configurable) and counted in ``tether_heartbeat_timeouts_total``.

With a :class:`~tether.Tether` app, pass ``heartbeat=25`` (the interval) or
``heartbeat=Heartbeat(interval=25, timeout=10)``; the app adds this middleware to its stack.

Pong frames are consumed here and never reach the application; pings are only sent to clients
that are silent, so a chatty connection costs nothing extra. Timers are one
``loop.call_at`` handle per connection, re-armed lazily.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from dataclasses import dataclass
from typing import Any

from tether.runtime.limits import ConnectionGuard, spawn
from tether.runtime.metrics import TetherMetrics, default_metrics
from tether.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["Heartbeat", "HeartbeatMiddleware", "PING_TEXT", "is_pong"]

PING_TEXT = '{"type":"ping"}'
"""The ping frame the server sends (a text frame)."""


@dataclass(frozen=True, slots=True)
class Heartbeat:
    """Heartbeat settings (``Tether(heartbeat=Heartbeat(...))``); see the module docstring.

    Raises ``ValueError`` for a non-positive ``interval`` or ``timeout``.
    """

    interval: float = 25.0
    """Seconds of client silence before a ping is sent."""
    timeout: float = 10.0
    """Seconds to wait for any message after a ping before closing."""
    ping_text: str = PING_TEXT
    """The text frame sent as a ping."""
    pong_type: str = "pong"
    """``type`` of the JSON frame that answers a ping (consumed, never delivered)."""
    close_code: int = 1011
    """Close code for a client that did not answer."""
    reason: str = "heartbeat timeout"
    """Close reason for a client that did not answer."""

    def __post_init__(self) -> None:
        if self.interval <= 0 or self.timeout <= 0:
            raise ValueError("heartbeat interval and timeout must be > 0 seconds")


_MAX_PONG_LENGTH = 64


def is_pong(text: str | None, pong_type: str = "pong") -> bool:
    """True if ``text`` is a short JSON object whose ``type`` is ``pong_type``.

    Only short frames are parsed, so ordinary traffic is never decoded here.
    """
    if text is None or len(text) > _MAX_PONG_LENGTH or "pong" not in text:
        return False
    try:
        frame: Any = json.loads(text)
    except ValueError:
        return False
    return isinstance(frame, dict) and frame.get("type") == pong_type


class _HeartbeatConnection(ConnectionGuard):
    """Liveness state of one WebSocket."""

    __slots__ = ("owner", "_last_seen", "_ping_sent_at", "_timer")

    def __init__(self, receive: Receive, send: Send, owner: HeartbeatMiddleware) -> None:
        super().__init__(receive, send)
        self.owner = owner
        self._last_seen = 0.0
        self._ping_sent_at: float | None = None
        self._timer: asyncio.TimerHandle | None = None

    def on_accept(self) -> None:
        loop = asyncio.get_running_loop()
        self._last_seen = loop.time()
        self._timer = loop.call_at(self._last_seen + self.owner.interval, self._on_timer)

    def on_closed(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    async def on_message(self, message: Message) -> bool:
        self._last_seen = asyncio.get_running_loop().time()
        self._ping_sent_at = None
        return not is_pong(message.get("text"), self.owner.pong_type)

    def _on_timer(self) -> None:
        self._timer = None
        if self.closed:
            return
        loop = asyncio.get_running_loop()
        now = loop.time()
        owner = self.owner
        if self._ping_sent_at is not None:
            if self._last_seen < self._ping_sent_at:
                owner.metrics.heartbeat_timeouts.inc()
                spawn(self.close(owner.close_code, owner.reason))
                return
            self._ping_sent_at = None
        quiet_until = self._last_seen + owner.interval
        if now < quiet_until:
            self._timer = loop.call_at(quiet_until, self._on_timer)
            return
        self._ping_sent_at = now
        spawn(self._ping())
        self._timer = loop.call_at(now + owner.timeout, self._on_timer)

    async def _ping(self) -> None:
        # A failed ping needs no handling: the pong timeout closes the connection.
        with contextlib.suppress(Exception):
            await self._send({"type": "websocket.send", "text": self.owner.ping_text})


class HeartbeatMiddleware:
    """Pure ASGI middleware that pings silent WebSocket clients and closes dead ones.

    Raises ``ValueError`` for a non-positive ``interval`` or ``timeout``.
    """

    __slots__ = (
        "app",
        "interval",
        "timeout",
        "ping_text",
        "pong_type",
        "close_code",
        "reason",
        "metrics",
    )

    def __init__(
        self,
        app: ASGIApp,
        *,
        interval: float = 25.0,
        timeout: float = 10.0,
        ping_text: str = PING_TEXT,
        pong_type: str = "pong",
        close_code: int = 1011,
        reason: str = "heartbeat timeout",
        metrics: TetherMetrics | None = None,
    ) -> None:
        if interval <= 0 or timeout <= 0:
            raise ValueError("heartbeat interval and timeout must be > 0 seconds")
        self.app = app
        self.interval = interval
        self.timeout = timeout
        self.ping_text = ping_text
        self.pong_type = pong_type
        self.close_code = close_code
        self.reason = reason
        self.metrics = metrics if metrics is not None else default_metrics()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run ``app``; WebSockets get a heartbeat once accepted."""
        if scope["type"] != "websocket":
            await self.app(scope, receive, send)
            return
        conn = _HeartbeatConnection(receive, send, self)
        try:
            await self.app(scope, conn.receive, conn.send)
        finally:
            conn.on_closed()
