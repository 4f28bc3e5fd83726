"""tether.applications: Tether and the FastAPI-style Router."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest

from tether.applications import Router, Tether
from tether.exceptions import ConfigurationError
from tether.middleware import Middleware
from tether.middleware.errors import ServerErrorMiddleware
from tether.middleware.exceptions import ExceptionMiddleware
from tether.middleware.trustedhost import TrustedHostMiddleware
from tether.params import Depends
from tether.requests import HTTPConnection
from tether.responses import PlainTextResponse
from tether.shutdown import GracefulShutdown
from tether.testclient import AsyncTestClient, TestClient, WebSocketDenialResponse
from tether.types import Receive, Scope, Send
from tether.websockets import WebSocket, WebSocketDisconnect


def recorder(order: list[str], label: str) -> Any:
    async def dependency() -> None:
        order.append(label)

    dependency.__name__ = f"dep_{label}"
    return Depends(dependency)


def test_dependency_order_app_include_router_route() -> None:
    order: list[str] = []
    app = Tether(dependencies=[recorder(order, "app")])
    router = Router(prefix="/r", dependencies=[recorder(order, "router")])

    @router.websocket("/ws/{x}", name="inner_ws", dependencies=[recorder(order, "route")])
    async def inner(websocket: WebSocket, x: str) -> None:
        order.append("endpoint")
        await websocket.accept()
        await websocket.send_text(x)
        await websocket.close()

    app.include_router(router, prefix="/outer", dependencies=[recorder(order, "include")])
    with TestClient(app).websocket_connect("/outer/r/ws/q") as ws:
        assert ws.receive_text() == "q"
    assert order == ["app", "include", "router", "route", "endpoint"]
    assert app.url_path_for("inner_ws", x="q") == "/outer/r/ws/q"
    assert app.url_path_for("inner_ws", x="q").protocol == "websocket"


def test_http_routes_and_plain_routes() -> None:
    app = Tether()
    router = Router(prefix="/api")

    @router.get("/items/{item_id}")
    async def read(item_id: int) -> dict[str, int]:
        return {"item_id": item_id}

    @router.post("/items", status_code=201)
    def create() -> dict[str, bool]:
        return {"created": True}

    @router.route("/plain")
    async def plain(request: Any) -> PlainTextResponse:
        return PlainTextResponse("plain")

    @router.websocket_route("/raw")
    async def raw(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text("raw")
        await websocket.close()

    app.include_router(router)
    client = TestClient(app)
    assert client.get("/api/items/3").json() == {"item_id": 3}
    response = client.post("/api/items")
    assert (response.status_code, response.json()) == (201, {"created": True})
    assert client.get("/api/plain").text == "plain"
    assert client.delete("/api/items/3").status_code == 405
    with client.websocket_connect("/api/raw") as ws:
        assert ws.receive_text() == "raw"


def test_sync_websocket_endpoint_is_refused_at_registration() -> None:
    app = Tether()
    with pytest.raises(ConfigurationError):

        @app.websocket("/ws")
        def endpoint(websocket: WebSocket) -> None:
            pass


@pytest.mark.parametrize("prefix", ["api", "/api/"])
def test_bad_prefix_is_refused(prefix: str) -> None:
    with pytest.raises(ConfigurationError):
        Router(prefix=prefix)
    with pytest.raises(ConfigurationError):
        Tether().include_router(Router(), prefix=prefix)


def test_dependency_overrides_apply_to_websocket_routes() -> None:
    def real() -> str:
        return "real"

    app = Tether()
    router = Router()

    @router.websocket("/ws")
    async def endpoint(websocket: WebSocket, value: str = Depends(real)) -> None:
        await websocket.accept()
        await websocket.send_text(value)
        await websocket.close()

    app.include_router(router)
    app.dependency_overrides[real] = lambda: "fake"
    with TestClient(app).websocket_connect("/ws") as ws:
        assert ws.receive_text() == "fake"


def test_http_connection_dependency_serves_both_protocols() -> None:
    app = Tether()
    app.state.value = 42

    def read_value(conn: HTTPConnection) -> int:
        return int(conn.app.state.value)

    @app.get("/http")
    async def http(value: int = Depends(read_value)) -> dict[str, int]:
        return {"value": value}

    @app.websocket("/ws")
    async def ws(websocket: WebSocket, value: int = Depends(read_value)) -> None:
        await websocket.accept()
        await websocket.send_json({"value": value})
        await websocket.close()

    client = TestClient(app)
    assert client.get("/http").json() == {"value": 42}
    with client.websocket_connect("/ws") as session:
        assert session.receive_json() == {"value": 42}


async def test_lifespan_state_and_drain_closes_open_websockets_with_1012() -> None:
    events: list[str] = []

    @contextlib.asynccontextmanager
    async def lifespan(app: Tether) -> AsyncIterator[dict[str, Any]]:
        events.append("start")
        yield {"name": "lobby"}
        events.append(f"stop with {len(app.connections)} open")

    app = Tether(lifespan=lifespan, on_shutdown=[lambda: events.append("hook")])

    @app.websocket("/ws")
    async def endpoint(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text(websocket.state.name)
        try:
            await websocket.receive_text()
        except WebSocketDisconnect:
            events.append("endpoint saw disconnect")

    async with AsyncTestClient(app) as client:
        ws = client.websocket_connect("/ws")
        await ws.__aenter__()
        assert await ws.receive_text() == "lobby"
        assert len(app.connections) == 1
        drain = asyncio.create_task(app.drain())
        message = await ws.receive()
        assert message == {"type": "websocket.close", "code": 1012, "reason": "service restart"}
        await ws.__aexit__(None, None, None)  # the client answers the close
        assert await drain == 1
        assert len(app.connections) == 0
        with pytest.raises(WebSocketDenialResponse) as refused:
            async with client.websocket_connect("/ws"):
                pass
        assert refused.value.status_code == 503
    assert events == ["start", "endpoint saw disconnect", "stop with 0 open", "hook"]


async def test_lifespan_shutdown_drains_open_websockets_first() -> None:
    events: list[str] = []

    @contextlib.asynccontextmanager
    async def lifespan(app: Tether) -> AsyncIterator[None]:
        yield
        events.append(f"lifespan exit with {len(app.connections)} open")

    app = Tether(lifespan=lifespan, graceful_shutdown=GracefulShutdown(code=1001, reason="bye"))

    @app.websocket("/ws")
    async def endpoint(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text("ready")
        with contextlib.suppress(WebSocketDisconnect):
            await websocket.receive_text()
        events.append("endpoint done")

    client = AsyncTestClient(app)
    await client.__aenter__()
    async with client.websocket_connect("/ws") as ws:
        assert await ws.receive_text() == "ready"
        stopping = asyncio.create_task(client.__aexit__(None, None, None))
        message = await ws.receive()
        assert message == {"type": "websocket.close", "code": 1001, "reason": "bye"}
    await stopping
    assert events == ["endpoint done", "lifespan exit with 0 open"]


async def test_send_after_drain_close_is_a_disconnect_for_the_endpoint() -> None:
    seen: list[str] = []
    drained = asyncio.Event()
    app = Tether()

    @app.websocket("/ws")
    async def endpoint(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text("ready")
        await drained.wait()  # the drain has closed the socket by now
        try:
            await websocket.send_text("too late")
        except WebSocketDisconnect as exc:
            seen.append(f"disconnect {exc.code}")
        await websocket.close()  # dropped: already closed by the drain

    async with AsyncTestClient(app) as client, client.websocket_connect("/ws") as ws:
        assert await ws.receive_text() == "ready"
        await app.connections.drain(grace_period=0, close_wait=1)
        assert (await ws.receive())["code"] == 1012
        drained.set()
        await ws.assert_no_message(0.1)
    assert seen == ["disconnect 1006"]  # a send on a socket tether closed: a lost connection


def test_graceful_shutdown_off_puts_nothing_in_the_stack() -> None:
    app = Tether(graceful_shutdown=False, limits=None)
    stack = app.build_middleware_stack()
    assert isinstance(stack, ServerErrorMiddleware)
    assert isinstance(stack.app, ExceptionMiddleware)
    with pytest.raises(ConfigurationError):
        asyncio.run(app.drain())


def test_add_middleware_sees_websockets_and_is_refused_after_start() -> None:
    seen: list[str] = []

    class Spy:
        def __init__(self, app: Any, label: str) -> None:
            self.app, self.label = app, label

        async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
            seen.append(f"{self.label}:{scope['type']}")
            await self.app(scope, receive, send)

    app = Tether(middleware=[Middleware(Spy, "first")])
    app.add_middleware(Spy, label="added")

    @app.websocket("/ws")
    async def endpoint(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.close()

    with TestClient(app).websocket_connect("/ws"):
        pass
    assert seen == ["added:websocket", "first:websocket"]
    with pytest.raises(RuntimeError):
        app.add_middleware(Spy, label="late")


def test_allowed_origins_refuses_cross_origin_handshakes() -> None:
    app = Tether(allowed_origins=["https://good.example"])

    @app.websocket("/ws")
    async def endpoint(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.close()

    client = TestClient(app)
    with client.websocket_connect("/ws", headers={"origin": "https://good.example"}):
        pass
    with (
        pytest.raises(WebSocketDenialResponse),
        client.websocket_connect("/ws", headers={"origin": "http://testserver"}),
    ):
        pass  # Origin equal to Host is not enough: the host is not trusted (DNS rebinding)
    trusted = Tether(allowed_origins=["https://good.example"])
    trusted.add_middleware(TrustedHostMiddleware, allowed_hosts=["testserver"])
    trusted.add_websocket_route("/ws", endpoint)
    with TestClient(trusted).websocket_connect("/ws", headers={"origin": "http://testserver"}):
        pass  # the same page, on a host the app trusts
    with (
        pytest.raises(WebSocketDenialResponse) as info,
        client.websocket_connect("/ws", headers={"origin": "https://evil.example"}),
    ):
        pass
    assert info.value.status_code == 403


def test_mount_a_sub_app_with_websockets() -> None:
    sub = Tether()

    @sub.websocket("/ws", name="sub_ws")
    async def endpoint(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text(websocket.scope["root_path"])
        await websocket.close()

    app = Tether()
    app.mount("/sub", sub, name="sub")
    with TestClient(app).websocket_connect("/sub/ws") as ws:
        assert ws.receive_text() == "/sub"
    assert app.url_path_for("sub:sub_ws") == "/sub/ws"


def test_exception_handler_registered_after_first_request_is_used() -> None:
    app = Tether()

    @app.get("/x")
    async def x() -> None:
        raise KeyError("k")

    client = TestClient(app, raise_server_exceptions=False)
    assert client.get("/x").status_code == 500

    @app.exception_handler(KeyError)
    async def on_key(conn: HTTPConnection, exc: Exception) -> PlainTextResponse:
        return PlainTextResponse("key", status_code=409)

    assert client.get("/x").status_code == 409
