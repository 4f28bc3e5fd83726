"""CORSMiddleware: HTTP preflight and headers; Origin check on WebSocket handshakes."""

from __future__ import annotations

import pytest

from tether.applications import Tether
from tether.middleware import Middleware
from tether.middleware.cors import CORSMiddleware
from tether.testclient import TestClient, WebSocketDenialResponse
from tether.websockets import WebSocket


def make_client(**options: object) -> TestClient:
    app = Tether(middleware=[Middleware(CORSMiddleware, **options)])

    @app.get("/")
    async def home() -> dict[str, str]:
        return {"ok": "yes"}

    @app.websocket("/ws")
    async def ws(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.close()

    return TestClient(app)


def test_simple_request_gets_allow_origin() -> None:
    client = make_client(allow_origins=["https://a.example"], expose_headers=["x-id"])
    response = client.get("/", headers={"origin": "https://a.example"})
    assert response.headers["access-control-allow-origin"] == "https://a.example"
    assert response.headers["access-control-expose-headers"] == "x-id"
    assert "origin" in response.headers["vary"].lower()
    other = client.get("/", headers={"origin": "https://b.example"})
    assert "access-control-allow-origin" not in other.headers


def test_wildcard_without_credentials() -> None:
    response = make_client(allow_origins=["*"]).get("/", headers={"origin": "https://x.example"})
    assert response.headers["access-control-allow-origin"] == "*"


def test_preflight() -> None:
    client = make_client(
        allow_origins=["https://a.example"], allow_methods=["GET", "POST"], allow_headers=["x-k"]
    )
    ok = client.options(
        "/",
        headers={
            "origin": "https://a.example",
            "access-control-request-method": "POST",
            "access-control-request-headers": "X-K",
        },
    )
    assert ok.status_code == 200
    assert ok.headers["access-control-allow-methods"] == "GET, POST"
    bad = client.options(
        "/", headers={"origin": "https://b.example", "access-control-request-method": "PUT"}
    )
    assert bad.status_code == 400
    assert bad.text == "Disallowed CORS origin, method"


def test_websocket_origin_is_checked() -> None:
    client = make_client(allow_origin_regex=r"https://.*\.good\.example")
    with client.websocket_connect("/ws", headers={"origin": "https://app.good.example"}):
        pass
    with client.websocket_connect("/ws"):
        pass  # no Origin: not a browser
    with (
        pytest.raises(WebSocketDenialResponse) as info,
        client.websocket_connect("/ws", headers={"origin": "https://evil.example"}),
    ):
        pass
    assert info.value.status_code == 403
