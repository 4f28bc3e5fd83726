"""Starlette's tests/test_testclient.py and test_endpoints.py (WebSocket part), as the peer
writes them (imports renamed): any ASGI app shape in the test client, app errors raised.

The peer's anyio task group in ``test_websocket_blocking_receive`` is an asyncio task here
(tether is asyncio only, docs/compat.md 35).
"""

import asyncio

import pytest

from tether import Tether as Starlette
from tether.endpoints import WebSocketEndpoint
from tether.middleware import Middleware
from tether.requests import Request
from tether.responses import JSONResponse
from tether.routing import Route
from tether.testclient import TestClient
from tether.websockets import WebSocket, WebSocketDisconnect


def mock_service_endpoint(request: Request) -> JSONResponse:
    return JSONResponse({"mock": "example"})


mock_service = Starlette(routes=[Route("/", endpoint=mock_service_endpoint)])


def test_use_testclient_in_endpoint() -> None:
    def homepage(request: Request) -> JSONResponse:
        client = TestClient(mock_service)
        response = client.get("/")
        return JSONResponse(response.json())

    app = Starlette(routes=[Route("/", endpoint=homepage)])
    client = TestClient(app)
    response = client.get("/")
    assert response.json() == {"mock": "example"}


def test_exception_in_middleware() -> None:
    class MiddlewareException(Exception):
        pass

    class BrokenMiddleware:
        def __init__(self, app):
            self.app = app

        async def __call__(self, scope, receive, send) -> None:
            raise MiddlewareException()

    broken_middleware = Starlette(middleware=[Middleware(BrokenMiddleware)])
    with pytest.raises(MiddlewareException):
        with TestClient(broken_middleware):
            pass  # pragma: no cover


def test_testclient_asgi2() -> None:
    def app(scope):
        async def inner(receive, send) -> None:
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [[b"content-type", b"text/plain"]],
                }
            )
            await send({"type": "http.response.body", "body": b"Hello, world!"})

        return inner

    client = TestClient(app)
    response = client.get("/")
    assert response.text == "Hello, world!"


def test_testclient_asgi3_returning_another_awaitable() -> None:
    class App:
        def __call__(self, scope, receive, send):
            # not a coroutine function: returns an awaitable of its own
            return asyncio.ensure_future(self.respond(send))

        async def respond(self, send) -> None:
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b"Hello, world!"})

    assert TestClient(App()).get("/").text == "Hello, world!"


def test_websocket_blocking_receive() -> None:
    def app(scope):
        async def respond(websocket: WebSocket) -> None:
            await websocket.send_json({"message": "test"})

        async def asgi(receive, send) -> None:
            websocket = WebSocket(scope, receive=receive, send=send)
            await websocket.accept()
            task = asyncio.ensure_future(respond(websocket))
            try:
                # this will block as the client does not send us data
                # it should not prevent `respond` from executing though
                await websocket.receive_json()
            except WebSocketDisconnect:
                pass
            await task

        return asgi

    client = TestClient(app)
    with client.websocket_connect("/") as websocket:
        data = websocket.receive_json()
        assert data == {"message": "test"}


def test_websocket_not_block_on_close() -> None:
    cancelled = False

    def app(scope):
        async def asgi(receive, send) -> None:
            nonlocal cancelled
            try:
                websocket = WebSocket(scope, receive=receive, send=send)
                await websocket.accept()
                await asyncio.Event().wait()
            except asyncio.CancelledError:
                cancelled = True
                raise

        return asgi

    client = TestClient(app)
    with client.websocket_connect("/"):
        ...
    assert cancelled


def test_client_custom_client() -> None:
    async def app(scope, receive, send) -> None:
        host, port = scope.get("client")
        response = JSONResponse({"host": host, "port": port})
        await response(scope, receive, send)

    client = TestClient(app, client=("192.168.0.1", 3000))
    assert client.get("/").json() == {"host": "192.168.0.1", "port": 3000}


def test_websocket_endpoint_on_connect() -> None:
    class WebSocketApp(WebSocketEndpoint):
        async def on_connect(self, websocket: WebSocket) -> None:
            assert websocket["subprotocols"] == ["soap", "wamp"]
            await websocket.accept(subprotocol="wamp")

    client = TestClient(WebSocketApp)
    with client.websocket_connect("/ws", subprotocols=["soap", "wamp"]) as websocket:
        assert websocket.accepted_subprotocol == "wamp"


def test_websocket_endpoint_on_receive_bytes() -> None:
    class WebSocketApp(WebSocketEndpoint):
        encoding = "bytes"

        async def on_receive(self, websocket: WebSocket, data: bytes) -> None:
            await websocket.send_bytes(b"Message bytes was: " + data)

    client = TestClient(WebSocketApp)
    with client.websocket_connect("/ws") as websocket:
        websocket.send_bytes(b"Hello, world!")
        _bytes = websocket.receive_bytes()
        assert _bytes == b"Message bytes was: Hello, world!"

    with pytest.raises(RuntimeError):
        with client.websocket_connect("/ws") as websocket:
            websocket.send_text("Hello world")


def test_websocket_endpoint_on_receive_json() -> None:
    class WebSocketApp(WebSocketEndpoint):
        encoding = "json"

        async def on_receive(self, websocket: WebSocket, data: str) -> None:
            await websocket.send_json({"message": data})

    client = TestClient(WebSocketApp)
    with client.websocket_connect("/ws") as websocket:
        websocket.send_json({"hello": "world"})
        data = websocket.receive_json()
        assert data == {"message": {"hello": "world"}}

    with pytest.raises(RuntimeError):
        with client.websocket_connect("/ws") as websocket:
            websocket.send_text("Hello world")
