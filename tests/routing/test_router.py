"""tether.routing: path compilation, matching by scope type, URL building, index, lifespan."""

from __future__ import annotations

import contextlib
import random
from collections.abc import AsyncIterator
from typing import Any

import pytest

from tether.middleware import Middleware
from tether.requests import Request
from tether.responses import PlainTextResponse
from tether.routing import (
    Host,
    Match,
    Mount,
    NoMatchFound,
    Route,
    Router,
    WebSocketRoute,
    compile_path,
)
from tether.testclient import AsyncTestClient, TestClient, WebSocketDenialResponse
from tether.types import Receive, Scope, Send
from tether.websockets import WebSocket


def text(body: str) -> Any:
    def endpoint(request: Request) -> PlainTextResponse:
        return PlainTextResponse(body)

    return endpoint


async def describe(websocket: WebSocket) -> None:
    await websocket.accept()
    scope = websocket.scope
    await websocket.send_json(
        {
            "path_params": {k: str(v) for k, v in websocket.path_params.items()},
            "route": scope["route"].path if hasattr(scope["route"], "path") else None,
            "router_is_outer": scope["router"] is OUTER,
            "root_path": scope.get("root_path", ""),
        }
    )
    await websocket.close()


INNER = Router([WebSocketRoute("/room/{room}", describe, name="room")])
OUTER = Router(
    [
        Route("/same", text("http")),
        WebSocketRoute("/same", describe, name="same_ws"),
        WebSocketRoute("/items/{item_id:int}", describe, name="item"),
        Mount("/m/{tenant}", app=INNER, name="m"),
        Host(
            "{sub}.example.org",
            app=Router([WebSocketRoute("/ws", describe, name="h")]),
            name="host",
        ),
    ]
)


def test_compile_path() -> None:
    regex, fmt, convertors = compile_path("/users/{id:int}/{name}")
    assert fmt == "/users/{id}/{name}"
    assert set(convertors) == {"id", "name"}
    assert regex.match("/users/3/bob") and not regex.match("/users/x/bob")


def test_compile_path_errors() -> None:
    with pytest.raises(ValueError, match="id"):
        compile_path("/{id}/{id}")
    with pytest.raises(AssertionError):
        compile_path("/{id:nope}")


def test_http_and_websocket_share_a_path() -> None:
    client = TestClient(OUTER)
    assert client.get("/same").text == "http"
    with client.websocket_connect("/same") as ws:
        assert ws.receive_json()["route"] == "/same"


def test_path_params_are_converted_and_route_is_set() -> None:
    with TestClient(OUTER).websocket_connect("/items/42") as ws:
        data = ws.receive_json()
    assert data["path_params"] == {"item_id": "42"}
    assert data["route"] == "/items/{item_id:int}"
    assert data["router_is_outer"] is True


def test_mount_websocket_scope() -> None:
    with TestClient(OUTER).websocket_connect("/m/acme/room/r1") as ws:
        data = ws.receive_json()
    assert data["path_params"] == {"tenant": "acme", "room": "r1"}
    assert data["root_path"] == "/m/acme"
    assert data["route"] == "/room/{room}"
    assert data["router_is_outer"] is True  # set by the outermost router only


def test_host_route_matches_websockets() -> None:
    with TestClient(OUTER).websocket_connect("ws://API.example.org/ws") as ws:
        assert ws.receive_json()["path_params"] == {"sub": "api"}


def test_unknown_websocket_path_is_a_404_denial() -> None:
    with (
        pytest.raises(WebSocketDenialResponse) as info,
        TestClient(OUTER).websocket_connect("/nowhere"),
    ):
        pass
    assert info.value.status_code == 404
    assert info.value.json() == {"detail": "Not Found"}


async def test_unknown_websocket_path_without_denial_extension_closes_1000() -> None:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "websocket.connect"}

    async def send(message: Any) -> None:
        sent.append(dict(message))

    scope = {"type": "websocket", "path": "/nowhere", "headers": [], "query_string": b""}
    await OUTER(scope, receive, send)
    assert sent == [{"type": "websocket.close", "code": 1000, "reason": ""}]


def test_websocket_is_not_redirected_for_slashes() -> None:
    with (
        pytest.raises(WebSocketDenialResponse) as info,
        TestClient(OUTER).websocket_connect("/same/"),
    ):
        pass
    assert info.value.status_code == 404


def test_http_slash_redirect_and_405() -> None:
    router = Router([Route("/a", text("a"), methods=["POST"]), Route("/b/", text("b"))])
    client = TestClient(router)
    assert client.get("/b").text == "b"
    response = client.get("/a")
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"


def test_url_path_for_protocols() -> None:
    assert OUTER.url_path_for("same_ws").protocol == "websocket"
    assert OUTER.url_path_for("item", item_id=3) == "/items/3"
    url = OUTER.url_path_for("m:room", tenant="t", room="r")
    assert (url, url.protocol) == ("/m/t/room/r", "websocket")
    assert OUTER.url_path_for("m:room", room="r") == "/m/{tenant}/room/r"
    assert str(OUTER.url_path_for("host:h", sub="api").make_absolute_url("http://x")) == (
        "ws://api.example.org/ws"
    )
    with pytest.raises(NoMatchFound):
        OUTER.url_path_for("item")
    with pytest.raises(NoMatchFound):
        OUTER.url_path_for("missing")


def test_url_for_from_a_websocket() -> None:
    async def endpoint(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text(str(websocket.url_for("target", x="q")))
        await websocket.send_text(str(websocket.url_for("page")))
        await websocket.close()

    router = Router(
        [
            WebSocketRoute("/ws", endpoint),
            WebSocketRoute("/t/{x}", endpoint, name="target"),
            Route("/page", text("p"), name="page"),
        ]
    )
    with TestClient(router).websocket_connect("/ws") as ws:
        assert ws.receive_text() == "ws://testserver/t/q"
        assert ws.receive_text() == "http://testserver/page"


def test_first_declared_match_wins() -> None:
    router = Router(
        [
            Route("/items/{name}", text("dynamic")),
            Route("/items/special", text("static")),
            Route("/{anything:path}", text("catch-all")),
            Route("/late", text("late")),
        ]
    )
    client = TestClient(router)
    assert client.get("/items/special").text == "dynamic"
    assert client.get("/late").text == "catch-all"


def test_index_follows_route_list_changes() -> None:
    router = Router([Route("/a", text("a"))])
    client = TestClient(router)
    assert client.get("/b").status_code == 404
    router.routes.append(Route("/b", text("b")))
    assert client.get("/b").text == "b"
    router.routes.insert(0, Route("/b", text("first")))
    assert client.get("/b").text == "first"
    del router.routes[0]
    assert client.get("/b").text == "b"


def _linear_match(routes: list[Any], scope: Scope) -> Any:
    partial = None
    for route in routes:
        match, _ = route.matches(dict(scope))
        if match is Match.FULL:
            return route
        if match is Match.PARTIAL and partial is None:
            partial = route
    return partial


def test_thousand_routes_match_like_a_linear_scan() -> None:
    rng = random.Random(1234)
    routes: list[Any] = []
    for i in range(1000):
        kind = i % 5
        if kind == 0:
            routes.append(Route(f"/static/{i}", text(str(i))))
        elif kind == 1:
            routes.append(Route(f"/api/v{i % 7}/items/{{id:int}}/x{i}", text(str(i))))
        elif kind == 2:
            routes.append(WebSocketRoute(f"/ws/{i % 13}/{{room}}", describe))
        elif kind == 3:
            routes.append(Route(f"/{{tenant}}/p{i}", text(str(i)), methods=["POST"]))
        else:
            routes.append(Mount(f"/mnt{i % 11}", app=Router([]), name=f"m{i}"))
    router = Router(routes)
    paths = [
        "/static/500",
        "/static/7",
        "/api/v3/items/4/x10",
        "/api/v1/items/z/x1",
        "/ws/5/r",
        "/ws/99/r",
        "/t/p3",
        "/t/p8",
        "/mnt3/x",
        "/mnt3",
        "/",
        "/nothing/at/all",
    ]
    paths += [
        rng.choice(["/static/", "/api/v2/items/", "/ws/4/", "/q/p", "/mnt"]) + str(n)
        for n in range(300)
    ]
    for path in paths:
        for scope_type in ("http", "websocket"):
            scope: Scope = {"type": scope_type, "path": path, "method": "GET", "headers": []}
            expected = _linear_match(routes, scope)
            got = None
            for route in router._lookup(scope_type, path):
                match, _ = route.matches(dict(scope))
                if match is Match.FULL:
                    got = route
                    break
                if match is Match.PARTIAL and got is None:
                    got = route
            assert got is expected, (scope_type, path)


def test_router_middleware_sees_websocket_scopes() -> None:
    class AddHeader:
        def __init__(self, app: Any) -> None:
            self.app = app

        async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
            async def wrapped(message: Any) -> None:
                if message["type"] == "websocket.accept":
                    message["headers"] = [*message.get("headers", []), (b"x-mw", b"1")]
                await send(message)

            await self.app(scope, receive, wrapped)

    async def endpoint(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.close()

    route = WebSocketRoute("/r", endpoint, middleware=[Middleware(AddHeader)])
    for app in (
        Router([route]),
        Router([WebSocketRoute("/r", endpoint)], middleware=[Middleware(AddHeader)]),
    ):
        with TestClient(app).websocket_connect("/r") as ws:
            assert (b"x-mw", b"1") in (ws.extra_headers or [])


def test_route_equality_and_repr() -> None:
    assert WebSocketRoute("/a", describe) == WebSocketRoute("/a", describe)
    assert repr(WebSocketRoute("/a", describe)) == "WebSocketRoute(path='/a', name='describe')"
    assert WebSocketRoute("/a", describe).name == "describe"


async def test_lifespan_state_reaches_websockets() -> None:
    events: list[str] = []

    @contextlib.asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[dict[str, Any]]:
        events.append("enter")
        yield {"greeting": "hello"}
        events.append("exit")

    async def endpoint(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text(websocket.state.greeting)
        await websocket.close()

    router = Router(
        [WebSocketRoute("/ws", endpoint)],
        lifespan=lifespan,
        on_startup=[lambda: events.append("startup")],
        on_shutdown=[lambda: events.append("shutdown")],
    )
    async with AsyncTestClient(router) as client, client.websocket_connect("/ws") as ws:
        assert await ws.receive_text() == "hello"
    assert events == ["startup", "enter", "exit", "shutdown"]


def test_startup_failure_is_reported() -> None:
    @contextlib.asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[None]:
        raise ValueError("cannot start")
        yield

    with pytest.raises(Exception), TestClient(Router(lifespan=lifespan)):  # noqa: B017 - the test client's own error type
        pass


def test_low_priority_routes_serve_only_what_nothing_else_matched() -> None:
    router = Router(
        [
            Route("/items", text("items"), methods=["GET"]),
            Route("/dir/", text("dir")),
            Mount("/sub", routes=[Route("/x", text("sub"))]),
        ]
    )
    router._low_priority_routes += [
        Route("/{anything:path}", text("low"), methods=["GET"]),
        Route("/{anything:path}", text("low post"), methods=["POST"]),
    ]
    client = TestClient(router)

    assert client.get("/items").text == "items"
    assert client.post("/items").status_code == 405  # a normal partial match comes first
    assert client.get("/dir", follow_redirects=False).status_code == 307  # so does a redirect
    assert client.get("/sub/x").text == "sub"
    assert client.get("/sub/y").text == "Not Found"  # the mount matched: its own 404
    assert client.get("/else").text == "low"
    assert client.post("/else").text == "low post"  # the first full match, not the partial
    assert client.put("/else").status_code == 405  # else the first partial one
    router._low_priority_routes.clear()
    router._mark_routes_changed()
    assert client.get("/else").status_code == 404
