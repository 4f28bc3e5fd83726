"""Per-connection limits for WebSocket routes: sizes, rates, caps, timeouts.

The public face of :mod:`tether.runtime.limits`, where the code lives.
"""

from __future__ import annotations

from tether.runtime.limits import (
    ConnectionGuard,
    GuardClosedError,
    LimitsMiddleware,
    WebSocketLimits,
    apply_route_limits,
    authenticates,
    client_host,
    deny,
    limits,
    limits_overrides,
    message_size,
    remote_client_host,
    route_limits,
    spawn,
)

__all__ = [
    "ConnectionGuard",
    "GuardClosedError",
    "LimitsMiddleware",
    "WebSocketLimits",
    "apply_route_limits",
    "authenticates",
    "client_host",
    "deny",
    "limits",
    "limits_overrides",
    "message_size",
    "remote_client_host",
    "route_limits",
    "spawn",
]
