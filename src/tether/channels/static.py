"""Serves the dependency-free JavaScript client, ``tether-channels.js``, as a tiny ASGI app."""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["CLIENT_JS_PATH", "ClientScript", "client_js_app"]

CLIENT_JS_PATH = Path(__file__).resolve().parent.parent / "static" / "tether-channels.js"


class ClientScript:
    """ASGI app answering GET/HEAD with the client script (405 for other methods).

    An instance, not a function, so routers treat it as an ASGI app rather than a request
    handler: ``app.add_route("/_tether/channels.js", channels.client_js)``.
    """

    __slots__ = ("_body",)

    def __init__(self) -> None:
        self._body: bytes | None = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if self._body is None:
            self._body = CLIENT_JS_PATH.read_bytes()
        method = scope.get("method", "GET")
        if method not in ("GET", "HEAD"):
            await _respond(send, 405, [(b"allow", b"GET, HEAD")], b"")
            return
        headers = [
            (b"content-type", b"text/javascript; charset=utf-8"),
            (b"cache-control", b"public, max-age=3600"),
        ]
        await _respond(send, 200, headers, self._body, head=method == "HEAD")


async def _respond(
    send: Any, status: int, headers: list[tuple[bytes, bytes]], body: bytes, head: bool = False
) -> None:
    headers = [*headers, (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if head else body})


client_js_app = ClientScript()
