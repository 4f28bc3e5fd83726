"""The synchronous TestClient: HTTP requests, WebSocket sessions, lifespan, timeouts."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from tether import Request as TetherRequest
from tether import Tether
from tether.testclient import (
    AppFinishedError,
    AppTimeoutError,
    TestClient,
    WebSocketDenialResponse,
    WebSocketTestSession,
)
from tether.types import Message, Receive, Scope, Send
from tether.websockets import WebSocket, WebSocketDisconnect, WebSocketFrameTypeError

Handler = Callable[[WebSocket], Awaitable[None]]


def websocket_app(handler: Handler) -> Callable[[Scope, Receive, Send], Awaitable[None]]:
    """An ASGI app that runs ``handler`` with a tether WebSocket for every connection."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            return  # no lifespan support, as a server's "auto" mode allows
        await handler(WebSocket(scope, receive, send))

    return app


async def echo(websocket: WebSocket) -> None:
    """Accept, then echo every frame back until the client disconnects."""
    await websocket.accept()
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            return
        await websocket.send({**message, "type": "websocket.send"})


class Recorder:
    """A raw ASGI app that records what it received and answers from a script."""

    def __init__(self, *answers: Message) -> None:
        self.answers = answers
        self.received: list[Message] = []
        self.scope: Scope = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.scope = scope
        self.received.append(await receive())
        for answer in self.answers:
            await send(answer)
        while True:
            message = await receive()
            self.received.append(message)
            if message["type"] == "websocket.disconnect":
                return


ACCEPT: Message = {"type": "websocket.accept"}


class DenialResponse:
    """A minimal ASGI response for a WebSocket scope (a denial), in chunks."""

    def __init__(self, status: int, chunks: list[bytes], headers: list[tuple[bytes, bytes]]):
        self.status, self.chunks, self.headers = status, chunks, headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {
                "type": "websocket.http.response.start",
                "status": self.status,
                "headers": self.headers,
            }
        )
        for index, chunk in enumerate(self.chunks):
            more = index < len(self.chunks) - 1
            await send({"type": "websocket.http.response.body", "body": chunk, "more_body": more})


# --- HTTP -------------------------------------------------------------------------------------


async def http_echo(scope: Scope, receive: Receive, send: Send) -> None:
    """Answer with a JSON description of the request."""
    assert scope["type"] == "http"
    body = (await receive())["body"]
    payload = {
        "method": scope["method"],
        "path": scope["path"],
        "raw_path": scope["raw_path"].decode(),
        "root_path": scope["root_path"],
        "query": scope["query_string"].decode(),
        "headers": [[k.decode(), v.decode()] for k, v in scope["headers"]],
        "body": body.decode(),
        "client": list(scope["client"]),
        "server": scope["server"],
        "asgi": scope["asgi"],
        "state": scope["state"],
    }
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json"), (b"set-cookie", b"seen=yes")],
        }
    )
    await send({"type": "http.response.body", "body": json.dumps(payload).encode()})


def test_get_with_query_params_and_headers() -> None:
    client = TestClient(http_echo, root_path="/api")
    response = client.get("/a%20b", params={"x": ["1", "2"]}, headers={"X-Token": "t"})
    client.close()
    assert response.status_code == 200
    data = response.json()
    assert data["method"] == "GET"
    assert data["path"] == "/a b"
    assert data["raw_path"] == "/a%20b"
    assert data["root_path"] == "/api"
    assert data["query"] == "x=1&x=2"
    assert data["headers"][0] == ["host", "testserver"]
    assert ["x-token", "t"] in data["headers"]
    assert ["user-agent", "testclient"] in data["headers"]
    assert data["client"] == ["testclient", 50000]
    assert data["server"] == ["testserver", 80]
    assert data["asgi"] == {"version": "3.0", "spec_version": "2.4"}


def test_post_json_and_form() -> None:
    client = TestClient(http_echo)
    as_json = client.post("/items", json={"name": "ü"}).json()
    assert json.loads(as_json["body"]) == {"name": "ü"}
    assert ["content-type", "application/json"] in as_json["headers"]
    as_form = client.post("/items", data={"a": "1", "b": "two"}).json()
    assert as_form["body"] == "a=1&b=two"
    assert ["content-type", "application/x-www-form-urlencoded"] in as_form["headers"]
    client.close()


def test_cookies_are_sent_and_stored() -> None:
    client = TestClient(http_echo, cookies={"session": "abc"})
    first = client.get("/")
    assert ["cookie", "session=abc"] in first.json()["headers"]
    assert client.cookies["seen"] == "yes"
    second = client.get("/")
    cookie = dict(second.json()["headers"])["cookie"]
    assert "session=abc" in cookie and "seen=yes" in cookie
    client.close()


def test_caller_headers_dict_is_not_modified() -> None:
    headers = {"x-one": "1"}
    client = TestClient(http_echo, headers=headers)
    assert ["x-one", "1"] in client.get("/").json()["headers"]
    assert headers == {"x-one": "1"}
    client.close()


async def crashing_http(scope: Scope, receive: Receive, send: Send) -> None:
    raise ValueError("boom")


def test_http_exception_is_raised_or_becomes_500() -> None:
    with pytest.raises(ValueError, match="boom"):
        TestClient(crashing_http).get("/")
    response = TestClient(crashing_http, raise_server_exceptions=False).get("/")
    assert response.status_code == 500


async def redirecting(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["path"] == "/old":
        headers = [(b"location", b"/new")]
        await send({"type": "http.response.start", "status": 307, "headers": headers})
        await send({"type": "http.response.body", "body": b""})
        return
    await http_echo(scope, receive, send)


def test_redirects_are_followed_unless_disabled() -> None:
    assert TestClient(redirecting).get("/old").json()["path"] == "/new"
    response = TestClient(redirecting, follow_redirects=False).get("/old")
    assert response.status_code == 307


async def never_answers(scope: Scope, receive: Receive, send: Send) -> None:
    await asyncio.Event().wait()


def test_http_timeout_raises_a_clear_error() -> None:
    client = TestClient(never_answers, timeout=0.1)
    with pytest.raises(AppTimeoutError, match="GET /slow"):
        client.get("/slow")
    with pytest.raises(AppTimeoutError):
        TestClient(never_answers).get("/slow", timeout=0.1)
    client.close()


def test_asgi2_app_is_supported() -> None:
    class Asgi2:
        def __init__(self, scope: Scope) -> None:
            self.scope = scope

        async def __call__(self, receive: Receive, send: Send) -> None:
            await http_echo(self.scope, receive, send)

    assert TestClient(Asgi2).get("/two").json()["path"] == "/two"


# --- lifespan -------------------------------------------------------------------------------


class LifespanApp:
    """Records lifespan events and puts ``{"db": {...}}`` into the lifespan state."""

    def __init__(self, fail: str | None = None) -> None:
        self.events: list[str] = []
        self.fail = fail
        self.scopes: list[Scope] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            self.scopes.append(scope)
            scope["state"]["added"] = True  # a shallow copy: must not leak back
            scope["state"]["db"]["touched"] = True  # shared nested object: visible
            if scope["type"] == "http":
                await http_echo(scope, receive, send)
                return
            await echo(WebSocket(scope, receive, send))
            return
        await self.lifespan(scope, receive, send)

    async def lifespan(self, scope: Scope, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            event = message["type"].split(".")[-1]
            self.events.append(event)
            if self.fail == event:
                if event == "startup":
                    raise RuntimeError("database unreachable")
                await send({"type": "lifespan.shutdown.failed", "message": "flush failed"})
                return
            if event == "startup":
                scope["state"]["db"] = {"name": "main"}
            await send({"type": f"lifespan.{event}.complete"})
            if event == "shutdown":
                return


def test_lifespan_runs_and_state_reaches_scopes_as_a_shallow_copy() -> None:
    app = LifespanApp()
    with TestClient(app) as client:
        assert app.events == ["startup"]
        assert client.get("/").json()["state"]["db"]["name"] == "main"
        with client.websocket_connect("/ws") as websocket:
            websocket.send_text("hi")
            assert websocket.receive_text() == "hi"
        state = client.app_config.state
        assert "added" not in state
        assert state["db"] == {"name": "main", "touched": True}
        assert app.scopes[1]["state"] is not state
        assert app.scopes[1]["state"]["db"] is state["db"]
    assert app.events == ["startup", "shutdown"]


def test_lifespan_startup_failure_raises_the_app_error() -> None:
    with (
        pytest.raises(RuntimeError, match="database unreachable"),
        TestClient(LifespanApp(fail="startup")),
    ):
        pass  # pragma: no cover - not reached


def test_lifespan_shutdown_failed_message_raises() -> None:
    client = TestClient(LifespanApp(fail="shutdown"))
    with pytest.raises(RuntimeError, match="flush failed"), client:
        pass


def test_app_without_lifespan_support_is_fine() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            return
        await http_echo(scope, receive, send)

    with TestClient(app) as client:
        assert client.get("/").status_code == 200


def test_client_can_be_entered_twice() -> None:
    app = LifespanApp()
    client = TestClient(app)
    with client:
        pass
    with client:
        assert client.get("/").status_code == 200
    assert app.events == ["startup", "shutdown", "startup", "shutdown"]


# --- WebSocket: scope and handshake ------------------------------------------------------------


def test_websocket_scope() -> None:
    app = Recorder(ACCEPT)
    client = TestClient(app, root_path="/root")
    with client.websocket_connect("/root/a%20b?x=1&x=2", subprotocols=["chat", "v2"]) as ws:
        scope = ws.scope
    assert scope["type"] == "websocket"
    assert scope["path"] == "/root/a b"
    assert scope["raw_path"] == b"/root/a%20b"
    assert scope["root_path"] == "/root"
    assert scope["scheme"] == "ws"
    assert scope["query_string"] == b"x=1&x=2"
    assert scope["client"] == ("testclient", 50000)
    assert scope["server"] == ["testserver", 80]
    assert scope["subprotocols"] == ["chat", "v2"]
    assert scope["state"] == {}
    assert scope["extensions"] == {
        "websocket.http.response": {},
        "tether.raise_app_exceptions": {},  # the error layer raises to the test
    }
    assert scope["asgi"] == {"version": "3.0", "spec_version": "2.4"}
    assert scope["http_version"] == "1.1"
    headers = dict(scope["headers"])
    assert scope["headers"][0] == (b"host", b"testserver")
    assert headers[b"connection"] == b"upgrade"
    assert headers[b"sec-websocket-key"] == b"testserver=="
    assert headers[b"sec-websocket-version"] == b"13"
    assert headers[b"sec-websocket-protocol"] == b"chat, v2"
    assert app.received[0] == {"type": "websocket.connect"}
    client.close()


def test_websocket_headers_as_list_or_dict_cookies_params_and_base_url() -> None:
    app = Recorder(ACCEPT)
    client = TestClient(app, base_url="https://example.org:8443", cookies={"sid": "1"})
    caller_headers = {"x-a": "1"}
    with client.websocket_connect("/ws", headers=caller_headers, params={"p": "q"}) as ws:
        assert ws.scope["scheme"] == "wss"
        assert ws.scope["server"] == ["example.org", 8443]
        assert ws.scope["query_string"] == b"p=q"
        headers = dict(ws.scope["headers"])
        assert headers[b"host"] == b"example.org:8443"
        assert headers[b"x-a"] == b"1"
        assert headers[b"cookie"] == b"sid=1"
        assert ws.scope["subprotocols"] == []
    assert caller_headers == {"x-a": "1"}
    with client.websocket_connect("ws://other/ws", headers=[("x-b", "1"), ("x-b", "2")]) as ws:
        assert ws.scope["server"] == ["other", 80]
        assert [v for k, v in ws.scope["headers"] if k == b"x-b"] == [b"1", b"2"]
    client.close()


def test_websocket_auth_becomes_a_header() -> None:
    client = TestClient(Recorder(ACCEPT))
    with client.websocket_connect("/ws", auth=("user", "pw")) as ws:
        assert dict(ws.scope["headers"])[b"authorization"].startswith(b"Basic ")
    client.close()


def test_accept_with_subprotocol_and_headers() -> None:
    async def handler(websocket: WebSocket) -> None:
        await websocket.accept(
            subprotocol=websocket.scope["subprotocols"][-1], headers=[(b"x-server", b"1")]
        )
        await websocket.receive()

    client = TestClient(websocket_app(handler))
    session = client.websocket_connect("/ws", subprotocols=["a", "b"])
    assert isinstance(session, WebSocketTestSession)
    assert session.accepted_subprotocol is None and session.extra_headers is None
    with session as ws:
        assert ws.accepted_subprotocol == "b"
        assert ws.extra_headers == [(b"x-server", b"1")]
    client.close()


def test_close_before_accept_raises_websocket_disconnect() -> None:
    async def handler(websocket: WebSocket) -> None:
        await websocket.close(code=4401, reason="no token")

    with (
        pytest.raises(WebSocketDisconnect) as info,
        TestClient(websocket_app(handler)).websocket_connect("/ws"),
    ):
        pass  # pragma: no cover - not reached
    assert (info.value.code, info.value.reason) == (4401, "no token")


def test_raw_close_without_code_or_reason() -> None:
    with (
        pytest.raises(WebSocketDisconnect) as info,
        TestClient(Recorder({"type": "websocket.close"})).websocket_connect("/ws"),
    ):
        pass  # pragma: no cover - not reached
    assert (info.value.code, info.value.reason) == (1000, "")


def test_denial_response_with_status_headers_and_body() -> None:
    async def handler(websocket: WebSocket) -> None:
        body = [b'{"detail":"go away"}']
        denial = DenialResponse(401, body, [(b"www-authenticate", b"Bearer")])
        await websocket.send_denial_response(denial)

    with (
        pytest.raises(WebSocketDenialResponse) as info,
        TestClient(websocket_app(handler)).websocket_connect("/ws"),
    ):
        pass  # pragma: no cover - not reached
    denial = info.value
    assert isinstance(denial, WebSocketDisconnect)
    assert isinstance(denial, httpx.Response)
    assert denial.status_code == 401
    assert denial.headers["www-authenticate"] == "Bearer"
    assert "content-length" not in denial.headers
    assert denial.json() == {"detail": "go away"}
    assert denial.text == '{"detail":"go away"}'
    assert (denial.code, denial.reason) == (1006, "")
    assert "HTTP 401" in str(denial)


def test_streaming_denial_response_is_collected() -> None:
    async def handler(websocket: WebSocket) -> None:
        await websocket.send_denial_response(DenialResponse(429, [b"a", b"b", b""], []))

    with (
        pytest.raises(WebSocketDenialResponse) as info,
        TestClient(websocket_app(handler)).websocket_connect("/ws"),
    ):
        pass  # pragma: no cover - not reached
    assert info.value.status_code == 429
    assert info.value.content == b"ab"


def test_app_exception_before_accept_is_raised_at_enter() -> None:
    async def handler(websocket: WebSocket) -> None:
        raise LookupError("no such room")

    with (
        pytest.raises(LookupError, match="no such room"),
        TestClient(websocket_app(handler)).websocket_connect("/ws"),
    ):
        pass  # pragma: no cover - not reached


def test_app_returning_without_accepting_raises_a_clear_error() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()

    with (
        pytest.raises(AppFinishedError, match="without accepting, closing or denying"),
        TestClient(app).websocket_connect("/ws"),
    ):
        pass  # pragma: no cover - not reached


def test_app_that_never_answers_the_handshake_times_out() -> None:
    with (
        pytest.raises(AppTimeoutError, match="accept, close or deny"),
        TestClient(never_answers, timeout=0.1).websocket_connect("/ws"),
    ):
        pass  # pragma: no cover - not reached


def test_other_first_message_is_refused() -> None:
    app = Recorder({"type": "websocket.send", "text": "too early"})
    with (
        pytest.raises(RuntimeError, match="'websocket.send'"),
        TestClient(app).websocket_connect("/ws"),
    ):
        pass  # pragma: no cover - not reached


def test_session_must_be_entered() -> None:
    session = TestClient(Recorder(ACCEPT)).websocket_connect("/ws")
    with pytest.raises(RuntimeError, match="context manager"):
        session.send_text("x")


# --- WebSocket: messages ----------------------------------------------------------------------


def test_text_bytes_and_raw_messages() -> None:
    client = TestClient(websocket_app(echo))
    with client.websocket_connect("/ws") as ws:
        ws.send_text("hello")
        assert ws.receive_text() == "hello"
        ws.send_bytes(b"\x00\x01")
        assert ws.receive_bytes() == b"\x00\x01"
        ws.send({"type": "websocket.receive", "text": "raw"})
        assert ws.receive() == {"type": "websocket.send", "text": "raw"}
    client.close()


def test_json_in_text_and_binary_mode() -> None:
    client = TestClient(websocket_app(echo))
    with client.websocket_connect("/ws") as ws:
        ws.send_json({"test": "数据", "a": [1, 2]})
        assert ws.receive() == {"type": "websocket.send", "text": '{"test":"数据","a":[1,2]}'}
        ws.send_json({"b": None}, mode="binary")
        assert ws.receive() == {"type": "websocket.send", "bytes": b'{"b":null}'}
        ws.send_json([1], mode="binary")
        assert ws.receive_json(mode="binary") == [1]
        ws.send_json({"x": "ü"})
        assert ws.receive_json() == {"x": "ü"}
        with pytest.raises(RuntimeError, match="mode"):
            ws.send_json({}, mode="pickle")  # type: ignore[arg-type]
        with pytest.raises(RuntimeError, match="mode"):
            ws.receive_json(mode="pickle")  # type: ignore[arg-type]
    client.close()


def test_wrong_frame_kind_raises_frame_type_error() -> None:
    client = TestClient(websocket_app(echo))
    with client.websocket_connect("/ws") as ws:
        ws.send_bytes(b"x")
        with pytest.raises(WebSocketFrameTypeError) as info:
            ws.receive_text()
        assert isinstance(info.value, KeyError)
        ws.send_text("x")
        with pytest.raises(WebSocketFrameTypeError):
            ws.receive_bytes()
    client.close()


def test_close_from_the_app_raises_in_receive() -> None:
    async def handler(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.close(code=4000, reason="bye")

    with TestClient(websocket_app(handler)).websocket_connect("/ws") as ws:
        with pytest.raises(WebSocketDisconnect) as info:
            ws.receive_text()
        assert (info.value.code, info.value.reason) == (4000, "bye")


def test_client_close_reaches_the_app_with_code_and_reason() -> None:
    seen: list[tuple[int, str]] = []

    async def handler(websocket: WebSocket) -> None:
        await websocket.accept()
        try:
            await websocket.receive_text()
        except WebSocketDisconnect as exc:
            seen.append((exc.code, exc.reason))

    with TestClient(websocket_app(handler)).websocket_connect("/ws") as ws:
        ws.close(code=4001, reason="done")
    assert seen == [(4001, "done")]


def test_exit_sends_disconnect_1000_and_lets_the_app_clean_up() -> None:
    seen: list[Any] = []

    async def handler(websocket: WebSocket) -> None:
        await websocket.accept()
        try:
            await websocket.receive_text()
        except WebSocketDisconnect as exc:
            await asyncio.sleep(0.01)  # cleanup that awaits still runs to the end
            seen.append((exc.code, exc.reason))

    with TestClient(websocket_app(handler)).websocket_connect("/ws"):
        pass
    assert seen == [(1000, "")]


def test_app_ignoring_the_disconnect_is_cancelled_at_exit() -> None:
    cancelled: list[bool] = []

    async def handler(websocket: WebSocket) -> None:
        await websocket.accept()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.append(True)
            raise

    with TestClient(websocket_app(handler)).websocket_connect("/ws"):
        pass
    assert cancelled == [True]


def test_escaped_websocket_disconnect_is_reraised_at_exit() -> None:
    async def handler(websocket: WebSocket) -> None:
        await websocket.accept()
        while True:
            await websocket.receive_text()

    with (
        pytest.raises(WebSocketDisconnect) as info,
        TestClient(websocket_app(handler)).websocket_connect("/ws") as ws,
    ):
        ws.send_text("one")
    assert info.value.code == 1000


def test_failing_test_body_is_not_masked_by_the_app_disconnect() -> None:
    async def handler(websocket: WebSocket) -> None:
        await websocket.accept()
        while True:
            await websocket.receive_text()

    with (
        pytest.raises(AssertionError, match="the test's own failure"),
        TestClient(websocket_app(handler)).websocket_connect("/ws"),
    ):
        raise AssertionError("the test's own failure")


def test_app_exception_after_accept_is_raised_once_by_receive() -> None:
    async def handler(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text("first")
        raise ValueError("broken after accept")

    with TestClient(websocket_app(handler)).websocket_connect("/ws") as ws:
        assert ws.receive_text() == "first"  # sent before the crash: still delivered
        with pytest.raises(ValueError, match="broken after accept"):
            ws.receive_text()
    # Not raised a second time at exit.


def test_app_exception_after_accept_is_raised_at_exit_if_never_received() -> None:
    async def handler(websocket: WebSocket) -> None:
        await websocket.accept()
        raise ValueError("broken after accept")

    with (
        pytest.raises(ValueError, match="broken after accept"),
        TestClient(websocket_app(handler)).websocket_connect("/ws"),
    ):
        pass


def test_receive_after_the_app_finished_raises_a_clear_error() -> None:
    async def handler(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text("last words")

    with TestClient(websocket_app(handler)).websocket_connect("/ws") as ws:
        assert ws.receive_text() == "last words"
        with pytest.raises(AppFinishedError, match="app returned"):
            ws.receive()


def test_receive_timeout_per_client_and_per_call() -> None:
    async def handler(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.receive()

    client = TestClient(websocket_app(handler), timeout=0.1)
    with client.websocket_connect("/ws") as ws:
        with pytest.raises(AppTimeoutError, match=r"waited 0\.1 s for a message from the app"):
            ws.receive_text()
        with pytest.raises(TimeoutError, match="waited 0.05 s"):
            ws.receive(timeout=0.05)
    client.close()


def test_assert_no_message() -> None:
    client = TestClient(websocket_app(echo))
    with client.websocket_connect("/ws") as ws:
        ws.assert_no_message(within=0.02)
        ws.send_text("ping")
        with pytest.raises(AssertionError, match="ping"):
            ws.assert_no_message(within=1.0)
    client.close()


def test_app_sending_in_a_tight_loop_does_not_starve_the_client() -> None:
    async def handler(websocket: WebSocket) -> None:
        await websocket.accept()
        for number in range(1000):
            await websocket.send_text(str(number))
        await websocket.close()

    with TestClient(websocket_app(handler)).websocket_connect("/ws") as ws:
        received = [ws.receive_text() for _ in range(1000)]
        with pytest.raises(WebSocketDisconnect):
            ws.receive_text()
    assert received[-1] == "999"


def test_sessions_share_the_client_loop_inside_with() -> None:
    loops: list[asyncio.AbstractEventLoop] = []

    async def handler(websocket: WebSocket) -> None:
        loops.append(asyncio.get_running_loop())
        await echo(websocket)

    with TestClient(websocket_app(handler)) as client:
        for _ in range(2):
            with client.websocket_connect("/ws") as ws:
                ws.send_text("x")
                ws.receive_text()
        with client.websocket_connect("/a") as first, client.websocket_connect("/b") as second:
            first.send_text("1")
            second.send_text("2")
            assert (second.receive_text(), first.receive_text()) == ("2", "1")
    assert len(loops) == 4 and len(set(map(id, loops))) == 1


def test_raise_server_exceptions_false_still_raises_websocket_errors() -> None:
    async def handler(websocket: WebSocket) -> None:
        raise KeyError("missing")

    client = TestClient(websocket_app(handler), raise_server_exceptions=False)
    with pytest.raises(KeyError), client.websocket_connect("/ws"):
        pass  # pragma: no cover - not reached


# --- the documentation example ---------------------------------------------------------------


def test_documentation_example_sync() -> None:
    from docs.examples import testing_example

    testing_example.test_with_the_sync_client()


async def test_documentation_example_async() -> None:
    from docs.examples import testing_example

    await testing_example.test_with_the_async_client()


def test_app_state_is_the_lifespan_state() -> None:
    # Starlette's TestClient.app_state, which FastAPI's test_router_events reads.
    from contextlib import asynccontextmanager

    @asynccontextmanager
    async def lifespan(app: Tether) -> Any:
        yield {"ready": True}

    app = Tether(lifespan=lifespan)

    @app.get("/ready")
    async def ready(request: TetherRequest) -> bool:
        return bool(request.state.ready)

    with TestClient(app) as client:
        assert client.app_state == {"ready": True}
        assert client.get("/ready").json() is True
