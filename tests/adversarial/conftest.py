"""The target of the adversarial suite: a default ``Tether()`` app on a real uvicorn.

Built as the docs show (no limits configured: the defaults apply), with an echo route, a route
that authenticates with a query token, routes that fail before and after accept, and the
channels endpoint on the memory broker.
"""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import Iterator
from typing import Annotated

import pytest

from servers import uvicorn_thread
from tether import Depends, Tether, WebSocket, WebSocketDisconnect
from tether.channels import ChannelOptions, Channels
from tether.security import APIKeyQuery

SECRET = "s3cr3t-T0KEN-value"

token_scheme = APIKeyQuery(name="token")


def build_app() -> Tether:
    channels = Channels("memory://", namespaces={"room": ChannelOptions(client_publish=True)})
    app = Tether(lifespan=channels.lifespan)
    app.state.channels = channels
    app.add_websocket_route("/channels", channels.endpoint)

    @app.websocket("/echo")
    async def echo(websocket: WebSocket) -> None:
        await websocket.accept()
        try:
            while True:
                message = await websocket.receive()
                if message["type"] == "websocket.disconnect":
                    return
                if message.get("text") is not None:
                    await websocket.send_text(message["text"])
                else:
                    await websocket.send_bytes(message["bytes"])
        except WebSocketDisconnect:
            pass

    @app.websocket("/private")
    async def private(websocket: WebSocket, token: Annotated[str, Depends(token_scheme)]) -> None:
        if token != SECRET:
            raise ValueError("bad token")  # an unhandled error before accept: 500
        await websocket.accept()
        await websocket.send_text("welcome")
        await websocket.receive_text()
        raise RuntimeError("crash after accept")  # an unhandled error after accept: 1011

    @app.get("/_residue")
    async def residue() -> dict[str, int]:
        """What connections leave behind, read in the server's own loop (test_residue.py)."""
        gc.collect()
        direct = app._direct
        limits = direct.limits if direct is not None else None
        return {
            "tasks": len(asyncio.all_tasks()),
            "websockets": sum(isinstance(item, WebSocket) for item in gc.get_objects()),
            "hub_connections": len(channels._connections),
            "admitted": limits.middleware.open_connections if limits is not None else 0,
            "waiting": sum(len(queue) for queue in limits.waiting.values()) if limits else 0,
        }

    @app.websocket("/items/{item_id}")
    async def item(websocket: WebSocket, item_id: int) -> None:
        await websocket.accept()
        await websocket.close()

    return app


@pytest.fixture(scope="package")
def target() -> Iterator[tuple[Tether, int]]:
    """``(app, port)`` of the shared target server."""
    app = build_app()
    with uvicorn_thread(app, log_level="info") as base:
        yield app, int(base.rsplit(":", 1)[1])


@pytest.fixture
def port(target: tuple[Tether, int]) -> int:
    return target[1]


@pytest.fixture
def errors(caplog: pytest.LogCaptureFixture) -> Iterator[list[logging.LogRecord]]:
    """ERROR records logged while the test ran (the test asserts what it expects)."""
    with caplog.at_level(logging.INFO):
        records: list[logging.LogRecord] = []
        yield records
        records.extend(r for r in caplog.records if r.levelno >= logging.ERROR)
