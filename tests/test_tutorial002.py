"""FastAPI's WebSocket tutorial 002 rebuilt (fastapi-layer.md 5.2), both variants, both clients.

As the peer's tests: the happy paths end with the endpoint's WebSocketDisconnect coming out of
the with block (the tutorial's endpoint loops until the client leaves). Tighter: the refusals
assert what the client sees (close code 1008 for the policy refusal, an HTTP 422 denial with
the errors for invalid data).
"""

from types import ModuleType
from typing import Any

import pytest

from tether.testclient import AsyncTestClient, TestClient, WebSocketDenialResponse
from tether.websockets import WebSocketDisconnect


def _load() -> ModuleType:
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "docs" / "examples" / "tutorial002.py"
    spec = importlib.util.spec_from_file_location("docs_examples_tutorial002", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


mod = _load()
APPS = [pytest.param(mod.app, id="default"), pytest.param(mod.app_an, id="annotated")]


@pytest.fixture(params=APPS)
def client(request: Any) -> TestClient:
    return TestClient(request.param)


def test_main(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert b"<!DOCTYPE html>" in response.content


def _two_rounds(session: Any, first: str, third: str, q: str | None = None) -> None:
    for message in ("Message one", "Message two"):
        session.send_text(message)
        assert session.receive_text() == f"Session cookie or query token value is: {first}"
        if q is not None:
            assert session.receive_text() == f"Query parameter q is: {q}"
        assert session.receive_text() == f"Message text was: {message}, for item ID: {third}"


def test_websocket_with_cookie(client: TestClient) -> None:
    client.cookies.set("session", "fakesession")
    with pytest.raises(WebSocketDisconnect), client.websocket_connect("/items/foo/ws") as session:
        _two_rounds(session, "fakesession", "foo")


def test_websocket_with_query_token(client: TestClient) -> None:
    url = "/items/bar/ws?token=some-token"
    with pytest.raises(WebSocketDisconnect), client.websocket_connect(url) as session:
        _two_rounds(session, "some-token", "bar")


def test_websocket_with_query_token_and_q(client: TestClient) -> None:
    url = "/items/2/ws?q=3&token=some-token"
    with pytest.raises(WebSocketDisconnect), client.websocket_connect(url) as session:
        _two_rounds(session, "some-token", "2", q="3")


def test_cookie_wins_over_token(client: TestClient) -> None:
    client.cookies.set("session", "cookie-value")
    url = "/items/x/ws?token=token-value"
    with pytest.raises(WebSocketDisconnect), client.websocket_connect(url) as session:
        session.send_text("hi")
        assert session.receive_text().endswith("cookie-value")


def test_websocket_no_credentials_closes_with_1008(client: TestClient) -> None:
    with pytest.raises(WebSocketDisconnect) as info, client.websocket_connect("/items/foo/ws"):
        pass
    assert not isinstance(info.value, WebSocketDenialResponse)
    assert info.value.code == 1008


def test_websocket_invalid_data_is_a_422_denial(client: TestClient) -> None:
    url = "/items/foo/ws?q=bar&token=some-token"
    with pytest.raises(WebSocketDenialResponse) as info, client.websocket_connect(url):
        pass
    assert info.value.status_code == 422
    [error] = info.value.json()["detail"]
    assert error["loc"] == ["query", "q"] and error["type"] == "int_parsing"


@pytest.mark.parametrize("app", APPS)
async def test_async_client(app: Any) -> None:
    async with AsyncTestClient(app) as client:
        with pytest.raises(WebSocketDisconnect):
            async with client.websocket_connect("/items/2/ws?q=3&token=t") as session:
                await session.send_text("hello")
                assert await session.receive_text() == "Session cookie or query token value is: t"
                assert await session.receive_text() == "Query parameter q is: 3"
                assert await session.receive_text() == "Message text was: hello, for item ID: 2"
        with pytest.raises(WebSocketDisconnect) as info:
            async with client.websocket_connect("/items/foo/ws"):
                pass
        assert info.value.code == 1008
        with pytest.raises(WebSocketDenialResponse) as denied:
            async with client.websocket_connect("/items/foo/ws?q=bar&token=t"):
                pass
        assert denied.value.status_code == 422
