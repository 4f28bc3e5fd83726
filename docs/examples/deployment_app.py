"""A production-shaped WebSocket app: limits, heartbeat, metrics and graceful shutdown.

Run it with ``uvicorn docs.examples.deployment_app:app``. The WebSocket at ``/ws`` echoes every
text and binary frame; ``/metrics`` serves Prometheus metrics; ``/healthz`` answers 200 until a
drain starts. Settings come from the environment (``TETHER_MAX_MESSAGE_SIZE``, ``TETHER_RATE``,
``TETHER_HEARTBEAT``, ...), as they would in a container.

Each option of :class:`~tether.Tether` adds one middleware to the app's stack, in this order
(outermost first): graceful shutdown (refuses handshakes while draining, closes with 1012),
metrics (counts every frame that arrived, pongs and refused ones included), heartbeat (consumes
pongs, so ``idle_timeout`` measures the application's silence), limits (closest to the app: it
sees exactly what the endpoint would receive).
"""

from __future__ import annotations

import os

from tether import Tether, WebSocket
from tether.heartbeat import Heartbeat
from tether.limits import WebSocketLimits
from tether.responses import PlainTextResponse
from tether.shutdown import GracefulShutdown


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

app = Tether(
    limits=LIMITS,
    heartbeat=Heartbeat(
        interval=_env_float("TETHER_HEARTBEAT") or 25.0,
        timeout=_env_float("TETHER_HEARTBEAT_TIMEOUT") or 10.0,
    ),
    metrics=True,  # counts on the process-wide registry, served at /metrics
    graceful_shutdown=GracefulShutdown(grace_period=_env_float("TETHER_GRACE") or 5.0),
)


@app.websocket("/ws")
async def echo(websocket: WebSocket) -> None:
    """Accept, then echo text and binary frames until the client leaves."""
    await websocket.accept()
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            return
        text = message.get("text")
        if text is not None:
            await websocket.send_text(text)
        else:
            await websocket.send_bytes(message.get("bytes") or b"")


@app.get("/healthz")
async def healthz() -> PlainTextResponse:
    """200 while serving; 503 once a drain started, so the load balancer takes the node out."""
    if app.connections.draining:
        return PlainTextResponse("draining\n", status_code=503)
    return PlainTextResponse("ok\n")
