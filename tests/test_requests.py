"""tether.requests: the HTTPConnection surface shared with WebSocket, and Request."""

from __future__ import annotations

from typing import Any

import pytest

from tether.datastructures import URLPath
from tether.requests import ClientDisconnect, HTTPConnection, Request, cookie_parser
from tether.websockets import WebSocket


def scope(**extra: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "type": "websocket",
        "scheme": "ws",
        "path": "/room/1",
        "root_path": "",
        "query_string": b"a=1&a=2&b=x",
        "headers": [(b"host", b"testserver"), (b"cookie", b"a=1; b=2"), (b"cookie", b"b=3")],
        "client": ("10.0.0.1", 5000),
    }
    base.update(extra)
    return base


def test_mapping_over_scope_with_identity_equality() -> None:
    data = scope()
    conn = HTTPConnection(data)
    assert conn["path"] == "/room/1" and len(conn) == len(data) and dict(conn) == data
    with pytest.raises(KeyError):
        conn["nope"]
    other = HTTPConnection(dict(data))
    assert conn != other and conn == conn and len({conn, other}) == 2
    with pytest.raises(AssertionError):
        HTTPConnection({"type": "lifespan"})


def test_properties() -> None:
    conn = HTTPConnection(scope(path_params={"room": 1}))
    assert conn.url == "ws://testserver/room/1?a=1&a=2&b=x"
    assert conn.url is conn.url  # cached
    assert conn.base_url == "ws://testserver/"
    assert conn.headers["host"] == "testserver"
    assert conn.query_params.getlist("a") == ["1", "2"]
    assert conn.path_params == {"room": 1}
    assert conn.cookies == {"a": "1", "b": "3"}  # every Cookie header, later wins
    assert conn.client == ("10.0.0.1", 5000) and conn.client.port == 5000
    assert HTTPConnection(scope(client=None)).client is None
    assert HTTPConnection(scope(path_params=None) | {"path_params": {}}).path_params == {}


def test_base_url_with_root_path() -> None:
    conn = HTTPConnection(
        scope(scheme="wss", root_path="/api", path="/api/room/r1", query_string=b"")
    )
    assert conn.base_url == "wss://testserver/api/"
    assert conn.url == "wss://testserver/api/room/r1"


def test_state_is_scope_state() -> None:
    data = scope()
    conn = HTTPConnection(data)
    conn.state.user = "ann"
    assert data["state"] == {"user": "ann"} and conn.state is conn.state


@pytest.mark.parametrize(
    ("name", "middleware"),
    [("session", "Session"), ("auth", "Authentication"), ("user", "Authentication")],
)
def test_middleware_properties(name: str, middleware: str) -> None:
    with pytest.raises(AssertionError, match=middleware):
        getattr(HTTPConnection(scope()), name)
    assert getattr(HTTPConnection(scope(**{name: "v"})), name) == "v"


def test_session_marks_accessed() -> None:
    class Session(dict[str, Any]):
        accessed = False

        def mark_accessed(self) -> None:
            self.accessed = True

    session = Session()
    assert HTTPConnection(scope(session=session)).session is session and session.accessed


def test_app_and_url_for() -> None:
    class Router:
        def url_path_for(self, name: str, /, **params: Any) -> URLPath:
            protocol = "websocket" if name == "ws" else "http"
            return URLPath(f"/{name}/{params['id']}", protocol)

    with pytest.raises(KeyError):
        _ = HTTPConnection(scope()).app
    with pytest.raises(RuntimeError, match="url_for"):
        HTTPConnection(scope()).url_for("x")
    conn = HTTPConnection(scope(router=Router(), app="app"))
    assert conn.app == "app"
    assert conn.url_for("ws", id=1) == "ws://testserver/ws/1"
    assert conn.url_for("page", id=2) == "http://testserver/page/2"
    secure = HTTPConnection(scope(scheme="wss", app=Router()))
    assert secure.url_for("ws", id=1) == "wss://testserver/ws/1"
    assert secure.url_for("page", id=1) == "https://testserver/page/1"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("a=1; b=2", {"a": "1", "b": "2"}),
        ("novalue", {"": "novalue"}),
        ("  a = x ;; ", {"a": "x"}),
        ('q="quoted\\"x"', {"q": 'quoted"x'}),
        ("a=b=c", {"a": "b=c"}),
        ("", {}),
    ],
)
def test_cookie_parser(header: str, expected: dict[str, str]) -> None:
    assert cookie_parser(header) == expected


def http_scope(**extra: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "type": "http",
        "method": "POST",
        "path": "/",
        "headers": [],
        "query_string": b"",
    }
    base.update(extra)
    return base


def body_receiver(*chunks: bytes, disconnect: bool = False) -> Any:
    messages: list[dict[str, Any]] = [
        {"type": "http.request", "body": chunk, "more_body": i < len(chunks) - 1}
        for i, chunk in enumerate(chunks)
    ]
    if disconnect:
        messages[-1]["more_body"] = True
        messages.append({"type": "http.disconnect"})

    async def receive() -> dict[str, Any]:
        return messages.pop(0)

    return receive


async def test_request_body_json_and_stream() -> None:
    request = Request(http_scope(), body_receiver(b'{"a":', b"1}"))
    assert request.method == "POST"
    assert await request.body() == b'{"a":1}'
    assert await request.json() == {"a": 1}
    assert [chunk async for chunk in request.stream()] == [b'{"a":1}', b""]


async def test_stream_twice_without_body_is_refused() -> None:
    request = Request(http_scope(), body_receiver(b"x"))
    assert [chunk async for chunk in request.stream()] == [b"x", b""]
    with pytest.raises(RuntimeError, match="consumed"):
        await request.body()


async def test_client_disconnect() -> None:
    request = Request(http_scope(), body_receiver(b"x", disconnect=True))
    with pytest.raises(ClientDisconnect):
        await request.body()
    assert await request.is_disconnected()


async def test_is_disconnected_does_not_block() -> None:
    import asyncio

    never = asyncio.Event()

    async def receive() -> dict[str, Any]:
        await never.wait()
        return {}

    assert not await Request(http_scope(), receive).is_disconnected()


async def test_form_urlencoded_and_multipart() -> None:
    headers = [(b"content-type", b"application/x-www-form-urlencoded")]
    request = Request(http_scope(headers=headers), body_receiver(b"a=1&a=2&b=%C3%BC&c="))
    form = await request.form()
    assert form.getlist("a") == ["1", "2"] and form["b"] == "ü" and form["c"] == ""
    await request.close()
    multipart = [(b"content-type", b"multipart/form-data; boundary=x")]
    body = (
        b'--x\r\nContent-Disposition: form-data; name="f"; filename="a.txt"\r\n\r\nhi\r\n--x--\r\n'
    )
    request = Request(http_scope(headers=multipart), body_receiver(body))
    upload = (await request.form())["f"]
    assert (upload.filename, await upload.read()) == ("a.txt", b"hi")
    await request.close()
    assert upload.file.closed


async def test_request_needs_http_scope_and_channels() -> None:
    with pytest.raises(AssertionError):
        Request(scope())
    with pytest.raises(RuntimeError, match="receive"):
        await Request(http_scope()).body()


def test_websocket_shares_the_surface() -> None:
    async def nothing() -> dict[str, Any]:
        raise AssertionError

    async def drop(message: Any) -> None:
        raise AssertionError

    ws = WebSocket(scope(), nothing, drop)
    assert isinstance(ws, HTTPConnection)
    assert ws.url == "ws://testserver/room/1?a=1&a=2&b=x" and ws.cookies["b"] == "3"
