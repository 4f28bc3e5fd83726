"""A production-shaped WebSocket app: limits, heartbeat, metrics and graceful shutdown.

Run it with ``uvicorn docs.examples.deployment_app:app``. The WebSocket at ``/ws`` echoes every
text frame; ``/metrics`` serves Prometheus metrics; ``/healthz`` answers 200 until a drain starts.
Settings come from the environment (``TETHER_MAX_MESSAGE_SIZE``, ``TETHER_RATE``,
``TETHER_HEARTBEAT``, ...), as they would in a container.

The middleware order, outermost first, and why:

1. ``ShutdownMiddleware``: refuses handshakes first when draining; its 1012 close must reach
   every connection whatever the inner layers do.
2. ``MetricsMiddleware``: counts every accepted connection and every frame that arrived,
   including those a limit then rejects.
3. ``HeartbeatMiddleware``: consumes pongs before the limits, so ``idle_timeout`` measures
   application silence while the heartbeat measures liveness.
4. ``LimitsMiddleware``: closest to the app, so it sees exactly what the app would receive.
"""

from __future__ import annotations

import os

from tether.heartbeat import HeartbeatMiddleware
from tether.limits import LimitsMiddleware, WebSocketLimits
from tether.metrics import MetricsMiddleware, metrics_endpoint
from tether.shutdown import ShutdownMiddleware
from tether.types import Receive, Scope, Send


def _env_float(name: str) -> float | None:
    value = os.environ.get(name)
    return float(value) if value else None


def _env_int(name: str) -> int | None:
    value = os.environ.get(name)
    return int(value) if value else None


LIMITS = WebSocketLimits(
    max_message_size=_env_int("TETHER_MAX_MESSAGE_SIZE") or 64 * 1024,
    messages_per_second=_env_float("TETHER_RATE"),
    burst=_env_int("TETHER_BURST"),
    max_connections=_env_int("TETHER_MAX_CONNECTIONS"),
    max_connections_per_client=_env_int("TETHER_MAX_PER_CLIENT"),
    idle_timeout=_env_float("TETHER_IDLE_TIMEOUT"),
)


async def echo(scope: Scope, receive: Receive, send: Send) -> None:
    """Accept, then echo text and binary frames until the client leaves."""
    await receive()  # websocket.connect
    await send({"type": "websocket.accept"})
    while True:
        message = await receive()
        if message["type"] == "websocket.disconnect":
            return
        await send(
            {"type": "websocket.send", "text": message.get("text"), "bytes": message.get("bytes")}
        )


async def _plain(send: Send, status: int, body: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"text/plain; charset=utf-8")],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def router(scope: Scope, receive: Receive, send: Send) -> None:
    """Dispatch by path: ``/ws`` (WebSocket), ``/metrics`` and ``/healthz`` (HTTP)."""
    if scope["type"] == "lifespan":
        while True:
            event = (await receive())["type"]
            if event == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            else:
                await send({"type": "lifespan.shutdown.complete"})
                return
    elif scope["type"] == "websocket" and scope["path"] == "/ws":
        await echo(scope, receive, send)
    elif scope["type"] == "websocket":
        await send({"type": "websocket.close", "code": 1008, "reason": "no such endpoint"})
    elif scope["path"] == "/metrics":
        await metrics_endpoint(scope, receive, send)
    elif scope["path"] == "/healthz":
        draining = shutdown.registry.draining
        await _plain(send, 503 if draining else 200, b"draining\n" if draining else b"ok\n")
    else:
        await _plain(send, 404, b"not found\n")


shutdown = ShutdownMiddleware(
    MetricsMiddleware(
        HeartbeatMiddleware(
            LimitsMiddleware(router, LIMITS),
            interval=_env_float("TETHER_HEARTBEAT") or 25.0,
            timeout=_env_float("TETHER_HEARTBEAT_TIMEOUT") or 10.0,
        )
    ),
    grace_period=_env_float("TETHER_GRACE") or 5.0,
)
app = shutdown
