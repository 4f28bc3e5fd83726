"""Errors the test client raises on its own account (the app's own exceptions pass through)."""

from __future__ import annotations

from collections.abc import Iterable

from tether.exceptions import require

require("httpx", "testclient")

import httpx  # noqa: E402

from tether.websockets import WebSocketDisconnect  # noqa: E402

__all__ = [
    "AppFinishedError",
    "AppTimeoutError",
    "WebSocketDenialResponse",
]


class AppTimeoutError(TimeoutError):
    """The app did not do what the test waited for within the client's timeout.

    The message says what was awaited. Raise the limit with ``TestClient(app, timeout=...)``
    or per call with ``receive(timeout=...)``; ``TestClient(app, timeout=None)`` waits forever.
    """


class AppFinishedError(RuntimeError):
    """The app returned, so the message the test waits for can never come.

    Raised at ``websocket_connect`` enter when the app returned without accepting, closing or
    denying the WebSocket, and by ``receive*`` after the app returned and every message it sent
    was already received.
    """


class WebSocketDenialResponse(httpx.Response, WebSocketDisconnect):  # type: ignore[misc]
    """The app refused the handshake with an HTTP response (the ASGI denial extension).

    It is an ``httpx.Response`` (``status_code``, ``headers``, ``content``, ``text``,
    ``json()``) and a :class:`~tether.websockets.WebSocketDisconnect`. Unlike the peer, where
    reading ``.code`` raises ``AttributeError``, ``code`` is 1006 and ``reason`` is ``""``: a
    browser reports a refused handshake as a close event with code 1006 and no reason.
    """

    def __init__(
        self, status_code: int, headers: Iterable[tuple[bytes, bytes]], content: bytes
    ) -> None:
        # A stream, not content=, so that no Content-Length the app did not send is added.
        httpx.Response.__init__(
            self, status_code=status_code, headers=list(headers), stream=httpx.ByteStream(content)
        )
        self.read()
        self.code = 1006
        self.reason = ""

    def __str__(self) -> str:
        body = self.content if len(self.content) <= 200 else self.content[:200] + b"..."
        return f"the app denied the WebSocket handshake with HTTP {self.status_code}: {body!r}"
