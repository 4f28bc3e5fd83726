"""GZipMiddleware: HTTP bodies compressed; WebSockets untouched."""

from __future__ import annotations

from tether.middleware import Middleware
from tether.middleware.gzip import GZipMiddleware
from tether.requests import Request
from tether.responses import PlainTextResponse, Response, StreamingResponse
from tether.routing import Route, Router, WebSocketRoute
from tether.testclient import TestClient
from tether.websockets import WebSocket


def big(request: Request) -> PlainTextResponse:
    return PlainTextResponse("x" * 1000)


def small(request: Request) -> PlainTextResponse:
    return PlainTextResponse("tiny")


def stream(request: Request) -> Response:
    async def chunks():  # type: ignore[no-untyped-def]
        for _ in range(10):
            yield "y" * 100

    return StreamingResponse(chunks(), media_type="text/plain")


async def ws(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.send_text("z" * 1000)
    await websocket.close()


client = TestClient(
    Router(
        [
            Route("/big", big),
            Route("/small", small),
            Route("/stream", stream),
            WebSocketRoute("/ws", ws),
        ],
        middleware=[Middleware(GZipMiddleware, minimum_size=500)],
    )
)


def test_big_body_is_compressed() -> None:
    response = client.get("/big", headers={"accept-encoding": "gzip"})
    assert response.headers["content-encoding"] == "gzip"
    assert response.text == "x" * 1000
    assert int(response.headers["content-length"]) < 1000


def test_small_body_and_no_accept_encoding_are_untouched() -> None:
    assert (
        "content-encoding" not in client.get("/small", headers={"accept-encoding": "gzip"}).headers
    )
    assert "content-encoding" not in client.get("/big", headers={"accept-encoding": "br"}).headers


def test_streaming_is_compressed_without_length() -> None:
    response = client.get("/stream", headers={"accept-encoding": "gzip"})
    assert response.headers["content-encoding"] == "gzip"
    assert "content-length" not in response.headers
    assert response.text == "y" * 1000


def test_websocket_passes_through() -> None:
    with client.websocket_connect("/ws", headers={"accept-encoding": "gzip"}) as session:
        assert session.receive_text() == "z" * 1000
