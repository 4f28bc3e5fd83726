"""The WebSocket origin check on a real uvicorn: the whole matrix, DNS rebinding included.

A DNS-rebinding page runs on the attacker's name, which resolves to the server: the browser
sends ``Host`` and ``Origin`` that both name the attacker's site, so "Origin equals Host" must
not count as the app's own origin unless the app trusts that host. Raw sockets let each case
send exactly the headers a browser would (or two ``Origin`` headers, which none sends).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from rawws import TEXT, RawWebSocket
from servers import uvicorn_thread
from tether import Tether, WebSocket
from tether.middleware.cors import CORSMiddleware
from tether.middleware.trustedhost import TrustedHostMiddleware

pytestmark = pytest.mark.integration

LISTED = "https://app.example.com"
PORT = "{port}"  # replaced by the server's port in each case

# (Origin headers, Host header or None for 127.0.0.1:port, expected status)
MATRIX: list[tuple[str, list[str], str | None, int]] = [
    ("listed origin", [LISTED], None, 101),
    ("listed origin, other case", ["HTTPS://App.Example.COM"], None, 101),
    ("no Origin: not a browser", [], None, 101),
    ("own origin on the loopback address", ["http://127.0.0.1:{port}"], None, 101),
    ("own origin on localhost", ["http://localhost:{port}"], "localhost:{port}", 101),
    ("own origin on an IPv6 literal", ["http://[::1]:{port}"], "[::1]:{port}", 101),
    ("listed host, listed scheme", [LISTED], "app.example.com", 101),
    ("DNS rebinding", ["http://rebind.evil.example:{port}"], "rebind.evil.example:{port}", 403),
    ("DNS rebinding, no port", ["http://rebind.evil.example"], "rebind.evil.example", 403),
    ("Origin: null", ["null"], None, 403),
    ("foreign origin", ["https://evil.example"], None, 403),
    ("http for https", ["http://app.example.com"], None, 403),
    ("http for https on the listed host", ["http://app.example.com"], "app.example.com", 403),
    ("suffix trick", ["https://app.example.com.evil.example"], None, 403),
    ("prefix trick", ["https://evilapp.example.com"], None, 403),
    ("shorter domain", ["https://app.example.co"], None, 403),
    ("userinfo trick", ["https://app.example.com@evil.example"], None, 403),
    ("explicit default port", ["https://app.example.com:443"], None, 403),
    # uvicorn's websockets-sansio refuses these itself (400); tests/test_middleware_origin.py
    # shows the app refuses them too, for servers that pass them on.
    ("two Origin headers, listed first", [LISTED, "https://evil.example"], None, 400),
    ("two Origin headers, listed last", ["https://evil.example", LISTED], None, 400),
    ("two listed Origin headers", [LISTED, LISTED], None, 400),
    ("broken IPv6 origin", ["http://[::1"], "[::1", 403),
]


async def echo(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.send_text(await websocket.receive_text())
    await websocket.close()


def tether_app() -> Tether:
    app = Tether(allowed_origins=[LISTED])
    app.add_websocket_route("/ws", echo)
    return app


def cors_app() -> Tether:
    app = Tether()
    app.add_middleware(CORSMiddleware, allow_origins=[LISTED])
    app.add_websocket_route("/ws", echo)
    return app


@pytest.fixture(scope="module", params=["Tether(allowed_origins)", "CORSMiddleware"])
def port(request: pytest.FixtureRequest) -> Iterator[int]:
    app = tether_app() if request.param.startswith("Tether") else cors_app()
    with uvicorn_thread(app) as base:
        yield int(base.rsplit(":", 1)[1])


def handshake(port: int, origins: list[str], host: str | None) -> tuple[int, bytes]:
    headers = [("Origin", origin.format(port=port)) for origin in origins]
    with RawWebSocket.open(port) as ws:
        response = ws.handshake("/ws", headers, host=host.format(port=port) if host else None)
        if response.status == 101:  # the socket works: echo one frame
            ws.send_text("ping")
            frame = ws.read_frame()
            assert frame is not None and (frame.opcode, frame.payload) == (TEXT, b"ping")
        return response.status, response.body


@pytest.mark.parametrize(
    ("origins", "host", "status"),
    [case[1:] for case in MATRIX],
    ids=[case[0] for case in MATRIX],
)
def test_origin_matrix(port: int, origins: list[str], host: str | None, status: int) -> None:
    got, body = handshake(port, origins, host)
    assert got == status
    if status == 403:
        assert body == b"Origin not allowed"


@pytest.fixture(scope="module")
def trusted_port() -> Iterator[int]:
    app = Tether(allowed_origins=[LISTED])
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=["app.internal", "*.corp.example"])
    app.add_websocket_route("/ws", echo)
    with uvicorn_thread(app) as base:
        yield int(base.rsplit(":", 1)[1])


@pytest.mark.parametrize(
    ("origin", "host", "status"),
    [
        ("http://app.internal:{port}", "app.internal:{port}", 101),
        ("https://dash.corp.example", "dash.corp.example", 101),
        ("http://rebind.evil.example:{port}", "rebind.evil.example:{port}", 403),
        ("http://app.internal:{port}", "rebind.evil.example:{port}", 403),
    ],
    ids=["trusted host", "trusted wildcard host", "rebinding", "origin not the host"],
)
def test_trusted_hosts_extend_the_own_origin(
    trusted_port: int, origin: str, host: str, status: int
) -> None:
    assert handshake(trusted_port, [origin], host)[0] == status
