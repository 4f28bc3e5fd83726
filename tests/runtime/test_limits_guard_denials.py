"""Issue 21.2: denial responses pass through the heartbeat and limits guards.

The guards marked a connection closed on ``websocket.http.response.start`` and raised on its
body, so with the configuration docs/deployment.md recommends every denial (429 per-client cap,
503 ``max_connections``, 404, 403, 500) became a dropped connection plus an ERROR traceback.
"""

from __future__ import annotations

import asyncio
import logging

import pytest
import websockets
from websockets.exceptions import InvalidStatus

from servers import uvicorn_thread
from tether import Tether, WebSocket
from tether.limits import WebSocketLimits, client_host

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]


def _app(**limits: object) -> Tether:
    # client_host: recommended() does not count loopback peers per client (a local proxy)
    limits.setdefault("client_key", client_host)
    app = Tether(limits=WebSocketLimits.recommended(**limits), heartbeat=25)

    @app.websocket("/ws")
    async def hold(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.receive_text()

    @app.websocket("/boom")
    async def boom(websocket: WebSocket) -> None:
        raise RuntimeError("before accept")

    @app.websocket("/deny")
    async def deny(websocket: WebSocket) -> None:
        await websocket.close(1008)  # before accept: the server answers 403

    return app


async def _status(url: str) -> int:
    with pytest.raises(InvalidStatus) as refused:
        async with websockets.connect(url, open_timeout=5):
            pass
    return refused.value.response.status_code


async def test_denials_reach_the_client_under_both_guards(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR), uvicorn_thread(_app(max_connections_per_client=1)) as base:
        url = base.replace("http://", "ws://")
        async with websockets.connect(f"{url}/ws", open_timeout=5) as first:
            assert await _status(f"{url}/ws") == 429  # the per-client cap
            await first.send("hello")
        assert await _status(f"{url}/nowhere") == 404
        assert await _status(f"{url}/deny") == 403
        caplog.clear()
        assert await _status(f"{url}/boom") == 500
        await asyncio.sleep(0)
    # The one expected record is the app's own error; no traceback about the denial itself.
    guard_errors = [r for r in caplog.records if "closed" in r.getMessage().lower()]
    assert guard_errors == []


async def test_max_connections_denial_is_a_503() -> None:
    with uvicorn_thread(_app(max_connections=1)) as base:
        url = base.replace("http://", "ws://")
        async with websockets.connect(f"{url}/ws", open_timeout=5):
            assert await _status(f"{url}/ws") == 503
