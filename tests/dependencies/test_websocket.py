"""Dependency injection on WebSocket routes, through the real app and both test clients."""

from typing import Annotated, Any

import pytest

from tether.applications import Tether
from tether.exceptions import ConfigurationError
from tether.params import Depends, Header, Query
from tether.requests import HTTPConnection, Request
from tether.testclient import AsyncTestClient, TestClient, WebSocketDenialResponse
from tether.websockets import WebSocket, WebSocketDisconnect


async def client_host(conn: HTTPConnection) -> str:
    return conn.url.path


def test_connection_scoped_dependency_lives_for_the_connection() -> None:
    events: list[Any] = []
    app = Tether()

    async def resource(room: str) -> Any:
        events.append(("open", room))
        try:
            yield {"room": room}
        except WebSocketDisconnect as exc:
            events.append(("saw disconnect", exc.code))
            raise
        finally:
            events.append("closed")

    @app.websocket("/rooms/{room}")
    async def endpoint(
        websocket: WebSocket, res: Annotated[dict[str, str], Depends(resource)]
    ) -> None:
        await websocket.accept()
        while True:
            text = await websocket.receive_text()
            events.append(("message", text))
            await websocket.send_text(f"{res['room']}:{text}")

    client = TestClient(app)
    with pytest.raises(WebSocketDisconnect), client.websocket_connect("/rooms/r1") as session:
        for text in ("a", "b"):
            session.send_text(text)
            assert session.receive_text() == f"r1:{text}"
        assert events == [("open", "r1"), ("message", "a"), ("message", "b")]
        session.close(4000)
    assert events[-2:] == [("saw disconnect", 4000), "closed"]


def test_dependency_typed_http_connection_serves_both_protocols() -> None:
    app = Tether()

    @app.get("/http/path")
    async def http_route(path: str = Depends(client_host)) -> dict[str, str]:
        return {"path": path}

    @app.websocket("/ws/path")
    async def ws_route(websocket: WebSocket, path: str = Depends(client_host)) -> None:
        await websocket.accept()
        await websocket.send_json({"path": path})
        await websocket.close()

    client = TestClient(app)
    assert client.get("/http/path").json() == {"path": "/http/path"}
    with client.websocket_connect("/ws/path") as session:
        assert session.receive_json() == {"path": "/ws/path"}


def test_validation_errors_deny_the_handshake_with_all_errors() -> None:
    app = Tether()

    @app.websocket("/items/{item_id}")
    async def endpoint(
        websocket: WebSocket, item_id: int, q: int = Query(ge=0), x_token: str = Header()
    ) -> None:
        await websocket.accept()

    client = TestClient(app)
    with pytest.raises(WebSocketDenialResponse) as info, client.websocket_connect("/items/x?q=-1"):
        pass
    assert info.value.status_code == 422
    locs = [error["loc"] for error in info.value.json()["detail"]]
    assert locs == [["path", "item_id"], ["query", "q"], ["header", "x-token"]]


def test_registration_errors_surface_at_the_decorator() -> None:
    app = Tether()

    async def wants_request(request: Request) -> None:
        pass

    with pytest.raises(ConfigurationError, match="Request on a WebSocket route"):

        @app.websocket("/ws")
        async def endpoint(websocket: WebSocket, v: None = Depends(wants_request)) -> None:
            pass

    with pytest.raises(ConfigurationError, match="Request on a WebSocket route"):
        app.websocket("/ws2", dependencies=[Depends(wants_request)])(_plain_endpoint)

    with pytest.raises(ConfigurationError):

        @app.websocket("/sync")
        def sync_endpoint(websocket: WebSocket) -> None:
            pass


async def _plain_endpoint(websocket: WebSocket) -> None:
    await websocket.accept()


async def test_overrides_and_route_dependencies_with_async_client() -> None:
    order: list[str] = []

    async def real_user() -> str:
        return "real"

    async def audit() -> None:
        order.append("audit")

    app = Tether()

    @app.websocket("/me", dependencies=[Depends(audit)])
    async def me(websocket: WebSocket, user: str = Depends(real_user)) -> None:
        order.append("endpoint")
        await websocket.accept()
        await websocket.send_text(user)
        await websocket.close()

    async with AsyncTestClient(app) as client:
        async with client.websocket_connect("/me") as session:
            assert await session.receive_text() == "real"
        app.dependency_overrides[real_user] = lambda: "override"
        async with client.websocket_connect("/me") as session:
            assert await session.receive_text() == "override"
        app.dependency_overrides.clear()
    assert order == ["audit", "endpoint", "audit", "endpoint"]


async def test_function_scope_is_cleaned_before_connection_scope() -> None:
    events: list[str] = []

    async def per_connection() -> Any:
        yield
        events.append("connection cleanup")

    async def per_function() -> Any:
        yield
        events.append("function cleanup")

    app = Tether()

    @app.websocket("/ws")
    async def endpoint(
        websocket: WebSocket,
        a: None = Depends(per_connection),
        b: None = Depends(per_function, scope="function"),
    ) -> None:
        await websocket.accept()
        await websocket.close()
        events.append("endpoint done")

    async with AsyncTestClient(app) as client, client.websocket_connect("/ws") as session:
        with pytest.raises(WebSocketDisconnect):
            await session.receive_text()
    assert events == ["endpoint done", "function cleanup", "connection cleanup"]
