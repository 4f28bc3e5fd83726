"""Serves the dependency-free JavaScript client, ``tether-channels.js``, as a tiny ASGI app."""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["CLIENT_JS_PATH", "client_js_app"]

CLIENT_JS_PATH = Path(__file__).resolve().parent.parent / "static" / "tether-channels.js"
_cached: bytes | None = None


async def client_js_app(scope: Any, receive: Any, send: Any) -> None:
    """ASGI app answering GET/HEAD with the client script (405 for other methods)."""
    global _cached
    if _cached is None:
        _cached = CLIENT_JS_PATH.read_bytes()
    method = scope.get("method", "GET")
    if method not in ("GET", "HEAD"):
        await send(
            {
                "type": "http.response.start",
                "status": 405,
                "headers": [(b"allow", b"GET, HEAD"), (b"content-length", b"0")],
            }
        )
        await send({"type": "http.response.body", "body": b""})
        return
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [
                (b"content-type", b"text/javascript; charset=utf-8"),
                (b"content-length", str(len(_cached)).encode()),
                (b"cache-control", b"public, max-age=3600"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": b"" if method == "HEAD" else _cached})
