"""Starlette's tests/middleware/test_base.py, written as the peer writes them (imports renamed)."""

import pytest

from tether import Tether as Starlette
from tether.background import BackgroundTask
from tether.middleware import Middleware
from tether.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from tether.requests import Request
from tether.responses import PlainTextResponse, Response, StreamingResponse
from tether.routing import Route, WebSocketRoute
from tether.testclient import TestClient
from tether.websockets import WebSocket


class CustomMiddleware(BaseHTTPMiddleware):
    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        response = await call_next(request)
        response.headers["Custom-Header"] = "Example"
        return response


def homepage(request: Request) -> PlainTextResponse:
    return PlainTextResponse("Homepage")


def exc(request: Request) -> None:
    raise Exception("Exc")


def exc_stream(request: Request) -> StreamingResponse:
    return StreamingResponse(_generate_faulty_stream())


def _generate_faulty_stream():
    yield b"Ok"
    raise Exception("Faulty Stream")


class NoResponse:
    def __init__(self, scope, receive, send):
        pass

    def __await__(self):
        return self.dispatch().__await__()

    async def dispatch(self) -> None:
        pass


async def websocket_endpoint(session: WebSocket) -> None:
    await session.accept()
    await session.send_text("Hello, world!")
    await session.close()


app = Starlette(
    routes=[
        Route("/", endpoint=homepage),
        Route("/exc", endpoint=exc),
        Route("/exc-stream", endpoint=exc_stream),
        Route("/no-response", endpoint=NoResponse),
        WebSocketRoute("/ws", endpoint=websocket_endpoint),
    ],
    middleware=[Middleware(CustomMiddleware)],
)


def test_custom_middleware() -> None:
    client = TestClient(app)
    response = client.get("/")
    assert response.headers["Custom-Header"] == "Example"
    assert response.text == "Homepage"

    with pytest.raises(Exception) as ctx:
        client.get("/exc")
    assert str(ctx.value) == "Exc"

    with pytest.raises(Exception) as ctx:
        client.get("/exc-stream")
    assert str(ctx.value) == "Faulty Stream"

    with pytest.raises(RuntimeError):
        client.get("/no-response")

    with client.websocket_connect("/ws") as session:
        assert session.receive_text() == "Hello, world!"


def test_state_data_across_multiple_middlewares() -> None:
    class aMiddleware(BaseHTTPMiddleware):
        async def dispatch(self, request, call_next):
            request.state.foo = "foo"
            return await call_next(request)

    class bMiddleware(BaseHTTPMiddleware):
        async def dispatch(self, request, call_next):
            request.state.bar = "bar"
            response = await call_next(request)
            response.headers["X-State-Foo"] = request.state.foo
            return response

    class cMiddleware(BaseHTTPMiddleware):
        async def dispatch(self, request, call_next):
            response = await call_next(request)
            response.headers["X-State-Bar"] = request.state.bar
            return response

    def homepage(request):
        return PlainTextResponse("OK")

    app = Starlette(
        routes=[Route("/", homepage)],
        middleware=[Middleware(aMiddleware), Middleware(bMiddleware), Middleware(cMiddleware)],
    )
    response = TestClient(app).get("/")
    assert response.text == "OK"
    assert response.headers["X-State-Foo"] == "foo"
    assert response.headers["X-State-Bar"] == "bar"


def test_middleware_can_replace_the_response_and_read_the_body() -> None:
    seen = []

    async def guard(request, call_next):
        body = await request.body()
        if body == b"stop":
            return PlainTextResponse("stopped", status_code=403)
        return await call_next(request)

    async def echo(request):
        seen.append(await request.body())
        return PlainTextResponse(seen[-1])

    app = Starlette(
        routes=[Route("/", echo, methods=["POST"])],
        middleware=[Middleware(BaseHTTPMiddleware, dispatch=guard)],
    )
    client = TestClient(app)
    assert client.post("/", content=b"stop").status_code == 403
    response = client.post("/", content=b"hello")
    assert response.text == "hello"
    assert seen == [b"hello"]


def test_background_tasks_run_after_the_response_through_the_middleware() -> None:
    done = []

    async def slow(request):
        return PlainTextResponse("ok", background=BackgroundTask(done.append, "bg"))

    async def passthrough(request, call_next):
        return await call_next(request)

    app = Starlette(
        routes=[Route("/", slow)],
        middleware=[Middleware(BaseHTTPMiddleware, dispatch=passthrough)],
    )
    assert TestClient(app).get("/").text == "ok"
    assert done == ["bg"]


def test_streaming_body_passes_through() -> None:
    async def stream(request):
        async def chunks():
            for part in (b"a", b"b", b"c"):
                yield part

        return StreamingResponse(chunks(), media_type="text/plain")

    app = Starlette(routes=[Route("/", stream)], middleware=[Middleware(CustomMiddleware)])
    response = TestClient(app).get("/")
    assert response.text == "abc"
    assert response.headers["Custom-Header"] == "Example"
