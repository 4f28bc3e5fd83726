"""Starlette's tests/test_websockets.py (a selection), written as the peer writes them
(imports renamed). Raw ASGI apps over ``WebSocket``, driven by the test client."""

import anyio
import pytest

from tether import status
from tether.testclient import TestClient
from tether.websockets import WebSocket, WebSocketDisconnect, WebSocketState


def test_websocket_url():
    async def app(scope, receive, send) -> None:
        websocket = WebSocket(scope, receive=receive, send=send)
        await websocket.accept()
        await websocket.send_json({"url": str(websocket.url)})
        await websocket.close()

    client = TestClient(app)
    with client.websocket_connect("/123?a=abc") as websocket:
        data = websocket.receive_json()
        assert data == {"url": "ws://testserver/123?a=abc"}


def test_websocket_binary_json_and_unicode():
    async def app(scope, receive, send) -> None:
        websocket = WebSocket(scope, receive=receive, send=send)
        await websocket.accept()
        message = await websocket.receive_json(mode="binary")
        await websocket.send_json(message, mode="binary")
        message = await websocket.receive_json(mode="text")
        await websocket.send_json(message, mode="text")
        await websocket.close()

    client = TestClient(app)
    with client.websocket_connect("/123?a=abc") as websocket:
        websocket.send_json({"test": "data"}, mode="binary")
        assert websocket.receive_json(mode="binary") == {"test": "data"}
        websocket.send_json({"test": "数据"}, mode="text")
        assert websocket.receive_text() == '{"test":"数据"}'


def test_websocket_query_params_and_port():
    async def app(scope, receive, send) -> None:
        websocket = WebSocket(scope, receive=receive, send=send)
        query_params = dict(websocket.query_params)
        await websocket.accept()
        await websocket.send_json({"params": query_params, "port": websocket.url.port})
        await websocket.close()

    client = TestClient(app)
    with client.websocket_connect("ws://example.com:123/?a=abc&b=456") as websocket:
        data = websocket.receive_json()
        assert data == {"params": {"a": "abc", "b": "456"}, "port": 123}


@pytest.mark.parametrize("kind", ["text", "bytes", "json"])
def test_websocket_send_and_receive(kind):
    async def app(scope, receive, send) -> None:
        websocket = WebSocket(scope, receive=receive, send=send)
        await websocket.accept()
        if kind == "text":
            await websocket.send_text("Message was: " + await websocket.receive_text())
        elif kind == "bytes":
            await websocket.send_bytes(b"Message was: " + await websocket.receive_bytes())
        else:
            await websocket.send_json({"message": await websocket.receive_json()})
        await websocket.close()

    client = TestClient(app)
    with client.websocket_connect("/") as websocket:
        if kind == "text":
            websocket.send_text("Hello, world!")
            assert websocket.receive_text() == "Message was: Hello, world!"
        elif kind == "bytes":
            websocket.send_bytes(b"Hello, world!")
            assert websocket.receive_bytes() == b"Message was: Hello, world!"
        else:
            websocket.send_json({"hello": "world"})
            assert websocket.receive_json() == {"message": {"hello": "world"}}


def test_websocket_iter_json():
    async def app(scope, receive, send) -> None:
        websocket = WebSocket(scope, receive=receive, send=send)
        await websocket.accept()
        async for data in websocket.iter_json():
            await websocket.send_json({"message": data})

    client = TestClient(app)
    with client.websocket_connect("/") as websocket:
        websocket.send_json({"hello": "world"})
        assert websocket.receive_json() == {"message": {"hello": "world"}}


def test_websocket_concurrency_pattern():
    stream_send, stream_receive = anyio.create_memory_object_stream()

    async def reader(websocket: WebSocket) -> None:
        async with stream_send:
            async for data in websocket.iter_json():
                await stream_send.send(data)

    async def writer(websocket: WebSocket) -> None:
        async with stream_receive:
            async for message in stream_receive:
                await websocket.send_json(message)

    async def app(scope, receive, send) -> None:
        websocket = WebSocket(scope, receive=receive, send=send)
        await websocket.accept()
        async with anyio.create_task_group() as task_group:
            task_group.start_soon(reader, websocket)
            await writer(websocket)
        await websocket.close()

    client = TestClient(app)
    with client.websocket_connect("/") as websocket:
        websocket.send_json({"hello": "world"})
        data = websocket.receive_json()
        assert data == {"hello": "world"}


def test_client_close():
    close_code = None
    close_reason = None

    async def app(scope, receive, send) -> None:
        nonlocal close_code, close_reason
        websocket = WebSocket(scope, receive=receive, send=send)
        await websocket.accept()
        try:
            await websocket.receive_text()
        except WebSocketDisconnect as exc:
            close_code = exc.code
            close_reason = exc.reason

    client = TestClient(app)
    with client.websocket_connect("/") as websocket:
        websocket.close(code=status.WS_1001_GOING_AWAY, reason="Going Away")
    assert close_code == status.WS_1001_GOING_AWAY
    assert close_reason == "Going Away"


def test_application_close_and_rejected_connection():
    async def closing(scope, receive, send) -> None:
        websocket = WebSocket(scope, receive=receive, send=send)
        await websocket.accept()
        await websocket.close(status.WS_1001_GOING_AWAY)

    async def rejecting(scope, receive, send) -> None:
        websocket = WebSocket(scope, receive=receive, send=send)
        msg = await websocket.receive()
        assert msg == {"type": "websocket.connect"}
        await websocket.close(status.WS_1001_GOING_AWAY)

    with TestClient(closing).websocket_connect("/") as websocket:
        with pytest.raises(WebSocketDisconnect) as exc:
            websocket.receive_text()
        assert exc.value.code == status.WS_1001_GOING_AWAY
    with pytest.raises(WebSocketDisconnect) as exc:
        with TestClient(rejecting).websocket_connect("/"):
            pass  # pragma: no cover
    assert exc.value.code == status.WS_1001_GOING_AWAY


def test_subprotocol_and_additional_headers():
    async def app(scope, receive, send) -> None:
        websocket = WebSocket(scope, receive=receive, send=send)
        assert websocket["subprotocols"] == ["soap", "wamp"]
        await websocket.accept(subprotocol="wamp", headers=[(b"additional", b"header")])
        await websocket.close()

    client = TestClient(app)
    with client.websocket_connect("/", subprotocols=["soap", "wamp"]) as websocket:
        assert websocket.accepted_subprotocol == "wamp"
        assert websocket.extra_headers == [(b"additional", b"header")]


def test_websocket_exception():
    async def app(scope, receive, send) -> None:
        assert False

    client = TestClient(app)
    with pytest.raises(AssertionError):
        with client.websocket_connect("/123?a=abc"):
            pass  # pragma: no cover


def test_duplicate_close():
    async def app(scope, receive, send) -> None:
        websocket = WebSocket(scope, receive=receive, send=send)
        await websocket.accept()
        await websocket.close()
        await websocket.close()

    client = TestClient(app)
    with pytest.raises(RuntimeError):
        with client.websocket_connect("/"):
            pass  # pragma: no cover


def test_duplicate_disconnect():
    async def app(scope, receive, send) -> None:
        websocket = WebSocket(scope, receive=receive, send=send)
        await websocket.accept()
        message = await websocket.receive()
        assert message["type"] == "websocket.disconnect"
        message = await websocket.receive()

    client = TestClient(app)
    with pytest.raises(RuntimeError):
        with client.websocket_connect("/") as websocket:
            websocket.close()


def test_websocket_close_reason():
    async def app(scope, receive, send) -> None:
        websocket = WebSocket(scope, receive=receive, send=send)
        await websocket.accept()
        await websocket.close(code=status.WS_1001_GOING_AWAY, reason="Going Away")

    client = TestClient(app)
    with client.websocket_connect("/") as websocket:
        with pytest.raises(WebSocketDisconnect) as exc:
            websocket.receive_text()
        assert exc.value.code == status.WS_1001_GOING_AWAY
        assert exc.value.reason == "Going Away"


@pytest.mark.parametrize("method", ["receive_text", "receive_bytes", "receive_json"])
def test_receive_before_accept(method):
    async def app(scope, receive, send) -> None:
        websocket = WebSocket(scope, receive=receive, send=send)
        await getattr(websocket, method)()

    client = TestClient(app)
    with pytest.raises(RuntimeError):
        with client.websocket_connect("/"):
            pass  # pragma: no cover


def test_send_before_accept_and_wrong_message_types():
    async def send_before(scope, receive, send) -> None:
        websocket = WebSocket(scope, receive=receive, send=send)
        await websocket.send({"type": "websocket.send"})

    async def accept_twice(scope, receive, send) -> None:
        websocket = WebSocket(scope, receive=receive, send=send)
        await websocket.send({"type": "websocket.accept"})
        await websocket.send({"type": "websocket.accept"})

    async def state_reset(scope, receive, send) -> None:
        websocket = WebSocket(scope, receive=receive, send=send)
        await websocket.accept()
        websocket.client_state = WebSocketState.CONNECTING
        await websocket.receive()

    for app in (send_before, accept_twice):
        with pytest.raises(RuntimeError):
            with TestClient(app).websocket_connect("/"):
                pass  # pragma: no cover
    with pytest.raises(RuntimeError):
        with TestClient(state_reset).websocket_connect("/") as websocket:
            websocket.send({"type": "websocket.send"})
