"""Exception handling for HTTP and WebSocket: what a client sees, what gets logged."""

from __future__ import annotations

import logging
import threading
from typing import Any

import pytest

from tether.applications import Tether
from tether.endpoints import WebSocketEndpoint
from tether.exceptions import HTTPException, WebSocketException
from tether.requests import HTTPConnection
from tether.responses import JSONResponse, PlainTextResponse
from tether.routing import WebSocketRoute
from tether.testclient import AsyncTestClient, TestClient, WebSocketDenialResponse
from tether.websockets import WebSocket, WebSocketDisconnect

ERROR_LOGGER = "tether.error"


class Boom(Exception):
    pass


def make_app(**options: Any) -> Tether:
    app = Tether(**options)

    @app.websocket("/http-before")
    async def http_before(websocket: WebSocket) -> None:
        raise HTTPException(401, "nope", headers={"WWW-Authenticate": "Bearer"})

    @app.websocket("/http-after")
    async def http_after(websocket: WebSocket) -> None:
        await websocket.accept()
        raise HTTPException(403, "late")

    @app.websocket("/ws-exc-before")
    async def ws_exc_before(websocket: WebSocket) -> None:
        raise WebSocketException(4001, "custom")

    @app.websocket("/ws-exc-after")
    async def ws_exc_after(websocket: WebSocket) -> None:
        await websocket.accept()
        raise WebSocketException(4002, "after")

    @app.websocket("/boom-before")
    async def boom_before(websocket: WebSocket) -> None:
        raise Boom("before")

    @app.websocket("/boom-after")
    async def boom_after(websocket: WebSocket) -> None:
        await websocket.accept()
        raise Boom("after")

    @app.websocket("/echo")
    async def echo(websocket: WebSocket) -> None:
        await websocket.accept()
        while True:  # no try: the client leaving ends this with WebSocketDisconnect
            await websocket.send_text(await websocket.receive_text())

    @app.websocket("/items/{item_id}")
    async def item(websocket: WebSocket, item_id: int) -> None:
        await websocket.accept()
        await websocket.close()

    @app.get("/items/{item_id}")
    async def http_item(item_id: int) -> dict[str, int]:
        return {"item_id": item_id}

    @app.get("/boom")
    async def http_boom() -> None:
        raise Boom("http")

    return app


def error_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == ERROR_LOGGER and r.levelno >= logging.ERROR]


def denial(client: TestClient, url: str) -> WebSocketDenialResponse:
    with pytest.raises(WebSocketDenialResponse) as info, client.websocket_connect(url):
        pass
    return info.value


def closing(ws: Any) -> pytest.ExceptionInfo[WebSocketDisconnect]:
    with pytest.raises(WebSocketDisconnect) as info:
        ws.receive_text()
    return info


def without_extension(client: TestClient, url: str) -> Any:
    session = client.websocket_connect(url)
    session.scope["extensions"] = {}
    return session


def test_http_exception_before_accept_is_a_denial() -> None:
    response = denial(TestClient(make_app()), "/http-before")
    assert response.status_code == 401
    assert response.json() == {"detail": "nope"}
    assert response.headers["www-authenticate"] == "Bearer"


def test_http_exception_before_accept_without_extension_closes_1008() -> None:
    with (
        pytest.raises(WebSocketDisconnect) as info,
        without_extension(TestClient(make_app()), "/http-before"),
    ):
        pass
    assert (info.value.code, info.value.reason) == (1008, "nope")


def test_http_exception_after_accept_closes_1011() -> None:
    with TestClient(make_app()).websocket_connect("/http-after") as ws:
        info = closing(ws)
    assert info.value.code == 1011


def test_websocket_exception_closes_with_its_code_and_reason() -> None:
    client = TestClient(make_app())
    with pytest.raises(WebSocketDisconnect) as info, client.websocket_connect("/ws-exc-before"):
        pass
    assert (info.value.code, info.value.reason) == (4001, "custom")
    with client.websocket_connect("/ws-exc-after") as ws:
        info = closing(ws)
    assert (info.value.code, info.value.reason) == (4002, "after")


def server_view(app: Tether) -> TestClient:
    """A client that sees what a real server's client sees (no exception raised to the test)."""
    return TestClient(app, raise_server_exceptions=False)


def test_unhandled_error_before_accept_is_a_500_denial(caplog: pytest.LogCaptureFixture) -> None:
    response = denial(server_view(make_app()), "/boom-before")
    assert response.status_code == 500
    assert len(error_records(caplog)) == 1


def test_unhandled_error_after_accept_closes_1011_and_logs_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with server_view(make_app()).websocket_connect("/boom-after") as ws:
        info = closing(ws)
    assert info.value.code == 1011
    records = error_records(caplog)
    assert len(records) == 1
    assert records[0].exc_info is not None and records[0].exc_info[0] is Boom


def test_debug_mode_puts_the_error_in_the_close_reason() -> None:
    with server_view(make_app(debug=True)).websocket_connect("/boom-after") as ws:
        info = closing(ws)
    assert info.value.reason == "Boom: after"


async def test_client_leaving_is_a_normal_end(caplog: pytest.LogCaptureFixture) -> None:
    client = AsyncTestClient(make_app(), raise_server_exceptions=False)
    async with client, client.websocket_connect("/echo") as ws:
        await ws.send_text("hi")
        assert await ws.receive_text() == "hi"
    assert error_records(caplog) == []


def test_the_test_client_raises_what_the_endpoint_raised(
    caplog: pytest.LogCaptureFixture,
) -> None:
    client = TestClient(make_app())
    with pytest.raises(Boom, match="before"), client.websocket_connect("/boom-before"):
        pass
    with client.websocket_connect("/boom-after") as ws, pytest.raises(Boom, match="after"):
        ws.receive_text()  # raised where the test waits, not turned into a 1011 close
    with pytest.raises(WebSocketDisconnect) as info, client.websocket_connect("/echo") as ws:
        ws.send_text("hi")
        assert ws.receive_text() == "hi"
    assert info.value.code == 1000  # the endpoint's own disconnect, after the client left
    assert error_records(caplog) == []  # raised to the test instead of logged


def test_exception_handler_covers_websockets_and_receives_the_websocket() -> None:
    seen: list[Any] = []

    async def on_error(conn: HTTPConnection, exc: Exception) -> None:
        seen.append((type(conn), type(exc)))
        assert isinstance(conn, WebSocket)
        await conn.close(code=4500, reason="handled")

    app = make_app(exception_handlers={Exception: on_error})
    with TestClient(app).websocket_connect("/boom-after") as ws:
        info = closing(ws)
    assert (info.value.code, info.value.reason) == (4500, "handled")
    assert seen == [(WebSocket, Boom)]


def test_500_handler_returning_a_response_before_accept() -> None:
    def on_500(conn: HTTPConnection, exc: Exception) -> PlainTextResponse:
        return PlainTextResponse("sorry", status_code=503)

    app = make_app(exception_handlers={500: on_500})
    response = denial(TestClient(app), "/boom-before")
    assert (response.status_code, response.text) == (503, "sorry")


def test_sync_class_handler_runs_in_a_thread_and_becomes_a_denial() -> None:
    threads: list[str] = []
    app = make_app()

    @app.exception_handler(Boom)
    def on_boom(conn: HTTPConnection, exc: Exception) -> PlainTextResponse:
        threads.append(threading.current_thread().name)
        return PlainTextResponse("teapot", status_code=418)

    client = TestClient(app)
    assert denial(client, "/boom-before").status_code == 418
    assert threads and threads[0] != threading.main_thread().name
    assert client.get("/boom").status_code == 418


def test_status_code_handler_for_http_exception() -> None:
    app = make_app()

    @app.exception_handler(401)
    async def on_401(conn: HTTPConnection, exc: Exception) -> JSONResponse:
        return JSONResponse({"login": "required"}, status_code=401)

    assert denial(TestClient(app), "/http-before").json() == {"login": "required"}


def test_websocket_validation_error_is_a_422_denial() -> None:
    response = denial(TestClient(make_app()), "/items/abc")
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert detail[0]["loc"] == ["path", "item_id"]


def test_websocket_validation_error_without_extension_closes_1008() -> None:
    with (
        pytest.raises(WebSocketDisconnect) as info,
        without_extension(TestClient(make_app()), "/items/abc"),
    ):
        pass
    assert info.value.code == 1008
    assert isinstance(info.value.reason, str) and "item_id" in info.value.reason
    assert len(info.value.reason.encode()) <= 123


def test_http_validation_error_and_unhandled_error() -> None:
    client = TestClient(make_app(), raise_server_exceptions=False)
    response = client.get("/items/abc")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["path", "item_id"]
    assert client.get("/boom").status_code == 500
    with pytest.raises(Boom):
        TestClient(make_app()).get("/boom")


def test_exception_from_an_asgi_endpoint_gets_a_state_synced_websocket() -> None:
    class Endpoint(WebSocketEndpoint):
        async def on_receive(self, websocket: WebSocket, data: Any) -> None:
            raise WebSocketException(4003, "from endpoint")

    app = Tether(routes=[WebSocketRoute("/e", Endpoint)])
    with TestClient(app).websocket_connect("/e") as ws:
        ws.send_text("x")
        info = closing(ws)
    assert (info.value.code, info.value.reason) == (4003, "from endpoint")
