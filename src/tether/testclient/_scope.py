"""ASGI scopes built from an ``httpx.Request``, for HTTP and for WebSocket connections."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

import httpx

from tether.middleware.errors import RAISE_APP_EXCEPTIONS
from tether.types import Scope

__all__ = ["AppConfig", "http_scope", "websocket_scope"]

_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}
_WEBSOCKET_SCHEMES = {"http": "ws", "https": "wss", "ws": "ws", "wss": "wss"}
# What uvicorn announces; the peer's test client sends no "asgi" key at all.
_ASGI = {"version": "3.0", "spec_version": "2.4"}


@dataclass(slots=True)
class AppConfig:
    """What every connection of one test client shares: the app and the scope defaults.

    ``state`` is the lifespan state; every scope gets a shallow copy of it.
    """

    app: Any
    root_path: str = ""
    client: tuple[str, int] = ("testclient", 50000)
    raise_server_exceptions: bool = True
    timeout: float | None = 5.0
    state: dict[str, Any] = field(default_factory=dict)


def http_scope(request: httpx.Request, config: AppConfig) -> Scope:
    """The ``http`` scope for ``request`` (ASGI HTTP spec, connection scope)."""
    scope = _common_scope(request, config, request.url.scheme)
    # http.response.debug: template responses report their template and context to the test.
    scope.update(type="http", method=request.method, extensions={"http.response.debug": {}})
    return scope


def websocket_scope(request: httpx.Request, config: AppConfig) -> Scope:
    """The ``websocket`` scope for the handshake ``request`` (ASGI WebSocket spec).

    ``http``/``https`` URLs (the client's ``base_url``) become ``ws``/``wss``. The
    subprotocols come from the ``sec-websocket-protocol`` header, as a server parses them.
    """
    scheme = _WEBSOCKET_SCHEMES.get(request.url.scheme, request.url.scheme)
    scope = _common_scope(request, config, scheme)
    offered = request.headers.get("sec-websocket-protocol")
    extensions: dict[str, Any] = {"websocket.http.response": {}}
    if config.raise_server_exceptions:
        # The app's error layer raises what the endpoint raised instead of closing with 1011.
        extensions[RAISE_APP_EXCEPTIONS] = {}
    scope.update(
        type="websocket",
        subprotocols=[part.strip() for part in offered.split(",")] if offered else [],
        extensions=extensions,
    )
    return scope


def _common_scope(request: httpx.Request, config: AppConfig, scheme: str) -> Scope:
    url = request.url
    raw_path = url.raw_path.split(b"?", 1)[0]
    port = url.port or _DEFAULT_PORTS.get(scheme, 80)
    return {
        "asgi": dict(_ASGI),
        "http_version": "1.1",
        "scheme": scheme,
        "path": unquote(raw_path.decode("ascii")),
        "raw_path": raw_path,
        "root_path": config.root_path,
        "query_string": url.query,
        "headers": _raw_headers(request),
        "client": config.client,
        "server": [url.host, port],
        "state": config.state.copy(),
    }


def _raw_headers(request: httpx.Request) -> list[tuple[bytes, bytes]]:
    """Request headers with lowercase names and ``host`` first, as servers pass them."""
    host: list[tuple[bytes, bytes]] = []
    rest: list[tuple[bytes, bytes]] = []
    for name, value in request.headers.raw:
        lowered = name.lower()
        (host if lowered == b"host" else rest).append((lowered, value))
    return host + rest
