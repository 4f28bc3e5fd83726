"""TrustedHostMiddleware: active for HTTP and WebSocket scopes."""

from __future__ import annotations

import pytest

from tether.middleware import Middleware
from tether.middleware.trustedhost import TrustedHostMiddleware
from tether.requests import Request
from tether.responses import PlainTextResponse
from tether.routing import Route, Router, WebSocketRoute
from tether.testclient import TestClient, WebSocketDenialResponse
from tether.websockets import WebSocket


async def endpoint(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.close()


def page(request: Request) -> PlainTextResponse:
    return PlainTextResponse("page")


def make_client(hosts: list[str]) -> TestClient:
    router = Router(
        [WebSocketRoute("/ws", endpoint), Route("/", page)],
        middleware=[Middleware(TrustedHostMiddleware, allowed_hosts=hosts)],
    )
    return TestClient(router, follow_redirects=False)


def test_http_hosts() -> None:
    client = make_client(["testserver", "*.example.org"])
    assert client.get("/").text == "page"
    assert client.get("http://api.example.org/").text == "page"
    response = client.get("http://evil.test/")
    assert (response.status_code, response.text) == (400, "Invalid host header")


def test_websocket_bad_host_is_a_400_denial() -> None:
    client = make_client(["testserver"])
    with client.websocket_connect("/ws"):
        pass
    with (
        pytest.raises(WebSocketDenialResponse) as info,
        client.websocket_connect("ws://evil.test/ws"),
    ):
        pass
    assert info.value.status_code == 400


def test_www_redirect() -> None:
    client = make_client(["www.example.org"])
    response = client.get("http://example.org/")
    assert response.status_code == 307
    assert response.headers["location"] == "http://www.example.org/"
    with (
        pytest.raises(WebSocketDenialResponse) as info,
        client.websocket_connect("ws://example.org/ws"),
    ):
        pass
    assert info.value.status_code == 307


def test_bad_pattern_is_refused() -> None:
    with pytest.raises(AssertionError):
        TrustedHostMiddleware(page, allowed_hosts=["api.*.org"])
