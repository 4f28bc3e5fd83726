"""Apps for the worker-count tests (tests/channels/test_processes.py), served by real servers.

memory_app   Channels("memory://") named in code, as the README's first tour used to
default_app  Channels() with no broker: follows TETHER_BROKER / --broker
echo_app     no channels at all
redis_app    Channels(<its own redis:// URL from WORKER_TEST_REDIS>)
"""

from __future__ import annotations

import os

from tether import Tether, WebSocket
from tether.channels import Channels


def _with_hub(channels: Channels) -> Tether:
    app = Tether(lifespan=channels.lifespan)
    app.add_websocket_route("/channels", channels.endpoint)
    app.add_route("/health", channels.health_endpoint)
    return app


def _echo() -> Tether:
    app = Tether()

    @app.websocket("/echo")
    async def echo(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text(await websocket.receive_text())
        await websocket.close()

    @app.get("/health")
    async def health() -> dict[str, int]:
        return {"pid": os.getpid()}

    return app


def __getattr__(name: str) -> Tether:
    # Built on first access: each test process imports only the app it serves.
    if name == "memory_app":
        return _with_hub(Channels("memory://"))
    if name == "default_app":
        return _with_hub(Channels())
    if name == "redis_app":
        return _with_hub(Channels(os.environ["WORKER_TEST_REDIS"]))
    if name == "echo_app":
        return _echo()
    raise AttributeError(name)
