"""In-process test clients for tether (and any ASGI) apps: HTTP and WebSocket.

``TestClient`` is synchronous: the app runs on an asyncio loop in one background thread and
the test thread drives it. ``AsyncTestClient`` is the same API, awaited, on the test's own
loop. Both are httpx clients with a transport that calls the app directly; WebSockets are
opened with ``websocket_connect()``. Unlike the peer's test client, nothing here waits
forever: every wait for the app has a timeout (``timeout=5.0`` by default) and an app that
finished without answering raises at once. See ``docs/testing.md``.

Needs the ``httpx`` package (``pip install 'tether[testclient]'``).
"""

from __future__ import annotations

from tether.testclient._client import AsyncTestClient, TestClient
from tether.testclient._errors import (
    AppFinishedError,
    AppTimeoutError,
    WebSocketDenialResponse,
)
from tether.testclient._websocket import AsyncWebSocketTestSession, WebSocketTestSession
from tether.websockets import WebSocketDisconnect, WebSocketFrameTypeError

__all__ = [
    "AppFinishedError",
    "AppTimeoutError",
    "AsyncTestClient",
    "AsyncWebSocketTestSession",
    "TestClient",
    "WebSocketDenialResponse",
    "WebSocketDisconnect",
    "WebSocketFrameTypeError",
    "WebSocketTestSession",
]
