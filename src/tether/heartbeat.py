"""Server pings and dead-peer detection for WebSocket connections.

The public face of :mod:`tether.runtime.heartbeat`, where the code lives.
"""

from __future__ import annotations

from tether.runtime.heartbeat import PING_TEXT, Heartbeat, HeartbeatMiddleware, is_pong

__all__ = ["Heartbeat", "HeartbeatMiddleware", "PING_TEXT", "is_pong"]
