"""OriginMiddleware: cross-site WebSocket hijacking protection (DESIGN divergence 5)."""

from __future__ import annotations

import pytest

from tether.middleware import Middleware
from tether.middleware.origin import OriginMiddleware, OriginPolicy
from tether.requests import Request
from tether.responses import PlainTextResponse
from tether.routing import Route, Router, WebSocketRoute
from tether.testclient import TestClient, WebSocketDenialResponse
from tether.websockets import WebSocket, WebSocketDisconnect


async def endpoint(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.close()


def page(request: Request) -> PlainTextResponse:
    return PlainTextResponse("page")


def client(**options: object) -> TestClient:
    router = Router(
        [WebSocketRoute("/ws", endpoint), Route("/", page)],
        middleware=[Middleware(OriginMiddleware, **options)],
    )
    return TestClient(router)


def test_rules() -> None:
    check = OriginMiddleware(endpoint, ["https://A.example/"], allow_same_origin=False)
    assert check.is_allowed("https://a.example", "other")
    assert not check.is_allowed("https://b.example", "b.example")
    assert check.is_allowed(None, "x")
    assert not OriginMiddleware(endpoint, [], allow_missing=False).is_allowed(None, "x")
    assert not OriginMiddleware(endpoint, []).is_allowed("http://h:8000", "h:8000")
    assert OriginMiddleware(endpoint, [], allowed_hosts=["h"]).is_allowed("http://h:8000", "h:8000")
    assert not OriginMiddleware(endpoint, []).is_allowed("null", "h")
    assert OriginMiddleware(endpoint, ["*"]).is_allowed("https://any.example", None)


def test_foreign_origin_gets_403_and_http_passes() -> None:
    c = client(allowed_origins=["https://good.example"])
    with c.websocket_connect("/ws", headers={"origin": "https://good.example"}):
        pass
    with (
        pytest.raises(WebSocketDenialResponse) as info,
        c.websocket_connect("/ws", headers={"origin": "https://evil.example"}),
    ):
        pass
    assert (info.value.status_code, info.value.text) == (403, "Origin not allowed")
    assert c.get("/", headers={"origin": "https://evil.example"}).text == "page"


def test_without_denial_extension_closes_1008() -> None:
    session = client(allowed_origins=[]).websocket_connect(
        "/ws", headers={"origin": "https://evil.example"}
    )
    session.scope["extensions"] = {}
    with pytest.raises(WebSocketDisconnect) as info, session:
        pass
    assert info.value.code == 1008


def test_own_origin_needs_a_trusted_host() -> None:
    """DNS rebinding: Origin equal to Host proves nothing unless the app trusts that host."""
    policy = OriginPolicy(["https://app.example"], allowed_hosts=["*.corp.example", "*"])
    own = policy.is_allowed
    assert not own("http://rebind.evil.example:8000", "rebind.evil.example:8000")
    assert not own("http://x.corp.example.evil.example", "x.corp.example.evil.example")
    assert own("https://x.corp.example", "x.corp.example")  # a trusted wildcard
    assert own("http://127.0.0.1:8000", "127.0.0.1:8000")  # an address cannot be rebound
    assert own("http://[::1]:8000", "[::1]:8000")
    assert own("http://localhost:8000", "LOCALHOST:8000")
    assert own("https://app.example:8443", "app.example:8443")  # listed name, listed scheme
    assert not own("http://app.example", "app.example")  # listed name, other scheme
    assert not own("http://127.0.0.1:8000", "127.0.0.1:9000")  # another port: another origin
    assert not own("http://[::1", "[::1")  # unparsable: refused, not a crash
    assert OriginPolicy(["*"]).is_allowed("null", None)  # "*": any origin at all


def test_two_origin_headers_are_refused_in_process() -> None:
    c = client(allowed_origins=["https://good.example"])
    session = c.websocket_connect("/ws", headers={"origin": "https://good.example"})
    session.scope["headers"].append((b"origin", b"https://good.example"))
    with pytest.raises(WebSocketDenialResponse) as info, session:
        pass
    assert (info.value.status_code, info.value.text) == (403, "Origin not allowed")
